//! The signed envelope shared by every role (`tuf/data/types.go` `Signed`, TUF 1.0 §4.2),
//! and the pieces every role uses: role names, hashes, file meta, version and expiry.
//!
//! A file is `{"signed": {...}, "signatures": [{"keyid", "method", "sig"}]}`. It is parsed
//! once: `signed` becomes a JSON value, its canonical bytes (what signatures cover) are
//! computed from that value, and the typed form is read from the same value, so what is
//! verified and what is used cannot differ. The exact file bytes are kept for the hashes in
//! snapshot and timestamp meta.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::canonical::to_canonical;
use crate::error::{Error, RejectedSignature, Rejection, SignatureTally};
use crate::keys::{PublicKey, SignatureMethod};

/// A role name: `root`, `targets`, `snapshot`, `timestamp`, or a delegation `targets/<x>`
/// (Notary: `[-a-z0-9_/]`, shorter than 256 bytes, a clean path).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RoleName(String);

impl RoleName {
    /// `root`.
    pub fn root() -> Self {
        RoleName("root".into())
    }

    /// `targets`.
    pub fn targets() -> Self {
        RoleName("targets".into())
    }

    /// `snapshot`.
    pub fn snapshot() -> Self {
        RoleName("snapshot".into())
    }

    /// `timestamp`.
    pub fn timestamp() -> Self {
        RoleName("timestamp".into())
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this is a delegated role (`targets/...`).
    pub fn is_delegation(&self) -> bool {
        self.0.starts_with("targets/")
    }

    /// The role that may delegate this one: everything before the last `/`.
    pub fn parent(&self) -> Option<RoleName> {
        let (parent, _) = self.0.rsplit_once('/')?;
        Some(RoleName(parent.to_string()))
    }
}

impl FromStr for RoleName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if matches!(s, "root" | "targets" | "snapshot" | "timestamp") {
            return Ok(RoleName(s.to_string()));
        }
        let charset = s
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'/'));
        let clean = s.split('/').all(|part| !part.is_empty());
        if s.starts_with("targets/") && s.len() < 256 && charset && clean {
            Ok(RoleName(s.to_string()))
        } else {
            Err(Error::InvalidRoleName(s.to_string()))
        }
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One signature of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key ID it names, as written.
    pub key_id: String,
    /// The signature method.
    pub method: SignatureMethod,
    /// The decoded signature bytes.
    pub sig: Vec<u8>,
}

#[derive(Deserialize)]
struct RawSignature {
    keyid: String,
    method: String,
    #[serde(deserialize_with = "base64_bytes")]
    sig: Vec<u8>,
}

#[derive(Deserialize)]
struct RawEnvelope {
    signed: Value,
    signatures: Vec<RawSignature>,
}

fn base64_bytes<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
    let s = String::deserialize(d)?;
    STANDARD
        .decode(s.as_bytes())
        .map_err(|_| serde::de::Error::custom("signature is not base64"))
}

/// A role's typed `signed` object.
pub trait Metadata: Sized {
    /// `_type` as Notary writes it (`Root`, `Targets`, `Snapshot`, `Timestamp`).
    const TYPE: &'static str;
    /// The role a file of this type belongs to unless it is a delegation.
    const ROLE: &'static str;

    /// Reads the typed form from the `signed` value of the file of `role`.
    fn from_signed(value: &Value, role: &RoleName) -> Result<Self, Error>;

    /// The version.
    fn version(&self) -> u64;

    /// The expiry.
    fn expires(&self) -> OffsetDateTime;
}

/// A parsed metadata file: the typed `signed` object, its signatures, its canonical bytes
/// and the file's exact bytes.
#[derive(Debug, Clone)]
pub struct Signed<T> {
    /// The typed `signed` object.
    pub signed: T,
    /// The signatures, in file order.
    pub signatures: Vec<Signature>,
    role: RoleName,
    canonical: Vec<u8>,
    bytes: Vec<u8>,
}

impl<T: Metadata> Signed<T> {
    /// Parses the file of the role `T` belongs to.
    pub fn parse(bytes: &[u8]) -> Result<Self, Error> {
        // ROLE is one of the four base role names.
        Self::parse_role(bytes, RoleName(T::ROLE.to_string()))
    }

