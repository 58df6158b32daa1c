//! The CMS signature check (RFC 5652 §5.6) with aws-lc-rs.
//!
//! TSAs sign with RSA PKCS#1 v1.5 far more often than with the PSS and raw ECDSA forms the
//! Notary Project uses for envelopes, so this module maps the CMS algorithm identifiers
//! (RFC 3370, RFC 4056, RFC 5754, RFC 5758) to aws-lc-rs algorithms itself. SHA-1 is refused,
//! as notation refuses it.

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

use crate::asn1::{AlgorithmIdentifier, Reader, tag};
use crate::cert_id::CertIdentity;
use crate::digest::HashAlgorithm;
use crate::error::TimestampError;
use crate::oid;

/// Verifies `signature` over `message` with the signer's key, for the SignerInfo's
/// digestAlgorithm and signatureAlgorithm.
pub(crate) fn verify(
    signer: &CertIdentity,
    digest_algorithm: &AlgorithmIdentifier,
    signature_algorithm: &AlgorithmIdentifier,
    message: &[u8],
    signature_value: &[u8],
) -> Result<(), TimestampError> {
    let algorithm = select(signer, digest_algorithm, signature_algorithm)?;
    UnparsedPublicKey::new(algorithm, &signer.public_key)
        .verify(message, signature_value)
        .map_err(|_| TimestampError::InvalidSignature)
}

fn unsupported(algorithm: &AlgorithmIdentifier) -> TimestampError {
    TimestampError::UnsupportedSignatureAlgorithm(algorithm.oid.to_string())
}

fn select(
    signer: &CertIdentity,
    digest_algorithm: &AlgorithmIdentifier,
    signature_algorithm: &AlgorithmIdentifier,
) -> Result<&'static dyn VerificationAlgorithm, TimestampError> {
    let digest_hash = || {
        HashAlgorithm::from_oid(&digest_algorithm.oid).ok_or_else(|| {
            TimestampError::UnsupportedDigestAlgorithm(digest_algorithm.oid.to_string())
        })
    };
    let key_oid = signer.key_algorithm.oid;

    let (family, hash) = match signature_algorithm.oid {
        // RFC 3370 §3.2: rsaEncryption takes its hash from digestAlgorithm.
        oid::RSA_ENCRYPTION => (Family::RsaPkcs1, digest_hash()?),
        oid::SHA256_WITH_RSA => (Family::RsaPkcs1, HashAlgorithm::Sha256),
        oid::SHA384_WITH_RSA => (Family::RsaPkcs1, HashAlgorithm::Sha384),
        oid::SHA512_WITH_RSA => (Family::RsaPkcs1, HashAlgorithm::Sha512),
        oid::RSASSA_PSS => (
            Family::RsaPss,
            pss_hash(signature_algorithm, digest_hash()?)?,
        ),
        // Some CMS producers name the key algorithm and leave the hash to digestAlgorithm.
        oid::EC_PUBLIC_KEY => (Family::Ecdsa, digest_hash()?),
        oid::ECDSA_WITH_SHA256 => (Family::Ecdsa, HashAlgorithm::Sha256),
        oid::ECDSA_WITH_SHA384 => (Family::Ecdsa, HashAlgorithm::Sha384),
        oid::ECDSA_WITH_SHA512 => (Family::Ecdsa, HashAlgorithm::Sha512),
        _ => return Err(unsupported(signature_algorithm)),
    };

    match family {
        Family::RsaPkcs1 | Family::RsaPss if key_oid != oid::RSA_ENCRYPTION => {
            Err(TimestampError::UnsupportedPublicKey(format!(
                "an RSA signature needs an rsaEncryption key, the certificate has {key_oid}"
            )))
        }
        Family::RsaPkcs1 => Ok(match hash {
            HashAlgorithm::Sha256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            HashAlgorithm::Sha384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            HashAlgorithm::Sha512 => &signature::RSA_PKCS1_2048_8192_SHA512,
        }),
        Family::RsaPss => Ok(match hash {
            HashAlgorithm::Sha256 => &signature::RSA_PSS_2048_8192_SHA256,
            HashAlgorithm::Sha384 => &signature::RSA_PSS_2048_8192_SHA384,
            HashAlgorithm::Sha512 => &signature::RSA_PSS_2048_8192_SHA512,
        }),
        Family::Ecdsa => ecdsa(signer, hash),
    }
}

enum Family {
    RsaPkcs1,
    RsaPss,
    Ecdsa,
}

