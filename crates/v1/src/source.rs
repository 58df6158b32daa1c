//! Where Notary v1 trust data comes from, and what was trusted before.
//!
//! From a server, files are fetched the way the `notary` client fetches them
//! (`client/tufclient.go`): `timestamp.json`, then the snapshot by the checksum the timestamp
//! names, `root.json` and, when a newer root replaced the one trusted before, every
//! `<n>.root.json` in between (at most [`MAX_ROOT_ROTATIONS`]), then `targets.json` and each
//! delegation by the checksums the snapshot names (the plain name when the server does not
//! serve checksum paths). Only delegations the verifier will read are fetched: those a
//! fetched targets file delegates to and the snapshot lists. One update fetches at most
//! 4096 files and 256 MiB, so a hostile server cannot make it fetch without end. From a
//! trust directory, the files are the client cache `notary` or `docker trust` left.
//!
//! The trusted state (root file and versions) of each server and repository is kept in a
//! state directory after every successful verification (except a check that must write
//! nothing, [`check_verified`], which only reads it), so that the next run detects a
//! rollback or a root it did not rotate to. Each save merges into the stored state and never
//! lowers a floor, also for delegations the run did not see. With none, the first root is
//! trusted on first use unless the user pinned a root key or certificate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hallmark_client::Client;
use hallmark_tuf::client::MAX_ROOT_ROTATIONS;
use hallmark_tuf::signed::{RoleName, Signed};
use hallmark_tuf::{
    Gun, RepositoryFiles, RootPin, Snapshot, Targets, Timestamp, TrustDir, TrustedState, Verified,
    Verifier,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::Error;

/// The largest metadata file accepted from a server.
const MAX_METADATA_BYTES: u64 = 16 << 20;

/// A source of v1 trust data.
#[derive(Debug, Clone)]
pub enum Source {
    /// A Notary v1 server: `host[:port]` reached through `client` (which decides TLS or plain
    /// HTTP and answers token challenges).
    Server {
        /// The HTTP client.
        client: Client,
        /// `host[:port]`.
        host: String,
    },
    /// A `notary` or `docker trust` client cache.
    TrustDir(TrustDir),
}

impl Source {
    /// What to call the source in messages.
    pub fn describe(&self) -> String {
        match self {
            Source::Server { host, .. } => host.clone(),
            Source::TrustDir(dir) => dir.path().display().to_string(),
        }
    }

    /// A key for the state directory.
    fn state_key(&self) -> String {
        match self {
            Source::Server { host, .. } => format!("server/{}", host.replace(':', "_")),
            Source::TrustDir(_) => "trust-dir".to_owned(),
        }
    }

    /// Every file needed to verify `gun`, given what was trusted before.
    pub async fn fetch(&self, gun: &Gun, trusted: &TrustedState) -> Result<RepositoryFiles, Error> {
        match self {
            Source::TrustDir(dir) => {
                if !dir.metadata_dir(gun).join("root.json").is_file() {
                    return Err(Error::NoCachedData {
                        dir: dir.path().display().to_string(),
                        gun: gun.to_string(),
                    });
                }
                dir.read(gun).map_err(|e| Error::tuf(gun, e))
            }
            Source::Server { client, host } => fetch_server(client, host, gun, trusted).await,
        }
    }
}

/// Fetches as the `notary` client does.
async fn fetch_server(
    client: &Client,
    host: &str,
    gun: &Gun,
    trusted: &TrustedState,
) -> Result<RepositoryFiles, Error> {
    let scopes = vec![format!("repository:{gun}:pull")];
    let get = |name: String, limit: u64| {
        let scopes = scopes.clone();
        async move {
            let path = format!("v2/{gun}/_trust/tuf/{name}");
            client.fetch_path(host, &path, &scopes, limit).await
        }
    };
    let budget = Budget::new(&get, host, gun, UPDATE_LIMITS);
    fetch_files(&budget, gun, trusted).await
}

/// What one update may make the client fetch from a server. A repository's trust data is
/// a handful of small files; these stop a hostile server from sending without end.
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Bytes of all files together.
    bytes: u64,
    /// Requests, 404s included.
    files: u64,
}

/// The limits of a real update: generous, far above any real repository.
const UPDATE_LIMITS: Limits = Limits {
    bytes: 256 << 20,
    files: 4096,
};

