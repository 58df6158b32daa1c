//! The Notary Project certificate rules, one test per rule, each with a chain that breaks
//! exactly that rule (built with `hallmark_x509::testing`).

// Tests assert by unwrapping: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use hallmark_x509::chain::{
    ChainError, build_path, validate_code_signing_chain, validate_timestamping_chain,
};
use hallmark_x509::testing::{
    BasicConstraintsSpec, CertTemplate, EKU_ANY, EKU_CLIENT_AUTH, EKU_CODE_SIGNING,
    EKU_EMAIL_PROTECTION, EKU_OCSP_SIGNING, EKU_SERVER_AUTH, EKU_TIME_STAMPING,
    ExtendedKeyUsageSpec, KeyUsageBit, KeyUsageSpec, TestChainBuilder,
};
use hallmark_x509::{Certificate, Error, KeySpec, generate_test_certificate};

fn code_signing(builder: TestChainBuilder) -> Result<(), ChainError> {
    validate_code_signing_chain(builder.build().unwrap().certificates())
}

fn timestamping(builder: TestChainBuilder) -> Result<(), ChainError> {
    validate_timestamping_chain(builder.build().unwrap().certificates())
}

fn ca(path_len: Option<u8>, critical: bool) -> Option<BasicConstraintsSpec> {
    Some(BasicConstraintsSpec {
        ca: true,
        path_len,
        critical,
    })
}

// Positive cases.

#[test]
fn valid_code_signing_chain_passes() {
    code_signing(TestChainBuilder::code_signing()).unwrap();
    code_signing(TestChainBuilder::code_signing().key_spec(KeySpec::Rsa2048)).unwrap();
}

#[test]
fn valid_chain_with_intermediates_passes() {
    code_signing(TestChainBuilder::code_signing().with_intermediates(2)).unwrap();
}

#[test]
fn valid_chains_pass_for_every_key_spec() {
    for spec in KeySpec::ALL {
        // Only the leaf gets the spec: RSA-4096 generation is slow in debug builds.
        code_signing(TestChainBuilder::code_signing().leaf(|l| l.key_spec = spec))
            .unwrap_or_else(|e| panic!("{spec}: {e}"));
    }
}

#[test]
fn leaf_without_eku_or_with_code_signing_only_passes() {
    code_signing(TestChainBuilder::code_signing().leaf(|l| l.extended_key_usage = None)).unwrap();
    code_signing(TestChainBuilder::code_signing().leaf(|l| {
        l.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_CODE_SIGNING], true))
    }))
    .unwrap();
}

#[test]
fn leaf_with_basic_constraints_ca_false_passes() {
    code_signing(TestChainBuilder::code_signing().leaf(|l| {
        l.basic_constraints = Some(BasicConstraintsSpec {
            ca: false,
            path_len: None,
            critical: true,
        })
    }))
    .unwrap();
}

#[test]
fn single_self_signed_leaf_passes() {
    let (_, cert) = generate_test_certificate("solo", KeySpec::EcP256).unwrap();
    validate_code_signing_chain(&[cert]).unwrap();
}

#[test]
fn expired_certificates_pass_because_validity_is_not_checked_here() {
    let past = time::OffsetDateTime::now_utc() - time::Duration::days(30);
    code_signing(TestChainBuilder::code_signing().leaf(|l| {
        l.not_before = past - time::Duration::days(1);
        l.not_after = past;
    }))
    .unwrap();
}

#[test]
fn valid_timestamping_chain_passes() {
    timestamping(TestChainBuilder::timestamping().with_intermediates(1)).unwrap();
}

#[test]
fn timestamping_leaf_key_usage_need_not_be_critical() {
    timestamping(
        TestChainBuilder::timestamping().leaf(|l| {
            l.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::DigitalSignature], false))
        }),
    )
    .unwrap();
}

// Chain shape.

#[test]
fn empty_chain() {
    assert!(matches!(
        validate_code_signing_chain(&[]),
        Err(ChainError::EmptyChain)
    ));
    assert!(matches!(
        validate_timestamping_chain(&[]),
        Err(ChainError::EmptyChain)
    ));
}

