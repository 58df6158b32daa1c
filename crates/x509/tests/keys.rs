//! Signing and verification with the six Notary Project key specs, and key import.

// Tests assert by unwrapping: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use der::asn1::{AnyRef, OctetString};
use der::{Decode, Reader, SliceReader};
use hallmark_x509::{Error, KeySpec, SignatureAlgorithm, SigningKey};

const MESSAGE: &[u8] = b"eyJhbGciOiJQUzI1NiJ9.eyJ0YXJnZXRBcnRpZmFjdCI6e319";

/// One key per spec, generated once: RSA-4096 generation is slow in debug builds.
fn keys() -> &'static [SigningKey] {
    static KEYS: std::sync::OnceLock<Vec<SigningKey>> = std::sync::OnceLock::new();
    KEYS.get_or_init(|| {
        KeySpec::ALL
            .into_iter()
            .map(|s| SigningKey::generate(s).unwrap())
            .collect()
    })
}

#[test]
fn sign_verify_round_trip_for_every_key_spec() {
    for key in keys() {
        let spec = key.spec();
        let algorithm = SignatureAlgorithm::for_key(spec);
        let signature = key.sign(MESSAGE).unwrap();
        let public = key.public_key().unwrap();
        assert_eq!(public.spec(), spec);

        public.verify(algorithm, MESSAGE, &signature).unwrap();
        assert!(matches!(
            public.verify(algorithm, b"another message", &signature),
            Err(Error::InvalidSignature)
        ));

        // RSA signatures are modulus-sized; ECDSA ones are raw r || s.
        let expected_len = match spec {
            KeySpec::Rsa2048 => 256,
            KeySpec::Rsa3072 => 384,
            KeySpec::Rsa4096 => 512,
            KeySpec::EcP256 => 64,
            KeySpec::EcP384 => 96,
            KeySpec::EcP521 => 132,
        };
        assert_eq!(signature.len(), expected_len, "{spec}");
    }
}

#[test]
fn algorithm_key_mismatch_is_rejected() {
    let key = SigningKey::generate(KeySpec::EcP256).unwrap();
    let signature = key.sign(MESSAGE).unwrap();
    let public = key.public_key().unwrap();
    for algorithm in SignatureAlgorithm::ALL {
        if algorithm == SignatureAlgorithm::Es256 {
            continue;
        }
        let err = public.verify(algorithm, MESSAGE, &signature).unwrap_err();
        assert!(
            matches!(
                err,
                Error::AlgorithmKeyMismatch {
                    key: KeySpec::EcP256,
                    ..
                }
            ),
            "{algorithm}: {err}"
        );
    }

    let rsa = SigningKey::generate(KeySpec::Rsa2048)
        .unwrap()
        .public_key()
        .unwrap();
    let err = rsa
        .verify(SignatureAlgorithm::Ps384, MESSAGE, &[0; 256])
        .unwrap_err();
    assert!(matches!(
        err,
        Error::AlgorithmKeyMismatch {
            expected: SignatureAlgorithm::Ps256,
            ..
        }
    ));
}

#[test]
fn algorithm_names_and_ids() {
    let table = [
        (KeySpec::Rsa2048, "RSA-2048", "PS256", -37),
        (KeySpec::Rsa3072, "RSA-3072", "PS384", -38),
        (KeySpec::Rsa4096, "RSA-4096", "PS512", -39),
        (KeySpec::EcP256, "EC-256", "ES256", -7),
        (KeySpec::EcP384, "EC-384", "ES384", -35),
        (KeySpec::EcP521, "EC-521", "ES512", -36),
    ];
    for (spec, spec_name, jws, cose) in table {
        assert_eq!(spec.to_string(), spec_name);
        assert_eq!(KeySpec::from_name(spec_name), Some(spec));
        let algorithm = SignatureAlgorithm::for_key(spec);
        assert_eq!(algorithm.jws_name(), jws);
        assert_eq!(algorithm.cose_id(), cose);
        assert_eq!(SignatureAlgorithm::from_jws_name(jws), Some(algorithm));
        assert_eq!(SignatureAlgorithm::from_cose_id(cose), Some(algorithm));
    }
    for forbidden in ["none", "HS256", "RS256", "EdDSA", "ps256"] {
        assert_eq!(SignatureAlgorithm::from_jws_name(forbidden), None);
    }
    assert_eq!(SignatureAlgorithm::from_cose_id(-8), None);
    assert_eq!(SignatureAlgorithm::from_cose_id(-257), None);
}

