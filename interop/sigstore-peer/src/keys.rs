//! cosign key files through sigstore-rs: generation, decryption, and the signer for `sign`.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use sigstore::crypto::signing_key::{SigStoreKeyPair, kdf};
use sigstore::crypto::{SigStoreSigner, SigningScheme};
use sigstore::errors::SigstoreError;

use crate::{Failure, failed};

/// The environment variable cosign reads the key password from.
const PASSWORD_VAR: &str = "COSIGN_PASSWORD";

/// The PEM labels of an encrypted private key (cosign ≥ 2.0.1 and older cosign).
const ENCRYPTED_LABELS: [&str; 2] = [
    "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED COSIGN PRIVATE KEY-----",
];

/// The password from `$COSIGN_PASSWORD`; set but empty is a valid (empty) password.
fn password() -> Result<Vec<u8>, Failure> {
    std::env::var_os(PASSWORD_VAR)
        .map(OsString::into_vec)
        .ok_or_else(|| Failure::Failed(format!("{PASSWORD_VAR} is not set")))
}

/// Writes `contents` to `path` with `mode`, replacing any earlier file.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), Failure> {
    let context = || format!("cannot write {}", path.display());
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(path)
        .map_err(|e| failed(&context(), e))?;
    // `mode` applies only to a file this call created.
    file.set_permissions(fs::Permissions::from_mode(mode))
        .and_then(|()| file.write_all(contents))
        .and_then(|()| file.sync_all())
        .map_err(|e| failed(&context(), e))
}

/// `generate-key-pair`: a new ECDSA P-256 key, written as `PREFIX.key` (encrypted, 0600) and
/// `PREFIX.pub` (PEM `PUBLIC KEY`, 0644), both encoded by sigstore-rs.
pub fn generate_key_pair(prefix: &str) -> Result<(), Failure> {
    let password = password()?;
    let key_pair = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .and_then(|signer| signer.to_sigstore_keypair())
        .map_err(|e| failed("cannot generate a key", e))?;
    let private_pem = key_pair
        .private_key_to_encrypted_pem(&password)
        .map_err(|e| failed("cannot encrypt the private key", e))?;
    let public_pem = key_pair
        .public_key_to_pem()
        .map_err(|e| failed("cannot encode the public key", e))?;

    let key_path = format!("{prefix}.key");
    let pub_path = format!("{prefix}.pub");
    write_file(Path::new(&key_path), private_pem.as_bytes(), 0o600)?;
    write_file(Path::new(&pub_path), public_pem.as_bytes(), 0o644)?;
    println!("Private key written to {key_path}");
    println!("Public key written to {pub_path}");
    Ok(())
}

/// Reads a private key file: encrypted ones with `$COSIGN_PASSWORD`, plain PKCS#8 and SEC1 PEM
/// as they are.
pub fn load_key_pair(path: &str) -> Result<SigStoreKeyPair, Failure> {
    let pem = fs::read(path).map_err(|e| failed(&format!("cannot read {path}"), e))?;
    let text = String::from_utf8_lossy(&pem);
    let context = format!("cannot open the private key {path}");
    if ENCRYPTED_LABELS.iter().any(|label| text.contains(label)) {
        let password = password()?;
        SigStoreKeyPair::from_encrypted_pem(&pem, &password).map_err(|e| {
            let reason = explain_encrypted(&pem, &password).unwrap_or_else(|| e.to_string());
            failed(&context, reason)
        })
    } else {
        SigStoreKeyPair::from_pem(&pem).map_err(|e| failed(&context, e))
    }
}

/// Why sigstore-rs could not open an encrypted key file, when the reason is in the PEM
/// framing or the decryption (a wrong password, an scrypt cost it does not accept) rather
/// than in the key it holds.
fn explain_encrypted(pem: &[u8], password: &[u8]) -> Option<String> {
    let contents = match pem::parse(pem) {
        Ok(block) => block.into_contents(),
        Err(e) => return Some(format!("invalid PEM: {e}")),
    };
    let error = kdf::decrypt(&contents, password).err()?;
    Some(match error {
        // sigstore-rs reports a secretbox that does not open as an *encryption* error.
        SigstoreError::PrivateKeyEncryptError(_) => {
            "wrong password: the secretbox does not authenticate".to_owned()
        }
        other => other.to_string(),
    })
}

/// `public-key`: decrypts a key file and prints its public key as PEM.
///
/// sigstore-rs encodes PEM with CRLF line ends; the key files `generate-key-pair` writes keep
/// them (they are what sigstore-rs users have), but the printed key uses LF, as cosign's
/// `public-key` does, so that it compares equal to a `cosign.pub`.
pub fn print_public_key(path: &str) -> Result<(), Failure> {
    let public_pem = load_key_pair(path)?
        .public_key_to_pem()
        .map_err(|e| failed("cannot encode the public key", e))?;
    print!("{}", public_pem.replace("\r\n", "\n"));
    Ok(())
}

/// The signer for a key pair, with the scheme cosign uses for that key type: ECDSA with the
/// curve's hash and ASN.1 signatures, RSA PKCS#1 v1.5 with SHA-256, or pure Ed25519.
pub fn signer(key_pair: &SigStoreKeyPair) -> Result<SigStoreSigner, Failure> {
    let schemes = [
        SigningScheme::ECDSA_P256_SHA256_ASN1,
        SigningScheme::ECDSA_P384_SHA384_ASN1,
        SigningScheme::ECDSA_P521_SHA512_ASN1,
        SigningScheme::RSA_PKCS1_SHA256(0),
        SigningScheme::ED25519,
    ];
    schemes
        .iter()
        .find_map(|scheme| key_pair.to_sigstore_signer(scheme).ok())
        .ok_or_else(|| Failure::Failed(format!("no signing scheme fits the {key_pair}")))
}