#[test]
fn not_ordered() {
    let chain = TestChainBuilder::code_signing()
        .with_intermediates(2)
        .build()
        .unwrap();
    let c = chain.certificates();
    // leaf, intermediate 2, intermediate 1, root -> leaf, intermediate 1, intermediate 2, root
    let swapped = [c[0].clone(), c[2].clone(), c[1].clone(), c[3].clone()];
    let err = validate_code_signing_chain(&swapped).unwrap_err();
    assert!(
        matches!(err, ChainError::NotOrdered { index: 0, .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("certificate 0 (CN=Hallmark Test Leaf,"),
        "{message}"
    );
    assert!(message.contains("Intermediate 1"), "{message}");
}

#[test]
fn issuer_signature_invalid() {
    // Another chain's root has the same name but a different key.
    let chain = TestChainBuilder::code_signing().build().unwrap();
    let other = TestChainBuilder::code_signing().build().unwrap();
    let mixed = [chain.leaf().clone(), other.root().clone()];
    let err = validate_code_signing_chain(&mixed).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::IssuerSignatureInvalid {
                index: 0,
                error: Error::InvalidSignature,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn not_self_signed_root() {
    let chain = TestChainBuilder::code_signing()
        .with_intermediates(1)
        .build()
        .unwrap();
    let without_root = &chain.certificates()[..2];
    let err = validate_code_signing_chain(without_root).unwrap_err();
    assert!(
        matches!(err, ChainError::NotSelfSignedRoot { index: 1, .. }),
        "{err}"
    );

    // A lone leaf issued by someone else is not self-signed either.
    let err = validate_code_signing_chain(&chain.certificates()[..1]).unwrap_err();
    assert!(
        matches!(err, ChainError::NotSelfSignedRoot { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn unexpected_self_signed() {
    let (_, leaf) = generate_test_certificate("extra", KeySpec::EcP256).unwrap();
    let chain = TestChainBuilder::code_signing().build().unwrap();
    let err = validate_code_signing_chain(&[leaf, chain.root().clone()]).unwrap_err();
    assert!(
        matches!(err, ChainError::UnexpectedSelfSigned { index: 0, .. }),
        "{err}"
    );

    // A second copy of the root after the root.
    let doubled = [
        chain.leaf().clone(),
        chain.root().clone(),
        chain.root().clone(),
    ];
    let err = validate_code_signing_chain(&doubled).unwrap_err();
    assert!(
        matches!(err, ChainError::UnexpectedSelfSigned { index: 1, .. }),
        "{err}"
    );
}

/// Rewrites sha256WithRSAEncryption to sha1WithRSAEncryption in both places of the DER.
fn with_sha1_signature_algorithm(cert: &Certificate) -> Certificate {
    const SHA256_WITH_RSA: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b,
    ];
    let mut der = cert.der().to_vec();
    let mut replaced = 0;
    for i in 0..der.len() - SHA256_WITH_RSA.len() {
        if der[i..i + SHA256_WITH_RSA.len()] == SHA256_WITH_RSA {
            der[i + SHA256_WITH_RSA.len() - 1] = 0x05;
            replaced += 1;
        }
    }
    assert_eq!(replaced, 2);
    Certificate::from_der(&der).unwrap()
}

#[test]
fn sha1_forbidden() {
    let chain = TestChainBuilder::code_signing()
        .key_spec(KeySpec::Rsa2048)
        .build()
        .unwrap();
    let leaf = with_sha1_signature_algorithm(chain.leaf());
    assert!(matches!(
        leaf.verify_signed_by(chain.root()),
        Err(Error::Sha1Forbidden)
    ));
    let err = validate_code_signing_chain(&[leaf, chain.root().clone()]).unwrap_err();
    assert!(
        matches!(err, ChainError::Sha1Forbidden { index: 0, .. }),
        "{err}"
    );
}

// Leaf rules.

#[test]
fn leaf_is_ca() {
    let err = code_signing(TestChainBuilder::code_signing().leaf(|l| {
        l.basic_constraints = ca(None, true);
    }))
    .unwrap_err();
    assert!(matches!(err, ChainError::LeafIsCa { .. }), "{err}");
}

#[test]
fn leaf_key_usage_missing() {
    let err =
        code_signing(TestChainBuilder::code_signing().leaf(|l| l.key_usage = None)).unwrap_err();
    assert!(
        matches!(err, ChainError::KeyUsageMissing { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn leaf_key_usage_not_critical() {
    let err =
        code_signing(TestChainBuilder::code_signing().leaf(|l| {
            l.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::DigitalSignature], false))
        }))
        .unwrap_err();
    assert!(
        matches!(err, ChainError::KeyUsageNotCritical { index: 0, .. }),
        "{err}"
    );
}

#[test]
fn leaf_missing_digital_signature() {
    let err = code_signing(
        TestChainBuilder::code_signing()
            .leaf(|l| l.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::NonRepudiation], true))),
    )
    .unwrap_err();
    assert!(
        matches!(err, ChainError::LeafMissingDigitalSignature { .. }),
        "{err}"
    );
}

#[test]
fn leaf_forbidden_key_usage() {
    let cases = [
        (KeyUsageBit::KeyEncipherment, "keyEncipherment"),
        (KeyUsageBit::DataEncipherment, "dataEncipherment"),
        (KeyUsageBit::KeyAgreement, "keyAgreement"),
        (KeyUsageBit::KeyCertSign, "keyCertSign"),
        (KeyUsageBit::CrlSign, "cRLSign"),
        (KeyUsageBit::DecipherOnly, "decipherOnly"),
    ];
    for (bit, name) in cases {
        let err = code_signing(TestChainBuilder::code_signing().leaf(|l| {
            l.key_usage = Some(KeyUsageSpec::new(
                &[KeyUsageBit::DigitalSignature, bit],
                true,
            ))
        }))
        .unwrap_err();
        match err {
            ChainError::LeafForbiddenKeyUsage { usages, .. } => assert_eq!(usages, name),
            other => panic!("{name}: {other}"),
        }
    }
    // nonRepudiation next to digitalSignature is allowed, as in notation.
    code_signing(TestChainBuilder::code_signing().leaf(|l| {
        l.key_usage = Some(KeyUsageSpec::new(
            &[KeyUsageBit::DigitalSignature, KeyUsageBit::NonRepudiation],
            true,
        ))
    }))
    .unwrap();
}

#[test]
fn leaf_forbidden_eku() {
    let cases = [
        (EKU_ANY, "anyExtendedKeyUsage"),
        (EKU_SERVER_AUTH, "serverAuth"),
        (EKU_CLIENT_AUTH, "clientAuth"),
        (EKU_EMAIL_PROTECTION, "emailProtection"),
        (EKU_TIME_STAMPING, "timeStamping"),
        (EKU_OCSP_SIGNING, "OCSPSigning"),
    ];
    for (oid, name) in cases {
        let err = code_signing(TestChainBuilder::code_signing().leaf(|l| {
            l.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_CODE_SIGNING, oid], false))
        }))
        .unwrap_err();
        match err {
            ChainError::LeafForbiddenEku { eku, .. } => assert_eq!(eku, name),
            other => panic!("{name}: {other}"),
        }
    }
}

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A self-signed certificate made by the openssl CLI (for keys aws-lc cannot generate).
fn openssl_self_signed(key_args: &[&str], extensions: &[&str]) -> Certificate {
    let dir = std::env::temp_dir().join(format!(
        "hallmark-x509-openssl-{}-{}",
        std::process::id(),
        key_args.join("-").replace(':', "_")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    let mut args = vec!["req", "-x509", "-newkey"];
    args.extend_from_slice(key_args);
    args.extend_from_slice(&["-nodes", "-keyout", key.to_str().unwrap()]);
    args.extend_from_slice(&["-out", cert.to_str().unwrap(), "-days", "30", "-sha256"]);
    args.extend_from_slice(&["-subj", "/C=US/ST=WA/O=Notary/CN=weak"]);
    for ext in extensions {
        args.extend_from_slice(&["-addext", ext]);
    }
    let output = Command::new("openssl").args(&args).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let parsed = Certificate::parse_many(&std::fs::read(&cert).unwrap())
        .unwrap()
        .remove(0);
    std::fs::remove_dir_all(&dir).unwrap();
    parsed
}

#[test]
fn unsupported_leaf_key() {
    if !openssl_available() {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    let leaf_extensions = [
        "keyUsage=critical,digitalSignature",
        "extendedKeyUsage=codeSigning",
    ];
    for (key_args, key) in [
        (["rsa:1024"].as_slice(), "RSA-1024"),
        (
            ["ec", "-pkeyopt", "ec_paramgen_curve:P-224"].as_slice(),
            "EC P-224",
        ),
    ] {
        let cert = openssl_self_signed(key_args, &leaf_extensions);
        let err = validate_code_signing_chain(&[cert]).unwrap_err();
        match err {
            ChainError::UnsupportedLeafKey { key: found, .. } => assert_eq!(found, key),
            other => panic!("{key}: {other}"),
        }
    }
}

#[test]
fn key_too_small() {
    if !openssl_available() {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    // A weak self-signed "root" after a valid leaf: the key check runs before issuance.
    let root = openssl_self_signed(
        &["rsa:1024"],
        &[
            "basicConstraints=critical,CA:TRUE",
            "keyUsage=critical,keyCertSign",
        ],
    );
    let leaf = TestChainBuilder::code_signing()
        .key_spec(KeySpec::Rsa2048)
        .build()
        .unwrap();
    let err = validate_code_signing_chain(&[leaf.leaf().clone(), root]).unwrap_err();
    assert!(
        matches!(err, ChainError::KeyTooSmall { index: 1, ref key, .. } if key == "RSA-1024"),
        "{err}"
    );
}

// CA rules.

#[test]
fn ca_missing_basic_constraints() {
    let err = code_signing(TestChainBuilder::code_signing().root(|r| r.basic_constraints = None))
        .unwrap_err();
    assert!(
        matches!(err, ChainError::CaMissingBasicConstraints { index: 1, .. }),
        "{err}"
    );

    let err = code_signing(TestChainBuilder::code_signing().root(|r| {
        r.basic_constraints = Some(BasicConstraintsSpec {
            ca: false,
            path_len: None,
            critical: true,
        })
    }))
    .unwrap_err();
    assert!(
        matches!(err, ChainError::CaMissingBasicConstraints { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn ca_basic_constraints_not_critical() {
    let err = code_signing(
        TestChainBuilder::code_signing()
            .with_intermediates(1)
            .intermediate(0, |i| i.basic_constraints = ca(None, false)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::CaBasicConstraintsNotCritical { index: 1, .. }
        ),
        "{err}"
    );
}

#[test]
fn ca_key_usage_missing() {
    let err =
        code_signing(TestChainBuilder::code_signing().root(|r| r.key_usage = None)).unwrap_err();
    assert!(
        matches!(err, ChainError::KeyUsageMissing { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn ca_key_usage_not_critical() {
    let err = code_signing(
        TestChainBuilder::code_signing()
            .root(|r| r.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::KeyCertSign], false))),
    )
    .unwrap_err();
    assert!(
        matches!(err, ChainError::KeyUsageNotCritical { index: 1, .. }),
        "{err}"
    );
}

#[test]
fn ca_key_usage_missing_key_cert_sign() {
    let err = code_signing(
        TestChainBuilder::code_signing()
            .root(|r| r.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::CrlSign], true))),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::CaKeyUsageMissingKeyCertSign { index: 1, .. }
        ),
        "{err}"
    );
}

#[test]
fn path_len_exceeded() {
    // Root allows no intermediate below it, but there are two.
    let err = code_signing(
        TestChainBuilder::code_signing()
            .with_intermediates(2)
            .root(|r| r.basic_constraints = ca(Some(0), true)),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::PathLenExceeded {
                index: 3,
                path_len: 0,
                below: 2,
                ..
            }
        ),
        "{err}"
    );

    // pathLen 0 on the CA right above the leaf and 1 on the root are enough.
    code_signing(
        TestChainBuilder::code_signing()
            .with_intermediates(1)
            .root(|r| r.basic_constraints = ca(Some(1), true))
            .intermediate(0, |i| i.basic_constraints = ca(Some(0), true)),
    )
    .unwrap();
}

// Timestamping leaf rules (RFC 3161 §2.3).

#[test]
fn tsa_eku_not_timestamping_only() {
    for purposes in [
        vec![EKU_CODE_SIGNING],
        vec![EKU_TIME_STAMPING, EKU_CODE_SIGNING],
    ] {
        let err = timestamping(
            TestChainBuilder::timestamping()
                .leaf(|l| l.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&purposes, true))),
        )
        .unwrap_err();
        assert!(
            matches!(err, ChainError::TsaEkuNotTimestampingOnly { .. }),
            "{err}"
        );
    }
    let err = timestamping(TestChainBuilder::timestamping().leaf(|l| l.extended_key_usage = None))
        .unwrap_err();
    assert!(
        matches!(err, ChainError::TsaEkuNotTimestampingOnly { .. }),
        "{err}"
    );
}

#[test]
fn tsa_eku_not_critical() {
    let err = timestamping(TestChainBuilder::timestamping().leaf(|l| {
        l.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_TIME_STAMPING], false))
    }))
    .unwrap_err();
    assert!(matches!(err, ChainError::TsaEkuNotCritical { .. }), "{err}");
}

#[test]
fn code_signing_and_timestamping_chains_are_not_interchangeable() {
    let tsa = TestChainBuilder::timestamping().build().unwrap();
    assert!(matches!(
        validate_code_signing_chain(tsa.certificates()),
        Err(ChainError::LeafForbiddenEku {
            eku: "timeStamping",
            ..
        })
    ));
    let signing = TestChainBuilder::code_signing().build().unwrap();
    assert!(matches!(
        validate_timestamping_chain(signing.certificates()),
        Err(ChainError::TsaEkuNotTimestampingOnly { .. })
    ));
}

#[test]
fn errors_name_the_certificate_and_the_rule() {
    let err = code_signing(TestChainBuilder::code_signing().root(|r| {
        r.subject = vec![
            ("O".into(), "Acme".into()),
            ("CN".into(), "Acme Root".into()),
        ];
        r.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::CrlSign], true));
    }))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "CA certificate 1 (CN=Acme Root,O=Acme) lacks the keyCertSign key usage, so it may \
         not issue certificates"
    );
}

