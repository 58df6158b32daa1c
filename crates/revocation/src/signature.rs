//! Verifying the issuer's signature on a CRL (RFC 5280 §5.1.1.2, §6.3.3 (f)).
//!
//! A CRL is only evidence if the CA that issued the certificate signed it, so the check uses
//! the public key of the *next certificate in the chain* (the issuer) and the algorithm the CRL
//! names. CRLs use the certificate signature algorithms (PKCS #1 v1.5, RSASSA-PSS, ECDSA with
//! DER signatures), which differ from the JWS/COSE algorithms `hallmark_x509::PublicKey`
//! handles, so this module maps them onto aws-lc-rs itself. SHA-1 is refused, as it is for
//! certificates (Notary Project certificate requirements).

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use const_oid::db::rfc5912;
use der::Sequence;
use der::asn1::ObjectIdentifier as Oid;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

/// `ecdsa-with-SHA1` (RFC 5758 §3.2), named only to be refused.
const ECDSA_WITH_SHA_1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");

/// Why a signature over a CRL was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The algorithm hashes with SHA-1, which Notary Project verification never accepts.
    #[error(
        "the CRL is signed with SHA-1 ({0}), which is not accepted; the CA must sign its CRL \
         with SHA-256 or stronger"
    )]
    Sha1(ObjectIdentifier),

    /// The signature algorithm is not one of the RSA or ECDSA algorithms Hallmark verifies.
    #[error(
        "the CRL signature algorithm {oid} is not supported (RSA PKCS #1 v1.5, RSASSA-PSS \
             and ECDSA with SHA-2 are)"
    )]
    UnsupportedAlgorithm {
        /// The algorithm OID from the CRL.
        oid: ObjectIdentifier,
    },

    /// The RSASSA-PSS parameters are not the SHA-2 hash, MGF1 with the same hash and a salt of
    /// the hash length (the only form Hallmark verifies).
    #[error("the CRL's RSASSA-PSS parameters are not supported: {0}")]
    UnsupportedPssParameters(&'static str),

    /// The issuer's key type does not fit the CRL's signature algorithm, or is not supported.
    #[error("the issuer key ({key}) cannot verify a {algorithm} signature")]
    KeyMismatch {
        /// Key algorithm (and curve) OID of the issuer certificate.
        key: String,
        /// Signature algorithm OID of the CRL.
        algorithm: ObjectIdentifier,
    },

    /// The signature is cryptographically wrong for these bytes and this key.
    #[error("the signature does not verify with the issuer's public key")]
    Invalid,
}

/// `RSASSA-PSS-params` (RFC 4055 §3.1); absent fields take the SHA-1 defaults, which are refused.
#[derive(Sequence)]
struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    trailer_field: Option<u32>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: Oid) -> Option<Self> {
        match oid {
            rfc5912::ID_SHA_256 => Some(Self::Sha256),
            rfc5912::ID_SHA_384 => Some(Self::Sha384),
            rfc5912::ID_SHA_512 => Some(Self::Sha512),
            _ => None,
        }
    }

    fn len(self) -> u32 {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }
}

enum Scheme {
    Pkcs1(Hash),
    Pss(Hash),
    Ecdsa(Hash),
}

/// Verifies `signature` over `message` (the exact `tbsCertList` bytes) with `issuer_key`.
pub(crate) fn verify(
    issuer_key: &SubjectPublicKeyInfoOwned,
    algorithm: &AlgorithmIdentifierOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let scheme = scheme(algorithm)?;
    let verifier = verification_algorithm(issuer_key, &scheme, algorithm.oid)?;
    UnparsedPublicKey::new(verifier, issuer_key.subject_public_key.raw_bytes())
        .verify(message, signature)
        .map_err(|_| SignatureError::Invalid)
}

fn scheme(algorithm: &AlgorithmIdentifierOwned) -> Result<Scheme, SignatureError> {
    match algorithm.oid {
        rfc5912::SHA_1_WITH_RSA_ENCRYPTION | ECDSA_WITH_SHA_1 => {
            Err(SignatureError::Sha1(algorithm.oid))
        }
        rfc5912::SHA_256_WITH_RSA_ENCRYPTION => Ok(Scheme::Pkcs1(Hash::Sha256)),
        rfc5912::SHA_384_WITH_RSA_ENCRYPTION => Ok(Scheme::Pkcs1(Hash::Sha384)),
        rfc5912::SHA_512_WITH_RSA_ENCRYPTION => Ok(Scheme::Pkcs1(Hash::Sha512)),
        rfc5912::ECDSA_WITH_SHA_256 => Ok(Scheme::Ecdsa(Hash::Sha256)),
        rfc5912::ECDSA_WITH_SHA_384 => Ok(Scheme::Ecdsa(Hash::Sha384)),
        rfc5912::ECDSA_WITH_SHA_512 => Ok(Scheme::Ecdsa(Hash::Sha512)),
        rfc5912::ID_RSASSA_PSS => pss_hash(algorithm).map(Scheme::Pss),
        oid => Err(SignatureError::UnsupportedAlgorithm { oid }),
    }
}

