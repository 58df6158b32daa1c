//! The `copy` phase of `cargo xtask bench`: `hallmark copy` from one `hallmark serve` to
//! another, against Debian's `skopeo copy` between the same two servers, and the 1 GiB case
//! also against `curl` uploading the same blob to the destination with nothing else running.
//!
//! Two artifacts wait in the source: 200 random 16 KiB blobs (per-blob round trips) and one
//! random 1 GiB blob (streaming). Every copy goes to a repository of the destination that no
//! earlier copy used, so neither tool finds a blob already there and skips it. Both tools run
//! as processes, timed from start to exit, after a `sync`; each copy is checked afterwards by
//! a `HEAD` on the manifest's digest in the destination repository.
//!
//! skopeo runs with `--preserve-digests`: without it, containers/image gzips every layer stored
//! uncompressed on its way to a registry, which for random bytes is minutes of CPU and a
//! different artifact. It also keeps a blob-info cache of where it saw each blob and mounts
//! from there instead of copying, so every run gets an empty cache of its own: as root the
//! cache lives in /var/lib/containers/cache whatever `HOME` says, so the run gets a private
//! mount namespace with a fresh directory bound there; as any other user it lives under
//! `$XDG_DATA_HOME`, pointed at a fresh directory. Either way the run must leave its cache file
//! in that directory, or the bench stops: that is the proof skopeo used the empty one.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use reqwest::StatusCode;
use serde_json::json;
use tokio::runtime::Runtime;

use crate::client::{OCI_MANIFEST, Registry, sha256_digest};
use crate::procs::{Server, run_output};
use crate::report::{Row, Target};
use crate::servers;
use crate::transfer::{self, BigBlob, MIB};

/// Blobs of the many-blob artifact, and their size.
const MANY: usize = 200;
const SMALL: usize = 16 << 10;
/// MiB of the big blob.
const GIB_CHUNKS: u64 = 1024;
const TAG: &str = "v1";
const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// What containers/image names its blob-info cache.
const SKOPEO_CACHE_FILE: &str = "blob-info-cache-v1.boltdb";
const ROOT_CACHE_DIR: &str = "/var/lib/containers/cache";

/// An artifact held by the source.
struct Artifact {
    repo: &'static str,
    digest: String,
    /// Blobs it names besides its config.
    layers: usize,
}

/// A copying tool.
#[derive(Debug, Clone, Copy)]
enum Tool {
    Hallmark,
    Skopeo,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Hallmark => "hallmark",
            Tool::Skopeo => "skopeo",
        }
    }
}

/// The servers and tools of the phase.
struct Bench<'a> {
    bin: &'a Path,
    src: Server,
    dst: Server,
    dir: PathBuf,
    root: bool,
}

/// Programs the phase runs besides hallmark.
pub const PROGRAMS: &[&str] = &["skopeo", "curl", "sync", "kill", "unshare", "sh"];

/// The phase: copies of both artifacts with each tool, and curl's upload of the big blob, in
/// `rounds` rounds whose order rotates; the fastest run of each counts.
pub fn rows(runtime: &Runtime, bin: &Path, work: &Path, rounds: u32) -> Result<Vec<Row>> {
    let dir = work.join("copy");
    let bench = Bench {
        bin,
        src: servers::hallmark(bin, &dir.join("source"))?,
        dst: servers::hallmark(bin, &dir.join("destination"))?,
        root: effective_uid()? == 0,
        dir,
    };
    let big = BigBlob::new(3000, GIB_CHUNKS);
    let big_file = bench.dir.join("big.bin");
    big.write_to(&big_file)?;
    let big_digest = big.digest();
    let (many, big_artifact) = runtime.block_on(seed(&bench.src, &big, &big_digest))?;
    eprintln!(
        "bench: copy: source holds {MANY} x {} KiB and 1 GiB artifacts",
        SMALL >> 10
    );
    let dst = Registry::new(bench.dst.base_url())?;

    let mut many_secs = [f64::INFINITY; 2];
    let mut big_secs = [f64::INFINITY; 3];
    let tools = [Tool::Hallmark, Tool::Skopeo];
    for round in 0..rounds.max(1) as usize {
        for k in 0..2 {
            let i = (k + round) % 2;
            let secs = bench.copy(runtime, &dst, tools[i], &many, round)?;
            many_secs[i] = many_secs[i].min(secs);
        }
        for k in 0..3 {
            let i = (k + round) % 3;
            let secs = match tools.get(i) {
                Some(&tool) => bench.copy(runtime, &dst, tool, &big_artifact, round)?,
                None => bench.curl_upload(runtime, &dst, &big_file, &big_digest, round)?,
            };
            big_secs[i] = big_secs[i].min(secs);
        }
    }
    fs::remove_file(&big_file)?;

    let rate = |secs: f64| big.len() as f64 / MIB as f64 / secs;
    let [mh, ms] = many_secs;
    let [bh, bs, bc] = big_secs.map(rate);
    eprintln!(
        "bench: copy {MANY} blobs: {mh:.2} / {ms:.2} s; 1 GiB: {bh:.0} / {bs:.0} MiB/s, \
         curl upload {bc:.0} MiB/s"
    );
    Ok(vec![
        Row {
            name: format!("copy, {MANY} x 16 KiB blobs, wall time (s)"),
            hallmark: Some(mh),
            distribution: None,
            ceiling: Some((ms, "skopeo")),
            ratio: Some((mh / ms, "h/skopeo")),
            target: Target::AtMost(0.333),
        },
        Row {
            name: "copy, 1 GiB blob (MiB/s)".into(),
            hallmark: Some(bh),
            distribution: None,
            ceiling: Some((bs, "skopeo")),
            ratio: Some((bh / bs, "h/skopeo")),
            target: Target::AtLeast(1.0),
        },
        Row {
            name: "copy, 1 GiB blob, against its upload alone (MiB/s)".into(),
            hallmark: Some(bh),
            distribution: None,
            ceiling: Some((bc, "curl PUT")),
            ratio: Some((bh / bc, "h/curl")),
            target: Target::AtLeast(0.8),
        },
    ])
}

