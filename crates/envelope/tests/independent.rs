//! Hallmark's envelopes checked by an independent verifier: `scripts/notary-verify.py`, written
//! from the specification with Python `cryptography` and `cbor2`, sharing no code with us.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use hallmark_envelope::{EnvelopeFormat, SignRequest, sign};
use hallmark_x509::{KeySpec, generate_test_certificate};

use common::{SIGNING_TIME, payload};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The peers' Python with both modules, or `None` with a notice (a failure under CI).
fn python() -> Option<PathBuf> {
    let python = repo().join(".peers/venv/bin/python");
    let usable = Command::new(&python)
        .args(["-c", "import cryptography, cbor2"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if usable {
        return Some(python);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} with cryptography and cbor2 is required in CI",
        python.display()
    );
    println!("skipped: run scripts/install-peers.sh");
    None
}

/// Runs the independent verifier; returns (success, stdout, stderr).
fn notary_verify(python: &Path, envelope: &[u8], format: EnvelopeFormat) -> (bool, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join(format!("envelope.{}.sig", format.extension()));
    std::fs::write(&path, envelope).unwrap();
    let output = Command::new(python)
        .arg(repo().join("scripts/notary-verify.py"))
        .arg(&path)
        .arg(format.extension())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn sign_with(spec: KeySpec, format: EnvelopeFormat) -> Vec<u8> {
    let (key, cert) = generate_test_certificate("independent", spec).unwrap();
    let payload = payload();
    let request = SignRequest {
        payload: &payload,
        signing_time: SIGNING_TIME,
        expiry: Some(SIGNING_TIME + time::Duration::days(30)),
        signing_agent: "hallmark/test",
        key: &key,
        certificate_chain: &[cert],
        timestamper: None,
    };
    sign(format, &request).unwrap()
}

#[test]
fn independent_verifier_accepts_every_key_spec_in_both_formats() {
    let Some(python) = python() else { return };
    let expected: serde_json::Value = serde_json::to_value(payload().target_artifact).unwrap();
    for spec in KeySpec::ALL {
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let envelope = sign_with(spec, format);
            let (ok, stdout, stderr) = notary_verify(&python, &envelope, format);
            assert!(ok, "{spec} {format}: {stderr}");
            let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_eq!(printed, expected, "{spec} {format}");
        }
    }
}

#[test]
fn independent_verifier_rejects_a_tampered_envelope() {
    let Some(python) = python() else { return };
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let mut envelope = sign_with(KeySpec::EcP256, format);
        // The payload names size 481 in both formats; JWS carries it base64url-encoded.
        let tampered = match format {
            EnvelopeFormat::Jws => {
                let mut members: serde_json::Value = serde_json::from_slice(&envelope).unwrap();
                let mut forged = payload();
                forged.target_artifact.size = 482;
                use base64::Engine as _;
                members["payload"] = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .encode(forged.to_sorted_json().unwrap())
                    .into();
                serde_json::to_vec(&members).unwrap()
            }
            EnvelopeFormat::Cose => {
                let at = envelope.windows(4).position(|w| w == b"481}").unwrap();
                envelope[at + 2] = b'2';
                envelope
            }
        };
        let (ok, _, stderr) = notary_verify(&python, &tampered, format);
        assert!(!ok, "{format}: tampered envelope accepted");
        assert!(
            stderr.contains("signature does not verify"),
            "{format}: {stderr}"
        );
    }
}