    /// Parses the file of `role` (a delegation's name for delegated targets).
    pub fn parse_role(bytes: &[u8], role: RoleName) -> Result<Self, Error> {
        let envelope: RawEnvelope =
            serde_json::from_slice(bytes).map_err(|source| Error::Json {
                role: role.clone(),
                source,
            })?;
        let canonical = to_canonical(&envelope.signed).map_err(|source| Error::NotCanonical {
            role: role.clone(),
            source,
        })?;
        let signed = T::from_signed(&envelope.signed, &role)?;
        let signatures = envelope
            .signatures
            .into_iter()
            .map(|s| Signature {
                key_id: s.keyid,
                method: SignatureMethod::parse(&s.method),
                sig: s.sig,
            })
            .collect();
        Ok(Signed {
            signed,
            signatures,
            role,
            canonical,
            bytes: bytes.to_vec(),
        })
    }

    /// The role this file belongs to.
    pub fn role(&self) -> &RoleName {
        &self.role
    }

    /// The file's exact bytes (what snapshot and timestamp hash).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The canonical JSON of `signed` (what the signatures cover).
    pub fn canonical(&self) -> &[u8] {
        &self.canonical
    }

    /// Counts the signatures made by keys that `lookup` accepts, each key once
    /// (`signed.VerifySignatures`): once per key ID, and once per key however many IDs it is
    /// listed under (a plain key and a certificate of it, or two encodings of a certificate),
    /// so that one key cannot meet a threshold of two.
    pub fn tally<'k>(
        &self,
        threshold: u32,
        lookup: impl Fn(&str) -> Result<&'k PublicKey, Rejection>,
    ) -> SignatureTally {
        let mut ids = HashSet::new();
        let mut materials = HashSet::new();
        let mut counted = Vec::new();
        let mut rejected = Vec::new();
        for signature in &self.signatures {
            let outcome = if ids.contains(&signature.key_id) {
                Err(Rejection::DuplicateKey)
            } else {
                lookup(&signature.key_id).and_then(|key| {
                    let material = key.material_id();
                    if materials.contains(&material) {
                        return Err(Rejection::DuplicateKey);
                    }
                    key.verify(&signature.method, &self.canonical, &signature.sig)?;
                    Ok(material)
                })
            };
            match outcome {
                Ok(material) => {
                    ids.insert(signature.key_id.clone());
                    materials.insert(material);
                    counted.push(signature.key_id.clone());
                }
                Err(rejection) => rejected.push(RejectedSignature {
                    key_id: signature.key_id.clone(),
                    rejection,
                }),
            }
        }
        SignatureTally {
            valid: counted.len(),
            threshold,
            counted,
            rejected,
        }
    }
}

/// `_type`, `version` and `expires`, checked for every role.
#[derive(Deserialize)]
pub(crate) struct RawCommon {
    #[serde(rename = "_type")]
    kind: String,
    version: u64,
    expires: String,
}

impl RawCommon {
    /// Checks `_type` and `version`, parses `expires`.
    pub(crate) fn check<T: Metadata>(
        self,
        role: &RoleName,
    ) -> Result<(u64, OffsetDateTime), Error> {
        if self.kind != T::TYPE {
            return Err(Error::WrongType {
                role: role.clone(),
                expected: T::TYPE,
                found: self.kind,
            });
        }
        if self.version == 0 {
            return Err(Error::VersionZero { role: role.clone() });
        }
        let expires = OffsetDateTime::parse(&self.expires, &Rfc3339).map_err(|_| {
            Error::MalformedExpires {
                role: role.clone(),
                value: self.expires.clone(),
            }
        })?;
        Ok((self.version, expires))
    }
}

/// Reads a typed raw form from `value`, reporting failures against `role`.
pub(crate) fn from_value<R: serde::de::DeserializeOwned>(
    value: &Value,
    role: &RoleName,
) -> Result<R, Error> {
    R::deserialize(value).map_err(|source| Error::Json {
        role: role.clone(),
        source,
    })
}

/// A file's hashes: Notary writes base64 sha256 and sha512; others are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hashes {
    sha256: Option<[u8; 32]>,
    sha512: Option<[u8; 64]>,
}

