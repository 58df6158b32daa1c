//! Blob trust policy documents (`trustpolicy.blob.json`, format version `1.0`).
//!
//! Specification, "Blob trust policy": statements have no registry scopes; one of them may be
//! marked `globalPolicy: true`. A statement is chosen by name (`--policy-name`), else the
//! global one is used, else verification fails. Unknown members (notation's e2e suite imports
//! an OCI policy with `registryScopes` as a blob policy) are ignored as Go ignores them.

use serde::{Deserialize, Serialize};

use super::PolicySelectionError;
use super::error::{PolicyError, PolicyKind, StatementError};
use super::statement::{
    RawCore, RawSignatureVerification, TrustPolicy, check_document, nullable, validate_core,
};
use crate::trust_store::StoreType;

/// A validated blob trust policy document, with the bytes it was read from.
#[derive(Debug, Clone)]
pub struct BlobTrustPolicyDocument {
    statements: Vec<BlobStatement>,
    raw: Vec<u8>,
}

/// One statement of a blob policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStatement {
    /// The shared part of the statement.
    pub policy: TrustPolicy,
    /// Whether it applies when no policy name is given.
    pub global: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RawBlobDocument {
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(rename = "trustPolicies", default, deserialize_with = "nullable")]
    pub trust_policies: Vec<RawBlobStatement>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RawBlobStatement {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(
        rename = "signatureVerification",
        default,
        deserialize_with = "nullable"
    )]
    pub signature_verification: RawSignatureVerification,
    #[serde(
        rename = "trustStores",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub trust_stores: Vec<String>,
    #[serde(
        rename = "trustedIdentities",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub trusted_identities: Vec<String>,
    #[serde(
        rename = "globalPolicy",
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "is_false"
    )]
    pub global_policy: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl BlobTrustPolicyDocument {
    /// Parses and validates a document with notation-go's rules and messages.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let kind = PolicyKind::Blob;
        let doc: RawBlobDocument = serde_json::from_slice(bytes)
            .map_err(|source| PolicyError::Malformed { kind, source })?;

        check_document(kind, &doc.version, doc.trust_policies.len())?;

        let mut statements: Vec<BlobStatement> = Vec::with_capacity(doc.trust_policies.len());
        for raw in &doc.trust_policies {
            if statements.iter().any(|s| s.policy.name == raw.name) {
                return Err(PolicyError::DuplicateName {
                    kind,
                    name: raw.name.clone(),
                });
            }
            let policy = validate_core(RawCore {
                name: &raw.name,
                signature_verification: &raw.signature_verification,
                trust_stores: &raw.trust_stores,
                trusted_identities: &raw.trusted_identities,
            })
            .map_err(|rule| PolicyError::Statement { kind, rule })?;
            // Notary v1 trust data signs image tags, never blobs: such a store would only
            // ever match nothing.
            if let Some(name) = policy.stores_of_type(StoreType::NotaryV1).next() {
                return Err(PolicyError::Statement {
                    kind,
                    rule: StatementError::UnsupportedTrustStoreType {
                        name: raw.name.clone(),
                        store_type: StoreType::NotaryV1.as_str().to_owned(),
                        value: format!("notaryV1:{name}"),
                    },
                });
            }
            if raw.global_policy && statements.iter().any(|s| s.global) {
                return Err(PolicyError::MultipleGlobal);
            }
            statements.push(BlobStatement {
                policy,
                global: raw.global_policy,
            });
        }
        Ok(BlobTrustPolicyDocument {
            statements,
            raw: bytes.to_vec(),
        })
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[BlobStatement] {
        &self.statements
    }

    /// The document exactly as it was read or built.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The statement named `policy_name`, or the global statement when no name is given.
    pub fn select(&self, policy_name: Option<&str>) -> Result<&TrustPolicy, PolicySelectionError> {
        let found = match policy_name {
            Some(name) if name.trim().is_empty() => {
                return Err(PolicySelectionError::EmptyPolicyName);
            }
            Some(name) => self
                .statements
                .iter()
                .find(|s| s.policy.name == name)
                .ok_or_else(|| PolicySelectionError::NoPolicyNamed {
                    name: name.to_owned(),
                })?,
            None => self
                .statements
                .iter()
                .find(|s| s.global)
                .ok_or(PolicySelectionError::NoGlobalPolicy)?,
        };
        Ok(&found.policy)
    }
}
