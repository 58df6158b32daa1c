//! Notary v1 public keys, key IDs and signature methods (`tuf/data/keys.go`,
//! `tuf/signed/verifiers.go`).
//!
//! A key object is `{"keytype": T, "keyval": {"public": base64, "private": null}}`. The public
//! bytes depend on the type: `ecdsa` and `rsa` hold a DER `SubjectPublicKeyInfo`, `ecdsa-x509`
//! and `rsa-x509` a PEM certificate (whose first block is the key's certificate), `ed25519`
//! the raw 32-byte key. A key's ID is the SHA-256 of the canonical JSON of that object with
//! `"private": null` (TUF 1.0 §4.2 "KEYID"; Notary keeps the `private` member).
//!
//! Notary also has a *canonical* key ID for certificate keys (`utils.CanonicalKeyID`): the ID
//! the certificate's public key would have as a plain `ecdsa`/`rsa` key. It names private key
//! files (`private/<id>.key`) and `notary key list` rows, never a key in metadata.
//!
//! Signature methods: `ecdsa` (SHA-256, raw r‖s or ASN.1 DER, on any curve), `eddsa`,
//! `rsapss` (SHA-256, salt 32) and `rsapkcs1v15` (SHA-256), each only with its key types.
//! All verification goes through aws-lc-rs.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::signature::{self, UnparsedPublicKey, VerificationAlgorithm};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_x509::{Certificate, KeySpec};
use serde::Deserialize;
use serde_json::json;

use crate::canonical::to_canonical;
use crate::error::{KeyError, Rejection};

/// A key ID: 64 lowercase hex digits, SHA-256 of the key's canonical JSON.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// The ID as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The ID of a key object of `key_type` with these public bytes.
    pub fn compute(key_type: KeyType, public: &[u8]) -> KeyId {
        let object = json!({
            "keytype": key_type.as_str(),
            "keyval": {"private": null, "public": STANDARD.encode(public)},
        });
        // Strings and null only: the canonical form always exists.
        let bytes = to_canonical(&object).unwrap_or_default();
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &bytes);
        KeyId(hex(digest.as_ref()))
    }
}

impl FromStr for KeyId {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let hex_digits = s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if s.len() == 64 && hex_digits {
            Ok(KeyId(s.to_string()))
        } else {
            Err(KeyError::MalformedKeyId(s.to_string()))
        }
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for KeyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The key types Notary v1 writes (`keytype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ecdsa`: DER `SubjectPublicKeyInfo` of an EC key.
    Ecdsa,
    /// `ecdsa-x509`: PEM certificate holding an EC key.
    EcdsaX509,
    /// `rsa`: DER `SubjectPublicKeyInfo` of an RSA key.
    Rsa,
    /// `rsa-x509`: PEM certificate holding an RSA key.
    RsaX509,
    /// `ed25519`: the raw 32-byte key.
    Ed25519,
}

impl KeyType {
    /// The name in metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ecdsa => "ecdsa",
            KeyType::EcdsaX509 => "ecdsa-x509",
            KeyType::Rsa => "rsa",
            KeyType::RsaX509 => "rsa-x509",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// Whether the public bytes are a certificate.
    pub fn is_x509(self) -> bool {
        matches!(self, KeyType::EcdsaX509 | KeyType::RsaX509)
    }

    fn is_ecdsa(self) -> bool {
        matches!(self, KeyType::Ecdsa | KeyType::EcdsaX509)
    }

