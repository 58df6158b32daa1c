//! Key specs, signature algorithms, and signing and verification with aws-lc-rs.
//!
//! The Notary Project signature specification ("Algorithm Selection") derives the signature
//! algorithm from the signing key: RSA keys of 2048/3072/4096 bits sign with RSASSA-PSS over
//! SHA-256/384/512 (salt length = hash length), EC keys on P-256/P-384/P-521 sign with ECDSA
//! over SHA-256/384/512. Envelopes carry ECDSA signatures as raw fixed-size `r || s`. Any other
//! key is unsupported, and an envelope whose `alg` differs from the key's is rejected.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize};
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _, UnparsedPublicKey};
use const_oid::ObjectIdentifier;
use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;

use crate::Error;
use crate::pem;

pub(crate) const OID_RSA_ENCRYPTION: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
pub(crate) const OID_EC_PUBLIC_KEY: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// Named curves: OID, name, field size in bits.
const CURVES: &[(ObjectIdentifier, &str, usize)] = &[
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.1"),
        "P-192",
        192,
    ),
    (ObjectIdentifier::new_unwrap("1.3.132.0.33"), "P-224", 224),
    (
        ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7"),
        "P-256",
        256,
    ),
    (ObjectIdentifier::new_unwrap("1.3.132.0.34"), "P-384", 384),
    (ObjectIdentifier::new_unwrap("1.3.132.0.35"), "P-521", 521),
    (
        ObjectIdentifier::new_unwrap("1.3.132.0.10"),
        "secp256k1",
        256,
    ),
];

/// The key types the Notary Project allows for signing (plugin protocol `keySpec` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeySpec {
    /// RSA, 2048-bit modulus.
    Rsa2048,
    /// RSA, 3072-bit modulus.
    Rsa3072,
    /// RSA, 4096-bit modulus.
    Rsa4096,
    /// ECDSA on NIST P-256.
    EcP256,
    /// ECDSA on NIST P-384.
    EcP384,
    /// ECDSA on NIST P-521.
    EcP521,
}

impl KeySpec {
    /// All six specs.
    pub const ALL: [KeySpec; 6] = [
        KeySpec::Rsa2048,
        KeySpec::Rsa3072,
        KeySpec::Rsa4096,
        KeySpec::EcP256,
        KeySpec::EcP384,
        KeySpec::EcP521,
    ];

    /// The name the plugin protocol and notation use: `RSA-2048` .. `EC-521`.
    pub fn name(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "RSA-2048",
            KeySpec::Rsa3072 => "RSA-3072",
            KeySpec::Rsa4096 => "RSA-4096",
            KeySpec::EcP256 => "EC-256",
            KeySpec::EcP384 => "EC-384",
            KeySpec::EcP521 => "EC-521",
        }
    }

    /// Parses a name given by [`KeySpec::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        KeySpec::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether this is an RSA spec.
    pub fn is_rsa(self) -> bool {
        matches!(self, KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096)
    }

    /// RSA modulus bits or EC field bits.
    pub fn bits(self) -> usize {
        match self {
            KeySpec::Rsa2048 => 2048,
            KeySpec::Rsa3072 => 3072,
            KeySpec::Rsa4096 => 4096,
            KeySpec::EcP256 => 256,
            KeySpec::EcP384 => 384,
            KeySpec::EcP521 => 521,
        }
    }

    fn rsa(bits: usize) -> Result<Self, Error> {
        match bits {
            2048 => Ok(KeySpec::Rsa2048),
            3072 => Ok(KeySpec::Rsa3072),
            4096 => Ok(KeySpec::Rsa4096),
            other => Err(Error::UnsupportedKey(format!("RSA-{other}"))),
        }
    }

    fn ecdsa_signing(self) -> Option<&'static signature::EcdsaSigningAlgorithm> {
        match self {
            KeySpec::EcP256 => Some(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            KeySpec::EcP384 => Some(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            KeySpec::EcP521 => Some(&signature::ECDSA_P521_SHA512_FIXED_SIGNING),
            _ => None,
        }
    }
}

