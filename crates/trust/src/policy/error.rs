//! Why a trust policy document was refused.
//!
//! Each variant is one rule of notation-go's `Validate()` (`verifier/trustpolicy`), and its
//! message is notation-go's text, so that a user moving between notation and hallmark reads
//! the same words. Messages name the statement and the value at fault.

use std::fmt;

use thiserror::Error;

use super::level::Check;

/// Which document family a message is about: notation words them differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// `trustpolicy.oci.json` (or the legacy `trustpolicy.json`).
    Oci,
    /// `trustpolicy.blob.json`.
    Blob,
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyKind::Oci => "oci",
            PolicyKind::Blob => "blob",
        })
    }
}

/// A document-level rule failed (or the JSON could not be read at all).
#[derive(Debug, Error)]
pub enum PolicyError {
    /// The bytes are not a JSON document of the expected shape.
    #[error("failed to parse {} trust policy configuration", upper(*.kind))]
    Malformed {
        /// Document family.
        kind: PolicyKind,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// `version` is absent or empty.
    #[error("{}", empty_version(*.kind))]
    EmptyVersion {
        /// Document family.
        kind: PolicyKind,
    },
    /// `version` is not `1.0`.
    #[error("{kind} trust policy document uses unsupported version {version:?}")]
    UnsupportedVersion {
        /// Document family.
        kind: PolicyKind,
        /// The version found.
        version: String,
    },
    /// `trustPolicies` is absent or empty.
    #[error("{kind} trust policy document can not have zero trust policy statements")]
    NoStatements {
        /// Document family.
        kind: PolicyKind,
    },
    /// Two statements share a name.
    #[error(
        "multiple {kind} trust policy statements use the same name {name:?}, statement names \
         must be unique"
    )]
    DuplicateName {
        /// Document family.
        kind: PolicyKind,
        /// The repeated name.
        name: String,
    },
    /// A statement broke a rule shared by OCI and blob policies. The rule's text is part of
    /// this message (notation prints it as one line), so it is not also a `source`.
    #[error("{kind} trust policy: {rule}")]
    Statement {
        /// Document family.
        kind: PolicyKind,
        /// The rule.
        rule: StatementError,
    },
    /// An OCI statement has no registry scope.
    #[error(
        "oci trust policy statement {name:?} has zero registry scopes, it must specify \
         registry scopes with at least one value"
    )]
    ZeroRegistryScopes {
        /// Statement name.
        name: String,
    },
    /// `*` is listed with other scopes.
    #[error(
        "oci trust policy statement {name:?} uses wildcard registry scope '*', a wildcard \
         scope cannot be used in conjunction with other scope values"
    )]
    WildcardScopeWithOthers {
        /// Statement name.
        name: String,
    },
    /// A scope is not `host[:port]/repository`.
    #[error("registry scope {scope:?} is not valid, {SCOPE_HINT}")]
    InvalidRegistryScope {
        /// The scope.
        scope: String,
    },
    /// A scope is a bare repository name: without its registry host it would never match,
    /// since artifacts are always compared with `host[:port]/repository`.
    #[error(
        "registry scope {scope:?} lacks the registry host and would never match an artifact; \
         write it as host[:port]/repository, for example localhost:5000/{scope}"
    )]
    ScopeLacksHost {
        /// The scope.
        scope: String,
    },
    /// A scope contains `*` next to other characters (no partial wildcards).
    #[error("registry scope {scope:?} with wild card(s) is not valid, {SCOPE_HINT}")]
    WildcardInScope {
        /// The scope.
        scope: String,
    },
    /// A scope is listed more than once (in one statement or across statements).
    #[error(
        "registry scope {scope:?} is present in multiple oci trust policy statements, one \
         registry scope value can only be associated with one statement"
    )]
    DuplicateScope {
        /// The scope.
        scope: String,
    },
    /// More than one blob statement has `globalPolicy: true`.
    #[error(
        "multiple blob trust policy statements have globalPolicy set to true. Only one trust \
         policy statement should be marked as global policy"
    )]
    MultipleGlobal,
}

const SCOPE_HINT: &str = "make sure it is a fully qualified repository without the scheme, \
                          protocol or tag. For example domain.com/my/repository or a local \
                          scope like local/myOCILayout";

fn upper(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Oci => "OCI",
        PolicyKind::Blob => "blob",
    }
}