    fn is_rsa(self) -> bool {
        matches!(self, KeyType::Rsa | KeyType::RsaX509)
    }
}

impl FromStr for KeyType {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "ecdsa" => KeyType::Ecdsa,
            "ecdsa-x509" => KeyType::EcdsaX509,
            "rsa" => KeyType::Rsa,
            "rsa-x509" => KeyType::RsaX509,
            "ed25519" => KeyType::Ed25519,
            other => return Err(KeyError::UnsupportedKeyType(other.to_string())),
        })
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Signature methods (`method` of a signature; Notary lower-cases it when decoding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureMethod {
    /// `ecdsa`: SHA-256, raw r‖s (the usual form) or ASN.1 DER.
    Ecdsa,
    /// `eddsa`: Ed25519.
    Eddsa,
    /// `rsapss`: RSASSA-PSS, SHA-256, salt length 32.
    RsaPss,
    /// `rsapkcs1v15`: RSASSA-PKCS1-v1_5, SHA-256.
    RsaPkcs1v15,
    /// Any other method (including `pycrypto-pkcs#1 pss`, which Notary itself never verified
    /// interoperably): never valid.
    Unsupported(String),
}

impl SignatureMethod {
    /// Parses a method name, ignoring ASCII case as Notary does.
    pub fn parse(name: &str) -> SignatureMethod {
        match name.to_ascii_lowercase().as_str() {
            "ecdsa" => SignatureMethod::Ecdsa,
            "eddsa" => SignatureMethod::Eddsa,
            "rsapss" => SignatureMethod::RsaPss,
            "rsapkcs1v15" => SignatureMethod::RsaPkcs1v15,
            _ => SignatureMethod::Unsupported(name.to_string()),
        }
    }

    /// The name in metadata.
    pub fn as_str(&self) -> &str {
        match self {
            SignatureMethod::Ecdsa => "ecdsa",
            SignatureMethod::Eddsa => "eddsa",
            SignatureMethod::RsaPss => "rsapss",
            SignatureMethod::RsaPkcs1v15 => "rsapkcs1v15",
            SignatureMethod::Unsupported(name) => name,
        }
    }
}

impl fmt::Display for SignatureMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a key verifies with, parsed once.
#[derive(Debug, Clone)]
enum Material {
    /// Curve and uncompressed point.
    Ec { spec: KeySpec, point: Vec<u8> },
    /// PKCS#1 `RSAPublicKey` DER.
    Rsa { pkcs1: Vec<u8> },
    /// Raw Ed25519 key.
    Ed25519(Vec<u8>),
}

/// A public key from metadata: its type, exact public bytes, ID and parsed material.
#[derive(Debug, Clone)]
pub struct PublicKey {
    key_type: KeyType,
    public: Vec<u8>,
    id: KeyId,
    material: Material,
    certificate: Option<Certificate>,
}

#[derive(Deserialize)]
struct KeyObject {
    keytype: String,
    keyval: KeyVal,
}

#[derive(Deserialize)]
struct KeyVal {
    public: String,
    #[serde(default)]
    private: Option<serde_json::Value>,
}

impl PublicKey {
    /// Parses a key object as it appears in a `keys` map.
    pub fn from_json(value: &serde_json::Value) -> Result<Self, KeyError> {
        let object = KeyObject::deserialize(value).map_err(|_| KeyError::MalformedKeyObject)?;
        if object.keyval.private.is_some_and(|p| !p.is_null()) {
            return Err(KeyError::PrivateKeyInMetadata);
        }
        let public = STANDARD
            .decode(object.keyval.public.as_bytes())
            .map_err(|_| KeyError::PublicNotBase64)?;
        PublicKey::new(object.keytype.parse()?, public)
    }

    /// A key of `key_type` with these public bytes.
    pub fn new(key_type: KeyType, public: Vec<u8>) -> Result<Self, KeyError> {
        let (material, certificate) = match key_type {
            KeyType::Ed25519 => {
                if public.len() != 32 {
                    return Err(KeyError::Ed25519Length(public.len()));
                }
                (Material::Ed25519(public.clone()), None)
            }
            KeyType::Ecdsa | KeyType::Rsa => (material_from_spki(key_type, &public)?, None),
            KeyType::EcdsaX509 | KeyType::RsaX509 => {
                let certificates =
                    Certificate::parse_many(&public).map_err(KeyError::MalformedCertificate)?;
                // parse_many never returns an empty list.
                let Some(leaf) = certificates.into_iter().next() else {
                    return Err(KeyError::MalformedKeyObject);
                };
                let key = leaf.public_key().map_err(KeyError::MalformedPublicKey)?;
                (material_from_spki(key_type, key.spki_der())?, Some(leaf))
            }
        };
        let id = KeyId::compute(key_type, &public);
        Ok(PublicKey {
            key_type,
            public,
            id,
            material,
            certificate,
        })
    }

    /// The key's type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The public bytes exactly as in metadata (decoded from base64).
    pub fn public(&self) -> &[u8] {
        &self.public
    }

    /// The key ID: SHA-256 over the canonical key object.
    pub fn id(&self) -> &KeyId {
        &self.id
    }

    /// The certificate of an `*-x509` key.
    pub fn certificate(&self) -> Option<&Certificate> {
        self.certificate.as_ref()
    }

    /// Notary's canonical key ID: for a certificate key, the ID of its public key as a plain
    /// `ecdsa`/`rsa` key; for other keys, [`PublicKey::id`].
    pub fn canonical_id(&self) -> KeyId {
        let Some(certificate) = &self.certificate else {
            return self.id.clone();
        };
        let plain = match self.key_type {
            KeyType::RsaX509 => KeyType::Rsa,
            _ => KeyType::Ecdsa,
        };
        match certificate.public_key() {
            Ok(key) => KeyId::compute(plain, key.spki_der()),
            // Parsed successfully in `new`, and the result is cached by the certificate.
            Err(_) => self.id.clone(),
        }
    }

    /// The key itself, whatever wraps it: equal for a plain `ecdsa`/`rsa` key and an `*-x509`
    /// certificate of the same key, for a re-encoded certificate, and for an EC point written
    /// compressed or uncompressed. Key IDs hash the wrapping, so one key can appear under
    /// several IDs; a threshold counts each key once by this value.
    pub fn material_id(&self) -> Vec<u8> {
        match &self.material {
            Material::Ec { spec, point } => {
                // SEC 1: 04‖x‖y (or 06/07‖x‖y) uncompressed, 02/03‖x compressed; the
                // curve, x and the parity of y name the point in every form.
                let (x, odd) = match point.split_first() {
                    Some((&prefix @ (0x02 | 0x03), x)) => (x, prefix & 1),
                    Some((_, xy)) => {
                        let (x, y) = xy.split_at(xy.len() / 2);
                        (x, y.last().map_or(0, |b| b & 1))
                    }
                    None => (&[][..], 0),
                };
                let mut id = format!("ec:{spec:?}:{odd}:").into_bytes();
                id.extend_from_slice(x);
                id
            }
            // aws-lc-rs accepts only DER (minimal) `RSAPublicKey` encodings, so equal keys
            // that verify have equal bytes.
            Material::Rsa { pkcs1 } => [b"rsa:".as_slice(), pkcs1].concat(),
            Material::Ed25519(raw) => [b"ed25519:".as_slice(), raw].concat(),
        }
    }

    /// Verifies `signature` over `message` with `method`, as Notary's verifiers do.
    pub fn verify(
        &self,
        method: &SignatureMethod,
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), Rejection> {
        let mismatch = || Rejection::MethodKeyMismatch {
            method: method.as_str().to_string(),
            key_type: self.key_type,
        };
        let (algorithm, key, signature): Verification<'_> = match (method, &self.material) {
            (SignatureMethod::Unsupported(name), _) => {
                return Err(Rejection::UnsupportedMethod(name.clone()));
            }
            (SignatureMethod::Ecdsa, Material::Ec { spec, point }) => {
                ecdsa_params(*spec, point, signature)?
            }
            (SignatureMethod::Eddsa, Material::Ed25519(raw)) => {
                (&signature::ED25519, raw, signature.to_vec())
            }
            (SignatureMethod::RsaPss, Material::Rsa { pkcs1 }) => (
                &signature::RSA_PSS_2048_8192_SHA256,
                pkcs1,
                signature.to_vec(),
            ),
            (SignatureMethod::RsaPkcs1v15, Material::Rsa { pkcs1 }) => (
                &signature::RSA_PKCS1_2048_8192_SHA256,
                pkcs1,
                signature.to_vec(),
            ),
            _ => return Err(mismatch()),
        };
        UnparsedPublicKey::new(algorithm, key)
            .verify(message, &signature)
            .map_err(|_| Rejection::BadSignature)
    }
}

