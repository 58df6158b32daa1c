//! cosign key files: what we write opens again under every label and cost cosign reads, and
//! each way a file can be wrong is refused by the rule it breaks.

#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_cosign::key_file::{self, COSIGN_LABEL, SIGSTORE_LABEL};
use hallmark_cosign::{KeyFileError, ScryptCost};
use hallmark_x509::{KeySpec, SigningKey};

fn key_der() -> Vec<u8> {
    SigningKey::generate(KeySpec::EcP256)
        .unwrap()
        .to_pkcs8_der()
        .unwrap()
}

#[test]
fn round_trip_at_every_cost_cosign_reads() {
    let der = key_der();
    for cost in [ScryptCost::N32768, ScryptCost::N65536, ScryptCost::N131072] {
        let pem = key_file::encrypt(&der, b"correct horse", cost).unwrap();
        assert!(pem.starts_with(&format!("-----BEGIN {SIGSTORE_LABEL}-----\n")));
        assert_eq!(
            key_file::decrypt(pem.as_bytes(), b"correct horse").unwrap(),
            der
        );
    }
}

#[test]
fn the_older_cosign_label_is_read() {
    let der = key_der();
    let pem = key_file::encrypt(&der, b"pw", ScryptCost::N32768)
        .unwrap()
        .replace(SIGSTORE_LABEL, COSIGN_LABEL);
    assert_eq!(key_file::decrypt(pem.as_bytes(), b"pw").unwrap(), der);
}

#[test]
fn empty_password_is_a_password() {
    let der = key_der();
    let pem = key_file::encrypt(&der, b"", ScryptCost::N32768).unwrap();
    assert_eq!(key_file::decrypt(pem.as_bytes(), b"").unwrap(), der);
    assert!(matches!(
        key_file::decrypt(pem.as_bytes(), b" "),
        Err(KeyFileError::Decryption)
    ));
}

#[test]
fn wrong_password_is_refused() {
    let pem = key_file::encrypt(&key_der(), b"right", ScryptCost::N32768).unwrap();
    let err = key_file::decrypt(pem.as_bytes(), b"wrong").unwrap_err();
    assert!(matches!(err, KeyFileError::Decryption), "{err}");
    assert!(err.to_string().contains("wrong password"));
}

/// The JSON inside a key file, edited and put back.
fn edited(pem: &str, edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let blocks = hallmark_x509::pem::blocks(pem.as_bytes()).unwrap();
    let mut json: serde_json::Value = serde_json::from_slice(&blocks[0].1).unwrap();
    edit(&mut json);
    hallmark_x509::pem::encode(SIGSTORE_LABEL, &serde_json::to_vec(&json).unwrap())
}

#[test]
fn altered_ciphertext_is_refused() {
    let pem = key_file::encrypt(&key_der(), b"pw", ScryptCost::N32768).unwrap();
    let altered = edited(&pem, |j| {
        let text = j["ciphertext"].as_str().unwrap().to_owned();
        let flipped = if text.starts_with('A') { "B" } else { "A" };
        j["ciphertext"] = format!("{flipped}{}", &text[1..]).into();
    });
    assert!(matches!(
        key_file::decrypt(altered.as_bytes(), b"pw"),
        Err(KeyFileError::Decryption)
    ));
}

/// Whether an error is the one a case expects.
type Expect = fn(&KeyFileError) -> bool;

