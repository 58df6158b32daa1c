//! X.509 certificates (RFC 5280) as the Notary Project uses them.
//!
//! A [`Certificate`] keeps the exact DER it was parsed from: notation compares trust-store
//! certificates byte for byte, thumbprints (`io.cncf.notary.x509chain.thumbprint#S256`) are
//! hashed over the DER, and signatures are checked over the original `tbsCertificate` bytes,
//! never over a re-encoding.

use std::fmt;
use std::sync::{Arc, OnceLock};

use const_oid::ObjectIdentifier;
use der::{Decode, Encode, Header, Reader, SliceReader};
use time::OffsetDateTime;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityInfoAccessSyntax, AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints,
    ExtendedKeyUsage, KeyUsage, SubjectKeyIdentifier,
};

use crate::key::{KeyAlgorithm, PublicKey};
use crate::memo::Memo;
use crate::name::{DistinguishedName, hex};
use crate::{Error, pem, signature};

const OID_OCSP: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1");

/// An X.509 certificate: the DER exactly as given, and its parsed form. Cheap to clone: the
/// parsed form is shared.
#[derive(Clone)]
pub struct Certificate {
    inner: Arc<Parsed>,
}

struct Parsed {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
    /// Byte range of `tbsCertificate` inside `der`.
    tbs: std::ops::Range<usize>,
    /// SHA-256 of `der`.
    sha256: [u8; 32],
    /// DER of the subject and issuer names, compared on every chain check.
    subject_der: Vec<u8>,
    issuer_der: Vec<u8>,
    /// The subject public key, once it was asked for and is one of the six key specs.
    public_key: OnceLock<PublicKey>,
    /// The kind of subject public key, once it was asked for.
    key_algorithm: OnceLock<KeyAlgorithm>,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.inner.der == other.inner.der
    }
}

impl Eq for Certificate {}

impl std::hash::Hash for Certificate {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.inner.der.hash(state);
    }
}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject().to_string())
            .field("issuer", &self.issuer().to_string())
            .field("serial", &self.serial_hex())
            .field("sha256", &self.sha256_fingerprint())
            .finish()
    }
}

