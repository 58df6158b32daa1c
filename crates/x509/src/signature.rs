//! Certificate signature algorithms (RFC 4055, RFC 5758) checked with aws-lc-rs.
//!
//! Certificates are signed with PKCS#1 v1.5, RSASSA-PSS or DER-encoded ECDSA, whatever the
//! envelope's algorithm is. SHA-1 is forbidden by the Notary Project signature specification
//! ("Certificate Requirements"), so SHA-1 signatures fail with their own error.

use aws_lc_rs::signature::{self as sig, VerificationAlgorithm};
use const_oid::ObjectIdentifier;
use der::asn1::ContextSpecific;
use der::{Reader, SliceReader, TagNumber};
use spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::Error;
use crate::key::KeyAlgorithm;

const SHA1_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const RSASSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");
const MGF1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.8");
const ECDSA_SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const ECDSA_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.4");
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

#[derive(Clone, Copy, PartialEq, Eq)]
enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: ObjectIdentifier) -> Result<Self, Error> {
        match oid {
            SHA256 => Ok(Hash::Sha256),
            SHA384 => Ok(Hash::Sha384),
            SHA512 => Ok(Hash::Sha512),
            SHA1 => Err(Error::Sha1Forbidden),
            other => Err(Error::UnsupportedPssParameters(format!("hash {other}"))),
        }
    }

    fn len(self) -> u32 {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// Verifies `signature` over `message` with the key in `spki`, using the certificate
/// signature algorithm `algorithm`.
pub(crate) fn verify(
    algorithm: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let key_algorithm = KeyAlgorithm::from_spki(spki)?;
    let verification = verification_algorithm(algorithm, &key_algorithm)?;
    let raw = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| Error::MalformedPublicKey("key bit string is not whole bytes".into()))?;
    crate::key::PublicKey::verify_raw(raw, verification, message, signature)
}

/// CMS `SignerInfo` form (RFC 5652 §5.3): the signature algorithm may be the bare key
/// algorithm (`rsaEncryption`, `id-ecPublicKey`), the hash then coming from
/// `digestAlgorithm`.
pub(crate) fn verify_cms(
    digest_algorithm: ObjectIdentifier,
    signature_algorithm: &AlgorithmIdentifierOwned,
    spki: &SubjectPublicKeyInfoOwned,
    message: &[u8],
    signature: &[u8],
) -> Result<(), Error> {
    let combined = match signature_algorithm.oid {
        RSA_ENCRYPTION => Some(match digest_algorithm {
            SHA256 => SHA256_WITH_RSA,
            SHA384 => SHA384_WITH_RSA,
            SHA512 => SHA512_WITH_RSA,
            SHA1 => return Err(Error::Sha1Forbidden),
            other => {
                return Err(Error::UnsupportedSignatureAlgorithm(format!(
                    "digest {other}"
                )));
            }
        }),
        EC_PUBLIC_KEY => Some(match digest_algorithm {
            SHA256 => ECDSA_SHA256,
            SHA384 => ECDSA_SHA384,
            SHA512 => ECDSA_SHA512,
            SHA1 => return Err(Error::Sha1Forbidden),
            other => {
                return Err(Error::UnsupportedSignatureAlgorithm(format!(
                    "digest {other}"
                )));
            }
        }),
        _ => None,
    };
    match combined {
        Some(oid) => {
            let algorithm = AlgorithmIdentifierOwned {
                oid,
                parameters: None,
            };
            verify(&algorithm, spki, message, signature)
        }
        None => verify(signature_algorithm, spki, message, signature),
    }
}

fn verification_algorithm(
    algorithm: &AlgorithmIdentifierOwned,
    key: &KeyAlgorithm,
) -> Result<&'static dyn VerificationAlgorithm, Error> {
    let oid = algorithm.oid;
    let mismatch = || Error::CertificateSignatureKeyMismatch {
        signature: oid.to_string(),
        key: key.to_string(),
    };
    match oid {
        SHA1_WITH_RSA | ECDSA_SHA1 => Err(Error::Sha1Forbidden),
        SHA256_WITH_RSA | SHA384_WITH_RSA | SHA512_WITH_RSA => {
            let KeyAlgorithm::Rsa { .. } = key else {
                return Err(mismatch());
            };
            Ok(match oid {
                SHA256_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA256,
                SHA384_WITH_RSA => &sig::RSA_PKCS1_2048_8192_SHA384,
                _ => &sig::RSA_PKCS1_2048_8192_SHA512,
            })
        }
        RSASSA_PSS => {
            let KeyAlgorithm::Rsa { .. } = key else {
                return Err(mismatch());
            };
            Ok(match pss_hash(algorithm)? {
                Hash::Sha256 => &sig::RSA_PSS_2048_8192_SHA256,
                Hash::Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
                Hash::Sha512 => &sig::RSA_PSS_2048_8192_SHA512,
            })
        }
        ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512 => ecdsa(oid, key).ok_or_else(mismatch),
        ED25519 => match key {
            KeyAlgorithm::Other { oid } if oid == "1.3.101.112" => Ok(&sig::ED25519),
            _ => Err(mismatch()),
        },
        other => Err(Error::UnsupportedSignatureAlgorithm(other.to_string())),
    }
}