#[test]
fn each_malformed_part_names_its_rule() {
    let pem = key_file::encrypt(&key_der(), b"pw", ScryptCost::N32768).unwrap();
    let cases: Vec<(&str, String, Expect)> = vec![
        (
            "scrypt cost no reader accepts",
            edited(&pem, |j| j["kdf"]["params"]["N"] = 1024.into()),
            |e| matches!(e, KeyFileError::UnsupportedScrypt { n: 1024, .. }),
        ),
        (
            "scrypt block size other than 8",
            edited(&pem, |j| j["kdf"]["params"]["r"] = 16.into()),
            |e| matches!(e, KeyFileError::UnsupportedScrypt { r: 16, .. }),
        ),
        (
            "another key derivation",
            edited(&pem, |j| j["kdf"]["name"] = "pbkdf2".into()),
            |e| matches!(e, KeyFileError::UnsupportedKdf(n) if n == "pbkdf2"),
        ),
        (
            "another cipher",
            edited(&pem, |j| j["cipher"]["name"] = "aes-gcm".into()),
            |e| matches!(e, KeyFileError::UnsupportedCipher(n) if n == "aes-gcm"),
        ),
        (
            "short salt",
            edited(&pem, |j| j["kdf"]["salt"] = "AAAA".into()),
            |e| matches!(e, KeyFileError::BadLength { what: "salt", .. }),
        ),
        (
            "short nonce",
            edited(&pem, |j| j["cipher"]["nonce"] = "AAAA".into()),
            |e| matches!(e, KeyFileError::BadLength { what: "nonce", .. }),
        ),
        (
            "ciphertext that is not base64",
            edited(&pem, |j| j["ciphertext"] = "not base64!".into()),
            |e| matches!(e, KeyFileError::Malformed(_)),
        ),
        ("truncated file", pem[..pem.len() / 2].to_owned(), |e| {
            matches!(e, KeyFileError::NotPem)
        }),
        (
            "an unencrypted key",
            hallmark_x509::pem::encode("PRIVATE KEY", &key_der()),
            |e| matches!(e, KeyFileError::WrongLabel(l) if l == "PRIVATE KEY"),
        ),
        ("no PEM at all", "hello".to_owned(), |e| {
            matches!(e, KeyFileError::NotPem)
        }),
        ("two key blocks", format!("{pem}{pem}"), |e| {
            matches!(e, KeyFileError::NotPem)
        }),
    ];
    for (name, file, expected) in cases {
        let err = key_file::decrypt(file.as_bytes(), b"pw").unwrap_err();
        assert!(expected(&err), "{name}: {err:?}");
    }
}

fn python() -> Option<PathBuf> {
    let python = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers/venv/bin/python");
    let usable = Command::new(&python)
        .args(["-c", "import nacl, cryptography"])
        .output()
        .is_ok_and(|o| o.status.success());
    if usable {
        return Some(python);
    }
    // CI always has the peers: a skip there would hide a missing check.
    assert!(
        std::env::var_os("CI").is_none(),
        "pynacl must be installed under CI"
    );
    println!("skipped: run scripts/install-peers.sh");
    None
}

/// PyNaCl's secretbox and Python's scrypt, which share no code with ours, open our file.
#[test]
fn an_independent_implementation_opens_our_key_file() {
    let Some(python) = python() else { return };
    let key = SigningKey::generate(KeySpec::EcP256).unwrap();
    let der = key.to_pkcs8_der().unwrap();
    let pem = key_file::encrypt(&der, b"interop", ScryptCost::N65536).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("cosign.key");
    std::fs::write(&path, &pem).unwrap();
    let script = r#"
import base64, hashlib, json, sys
import nacl.secret
from cryptography.hazmat.primitives import serialization as ser
text = open(sys.argv[1]).read()
body = "".join(l for l in text.splitlines() if l and not l.startswith("-----"))
doc = json.loads(base64.b64decode(body))
p = doc["kdf"]["params"]
key = hashlib.scrypt(sys.argv[2].encode(), salt=base64.b64decode(doc["kdf"]["salt"]),
                     n=p["N"], r=p["r"], p=p["p"], maxmem=256 * 1024 * 1024, dklen=32)
der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(doc["ciphertext"]),
                                         base64.b64decode(doc["cipher"]["nonce"]))
public = ser.load_der_private_key(der, password=None).public_key()
spki = public.public_bytes(ser.Encoding.DER, ser.PublicFormat.SubjectPublicKeyInfo)
sys.stdout.write(spki.hex())
"#;
    let out = Command::new(python)
        .args(["-c", script])
        .arg(&path)
        .arg("interop")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let spki = key.public_key().unwrap().spki_der().to_vec();
    let hex: String = spki.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(String::from_utf8_lossy(&out.stdout), hex);
}