impl Hashes {
    /// Reads a `hashes` map; at least one of sha256 and sha512 is required
    /// (`data.CheckValidHashStructures`).
    pub fn from_map(map: &BTreeMap<String, String>, file: &str) -> Result<Self, Error> {
        let sha256 = decode_digest::<32>(map.get("sha256"), file, "sha256")?;
        let sha512 = decode_digest::<64>(map.get("sha512"), file, "sha512")?;
        if sha256.is_none() && sha512.is_none() {
            return Err(Error::NoKnownHash {
                file: file.to_string(),
            });
        }
        Ok(Hashes { sha256, sha512 })
    }

    /// The SHA-256 digest, if recorded.
    pub fn sha256(&self) -> Option<&[u8; 32]> {
        self.sha256.as_ref()
    }

    /// The SHA-512 digest, if recorded.
    pub fn sha512(&self) -> Option<&[u8; 64]> {
        self.sha512.as_ref()
    }

    /// Every recorded digest matches `bytes` (`data.CheckHashes`); else the failing algorithm.
    pub fn check(&self, bytes: &[u8]) -> Result<(), &'static str> {
        use aws_lc_rs::digest::{SHA256, SHA512, digest};
        if let Some(expected) = &self.sha256
            && digest(&SHA256, bytes).as_ref() != expected
        {
            return Err("sha256");
        }
        if let Some(expected) = &self.sha512
            && digest(&SHA512, bytes).as_ref() != expected.as_slice()
        {
            return Err("sha512");
        }
        Ok(())
    }
}

fn decode_digest<const N: usize>(
    value: Option<&String>,
    file: &str,
    algorithm: &'static str,
) -> Result<Option<[u8; N]>, Error> {
    let Some(value) = value else {
        return Ok(None);
    };
    let malformed = || Error::MalformedHash {
        file: file.to_string(),
        algorithm,
    };
    let bytes = STANDARD.decode(value.as_bytes()).map_err(|_| malformed())?;
    let digest: [u8; N] = bytes.try_into().map_err(|_| malformed())?;
    Ok(Some(digest))
}

/// What a parent records about a file: hashes and length (`data.FileMeta`). Notary's
/// snapshot and timestamp meta carry no version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileMeta {
    /// The file's hashes.
    pub hashes: Hashes,
    /// The file's length in bytes.
    pub length: u64,
    /// Free-form `custom` data, if any.
    pub custom: Option<Value>,
}

#[derive(Deserialize)]
pub(crate) struct RawFileMeta {
    hashes: BTreeMap<String, String>,
    length: u64,
    #[serde(default)]
    custom: Option<Value>,
}

impl RawFileMeta {
    pub(crate) fn into_meta(self, file: &str) -> Result<FileMeta, Error> {
        Ok(FileMeta {
            hashes: Hashes::from_map(&self.hashes, file)?,
            length: self.length,
            custom: self.custom,
        })
    }
}

impl FileMeta {
    /// Checks `bytes` of the file `file` against this meta recorded by `by`.
    pub fn check(&self, bytes: &[u8], file: &RoleName, by: &RoleName) -> Result<(), Error> {
        let actual = bytes.len() as u64;
        if actual != self.length {
            return Err(Error::LengthMismatch {
                file: file.clone(),
                by: by.clone(),
                expected: self.length,
                actual,
            });
        }
        self.hashes
            .check(bytes)
            .map_err(|algorithm| Error::HashMismatch {
                file: file.clone(),
                by: by.clone(),
                algorithm,
            })
    }
}

/// Reads a `keys` map: each key parses and is listed under its own ID.
pub(crate) fn parse_keys(
    keys: &BTreeMap<String, Value>,
    role: &RoleName,
) -> Result<BTreeMap<String, PublicKey>, Error> {
    let mut out = BTreeMap::new();
    for (listed, value) in keys {
        let key = PublicKey::from_json(value).map_err(|source| Error::Key {
            role: role.clone(),
            key_id: listed.clone(),
            source,
        })?;
        if key.id().as_str() != listed {
            return Err(Error::KeyIdMismatch {
                role: role.clone(),
                listed: listed.clone(),
                computed: key.id().to_string(),
            });
        }
        out.insert(listed.clone(), key);
    }
    Ok(out)
}