impl KeySpec {
    /// The algorithm sigstore (cosign) uses for this key by default, by its protobuf-specs
    /// name (`PublicKeyDetails`): ECDSA with the curve's own hash, RSA PKCS#1 v1.5 with
    /// SHA-256 at every modulus size.
    pub fn sigstore_algorithm(self) -> &'static str {
        match self {
            KeySpec::Rsa2048 => "PKIX_RSA_PKCS1V15_2048_SHA256",
            KeySpec::Rsa3072 => "PKIX_RSA_PKCS1V15_3072_SHA256",
            KeySpec::Rsa4096 => "PKIX_RSA_PKCS1V15_4096_SHA256",
            KeySpec::EcP256 => "PKIX_ECDSA_P256_SHA_256",
            KeySpec::EcP384 => "PKIX_ECDSA_P384_SHA_384",
            KeySpec::EcP521 => "PKIX_ECDSA_P521_SHA_512",
        }
    }

    fn sigstore_verification(self) -> &'static dyn signature::VerificationAlgorithm {
        match self {
            KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => {
                &signature::RSA_PKCS1_2048_8192_SHA256
            }
            KeySpec::EcP256 => &signature::ECDSA_P256_SHA256_ASN1,
            KeySpec::EcP384 => &signature::ECDSA_P384_SHA384_ASN1,
            KeySpec::EcP521 => &signature::ECDSA_P521_SHA512_ASN1,
        }
    }
}

/// DER `ECDSA-Sig-Value` (RFC 3279) from a fixed-size `r || s`.
fn ecdsa_fixed_to_der(fixed: &[u8]) -> Vec<u8> {
    fn integer(out: &mut Vec<u8>, bytes: &[u8]) {
        let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let trimmed = &bytes[start..];
        let pad = trimmed.first().is_none_or(|b| b & 0x80 != 0);
        out.push(0x02);
        push_len(out, trimmed.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(trimmed);
    }
    fn push_len(out: &mut Vec<u8>, len: usize) {
        // ECDSA values here are at most 2 * (3 + 67) bytes long: one length byte suffices.
        if len < 0x80 {
            out.push(len as u8);
        } else {
            out.extend_from_slice(&[0x81, len as u8]);
        }
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let mut body = Vec::with_capacity(fixed.len() + 8);
    integer(&mut body, r);
    integer(&mut body, s);
    let mut out = Vec::with_capacity(body.len() + 3);
    out.push(0x30);
    push_len(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

impl fmt::Display for KeySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The Notary Project signature algorithms (signature specification, "Algorithm Selection").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// RSASSA-PSS with SHA-256 (salt 32 bytes).
    Ps256,
    /// RSASSA-PSS with SHA-384 (salt 48 bytes).
    Ps384,
    /// RSASSA-PSS with SHA-512 (salt 64 bytes).
    Ps512,
    /// ECDSA on P-256 with SHA-256, raw `r || s`.
    Es256,
    /// ECDSA on P-384 with SHA-384, raw `r || s`.
    Es384,
    /// ECDSA on P-521 with SHA-512, raw `r || s`.
    Es512,
}

impl SignatureAlgorithm {
    /// All six algorithms.
    pub const ALL: [SignatureAlgorithm; 6] = [
        SignatureAlgorithm::Ps256,
        SignatureAlgorithm::Ps384,
        SignatureAlgorithm::Ps512,
        SignatureAlgorithm::Es256,
        SignatureAlgorithm::Es384,
        SignatureAlgorithm::Es512,
    ];

    /// The algorithm a key of this spec must use.
    pub fn for_key(spec: KeySpec) -> Self {
        match spec {
            KeySpec::Rsa2048 => SignatureAlgorithm::Ps256,
            KeySpec::Rsa3072 => SignatureAlgorithm::Ps384,
            KeySpec::Rsa4096 => SignatureAlgorithm::Ps512,
            KeySpec::EcP256 => SignatureAlgorithm::Es256,
            KeySpec::EcP384 => SignatureAlgorithm::Es384,
            KeySpec::EcP521 => SignatureAlgorithm::Es512,
        }
    }

    /// The JWS `alg` name (RFC 7518).
    pub fn jws_name(self) -> &'static str {
        match self {
            SignatureAlgorithm::Ps256 => "PS256",
            SignatureAlgorithm::Ps384 => "PS384",
            SignatureAlgorithm::Ps512 => "PS512",
            SignatureAlgorithm::Es256 => "ES256",
            SignatureAlgorithm::Es384 => "ES384",
            SignatureAlgorithm::Es512 => "ES512",
        }
    }

    /// Parses a JWS `alg` name; `None` for anything the Notary Project does not allow.
    pub fn from_jws_name(name: &str) -> Option<Self> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.jws_name() == name)
    }

    /// The COSE algorithm identifier (RFC 9053).
    pub fn cose_id(self) -> i64 {
        match self {
            SignatureAlgorithm::Ps256 => -37,
            SignatureAlgorithm::Ps384 => -38,
            SignatureAlgorithm::Ps512 => -39,
            SignatureAlgorithm::Es256 => -7,
            SignatureAlgorithm::Es384 => -35,
            SignatureAlgorithm::Es512 => -36,
        }
    }

    /// Parses a COSE algorithm identifier; `None` for anything not allowed.
    pub fn from_cose_id(id: i64) -> Option<Self> {
        SignatureAlgorithm::ALL
            .into_iter()
            .find(|a| a.cose_id() == id)
    }

    /// Length in bytes of the algorithm's hash (also the PSS salt length).
    pub fn hash_len(self) -> usize {
        match self {
            SignatureAlgorithm::Ps256 | SignatureAlgorithm::Es256 => 32,
            SignatureAlgorithm::Ps384 | SignatureAlgorithm::Es384 => 48,
            SignatureAlgorithm::Ps512 | SignatureAlgorithm::Es512 => 64,
        }
    }

    /// The algorithm's hash over `data` (SHA-256/384/512), for timestamp imprints.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        aws_lc_rs::digest::digest(self.digest_algorithm(), data)
            .as_ref()
            .to_vec()
    }

    /// The aws-lc-rs digest algorithm of this signature algorithm.
    pub fn digest_algorithm(self) -> &'static aws_lc_rs::digest::Algorithm {
        match self.hash_len() {
            32 => &aws_lc_rs::digest::SHA256,
            48 => &aws_lc_rs::digest::SHA384,
            _ => &aws_lc_rs::digest::SHA512,
        }
    }

    fn verification(self) -> &'static dyn signature::VerificationAlgorithm {
        match self {
            SignatureAlgorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            SignatureAlgorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            SignatureAlgorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            SignatureAlgorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            SignatureAlgorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
            SignatureAlgorithm::Es512 => &signature::ECDSA_P521_SHA512_FIXED,
        }
    }
}

