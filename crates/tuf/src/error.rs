//! Why metadata was refused: one variant per rule, naming the rule and, for verification
//! failures, the TUF attack it stops.

use std::fmt;

use hallmark_x509::KeySpec;
use time::OffsetDateTime;

use crate::canonical::CanonicalError;
use crate::keys::KeyType;
use crate::signed::RoleName;

/// Why a key object in a `keys` map is unusable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Key IDs are 64 lowercase hex digits.
    #[error("key ID {0:?} is not 64 lowercase hex digits")]
    MalformedKeyId(String),
    /// Not one of the key types Notary v1 writes.
    #[error("key type {0:?} is not ecdsa, ecdsa-x509, rsa, rsa-x509 or ed25519")]
    UnsupportedKeyType(String),
    /// The object lacks `keytype` or `keyval.public`.
    #[error("key object lacks keytype or keyval.public")]
    MalformedKeyObject,
    /// Metadata carries public keys only; `private` must be null.
    #[error("key object carries a private key")]
    PrivateKeyInMetadata,
    /// `keyval.public` must be standard base64.
    #[error("keyval.public is not base64")]
    PublicNotBase64,
    /// Ed25519 public keys are 32 bytes.
    #[error("ed25519 public key has {0} bytes instead of 32")]
    Ed25519Length(usize),
    /// The certificate of an `*-x509` key does not parse.
    #[error("the key's certificate does not parse")]
    MalformedCertificate(#[source] hallmark_x509::Error),
    /// The DER public key (or the certificate's) does not parse or has an unsupported size.
    #[error("the public key does not parse")]
    MalformedPublicKey(#[source] hallmark_x509::Error),
    /// The key inside does not belong to the declared type (an RSA key in an `ecdsa` key).
    #[error("key type {key_type} holds a {found} key")]
    KeyTypeMismatch {
        /// The declared type.
        key_type: KeyType,
        /// What the public key is.
        found: KeySpec,
    },
}

/// Why one signature did not count toward a role's threshold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// The key ID is not one of the role's keys.
    UnknownKey,
    /// The signature method does not belong to the key type (`ecdsa` with an ed25519 key).
    MethodKeyMismatch {
        /// The method named by the signature.
        method: String,
        /// The key's type.
        key_type: KeyType,
    },
    /// A method this verifier (or Notary) cannot check.
    UnsupportedMethod(String),
    /// The signature does not verify over the canonical `signed` bytes.
    BadSignature,
    /// Another signature by the same key was already counted (under this key ID or another
    /// ID of the same key).
    DuplicateKey,
    /// A root key that Notary would not trust for this repository.
    UnusableRootKey(RootKeyProblem),
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::UnknownKey => f.write_str("not a key of the role"),
            Rejection::MethodKeyMismatch { method, key_type } => {
                write!(f, "method {method} does not fit key type {key_type}")
            }
            Rejection::UnsupportedMethod(m) => write!(f, "unsupported signature method {m:?}"),
            Rejection::BadSignature => f.write_str("signature does not verify"),
            Rejection::DuplicateKey => f.write_str("second signature by the same key"),
            Rejection::UnusableRootKey(problem) => write!(f, "unusable root key: {problem}"),
        }
    }
}

/// Why a root role key cannot vouch for a root (`trustpinning/certs.go`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RootKeyProblem {
    /// Root keys must be certificates (`ecdsa-x509` or `rsa-x509`).
    NotCertificate,
    /// The key's first certificate is a CA certificate, not a leaf.
    CaCertificate,
    /// The certificate's common name is not exactly the GUN (no `prefix*` wildcards).
    CommonNameMismatch {
        /// The certificate's common name.
        common_name: String,
    },
    /// The certificate is outside its validity period.
    CertificateNotValidAt {
        /// Start of validity.
        not_before: OffsetDateTime,
        /// End of validity.
        not_after: OffsetDateTime,
    },
    /// The key is not the one the user pinned.
    NotPinned,
}

impl fmt::Display for RootKeyProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootKeyProblem::NotCertificate => f.write_str("not a certificate"),
            RootKeyProblem::CaCertificate => f.write_str("a CA certificate, not a leaf"),
            RootKeyProblem::CommonNameMismatch { common_name } => {
                write!(f, "certificate common name {common_name:?} is not the GUN")
            }
            RootKeyProblem::CertificateNotValidAt {
                not_before,
                not_after,
            } => write!(f, "certificate valid only from {not_before} to {not_after}"),
            RootKeyProblem::NotPinned => f.write_str("not the pinned key"),
        }
    }
}

/// One signature that did not count, by the key ID it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedSignature {
    /// The signature's `keyid`, as written.
    pub key_id: String,
    /// Why it did not count.
    pub rejection: Rejection,
}

