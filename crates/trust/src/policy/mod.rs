//! Trust policies: which signers are trusted for which artifacts, and how strictly each
//! verification check is applied (trust store and trust policy specification, "Trust
//! Policy"; reference §3).
//!
//! Two document families share one statement model ([`TrustPolicy`]):
//! - [`OciTrustPolicyDocument`]: statements scoped to registry repositories;
//! - [`BlobTrustPolicyDocument`]: statements chosen by name, or the global one.
//!
//! Validation reproduces notation-go's rules and error messages, so a document notation
//! accepts is accepted here and a refused one gets the same explanation. Documents keep the
//! bytes they were parsed from, so `policy show` prints what was imported.

mod blob;
mod error;
mod identity;
pub(crate) mod init;
mod level;
mod oci;
pub(crate) mod statement;

use thiserror::Error;

pub use blob::{BlobStatement, BlobTrustPolicyDocument};
pub use error::{
    DnError, DnSyntax, PolicyError, PolicyKind, SignatureVerificationError, StatementError,
};
pub use identity::{TrustedIdentity, X509_SUBJECT};
pub use init::{BlobPolicyInit, OciPolicyInit, PolicyWriteError, write_policy};
pub use level::{Action, Actions, Check, Level, VerifyTimestamp};
pub use oci::{OciStatement, OciTrustPolicyDocument, ScopeHint, ScopeHintKind};
pub use statement::TrustPolicy;

/// The only policy format version notation knows.
pub const SUPPORTED_VERSION: &str = "1.0";

/// Where notation sends users who have no trust policy yet.
pub const QUICKSTART_LINK: &str =
    "https://notaryproject.dev/docs/quickstart/#create-a-trust-policy";

/// No statement applies to the artifact being verified.
#[derive(Debug, Error)]
pub enum PolicySelectionError {
    /// No OCI statement lists the repository and there is no `*` statement.
    #[error(
        "artifact {repository:?} has no applicable oci trust policy statement. Trust policy \
         applicability for a given artifact is determined by registryScopes{}",
        hint_text(hints)
    )]
    NoApplicablePolicy {
        /// The repository (`host[:port]/path`).
        repository: String,
        /// Scopes that would match with the registry host added or removed.
        hints: Vec<ScopeHint>,
    },
    /// `--policy-name` was given but is blank.
    #[error("policy name cannot be empty")]
    EmptyPolicyName,
    /// No blob statement has the requested name.
    #[error(
        "no applicable blob trust policy named {name:?}. Applicability for a given blob is \
         determined by policy name"
    )]
    NoPolicyNamed {
        /// The requested name.
        name: String,
    },
    /// No name was given and no blob statement is global.
    #[error(
        "no global blob trust policy: pass --policy-name, or mark one statement with \
         \"globalPolicy\": true"
    )]
    NoGlobalPolicy,
}

fn hint_text(hints: &[ScopeHint]) -> String {
    if hints.is_empty() {
        return oci::no_policy_advice();
    }
    let joined: Vec<String> = hints.iter().map(ToString::to_string).collect();
    format!(": {}", joined.join("; "))
}
