//! OCI trust policy documents (`trustpolicy.oci.json`, format version `1.0`) and the choice of
//! a statement for an artifact (specification: "Selecting a trust policy based on artifact
//! URI": exact registry scope first, then `*`, else fail).
//!
//! Scopes are compared as exact strings, with no expansion (`docker.io/library/x` is not
//! `x`): the common mistake of a scope without the registry host is named in the error.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::error::{PolicyError, PolicyKind};
use super::statement::{
    RawCore, RawSignatureVerification, TrustPolicy, check_document, nullable, validate_core,
};
use super::{PolicySelectionError, QUICKSTART_LINK};

/// A validated OCI trust policy document, with the bytes it was read from.
#[derive(Debug, Clone)]
pub struct OciTrustPolicyDocument {
    statements: Vec<OciStatement>,
    raw: Vec<u8>,
}

/// One statement of an OCI policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OciStatement {
    /// The shared part of the statement.
    pub policy: TrustPolicy,
    /// `registryScopes` as written: `host[:port]/repository` values, or `*` alone.
    pub registry_scopes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RawOciDocument {
    #[serde(default, deserialize_with = "nullable")]
    pub version: String,
    #[serde(rename = "trustPolicies", default, deserialize_with = "nullable")]
    pub trust_policies: Vec<RawOciStatement>,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct RawOciStatement {
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    #[serde(rename = "registryScopes", default, deserialize_with = "nullable")]
    pub registry_scopes: Vec<String>,
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
}

impl OciTrustPolicyDocument {
    /// Parses and validates a document with notation-go's rules and messages.
    pub fn parse(bytes: &[u8]) -> Result<Self, PolicyError> {
        let kind = PolicyKind::Oci;
        let doc: RawOciDocument = serde_json::from_slice(bytes)
            .map_err(|source| PolicyError::Malformed { kind, source })?;

        check_document(kind, &doc.version, doc.trust_policies.len())?;

        let mut statements: Vec<OciStatement> = Vec::with_capacity(doc.trust_policies.len());
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
            statements.push(OciStatement {
                policy,
                registry_scopes: raw.registry_scopes.clone(),
            });
        }

        validate_registry_scopes(&statements)?;
        Ok(OciTrustPolicyDocument {
            statements,
            raw: bytes.to_vec(),
        })
    }

    /// The statements, in document order.
    pub fn statements(&self) -> &[OciStatement] {
        &self.statements
    }

    /// The document exactly as it was read or built.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The statement that applies to `repository` (`host[:port]/path`; a trailing `@digest`
    /// or `:tag` is ignored): the statement listing it exactly, else the `*` statement.
    pub fn select(&self, repository: &str) -> Result<&TrustPolicy, PolicySelectionError> {
        let repository = strip_tag_and_digest(repository);
        let scoped = |pred: &dyn Fn(&str) -> bool| {
            self.statements
                .iter()
                .find(|s| s.registry_scopes.iter().any(|x| pred(x)))
        };

        if let Some(statement) = scoped(&|scope| scope == repository) {
            return Ok(&statement.policy);
        }
        if let Some(statement) = scoped(&|scope| scope == "*") {
            return Ok(&statement.policy);
        }

        let hints = self
            .statements
            .iter()
            .flat_map(|s| s.registry_scopes.iter())
            .filter_map(|scope| ScopeHint::for_scope(scope, repository))
            .collect();
        Err(PolicySelectionError::NoApplicablePolicy {
            repository: repository.to_owned(),
            hints,
        })
    }
}

/// Registry scope rules (notation-go's `validateRegistryScopes`): at least one scope, `*`
/// alone, each scope `host[:port]/repository`, and every scope in one place only.
fn validate_registry_scopes(statements: &[OciStatement]) -> Result<(), PolicyError> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for statement in statements {
        let name = &statement.policy.name;
        let scopes = &statement.registry_scopes;
        if scopes.is_empty() {
            return Err(PolicyError::ZeroRegistryScopes { name: name.clone() });
        }
        if scopes.len() > 1 && scopes.iter().any(|s| s == "*") {
            return Err(PolicyError::WildcardScopeWithOthers { name: name.clone() });
        }
        for scope in scopes {
            if scope != "*" {
                validate_scope_format(scope)?;
            }
            *counts.entry(scope).or_default() += 1;
        }
    }
    match counts.into_iter().find(|(_, n)| *n > 1) {
        Some((scope, _)) => Err(PolicyError::DuplicateScope {
            scope: scope.to_owned(),
        }),
        None => Ok(()),
    }
}

