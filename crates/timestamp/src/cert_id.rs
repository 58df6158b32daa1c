//! The parts of a certificate that CMS and ESS use to name it (RFC 5652 §5.3, RFC 5035 §4).
//!
//! A SignerIdentifier names the signer by issuer and serial number or by subject key
//! identifier, and ESS IssuerSerial repeats issuer and serial. These are compared byte for
//! byte against the certificate's own encoding, as notation does, so they are read from the
//! certificate's DER here rather than from a re-encoded parse.

use crate::asn1::{AlgorithmIdentifier, Reader, tag};
use crate::error::DecodeError;
use crate::oid;

/// Identifiers and key of one certificate, as raw encodings.
#[derive(Clone, Debug)]
pub(crate) struct CertIdentity {
    /// The INTEGER content octets of serialNumber.
    pub serial: Vec<u8>,
    /// The whole issuer Name element.
    pub issuer: Vec<u8>,
    /// The whole subject Name element.
    pub subject: Vec<u8>,
    /// The keyIdentifier of the subjectKeyIdentifier extension, if present.
    pub subject_key_id: Option<Vec<u8>>,
    /// subjectPublicKeyInfo.algorithm.
    pub key_algorithm: AlgorithmIdentifier,
    /// The subjectPublicKey bits (PKCS#1 RSAPublicKey or an EC point).
    pub public_key: Vec<u8>,
}

impl CertIdentity {
    /// Reads the identifiers from a DER certificate (RFC 5280 §4.1).
    pub fn from_der(der: &[u8]) -> Result<Self, DecodeError> {
        let certificate = Reader::new(der).read(tag::SEQUENCE, "Certificate")?;
        let mut tbs = certificate
            .reader()
            .read(tag::SEQUENCE, "TBSCertificate")?
            .reader();

        tbs.read_optional(tag::context(0))?; // version
        let serial = tbs.read(tag::INTEGER, "serialNumber")?.value.to_vec();
        tbs.read(tag::SEQUENCE, "signature")?;
        let issuer = tbs.read(tag::SEQUENCE, "issuer")?.raw.to_vec();
        tbs.read(tag::SEQUENCE, "validity")?;
        let subject = tbs.read(tag::SEQUENCE, "subject")?.raw.to_vec();

        let spki = tbs.read(tag::SEQUENCE, "subjectPublicKeyInfo")?;
        let mut spki = spki.reader();
        let key_algorithm = AlgorithmIdentifier::decode(&spki.read(tag::SEQUENCE, "algorithm")?)?;
        let bits = spki.read(tag::BIT_STRING, "subjectPublicKey")?.value;
        let public_key = match bits.split_first() {
            Some((0, key)) => key.to_vec(),
            _ => {
                return Err(DecodeError::InvalidValue(
                    "subjectPublicKey has unused bits",
                ));
            }
        };

        tbs.read_optional(tag::context_primitive(1))?; // issuerUniqueID
        tbs.read_optional(tag::context_primitive(2))?; // subjectUniqueID
        let subject_key_id = match tbs.read_optional(tag::context(3))? {
            Some(extensions) => find_subject_key_id(&extensions.reader())?,
            None => None,
        };

        Ok(Self {
            serial,
            issuer,
            subject,
            subject_key_id,
            key_algorithm,
            public_key,
        })
    }
}

/// Finds subjectKeyIdentifier in `[3] EXPLICIT Extensions` (RFC 5280 §4.2.1.2).
fn find_subject_key_id(explicit: &Reader<'_>) -> Result<Option<Vec<u8>>, DecodeError> {
    let mut wrapper = explicit.clone();
    let mut extensions = wrapper.read(tag::SEQUENCE, "extensions")?.reader();
    while !extensions.is_empty() {
        let mut extension = extensions.read(tag::SEQUENCE, "extension")?.reader();
        let id = extension.read(tag::OID, "extnID")?.oid()?;
        extension.read_optional(tag::BOOLEAN)?;
        let value = extension.read(tag::OCTET_STRING, "extnValue")?;
        if id == oid::SUBJECT_KEY_IDENTIFIER {
            let key_id = Reader::new(value.value).read(tag::OCTET_STRING, "keyIdentifier")?;
            return Ok(Some(key_id.value.to_vec()));
        }
    }
    Ok(None)
}