fn empty_version(kind: PolicyKind) -> &'static str {
    match kind {
        PolicyKind::Oci => "oci trust policy document has empty version, version must be specified",
        PolicyKind::Blob => "blob trust policy has empty version, version must be specified",
    }
}

/// A statement rule shared by OCI and blob policies (notation-go's `validatePolicyCore`).
#[derive(Debug, Error)]
pub enum StatementError {
    /// `name` is absent or empty.
    #[error("a trust policy statement is missing a name, every statement requires a name")]
    MissingName,
    /// `signatureVerification` is not valid (the rule's text is part of the message).
    #[error("trust policy statement {name:?} has invalid signatureVerification: {rule}")]
    SignatureVerification {
        /// Statement name.
        name: String,
        /// The rule.
        rule: SignatureVerificationError,
    },
    /// A skip statement lists trust stores or identities.
    #[error(
        "trust policy statement {name:?} is set to skip signature verification but configured \
         with trust stores and/or trusted identities, remove them if signature verification \
         needs to be skipped"
    )]
    SkipWithStoresOrIdentities {
        /// Statement name.
        name: String,
    },
    /// A non-skip statement lacks trust stores or identities.
    #[error(
        "trust policy statement {name:?} is either missing trust stores or trusted \
         identities, both must be specified"
    )]
    MissingStoresOrIdentities {
        /// Statement name.
        name: String,
    },
    /// A trust store value has no `:`.
    #[error(
        "trust policy statement {name:?} has malformed trust store value {value:?}. The \
         required format is <TrustStoreType>:<TrustStoreName>"
    )]
    MalformedTrustStore {
        /// Statement name.
        name: String,
        /// The value.
        value: String,
    },
    /// The store type is not `ca`, `signingAuthority`, `tsa` or (in OCI policies only)
    /// `notaryV1`.
    #[error(
        "trust policy statement {name:?} uses an unsupported trust store type {store_type:?} \
         in trust store value {value:?}"
    )]
    UnsupportedTrustStoreType {
        /// Statement name.
        name: String,
        /// The type found.
        store_type: String,
        /// The value.
        value: String,
    },
    /// The store name is not `[a-zA-Z0-9_.-]+`.
    #[error(
        "trust policy statement {name:?} uses an unsupported trust store name {store:?} in \
         trust store value {value:?}. Named store name needs to follow [a-zA-Z0-9_.-]+ format"
    )]
    InvalidTrustStoreName {
        /// Statement name.
        name: String,
        /// The store name found.
        store: String,
        /// The value.
        value: String,
    },
    /// `*` is listed with other identities.
    #[error(
        "trust policy statement {name:?} uses a wildcard trusted identity '*', a wildcard \
         identity cannot be used in conjunction with other values"
    )]
    WildcardIdentityWithOthers {
        /// Statement name.
        name: String,
    },
    /// An identity is the empty string.
    #[error("trust policy statement {name:?} has an empty trusted identity")]
    EmptyIdentity {
        /// Statement name.
        name: String,
    },
    /// An identity has no `prefix:value` separator.
    #[error("trust policy statement {name:?} has trusted identity {identity:?} missing separator")]
    IdentityMissingSeparator {
        /// Statement name.
        name: String,
        /// The identity.
        identity: String,
    },
    /// `x509.subject:` with nothing after it.
    #[error(
        "trust policy statement {name:?} has trusted identity {identity:?} without an identity \
         value"
    )]
    IdentityWithoutValue {
        /// Statement name.
        name: String,
        /// The identity.
        identity: String,
    },
    /// The distinguished name of an `x509.subject` identity is not acceptable (the DN rule's
    /// text is part of the message).
    #[error(
        "trust policy statement {name:?} has trusted identity {identity:?} with invalid \
         identity value: {rule}"
    )]
    InvalidIdentityValue {
        /// Statement name.
        name: String,
        /// The identity.
        identity: String,
        /// The DN rule.
        rule: DnError,
    },
    /// One `x509.subject` identity is a subset of another: the narrower one is pointless and
    /// the statement is ambiguous.
    #[error(
        "trust policy statement {name:?} has overlapping x509 trustedIdentities, {first:?} \
         overlaps with {second:?}"
    )]
    OverlappingIdentities {
        /// Statement name.
        name: String,
        /// The subset identity.
        first: String,
        /// The identity it is contained in.
        second: String,
    },
}

