//! Why a cosign signature, attestation or bundle was refused: each variant names the rule
//! that failed and, where it helps, what to do.

use thiserror::Error;

/// A cosign format or verification failure.
#[derive(Debug, Error)]
pub enum CosignError {
    /// The layer is not of the kind the attachment holds.
    #[error("layer media type {found:?} is not {expected:?}")]
    WrongLayerMediaType {
        /// The layer's media type.
        found: String,
        /// The media type required.
        expected: &'static str,
    },
    /// A `.sig` layer without `dev.cosignproject.cosign/signature`.
    #[error("the layer has no dev.cosignproject.cosign/signature annotation")]
    MissingSignature,
    /// The signature annotation is not base64.
    #[error("the dev.cosignproject.cosign/signature annotation is not base64")]
    SignatureNotBase64,
    /// The signature does not verify with the key over the payload bytes.
    #[error(
        "the signature does not verify with the public key: it was made with another key, or \
         the payload was altered"
    )]
    SignatureMismatch,
    /// The payload is not a simple-signing document.
    #[error("the payload is not a cosign simple-signing payload: {0}")]
    MalformedPayload(String),
    /// `critical.type` is not cosign's.
    #[error("payload type {0:?} is not \"cosign container image signature\"")]
    PayloadType(String),
    /// The payload signs another manifest.
    #[error("the signature is for {signed}, not for {verified}")]
    DigestMismatch {
        /// The digest in the payload.
        signed: String,
        /// The digest being verified.
        verified: String,
    },
    /// `docker-reference` names another repository.
    #[error("the signature names repository {signed:?}, not {verified:?}")]
    ReferenceMismatch {
        /// The payload's `docker-reference`.
        signed: String,
        /// The repository being verified.
        verified: String,
    },
    /// An `-a KEY=VALUE` the payload does not carry.
    #[error("annotation {key:?} is {}, expected {expected:?}", match found {
        Some(v) => v.clone(),
        None => "absent".to_owned(),
    })]
    AnnotationMismatch {
        /// The annotation.
        key: String,
        /// The value asked for.
        expected: String,
        /// The payload's value, as shown to the user.
        found: Option<String>,
    },
    /// An image digest cosign's attachments cannot name.
    #[error(
        "{0}: cosign attaches signatures, attestations and SBOMs to sha256 digests only \
         (its tags are sha256-<hex>.sig, .att, .sbom)"
    )]
    UnsupportedDigest(String),
    /// A repository asked of a statement whose subject has no name.
    #[error(
        "the statement's subject names no repository, so it cannot be checked against {0:?}; \
         drop --check-reference to accept it"
    )]
    NoReferenceInStatement(String),
    /// `-a` asked of an attestation or bundle, whose statement carries no annotations.
    #[error(
        "annotation {0:?} cannot be checked: DSSE statements (attestations and bundles) carry \
         no annotations; only simple signatures in the .sig tag do"
    )]
    AnnotationsNotInStatement(String),
    /// A DSSE envelope that does not parse.
    #[error("malformed DSSE envelope: {0}")]
    MalformedEnvelope(String),
    /// A DSSE envelope whose payload is not an in-toto statement.
    #[error("DSSE payload type {0:?} is not application/vnd.in-toto+json")]
    EnvelopePayloadType(String),
    /// An in-toto statement that does not parse.
    #[error("malformed in-toto statement: {0}")]
    MalformedStatement(String),
    /// The statement is about other artifacts.
    #[error("the statement's subjects ({}) do not include {verified}", subjects.join(", "))]
    SubjectMismatch {
        /// The subjects' sha256 digests.
        subjects: Vec<String>,
        /// The digest being verified.
        verified: String,
    },
    /// The statement has another predicate type.
    #[error("predicate type {found:?} is not {expected:?}")]
    PredicateTypeMismatch {
        /// The statement's predicate type.
        found: String,
        /// The type asked for.
        expected: String,
    },
    /// `--type` names nothing cosign knows.
    #[error("unknown predicate type {0}")]
    UnknownPredicateType(String),
    /// The predicate file does not fit its type.
    #[error("the predicate is not a valid {kind} predicate: {why}")]
    InvalidPredicate {
        /// The `--type`.
        kind: String,
        /// What is wrong.
        why: String,
    },
    /// A sigstore bundle that does not parse.
    #[error("malformed sigstore bundle: {0}")]
    MalformedBundle(String),
    /// A bundle over a message digest, which images do not use.
    #[error("unsupported bundle content: a message signature (only DSSE bundles sign images)")]
    UnsupportedBundleContent,
    /// A `.sig`/`.att` manifest that cannot hold signatures.
    #[error("malformed cosign attachment manifest: {0}")]
    MalformedAttachment(String),
    /// The key could not sign.
    #[error("signing failed")]
    Signing(#[source] hallmark_x509::Error),
}
