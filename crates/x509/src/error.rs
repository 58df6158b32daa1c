//! The error type of certificate and key operations.

use crate::key::{KeySpec, SignatureAlgorithm};

/// Why a certificate or key could not be parsed, used or produced.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a DER-encoded X.509 certificate.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(der::Error),

    /// A PEM block could not be decoded.
    #[error("malformed PEM: {0}")]
    MalformedPem(String),

    /// The input held no certificate at all.
    #[error("no certificate found: expected PEM \"CERTIFICATE\" blocks or one DER certificate")]
    NoCertificate,

    /// A PEM block carried a label this operation does not accept.
    #[error("unexpected PEM block {found:?}; expected {expected}")]
    UnexpectedPemLabel {
        /// The label found.
        found: String,
        /// What was accepted.
        expected: &'static str,
    },

    /// The key is not one of the Notary Project key specs (RSA 2048/3072/4096, EC
    /// P-256/P-384/P-521).
    #[error(
        "unsupported key {0}: Notary Project signatures need RSA 2048, 3072 or 4096 bits \
         or EC P-256, P-384 or P-521"
    )]
    UnsupportedKey(String),

    /// A signature algorithm was used with a key it does not belong to (signature
    /// specification: the algorithm is derived from the key).
    #[error("signature algorithm {algorithm} does not match the {key} key; it must be {expected}")]
    AlgorithmKeyMismatch {
        /// The algorithm that was asked for.
        algorithm: SignatureAlgorithm,
        /// The key's spec.
        key: KeySpec,
        /// The algorithm the key requires.
        expected: SignatureAlgorithm,
    },

    /// The signature does not verify with the key.
    #[error("signature verification failed: the signature does not match the key and message")]
    InvalidSignature,

    /// A certificate is signed with SHA-1, which the Notary Project forbids.
    #[error(
        "certificate signature uses SHA-1, which is forbidden; reissue it with SHA-256 or better"
    )]
    Sha1Forbidden,

    /// The certificate signature algorithm is not supported.
    #[error("unsupported certificate signature algorithm {0}")]
    UnsupportedSignatureAlgorithm(String),

    /// The certificate's signature algorithm does not fit the issuer's key type.
    #[error("certificate signature algorithm {signature} cannot be made with the issuer's {key}")]
    CertificateSignatureKeyMismatch {
        /// The signature algorithm OID.
        signature: String,
        /// The issuer key.
        key: String,
    },

    /// The RSASSA-PSS parameters of a certificate signature are malformed or inconsistent.
    #[error("unsupported RSASSA-PSS parameters: {0}")]
    UnsupportedPssParameters(String),

    /// A public key in a certificate could not be decoded.
    #[error("malformed public key: {0}")]
    MalformedPublicKey(String),

    /// A private key was rejected.
    #[error("invalid private key: {0}")]
    InvalidPrivateKey(String),

    /// Key generation failed in the crypto library.
    #[error("could not generate a {0} key")]
    KeyGeneration(KeySpec),

    /// Signing failed in the crypto library.
    #[error("signing with the {0} key failed")]
    Signing(KeySpec),

    /// A certificate could not be built.
    #[error("could not build the certificate: {0}")]
    CertificateGeneration(String),

    /// A certificate chain given to a builder was unusable.
    #[error("invalid test chain: {0}")]
    InvalidTestChain(&'static str),
}

impl From<der::Error> for Error {
    fn from(e: der::Error) -> Self {
        Error::MalformedCertificate(e)
    }
}