/// `signatureVerification` rules (notation-go's `GetVerificationLevel`, plus
/// `verifyTimestamp`).
#[derive(Debug, Error)]
pub enum SignatureVerificationError {
    /// `level` is absent or empty.
    #[error("signature verification level is empty or missing in the trust policy statement")]
    EmptyLevel,
    /// `level` is not one of strict, permissive, audit, skip.
    #[error("invalid signature verification level {level:?}")]
    InvalidLevel {
        /// The level found.
        level: String,
    },
    /// `override` given with level skip.
    #[error(
        "signature verification level \"skip\" can't be used to customize signature \
         verification"
    )]
    SkipCustomized,
    /// An `override` key is not a check name.
    #[error(
        "verification type {check:?} in custom signature verification is not supported, \
         supported values are [\"integrity\" \"authenticity\" \"authenticTimestamp\" \"expiry\" \
         \"revocation\"]"
    )]
    UnsupportedCheck {
        /// The key found.
        check: String,
    },
    /// An `override` value is not enforce, log or skip.
    #[error(
        "verification action {action:?} in custom signature verification is not supported, \
         supported values are [\"enforce\" \"log\" \"skip\"]"
    )]
    UnsupportedAction {
        /// The value found.
        action: String,
    },
    /// `override.integrity` is present.
    #[error("\"integrity\" verification can not be overridden in custom signature verification")]
    IntegrityOverridden,
    /// A check other than revocation is overridden to skip.
    #[error("\"{check}\" verification can not be skipped in custom signature verification")]
    CannotSkip {
        /// The check.
        check: Check,
    },
    /// `verifyTimestamp` is neither `always` nor `afterCertExpiry`.
    #[error(
        "verifyTimestamp {value:?} is not supported, supported values are [\"always\" \
         \"afterCertExpiry\"]"
    )]
    UnsupportedVerifyTimestamp {
        /// The value found.
        value: String,
    },
}

/// Rules for the distinguished name of an `x509.subject` identity (notation-go's
/// `pkix.ParseDistinguishedName`). The DN is quoted as written, leading space included.
#[derive(Debug, Error)]
pub enum DnError {
    /// `=#` (hex-encoded BER values) is refused outright.
    #[error(
        "unsupported distinguished name (DN) {dn:?}: notation does not support x509.subject \
         identities containing \"=#\""
    )]
    HexValue {
        /// The DN.
        dn: String,
    },
    /// Not RFC 4514 syntax.
    #[error(
        "parsing distinguished name (DN) {dn:?} failed with err: {reason}. A valid DN must \
         contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum, and follow RFC 4514 \
         standard"
    )]
    Syntax {
        /// The DN.
        dn: String,
        /// What is wrong.
        reason: DnSyntax,
    },
    /// An RDN with `+`.
    #[error(
        "distinguished name (DN) {dn:?} has multi-valued RDN attributes, remove multi-valued \
         RDN attributes as they are not supported"
    )]
    MultiValued {
        /// The DN.
        dn: String,
    },
    /// The same attribute type twice (`S` and `ST` count as the same).
    #[error(
        "distinguished name (DN) {dn:?} has duplicate RDN attribute for {attribute:?}, DN can \
         only have unique RDN attributes"
    )]
    Duplicate {
        /// The DN.
        dn: String,
        /// The attribute type.
        attribute: String,
    },
    /// `C`, `ST` (or `S`) or `O` is absent or empty.
    #[error(
        "distinguished name (DN) {dn:?} has no mandatory RDN attribute for {attribute:?}, it \
         must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a minimum"
    )]
    MissingMandatory {
        /// The DN.
        dn: String,
        /// The missing attribute type.
        attribute: &'static str,
    },
}

/// RFC 4514 syntax faults in a distinguished name string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnSyntax {
    /// An attribute has no `=`, or the DN ends after a separator.
    IncompletePair,
    /// An attribute type is empty or has characters outside `[A-Za-z0-9.-]`.
    BadAttributeType,
    /// A `\` is last, or is followed by something that is neither a special character nor
    /// two hex digits.
    BadEscape,
    /// Hex escapes decode to bytes that are not UTF-8.
    NotUtf8,
}

impl fmt::Display for DnSyntax {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DnSyntax::IncompletePair => "DN ended with incomplete type, value pair",
            DnSyntax::BadAttributeType => "invalid attribute type",
            DnSyntax::BadEscape => "invalid escape sequence",
            DnSyntax::NotUtf8 => "escaped value is not valid UTF-8",
        })
    }
}
