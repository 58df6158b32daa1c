//! Certificate chains for tests and for `cert generate-test`.
//!
//! Not test-only code behind a feature: `hallmark cert generate-test` uses
//! [`CertTemplate::self_signed`] through [`crate::generate_test_certificate`], and other
//! crates' tests build fixtures with [`TestChainBuilder`], including deliberately broken ones
//! (a CA used as leaf, a leaf without digitalSignature, a wrong EKU, an expired leaf, a chain
//! out of order, CRL and OCSP URLs). Every extension is written exactly as the template says,
//! criticality included, so each Notary Project certificate rule can be broken on its own.
//!
//! ```
//! use hallmark_x509::testing::{EKU_SERVER_AUTH, ExtendedKeyUsageSpec, TestChainBuilder};
//!
//! let chain = TestChainBuilder::code_signing()
//!     .leaf(|leaf| {
//!         leaf.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_SERVER_AUTH], false))
//!     })
//!     .build()
//!     .unwrap();
//! assert!(hallmark_x509::chain::validate_code_signing_chain(chain.certificates()).is_err());
//! ```

use const_oid::ObjectIdentifier;
use der::Encode;
use der::asn1::{BitString, Ia5String};
use rcgen::{CertificateParams, CrlDistributionPoint, CustomExtension, DnType, DnValue, Issuer};
use time::{Duration, OffsetDateTime};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    AccessDescription, AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints,
    SubjectKeyIdentifier,
};

use crate::{Certificate, Error, KeySpec, SigningKey};

/// id-kp-codeSigning.
pub const EKU_CODE_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// id-kp-timeStamping.
pub const EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
/// id-kp-serverAuth.
pub const EKU_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
/// id-kp-clientAuth.
pub const EKU_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
/// id-kp-emailProtection.
pub const EKU_EMAIL_PROTECTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
/// id-kp-OCSPSigning.
pub const EKU_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");
/// anyExtendedKeyUsage.
pub const EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");

const OID_KEY_USAGE: &[u64] = &[2, 5, 29, 15];
const OID_BASIC_CONSTRAINTS: &[u64] = &[2, 5, 29, 19];
const OID_EXTENDED_KEY_USAGE: &[u64] = &[2, 5, 29, 37];
const OID_AUTHORITY_INFO_ACCESS: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];
const OID_SUBJECT_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 14];
const OID_AUTHORITY_KEY_IDENTIFIER: &[u64] = &[2, 5, 29, 35];
const OID_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// A keyUsage bit (RFC 5280 §4.2.1.3), in bit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyUsageBit {
    /// digitalSignature (bit 0).
    DigitalSignature,
    /// nonRepudiation / contentCommitment (bit 1).
    NonRepudiation,
    /// keyEncipherment (bit 2).
    KeyEncipherment,
    /// dataEncipherment (bit 3).
    DataEncipherment,
    /// keyAgreement (bit 4).
    KeyAgreement,
    /// keyCertSign (bit 5).
    KeyCertSign,
    /// cRLSign (bit 6).
    CrlSign,
    /// encipherOnly (bit 7).
    EncipherOnly,
    /// decipherOnly (bit 8).
    DecipherOnly,
}

impl KeyUsageBit {
    fn position(self) -> usize {
        self as usize
    }
}

/// The keyUsage extension to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsageSpec {
    /// The bits set.
    pub usages: Vec<KeyUsageBit>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

impl KeyUsageSpec {
    /// A keyUsage extension with these bits.
    pub fn new(usages: &[KeyUsageBit], critical: bool) -> Self {
        KeyUsageSpec {
            usages: usages.to_vec(),
            critical,
        }
    }

    /// DER of the BIT STRING, trailing zero bits dropped (X.690 §11.2.2).
    fn to_der(&self) -> Result<Vec<u8>, Error> {
        let mut bits = [false; 9];
        for usage in &self.usages {
            bits[usage.position()] = true;
        }
        let Some(highest) = bits.iter().rposition(|b| *b) else {
            return encode(&BitString::new(0, Vec::new()).map_err(der_error)?);
        };
        let mut bytes = vec![0u8; highest / 8 + 1];
        for (i, set) in bits.iter().enumerate() {
            if *set {
                bytes[i / 8] |= 0x80 >> (i % 8);
            }
        }
        let unused = u8::try_from(7 - highest % 8).unwrap_or(0);
        encode(&BitString::new(unused, bytes).map_err(der_error)?)
    }
}