impl fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.jws_name())
    }
}

/// What kind of public key a certificate holds, whether or not the Notary Project accepts it
/// for signing (roots may hold RSA-8192 keys, for example).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// An RSA key (`rsaEncryption`) with a modulus of this many bits.
    Rsa {
        /// Modulus size in bits (bytes x 8, as Go counts it).
        bits: usize,
    },
    /// An EC key (`id-ecPublicKey`) on a named curve.
    Ec {
        /// The curve's name (`P-256`, ...) or its dotted OID when unknown.
        curve: String,
        /// The curve's field size in bits; 0 when the curve is unknown.
        bits: usize,
    },
    /// Any other key algorithm, by dotted OID.
    Other {
        /// The algorithm OID.
        oid: String,
    },
}

impl KeyAlgorithm {
    /// Identifies the key of a DER `SubjectPublicKeyInfo`.
    pub fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, Error> {
        let oid = spki.algorithm.oid;
        if oid == OID_RSA_ENCRYPTION {
            let raw = spki_key_bytes(spki)?;
            let key = aws_lc_rs::rsa::PublicKey::from_der(raw)
                .map_err(|e| Error::MalformedPublicKey(format!("RSA key rejected: {e}")))?;
            return Ok(KeyAlgorithm::Rsa {
                bits: key.modulus_len() * 8,
            });
        }
        if oid == OID_EC_PUBLIC_KEY {
            let curve_oid = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
                .ok_or_else(|| {
                    Error::MalformedPublicKey("EC key without a named curve".to_string())
                })?;
            let (curve, bits) = CURVES
                .iter()
                .find(|(o, _, _)| *o == curve_oid)
                .map(|(_, name, bits)| ((*name).to_string(), *bits))
                .unwrap_or_else(|| (curve_oid.to_string(), 0));
            return Ok(KeyAlgorithm::Ec { curve, bits });
        }
        Ok(KeyAlgorithm::Other {
            oid: oid.to_string(),
        })
    }

