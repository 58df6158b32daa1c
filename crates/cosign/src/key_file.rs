//! The encrypted private key file cosign writes (`cosign generate-key-pair`), as
//! go-securesystemslib's `encrypted` package defines it.
//!
//! The PEM body is JSON:
//! `{"kdf":{"name":"scrypt","params":{"N":…,"r":8,"p":1},"salt":…},
//!   "cipher":{"name":"nacl/secretbox","nonce":…},"ciphertext":…}`, every byte string standard
//! base64 with padding. The secretbox key is scrypt(password, salt, N, r=8, p=1) with 32 bytes
//! of output; the sealed message is the PKCS#8 DER private key, tag first.
//!
//! cosign since 2.2 writes N = 2^16 and reads 2^15, 2^16 and 2^17; older cosign and the Rust
//! `sigstore` crate read 2^15 (and the crate 2^16). We read all three and write 2^16 unless
//! asked otherwise.

use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Nonce, XSalsa20Poly1305};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// The label cosign writes since 2.0.1.
pub const SIGSTORE_LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
/// The label of older cosign key files, still read.
pub const COSIGN_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";
/// The public key file's label (PKIX SubjectPublicKeyInfo).
pub const PUBLIC_KEY_LABEL: &str = "PUBLIC KEY";

const KDF_NAME: &str = "scrypt";
const CIPHER_NAME: &str = "nacl/secretbox";
const SALT_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const KEY_LEN: usize = 32;

/// The scrypt work factors cosign's readers accept (r = 8, p = 1 always).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScryptCost {
    /// N = 2^15: what cosign before 2.2 and the `sigstore` crate write.
    N32768,
    /// N = 2^16: what cosign 2.2 and later write; the default here.
    N65536,
    /// N = 2^17: read by cosign 2.2 and later only.
    N131072,
}

impl ScryptCost {
    fn log_n(self) -> u8 {
        match self {
            ScryptCost::N32768 => 15,
            ScryptCost::N65536 => 16,
            ScryptCost::N131072 => 17,
        }
    }

    fn n(self) -> u64 {
        1 << self.log_n()
    }

    fn from_n(n: u64) -> Option<Self> {
        [ScryptCost::N32768, ScryptCost::N65536, ScryptCost::N131072]
            .into_iter()
            .find(|c| c.n() == n)
    }
}

/// Why a key file cannot be read or written.
#[derive(Debug, Error)]
pub enum KeyFileError {
    /// No PEM block, or more than one.
    #[error("not a cosign key file: expected one PEM block labelled {SIGSTORE_LABEL:?}")]
    NotPem,
    /// A PEM block of another kind.
    #[error(
        "PEM block {0:?} is not an encrypted cosign key (expected {SIGSTORE_LABEL:?} or \
         {COSIGN_LABEL:?}); an unencrypted key can be imported with `hallmark cosign \
         import-key-pair`"
    )]
    WrongLabel(String),
    /// The block's bytes are not the JSON cosign writes.
    #[error("the key file's content is not cosign's encrypted-key JSON: {0}")]
    Malformed(String),
    /// A key derivation other than scrypt.
    #[error("unsupported key derivation {0:?}: cosign key files use scrypt")]
    UnsupportedKdf(String),
    /// scrypt parameters cosign's readers would refuse.
    #[error(
        "unsupported scrypt parameters N={n}, r={r}, p={p}: cosign reads N of 32768, 65536 or \
         131072 with r=8 and p=1"
    )]
    UnsupportedScrypt {
        /// Cost.
        n: u64,
        /// Block size.
        r: u32,
        /// Parallelism.
        p: u32,
    },
    /// A cipher other than NaCl secretbox.
    #[error("unsupported cipher {0:?}: cosign key files use nacl/secretbox")]
    UnsupportedCipher(String),
    /// Salt or nonce of the wrong length.
    #[error("the key file's {what} is {found} bytes, expected {expected}")]
    BadLength {
        /// `salt` or `nonce`.
        what: &'static str,
        /// Its length.
        found: usize,
        /// The length required.
        expected: usize,
    },
    /// The secretbox did not open: the password is wrong or the file was altered.
    #[error("cannot decrypt the key: wrong password, or the key file was altered")]
    Decryption,
    /// The secretbox refused to seal the key (it was too large to encrypt).
    #[error("cannot encrypt the key")]
    Seal,
    /// Randomness for the salt or nonce was not available.
    #[error("the system random generator failed")]
    Random,
    /// A public key file without a `PUBLIC KEY` block.
    #[error("not a public key file: expected a PEM block labelled \"PUBLIC KEY\"")]
    NotPublicKey,
    /// The decrypted key is not one Hallmark can sign with.
    #[error("the decrypted private key cannot be used")]
    Key(#[source] hallmark_x509::Error),
}

#[derive(Debug, Serialize, Deserialize)]
struct EncryptedKey {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

/// Standard base64 with padding, as Go's `[]byte` JSON encoding writes it.
mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

fn derive_key(
    password: &[u8],
    salt: &[u8],
    cost: ScryptCost,
) -> Result<[u8; KEY_LEN], KeyFileError> {
    let refused = || KeyFileError::UnsupportedScrypt {
        n: cost.n(),
        r: 8,
        p: 1,
    };
    let params = scrypt::Params::new(cost.log_n(), 8, 1).map_err(|_| refused())?;
    let mut key = [0u8; KEY_LEN];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|_| refused())?;
    Ok(key)
}

