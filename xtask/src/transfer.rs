//! Blob transfers: the push load generator, the streamed 1 GiB push, downloads to a sink, and
//! the disk's own rate as `dd` sees it.

use std::io;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures_util::{Stream, stream};
use sha2::{Digest as _, Sha256};

use crate::client::{Registry, digest_string, sha256_digest};
use crate::procs::run_output;

/// One MiB.
pub const MIB: usize = 1 << 20;

/// A small, fast generator of pseudo-random bytes (xorshift64*). Blobs only need to differ
/// from each other and resist compression; they need not be unpredictable.
#[derive(Debug)]
pub struct Noise(u64);

impl Noise {
    pub fn new(seed: u64) -> Noise {
        // Zero is xorshift's fixed point; any other state works.
        Noise(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// `len` pseudo-random bytes.
    pub fn bytes(&mut self, len: usize) -> Bytes {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        Bytes::from(out)
    }
}

/// Distinct random blobs of `size` bytes with their digests, made before the clock starts so
/// that the client's hashing is not part of what is measured.
pub fn blob_pool(seed: u64, count: usize, size: usize) -> Arc<Vec<(String, Bytes)>> {
    let mut noise = Noise::new(seed);
    let pool = (0..count)
        .map(|_| {
            let data = noise.bytes(size);
            (sha256_digest(&data), data)
        })
        .collect();
    Arc::new(pool)
}

/// Pushes of the pool's blobs per second, from `concurrency` workers pushing one blob at a
/// time each (`POST`, then `PUT ?digest=`), until the pool or the time budget runs out.
pub async fn push_rate(
    registry: &Registry,
    repo: &str,
    pool: Arc<Vec<(String, Bytes)>>,
    concurrency: usize,
    budget: Duration,
) -> Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| {
            let (registry, repo) = (registry.clone(), repo.to_owned());
            let (pool, next) = (pool.clone(), next.clone());
            tokio::spawn(async move {
                let mut pushed = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some((digest, data)) = pool.get(i) else {
                        break;
                    };
                    if started.elapsed() > budget {
                        break;
                    }
                    registry.push_blob(&repo, digest, data.clone()).await?;
                    pushed += 1;
                }
                anyhow::Ok(pushed)
            })
        })
        .collect();
    let mut pushed = 0;
    for w in workers {
        pushed += w.await.context("push worker panicked")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    ensure!(pushed > 0, "no push completed");
    Ok(pushed as f64 / elapsed)
}

/// A large blob made on the fly: `chunks` MiB, each one random MiB whose first 16 bytes are
/// replaced by the seed and the chunk's index, so chunks and blobs all differ while the
/// generator costs no more than handing out two references per MiB.
#[derive(Debug, Clone)]
pub struct BigBlob {
    seed: u64,
    chunks: u64,
    tail: Bytes,
}

impl BigBlob {
    pub fn new(seed: u64, chunks: u64) -> BigBlob {
        let tail = Noise::new(seed).bytes(MIB).slice(16..);
        BigBlob { seed, chunks, tail }
    }

    pub fn len(&self) -> u64 {
        self.chunks * MIB as u64
    }

    fn pieces(&self) -> impl Iterator<Item = Bytes> + Send + 'static {
        let (seed, tail) = (self.seed, self.tail.clone());
        (0..self.chunks).flat_map(move |i| {
            let mut head = [0u8; 16];
            head[..8].copy_from_slice(&seed.to_le_bytes());
            head[8..].copy_from_slice(&i.to_le_bytes());
            [Bytes::copy_from_slice(&head), tail.clone()]
        })
    }

    /// The blob's digest, computed by generating it once.
    pub fn digest(&self) -> String {
        let mut h = Sha256::new();
        for piece in self.pieces() {
            h.update(&piece);
        }
        digest_string(&h.finalize())
    }

    /// Writes the blob to a file, for tools that upload from one.
    pub fn write_to(&self, path: &Path) -> Result<()> {
        use std::io::Write as _;
        let file =
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
        let mut out = io::BufWriter::with_capacity(MIB, file);
        for piece in self.pieces() {
            out.write_all(&piece)?;
        }
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        Ok(())
    }

    /// The blob as a request body.
    pub fn stream(&self) -> impl Stream<Item = io::Result<Bytes>> + Send + 'static {
        stream::iter(self.pieces().map(Ok))
    }
}

/// Seconds one streamed push of `blob` takes, from `POST` to the `201` of the `PUT`.
pub async fn push_big(
    registry: &Registry,
    repo: &str,
    blob: &BigBlob,
    digest: &str,
) -> Result<f64> {
    let started = Instant::now();
    registry
        .push_blob_stream(repo, digest, blob.len(), blob.stream())
        .await?;
    Ok(started.elapsed().as_secs_f64())
}

/// Bytes per second of one download of `url` with curl into `/dev/null`, checking that all
/// `expected` bytes arrived with a 200.
pub fn download_rate(url: &str, expected: u64) -> Result<f64> {
    let out = run_output(Command::new("curl").args([
        "-sS",
        "--noproxy",
        "*",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code} %{size_download} %{time_total}",
        url,
    ]))?;
    let fields: Vec<&str> = out.split_whitespace().collect();
    let [code, size, secs] = fields[..] else {
        bail!("unexpected curl output '{out}'");
    };
    ensure!(code == "200", "GET {url} answered {code}");
    let size: u64 = size.parse().context("curl size")?;
    ensure!(
        size == expected,
        "GET {url} gave {size} bytes, not {expected}"
    );
    let secs: f64 = secs.parse().context("curl time")?;
    Ok(size as f64 / secs)
}

/// Bytes per second at which the disk holding `dir` takes 1 GiB written and flushed by
/// `dd conv=fsync`, timed from start to exit.
pub fn dd_rate(dir: &Path) -> Result<f64> {
    let file = dir.join("dd.bin");
    flush_dirty()?;
    let started = Instant::now();
    run_output(
        Command::new("dd")
            .arg("if=/dev/zero")
            .arg(format!("of={}", file.display()))
            .args(["bs=1M", "count=1024", "conv=fsync"]),
    )?;
    let secs = started.elapsed().as_secs_f64();
    std::fs::remove_file(&file)?;
    Ok((1u64 << 30) as f64 / secs)
}

/// Writes back what earlier steps left dirty, so that no measurement pays for another's
/// writes.
pub fn flush_dirty() -> Result<()> {
    run_output(&mut Command::new("sync")).map(drop)
}