/// An aws-lc-rs algorithm, the key bytes it takes and the signature in the form it takes.
type Verification<'a> = (&'static dyn VerificationAlgorithm, &'a [u8], Vec<u8>);

/// Notary hashes with SHA-256 whatever the curve, and accepts raw r‖s (each half the
/// curve's byte length) or ASN.1 DER; aws-lc-rs has SHA-256 for every curve in DER form only.
fn ecdsa_params<'a>(
    spec: KeySpec,
    point: &'a [u8],
    signature: &[u8],
) -> Result<Verification<'a>, Rejection> {
    let (algorithm, half): (&'static dyn VerificationAlgorithm, usize) = match spec {
        KeySpec::EcP256 => (&signature::ECDSA_P256_SHA256_ASN1, 32),
        KeySpec::EcP384 => (&signature::ECDSA_P384_SHA256_ASN1, 48),
        KeySpec::EcP521 => (&signature::ECDSA_P521_SHA256_ASN1, 66),
        _ => return Err(Rejection::BadSignature),
    };
    let der = if signature.len() == 2 * half {
        raw_to_der(&signature[..half], &signature[half..])
    } else {
        signature.to_vec()
    };
    Ok((algorithm, point, der))
}

/// `ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }` from big-endian halves.
fn raw_to_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    fn integer(bytes: &[u8]) -> Vec<u8> {
        let first = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
        let mut content = bytes[first..].to_vec();
        if content.first().is_none_or(|b| *b & 0x80 != 0) {
            content.insert(0, 0);
        }
        let mut out = vec![0x02];
        push_length(&mut out, content.len());
        out.extend_from_slice(&content);
        out
    }
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30];
    push_length(&mut out, body.len());
    out.extend_from_slice(&body);
    out
}

fn push_length(out: &mut Vec<u8>, len: usize) {
    // Two 67-byte integers at most (P-521): always under 256.
    if len < 0x80 {
        out.push(len as u8);
    } else {
        out.push(0x81);
        out.push(len as u8);
    }
}

fn material_from_spki(key_type: KeyType, spki: &[u8]) -> Result<Material, KeyError> {
    let key =
        hallmark_x509::PublicKey::from_spki_der(spki).map_err(KeyError::MalformedPublicKey)?;
    let spec = key.spec();
    match spec {
        KeySpec::EcP256 | KeySpec::EcP384 | KeySpec::EcP521 if key_type.is_ecdsa() => {
            Ok(Material::Ec {
                spec,
                point: key.raw().to_vec(),
            })
        }
        _ if key_type.is_rsa() && spec.is_rsa() => Ok(Material::Rsa {
            pkcs1: key.raw().to_vec(),
        }),
        _ => Err(KeyError::KeyTypeMismatch {
            key_type,
            found: spec,
        }),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}
