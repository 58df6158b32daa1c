//! The ESS signing-certificate attributes that bind a token to its TSA certificate
//! (RFC 3161 §2.4.1, RFC 5816 §2.2, RFC 5035 §3-4, RFC 2634 §5.4).
//!
//! Without the binding, anyone could swap the certificate that the unsigned SignerIdentifier
//! points at for another one with the same key. The first ESSCertID(v2) names the signing
//! certificate by a hash of its DER and, optionally, by issuer and serial number.
//!
//! ```text
//! SigningCertificateV2 ::= SEQUENCE { certs SEQUENCE OF ESSCertIDv2, policies ... OPTIONAL }
//! ESSCertIDv2 ::= SEQUENCE {
//!    hashAlgorithm AlgorithmIdentifier DEFAULT {algorithm id-sha256},
//!    certHash      OCTET STRING,
//!    issuerSerial  IssuerSerial OPTIONAL }
//! SigningCertificate ::= SEQUENCE { certs SEQUENCE OF ESSCertID, policies ... OPTIONAL }
//! ESSCertID ::= SEQUENCE { certHash OCTET STRING (SHA-1), issuerSerial IssuerSerial OPTIONAL }
//! IssuerSerial ::= SEQUENCE { issuer GeneralNames, serialNumber CertificateSerialNumber }
//! ```

use crate::asn1::{AlgorithmIdentifier, Reader, tag};
use crate::cert_id::CertIdentity;
use crate::digest::{HashAlgorithm, sha1};
use crate::error::{DecodeError, TimestampError};
use crate::oid;
use crate::signed_data::SignerInfo;

/// Which certificate hash the attribute uses.
enum CertHash {
    Sha1,
    Sha2(HashAlgorithm),
}

/// The first ESSCertID(v2) of the attribute: the one naming the signing certificate.
struct EssCertId {
    hash: CertHash,
    cert_hash: Vec<u8>,
    /// The directoryName of the issuer GeneralNames (None if it has none) and the serial's
    /// INTEGER content octets.
    issuer_serial: Option<(Option<Vec<u8>>, Vec<u8>)>,
}

/// Checks that the token's signed attributes name `signer` (DER `signer_der`): the
/// signing-certificate-v2 attribute if present, else the signing-certificate attribute.
pub(crate) fn check_signing_certificate(
    signer_info: &SignerInfo,
    signer_der: &[u8],
    signer: &CertIdentity,
) -> Result<(), TimestampError> {
    let id = if let Some(v2) = signer_info.single_attribute(&oid::SIGNING_CERTIFICATE_V2)? {
        decode(v2, true)?
    } else if let Some(v1) = signer_info.single_attribute(&oid::SIGNING_CERTIFICATE)? {
        decode(v1, false)?
    } else {
        return Err(TimestampError::MissingSigningCertificateAttribute);
    };

    let actual = match id.hash {
        CertHash::Sha1 => sha1(signer_der),
        CertHash::Sha2(algorithm) => algorithm.digest(signer_der),
    };
    if actual != id.cert_hash {
        return Err(TimestampError::SigningCertificateHashMismatch);
    }

    if let Some((issuer, serial)) = id.issuer_serial
        && (issuer.as_deref() != Some(signer.issuer.as_slice()) || serial != signer.serial)
    {
        return Err(TimestampError::SigningCertificateIssuerSerialMismatch);
    }
    Ok(())
}

fn malformed(source: DecodeError) -> TimestampError {
    TimestampError::MalformedToken {
        structure: "signing certificate attribute",
        source,
    }
}

fn decode(value: &[u8], v2: bool) -> Result<EssCertId, TimestampError> {
    let mut outer = Reader::new(value);
    let attribute = outer
        .read(tag::SEQUENCE, "SigningCertificate")
        .map_err(malformed)?;
    let mut certs = attribute
        .reader()
        .read(tag::SEQUENCE, "certs")
        .map_err(malformed)?
        .reader();
    if certs.is_empty() {
        return Err(TimestampError::EmptySigningCertificateAttribute);
    }
    let mut cert_id = certs
        .read(tag::SEQUENCE, "ESSCertID")
        .map_err(malformed)?
        .reader();

    let hash = if v2 {
        match cert_id.read_optional(tag::SEQUENCE).map_err(malformed)? {
            None => CertHash::Sha2(HashAlgorithm::Sha256),
            Some(algorithm) => {
                let algorithm = AlgorithmIdentifier::decode(&algorithm).map_err(malformed)?;
                let hash = HashAlgorithm::from_oid(&algorithm.oid).ok_or_else(|| {
                    TimestampError::UnsupportedDigestAlgorithm(algorithm.oid.to_string())
                })?;
                CertHash::Sha2(hash)
            }
        }
    } else {
        CertHash::Sha1
    };
    let cert_hash = cert_id
        .read(tag::OCTET_STRING, "certHash")
        .map_err(malformed)?
        .value
        .to_vec();
    let issuer_serial = match cert_id.read_optional(tag::SEQUENCE).map_err(malformed)? {
        Some(issuer_serial) => {
            Some(decode_issuer_serial(&issuer_serial.reader()).map_err(malformed)?)
        }
        None => None,
    };
    cert_id.finish("ESSCertID").map_err(malformed)?;

    Ok(EssCertId {
        hash,
        cert_hash,
        issuer_serial,
    })
}

fn decode_issuer_serial(reader: &Reader<'_>) -> Result<(Option<Vec<u8>>, Vec<u8>), DecodeError> {
    let mut reader = reader.clone();
    let mut names = reader.read(tag::SEQUENCE, "GeneralNames")?.reader();
    let mut directory_name = None;
    while !names.is_empty() {
        let name = names.read_any()?;
        // directoryName [4] is EXPLICIT because Name is a CHOICE (RFC 5280 §4.2.1.6).
        if name.tag == tag::context(4) && directory_name.is_none() {
            let mut inner = name.reader();
            directory_name = Some(inner.read(tag::SEQUENCE, "directoryName")?.raw.to_vec());
        }
    }
    let serial = reader.read(tag::INTEGER, "serialNumber")?.value.to_vec();
    reader.finish("IssuerSerial")?;
    Ok((directory_name, serial))
}