impl Certificate {
    /// Parses one DER certificate; trailing bytes are an error.
    ///
    /// The same bytes parse to the same certificate, so recent parses are kept (see
    /// `PARSED`): a verifier meets the same chain in every signature of a signer.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let mut sha256 = [0u8; 32];
        // A SHA-256 digest is always 32 bytes, so the lengths agree.
        sha256.copy_from_slice(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, der).as_ref());
        if let Some(known) = PARSED.get(&sha256) {
            return Ok(known);
        }
        let parsed = x509_cert::Certificate::from_der(der)?;
        let tbs = tbs_range(der)?;
        let subject_der = parsed.tbs_certificate().subject().to_der()?;
        let issuer_der = parsed.tbs_certificate().issuer().to_der()?;
        let certificate = Certificate {
            inner: Arc::new(Parsed {
                der: der.to_vec(),
                parsed,
                tbs,
                sha256,
                subject_der,
                issuer_der,
                public_key: OnceLock::new(),
                key_algorithm: OnceLock::new(),
            }),
        };
        PARSED.insert(sha256, certificate.clone());
        Ok(certificate)
    }

    /// One or more certificates from a PEM file (several blocks) or a single DER cert.
    ///
    /// Concatenated DER certificates are accepted too, as Go's `x509.ParseCertificates`
    /// does. In PEM input every block must be a `CERTIFICATE`.
    pub fn parse_many(bytes: &[u8]) -> Result<Vec<Self>, Error> {
        let certificates = if pem::is_pem(bytes) {
            pem::blocks(bytes)?
                .into_iter()
                .map(|(label, der)| {
                    if label != "CERTIFICATE" {
                        return Err(Error::UnexpectedPemLabel {
                            found: label,
                            expected: "\"CERTIFICATE\"",
                        });
                    }
                    Certificate::from_der(&der)
                })
                .collect::<Result<Vec<_>, _>>()?
        } else {
            split_der(bytes)?
                .into_iter()
                .map(Certificate::from_der)
                .collect::<Result<Vec<_>, _>>()?
        };
        if certificates.is_empty() {
            return Err(Error::NoCertificate);
        }
        Ok(certificates)
    }

    /// The certificate as one PEM `CERTIFICATE` block.
    pub fn to_pem(&self) -> String {
        pem::encode("CERTIFICATE", &self.inner.der)
    }

    /// The DER bytes, exactly as parsed.
    pub fn der(&self) -> &[u8] {
        &self.inner.der
    }

    /// The parsed certificate, for callers that need fields not exposed here.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.inner.parsed
    }

    /// The DER of `tbsCertificate`, the bytes the issuer signed.
    pub fn tbs_der(&self) -> &[u8] {
        &self.inner.der[self.inner.tbs.clone()]
    }

    /// The subject's attributes.
    pub fn subject(&self) -> DistinguishedName {
        DistinguishedName::from_x509(self.inner.parsed.tbs_certificate().subject())
    }

    /// The issuer's attributes.
    pub fn issuer(&self) -> DistinguishedName {
        DistinguishedName::from_x509(self.inner.parsed.tbs_certificate().issuer())
    }

    /// DER of the subject name (for exact name comparison, as RFC 5280 §7.1 allows).
    pub fn subject_der(&self) -> &[u8] {
        &self.inner.subject_der
    }

    /// DER of the issuer name.
    pub fn issuer_der(&self) -> &[u8] {
        &self.inner.issuer_der
    }

    /// Start of the validity period.
    pub fn not_before(&self) -> OffsetDateTime {
        to_offset_date_time(self.inner.parsed.tbs_certificate().validity().not_before)
    }

    /// End of the validity period (inclusive, RFC 5280 §4.1.2.5).
    pub fn not_after(&self) -> OffsetDateTime {
        to_offset_date_time(self.inner.parsed.tbs_certificate().validity().not_after)
    }

    /// Whether `at` lies within [not_before, not_after].
    pub fn is_valid_at(&self, at: OffsetDateTime) -> bool {
        self.not_before() <= at && at <= self.not_after()
    }

    /// The serial number as lowercase hex without leading zero bytes (Go's `%x` of the
    /// serial), at least one byte.
    pub fn serial_hex(&self) -> String {
        let bytes = self.serial_bytes();
        let first = bytes
            .iter()
            .position(|b| *b != 0)
            .unwrap_or(bytes.len().saturating_sub(1));
        hex(&bytes[first..])
    }

    /// The serial number's INTEGER content bytes, as encoded.
    pub fn serial_bytes(&self) -> &[u8] {
        self.inner
            .parsed
            .tbs_certificate()
            .serial_number()
            .as_bytes()
    }

    /// Lowercase hex of SHA-256 over the DER.
    pub fn sha256_fingerprint(&self) -> String {
        hex(&self.inner.sha256)
    }

    /// Subject equals issuer (byte for byte) and the certificate's own key verifies it.
    pub fn is_self_signed(&self) -> bool {
        self.subject_der() == self.issuer_der() && self.verify_signed_by(self).is_ok()
    }

    /// Whether basicConstraints is present with cA = true.
    pub fn is_ca(&self) -> bool {
        matches!(self.basic_constraints(), Ok(Some((_, bc))) if bc.ca)
    }

    /// The subject public key, if it is one of the six Notary Project key specs.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        // Parsing an RSA key is a bignum operation, and every check of a chain asks for keys
        // again: the first success is kept with the certificate.
        if let Some(key) = self.inner.public_key.get() {
            return Ok(key.clone());
        }
        let key = PublicKey::from_spki(self.spki())?;
        Ok(self.inner.public_key.get_or_init(|| key).clone())
    }

    /// What kind of key the certificate holds (any size or curve).
    pub fn key_algorithm(&self) -> Result<KeyAlgorithm, Error> {
        if let Some(algorithm) = self.inner.key_algorithm.get() {
            return Ok(algorithm.clone());
        }
        let algorithm = KeyAlgorithm::from_spki(self.spki())?;
        Ok(self.inner.key_algorithm.get_or_init(|| algorithm).clone())
    }

    fn spki(&self) -> &spki::SubjectPublicKeyInfoOwned {
        self.inner
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
    }

    /// The basicConstraints extension and its criticality, if present.
    pub fn basic_constraints(&self) -> Result<Option<(bool, BasicConstraints)>, Error> {
        Ok(self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<BasicConstraints>()?)
    }

    /// The keyUsage extension and its criticality, if present.
    pub fn key_usage(&self) -> Result<Option<(bool, KeyUsage)>, Error> {
        Ok(self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<KeyUsage>()?)
    }

    /// The extendedKeyUsage extension (criticality, purposes), if present.
    pub fn extended_key_usage(&self) -> Result<Option<(bool, Vec<ObjectIdentifier>)>, Error> {
        Ok(self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<ExtendedKeyUsage>()?
            .map(|(critical, eku)| (critical, eku.0)))
    }

    /// The subjectKeyIdentifier value, if present (CMS signers may be named by it).
    pub fn subject_key_identifier(&self) -> Option<Vec<u8>> {
        let (_, ski) = self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<SubjectKeyIdentifier>()
            .ok()??;
        Some(ski.0.as_bytes().to_vec())
    }

    /// The keyIdentifier of authorityKeyIdentifier, if present.
    pub fn authority_key_identifier(&self) -> Option<Vec<u8>> {
        let (_, aki) = self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<AuthorityKeyIdentifier>()
            .ok()??;
        Some(aki.key_identifier?.as_bytes().to_vec())
    }

    /// The http(s) URIs of the CRL distribution points (full names only).
    pub fn crl_distribution_points(&self) -> Vec<String> {
        let Ok(Some((_, points))) = self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<CrlDistributionPoints>()
        else {
            return Vec::new();
        };
        points
            .0
            .iter()
            .filter_map(|p| match &p.distribution_point {
                Some(DistributionPointName::FullName(names)) => Some(names),
                _ => None,
            })
            .flatten()
            .filter_map(http_uri)
            .collect()
    }

    /// The OCSP responder URIs from authorityInfoAccess.
    pub fn ocsp_urls(&self) -> Vec<String> {
        let Ok(Some((_, aia))) = self
            .inner
            .parsed
            .tbs_certificate()
            .get_extension::<AuthorityInfoAccessSyntax>()
        else {
            return Vec::new();
        };
        aia.0
            .iter()
            .filter(|d| d.access_method == OID_OCSP)
            .filter_map(|d| http_uri(&d.access_location))
            .collect()
    }

    /// The OID of the certificate's signature algorithm.
    pub fn signature_algorithm_oid(&self) -> ObjectIdentifier {
        self.inner.parsed.signature_algorithm().oid
    }

    /// Checks that `issuer` signed this certificate (signature algorithm from the cert).
    ///
    /// Only the signature is checked: name chaining, CA rules and validity belong to
    /// [`crate::chain`]. SHA-1 signatures fail with [`Error::Sha1Forbidden`].
    pub fn verify_signed_by(&self, issuer: &Certificate) -> Result<(), Error> {
        let key = link_key(self, issuer);
        if VERIFIED_LINKS.get(&key).is_some() {
            return Ok(());
        }
        let signature = self
            .inner
            .parsed
            .signature()
            .as_bytes()
            .ok_or(Error::InvalidSignature)?;
        signature::verify(
            self.inner.parsed.signature_algorithm(),
            issuer.spki(),
            self.tbs_der(),
            signature,
        )?;
        VERIFIED_LINKS.insert(key, ());
        Ok(())
    }
}