/// The basicConstraints extension to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicConstraintsSpec {
    /// The cA flag.
    pub ca: bool,
    /// pathLenConstraint.
    pub path_len: Option<u8>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

/// The extendedKeyUsage extension to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtendedKeyUsageSpec {
    /// The purposes (see the `EKU_*` constants).
    pub purposes: Vec<ObjectIdentifier>,
    /// Whether the extension is marked critical.
    pub critical: bool,
}

impl ExtendedKeyUsageSpec {
    /// An extendedKeyUsage extension with these purposes.
    pub fn new(purposes: &[ObjectIdentifier], critical: bool) -> Self {
        ExtendedKeyUsageSpec {
            purposes: purposes.to_vec(),
            critical,
        }
    }
}

/// Everything about one certificate that a test may want to change.
#[derive(Debug, Clone)]
pub struct CertTemplate {
    /// Subject attributes in order, as (type, value); types `C`, `ST`, `L`, `O`, `OU`, `CN`.
    pub subject: Vec<(String, String)>,
    /// The key to generate (EC P-256 by default: fast to generate; RSA is a knob away).
    pub key_spec: KeySpec,
    /// Start of validity.
    pub not_before: OffsetDateTime,
    /// End of validity.
    pub not_after: OffsetDateTime,
    /// Serial number bytes (big-endian, positive); random 16 bytes when `None`.
    pub serial: Option<Vec<u8>>,
    /// basicConstraints, or `None` for no extension.
    pub basic_constraints: Option<BasicConstraintsSpec>,
    /// keyUsage, or `None` for no extension.
    pub key_usage: Option<KeyUsageSpec>,
    /// extendedKeyUsage, or `None` for no extension.
    pub extended_key_usage: Option<ExtendedKeyUsageSpec>,
    /// CRL distribution point URIs (non-critical extension when not empty).
    pub crl_distribution_points: Vec<String>,
    /// OCSP responder URIs (authorityInfoAccess, when not empty).
    pub ocsp_urls: Vec<String>,
    /// Whether to write subjectKeyIdentifier (and, on issued certificates,
    /// authorityKeyIdentifier), both as the truncated SHA-256 of the key (RFC 7093 §2).
    pub key_identifiers: bool,
}

impl CertTemplate {
    fn base(common_name: &str) -> Self {
        let now = OffsetDateTime::now_utc();
        CertTemplate {
            subject: [("C", "US"), ("ST", "WA"), ("L", "Seattle"), ("O", "Notary")]
                .iter()
                .map(|(t, v)| (t.to_string(), v.to_string()))
                .chain(std::iter::once(("CN".to_string(), common_name.to_string())))
                .collect(),
            key_spec: KeySpec::EcP256,
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(365),
            serial: None,
            basic_constraints: None,
            key_usage: None,
            extended_key_usage: None,
            crl_distribution_points: Vec::new(),
            ocsp_urls: Vec::new(),
            key_identifiers: true,
        }
    }

    /// A root CA: basicConstraints critical cA=true, keyUsage critical keyCertSign + cRLSign.
    pub fn root(common_name: &str) -> Self {
        CertTemplate {
            basic_constraints: Some(BasicConstraintsSpec {
                ca: true,
                path_len: None,
                critical: true,
            }),
            key_usage: Some(KeyUsageSpec::new(
                &[KeyUsageBit::KeyCertSign, KeyUsageBit::CrlSign],
                true,
            )),
            not_after: OffsetDateTime::now_utc() + Duration::days(3650),
            ..CertTemplate::base(common_name)
        }
    }

    /// An intermediate CA, like [`CertTemplate::root`].
    pub fn intermediate(common_name: &str) -> Self {
        CertTemplate::root(common_name)
    }

