//! The snapshot role (`tuf/data/snapshot.go`, TUF 1.0 §4.4): hashes and lengths of the root,
//! targets and delegation files of one consistent repository state.
//!
//! Notary's meta entries are `{hashes, length}` without a version, and must include `root`
//! and `targets` (`IsValidSnapshotStructure`).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::Error;
use crate::signed::{FileMeta, Metadata, RawCommon, RawFileMeta, RoleName, from_value};

/// Snapshot metadata.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The version.
    pub version: u64,
    /// The expiry.
    pub expires: OffsetDateTime,
    /// The meta of each file, by role name (`root`, `targets`, `targets/<x>`).
    pub meta: BTreeMap<String, FileMeta>,
}

impl Snapshot {
    /// The meta recorded for `role`'s file.
    pub fn meta_for(&self, role: &RoleName) -> Option<&FileMeta> {
        self.meta.get(role.as_str())
    }
}

#[derive(Deserialize)]
struct RawSnapshot {
    #[serde(flatten)]
    common: RawCommon,
    meta: BTreeMap<String, RawFileMeta>,
}

impl Metadata for Snapshot {
    const TYPE: &'static str = "Snapshot";
    const ROLE: &'static str = "snapshot";

    fn from_signed(value: &Value, role: &RoleName) -> Result<Self, Error> {
        let raw: RawSnapshot = from_value(value, role)?;
        let (version, expires) = raw.common.check::<Snapshot>(role)?;
        let meta = raw
            .meta
            .into_iter()
            .map(|(name, meta)| Ok((name.clone(), meta.into_meta(&name)?)))
            .collect::<Result<BTreeMap<_, _>, Error>>()?;
        for required in ["root", "targets"] {
            if !meta.contains_key(required) {
                return Err(Error::MissingMeta {
                    role: role.clone(),
                    file: required.to_string(),
                });
            }
        }
        Ok(Snapshot {
            version,
            expires,
            meta,
        })
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}