/// Fetches through `get` (name and byte limit to answer, or `None` on 404) within `limits`.
struct Budget<'g, G> {
    get: &'g G,
    server: &'g str,
    gun: &'g Gun,
    limits: Limits,
    bytes: AtomicU64,
    files: AtomicU64,
}

impl<'g, G, Fut> Budget<'g, G>
where
    G: Fn(String, u64) -> Fut,
    Fut: Future<Output = Result<Option<Bytes>, hallmark_client::Error>>,
{
    fn new(get: &'g G, server: &'g str, gun: &'g Gun, limits: Limits) -> Self {
        Budget {
            get,
            server,
            gun,
            limits,
            bytes: AtomicU64::new(0),
            files: AtomicU64::new(0),
        }
    }

    /// `<name>` from the server, counted against the limits.
    async fn get(&self, name: String) -> Result<Option<Bytes>, Error> {
        let too_many_files = || Error::TooManyFiles {
            server: self.server.to_owned(),
            gun: self.gun.to_string(),
            limit: self.limits.files,
        };
        let too_much_data = || Error::TooMuchData {
            server: self.server.to_owned(),
            gun: self.gun.to_string(),
            limit: self.limits.bytes,
        };
        if self.files.fetch_add(1, Ordering::Relaxed) >= self.limits.files {
            return Err(too_many_files());
        }
        let remaining = self
            .limits
            .bytes
            .saturating_sub(self.bytes.load(Ordering::Relaxed));
        let limit = remaining.min(MAX_METADATA_BYTES);
        let bytes = match (self.get)(name, limit).await {
            Ok(bytes) => bytes,
            // The file would not fit in what is left of the update's budget.
            Err(hallmark_client::Error::TooLarge { .. }) if limit < MAX_METADATA_BYTES => {
                return Err(too_much_data());
            }
            Err(e) => return Err(e.into()),
        };
        if let Some(bytes) = &bytes {
            let len = bytes.len() as u64;
            if self
                .bytes
                .fetch_add(len, Ordering::Relaxed)
                .saturating_add(len)
                > self.limits.bytes
            {
                return Err(too_much_data());
            }
        }
        Ok(bytes)
    }
}

/// Every file of `gun` through `budget`: timestamp, snapshot, root, targets, the delegations
/// the verifier will read, and the roots between the trusted one and the newest.
async fn fetch_files<G, Fut>(
    budget: &Budget<'_, G>,
    gun: &Gun,
    trusted: &TrustedState,
) -> Result<RepositoryFiles, Error>
where
    G: Fn(String, u64) -> Fut,
    Fut: Future<Output = Result<Option<Bytes>, hallmark_client::Error>>,
{
    let tuf = |e| Error::tuf(gun, e);
    let timestamp = budget
        .get("timestamp.json".to_owned())
        .await?
        .ok_or_else(|| Error::NoTrustData {
            server: budget.server.to_owned(),
            gun: gun.to_string(),
        })?;
    let parsed = Signed::<Timestamp>::parse(&timestamp).map_err(tuf)?;
    let snapshot = by_checksum(budget, "snapshot", parsed.signed.snapshot.hashes.sha256()).await?;
    let root = required(budget.get("root.json".to_owned()).await?, "root.json")?;

    // A newer root than the trusted one: each version in between, to rotate through; at
    // most MAX_ROOT_ROTATIONS of them, checked before any is fetched.
    let mut versioned_roots = BTreeMap::new();
    if let Some(old) = &trusted.root {
        let old_version = root_version(old).map_err(tuf)?;
        let new_version = root_version(&root).map_err(tuf)?;
        if new_version.saturating_sub(old_version) > MAX_ROOT_ROTATIONS {
            return Err(tuf(hallmark_tuf::Error::TooManyRootRotations {
                trusted: old_version,
                newest: new_version,
                cap: MAX_ROOT_ROTATIONS,
            }));
        }
        for n in old_version.saturating_add(1)..new_version {
            let name = format!("{n}.root.json");
            let bytes = required(budget.get(name.clone()).await?, &name)?;
            versioned_roots.insert(n, bytes.to_vec());
        }
    }

    let snapshot_parsed = Signed::<Snapshot>::parse(&snapshot).map_err(tuf)?;
    let meta = &snapshot_parsed.signed;
    let targets_sha = meta
        .meta_for(&RoleName::targets())
        .and_then(|m| m.hashes.sha256());
    let targets = by_checksum(budget, "targets", targets_sha).await?;
    let delegations = fetch_delegations(budget, meta, &targets).await?;
    Ok(RepositoryFiles {
        root: root.to_vec(),
        versioned_roots,
        timestamp: timestamp.to_vec(),
        snapshot: snapshot.to_vec(),
        targets: targets.to_vec(),
        delegations,
    })
}

