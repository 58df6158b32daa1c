//! Signing metadata with keys a Notary server holds (`signed/sign.go`, `server/snapshot`,
//! `server/timestamp`): the snapshot and timestamp roles a server signs for its clients.
//!
//! Keys are ECDSA P-256 (`keytype: "ecdsa"`, a DER `SubjectPublicKeyInfo`), signing with the
//! `ecdsa` method: SHA-256 and a raw r‖s signature, as Notary's signer does for ECDSA keys.
//! Ed25519 would match notary-server's local trust service, but the one crypto backend
//! (through `hallmark-x509`) holds ECDSA and RSA private keys only.
//!
//! A file is written as Notary writes it: `{"signed":<canonical JSON>,"signatures":[...]}`,
//! the `signed` bytes being exactly the canonical bytes the signatures cover.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_x509::KeySpec;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::canonical::{CanonicalError, to_canonical};
use crate::keys::{KeyType, PublicKey};
use crate::signed::RoleName;

/// Why a key could not be made, read or used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignError {
    /// The crypto backend refused to generate, encode or use the key.
    #[error("server key unusable")]
    Key(#[source] hallmark_x509::Error),
    /// A PKCS#8 key that is not ECDSA P-256.
    #[error("server key is {0}, expected an ECDSA P-256 key")]
    WrongKeySpec(KeySpec),
    /// The public half does not form a Notary key object.
    #[error("server public key unusable")]
    PublicKey(#[source] crate::error::KeyError),
    /// The metadata to sign has no canonical form.
    #[error("metadata has no canonical JSON form")]
    NotCanonical(#[source] CanonicalError),
    /// An expiry outside what RFC 3339 can write.
    #[error("expiry {0} cannot be written as RFC 3339")]
    Expires(OffsetDateTime),
}

/// A private ECDSA P-256 key held by the server, with its Notary public key.
#[derive(Debug)]
pub struct ServerKey {
    key: hallmark_x509::SigningKey,
    public: PublicKey,
}

impl ServerKey {
    /// A fresh key.
    pub fn generate() -> Result<Self, SignError> {
        let key = hallmark_x509::SigningKey::generate(KeySpec::EcP256).map_err(SignError::Key)?;
        Self::from_key(key)
    }

    /// A key from its DER PKCS#8 encoding (as [`ServerKey::to_pkcs8`] writes it).
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, SignError> {
        let key = hallmark_x509::SigningKey::from_pkcs8_der(der).map_err(SignError::Key)?;
        Self::from_key(key)
    }

    fn from_key(key: hallmark_x509::SigningKey) -> Result<Self, SignError> {
        if key.spec() != KeySpec::EcP256 {
            return Err(SignError::WrongKeySpec(key.spec()));
        }
        let spki = key
            .public_key()
            .map_err(SignError::Key)?
            .spki_der()
            .to_vec();
        let public = PublicKey::new(KeyType::Ecdsa, spki).map_err(SignError::PublicKey)?;
        Ok(ServerKey { key, public })
    }

    /// The DER PKCS#8 encoding of the private key.
    pub fn to_pkcs8(&self) -> Result<Vec<u8>, SignError> {
        self.key.to_pkcs8_der().map_err(SignError::Key)
    }

    /// The public key as it appears in root metadata.
    pub fn public(&self) -> &PublicKey {
        &self.public
    }

    /// The key object `{"keytype","keyval":{"public","private":null}}`, as the key endpoints
    /// return it and root metadata lists it.
    pub fn key_object(&self) -> Value {
        json!({
            "keytype": self.public.key_type().as_str(),
            "keyval": {"private": null, "public": STANDARD.encode(self.public.public())},
        })
    }

    fn signature(&self, canonical: &[u8]) -> Result<Value, SignError> {
        let sig = self.key.sign(canonical).map_err(SignError::Key)?;
        Ok(json!({
            "keyid": self.public.id().as_str(),
            "method": "ecdsa",
            "sig": STANDARD.encode(sig),
        }))
    }
}

/// Signs `signed` with every key in `keys` and returns the file's bytes.
pub fn sign_metadata(signed: &Value, keys: &[&ServerKey]) -> Result<Vec<u8>, SignError> {
    let canonical = to_canonical(signed).map_err(SignError::NotCanonical)?;
    let signatures = keys
        .iter()
        .map(|key| key.signature(&canonical))
        .collect::<Result<Vec<_>, _>>()?;
    // Strings only (key IDs, method names, base64): the canonical form always exists.
    let signatures = to_canonical(&Value::Array(signatures)).map_err(SignError::NotCanonical)?;
    let mut out = Vec::with_capacity(canonical.len() + signatures.len() + 32);
    out.extend_from_slice(b"{\"signed\":");
    out.extend_from_slice(&canonical);
    out.extend_from_slice(b",\"signatures\":");
    out.extend_from_slice(&signatures);
    out.push(b'}');
    Ok(out)
}

/// `expires` as Notary writes it: RFC 3339 in UTC.
pub fn format_expires(expires: OffsetDateTime) -> Result<String, SignError> {
    expires
        .to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .map_err(|_| SignError::Expires(expires))
}

/// `{"hashes":{"sha256","sha512"},"length"}` of a file, as snapshot and timestamp record it.
pub fn file_meta(bytes: &[u8]) -> Value {
    use aws_lc_rs::digest::{SHA256, SHA512, digest};
    json!({
        "hashes": {
            "sha256": STANDARD.encode(digest(&SHA256, bytes)),
            "sha512": STANDARD.encode(digest(&SHA512, bytes)),
        },
        "length": bytes.len(),
    })
}

/// The `signed` object of a snapshot listing `files` (root, targets and delegations).
pub fn snapshot_metadata(
    version: u64,
    expires: OffsetDateTime,
    files: &BTreeMap<RoleName, &[u8]>,
) -> Result<Value, SignError> {
    let meta: serde_json::Map<String, Value> = files
        .iter()
        .map(|(role, bytes)| (role.as_str().to_string(), file_meta(bytes)))
        .collect();
    Ok(json!({
        "_type": "Snapshot",
        "expires": format_expires(expires)?,
        "meta": meta,
        "version": version,
    }))
}

/// The `signed` object of a timestamp naming the snapshot file `snapshot`.
pub fn timestamp_metadata(
    version: u64,
    expires: OffsetDateTime,
    snapshot: &[u8],
) -> Result<Value, SignError> {
    Ok(json!({
        "_type": "Timestamp",
        "expires": format_expires(expires)?,
        "meta": {"snapshot": file_meta(snapshot)},
        "version": version,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // fixtures fail loudly

    use super::*;
    use crate::root::RoleKeys;
    use crate::signed::Signed;
    use crate::snapshot::Snapshot;
    use crate::timestamp::Timestamp;

    fn later() -> OffsetDateTime {
        OffsetDateTime::now_utc() + time::Duration::days(14)
    }

    fn role_of(key: &ServerKey) -> (RoleKeys, BTreeMap<String, PublicKey>) {
        let id = key.public().id().to_string();
        let keys = BTreeMap::from([(id.clone(), key.public().clone())]);
        let role = RoleKeys {
            key_ids: vec![id],
            threshold: 1,
        };
        (role, keys)
    }

    #[test]
    fn signed_timestamp_parses_and_verifies() {
        let key = ServerKey::generate().unwrap();
        let snapshot = b"snapshot bytes";
        let signed = timestamp_metadata(3, later(), snapshot).unwrap();
        let file = sign_metadata(&signed, &[&key]).unwrap();

        let parsed = Signed::<Timestamp>::parse(&file).unwrap();
        assert_eq!(parsed.signed.version, 3);
        let (role, keys) = role_of(&key);
        let tally = parsed.tally(1, |id| role.lookup(&keys, id));
        assert_eq!(tally.valid, 1, "{tally}");
        parsed
            .signed
            .snapshot
            .check(snapshot, &RoleName::snapshot(), &RoleName::timestamp())
            .unwrap();
    }

    #[test]
    fn snapshot_records_each_file() {
        let key = ServerKey::generate().unwrap();
        let files = BTreeMap::from([
            (RoleName::root(), b"root".as_slice()),
            (RoleName::targets(), b"targets".as_slice()),
        ]);
        let signed = snapshot_metadata(1, later(), &files).unwrap();
        let parsed = Signed::<Snapshot>::parse(&sign_metadata(&signed, &[&key]).unwrap()).unwrap();
        let meta = parsed.signed.meta_for(&RoleName::targets()).unwrap();
        meta.check(b"targets", &RoleName::targets(), &RoleName::snapshot())
            .unwrap();
    }

    #[test]
    fn pkcs8_round_trip_keeps_the_key_id() {
        let key = ServerKey::generate().unwrap();
        let again = ServerKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(key.public().id(), again.public().id());
        let object = PublicKey::from_json(&key.key_object()).unwrap();
        assert_eq!(object.id(), key.public().id());
    }
}
