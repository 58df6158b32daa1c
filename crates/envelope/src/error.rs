//! Why an envelope was refused.
//!
//! Each variant names the rule of the Notary Project signature specification (or of RFC 7515 /
//! RFC 9052) that the envelope broke, so a verifier can report exactly what is wrong. Messages
//! say what to do where the user can do something about it.

use hallmark_x509::chain::ChainError;

/// An envelope that cannot be parsed, signed or trusted for integrity.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The JWS envelope is not a JSON object of the flattened serialization.
    #[error("signature envelope is not valid JWS JSON: {0}")]
    MalformedJson(String),
    /// The JWS envelope is in compact serialization, which the Notary Project does not allow.
    #[error(
        "signature envelope uses JWS compact serialization; only the flattened JSON \
         serialization is allowed, re-sign with a Notary Project signer"
    )]
    CompactSerialization,
    /// A top-level JWS member other than payload, protected, header and signature.
    #[error(
        "JWS envelope has unexpected top-level member {0:?}; only payload, protected, header \
         and signature are allowed"
    )]
    UnexpectedJwsMember(String),
    /// A required top-level JWS member is absent.
    #[error("JWS envelope lacks the required member {0:?}")]
    MissingJwsMember(&'static str),
    /// A base64 field does not decode.
    #[error("{field} is not valid {encoding}")]
    InvalidBase64 {
        /// Where the value came from.
        field: &'static str,
        /// `base64url` or `base64`.
        encoding: &'static str,
    },
    /// The protected header does not decode to a JSON object (JWS) or CBOR map (COSE).
    #[error("protected header is not a {0} map")]
    MalformedProtectedHeader(&'static str),
    /// A header holds a value of the wrong type.
    #[error("header {name:?} must be {expected}")]
    InvalidHeaderValue {
        /// The header label.
        name: String,
        /// What the specification requires.
        expected: &'static str,
    },
    /// A header the specification requires is absent.
    #[error("protected header {0:?} is required but absent")]
    MissingProtectedHeader(&'static str),
    /// A header that must be marked critical is not listed in `crit`.
    #[error("protected header {0:?} is present but not listed in crit; it must be marked critical")]
    MissingCritEntry(String),
    /// `crit` names a header that the protected header does not hold.
    #[error("crit lists {0:?}, which is not in the protected header")]
    CriticalHeaderAbsent(String),
    /// `crit` names a header that this implementation does not understand (fail closed).
    #[error(
        "critical header {0:?} is not understood by this verifier; the signer requires a \
         verification plugin or newer software that processes it"
    )]
    UnknownCriticalHeader(String),
    /// The signing scheme is neither `notary.x509` nor `notary.x509.signingAuthority`.
    #[error(
        "signing scheme {0:?} is not supported; expected notary.x509 or \
         notary.x509.signingAuthority"
    )]
    UnsupportedSigningScheme(String),
    /// A header is not allowed under the envelope's signing scheme.
    #[error("header {header:?} is not allowed under signing scheme {scheme}")]
    HeaderNotAllowedForScheme {
        /// The header label.
        header: &'static str,
        /// The signing scheme.
        scheme: &'static str,
    },
    /// A time header is not RFC 3339 (JWS).
    #[error("header {0:?} is not an RFC 3339 date-time")]
    InvalidTime(&'static str),
    /// A COSE time header is not CBOR tag 1 over an integer epoch.
    #[error("header {0:?} must be a CBOR tag 1 (epoch-based date/time) over an integer")]
    UntaggedTime(&'static str),
    /// The algorithm is not one of PS256/384/512, ES256/384/512.
    #[error("signature algorithm {0} is not supported; use PS256/384/512 or ES256/384/512")]
    UnsupportedAlgorithm(String),
    /// The algorithm does not match the leaf key.
    #[error(
        "signature algorithm {alg} does not match the signing key {key}, which requires {expected}"
    )]
    AlgorithmKeyMismatch {
        /// The `alg` in the envelope.
        alg: String,
        /// The leaf key spec.
        key: String,
        /// The algorithm the key requires.
        expected: String,
    },
    /// No certificate chain (x5c / x5chain) is present, or it is empty.
    #[error("signature envelope has no certificate chain (x5c / x5chain)")]
    MissingCertificateChain,
    /// A certificate in the chain is not DER.
    #[error("certificate {index} of the chain is not a DER X.509 certificate")]
    InvalidCertificate {
        /// Position in the chain, leaf = 0.
        index: usize,
        /// The parse failure.
        #[source]
        source: hallmark_x509::Error,
    },
    /// The leaf public key cannot be used.
    #[error("leaf certificate public key is not usable")]
    UnsupportedKey(#[source] hallmark_x509::Error),
    /// The signature does not verify over the signed bytes with the leaf key.
    #[error(
        "signature is invalid: it does not verify with the leaf certificate's key over the \
         signed content"
    )]
    SignatureInvalid,
    /// `cty` is not the Notary Project payload content type.
    #[error("content type {0:?} is not application/vnd.cncf.notary.payload.v1+json")]
    ContentTypeMismatch(String),
    /// The expiry is not after the signing time.
    #[error("expiry is not after the signing time; the signature was never valid")]
    ExpiryBeforeSigningTime,
    /// The payload is not a Notary Project payload.
    #[error("payload is not a Notary Project payload with a targetArtifact descriptor: {0}")]
    MalformedPayload(String),
    /// The COSE message is not a COSE_Sign1_Tagged structure.
    #[error("signature envelope is not a COSE_Sign1_Tagged (tag 18) message: {0}")]
    MalformedCose(String),
    /// The COSE message is not tagged 18.
    #[error("COSE message is not tagged as COSE_Sign1 (tag 18)")]
    UntaggedCose,
    /// The COSE payload is detached (nil), which the Notary Project does not use.
    #[error("COSE payload is detached; the Notary Project embeds the payload")]
    DetachedPayload,
    /// The certificate chain breaks the Notary Project certificate rules.
    #[error("certificate chain breaks the Notary Project certificate rules")]
    Chain(#[from] ChainError),
    /// The signing key failed.
    #[error("signing failed")]
    Signing(#[source] hallmark_x509::Error),
    /// The timestamper failed.
    #[error("timestamping failed: {0}")]
    Timestamp(String),
    /// A sign request that cannot produce a valid envelope.
    #[error("invalid sign request: {0}")]
    InvalidSignRequest(&'static str),
    /// Encoding the envelope failed.
    #[error("encoding the envelope failed: {0}")]
    Encoding(String),
}