/// The delegations the verifier will read: breadth first from `targets`, each role that its
/// parent delegates to and the snapshot lists. Roles the snapshot lists but nothing
/// delegates to are never read, so they are not fetched. A file that does not parse is
/// kept for the verifier to refuse, and its delegations are not followed.
async fn fetch_delegations<G, Fut>(
    budget: &Budget<'_, G>,
    snapshot: &Snapshot,
    targets: &[u8],
) -> Result<BTreeMap<RoleName, Vec<u8>>, Error>
where
    G: Fn(String, u64) -> Fut,
    Fut: Future<Output = Result<Option<Bytes>, hallmark_client::Error>>,
{
    let mut out = BTreeMap::new();
    let mut level = match Signed::<Targets>::parse(targets) {
        Ok(file) => vec![file],
        Err(_) => Vec::new(),
    };
    while !level.is_empty() {
        let mut next = Vec::new();
        for parent in &level {
            for role in &parent.signed.delegations.roles {
                let Some(meta) = snapshot.meta_for(&role.name) else {
                    continue;
                };
                if out.contains_key(&role.name) {
                    continue;
                }
                let bytes = by_checksum(budget, role.name.as_str(), meta.hashes.sha256()).await?;
                if let Ok(file) = Signed::<Targets>::parse_role(&bytes, role.name.clone()) {
                    next.push(file);
                }
                out.insert(role.name.clone(), bytes.to_vec());
            }
        }
        level = next;
    }
    Ok(out)
}

fn root_version(bytes: &[u8]) -> Result<u64, hallmark_tuf::Error> {
    Ok(Signed::<hallmark_tuf::Root>::parse(bytes)?.signed.version)
}

/// `<role>.<sha256>.json` when the checksum is known, else (or on 404) `<role>.json`.
async fn by_checksum<G, Fut>(
    budget: &Budget<'_, G>,
    role: &str,
    sha256: Option<&[u8; 32]>,
) -> Result<Bytes, Error>
where
    G: Fn(String, u64) -> Fut,
    Fut: Future<Output = Result<Option<Bytes>, hallmark_client::Error>>,
{
    if let Some(sum) = sha256 {
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(bytes) = budget.get(format!("{role}.{hex}.json")).await? {
            return Ok(bytes);
        }
    }
    let name = format!("{role}.json");
    required(budget.get(name.clone()).await?, &name)
}

fn required(bytes: Option<Bytes>, name: &str) -> Result<Bytes, Error> {
    bytes.ok_or_else(|| {
        Error::Client(hallmark_client::Error::ManifestUnknown {
            repository: "Notary v1 trust data".to_owned(),
            reference: name.to_owned(),
        })
    })
}

/// Where trusted states are kept: one JSON file per source and repository.
#[derive(Debug, Clone)]
pub struct StateDir {
    path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct StateFile {
    root: String,
    timestamp_version: u64,
    snapshot_version: u64,
    targets_version: u64,
    delegation_versions: BTreeMap<String, u64>,
}

impl StateDir {
    /// The state directory at `path`.
    pub fn new(path: impl Into<PathBuf>) -> StateDir {
        StateDir { path: path.into() }
    }

    fn file(&self, source: &Source, gun: &Gun) -> PathBuf {
        let mut path = self.path.join(source.state_key());
        path.extend(gun.as_str().split('/'));
        path.join("trusted.json")
    }