    /// A code-signing leaf: keyUsage critical digitalSignature, extendedKeyUsage codeSigning
    /// (not critical), no basicConstraints.
    pub fn code_signing_leaf(common_name: &str) -> Self {
        CertTemplate {
            key_usage: Some(KeyUsageSpec::new(&[KeyUsageBit::DigitalSignature], true)),
            extended_key_usage: Some(ExtendedKeyUsageSpec::new(&[EKU_CODE_SIGNING], false)),
            ..CertTemplate::base(common_name)
        }
    }

    /// A timestamping (TSA) leaf: keyUsage critical digitalSignature, extendedKeyUsage
    /// critical timeStamping only.
    pub fn timestamping_leaf(common_name: &str) -> Self {
        CertTemplate {
            key_usage: Some(KeyUsageSpec::new(&[KeyUsageBit::DigitalSignature], true)),
            extended_key_usage: Some(ExtendedKeyUsageSpec::new(&[EKU_TIME_STAMPING], true)),
            ..CertTemplate::base(common_name)
        }
    }

    /// Generates a key and a self-signed certificate from this template.
    pub fn self_signed(&self) -> Result<(SigningKey, Certificate), Error> {
        let key = SigningKey::generate(self.key_spec)?;
        let rcgen_key = rcgen_key(&key)?;
        let cert = self
            .to_params(&key, None)?
            .self_signed(&rcgen_key)
            .map_err(rcgen_error)?;
        Ok((key, Certificate::from_der(cert.der())?))
    }

    fn to_params(
        &self,
        key: &SigningKey,
        issuer_key: Option<&SigningKey>,
    ) -> Result<CertificateParams, Error> {
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        for (attribute_type, value) in &self.subject {
            params
                .distinguished_name
                .push(dn_type(attribute_type)?, dn_value(value));
        }
        params.not_before = self.not_before;
        params.not_after = self.not_after;
        let serial = match &self.serial {
            Some(serial) => serial.clone(),
            None => random_serial()?,
        };
        params.serial_number = Some(rcgen::SerialNumber::from_slice(&serial));
        params.crl_distribution_points = if self.crl_distribution_points.is_empty() {
            Vec::new()
        } else {
            vec![CrlDistributionPoint {
                uris: self.crl_distribution_points.clone(),
            }]
        };
        params.custom_extensions = self.extensions()?;
        if self.key_identifiers {
            let ski = SubjectKeyIdentifier(octets(key_identifier(key)?)?);
            params.custom_extensions.push(extension(
                OID_SUBJECT_KEY_IDENTIFIER,
                encode(&ski)?,
                false,
            ));
            if let Some(issuer_key) = issuer_key {
                let aki = AuthorityKeyIdentifier {
                    key_identifier: Some(octets(key_identifier(issuer_key)?)?),
                    authority_cert_issuer: None,
                    authority_cert_serial_number: None,
                };
                params.custom_extensions.push(extension(
                    OID_AUTHORITY_KEY_IDENTIFIER,
                    encode(&aki)?,
                    false,
                ));
            }
        }
        Ok(params)
    }