#[test]
fn template_self_signed_with_ca_rules_is_a_valid_single_certificate_only_as_leaf() {
    // A CA certificate on its own fails the leaf rules.
    let (_, root) = CertTemplate::root("Lonely Root").self_signed().unwrap();
    let err = validate_code_signing_chain(&[root]).unwrap_err();
    assert!(matches!(err, ChainError::LeafIsCa { .. }), "{err}");
}

// Path building for unordered certificate sets.

#[test]
fn build_path_orders_unordered_certificates() {
    let chain = TestChainBuilder::timestamping()
        .with_intermediates(2)
        .build()
        .unwrap();
    let c = chain.certificates();
    let shuffled = [c[3].clone(), c[1].clone(), c[0].clone(), c[2].clone()];
    let path = build_path(chain.leaf(), &shuffled, std::slice::from_ref(chain.root())).unwrap();
    assert_eq!(path, c);
    validate_timestamping_chain(&path).unwrap();

    // The root need not be among the candidates.
    let path = build_path(chain.leaf(), &c[..3], &c[3..]).unwrap();
    assert_eq!(path, c);
}

#[test]
fn build_path_without_a_trusted_root_fails() {
    let chain = TestChainBuilder::timestamping().build().unwrap();
    let other = TestChainBuilder::timestamping().build().unwrap();
    let err = build_path(
        chain.leaf(),
        chain.certificates(),
        std::slice::from_ref(other.root()),
    )
    .unwrap_err();
    assert!(matches!(err, ChainError::NoPathToRoot { .. }), "{err}");

    // A trusted self-signed leaf is a path of one.
    let (_, solo) = generate_test_certificate("solo", KeySpec::EcP256).unwrap();
    let path = build_path(&solo, &[], std::slice::from_ref(&solo)).unwrap();
    assert_eq!(path, [solo]);
}

#[test]
fn key_identifiers_are_read() {
    let chain = TestChainBuilder::code_signing().build().unwrap();
    let root_ski = chain.root().subject_key_identifier().unwrap();
    assert!(!root_ski.is_empty());
    assert_eq!(chain.leaf().authority_key_identifier(), Some(root_ski));
    assert_eq!(chain.root().authority_key_identifier(), None);
    let (_, solo) = generate_test_certificate("solo", KeySpec::EcP256).unwrap();
    assert_eq!(solo.subject_key_identifier(), None);
}