/// The outcome of counting a role's signatures (TUF 1.0 §5.x "verify signatures").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureTally {
    /// Distinct keys of the role whose signature verified.
    pub valid: usize,
    /// How many were needed.
    pub threshold: u32,
    /// The key IDs whose signatures verified and counted, in file order (`valid` of them).
    pub counted: Vec<String>,
    /// Every signature that did not count.
    pub rejected: Vec<RejectedSignature>,
}

impl SignatureTally {
    /// Whether any rejected signature failed for `rejection`.
    pub fn has(&self, rejection: &Rejection) -> bool {
        self.rejected.iter().any(|r| &r.rejection == rejection)
    }
}

impl fmt::Display for SignatureTally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} valid, threshold {}", self.valid, self.threshold)?;
        for r in &self.rejected {
            let short = r.key_id.get(..12).unwrap_or(&r.key_id);
            write!(f, "; key {short}: {}", r.rejection)?;
        }
        Ok(())
    }
}

/// Why metadata was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file is not JSON of the shape the role requires.
    #[error("{role}: not valid {role} metadata JSON")]
    Json {
        /// The role whose file it is.
        role: RoleName,
        /// What serde found.
        #[source]
        source: serde_json::Error,
    },
    /// `signed` has no canonical form, so no signature can cover it.
    #[error("{role}: signed part has no canonical JSON form")]
    NotCanonical {
        /// The role.
        role: RoleName,
        /// Which value.
        #[source]
        source: CanonicalError,
    },
    /// `_type` is not the role's (`Root`, `Targets`, `Snapshot`, `Timestamp`).
    #[error("{role}: _type is {found:?}, expected {expected:?}")]
    WrongType {
        /// The role.
        role: RoleName,
        /// The `_type` Notary writes for it.
        expected: &'static str,
        /// The `_type` found.
        found: String,
    },
    /// Versions start at 1.
    #[error("{role}: version 0 is invalid; versions start at 1")]
    VersionZero {
        /// The role.
        role: RoleName,
    },
    /// `expires` is not an RFC 3339 time.
    #[error("{role}: expires {value:?} is not an RFC 3339 time")]
    MalformedExpires {
        /// The role.
        role: RoleName,
        /// The value found.
        value: String,
    },
    /// A key in a `keys` map is unusable.
    #[error("{role}: key {key_id} is invalid")]
    Key {
        /// The role whose file lists the key.
        role: RoleName,
        /// The ID it is listed under.
        key_id: String,
        /// Why.
        #[source]
        source: KeyError,
    },
    /// A key is listed under an ID that is not its own (TUF 1.0 §4.2: IDs are key hashes).
    #[error("{role}: key listed as {listed} has ID {computed}")]
    KeyIdMismatch {
        /// The role whose file lists the key.
        role: RoleName,
        /// The map key.
        listed: String,
        /// SHA-256 of the canonical key object.
        computed: String,
    },
    /// Root must specify root, targets, snapshot and timestamp.
    #[error("root: no {missing} role specification")]
    MissingBaseRole {
        /// The missing role.
        missing: &'static str,
    },
    /// A role's threshold must be at least 1.
    #[error("{role}: threshold 0 for role {name}")]
    ZeroThreshold {
        /// The file that declares it.
        role: RoleName,
        /// The role with the threshold.
        name: String,
    },
    /// A role names a key ID that is not in the `keys` map.
    #[error("{role}: role {name} names key {key_id}, which is not among the keys")]
    RoleKeyMissing {
        /// The file that declares it.
        role: RoleName,
        /// The role.
        name: String,
        /// The missing key.
        key_id: String,
    },
    /// A hash is not base64 of the right length for its algorithm.
    #[error("{file}: {algorithm} hash is not base64 of a {algorithm} digest")]
    MalformedHash {
        /// The file described.
        file: String,
        /// The algorithm.
        algorithm: &'static str,
    },
    /// Hashes must include sha256 or sha512.
    #[error("{file}: no sha256 or sha512 hash")]
    NoKnownHash {
        /// The file described.
        file: String,
    },
    /// A role name that Notary would refuse (`targets/<x>` of `[-a-z0-9_/]`, clean path).
    #[error("role name {0:?} is not a valid Notary role")]
    InvalidRoleName(String),
    /// The meta entry a role requires is absent (snapshot: root and targets; timestamp:
    /// snapshot).
    #[error("{role}: meta lacks an entry for {file}")]
    MissingMeta {
        /// The file with the meta map.
        role: RoleName,
        /// The entry missing.
        file: String,
    },
    /// Fewer valid signatures than the role's threshold (TUF 1.0 §5.3.4, §5.4.2, §5.5.3,
    /// §5.6.3: arbitrary software and key compromise attacks).
    #[error("{role}: signatures do not meet the threshold ({tally})")]
    ThresholdNotMet {
        /// The role.
        role: RoleName,
        /// The count and each rejected signature.
        tally: SignatureTally,
    },
    /// A new root is not signed by a threshold of the trusted root's keys (TUF 1.0 §5.3.4).
    #[error("root v{version} is not signed by the trusted root v{trusted_version} ({tally})")]
    RootRotationNotSigned {
        /// The new root's version.
        version: u64,
        /// The trusted root's version.
        trusted_version: u64,
        /// The count against the trusted keys.
        tally: SignatureTally,
    },
    /// No root key matches the pinned key or certificate.
    #[error("root v{version} has no root key matching the pinned key")]
    RootNotPinned {
        /// The root's version.
        version: u64,
    },
    /// Metadata past its expiry (freeze attack, TUF 1.0 §5.3.10, §5.4.4, §5.5.6, §5.6.5).
    #[error("{role} expired at {expires} (freeze attack); now is {now}")]
    Expired {
        /// The role.
        role: RoleName,
        /// Its expiry.
        expires: OffsetDateTime,
        /// The verification time.
        now: OffsetDateTime,
    },
    /// A version older than the trusted one (rollback attack, TUF 1.0 §5.3.5, §5.4.3,
    /// §5.5.4, §5.6.4).
    #[error("{role} version {version} is lower than the trusted version {trusted} (rollback)")]
    Rollback {
        /// The role.
        role: RoleName,
        /// The version offered.
        version: u64,
        /// The version trusted before.
        trusted: u64,
    },
    /// `<n>.root.json` holds another version (TUF 1.0 §5.3.5).
    #[error("{expected}.root.json holds root version {found}")]
    RootVersionMismatch {
        /// The version its name promises.
        expected: u64,
        /// The version inside.
        found: u64,
    },
    /// The newest root is more versions past the trusted one than one update rotates
    /// through (python-tuf's `max_root_rotations`, 32): a server claiming a huge
    /// version would otherwise make the client fetch and check every version in between.
    #[error(
        "root v{newest} is {} versions past the trusted root v{trusted}, more than the \
         {cap} rotations one update follows; check the server, and if the repository really \
         rotated its root that often, remove the trusted state to trust the newest root anew \
         (with its root key pinned)",
        newest.saturating_sub(*trusted)
    )]
    TooManyRootRotations {
        /// The trusted root's version.
        trusted: u64,
        /// The newest root's version.
        newest: u64,
        /// The most rotations followed per update.
        cap: u64,
    },
    /// A root between the trusted one and the newest is absent, so the chain is broken.
    #[error("{version}.root.json is needed to rotate to the newest root but is absent")]
    MissingRootVersion {
        /// The version needed.
        version: u64,
    },
    /// File bytes differ from the hash its parent records (mix-and-match attack, TUF 1.0
    /// §5.5.2, §5.6.2).
    #[error("{file}: {algorithm} hash does not match the one in {by} (mix-and-match)")]
    HashMismatch {
        /// The file checked.
        file: RoleName,
        /// The role whose meta records the hash.
        by: RoleName,
        /// The algorithm that differs.
        algorithm: &'static str,
    },
    /// File length differs from the one its parent records (endless data and mix-and-match).
    #[error("{file}: {actual} bytes, but {by} records {expected}")]
    LengthMismatch {
        /// The file checked.
        file: RoleName,
        /// The role whose meta records the length.
        by: RoleName,
        /// The recorded length.
        expected: u64,
        /// The actual length.
        actual: u64,
    },
    /// A delegation named by its parent and listed in snapshot has no file.
    #[error("{role}: listed in snapshot but its metadata is absent")]
    MissingMetadata {
        /// The role.
        role: RoleName,
    },
    /// A delegated role must be a direct child of the role delegating it.
    #[error("{parent} delegates {name}, which is not its direct child")]
    DelegationNotChild {
        /// The delegating role.
        parent: RoleName,
        /// The delegated name.
        name: RoleName,
    },
    /// A delegated role signed a target outside the path prefixes it was given (TUF 1.0
    /// §5.6.7.2: a delegation is trusted only for its paths).
    #[error("{role} signs target {target:?} outside its delegated paths")]
    TargetOutsideDelegatedPaths {
        /// The delegated role.
        role: RoleName,
        /// The target name.
        target: String,
    },
    /// The GUN cannot name a trust directory entry.
    #[error("GUN {0:?} is empty, absolute or has . or .. components")]
    InvalidGun(String),
    /// A trust directory file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A trust directory file is larger than any Notary metadata.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The file.
        path: std::path::PathBuf,
        /// The limit.
        limit: u64,
    },
}