    /// basicConstraints, keyUsage, extendedKeyUsage and authorityInfoAccess, written by hand
    /// so their criticality is exactly what the template says.
    fn extensions(&self) -> Result<Vec<CustomExtension>, Error> {
        let mut extensions = Vec::new();
        if let Some(bc) = &self.basic_constraints {
            let value = encode(&BasicConstraints {
                ca: bc.ca,
                path_len_constraint: bc.path_len,
            })?;
            extensions.push(extension(OID_BASIC_CONSTRAINTS, value, bc.critical));
        }
        if let Some(ku) = &self.key_usage {
            extensions.push(extension(OID_KEY_USAGE, ku.to_der()?, ku.critical));
        }
        if let Some(eku) = &self.extended_key_usage {
            let value = encode(&x509_cert::ext::pkix::ExtendedKeyUsage(
                eku.purposes.clone(),
            ))?;
            extensions.push(extension(OID_EXTENDED_KEY_USAGE, value, eku.critical));
        }
        if !self.ocsp_urls.is_empty() {
            let descriptions = self
                .ocsp_urls
                .iter()
                .map(|url| {
                    Ok(AccessDescription {
                        access_method: OID_OCSP,
                        access_location: GeneralName::UniformResourceIdentifier(
                            Ia5String::new(url).map_err(der_error)?,
                        ),
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let value = encode(&AuthorityInfoAccessSyntax(descriptions))?;
            extensions.push(extension(OID_AUTHORITY_INFO_ACCESS, value, false));
        }
        Ok(extensions)
    }
}

/// Builds a chain root -> intermediates -> leaf; every template can be changed before
/// building.
#[derive(Debug, Clone)]
pub struct TestChainBuilder {
    root: CertTemplate,
    intermediates: Vec<CertTemplate>,
    leaf: CertTemplate,
}

impl TestChainBuilder {
    /// A code-signing chain: `Hallmark Test Root` -> `Hallmark Test Leaf`, EC P-256 keys.
    pub fn code_signing() -> Self {
        TestChainBuilder {
            root: CertTemplate::root("Hallmark Test Root"),
            intermediates: Vec::new(),
            leaf: CertTemplate::code_signing_leaf("Hallmark Test Leaf"),
        }
    }

    /// A timestamping chain: `Hallmark Test TSA Root` -> `Hallmark Test TSA`.
    pub fn timestamping() -> Self {
        TestChainBuilder {
            root: CertTemplate::root("Hallmark Test TSA Root"),
            intermediates: Vec::new(),
            leaf: CertTemplate::timestamping_leaf("Hallmark Test TSA"),
        }
    }

    /// Adds `count` intermediate CAs between root and leaf.
    pub fn with_intermediates(mut self, count: usize) -> Self {
        for _ in 0..count {
            let n = self.intermediates.len() + 1;
            self.intermediates.push(CertTemplate::intermediate(&format!(
                "Hallmark Test Intermediate {n}"
            )));
        }
        self
    }

    /// Changes the root's template.
    pub fn root(mut self, change: impl FnOnce(&mut CertTemplate)) -> Self {
        change(&mut self.root);
        self
    }

    /// Changes an intermediate's template; `index` 0 is the one just below the root.
    /// Does nothing when there is no such intermediate.
    pub fn intermediate(mut self, index: usize, change: impl FnOnce(&mut CertTemplate)) -> Self {
        if let Some(template) = self.intermediates.get_mut(index) {
            change(template);
        }
        self
    }

    /// Changes the leaf's template.
    pub fn leaf(mut self, change: impl FnOnce(&mut CertTemplate)) -> Self {
        change(&mut self.leaf);
        self
    }

    /// Sets the key spec of every certificate.
    pub fn key_spec(mut self, spec: KeySpec) -> Self {
        self.root.key_spec = spec;
        self.leaf.key_spec = spec;
        for template in &mut self.intermediates {
            template.key_spec = spec;
        }
        self
    }

    /// Generates the keys and certificates.
    pub fn build(&self) -> Result<TestChain, Error> {
        let templates: Vec<&CertTemplate> = std::iter::once(&self.root)
            .chain(self.intermediates.iter())
            .chain(std::iter::once(&self.leaf))
            .collect();

        // Root first: each certificate is signed by the one built before it.
        let mut keys = Vec::with_capacity(templates.len());
        let mut certificates = Vec::with_capacity(templates.len());
        let mut issuer: Option<(CertificateParams, rcgen::KeyPair, SigningKey)> = None;
        for template in templates {
            let key = SigningKey::generate(template.key_spec)?;
            let rcgen_key = rcgen_key(&key)?;
            let params = template.to_params(&key, issuer.as_ref().map(|(_, _, k)| k))?;
            let cert = match &issuer {
                None => params.self_signed(&rcgen_key),
                Some((issuer_params, issuer_key, _)) => {
                    params.signed_by(&rcgen_key, &Issuer::from_params(issuer_params, issuer_key))
                }
            }
            .map_err(rcgen_error)?;
            certificates.push(Certificate::from_der(cert.der())?);
            if let Some((_, _, issuer_key)) = issuer.take() {
                keys.push(issuer_key);
            }
            issuer = Some((params, rcgen_key, key));
        }
        if let Some((_, _, leaf_key)) = issuer {
            keys.push(leaf_key);
        }

        certificates.reverse();
        keys.reverse();
        Ok(TestChain { certificates, keys })
    }
}

/// A built chain, leaf first, with every certificate's key.
#[derive(Debug)]
pub struct TestChain {
    certificates: Vec<Certificate>,
    keys: Vec<SigningKey>,
}

impl TestChain {
    /// The certificates, leaf first, root last (the order of an envelope's x5c).
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// The keys, in the same order as the certificates.
    pub fn keys(&self) -> &[SigningKey] {
        &self.keys
    }

    /// The leaf certificate.
    pub fn leaf(&self) -> &Certificate {
        &self.certificates[0]
    }

    /// The leaf's signing key.
    pub fn leaf_key(&self) -> &SigningKey {
        &self.keys[0]
    }

    /// The root certificate.
    pub fn root(&self) -> &Certificate {
        // A chain always holds at least root and leaf.
        &self.certificates[self.certificates.len() - 1]
    }

    /// Splits into certificates and keys.
    pub fn into_parts(self) -> (Vec<Certificate>, Vec<SigningKey>) {
        (self.certificates, self.keys)
    }
}

/// The signature algorithm Go's `x509.CreateCertificate` picks for a key: SHA-256 with
/// PKCS#1 v1.5 for every RSA size, ECDSA with the curve's hash.
fn rcgen_key(key: &SigningKey) -> Result<rcgen::KeyPair, Error> {
    let alg: &'static rcgen::SignatureAlgorithm = match key.spec() {
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        KeySpec::EcP256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeySpec::EcP384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeySpec::EcP521 => &rcgen::PKCS_ECDSA_P521_SHA512,
    };
    rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&key.to_pkcs8_pem()?, alg).map_err(rcgen_error)
}

fn dn_type(attribute_type: &str) -> Result<DnType, Error> {
    Ok(match attribute_type {
        "C" => DnType::CountryName,
        "ST" => DnType::StateOrProvinceName,
        "L" => DnType::LocalityName,
        "O" => DnType::OrganizationName,
        "OU" => DnType::OrganizationalUnitName,
        "CN" => DnType::CommonName,
        _ => {
            return Err(Error::InvalidTestChain(
                "subject attribute types are C, ST, L, O, OU, CN",
            ));
        }
    })
}

/// PrintableString when the value allows it (as Go writes names), else UTF8String.
fn dn_value(value: &str) -> DnValue {
    match rcgen::string::PrintableString::try_from(value) {
        Ok(printable) => DnValue::PrintableString(printable),
        Err(_) => DnValue::Utf8String(value.to_string()),
    }
}

/// RFC 7093 §2 method 1: the leftmost 160 bits of SHA-256 over the subjectPublicKey bits.
fn key_identifier(key: &SigningKey) -> Result<Vec<u8>, Error> {
    let public = key.public_key()?;
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, public.raw());
    Ok(digest.as_ref()[..20].to_vec())
}

fn octets(bytes: Vec<u8>) -> Result<der::asn1::OctetString, Error> {
    der::asn1::OctetString::new(bytes).map_err(der_error)
}

fn extension(oid: &[u64], value: Vec<u8>, critical: bool) -> CustomExtension {
    let mut extension = CustomExtension::from_oid_content(oid, value);
    extension.set_criticality(critical);
    extension
}

/// A random positive 16-byte serial.
fn random_serial() -> Result<Vec<u8>, Error> {
    let mut serial = vec![0u8; 16];
    aws_lc_rs::rand::fill(&mut serial)
        .map_err(|_| Error::CertificateGeneration("no randomness for the serial".into()))?;
    serial[0] = (serial[0] & 0x7f) | 0x01;
    Ok(serial)
}

fn encode(value: &impl Encode) -> Result<Vec<u8>, Error> {
    value.to_der().map_err(der_error)
}

fn der_error(e: der::Error) -> Error {
    Error::CertificateGeneration(e.to_string())
}

fn rcgen_error(e: rcgen::Error) -> Error {
    Error::CertificateGeneration(e.to_string())
}