    /// The Notary Project key spec, if the key is one.
    pub fn spec(&self) -> Result<KeySpec, Error> {
        match self {
            KeyAlgorithm::Rsa { bits } => KeySpec::rsa(*bits),
            KeyAlgorithm::Ec { curve, .. } => match curve.as_str() {
                "P-256" => Ok(KeySpec::EcP256),
                "P-384" => Ok(KeySpec::EcP384),
                "P-521" => Ok(KeySpec::EcP521),
                other => Err(Error::UnsupportedKey(format!("EC curve {other}"))),
            },
            KeyAlgorithm::Other { oid } => {
                Err(Error::UnsupportedKey(format!("key algorithm {oid}")))
            }
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyAlgorithm::Rsa { bits } => write!(f, "RSA-{bits}"),
            KeyAlgorithm::Ec { curve, .. } => write!(f, "EC {curve}"),
            KeyAlgorithm::Other { oid } => write!(f, "key algorithm {oid}"),
        }
    }
}

fn spki_key_bytes(spki: &SubjectPublicKeyInfoOwned) -> Result<&[u8], Error> {
    spki.subject_public_key
        .as_bytes()
        .ok_or_else(|| Error::MalformedPublicKey("public key bit string is not whole bytes".into()))
}

/// A Notary Project public key: its spec and encoded key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKey {
    spec: KeySpec,
    /// DER `SubjectPublicKeyInfo`.
    spki_der: Vec<u8>,
    /// The `subjectPublicKey` bits: PKCS#1 `RSAPublicKey` or an uncompressed EC point.
    raw: Vec<u8>,
}

impl PublicKey {
    /// Parses a DER `SubjectPublicKeyInfo`; fails with [`Error::UnsupportedKey`] for keys that
    /// are not one of the six key specs.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, Error> {
        let spki = SubjectPublicKeyInfoOwned::from_der(der)
            .map_err(|e| Error::MalformedPublicKey(e.to_string()))?;
        Self::from_spki(&spki)
    }

    pub(crate) fn from_spki(spki: &SubjectPublicKeyInfoOwned) -> Result<Self, Error> {
        let spec = KeyAlgorithm::from_spki(spki)?.spec()?;
        let spki_der = spki
            .to_der()
            .map_err(|e| Error::MalformedPublicKey(e.to_string()))?;
        let raw = spki_key_bytes(spki)?.to_vec();
        Ok(PublicKey {
            spec,
            spki_der,
            raw,
        })
    }

    /// The key's spec.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The `subjectPublicKey` bits: PKCS#1 `RSAPublicKey` DER or an uncompressed EC point.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// RSASSA-PSS (salt = hash length) or ECDSA with raw r||s signatures.
    ///
    /// `alg` must be the key's algorithm ([`SignatureAlgorithm::for_key`]), else
    /// [`Error::AlgorithmKeyMismatch`].
    pub fn verify(
        &self,
        alg: SignatureAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        let expected = SignatureAlgorithm::for_key(self.spec);
        if alg != expected {
            return Err(Error::AlgorithmKeyMismatch {
                algorithm: alg,
                key: self.spec,
                expected,
            });
        }
        UnparsedPublicKey::new(alg.verification(), &self.raw)
            .verify(message, signature)
            .map_err(|_| Error::InvalidSignature)
    }

    /// Verifies a signature made the way sigstore (cosign) signs with this key by default
    /// ([`KeySpec::sigstore_algorithm`]): ECDSA signatures are ASN.1 DER. cosign before 2.6
    /// hashed with SHA-256 whatever the curve, so P-384 and P-521 signatures over SHA-256 are
    /// accepted too: the same key made them, over a collision-resistant hash.
    pub fn verify_sigstore(&self, message: &[u8], signature: &[u8]) -> Result<(), Error> {
        let by = |alg: &'static dyn signature::VerificationAlgorithm| {
            UnparsedPublicKey::new(alg, &self.raw)
                .verify(message, signature)
                .is_ok()
        };
        let legacy: Option<&'static dyn signature::VerificationAlgorithm> = match self.spec {
            KeySpec::EcP384 => Some(&signature::ECDSA_P384_SHA256_ASN1),
            KeySpec::EcP521 => Some(&signature::ECDSA_P521_SHA256_ASN1),
            _ => None,
        };
        if by(self.spec.sigstore_verification()) || legacy.is_some_and(by) {
            Ok(())
        } else {
            Err(Error::InvalidSignature)
        }
    }

    /// Verifies with an aws-lc-rs algorithm of the caller's choice over the raw key
    /// (used for certificate signatures, whose algorithm comes from the certificate).
    pub(crate) fn verify_raw(
        raw: &[u8],
        alg: &'static dyn signature::VerificationAlgorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Error> {
        UnparsedPublicKey::new(alg, raw)
            .verify(message, signature)
            .map_err(|_| Error::InvalidSignature)
    }
}

