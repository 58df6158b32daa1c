//! The published notation vectors: every certificate parses, names and fingerprints come out
//! as notation shows them, and the chains and signatures of real envelopes verify.

// Tests assert by unwrapping: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hallmark_x509::chain::validate_code_signing_chain;
use hallmark_x509::{Certificate, SignatureAlgorithm};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/notation"
);

fn vectors() -> Option<PathBuf> {
    let dir = PathBuf::from(VECTORS);
    if dir.is_dir() {
        Some(dir)
    } else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {VECTORS} is absent");
        None
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Every file under a `truststore`, `extracted` or `localkeys` folder.
fn certificate_files(root: &Path) -> Vec<PathBuf> {
    let mut all = Vec::new();
    walk(root, &mut all);
    all.retain(|p| {
        let s = p.to_string_lossy();
        ["/truststore/", "/extracted/", "/localkeys/"]
            .iter()
            .any(|d| s.contains(d))
    });
    all.sort();
    all
}

fn load(path: &Path) -> Vec<Certificate> {
    Certificate::parse_many(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_vector_certificate_parses() {
    let Some(root) = vectors() else { return };
    let files = certificate_files(&root);
    assert!(
        files.len() >= 20,
        "found only {} certificate files",
        files.len()
    );

    for file in files {
        for cert in load(&file) {
            let name = file.display();
            assert!(!cert.subject().0.is_empty(), "{name}: empty subject");
            let fingerprint = cert.sha256_fingerprint();
            assert_eq!(fingerprint.len(), 64, "{name}");
            assert!(
                fingerprint
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
            );
            assert!(cert.not_before() < cert.not_after(), "{name}");
            // DER stays byte-exact through PEM.
            let again = Certificate::parse_many(cert.to_pem().as_bytes()).unwrap();
            assert_eq!(again[0].der(), cert.der(), "{name}");
            // Every certificate in these folders is a root or a self-signed leaf.
            assert!(cert.is_self_signed(), "{name}: expected self-signed");
            assert_eq!(cert.subject(), cert.issuer(), "{name}");
        }
    }
}

#[test]
fn e2e_signer_names_and_thumbprint_match_notation() {
    let Some(root) = vectors() else { return };
    let localkeys = root.join("e2e-layouts/localkeys");

    let e2e = &load(&localkeys.join("e2e.crt"))[0];
    assert_eq!(
        e2e.subject().to_string(),
        "CN=e2e,O=Notary,L=Seattle,ST=WA,C=US"
    );
    let subject = e2e.subject();
    let pairs: Vec<(&str, &str)> = subject
        .0
        .iter()
        .map(|(t, v)| (t.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary"),
            ("CN", "e2e")
        ]
    );
    // The thumbprint annotation of the e2e-valid-signature manifest.
    assert!(e2e.sha256_fingerprint().starts_with("e38aea13"));
    assert!(!e2e.is_ca());
    assert_eq!(e2e.not_after().year(), 2122);
    assert!(e2e.crl_distribution_points().is_empty());
    assert!(e2e.ocsp_urls().is_empty());
    validate_code_signing_chain(std::slice::from_ref(e2e)).unwrap();

    // expired_e2e.crt lists its attributes in the opposite order.
    let expired = &load(&localkeys.join("expired_e2e.crt"))[0];
    assert_eq!(
        expired.subject().to_string(),
        "C=AU,ST=Some-State,O=Internet Widgits Pty Ltd"
    );
    assert_eq!(expired.subject().0[0].0, "O");

    // new_e2e.crt has the same key as e2e.crt but is another certificate.
    let new = &load(&localkeys.join("new_e2e.crt"))[0];
    assert_eq!(new.public_key().unwrap(), e2e.public_key().unwrap());
    assert_ne!(new.der(), e2e.der());
}

#[test]
fn notation_test_root_is_a_ca_with_path_len_one() {
    let Some(root) = vectors() else { return };
    let file =
        root.join("mock-envelopes/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem");
    let cert = &load(&file)[0];
    assert!(cert.is_ca());
    assert!(cert.is_self_signed());
    let (critical, bc) = cert.basic_constraints().unwrap().unwrap();
    assert!(critical);
    assert_eq!(bc.path_len_constraint, Some(1));
    assert_eq!(cert.subject().common_name(), Some("Notation Test Root"));
    assert_eq!(
        cert.public_key().unwrap().spec(),
        hallmark_x509::KeySpec::Rsa3072
    );
}

#[test]
fn globalsign_roots_parse() {
    let Some(root) = vectors() else { return };
    let r6 =
        &load(&root.join("timestamp/truststore/x509/tsa/test-timestamp/globalsignRoot.cer"))[0];
    assert_eq!(
        r6.subject().to_string(),
        "CN=GlobalSign,O=GlobalSign,OU=GlobalSign Root CA - R6"
    );
    assert!(r6.is_ca());
    let r3 = &load(
        &root.join("mock-envelopes/truststore/x509/ca/valid-trust-store-2/GlobalSignRootCA.crt"),
    )[0];
    assert_eq!(r3.not_after().year(), 2029);
}

/// A flattened JWS: chain from `header.x5c` (standard base64), signing input and signature.
struct Jws {
    chain: Vec<Certificate>,
    algorithm: SignatureAlgorithm,
    signing_input: Vec<u8>,
    signature: Vec<u8>,
}

fn parse_jws(bytes: &[u8]) -> Jws {
    let json: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let chain = json["header"]["x5c"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Certificate::from_der(&STANDARD.decode(c.as_str().unwrap()).unwrap()).unwrap())
        .collect();
    let protected = json["protected"].as_str().unwrap();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(protected).unwrap()).unwrap();
    let algorithm = SignatureAlgorithm::from_jws_name(header["alg"].as_str().unwrap()).unwrap();
    let payload = json["payload"].as_str().unwrap();
    Jws {
        chain,
        algorithm,
        signing_input: format!("{protected}.{payload}").into_bytes(),
        signature: URL_SAFE_NO_PAD
            .decode(json["signature"].as_str().unwrap())
            .unwrap(),
    }
}

#[test]
fn mock_envelope_chains_pass_the_certificate_rules() {
    let Some(root) = vectors() else { return };
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("mock-envelopes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .filter(|p| {
            !p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("trustpolicy")
        })
        .collect();
    files.sort();
    assert!(files.len() >= 15);

    for file in files {
        let jws = parse_jws(&std::fs::read(&file).unwrap());
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        validate_code_signing_chain(&jws.chain).unwrap_or_else(|e| panic!("{name}: {e}"));

        let key = jws.chain[0].public_key().unwrap();
        assert_eq!(
            SignatureAlgorithm::for_key(key.spec()),
            jws.algorithm,
            "{name}"
        );
        let verified = key.verify(jws.algorithm, &jws.signing_input, &jws.signature);
        // The *_invalid_* envelopes have a payload with a trailing '=' pad: the signature does
        // not cover that string (and strict base64url would refuse it anyway).
        if name.contains("invalid_sig") {
            assert!(verified.is_err(), "{name}");
        } else {
            verified.unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }
}

#[test]
fn mock_envelope_leaf_shares_its_roots_subject_but_is_not_self_signed() {
    let Some(root) = vectors() else { return };
    let jws = parse_jws(&std::fs::read(root.join("mock-envelopes/ca_valid_sig_env.json")).unwrap());
    assert_eq!(jws.chain.len(), 2);
    assert_eq!(jws.chain[0].subject(), jws.chain[1].subject());
    assert!(!jws.chain[0].is_self_signed());
    jws.chain[0].verify_signed_by(&jws.chain[1]).unwrap();
    assert_eq!(jws.algorithm, SignatureAlgorithm::Ps384);
    let store = load(
        &root.join("mock-envelopes/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem"),
    );
    assert_eq!(store[0], jws.chain[1]);
}

#[test]
fn other_jws_vectors_verify() {
    let Some(root) = vectors() else { return };
    for file in [
        "jws-cose-pair/jws_signature.sig",
        "timestamp/sigEnv/jwsWithTimestamp.sig",
        "timestamp/sigEnv/jwsExpiredWithTimestamp.sig",
        "blob/blob.jws.sig",
    ] {
        let jws = parse_jws(&std::fs::read(root.join(file)).unwrap());
        validate_code_signing_chain(&jws.chain).unwrap_or_else(|e| panic!("{file}: {e}"));
        let key = jws.chain[0].public_key().unwrap();
        key.verify(jws.algorithm, &jws.signing_input, &jws.signature)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
    }
}