/// The ECDSA algorithm for the key's named curve (RFC 5480 §2.1.1) and the hash.
fn ecdsa(
    signer: &CertIdentity,
    hash: HashAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, TimestampError> {
    let key = &signer.key_algorithm;
    let curve = key
        .parameters
        .as_deref()
        .and_then(|p| Reader::new(p).read(tag::OID, "namedCurve").ok())
        .and_then(|t| t.oid().ok());
    if key.oid != oid::EC_PUBLIC_KEY || curve.is_none() {
        return Err(TimestampError::UnsupportedPublicKey(format!(
            "an ECDSA signature needs an EC key on a named curve, the certificate has {}",
            key.oid
        )));
    }
    Ok(match (curve, hash) {
        (Some(oid::SECP256R1), HashAlgorithm::Sha256) => &signature::ECDSA_P256_SHA256_ASN1,
        (Some(oid::SECP256R1), HashAlgorithm::Sha384) => &signature::ECDSA_P256_SHA384_ASN1,
        (Some(oid::SECP256R1), HashAlgorithm::Sha512) => &signature::ECDSA_P256_SHA512_ASN1,
        (Some(oid::SECP384R1), HashAlgorithm::Sha256) => &signature::ECDSA_P384_SHA256_ASN1,
        (Some(oid::SECP384R1), HashAlgorithm::Sha384) => &signature::ECDSA_P384_SHA384_ASN1,
        (Some(oid::SECP384R1), HashAlgorithm::Sha512) => &signature::ECDSA_P384_SHA512_ASN1,
        (Some(oid::SECP521R1), HashAlgorithm::Sha256) => &signature::ECDSA_P521_SHA256_ASN1,
        (Some(oid::SECP521R1), HashAlgorithm::Sha384) => &signature::ECDSA_P521_SHA384_ASN1,
        (Some(oid::SECP521R1), HashAlgorithm::Sha512) => &signature::ECDSA_P521_SHA512_ASN1,
        (curve, _) => {
            return Err(TimestampError::UnsupportedPublicKey(format!(
                "unsupported EC curve {}",
                curve.map(|c| c.to_string()).unwrap_or_default()
            )));
        }
    })
}

/// The hash of an RSASSA-PSS signature (RFC 4056 §3): from its parameters when present, which
/// must use MGF1 with the same hash and a salt as long as the hash (what aws-lc-rs verifies);
/// otherwise the digestAlgorithm's.
fn pss_hash(
    algorithm: &AlgorithmIdentifier,
    digest: HashAlgorithm,
) -> Result<HashAlgorithm, TimestampError> {
    let Some(parameters) = algorithm.parameters.as_deref() else {
        return Ok(digest);
    };
    let bad = |why: &str| {
        TimestampError::UnsupportedSignatureAlgorithm(format!("{} ({why})", algorithm.oid))
    };
    let sequence = Reader::new(parameters)
        .read(tag::SEQUENCE, "RSASSA-PSS-params")
        .map_err(|_| bad("malformed parameters"))?;
    let mut reader = sequence.reader();

    // hashAlgorithm [0] DEFAULT sha1: SHA-1 is refused.
    let hash = reader
        .read_optional(tag::context(0))
        .ok()
        .flatten()
        .and_then(|t| t.reader().read(tag::SEQUENCE, "hashAlgorithm").ok())
        .and_then(|t| AlgorithmIdentifier::decode(&t).ok())
        .and_then(|a| HashAlgorithm::from_oid(&a.oid))
        .ok_or_else(|| bad("the PSS hash must be SHA-256, SHA-384 or SHA-512"))?;

    // maskGenAlgorithm [1]: MGF1 with the same hash.
    let mgf = reader
        .read_optional(tag::context(1))
        .ok()
        .flatten()
        .and_then(|t| t.reader().read(tag::SEQUENCE, "maskGenAlgorithm").ok())
        .and_then(|t| AlgorithmIdentifier::decode(&t).ok());
    let mgf_hash = mgf.as_ref().and_then(|m| {
        let inner = Reader::new(m.parameters.as_deref()?)
            .read(tag::SEQUENCE, "MGF1 hash")
            .ok()?;
        HashAlgorithm::from_oid(&AlgorithmIdentifier::decode(&inner).ok()?.oid)
    });
    if mgf.as_ref().map(|m| m.oid) != Some(oid::MGF1) || mgf_hash != Some(hash) {
        return Err(bad("the mask generation must be MGF1 with the PSS hash"));
    }

    // saltLength [2] DEFAULT 20: must equal the hash length.
    let salt = reader
        .read_optional(tag::context(2))
        .ok()
        .flatten()
        .and_then(|t| t.reader().read(tag::INTEGER, "saltLength").ok())
        .and_then(|t| t.small_integer().ok())
        .unwrap_or(20);
    let hash_len = match hash {
        HashAlgorithm::Sha256 => 32,
        HashAlgorithm::Sha384 => 48,
        HashAlgorithm::Sha512 => 64,
    };
    if salt != hash_len {
        return Err(bad("the salt length must equal the hash length"));
    }
    Ok(hash)
}
