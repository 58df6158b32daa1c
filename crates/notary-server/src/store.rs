//! Where trust data lives: the [`TrustDataStore`] trait, what the handlers need from storage
//! (every version of every role by version and checksum, the current version of each role,
//! the server's private keys, and the change feed). [`crate::fs_store::FsTrustStore`] is the
//! filesystem implementation.
//!
//! Every method blocks; the handlers call them from blocking tasks.

use std::collections::BTreeMap;

use hallmark_tuf::{KeyId, RoleName};
use serde::Serialize;

use crate::route::{Checksum, ServerGun, ServerRole};

/// The current version of each role of a repository.
pub type CurrentVersions = BTreeMap<RoleName, u64>;

/// One metadata file to store.
#[derive(Debug, Clone)]
pub struct RoleFile {
    /// The role.
    pub role: RoleName,
    /// The version inside the file.
    pub version: u64,
    /// The file's exact bytes.
    pub bytes: Vec<u8>,
}

/// The kind of a change feed record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChangeCategory {
    /// A publish.
    Update,
    /// A deletion of the GUN's trust data.
    Deletion,
}

/// A change to record: what happened to which GUN.
#[derive(Debug, Clone)]
pub struct NewChange {
    /// The GUN.
    pub gun: String,
    /// The timestamp version after the change (0 for a deletion).
    pub version: u64,
    /// Hex SHA-256 of the timestamp file after the change (empty for a deletion).
    pub sha256: String,
    /// What happened.
    pub category: ChangeCategory,
}

/// A change feed record as the API sends it (`changefeed.go` `Change`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChangeRecord {
    /// The record's ID, a decimal number as a string; IDs increase.
    #[serde(rename = "ID")]
    pub id: String,
    /// When it was recorded, RFC 3339.
    #[serde(rename = "CreatedAt")]
    pub created_at: String,
    /// The GUN.
    #[serde(rename = "GUN")]
    pub gun: String,
    /// The timestamp version.
    #[serde(rename = "Version")]
    pub version: u64,
    /// Hex SHA-256 of the timestamp.
    #[serde(rename = "SHA256")]
    pub sha256: String,
    /// `update` or `deletion`.
    #[serde(rename = "Category")]
    pub category: ChangeCategory,
}

impl ChangeRecord {
    /// The numeric ID.
    pub fn number(&self) -> u64 {
        self.id.parse().unwrap_or(0)
    }
}

/// Which records of the change feed to return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeQuery {
    /// Start after this ID (forwards) or before it (backwards); `None`, or 0 backwards, is
    /// the newest end (`change_id=-1`, or `change_id=0` with negative `records`).
    pub change_id: Option<u64>,
    /// How many records at most.
    pub records: usize,
    /// Whether to page backwards from `change_id`.
    pub backwards: bool,
}

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file would not increase its role's stored version (replay or concurrent publish).
    #[error("{role} version {version} is not newer than the stored version {stored}")]
    OldVersion {
        /// The role.
        role: RoleName,
        /// The version offered.
        version: u64,
        /// The version stored.
        stored: u64,
    },
    /// The disk failed, or the files are not as this store wrote them.
    #[error("trust data storage failed: {what}")]
    Io {
        /// What was being done.
        what: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// Storage for Notary trust data, one directory-like namespace per GUN.
pub trait TrustDataStore: Send + Sync + 'static {
    /// The current version of each role, empty when the GUN has no trust data.
    fn current(&self, gun: &ServerGun) -> Result<CurrentVersions, StoreError>;

    /// A role's file of `version`; none above the role's current version (the files of a
    /// publish that failed or has not committed yet are never served).
    fn by_version(
        &self,
        gun: &ServerGun,
        role: &RoleName,
        version: u64,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// A role's file with this checksum; none when its version is above the current one.
    fn by_checksum(
        &self,
        gun: &ServerGun,
        role: &RoleName,
        checksum: &Checksum,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores `files` and makes them current, all or nothing; each must be newer than its
    /// role's current version. Then records `change`, if any: once the files are current,
    /// a failure to record it is logged, not returned.
    fn commit(
        &self,
        gun: &ServerGun,
        files: &[RoleFile],
        change: Option<&NewChange>,
    ) -> Result<(), StoreError>;

    /// Removes the GUN's metadata and records `change` (a failure to record it is logged,
    /// as for [`TrustDataStore::commit`]); `false` when there was none. Server keys are kept,
    /// as notary-signer keeps them.
    fn delete(&self, gun: &ServerGun, change: &NewChange) -> Result<bool, StoreError>;

    /// The ID of the key the server hands out for `role`, if it made one.
    fn active_key(&self, gun: &ServerGun, role: ServerRole) -> Result<Option<KeyId>, StoreError>;

    /// A private key (DER PKCS#8) the server made for `role`, by ID.
    fn private_key(
        &self,
        gun: &ServerGun,
        role: ServerRole,
        id: &KeyId,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Stores a new private key for `role` and makes it the active one. Older keys are kept:
    /// they sign until a root naming the new key is published.
    fn add_key(
        &self,
        gun: &ServerGun,
        role: ServerRole,
        id: &KeyId,
        pkcs8: &[u8],
    ) -> Result<(), StoreError>;

    /// Change feed records of one GUN, or of all when `gun` is `None`, in ID order.
    fn changes(
        &self,
        gun: Option<&ServerGun>,
        query: ChangeQuery,
    ) -> Result<Vec<ChangeRecord>, StoreError>;
}

/// The current file of `role`, if any.
pub fn current_file(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    current: &CurrentVersions,
    role: &RoleName,
) -> Result<Option<Vec<u8>>, StoreError> {
    match current.get(role) {
        Some(version) => store.by_version(gun, role, *version),
        None => Ok(None),
    }
}