/// Certificate signatures already verified in this process.
///
/// A chain is checked several times per verification (integrity, then path building to the
/// trust store) and again for every signature by the same signer, and each check is a public
/// key operation. Whether `cert` verifies under `issuer`'s key depends only on the bytes of
/// both, so a success is remembered under the SHA-256 of the two certificates' SHA-256
/// fingerprints. A failure is never remembered. Enough for every chain a long-running
/// verifier meets; 128 KiB when full.
static VERIFIED_LINKS: Memo<()> = Memo::new(4096);

/// Certificates parsed recently, by the SHA-256 of their DER: parsing is a pure function of
/// the bytes. About 2 KiB of DER and its parsed form each, a few MiB when full.
static PARSED: Memo<Certificate> = Memo::new(1024);

fn link_key(cert: &Certificate, issuer: &Certificate) -> [u8; 32] {
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    context.update(&issuer.inner.sha256);
    context.update(&cert.inner.sha256);
    let mut key = [0u8; 32];
    // A SHA-256 digest is always 32 bytes, so the lengths agree.
    key.copy_from_slice(context.finish().as_ref());
    key
}

impl Certificate {
    /// Verifies a signature made with this certificate's key, under an X.509 signature
    /// algorithm: a CRL's, an OCSP response's, or any other structure signed like a
    /// certificate (PKCS#1 v1.5, RSASSA-PSS, DER ECDSA; SHA-1 refused).
    pub fn verify_signature(
        &self,
        algorithm: &spki::AlgorithmIdentifierOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let spki = self.spki();
        signature::verify(algorithm, spki, message, signature)
    }

    /// Verifies a CMS `SignerInfo` signature (RFC 5652 §5.3) made with this certificate's
    /// key: `signature_algorithm` may be the bare key algorithm (`rsaEncryption`,
    /// `id-ecPublicKey`), in which case the hash is `digest_algorithm`.
    pub fn verify_cms_signature(
        &self,
        digest_algorithm: ObjectIdentifier,
        signature_algorithm: &spki::AlgorithmIdentifierOwned,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let spki = self.spki();
        signature::verify_cms(
            digest_algorithm,
            signature_algorithm,
            spki,
            message,
            signature,
        )
    }
}

fn http_uri(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) => {
            let uri = uri.as_str();
            let lower = uri.to_ascii_lowercase();
            (lower.starts_with("http://") || lower.starts_with("https://")).then(|| uri.to_string())
        }
        _ => None,
    }
}

fn to_offset_date_time(t: x509_cert::time::Time) -> OffsetDateTime {
    let secs = t.to_unix_duration().as_secs();
    // x509-cert times lie between 1970 and 9999, well inside OffsetDateTime's range.
    OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// The byte range of the first element (tbsCertificate) of the outer SEQUENCE.
fn tbs_range(der: &[u8]) -> Result<std::ops::Range<usize>, Error> {
    let mut reader = SliceReader::new(der)?;
    let _outer = Header::decode(&mut reader)?;
    let start = usize::try_from(reader.position())?;
    let tbs = reader.tlv_bytes()?;
    Ok(start..start + tbs.len())
}

/// Splits concatenated DER certificates by their outer TLV lengths.
fn split_der(bytes: &[u8]) -> Result<Vec<&[u8]>, Error> {
    let mut reader = SliceReader::new(bytes)?;
    let mut out = Vec::new();
    while !reader.is_finished() {
        out.push(reader.tlv_bytes()?);
    }
    Ok(out)
}
