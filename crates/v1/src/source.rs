//! Where Notary v1 trust data comes from, and what was trusted before.
//!
//! From a server, files are fetched the way the `notary` client fetches them
//! (`client/tufclient.go`): `timestamp.json`, then the snapshot by the checksum the timestamp
//! names, `root.json`, then `targets.json` and each delegation by the checksums the snapshot
//! names (the plain name when the server does not serve checksum paths), and, when a newer
//! root replaced the one trusted before, every `<n>.root.json` in between. From a trust
//! directory, the files are the client cache `notary` or `docker trust` left.
//!
//! The trusted state (root file and versions) of each server and repository is kept in a
//! state directory after every successful verification, so that the next run detects a
//! rollback or a root it did not rotate to. With none, the first root is trusted on first use
//! unless the user pinned a root key or certificate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_client::Client;
use hallmark_tuf::signed::{RoleName, Signed};
use hallmark_tuf::{
    Gun, RepositoryFiles, RootPin, Snapshot, Timestamp, TrustDir, TrustedState, Verified, Verifier,
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
    let get = |name: String| {
        let scopes = scopes.clone();
        async move {
            let path = format!("v2/{gun}/_trust/tuf/{name}");
            client
                .fetch_path(host, &path, &scopes, MAX_METADATA_BYTES)
                .await
        }
    };
    let tuf = |e| Error::tuf(gun, e);

    let timestamp = get("timestamp.json".to_owned())
        .await?
        .ok_or_else(|| Error::NoTrustData {
            server: host.to_owned(),
            gun: gun.to_string(),
        })?;
    let parsed = Signed::<Timestamp>::parse(&timestamp).map_err(tuf)?;
    let snapshot = by_checksum(&get, "snapshot", parsed.signed.snapshot.hashes.sha256()).await?;
    let root = required(get("root.json".to_owned()).await?, "root.json")?;
    let snapshot_parsed = Signed::<Snapshot>::parse(&snapshot).map_err(tuf)?;
    let targets_sha = snapshot_parsed
        .signed
        .meta_for(&RoleName::targets())
        .and_then(|m| m.hashes.sha256());
    let targets = by_checksum(&get, "targets", targets_sha).await?;

    let mut delegations = BTreeMap::new();
    for (name, meta) in &snapshot_parsed.signed.meta {
        if !name.starts_with("targets/") {
            continue;
        }
        let Ok(role) = name.parse::<RoleName>() else {
            continue;
        };
        let bytes = by_checksum(&get, name, meta.hashes.sha256()).await?;
        delegations.insert(role, bytes.to_vec());
    }

    // A newer root than the trusted one: fetch each version in between to rotate through.
    let mut versioned_roots = BTreeMap::new();
    if let Some(old) = &trusted.root {
        let old_version = root_version(old).map_err(tuf)?;
        let new_version = root_version(&root).map_err(tuf)?;
        for n in old_version + 1..new_version {
            let name = format!("{n}.root.json");
            let bytes = required(get(name.clone()).await?, &name)?;
            versioned_roots.insert(n, bytes.to_vec());
        }
    }
    Ok(RepositoryFiles {
        root: root.to_vec(),
        versioned_roots,
        timestamp: timestamp.to_vec(),
        snapshot: snapshot.to_vec(),
        targets: targets.to_vec(),
        delegations,
    })
}

fn root_version(bytes: &[u8]) -> Result<u64, hallmark_tuf::Error> {
    Ok(Signed::<hallmark_tuf::Root>::parse(bytes)?.signed.version)
}

/// `<role>.<sha256>.json` when the checksum is known, else (or on 404) `<role>.json`.
async fn by_checksum<F, Fut>(
    get: &F,
    role: &str,
    sha256: Option<&[u8; 32]>,
) -> Result<bytes::Bytes, Error>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Option<bytes::Bytes>, hallmark_client::Error>>,
{
    if let Some(sum) = sha256 {
        let hex: String = sum.iter().map(|b| format!("{b:02x}")).collect();
        if let Some(bytes) = get(format!("{role}.{hex}.json")).await? {
            return Ok(bytes);
        }
    }
    let name = format!("{role}.json");
    required(get(name.clone()).await?, &name)
}

fn required(bytes: Option<bytes::Bytes>, name: &str) -> Result<bytes::Bytes, Error> {
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

    /// Records what `verified` proved, atomically.
    pub fn save(&self, source: &Source, gun: &Gun, verified: &Verified) -> Result<(), Error> {
        let state = verified.trusted_state();
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
        let path = self.file(source, gun);
        write_atomic(&path, &bytes).map_err(|source| Error::State {
            what: "cannot write",
            path: path.display().to_string(),
            source,
        })
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
    let verified = verifier.verify(&files).map_err(|e| Error::tuf(gun, e))?;
    if let Some(dir) = state {
        dir.save(source, gun, &verified)?;
    }
    Ok(verified)
}