/// RFC 4055 §3.1: aws-lc-rs verifies PSS with MGF1 over the same hash and salt = hash length.
fn pss_hash(algorithm: &AlgorithmIdentifierOwned) -> Result<Hash, SignatureError> {
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or(SignatureError::UnsupportedPssParameters(
            "parameters are absent",
        ))?;
    let params = params
        .decode_as::<PssParams>()
        .map_err(|_| SignatureError::UnsupportedPssParameters("parameters are malformed"))?;

    let hash = params
        .hash
        .as_ref()
        .and_then(|h| Hash::from_oid(h.oid))
        .ok_or(SignatureError::UnsupportedPssParameters(
            "the hash is not SHA-2",
        ))?;
    let mgf = params
        .mask_gen
        .as_ref()
        .ok_or(SignatureError::UnsupportedPssParameters(
            "MGF1 with SHA-1 is the default",
        ))?;
    let mgf_hash = mgf
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<AlgorithmIdentifierOwned>().ok())
        .and_then(|h| Hash::from_oid(h.oid));
    if mgf.oid != rfc5912::ID_MGF_1 || mgf_hash != Some(hash) {
        return Err(SignatureError::UnsupportedPssParameters(
            "MGF1 must use the same hash",
        ));
    }
    if params.salt_length != Some(hash.len()) {
        return Err(SignatureError::UnsupportedPssParameters(
            "the salt is not the hash length",
        ));
    }
    if params.trailer_field.is_some_and(|t| t != 1) {
        return Err(SignatureError::UnsupportedPssParameters(
            "the trailer field is not 1",
        ));
    }
    Ok(hash)
}

fn verification_algorithm(
    key: &SubjectPublicKeyInfoOwned,
    scheme: &Scheme,
    algorithm: ObjectIdentifier,
) -> Result<&'static dyn VerificationAlgorithm, SignatureError> {
    let curve = key
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.decode_as::<Oid>().ok());
    let mismatch = || SignatureError::KeyMismatch {
        key: match curve {
            Some(curve) if key.algorithm.oid == rfc5912::ID_EC_PUBLIC_KEY => {
                format!("{} on {curve}", key.algorithm.oid)
            }
            _ => key.algorithm.oid.to_string(),
        },
        algorithm,
    };

    let is_rsa = key.algorithm.oid == rfc5912::RSA_ENCRYPTION;
    let is_ec = key.algorithm.oid == rfc5912::ID_EC_PUBLIC_KEY;
    Ok(match (scheme, curve) {
        (Scheme::Pkcs1(hash), _) if is_rsa => match hash {
            Hash::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        },
        (Scheme::Pss(hash), _) if is_rsa => match hash {
            Hash::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
            Hash::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
            Hash::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
        },
        (Scheme::Ecdsa(hash), Some(curve)) if is_ec => match (curve, hash) {
            (rfc5912::SECP_256_R_1, Hash::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
            (rfc5912::SECP_256_R_1, Hash::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
            (rfc5912::SECP_256_R_1, Hash::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
            (rfc5912::SECP_384_R_1, Hash::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
            (rfc5912::SECP_384_R_1, Hash::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
            (rfc5912::SECP_384_R_1, Hash::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
            (rfc5912::SECP_521_R_1, Hash::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
            (rfc5912::SECP_521_R_1, Hash::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
            (rfc5912::SECP_521_R_1, Hash::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
            _ => return Err(mismatch()),
        },
        _ => return Err(mismatch()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn algorithm(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
        AlgorithmIdentifierOwned {
            oid,
            parameters: None,
        }
    }

    #[test]
    fn sha1_is_refused() {
        for oid in [rfc5912::SHA_1_WITH_RSA_ENCRYPTION, ECDSA_WITH_SHA_1] {
            assert!(matches!(scheme(&algorithm(oid)), Err(SignatureError::Sha1(o)) if o == oid));
        }
    }

    #[test]
    fn unknown_algorithm_is_unsupported() {
        let ed25519 = ObjectIdentifier::new_unwrap("1.3.101.112");
        assert!(matches!(
            scheme(&algorithm(ed25519)),
            Err(SignatureError::UnsupportedAlgorithm { .. })
        ));
    }

    #[test]
    fn pss_without_parameters_is_unsupported() {
        assert!(matches!(
            scheme(&algorithm(rfc5912::ID_RSASSA_PSS)),
            Err(SignatureError::UnsupportedPssParameters(_))
        ));
    }
}
