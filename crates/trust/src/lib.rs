//! Notary Project trust store and trust policy (OCI and blob) in the notation file formats.
//!
//! Everything a verifier must know before it looks at a signature lives here: which
//! certificates are trusted ([`trust_store`]), which statement applies to an artifact and how
//! strictly each check is enforced ([`policy`]), and where those files are
//! ([`config_dir`]). [`signing_keys`] is the signer's side of the same directory. The formats
//! and the validation messages are notation's, so one configuration directory serves both
//! tools.
//!
//! This crate reads and writes files; it does no network I/O and verifies no signature.

pub mod config_dir;
mod fs_util;
pub mod policy;
pub mod signing_keys;
pub mod trust_store;

pub use config_dir::{ConfigDir, ConfigDirError, KeyWriteError, PolicyFileError};
pub use policy::{
    Action, Actions, BlobPolicyInit, BlobStatement, BlobTrustPolicyDocument, Check, Level,
    OciPolicyInit, OciStatement, OciTrustPolicyDocument, PolicyError, PolicySelectionError,
    TrustPolicy, TrustedIdentity, VerifyTimestamp,
};
pub use signing_keys::{KeySuite, SigningKeys, SigningKeysError};
pub use trust_store::{StoreEntry, StoreType, TrustStore, TrustStoreError};
