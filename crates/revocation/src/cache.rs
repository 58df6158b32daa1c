//! A file cache of CRLs in front of any [`CrlFetcher`] (notation keeps one under the user
//! cache directory; revocation checks would otherwise download every CRL on every verify).
//!
//! Layout: for each URL, `<sha256(url) hex>.crl` holds the CRL bytes as downloaded and
//! `<sha256(url) hex>.meta` a few `key value` lines: the URL, the fetch time (RFC 3339) and the
//! SHA-256 of the CRL file. A cached CRL is reused while its `thisUpdate` has passed and its
//! `nextUpdate` has not; otherwise, or when the files are missing, unreadable, for another URL
//! or do not match their digest, the CRL is downloaded again. Files are written to a temporary
//! name, flushed and renamed, so readers see a whole file or none.
//!
//! The cache decides only *reuse*: whether a CRL may be trusted is decided by the revocation
//! check every time, with the issuer's key. A cached CRL that fails that check is evicted
//! ([`CrlFetcher::evict`]) and downloaded once more. Failing to write the cache never fails a
//! fetch: the cache is an optimisation.

use std::collections::HashSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::digest;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::crl::Crl;
use crate::fetch::{CrlFetcher, FetchError, MAX_CRL_SIZE};

/// Distinguishes temporary files of one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A [`CrlFetcher`] that keeps downloaded CRLs in a directory and reuses them until their
/// `nextUpdate`.
pub struct CachingFetcher<F> {
    inner: F,
    dir: PathBuf,
    clock: fn() -> OffsetDateTime,
    /// URLs whose last answer came from the cache (so an eviction can change the answer).
    served_from_cache: Mutex<HashSet<String>>,
}

impl<F: CrlFetcher> CachingFetcher<F> {
    /// Caches the CRLs `inner` downloads in `dir` (created when first needed).
    pub fn new(inner: F, dir: impl Into<PathBuf>) -> Self {
        Self {
            inner,
            dir: dir.into(),
            clock: OffsetDateTime::now_utc,
            served_from_cache: Mutex::new(HashSet::new()),
        }
    }

    /// Judges cached CRLs' freshness with `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: fn() -> OffsetDateTime) -> Self {
        self.clock = clock;
        self
    }

    /// The wrapped fetcher.
    pub fn inner(&self) -> &F {
        &self.inner
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn paths(&self, url: &str) -> (PathBuf, PathBuf) {
        let key = hex(digest::digest(&digest::SHA256, url.as_bytes()).as_ref());
        (
            self.dir.join(format!("{key}.crl")),
            self.dir.join(format!("{key}.meta")),
        )
    }

    /// The cached CRL for `url` when it is intact and current at `now`.
    fn read_fresh(&self, url: &str, now: OffsetDateTime) -> Option<Vec<u8>> {
        let (crl_path, meta_path) = self.paths(url);
        let meta = Meta::parse(&fs::read_to_string(meta_path).ok()?)?;
        if meta.url != url || fs::metadata(&crl_path).ok()?.len() > MAX_CRL_SIZE {
            return None;
        }
        let bytes = fs::read(&crl_path).ok()?;
        if hex(digest::digest(&digest::SHA256, &bytes).as_ref()) != meta.sha256 {
            return None;
        }
        is_current(&bytes, now).then_some(bytes)
    }

    fn store(&self, url: &str, bytes: &[u8], fetched: OffsetDateTime) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let (crl_path, meta_path) = self.paths(url);
        let meta = Meta {
            url: url.to_owned(),
            fetched: fetched.format(&Rfc3339).map_err(std::io::Error::other)?,
            sha256: hex(digest::digest(&digest::SHA256, bytes).as_ref()),
        };
        // The CRL first: a meta file never names bytes that are not there yet.
        write_atomic(&self.dir, &crl_path, bytes)?;
        write_atomic(&self.dir, &meta_path, meta.render().as_bytes())
    }

    fn note_source(&self, url: &str, from_cache: bool) {
        let mut set = self
            .served_from_cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        if from_cache {
            set.insert(url.to_owned());
        } else {
            set.remove(url);
        }
    }
}

impl<F: CrlFetcher> CrlFetcher for CachingFetcher<F> {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let now = (self.clock)();
        if let Some(bytes) = self.read_fresh(url, now) {
            self.note_source(url, true);
            return Ok(bytes);
        }

        let bytes = self.inner.fetch(url)?;
        self.note_source(url, false);
        if is_current(&bytes, now) {
            // Ignored on purpose: a read-only or full cache directory must not stop
            // verification; the next fetch downloads again.
            let _ = self.store(url, &bytes, now);
        }
        Ok(bytes)
    }

    fn evict(&self, url: &str) -> bool {
        let mut set = self
            .served_from_cache
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let (crl_path, meta_path) = self.paths(url);
        let _ = fs::remove_file(meta_path);
        let _ = fs::remove_file(crl_path);
        set.remove(url) || self.inner.evict(url)
    }
}

/// True when `bytes` parse as a CRL whose validity window contains `now`.
fn is_current(bytes: &[u8], now: OffsetDateTime) -> bool {
    let Ok(crl) = Crl::parse(bytes) else {
        return false;
    };
    let this_update_passed = crl.this_update().is_ok_and(|t| t <= now);
    let next_update_ahead = crl.next_update().ok().flatten().is_some_and(|t| t > now);
    this_update_passed && next_update_ahead
}

/// The sidecar of a cached CRL.
struct Meta {
    url: String,
    fetched: String,
    sha256: String,
}

impl Meta {
    fn render(&self) -> String {
        format!(
            "url {}\nfetched {}\nsha256 {}\n",
            self.url, self.fetched, self.sha256
        )
    }

    fn parse(text: &str) -> Option<Self> {
        let (mut url, mut fetched, mut sha256) = (None, None, None);
        for line in text.lines() {
            match line.split_once(' ')? {
                ("url", v) => url = Some(v.to_owned()),
                ("fetched", v) => fetched = Some(v.to_owned()),
                ("sha256", v) => sha256 = Some(v.to_owned()),
                _ => return None,
            }
        }
        let fetched = fetched?;
        OffsetDateTime::parse(&fetched, &Rfc3339).ok()?;
        Some(Self {
            url: url?,
            fetched,
            sha256: sha256?,
        })
    }
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp = dir.join(format!(".tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
