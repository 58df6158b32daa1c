//! ContentInfo and SignedData, the CMS envelope of a timestamp token (RFC 5652 §3, §5).
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!    version CMSVersion,
//!    digestAlgorithms SET OF DigestAlgorithmIdentifier,
//!    encapContentInfo EncapsulatedContentInfo,
//!    certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!    crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!    signerInfos SET OF SignerInfo }
//! ```
//!
//! Everything the verifier hashes or compares is kept as the bytes received (after BER to
//! DER conversion): the eContent octets, the signed attributes, each certificate.

use const_oid::ObjectIdentifier;

use crate::asn1::{AlgorithmIdentifier, Reader, Tlv, tag};
use crate::error::{DecodeError, TimestampError};
use crate::oid;

/// How a SignerInfo names its certificate (RFC 5652 §5.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum SignerIdentifier {
    /// The issuer Name element and the serial number's INTEGER content octets.
    IssuerAndSerialNumber { issuer: Vec<u8>, serial: Vec<u8> },
    /// `[0] SubjectKeyIdentifier`.
    SubjectKeyIdentifier(Vec<u8>),
}

/// One attribute: its type and the raw encodings of its values (RFC 5652 §5.3).
#[derive(Clone, Debug)]
pub(crate) struct Attribute {
    pub oid: ObjectIdentifier,
    pub values: Vec<Vec<u8>>,
}

/// A SignerInfo (RFC 5652 §5.3).
#[derive(Clone, Debug)]
pub(crate) struct SignerInfo {
    pub sid: SignerIdentifier,
    pub digest_algorithm: AlgorithmIdentifier,
    /// The `[0] IMPLICIT` signed attributes element as received, if present.
    pub signed_attrs_raw: Option<Vec<u8>>,
    pub signed_attrs: Vec<Attribute>,
    pub signature_algorithm: AlgorithmIdentifier,
    pub signature: Vec<u8>,
}

/// The parts of a SignedData a timestamp verifier uses.
#[derive(Clone, Debug)]
pub(crate) struct SignedData {
    pub econtent_type: ObjectIdentifier,
    /// The eContent OCTET STRING's content octets: the DER TSTInfo.
    pub econtent: Option<Vec<u8>>,
    /// Each certificate of the CertificateSet, as its DER; other choices are skipped.
    pub certificates: Vec<Vec<u8>>,
    pub signer_infos: Vec<SignerInfo>,
}

fn malformed(structure: &'static str) -> impl Fn(DecodeError) -> TimestampError {
    move |source| TimestampError::MalformedToken { structure, source }
}

impl SignedData {
    /// Decodes a DER ContentInfo that must hold SignedData (RFC 5652 §3).
    pub fn decode_content_info(der: &[u8]) -> Result<Self, TimestampError> {
        let mut outer = Reader::new(der);
        let content_info = outer
            .read(tag::SEQUENCE, "ContentInfo")
            .map_err(malformed("ContentInfo"))?;
        outer
            .finish("ContentInfo")
            .map_err(malformed("ContentInfo"))?;

        let mut reader = content_info.reader();
        let content_type = reader
            .read(tag::OID, "contentType")
            .and_then(|t| t.oid())
            .map_err(malformed("ContentInfo"))?;
        if content_type != oid::SIGNED_DATA {
            return Err(TimestampError::NotSignedData(content_type.to_string()));
        }
        let explicit = reader
            .read(tag::context(0), "content")
            .map_err(malformed("ContentInfo"))?;
        reader
            .finish("ContentInfo")
            .map_err(malformed("ContentInfo"))?;

        let mut inner = explicit.reader();
        let signed_data = inner
            .read(tag::SEQUENCE, "SignedData")
            .map_err(malformed("SignedData"))?;
        inner
            .finish("SignedData")
            .map_err(malformed("SignedData"))?;
        Self::decode(&signed_data).map_err(malformed("SignedData"))
    }

    fn decode(tlv: &Tlv<'_>) -> Result<Self, DecodeError> {
        let mut reader = tlv.reader();
        reader.read(tag::INTEGER, "SignedData version")?;
        reader.read(tag::SET, "digestAlgorithms")?;

        let mut encap = reader.read(tag::SEQUENCE, "encapContentInfo")?.reader();
        let econtent_type = encap.read(tag::OID, "eContentType")?.oid()?;
        let econtent = match encap.read_optional(tag::context(0))? {
            Some(explicit) => {
                let mut inner = explicit.reader();
                let octets = inner.read(tag::OCTET_STRING, "eContent")?;
                inner.finish("eContent")?;
                Some(octets.value.to_vec())
            }
            None => None,
        };
        encap.finish("encapContentInfo")?;

        let mut certificates = Vec::new();
        if let Some(set) = reader.read_optional(tag::context(0))? {
            let mut choices = set.reader();
            while !choices.is_empty() {
                let choice = choices.read_any()?;
                // Only the plain `certificate` choice is a certificate; attribute certificates
                // and other formats ([0] to [3]) cannot be TSA certificates.
                if choice.tag == tag::SEQUENCE {
                    certificates.push(choice.raw.to_vec());
                }
            }
        }
        reader.read_optional(tag::context(1))?; // crls: revocation is checked elsewhere

        let mut signer_infos = Vec::new();
        let mut set = reader.read(tag::SET, "signerInfos")?.reader();
        while !set.is_empty() {
            signer_infos.push(decode_signer_info(&set.read(tag::SEQUENCE, "SignerInfo")?)?);
        }
        reader.finish("SignedData")?;

        Ok(Self {
            econtent_type,
            econtent,
            certificates,
            signer_infos,
        })
    }
}