#[test]
fn pkcs8_pem_round_trip_for_every_key_spec() {
    for key in keys() {
        let spec = key.spec();
        let pem = key.to_pkcs8_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        let again = SigningKey::from_pem(pem.as_bytes()).unwrap();
        assert_eq!(again.spec(), spec);
        assert_eq!(again.public_key().unwrap(), key.public_key().unwrap());
        let signature = again.sign(MESSAGE).unwrap();
        key.public_key()
            .unwrap()
            .verify(SignatureAlgorithm::for_key(spec), MESSAGE, &signature)
            .unwrap();
    }
}

/// The private key inside a PKCS#8 `PrivateKeyInfo`: PKCS#1 for RSA, SEC1 for EC.
fn inner_private_key(pkcs8: &[u8]) -> Vec<u8> {
    let mut reader = SliceReader::new(pkcs8).unwrap();
    reader
        .sequence(|r| {
            let _version = u8::decode(r)?;
            let _algorithm = AnyRef::decode(r)?;
            let key = OctetString::decode(r)?;
            r.read_slice(r.remaining_len())?;
            Ok::<_, der::Error>(key.as_bytes().to_vec())
        })
        .unwrap()
}

fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[test]
fn pkcs1_and_sec1_pem_import() {
    for key in keys() {
        let spec = key.spec();
        let inner = inner_private_key(&der_of(key));
        let label = if spec.is_rsa() {
            "RSA PRIVATE KEY"
        } else {
            "EC PRIVATE KEY"
        };
        let imported = SigningKey::from_pem(pem(label, &inner).as_bytes()).unwrap();
        assert_eq!(imported.spec(), spec);
        assert_eq!(imported.public_key().unwrap(), key.public_key().unwrap());
    }
}

fn der_of(key: &SigningKey) -> Vec<u8> {
    key.to_pkcs8_der().unwrap()
}

#[test]
fn pem_with_wrong_label_is_rejected() {
    let err = SigningKey::from_pem(pem("CERTIFICATE", &[0x30, 0x00]).as_bytes()).unwrap_err();
    assert!(matches!(err, Error::UnexpectedPemLabel { .. }), "{err}");
    assert!(SigningKey::from_pem(b"not pem").is_err());
}

fn openssl(args: &[&str]) -> Option<Vec<u8>> {
    let output = Command::new("openssl").args(args).output().ok()?;
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(output.stdout)
}

#[test]
fn openssl_generated_keys_import_in_all_three_formats() {
    if openssl(&["version"]).is_none() {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    let cases: [(&[&str], &str, KeySpec); 6] = [
        (
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:3072",
            ],
            "PRIVATE KEY",
            KeySpec::Rsa3072,
        ),
        (
            &["genrsa", "-traditional", "2048"],
            "RSA PRIVATE KEY",
            KeySpec::Rsa2048,
        ),
        (
            &["ecparam", "-name", "prime256v1", "-genkey", "-noout"],
            "EC PRIVATE KEY",
            KeySpec::EcP256,
        ),
        // With the "EC PARAMETERS" block openssl writes before the key.
        (
            &["ecparam", "-name", "secp384r1", "-genkey"],
            "EC PRIVATE KEY",
            KeySpec::EcP384,
        ),
        (
            &["ecparam", "-name", "secp521r1", "-genkey", "-noout"],
            "EC PRIVATE KEY",
            KeySpec::EcP521,
        ),
        (
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-521",
            ],
            "PRIVATE KEY",
            KeySpec::EcP521,
        ),
    ];
    for (args, label, spec) in cases {
        let pem = openssl(args).unwrap();
        assert!(
            String::from_utf8_lossy(&pem).contains(&format!("BEGIN {label}")),
            "{args:?}"
        );
        let key = SigningKey::from_pem(&pem).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(key.spec(), spec);
        let signature = key.sign(MESSAGE).unwrap();
        key.public_key()
            .unwrap()
            .verify(SignatureAlgorithm::for_key(spec), MESSAGE, &signature)
            .unwrap();
    }
}