fn random<const N: usize>() -> Result<[u8; N], KeyFileError> {
    let mut bytes = [0u8; N];
    aws_lc_rs::rand::fill(&mut bytes).map_err(|_| KeyFileError::Random)?;
    Ok(bytes)
}

/// Seals a PKCS#8 DER private key under `password`; returns the PEM text of `cosign.key`.
pub fn encrypt(
    pkcs8_der: &[u8],
    password: &[u8],
    cost: ScryptCost,
) -> Result<String, KeyFileError> {
    let salt: [u8; SALT_LEN] = random()?;
    let nonce: [u8; NONCE_LEN] = random()?;
    let key = derive_key(password, &salt, cost)?;
    let ciphertext = XSalsa20Poly1305::new(&key.into())
        .encrypt(Nonce::from_slice(&nonce), pkcs8_der)
        .map_err(|_| KeyFileError::Seal)?;
    let document = EncryptedKey {
        kdf: Kdf {
            name: KDF_NAME.to_owned(),
            params: ScryptParams {
                n: cost.n(),
                r: 8,
                p: 1,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: CIPHER_NAME.to_owned(),
            nonce: nonce.to_vec(),
        },
        ciphertext,
    };
    let json = serde_json::to_vec(&document).map_err(|e| KeyFileError::Malformed(e.to_string()))?;
    Ok(hallmark_x509::pem::encode(SIGSTORE_LABEL, &json))
}

/// Opens a `cosign.key` (either label, any N cosign reads) with `password`; returns the PKCS#8
/// DER private key.
pub fn decrypt(pem: &[u8], password: &[u8]) -> Result<Vec<u8>, KeyFileError> {
    let blocks = hallmark_x509::pem::blocks(pem).map_err(|_| KeyFileError::NotPem)?;
    let [(label, body)] = blocks.as_slice() else {
        return Err(KeyFileError::NotPem);
    };
    if label != SIGSTORE_LABEL && label != COSIGN_LABEL {
        return Err(KeyFileError::WrongLabel(label.clone()));
    }
    let document: EncryptedKey =
        serde_json::from_slice(body).map_err(|e| KeyFileError::Malformed(e.to_string()))?;

    if document.kdf.name != KDF_NAME {
        return Err(KeyFileError::UnsupportedKdf(document.kdf.name));
    }
    let ScryptParams { n, r, p } = document.kdf.params;
    let cost = ScryptCost::from_n(n)
        .filter(|_| r == 8 && p == 1)
        .ok_or(KeyFileError::UnsupportedScrypt { n, r, p })?;
    if document.cipher.name != CIPHER_NAME {
        return Err(KeyFileError::UnsupportedCipher(document.cipher.name));
    }
    if document.kdf.salt.len() != SALT_LEN {
        return Err(KeyFileError::BadLength {
            what: "salt",
            found: document.kdf.salt.len(),
            expected: SALT_LEN,
        });
    }
    if document.cipher.nonce.len() != NONCE_LEN {
        return Err(KeyFileError::BadLength {
            what: "nonce",
            found: document.cipher.nonce.len(),
            expected: NONCE_LEN,
        });
    }

    let key = derive_key(password, &document.kdf.salt, cost)?;
    XSalsa20Poly1305::new(&key.into())
        .decrypt(
            Nonce::from_slice(&document.cipher.nonce),
            document.ciphertext.as_slice(),
        )
        .map_err(|_| KeyFileError::Decryption)
}

/// Opens a key file and loads the key for signing.
pub fn load_signing_key(
    pem: &[u8],
    password: &[u8],
) -> Result<hallmark_x509::SigningKey, KeyFileError> {
    let der = decrypt(pem, password)?;
    hallmark_x509::SigningKey::from_pkcs8_der(&der).map_err(KeyFileError::Key)
}

/// The `cosign.pub` text for a key: PEM `PUBLIC KEY` (PKIX).
pub fn public_key_pem(key: &hallmark_x509::SigningKey) -> Result<String, KeyFileError> {
    let public = key.public_key().map_err(KeyFileError::Key)?;
    Ok(hallmark_x509::pem::encode(
        PUBLIC_KEY_LABEL,
        public.spki_der(),
    ))
}

/// Reads a `cosign.pub` (PEM `PUBLIC KEY`, PKIX).
pub fn load_public_key(pem: &[u8]) -> Result<hallmark_x509::PublicKey, KeyFileError> {
    let blocks = hallmark_x509::pem::blocks(pem).map_err(|_| KeyFileError::NotPublicKey)?;
    let der = blocks
        .iter()
        .find(|(label, _)| label == PUBLIC_KEY_LABEL)
        .map(|(_, der)| der)
        .ok_or(KeyFileError::NotPublicKey)?;
    hallmark_x509::PublicKey::from_spki_der(der).map_err(KeyFileError::Key)
}
