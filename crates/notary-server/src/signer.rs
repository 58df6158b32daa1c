//! The server's own signing (`server/snapshot`, `server/timestamp`, `signer/keydbstore`): its
//! per-GUN snapshot and timestamp keys, the snapshot and timestamp it signs, and the
//! re-signing of stale ones when they are read. Every timestamp it stores, re-signed ones
//! included, gets a change feed record, as in notary-server.
//!
//! Keys are ECDSA P-256 ([`ServerKey`]). A rotated key does not replace the old one at once:
//! the server signs with whichever of its keys the current root names, so the repository
//! stays readable between the rotation and the root that lists the new key.

use std::collections::BTreeMap;

use hallmark_tuf::root::RoleKeys;
use hallmark_tuf::sign::{sign_metadata, snapshot_metadata, timestamp_metadata};
use hallmark_tuf::{KeyId, RoleName, Root, ServerKey, Signed, Snapshot, Timestamp};
use time::{Duration, OffsetDateTime};
use tracing::{debug, info};

use crate::error::{NotaryError, UpdateProblem};
use crate::route::{Checksum, ServerGun, ServerRole};
use crate::store::{
    ChangeCategory, CurrentVersions, NewChange, RoleFile, StoreError, TrustDataStore, current_file,
};

/// How long a server-signed snapshot is valid (Notary's default for snapshot: 3 years).
pub const SNAPSHOT_LIFETIME: Duration = Duration::days(3 * 365);
/// How long a timestamp is valid (Notary's default: 14 days).
pub const TIMESTAMP_LIFETIME: Duration = Duration::days(14);
/// A timestamp this close to its expiry is re-signed when read, so that a client never gets
/// one that expires before its cache revalidates.
pub const TIMESTAMP_MARGIN: Duration = Duration::days(1);
/// The same for a snapshot the server holds the key of.
pub const SNAPSHOT_MARGIN: Duration = Duration::days(7);

impl From<StoreError> for NotaryError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OldVersion { .. } => {
                NotaryError::new(crate::error::ErrorCode::Version, e.to_string())
            }
            StoreError::Io { .. } => NotaryError::internal(format_chain(&e)),
        }
    }
}

fn format_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn key_failure(e: hallmark_tuf::SignError) -> NotaryError {
    NotaryError::internal(format_chain(&e))
}

/// The largest version a file can have: canonical JSON refuses integers above 2^53, which
/// Notary, decoding numbers as `float64`, could not read back exactly.
pub const MAX_VERSION: u64 = 1 << 53;

/// The version after `version` of `role`, which the server is about to sign; a role at the
/// largest version ([`MAX_VERSION`]) cannot get a newer one (`INVALID_UPDATE`).
pub fn next_version(role: &RoleName, version: u64) -> Result<u64, NotaryError> {
    let next = version.checked_add(1).filter(|next| *next <= MAX_VERSION);
    next.ok_or_else(|| {
        let reason = format!(
            "{role} version {version} is the largest possible, so the server cannot sign a \
             newer {role}; delete the trust data and publish it again"
        );
        NotaryError::invalid_update(UpdateProblem::BadHierarchy, reason)
    })
}

/// The change feed record of storing `timestamp` for `gun`.
pub fn update_change(gun: &ServerGun, timestamp: &RoleFile) -> NewChange {
    NewChange {
        gun: gun.to_string(),
        version: timestamp.version,
        sha256: Checksum::of("sha256", &timestamp.bytes)
            .map(|c| c.hex().to_string())
            .unwrap_or_default(),
        category: ChangeCategory::Update,
    }
}

/// The key the server hands out for `role`, made on first use.
pub fn get_or_create_key(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    role: ServerRole,
) -> Result<ServerKey, NotaryError> {
    if let Some(id) = store.active_key(gun, role)?
        && let Some(key) = load_key(store, gun, role, &id)?
    {
        return Ok(key);
    }
    rotate_key(store, gun, role)
}

/// A new key for `role`, handed out from now on.
pub fn rotate_key(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    role: ServerRole,
) -> Result<ServerKey, NotaryError> {
    let key = ServerKey::generate().map_err(key_failure)?;
    let pkcs8 = key.to_pkcs8().map_err(key_failure)?;
    store.add_key(gun, role, key.public().id(), &pkcs8)?;
    info!(%gun, role = role.as_str(), key_id = %key.public().id(), "server key created");
    Ok(key)
}