fn ecdsa(oid: ObjectIdentifier, key: &KeyAlgorithm) -> Option<&'static dyn VerificationAlgorithm> {
    let KeyAlgorithm::Ec { curve, .. } = key else {
        return None;
    };
    let alg: &'static dyn VerificationAlgorithm = match (curve.as_str(), oid) {
        ("P-256", ECDSA_SHA256) => &sig::ECDSA_P256_SHA256_ASN1,
        ("P-256", ECDSA_SHA384) => &sig::ECDSA_P256_SHA384_ASN1,
        ("P-256", ECDSA_SHA512) => &sig::ECDSA_P256_SHA512_ASN1,
        ("P-384", ECDSA_SHA256) => &sig::ECDSA_P384_SHA256_ASN1,
        ("P-384", ECDSA_SHA384) => &sig::ECDSA_P384_SHA384_ASN1,
        ("P-384", ECDSA_SHA512) => &sig::ECDSA_P384_SHA512_ASN1,
        ("P-521", ECDSA_SHA256) => &sig::ECDSA_P521_SHA256_ASN1,
        ("P-521", ECDSA_SHA384) => &sig::ECDSA_P521_SHA384_ASN1,
        ("P-521", ECDSA_SHA512) => &sig::ECDSA_P521_SHA512_ASN1,
        _ => return None,
    };
    Some(alg)
}

/// RSASSA-PSS-params (RFC 4055 §3.1): the hash, MGF1 with the same hash, salt length equal
/// to the hash length and trailer 1 are what aws-lc-rs verifies, so anything else is refused.
fn pss_hash(algorithm: &AlgorithmIdentifierOwned) -> Result<Hash, Error> {
    let params = algorithm
        .parameters
        .as_ref()
        .ok_or_else(|| Error::UnsupportedPssParameters("parameters missing".into()))?;
    let der = der::Encode::to_der(params)?;
    let mut reader = SliceReader::new(&der)?;
    let (hash, mgf, salt, trailer) = reader.sequence(|r| {
        let hash = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(r, TagNumber(0))?;
        let mgf = ContextSpecific::<AlgorithmIdentifierOwned>::decode_explicit(r, TagNumber(1))?;
        let salt = ContextSpecific::<u32>::decode_explicit(r, TagNumber(2))?;
        let trailer = ContextSpecific::<u32>::decode_explicit(r, TagNumber(3))?;
        Ok::<_, der::Error>((hash, mgf, salt, trailer))
    })?;

    // Absent fields take RFC 4055 defaults: SHA-1, MGF1-SHA-1, salt 20, trailer 1.
    let hash = match hash {
        Some(h) => Hash::from_oid(h.value.oid)?,
        None => return Err(Error::Sha1Forbidden),
    };
    let mgf = mgf.ok_or(Error::Sha1Forbidden)?.value;
    if mgf.oid != MGF1 {
        return Err(Error::UnsupportedPssParameters(format!(
            "mask generation {}",
            mgf.oid
        )));
    }
    let mgf_hash = mgf
        .parameters
        .as_ref()
        .ok_or_else(|| Error::UnsupportedPssParameters("MGF1 without a hash".into()))?
        .decode_as::<AlgorithmIdentifierOwned>()?;
    if Hash::from_oid(mgf_hash.oid)? != hash {
        return Err(Error::UnsupportedPssParameters(
            "MGF1 hash differs from the hash".into(),
        ));
    }
    let salt = salt.map_or(20, |s| s.value);
    if salt != hash.len() {
        return Err(Error::UnsupportedPssParameters(format!(
            "salt length {salt}, expected {}",
            hash.len()
        )));
    }
    if trailer.is_some_and(|t| t.value != 1) {
        return Err(Error::UnsupportedPssParameters(
            "trailer field is not 1".into(),
        ));
    }
    Ok(hash)
}
