//! Notary v1's dialect of TUF metadata (Docker Content Trust): parsing and verification,
//! the first part of a bridge from Notary v1 trust data.
//!
//! Notary v1 is TUF 1.0 with its own wire format (reference notes in
//! `shared/reference/notary-v1.md`): capitalised `_type`, no `spec_version`, RFC 3339 expiry
//! with nanoseconds, base64 instead of hex, certificate keys (`ecdsa-x509`), a `method` on
//! every signature, and delegation `paths` that are string prefixes. Neither tough nor
//! python-tuf reads it, hence this crate.
//!
//! - [`canonical`]: the canonical JSON the signatures cover.
//! - [`keys`]: key types, key IDs and signature methods.
//! - [`signed`]: the signed envelope, role names, hashes and file meta.
//! - [`root`], [`targets`], [`snapshot`], [`timestamp`]: the four roles' metadata.
//! - [`client`]: the TUF client workflow (root rotation, timestamp, snapshot, targets,
//!   delegations) and the signed targets it yields, as Docker resolves them.
//! - [`trust_dir`]: reading the notary/docker client cache, the only I/O here.
//! - [`sign`] and [`update`]: what a Notary server needs: signing snapshot and timestamp
//!   with keys it holds, and checking a published update by the client's rules.
//!
//! Verification is pure: the caller supplies the files, the time and what it trusted
//! before. This crate does no network I/O.

pub mod canonical;
pub mod client;
pub mod error;
pub mod gun;
pub mod keys;
pub mod root;
pub mod sign;
pub mod signed;
pub mod snapshot;
pub mod targets;
pub mod timestamp;
pub mod trust_dir;
pub mod update;

pub use client::{RepositoryFiles, RootPin, SignedTarget, TrustedState, Verified, Verifier};
pub use error::{Error, KeyError, RejectedSignature, Rejection, RootKeyProblem, SignatureTally};
pub use gun::Gun;
pub use keys::{KeyId, KeyType, PublicKey, SignatureMethod};
pub use root::Root;
pub use sign::{ServerKey, SignError};
pub use signed::{FileMeta, Hashes, RoleName, Signed};
pub use snapshot::Snapshot;
pub use targets::Targets;
pub use timestamp::Timestamp;
pub use trust_dir::TrustDir;
pub use update::UpdateCheck;