/// aws-lc refuses RSA keys outside 2048..=8192 bits outright; say so in the Notary terms.
fn rsa_rejected(e: aws_lc_rs::error::KeyRejected) -> Error {
    match e.to_string().as_str() {
        "TooSmall" => Error::UnsupportedKey("RSA key smaller than 2048 bits".to_string()),
        "TooLarge" => Error::UnsupportedKey("RSA key larger than 8192 bits".to_string()),
        other => Error::InvalidPrivateKey(other.to_string()),
    }
}

enum KeyPair {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// A private key of one of the six key specs, held by aws-lc-rs.
pub struct SigningKey {
    spec: KeySpec,
    pair: KeyPair,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        f.debug_struct("SigningKey")
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// Generates a fresh key.
    pub fn generate(spec: KeySpec) -> Result<Self, Error> {
        let pair = match spec.ecdsa_signing() {
            Some(alg) => {
                KeyPair::Ec(EcdsaKeyPair::generate(alg).map_err(|_| Error::KeyGeneration(spec))?)
            }
            None => {
                let size = match spec {
                    KeySpec::Rsa2048 => KeySize::Rsa2048,
                    KeySpec::Rsa3072 => KeySize::Rsa3072,
                    _ => KeySize::Rsa4096,
                };
                KeyPair::Rsa(RsaKeyPair::generate(size).map_err(|_| Error::KeyGeneration(spec))?)
            }
        };
        Ok(SigningKey { spec, pair })
    }

    /// PEM: PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY", SEC1 "EC PRIVATE KEY".
    ///
    /// Other blocks in the file (such as OpenSSL's "EC PARAMETERS") are skipped; encrypted
    /// keys are not supported.
    pub fn from_pem(pem: &[u8]) -> Result<Self, Error> {
        const EXPECTED: &str = "\"PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\"";
        let blocks = pem::blocks(pem)?;
        let mut other = None;
        for (label, der) in &blocks {
            match label.as_str() {
                "PRIVATE KEY" => return Self::from_pkcs8_der(der),
                "RSA PRIVATE KEY" => {
                    let pair = RsaKeyPair::from_der(der).map_err(rsa_rejected)?;
                    return Self::from_rsa(pair);
                }
                "EC PRIVATE KEY" => return Self::from_sec1_der(der),
                "EC PARAMETERS" => {}
                _ => other = Some(label.clone()),
            }
        }
        Err(Error::UnexpectedPemLabel {
            found: other.unwrap_or_else(|| "(none)".to_string()),
            expected: EXPECTED,
        })
    }

    /// A DER PKCS#8 `PrivateKeyInfo` holding an RSA or EC key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, Error> {
        match RsaKeyPair::from_pkcs8(der) {
            Ok(pair) => return Self::from_rsa(pair),
            Err(e) if matches!(rsa_rejected(e), Error::UnsupportedKey(_)) => {
                return Err(rsa_rejected(e));
            }
            Err(_) => {}
        }
        for spec in [KeySpec::EcP256, KeySpec::EcP384, KeySpec::EcP521] {
            let Some(alg) = spec.ecdsa_signing() else {
                continue;
            };
            if let Ok(pair) = EcdsaKeyPair::from_pkcs8(alg, der) {
                return Ok(SigningKey {
                    spec,
                    pair: KeyPair::Ec(pair),
                });
            }
        }
        Err(Error::InvalidPrivateKey(
            "PKCS#8 key is not an RSA 2048/3072/4096 or EC P-256/P-384/P-521 key".to_string(),
        ))
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self, Error> {
        for spec in [KeySpec::EcP256, KeySpec::EcP384, KeySpec::EcP521] {
            let Some(alg) = spec.ecdsa_signing() else {
                continue;
            };
            if let Ok(pair) = EcdsaKeyPair::from_private_key_der(alg, der) {
                return Ok(SigningKey {
                    spec,
                    pair: KeyPair::Ec(pair),
                });
            }
        }
        Err(Error::InvalidPrivateKey(
            "SEC1 key is not an EC P-256, P-384 or P-521 key".to_string(),
        ))
    }