#[test]
fn openssl_rsa_1024_key_is_unsupported() {
    let Some(pem) = Command::new("openssl")
        .args(["genrsa", "-traditional", "1024"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| o.stdout)
    else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    };
    match SigningKey::from_pem(&pem) {
        Err(Error::UnsupportedKey(what)) => assert!(what.starts_with("RSA"), "{what}"),
        other => panic!("expected an unsupported key, got {other:?}"),
    }
}

#[test]
fn openssl_pss_signature_verifies() {
    if openssl(&["version"]).is_none() {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    let dir = std::env::temp_dir().join(format!("hallmark-x509-pss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = dir.join("key.pem");
    let msg_path = dir.join("msg");
    let key = &keys()[1];
    std::fs::write(&key_path, key.to_pkcs8_pem().unwrap()).unwrap();
    std::fs::write(&msg_path, MESSAGE).unwrap();
    let signature = openssl(&[
        "dgst",
        "-sha384",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:digest",
        "-sign",
        key_path.to_str().unwrap(),
        msg_path.to_str().unwrap(),
    ])
    .unwrap();
    // The Notary Project fixes the salt at the hash length: a maximal salt is refused.
    let max_salt = openssl(&[
        "dgst",
        "-sha384",
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:max",
        "-sign",
        key_path.to_str().unwrap(),
        msg_path.to_str().unwrap(),
    ])
    .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let public = key.public_key().unwrap();
    public
        .verify(SignatureAlgorithm::Ps384, MESSAGE, &signature)
        .unwrap();
    assert!(matches!(
        public.verify(SignatureAlgorithm::Ps384, MESSAGE, &max_salt),
        Err(Error::InvalidSignature)
    ));
}

/// sigstore's default algorithms: what `openssl dgst -<hash> -verify` accepts for each key
/// spec is what cosign's verifier accepts (ECDSA ASN.1 DER with the curve's hash, RSA PKCS#1
/// v1.5 with SHA-256), and the other way round.
#[test]
fn sigstore_signatures_interoperate_with_openssl() {
    if openssl(&["version"]).is_none() {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let msg_path = dir.path().join("msg");
    std::fs::write(&msg_path, MESSAGE).unwrap();
    for key in keys() {
        let spec = key.spec();
        let hash = match spec {
            KeySpec::EcP384 => "-sha384",
            KeySpec::EcP521 => "-sha512",
            _ => "-sha256",
        };
        let key_path = dir.path().join(format!("{spec}.key"));
        let pub_path = dir.path().join(format!("{spec}.pub"));
        let sig_path = dir.path().join(format!("{spec}.sig"));
        std::fs::write(&key_path, key.to_pkcs8_pem().unwrap()).unwrap();
        let public = key.public_key().unwrap();
        let pub_pem =
            der::pem::encode_string("PUBLIC KEY", der::pem::LineEnding::LF, public.spki_der())
                .unwrap();
        std::fs::write(&pub_path, pub_pem).unwrap();

        let ours = key.sign_sigstore(MESSAGE).unwrap();
        std::fs::write(&sig_path, &ours).unwrap();
        let (k, s, m) = (
            pub_path.to_str().unwrap(),
            sig_path.to_str().unwrap(),
            msg_path.to_str().unwrap(),
        );
        let verified = openssl(&["dgst", hash, "-verify", k, "-signature", s, m]).unwrap();
        assert!(
            String::from_utf8_lossy(&verified).contains("Verified OK"),
            "{spec}"
        );

        let theirs = openssl(&["dgst", hash, "-sign", key_path.to_str().unwrap(), m]).unwrap();
        public.verify_sigstore(MESSAGE, &theirs).unwrap();
        assert!(matches!(
            public.verify_sigstore(b"another message", &theirs),
            Err(Error::InvalidSignature)
        ));
        // The Notary form (PSS, raw r || s) is not the sigstore form.
        assert!(
            public
                .verify_sigstore(MESSAGE, &key.sign(MESSAGE).unwrap())
                .is_err()
        );
        // cosign before 2.6 hashed P-384 and P-521 messages with SHA-256: still accepted.
        if matches!(spec, KeySpec::EcP384 | KeySpec::EcP521) {
            let legacy =
                openssl(&["dgst", "-sha256", "-sign", key_path.to_str().unwrap(), m]).unwrap();
            public.verify_sigstore(MESSAGE, &legacy).unwrap();
            assert!(public.verify_sigstore(b"another message", &legacy).is_err());
        }
    }
}
