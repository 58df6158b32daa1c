//! The timestamp role (`tuf/data/timestamp.go`, TUF 1.0 §4.6): the hashes and length of the
//! current snapshot file. Notary's server always signs it, usually with an ed25519 key, and
//! gives it 14 days.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::Error;
use crate::signed::{FileMeta, Metadata, RawCommon, RawFileMeta, RoleName, from_value};

/// Timestamp metadata.
#[derive(Debug, Clone)]
pub struct Timestamp {
    /// The version.
    pub version: u64,
    /// The expiry.
    pub expires: OffsetDateTime,
    /// The snapshot file's hashes and length.
    pub snapshot: FileMeta,
}

#[derive(Deserialize)]
struct RawTimestamp {
    #[serde(flatten)]
    common: RawCommon,
    meta: BTreeMap<String, RawFileMeta>,
}

impl Metadata for Timestamp {
    const TYPE: &'static str = "Timestamp";
    const ROLE: &'static str = "timestamp";

    fn from_signed(value: &Value, role: &RoleName) -> Result<Self, Error> {
        let raw: RawTimestamp = from_value(value, role)?;
        let (version, expires) = raw.common.check::<Timestamp>(role)?;
        let mut meta = raw.meta;
        let snapshot = meta.remove("snapshot").ok_or_else(|| Error::MissingMeta {
            role: role.clone(),
            file: "snapshot".to_string(),
        })?;
        Ok(Timestamp {
            version,
            expires,
            snapshot: snapshot.into_meta("snapshot")?,
        })
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}