fn load_key(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    role: ServerRole,
    id: &KeyId,
) -> Result<Option<ServerKey>, NotaryError> {
    let Some(pkcs8) = store.private_key(gun, role, id)? else {
        return Ok(None);
    };
    ServerKey::from_pkcs8(&pkcs8).map(Some).map_err(key_failure)
}

/// The server's keys among those `role_keys` names, when they reach the threshold.
pub fn held_keys(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    role: ServerRole,
    role_keys: &RoleKeys,
) -> Result<Option<Vec<ServerKey>>, NotaryError> {
    let mut held = Vec::new();
    for id in &role_keys.key_ids {
        let Ok(id) = id.parse::<KeyId>() else {
            continue;
        };
        if let Some(key) = load_key(store, gun, role, &id)? {
            held.push(key);
        }
    }
    let enough = held.len() >= role_keys.threshold as usize;
    Ok(enough.then_some(held))
}

/// A snapshot of `files`, signed by `keys`.
pub fn make_snapshot(
    version: u64,
    now: OffsetDateTime,
    files: &BTreeMap<RoleName, &[u8]>,
    keys: &[ServerKey],
) -> Result<RoleFile, NotaryError> {
    let signed = snapshot_metadata(version, now + SNAPSHOT_LIFETIME, files).map_err(key_failure)?;
    let keys: Vec<&ServerKey> = keys.iter().collect();
    let bytes = sign_metadata(&signed, &keys).map_err(key_failure)?;
    Ok(RoleFile {
        role: RoleName::snapshot(),
        version,
        bytes,
    })
}

/// A timestamp naming `snapshot`, signed by `keys`.
pub fn make_timestamp(
    version: u64,
    now: OffsetDateTime,
    snapshot: &[u8],
    keys: &[ServerKey],
) -> Result<RoleFile, NotaryError> {
    let signed =
        timestamp_metadata(version, now + TIMESTAMP_LIFETIME, snapshot).map_err(key_failure)?;
    let keys: Vec<&ServerKey> = keys.iter().collect();
    let bytes = sign_metadata(&signed, &keys).map_err(key_failure)?;
    Ok(RoleFile {
        role: RoleName::timestamp(),
        version,
        bytes,
    })
}

/// The current files of a repository, by role.
#[derive(Debug, Default)]
pub struct Stored {
    /// The current version of each role.
    pub current: CurrentVersions,
    /// The current file of each role.
    pub files: BTreeMap<RoleName, Vec<u8>>,
}

impl Stored {
    /// Reads every current file of `gun`.
    pub fn load(store: &dyn TrustDataStore, gun: &ServerGun) -> Result<Stored, NotaryError> {
        let current = store.current(gun)?;
        let mut files = BTreeMap::new();
        for (role, version) in &current {
            let bytes = store.by_version(gun, role, *version)?.ok_or_else(|| {
                NotaryError::internal(format!("{role} version {version} is current but missing"))
            })?;
            files.insert(role.clone(), bytes);
        }
        Ok(Stored { current, files })
    }

    /// The stored version of `role`, 0 for none.
    pub fn version(&self, role: &RoleName) -> u64 {
        self.current.get(role).copied().unwrap_or(0)
    }

    /// Parses the stored file of `role`, if any; a stored file that does not parse is the
    /// server's failure, not the client's.
    pub fn parsed<T: hallmark_tuf::signed::Metadata>(
        &self,
        role: &RoleName,
    ) -> Result<Option<Signed<T>>, NotaryError> {
        self.files
            .get(role)
            .map(|bytes| parse_stored(role, bytes))
            .transpose()
    }

    /// The files a snapshot lists: root, targets and every delegation.
    pub fn snapshot_files(&self) -> BTreeMap<RoleName, &[u8]> {
        self.files
            .iter()
            .filter(|(role, _)| **role != RoleName::snapshot() && **role != RoleName::timestamp())
            .map(|(role, bytes)| (role.clone(), bytes.as_slice()))
            .collect()
    }
}