    /// What was trusted for `gun` from `source` (nothing the first time).
    pub fn load(&self, source: &Source, gun: &Gun) -> Result<TrustedState, Error> {
        let path = self.file(source, gun);
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(TrustedState::default());
            }
            Err(source) => {
                return Err(Error::State {
                    what: "cannot read",
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let corrupt = |why: String| Error::CorruptState {
            path: path.display().to_string(),
            why,
        };
        let file: StateFile = serde_json::from_slice(&text).map_err(|e| corrupt(e.to_string()))?;
        let root = STANDARD
            .decode(&file.root)
            .map_err(|_| corrupt("root is not base64".to_owned()))?;
        let mut delegation_versions = BTreeMap::new();
        for (name, version) in file.delegation_versions {
            let role = name
                .parse()
                .map_err(|_| corrupt(format!("role {name:?}")))?;
            delegation_versions.insert(role, version);
        }
        Ok(TrustedState {
            root: Some(root),
            timestamp_version: file.timestamp_version,
            snapshot_version: file.snapshot_version,
            targets_version: file.targets_version,
            delegation_versions,
        })
    }

    /// Records what `verified` proved, merged into the state stored for `gun` (see
    /// [`StateDir::save_state`]).
    pub fn save(&self, source: &Source, gun: &Gun, verified: &Verified) -> Result<(), Error> {
        self.save_state(source, gun, &verified.trusted_state())
    }

    /// Records `state` merged into the state stored for `gun`, atomically: no floor stored
    /// is lowered ([`TrustedState::merge`]), so that a run which did not see a delegation
    /// (its snapshot left it out) keeps that delegation's floor. The stored state is re-read
    /// under an exclusive lock held until the new file is in place, so that concurrent runs
    /// cannot lower each other's floors either.
    pub fn save_state(
        &self,
        source: &Source,
        gun: &Gun,
        state: &TrustedState,
    ) -> Result<(), Error> {
        let path = self.file(source, gun);
        let io = |what: &'static str| {
            let path = path.display().to_string();
            move |source| Error::State { what, path, source }
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io("cannot create the directory of"))?;
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("trusted.json.lock"))
            .map_err(io("cannot open the lock file of"))?;
        lock.lock().map_err(io("cannot lock"))?;

        let stored = self.load(source, gun)?;
        let state = state.merge(&stored).map_err(|e| Error::CorruptState {
            path: path.display().to_string(),
            why: format!("its root does not parse ({e})"),
        })?;
        let file = StateFile {
            root: STANDARD.encode(state.root.unwrap_or_default()),
            timestamp_version: state.timestamp_version,
            snapshot_version: state.snapshot_version,
            targets_version: state.targets_version,
            delegation_versions: state
                .delegation_versions
                .iter()
                .map(|(role, v)| (role.as_str().to_owned(), *v))
                .collect(),
        };
        let bytes = serde_json::to_vec_pretty(&file).map_err(|e| Error::Encoding(e.to_string()))?;
        write_atomic(&path, &bytes).map_err(io("cannot write"))?;
        // Dropping the file releases the lock, after the rename.
        drop(lock);
        Ok(())
    }
}

fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".trusted.{}.tmp", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::File::open(dir)?.sync_all()
}

/// Fetches and verifies `gun`: with the trusted state from `state` (if given) and `pin` for
/// a first root, at `now`; saves the new state on success.
pub async fn load_verified(
    source: &Source,
    gun: &Gun,
    pin: &RootPin,
    state: Option<&StateDir>,
    now: OffsetDateTime,
) -> Result<Verified, Error> {
    let verified = check_verified(source, gun, pin, state, now).await?;
    if let Some(dir) = state {
        dir.save(source, gun, &verified)?;
    }
    Ok(verified)
}