    fn from_rsa(pair: RsaKeyPair) -> Result<Self, Error> {
        let spec = KeySpec::rsa(pair.public_modulus_len() * 8)?;
        Ok(SigningKey {
            spec,
            pair: KeyPair::Rsa(pair),
        })
    }

    /// The DER PKCS#8 (v1) encoding of the key.
    pub fn to_pkcs8_der(&self) -> Result<Vec<u8>, Error> {
        let der = match &self.pair {
            KeyPair::Rsa(pair) => {
                let doc: aws_lc_rs::encoding::Pkcs8V1Der<'static> =
                    pair.as_der().map_err(|_| Error::Signing(self.spec))?;
                doc.as_ref().to_vec()
            }
            KeyPair::Ec(pair) => pair
                .to_pkcs8v1()
                .map_err(|_| Error::Signing(self.spec))?
                .as_ref()
                .to_vec(),
        };
        Ok(der)
    }

    /// The key as a PKCS#8 "PRIVATE KEY" PEM block.
    pub fn to_pkcs8_pem(&self) -> Result<String, Error> {
        Ok(pem::encode("PRIVATE KEY", &self.to_pkcs8_der()?))
    }

    /// The key's spec.
    pub fn spec(&self) -> KeySpec {
        self.spec
    }

    /// The algorithm this key signs with ([`SignatureAlgorithm::for_key`]).
    pub fn algorithm(&self) -> SignatureAlgorithm {
        SignatureAlgorithm::for_key(self.spec)
    }

    /// Signs `message` with [`SigningKey::algorithm`]: RSASSA-PSS with salt = hash length, or
    /// ECDSA giving raw `r || s`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let encoding: &'static dyn signature::RsaEncoding = match self.spec {
                    KeySpec::Rsa2048 => &signature::RSA_PSS_SHA256,
                    KeySpec::Rsa3072 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(encoding, &rng, message, &mut out)
                    .map_err(|_| Error::Signing(self.spec))?;
                Ok(out)
            }
            KeyPair::Ec(pair) => Ok(pair
                .sign(&rng, message)
                .map_err(|_| Error::Signing(self.spec))?
                .as_ref()
                .to_vec()),
        }
    }

    /// Signs `message` the way sigstore (cosign) does by default for this key
    /// ([`KeySpec::sigstore_algorithm`]): RSA PKCS#1 v1.5 with SHA-256, or ECDSA with the
    /// curve's hash giving an ASN.1 DER signature.
    pub fn sign_sigstore(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let rng = SystemRandom::new();
        match &self.pair {
            KeyPair::Rsa(pair) => {
                let mut out = vec![0u8; pair.public_modulus_len()];
                pair.sign(&signature::RSA_PKCS1_SHA256, &rng, message, &mut out)
                    .map_err(|_| Error::Signing(self.spec))?;
                Ok(out)
            }
            KeyPair::Ec(pair) => {
                let fixed = pair
                    .sign(&rng, message)
                    .map_err(|_| Error::Signing(self.spec))?;
                Ok(ecdsa_fixed_to_der(fixed.as_ref()))
            }
        }
    }

    /// The public half.
    pub fn public_key(&self) -> Result<PublicKey, Error> {
        let spki: PublicKeyX509Der<'static> = match &self.pair {
            KeyPair::Rsa(pair) => pair.public_key().as_der(),
            KeyPair::Ec(pair) => pair.public_key().as_der(),
        }
        .map_err(|_| Error::MalformedPublicKey("cannot encode the public key".to_string()))?;
        PublicKey::from_spki_der(spki.as_ref())
    }
}