/// ```text
/// SignerInfo ::= SEQUENCE {
///    version CMSVersion,
///    sid SignerIdentifier,
///    digestAlgorithm DigestAlgorithmIdentifier,
///    signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
///    signatureAlgorithm SignatureAlgorithmIdentifier,
///    signature SignatureValue,
///    unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
/// ```
fn decode_signer_info(tlv: &Tlv<'_>) -> Result<SignerInfo, DecodeError> {
    let mut reader = tlv.reader();
    reader.read(tag::INTEGER, "SignerInfo version")?;

    let sid = match reader.peek_tag() {
        Some(tag::SEQUENCE) => {
            let mut issuer_serial = reader.read_any()?.reader();
            let issuer = issuer_serial.read(tag::SEQUENCE, "issuer")?.raw.to_vec();
            let serial = issuer_serial
                .read(tag::INTEGER, "serialNumber")?
                .value
                .to_vec();
            issuer_serial.finish("IssuerAndSerialNumber")?;
            SignerIdentifier::IssuerAndSerialNumber { issuer, serial }
        }
        _ => {
            let ski = reader.read(tag::context_primitive(0), "SignerIdentifier")?;
            SignerIdentifier::SubjectKeyIdentifier(ski.value.to_vec())
        }
    };

    let digest_algorithm =
        AlgorithmIdentifier::decode(&reader.read(tag::SEQUENCE, "digestAlgorithm")?)?;

    let (signed_attrs_raw, signed_attrs) = match reader.read_optional(tag::context(0))? {
        Some(attrs) => (Some(attrs.raw.to_vec()), decode_attributes(&attrs)?),
        None => (None, Vec::new()),
    };

    let signature_algorithm =
        AlgorithmIdentifier::decode(&reader.read(tag::SEQUENCE, "signatureAlgorithm")?)?;
    let signature = reader.read(tag::OCTET_STRING, "signature")?.value.to_vec();
    reader.read_optional(tag::context(1))?; // unsignedAttrs
    reader.finish("SignerInfo")?;

    Ok(SignerInfo {
        sid,
        digest_algorithm,
        signed_attrs_raw,
        signed_attrs,
        signature_algorithm,
        signature,
    })
}

/// `Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }`
fn decode_attributes(set: &Tlv<'_>) -> Result<Vec<Attribute>, DecodeError> {
    let mut reader = set.reader();
    let mut attributes = Vec::new();
    while !reader.is_empty() {
        let mut attribute = reader.read(tag::SEQUENCE, "Attribute")?.reader();
        let oid = attribute.read(tag::OID, "attrType")?.oid()?;
        let mut values_reader = attribute.read(tag::SET, "attrValues")?.reader();
        attribute.finish("Attribute")?;
        let mut values = Vec::new();
        while !values_reader.is_empty() {
            values.push(values_reader.read_any()?.raw.to_vec());
        }
        attributes.push(Attribute { oid, values });
    }
    Ok(attributes)
}

impl SignerInfo {
    /// The single value of a signed attribute; RFC 5652 §5.3 allows each of content-type,
    /// message-digest and the ESS attributes once, with one value.
    pub fn single_attribute(
        &self,
        oid: &ObjectIdentifier,
    ) -> Result<Option<&[u8]>, TimestampError> {
        let mut found = self.signed_attrs.iter().filter(|a| a.oid == *oid);
        let Some(first) = found.next() else {
            return Ok(None);
        };
        if found.next().is_some() || first.values.len() != 1 {
            return Err(TimestampError::AmbiguousSignedAttribute(oid.to_string()));
        }
        Ok(Some(&first.values[0]))
    }

    /// The bytes the signature covers: the signed attributes with their `[0]` tag replaced by
    /// the SET OF tag (RFC 5652 §5.4).
    pub fn signed_message(&self) -> Option<Vec<u8>> {
        let mut message = self.signed_attrs_raw.clone()?;
        message[0] = tag::SET;
        Some(message)
    }
}