/// Fetches and verifies `gun` as [`load_verified`] does, against the trusted state from
/// `state` (if given), but saves nothing: not even a root trusted on first use. For a dry
/// run, which writes nothing.
pub async fn check_verified(
    source: &Source,
    gun: &Gun,
    pin: &RootPin,
    state: Option<&StateDir>,
    now: OffsetDateTime,
) -> Result<Verified, Error> {
    let trusted = match state {
        Some(dir) => dir.load(source, gun)?,
        None => TrustedState::default(),
    };
    let files = source.fetch(gun, &trusted).await?;
    let verifier = Verifier {
        gun,
        pin,
        trusted: &trusted,
        now,
    };
    verifier.verify(&files).map_err(|e| Error::tuf(gun, e))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

    use std::cell::RefCell;
    use std::path::PathBuf;

    use futures_util::FutureExt as _;
    use serde_json::Value;

    use super::*;

    /// The notary-v1 vectors' server files, or `None` (with a notice) when they are absent.
    fn server_dir() -> Option<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/notary-v1");
        if dir.is_dir() {
            return Some(dir.join("server"));
        }
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent", dir.display());
        None
    }

    fn gun() -> Gun {
        "example.com/demo".parse().unwrap()
    }

    fn role(name: &str) -> RoleName {
        name.parse().unwrap()
    }

    /// A fake server over the vectors' files, with some replaced: checksum paths answer 404
    /// (as for the plain names), and every request is recorded.
    struct FakeServer {
        dir: PathBuf,
        replaced: BTreeMap<String, Vec<u8>>,
        requests: RefCell<Vec<String>>,
    }

    impl FakeServer {
        fn new(dir: PathBuf) -> Self {
            FakeServer {
                dir,
                replaced: BTreeMap::new(),
                requests: RefCell::new(Vec::new()),
            }
        }

        fn file(&self, name: &str) -> Vec<u8> {
            std::fs::read(self.dir.join(name)).unwrap()
        }

        fn answer(&self, name: &str, limit: u64) -> Result<Option<Bytes>, hallmark_client::Error> {
            self.requests.borrow_mut().push(name.to_owned());
            let bytes = match self.replaced.get(name) {
                Some(bytes) => bytes.clone(),
                None => match std::fs::read(self.dir.join(name)) {
                    Ok(bytes) => bytes,
                    Err(_) => return Ok(None),
                },
            };
            if bytes.len() as u64 > limit {
                return Err(hallmark_client::Error::TooLarge {
                    url: name.to_owned(),
                    limit,
                });
            }
            Ok(Some(Bytes::from(bytes)))
        }

        fn fetch(&self, trusted: &TrustedState, limits: Limits) -> Result<RepositoryFiles, Error> {
            let get = |name: String, limit: u64| {
                let answer = self.answer(&name, limit);
                async move { answer }
            };
            let gun = gun();
            let budget = Budget::new(&get, "notary.test", &gun, limits);
            // The fake answers at once, so the future completes when first polled.
            fetch_files(&budget, &gun, trusted).now_or_never().unwrap()
        }

        fn requests(&self) -> Vec<String> {
            self.requests.borrow().clone()
        }
    }

    fn vector_time() -> OffsetDateTime {
        time::macros::datetime!(2026-12-04 00:00:00 UTC)
    }

    #[test]
    fn fetch_reads_what_the_verifier_reads_and_it_verifies() {
        let Some(dir) = server_dir() else { return };
        let server = FakeServer::new(dir);
        let files = server
            .fetch(&TrustedState::default(), UPDATE_LIMITS)
            .unwrap();
        let plain: Vec<String> = server
            .requests()
            .into_iter()
            .filter(|name| name.split('.').count() == 2)
            .collect();
        let expected = [
            "timestamp.json",
            "snapshot.json",
            "root.json",
            "targets.json",
            // In the order targets.json delegates to them.
            "targets/releases.json",
            "targets/alice.json",
        ];
        assert_eq!(plain, expected);
        let trusted = TrustedState::default();
        let verifier = Verifier {
            gun: &gun(),
            pin: &RootPin::TrustOnFirstUse,
            trusted: &trusted,
            now: vector_time(),
        };
        let verified = verifier.verify(&files).unwrap();
        assert_eq!(verified.delegations.len(), 2);
    }

    #[test]
    fn fetch_skips_delegations_nothing_delegates_to() {
        let Some(dir) = server_dir() else { return };
        let mut server = FakeServer::new(dir);
        // The snapshot lists 100 more roles that no targets file delegates to.
        let mut snapshot: Value = serde_json::from_slice(&server.file("snapshot.json")).unwrap();
        let meta = snapshot["signed"]["meta"].clone();
        for n in 0..100 {
            let entry = meta["targets/alice"].clone();
            snapshot["signed"]["meta"][format!("targets/ghost{n}")] = entry;
        }
        let bytes = serde_json::to_vec(&snapshot).unwrap();
        server.replaced.insert("snapshot.json".to_owned(), bytes);
        let files = server
            .fetch(&TrustedState::default(), UPDATE_LIMITS)
            .unwrap();
        assert!(!server.requests().iter().any(|name| name.contains("ghost")));
        let fetched: Vec<&RoleName> = files.delegations.keys().collect();
        assert_eq!(fetched, [&role("targets/alice"), &role("targets/releases")]);
    }

    #[test]
    fn fetch_caps_root_rotations_before_fetching_any() {
        let Some(dir) = server_dir() else { return };
        let mut server = FakeServer::new(dir);
        // root.json claims version 40 over the trusted version 1.
        let root = String::from_utf8(server.file("root.json")).unwrap();
        let claimed = root.replacen("\"version\":2", "\"version\":40", 1);
        server
            .replaced
            .insert("root.json".to_owned(), claimed.into_bytes());
        let trusted = TrustedState {
            root: Some(server.file("1.root.json")),
            ..TrustedState::default()
        };
        let error = server.fetch(&trusted, UPDATE_LIMITS).unwrap_err();
        let Error::Tuf { source, .. } = &error else {
            panic!("unexpected error: {error}");
        };
        assert!(
            matches!(
                **source,
                hallmark_tuf::Error::TooManyRootRotations {
                    trusted: 1,
                    newest: 40,
                    cap: MAX_ROOT_ROTATIONS
                }
            ),
            "unexpected error: {source}"
        );
        assert!(!server.requests().iter().any(|n| n.ends_with(".root.json")));
    }

    #[test]
    fn fetch_stops_at_the_byte_budget() {
        let Some(dir) = server_dir() else { return };
        let server = FakeServer::new(dir);
        let limits = Limits {
            bytes: 4000,
            files: UPDATE_LIMITS.files,
        };
        let error = server.fetch(&TrustedState::default(), limits).unwrap_err();
        assert!(
            matches!(error, Error::TooMuchData { limit: 4000, .. }),
            "unexpected error: {error}"
        );
        assert!(
            error.to_string().contains("more than 4000 bytes"),
            "{error}"
        );
    }

    #[test]
    fn fetch_stops_at_the_file_budget() {
        let Some(dir) = server_dir() else { return };
        let server = FakeServer::new(dir);
        let limits = Limits {
            bytes: UPDATE_LIMITS.bytes,
            files: 5,
        };
        let error = server.fetch(&TrustedState::default(), limits).unwrap_err();
        assert!(
            matches!(error, Error::TooManyFiles { limit: 5, .. }),
            "unexpected error: {error}"
        );
        assert_eq!(server.requests().len(), 5);
    }

    #[test]
    fn saved_state_never_lowers_a_stored_floor() {
        let Some(dir) = server_dir() else { return };
        let state_dir = tempfile::tempdir().unwrap();
        let states = StateDir::new(state_dir.path());
        let source = Source::TrustDir(TrustDir::new("unused"));
        let gun = gun();
        let root_v2 = std::fs::read(dir.join("root.json")).unwrap();
        let root_v1 = std::fs::read(dir.join("1.root.json")).unwrap();
        let first = TrustedState {
            root: Some(root_v2.clone()),
            timestamp_version: 5,
            snapshot_version: 6,
            targets_version: 4,
            delegation_versions: [(role("targets/releases"), 3), (role("targets/alice"), 1)].into(),
        };
        states.save_state(&source, &gun, &first).unwrap();

        // A later run (or a concurrent one that saves last) saw older versions and no
        // targets/releases: the stored floors stay.
        let second = TrustedState {
            root: Some(root_v2.clone()),
            timestamp_version: 4,
            snapshot_version: 6,
            targets_version: 3,
            delegation_versions: [(role("targets/alice"), 2)].into(),
        };
        states.save_state(&source, &gun, &second).unwrap();
        let stored = states.load(&source, &gun).unwrap();
        let expected = TrustedState {
            root: Some(root_v2.clone()),
            timestamp_version: 5,
            snapshot_version: 6,
            targets_version: 4,
            delegation_versions: [(role("targets/releases"), 3), (role("targets/alice"), 2)].into(),
        };
        assert_eq!(stored, expected);

        // A run still on the older root does not take the root back either.
        let stale = TrustedState {
            root: Some(root_v1),
            ..second
        };
        states.save_state(&source, &gun, &stale).unwrap();
        assert_eq!(states.load(&source, &gun).unwrap(), expected);
    }
}