/// `host[:port]/repository` with distribution's grammar for each half.
pub(crate) fn validate_scope_format(scope: &str) -> Result<(), PolicyError> {
    if scope.len() > 1 && scope.contains('*') {
        return Err(PolicyError::WildcardInScope {
            scope: scope.to_owned(),
        });
    }
    let invalid = || PolicyError::InvalidRegistryScope {
        scope: scope.to_owned(),
    };
    // notation refuses these as malformed; naming the missing host is the better help.
    if !scope.contains('/') && is_repository_path(scope) {
        return Err(PolicyError::ScopeLacksHost {
            scope: scope.to_owned(),
        });
    }
    let (domain, repository) = scope.split_once('/').ok_or_else(invalid)?;
    if !is_domain(domain) || !is_repository_path(repository) {
        return Err(invalid());
    }
    Ok(())
}

/// Distribution's domain: dot-separated labels of `[a-zA-Z0-9]` with inner `-`, then an
/// optional `:port`.
fn is_domain(domain: &str) -> bool {
    let (host, port) = match domain.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let label_ok = |l: &str| {
        let b = l.as_bytes();
        !b.is_empty()
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
            && b[0] != b'-'
            && b[b.len() - 1] != b'-'
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()));
    host.split('.').all(label_ok) && port_ok
}

/// Distribution's repository path: `/`-separated components of `[a-z0-9]+` joined by `.`,
/// `_`, `__` or runs of `-`.
fn is_repository_path(path: &str) -> bool {
    path.split('/').all(|component| {
        let b = component.as_bytes();
        let alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
        if b.is_empty() || !alnum(&b[0]) || !alnum(&b[b.len() - 1]) {
            return false;
        }
        // Separators between alphanumeric runs: ".", "_", "__" or one or more "-".
        let mut i = 0;
        while i < b.len() {
            if alnum(&b[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < b.len() && !alnum(&b[i]) {
                i += 1;
            }
            let sep = &component[start..i];
            let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|c| c == b'-');
            if !ok {
                return false;
            }
        }
        true
    })
}

fn strip_tag_and_digest(reference: &str) -> &str {
    let without_digest = reference
        .rsplit_once('@')
        .map_or(reference, |(repo, _)| repo);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest[last_slash..].find(':') {
        Some(colon) if last_slash > 0 => &without_digest[..last_slash + colon],
        _ => without_digest,
    }
}

/// A scope that would have matched had the registry host been handled differently.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeHint {
    /// The scope as written.
    pub scope: String,
    /// The repository it was compared with.
    pub repository: String,
    /// What is off.
    pub kind: ScopeHintKind,
}

/// How a near-miss scope differs from the repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeHintKind {
    /// The scope is the repository path without its registry host.
    ScopeLacksHost,
    /// The scope names a registry host and the repository does not.
    RepositoryLacksHost,
}

impl ScopeHint {
    fn for_scope(scope: &str, repository: &str) -> Option<Self> {
        let kind = match (split_host(repository), split_host(scope)) {
            (Some((_, path)), None) if path == scope => ScopeHintKind::ScopeLacksHost,
            (None, Some((_, path))) if path == repository => ScopeHintKind::RepositoryLacksHost,
            _ => return None,
        };
        Some(ScopeHint {
            scope: scope.to_owned(),
            repository: repository.to_owned(),
            kind,
        })
    }
}

impl fmt::Display for ScopeHint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "scope {:?} never matches {:?}: ",
            self.scope, self.repository
        )?;
        f.write_str(match self.kind {
            ScopeHintKind::ScopeLacksHost => "registry scopes must include the registry host",
            ScopeHintKind::RepositoryLacksHost => {
                "the artifact reference must include the registry host"
            }
        })
    }
}

/// Splits `host[:port]/path` when the first component looks like a registry host (has a `.`
/// or a `:`, or is `localhost`), as distribution's reference grammar decides it.
fn split_host(s: &str) -> Option<(&str, &str)> {
    let (first, rest) = s.split_once('/')?;
    let is_host = first.contains('.') || first.contains(':') || first == "localhost";
    is_host.then_some((first, rest))
}

/// Written when no statement applies and no near-miss scope explains why.
pub(crate) fn no_policy_advice() -> String {
    format!(". To create a trust policy, see: {QUICKSTART_LINK}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_grammar() {
        for ok in [
            "localhost:5000/test-repo",
            "a.io/x/y__z",
            "local/my-oci--layout",
        ] {
            assert!(validate_scope_format(ok).is_ok(), "{ok}");
        }
        let bad = [
            "localhost:5000\\test-repo",
            "noslash",
            "a.io/Upper",
            "-a.io/x",
            "a.io/x/",
        ];
        for bad in bad.into_iter().chain(["a.io/*", "a.io/x..y"]) {
            assert!(validate_scope_format(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reference_suffixes_are_ignored() {
        assert_eq!(
            strip_tag_and_digest("localhost:5000/a/b:v1"),
            "localhost:5000/a/b"
        );
        assert_eq!(
            strip_tag_and_digest("localhost:5000/a@sha256:00"),
            "localhost:5000/a"
        );
        assert_eq!(strip_tag_and_digest("localhost:5000/a"), "localhost:5000/a");
    }
}