/// Parses a stored file of `role`; a stored file that does not parse is the server's
/// failure, not the client's.
fn parse_stored<T: hallmark_tuf::signed::Metadata>(
    role: &RoleName,
    bytes: &[u8],
) -> Result<Signed<T>, NotaryError> {
    Signed::<T>::parse_role(bytes, role.clone())
        .map_err(|e| NotaryError::internal(format!("stored {role} unreadable: {e}")))
}

fn stale(expires: OffsetDateTime, now: OffsetDateTime, margin: Duration) -> bool {
    expires - now < margin
}

/// Whether [`refresh`] would re-sign anything for `gun`: the server holds the root's
/// timestamp key, and the timestamp is stale or the snapshot is stale and the server holds
/// its key too. Reads the timestamp and snapshot, and the root only when one is stale; takes
/// no lock and verifies no signature. A file that goes missing meanwhile (a `DELETE`) means
/// there is nothing to refresh.
pub fn needs_refresh(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    now: OffsetDateTime,
) -> Result<bool, NotaryError> {
    let current = store.current(gun)?;
    let read = |role: &RoleName| current_file(store, gun, &current, role);
    let (ts_role, sn_role) = (RoleName::timestamp(), RoleName::snapshot());
    let (Some(timestamp), Some(snapshot)) = (read(&ts_role)?, read(&sn_role)?) else {
        return Ok(false);
    };
    let timestamp = parse_stored::<Timestamp>(&ts_role, &timestamp)?;
    let snapshot = parse_stored::<Snapshot>(&sn_role, &snapshot)?;
    let timestamp_stale = stale(timestamp.signed.expires, now, TIMESTAMP_MARGIN);
    let snapshot_stale = stale(snapshot.signed.expires, now, SNAPSHOT_MARGIN);
    if !timestamp_stale && !snapshot_stale {
        return Ok(false);
    }
    let Some(root) = read(&RoleName::root())? else {
        return Ok(false);
    };
    let roles = parse_stored::<Root>(&RoleName::root(), &root)?.signed.roles;
    if held_keys(store, gun, ServerRole::Timestamp, &roles.timestamp)?.is_none() {
        return Ok(false);
    }
    Ok(timestamp_stale || held_keys(store, gun, ServerRole::Snapshot, &roles.snapshot)?.is_some())
}

/// Re-signs a stale snapshot (when the server holds its key) and a stale timestamp (or one
/// whose snapshot changed), as notary-server does on read, with a change feed record for
/// the new timestamp. The caller holds the write lock.
pub fn refresh(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    now: OffsetDateTime,
) -> Result<(), NotaryError> {
    let stored = Stored::load(store, gun)?;
    let root = stored.parsed::<Root>(&RoleName::root())?;
    let timestamp = stored.parsed::<Timestamp>(&RoleName::timestamp())?;
    let snapshot = stored.parsed::<Snapshot>(&RoleName::snapshot())?;
    let (Some(root), Some(timestamp), Some(snapshot)) = (root, timestamp, snapshot) else {
        return Ok(());
    };
    let roles = &root.signed.roles;

    let mut files = Vec::new();
    let mut snapshot_bytes = snapshot.bytes().to_vec();
    if stale(snapshot.signed.expires, now, SNAPSHOT_MARGIN)
        && let Some(keys) = held_keys(store, gun, ServerRole::Snapshot, &roles.snapshot)?
    {
        let version = next_version(&RoleName::snapshot(), snapshot.signed.version)?;
        let file = make_snapshot(version, now, &stored.snapshot_files(), &keys)?;
        snapshot_bytes = file.bytes.clone();
        files.push(file);
    }
    if files.is_empty() && !stale(timestamp.signed.expires, now, TIMESTAMP_MARGIN) {
        return Ok(());
    }
    let Some(keys) = held_keys(store, gun, ServerRole::Timestamp, &roles.timestamp)? else {
        debug!(%gun, "stale timestamp not re-signed: the root names no server key");
        return Ok(());
    };
    let version = next_version(&RoleName::timestamp(), timestamp.signed.version)?;
    let timestamp = make_timestamp(version, now, &snapshot_bytes, &keys)?;
    let change = update_change(gun, &timestamp);
    files.push(timestamp);
    store.commit(gun, &files, Some(&change))?;
    info!(%gun, version, snapshot = files.len() > 1, "stale timestamp re-signed");
    Ok(())
}