/// Pushes both artifacts to the source, tagged `TAG`: the many-blob one, and the big one
/// streamed from its generator.
async fn seed(src: &Server, big: &BigBlob, big_digest: &str) -> Result<(Artifact, Artifact)> {
    let r = Registry::new(src.base_url())?;
    let pool = transfer::blob_pool(4000, MANY, SMALL);
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..4 {
        let (r, pool) = (r.clone(), pool.clone());
        tasks.spawn(async move {
            for (digest, data) in pool.iter().skip(worker).step_by(4) {
                r.push_blob("bench/many", digest, data.clone()).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("seed push task panicked")??;
    }
    let layers: Vec<(String, u64)> = pool
        .iter()
        .map(|(d, data)| (d.clone(), data.len() as u64))
        .collect();
    let many = push_image(&r, "bench/many", &layers).await?;

    r.push_blob_stream("bench/big", big_digest, big.len(), big.stream())
        .await?;
    let big = push_image(&r, "bench/big", &[(big_digest.to_owned(), big.len())]).await?;
    Ok((many, big))
}

/// Pushes a config naming `layers` (already in `repo`) and the image manifest of both.
async fn push_image(
    r: &Registry,
    repo: &'static str,
    layers: &[(String, u64)],
) -> Result<Artifact> {
    let diff_ids: Vec<&str> = layers.iter().map(|(d, _)| d.as_str()).collect();
    let config = Bytes::from(
        json!({"architecture": "amd64", "os": "linux",
               "rootfs": {"type": "layers", "diff_ids": diff_ids}})
        .to_string(),
    );
    r.push_blob(repo, &sha256_digest(&config), config.clone())
        .await?;
    let layers: Vec<_> = layers
        .iter()
        .map(|(digest, size)| json!({"mediaType": LAYER, "digest": digest, "size": size}))
        .collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": CONFIG, "digest": sha256_digest(&config), "size": config.len()},
        "layers": layers,
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest)?);
    let digest = sha256_digest(&manifest);
    r.put_manifest(repo, TAG, OCI_MANIFEST, manifest).await?;
    Ok(Artifact {
        repo,
        digest,
        layers: layers.len(),
    })
}

impl Bench<'_> {
    /// Seconds one copy of `artifact` by `tool` takes, into a repository of its own; fails
    /// unless the destination then holds the manifest.
    fn copy(
        &self,
        runtime: &Runtime,
        dst: &Registry,
        tool: Tool,
        artifact: &Artifact,
        round: usize,
    ) -> Result<f64> {
        let to_repo = format!("{}-{}-{round}", artifact.repo, tool.name());
        let from = format!("{}/{}:{TAG}", self.src.addr, artifact.repo);
        let to = format!("{}/{to_repo}:{TAG}", self.dst.addr);
        let home = tempfile::tempdir_in(&self.dir)?;
        let mut command = match tool {
            Tool::Hallmark => {
                let mut c = Command::new(self.bin);
                c.args(["copy", &from, &to]);
                c
            }
            Tool::Skopeo => self.skopeo(home.path(), &from, &to)?,
        };
        isolate(&mut command, home.path());

        transfer::flush_dirty()?;
        let started = Instant::now();
        run_output(&mut command)?;
        let secs = started.elapsed().as_secs_f64();

        let path = format!("/v2/{to_repo}/manifests/{}", artifact.digest);
        let status = runtime.block_on(dst.head_status(&path, OCI_MANIFEST))?;
        ensure!(
            status == StatusCode::OK,
            "{} copied {from}, but HEAD {path} answers {status}",
            tool.name()
        );
        if let Tool::Skopeo = tool {
            self.check_skopeo_cache(home.path())?;
        }
        eprintln!(
            "bench: copy: {} {} layer(s) in {secs:.2} s",
            tool.name(),
            artifact.layers
        );
        Ok(secs)
    }

    /// `skopeo copy` of `from` to `to`, with an empty blob-info cache (see the module docs).
    fn skopeo(&self, home: &Path, from: &str, to: &str) -> Result<Command> {
        let cache = skopeo_cache_dir(home, self.root);
        fs::create_dir_all(&cache)?;
        fs::create_dir_all(home.join("tmp"))?;
        fs::write(home.join("registries.conf"), "")?;
        let mut c = if self.root {
            let mut c = Command::new("unshare");
            c.args(["--mount", "--propagation", "private", "sh", "-c"])
                .arg("mkdir -p \"$1\" && mount --bind \"$0\" \"$1\" && shift && exec \"$@\"")
                .arg(&cache)
                .arg(ROOT_CACHE_DIR)
                .arg("skopeo");
            c
        } else {
            Command::new("skopeo")
        };
        c.env("CONTAINERS_REGISTRIES_CONF", home.join("registries.conf"))
            .arg("--insecure-policy")
            .arg("--tmpdir")
            .arg(home.join("tmp"))
            .args([
                "copy",
                "--preserve-digests",
                "--src-tls-verify=false",
                "--dest-tls-verify=false",
            ])
            .arg(format!("docker://{from}"))
            .arg(format!("docker://{to}"));
        Ok(c)
    }

    /// Fails unless skopeo kept its blob-info cache in the fresh directory it was given.
    fn check_skopeo_cache(&self, home: &Path) -> Result<()> {
        let file = skopeo_cache_dir(home, self.root).join(SKOPEO_CACHE_FILE);
        ensure!(
            file.is_file(),
            "skopeo left no {} behind: it used a blob-info cache elsewhere",
            file.display()
        );
        Ok(())
    }

    /// Seconds curl takes to upload `file` to a fresh repository of the destination: `POST`,
    /// then one `PUT ?digest=` with the file as the body.
    fn curl_upload(
        &self,
        runtime: &Runtime,
        dst: &Registry,
        file: &Path,
        digest: &str,
        round: usize,
    ) -> Result<f64> {
        let repo = format!("bench/big-curl-{round}");
        transfer::flush_dirty()?;
        let started = Instant::now();
        let session = runtime.block_on(dst.start_upload(&repo))?;
        let sep = if session.contains('?') { '&' } else { '?' };
        let out = run_output(
            Command::new("curl")
                .args([
                    "-sS",
                    "--noproxy",
                    "*",
                    "-o",
                    "/dev/null",
                    "-w",
                    "%{http_code}",
                ])
                .args([
                    "-H",
                    "Content-Type: application/octet-stream",
                    "-H",
                    "Expect:",
                ])
                .arg("-T")
                .arg(file)
                .arg(format!("{session}{sep}digest={digest}")),
        )?;
        let secs = started.elapsed().as_secs_f64();
        ensure!(out.trim() == "201", "curl's upload answered {}", out.trim());

        let path = format!("/v2/{repo}/blobs/{digest}");
        let status = runtime.block_on(dst.head_status(&path, "*/*"))?;
        ensure!(
            status == StatusCode::OK,
            "HEAD {path} after curl's upload answers {status}"
        );
        eprintln!("bench: copy: curl uploaded 1 GiB in {secs:.2} s");
        Ok(secs)
    }
}

/// Where skopeo keeps its blob-info cache in this run: the directory bound over the root's
/// cache directory, or the one under the private `XDG_DATA_HOME`.
fn skopeo_cache_dir(home: &Path, root: bool) -> PathBuf {
    if root {
        home.join("root-cache")
    } else {
        home.join("data").join("containers").join("cache")
    }
}

/// A private home for a client process: no credentials, configuration or caches of the
/// machine's user leak into the run.
fn isolate(command: &mut Command, home: &Path) {
    command
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env_remove("REGISTRY_AUTH_FILE")
        .env_remove("HALLMARK_CLIENT_CONFIG")
        .env_remove("HALLMARK_LOG");
}

/// The effective user id, from `/proc/self/status`.
fn effective_uid() -> Result<u32> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .context("no effective uid in /proc/self/status")
}
