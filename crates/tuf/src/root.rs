//! The root role (`tuf/data/root.go`, TUF 1.0 §4.3): the keys and thresholds of the four
//! top-level roles.
//!
//! Notary v1 writes `_type: "Root"`, no `spec_version`, and keys without `scheme`; the root
//! role's keys are usually `ecdsa-x509` self-signed certificates whose common name is the
//! GUN. Every base role must be specified with a threshold of at least 1 and keys that the
//! `keys` map holds (`isValidRootStructure`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::{Error, Rejection};
use crate::keys::PublicKey;
use crate::signed::{Metadata, RawCommon, RoleName, from_value, parse_keys};

/// A role's key IDs and threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleKeys {
    /// The IDs of the keys that may sign for the role.
    pub key_ids: Vec<String>,
    /// How many distinct keys must sign.
    pub threshold: u32,
}

impl RoleKeys {
    /// The role's key with this ID out of `keys`, or [`Rejection::UnknownKey`].
    pub fn lookup<'k>(
        &self,
        keys: &'k BTreeMap<String, PublicKey>,
        key_id: &str,
    ) -> Result<&'k PublicKey, Rejection> {
        if !self.key_ids.iter().any(|id| id == key_id) {
            return Err(Rejection::UnknownKey);
        }
        keys.get(key_id).ok_or(Rejection::UnknownKey)
    }

    /// The role's keys, in `key_ids` order.
    pub fn keys<'k>(&self, keys: &'k BTreeMap<String, PublicKey>) -> Vec<&'k PublicKey> {
        self.key_ids.iter().filter_map(|id| keys.get(id)).collect()
    }
}

#[derive(Deserialize)]
pub(crate) struct RawRoleKeys {
    keyids: Vec<String>,
    threshold: u32,
}

impl RawRoleKeys {
    /// Checks the threshold and that every key ID is among `keys`.
    pub(crate) fn check(
        self,
        file: &RoleName,
        name: &str,
        keys: &BTreeMap<String, PublicKey>,
    ) -> Result<RoleKeys, Error> {
        if self.threshold == 0 {
            return Err(Error::ZeroThreshold {
                role: file.clone(),
                name: name.to_string(),
            });
        }
        if let Some(missing) = self.keyids.iter().find(|id| !keys.contains_key(*id)) {
            return Err(Error::RoleKeyMissing {
                role: file.clone(),
                name: name.to_string(),
                key_id: missing.clone(),
            });
        }
        Ok(RoleKeys {
            key_ids: self.keyids,
            threshold: self.threshold,
        })
    }
}

/// The four top-level roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseRoles {
    /// `root`.
    pub root: RoleKeys,
    /// `targets`.
    pub targets: RoleKeys,
    /// `snapshot`.
    pub snapshot: RoleKeys,
    /// `timestamp`.
    pub timestamp: RoleKeys,
}

/// Root metadata.
#[derive(Debug, Clone)]
pub struct Root {
    /// The version.
    pub version: u64,
    /// The expiry.
    pub expires: OffsetDateTime,
    /// `consistent_snapshot` (Notary writes false but reads by checksum anyway).
    pub consistent_snapshot: bool,
    /// Every key, by ID (each checked to be its own ID).
    pub keys: BTreeMap<String, PublicKey>,
    /// The base roles.
    pub roles: BaseRoles,
}

#[derive(Deserialize)]
struct RawRoot {
    #[serde(flatten)]
    common: RawCommon,
    #[serde(default)]
    consistent_snapshot: bool,
    keys: BTreeMap<String, Value>,
    roles: BTreeMap<String, RawRoleKeys>,
}

impl Metadata for Root {
    const TYPE: &'static str = "Root";
    const ROLE: &'static str = "root";

    fn from_signed(value: &Value, role: &RoleName) -> Result<Self, Error> {
        let raw: RawRoot = from_value(value, role)?;
        let (version, expires) = raw.common.check::<Root>(role)?;
        let keys = parse_keys(&raw.keys, role)?;
        let mut roles = raw.roles;
        let mut base = |name: &'static str| {
            roles
                .remove(name)
                .ok_or(Error::MissingBaseRole { missing: name })?
                .check(role, name, &keys)
        };
        let roles = BaseRoles {
            root: base("root")?,
            targets: base("targets")?,
            snapshot: base("snapshot")?,
            timestamp: base("timestamp")?,
        };
        Ok(Root {
            version,
            expires,
            consistent_snapshot: raw.consistent_snapshot,
            keys,
            roles,
        })
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}
