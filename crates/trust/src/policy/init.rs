//! Building minimal policy documents (`policy init`, `blob policy init`) and writing policy
//! files without clobbering an existing one.
//!
//! A built document goes through the same parser as an imported one, so `init` can never
//! write a document that `import` or `verify` would refuse.

use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use thiserror::Error;

use super::SUPPORTED_VERSION;
use super::blob::{BlobTrustPolicyDocument, RawBlobDocument, RawBlobStatement};
use super::error::PolicyError;
use super::level::Level;
use super::oci::{OciTrustPolicyDocument, RawOciDocument, RawOciStatement};
use super::statement::RawSignatureVerification;
use crate::fs_util::{WriteMode, write_atomic};

/// The content of a one-statement OCI policy.
#[derive(Debug, Clone)]
pub struct OciPolicyInit {
    /// Statement name.
    pub name: String,
    /// Registry scopes (`host[:port]/repository` or `*`).
    pub registry_scopes: Vec<String>,
    /// Verification level.
    pub level: Level,
    /// Trust stores as `type:name` (omitted for skip).
    pub trust_stores: Vec<String>,
    /// Trusted identities (`*` or `x509.subject: ...`; omitted for skip).
    pub trusted_identities: Vec<String>,
}

/// The content of a one-statement blob policy.
#[derive(Debug, Clone)]
pub struct BlobPolicyInit {
    /// Statement name.
    pub name: String,
    /// Verification level.
    pub level: Level,
    /// Trust stores as `type:name` (omitted for skip).
    pub trust_stores: Vec<String>,
    /// Trusted identities (omitted for skip).
    pub trusted_identities: Vec<String>,
    /// Mark the statement `globalPolicy: true`.
    pub global: bool,
}

impl OciPolicyInit {
    /// The document, pretty-printed and validated.
    pub fn build(&self) -> Result<OciTrustPolicyDocument, PolicyError> {
        let doc = RawOciDocument {
            version: SUPPORTED_VERSION.to_owned(),
            trust_policies: vec![RawOciStatement {
                name: self.name.clone(),
                registry_scopes: self.registry_scopes.clone(),
                signature_verification: level_only(self.level),
                trust_stores: self.trust_stores.clone(),
                trusted_identities: self.trusted_identities.clone(),
            }],
        };
        OciTrustPolicyDocument::parse(&pretty_json(&doc))
    }
}

impl BlobPolicyInit {
    /// The document, pretty-printed and validated.
    pub fn build(&self) -> Result<BlobTrustPolicyDocument, PolicyError> {
        let doc = RawBlobDocument {
            version: SUPPORTED_VERSION.to_owned(),
            trust_policies: vec![RawBlobStatement {
                name: self.name.clone(),
                signature_verification: level_only(self.level),
                trust_stores: self.trust_stores.clone(),
                trusted_identities: self.trusted_identities.clone(),
                global_policy: self.global,
            }],
        };
        BlobTrustPolicyDocument::parse(&pretty_json(&doc))
    }
}

fn level_only(level: Level) -> RawSignatureVerification {
    RawSignatureVerification {
        level: level.as_str().to_owned(),
        ..Default::default()
    }
}

/// JSON with four-space indentation and a final newline, like notation's files.
pub(crate) fn pretty_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    // Serializing these plain structs into a Vec cannot fail: no maps with non-string keys,
    // no I/O errors.
    if value.serialize(&mut serializer).is_ok() {
        out.push(b'\n');
    }
    out
}

/// A policy file could not be written.
#[derive(Debug, Error)]
pub enum PolicyWriteError {
    /// The file exists and overwriting was not asked for.
    #[error("trust policy {} already exists; use --force to overwrite it", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// The write itself failed.
    #[error("failed to write trust policy {}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Writes policy bytes atomically (temporary file, then rename). Without `force`, an existing
/// file is left alone and [`PolicyWriteError::Exists`] returned.
pub fn write_policy(path: &Path, bytes: &[u8], force: bool) -> Result<(), PolicyWriteError> {
    let mode = if force {
        WriteMode::Replace
    } else {
        WriteMode::CreateNew
    };
    write_atomic(path, bytes, 0o644, mode).map_err(|source| {
        if source.kind() == io::ErrorKind::AlreadyExists {
            PolicyWriteError::Exists {
                path: path.to_owned(),
            }
        } else {
            PolicyWriteError::Io {
                path: path.to_owned(),
                source,
            }
        }
    })
}
