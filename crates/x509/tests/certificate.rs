//! Certificate parsing, accessors, and `cert generate-test`.

// Tests assert by unwrapping: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use hallmark_x509::chain::validate_code_signing_chain;
use hallmark_x509::testing::{CertTemplate, TestChainBuilder};
use hallmark_x509::{Certificate, Error, KeySpec, SignatureAlgorithm, generate_test_certificate};
use time::{Duration, OffsetDateTime};

#[test]
fn generate_test_certificate_matches_notation() {
    for spec in [KeySpec::Rsa2048, KeySpec::EcP384] {
        let before = OffsetDateTime::now_utc() - Duration::seconds(2);
        let (key, cert) = generate_test_certificate("wabbit-networks.io", spec).unwrap();

        assert_eq!(
            cert.subject().to_string(),
            "CN=wabbit-networks.io,O=Notary,L=Seattle,ST=WA,C=US"
        );
        assert_eq!(cert.subject(), cert.issuer());
        assert!(cert.is_self_signed());
        assert!(!cert.is_ca());
        assert!(cert.basic_constraints().unwrap().is_none());
        let (critical, ku) = cert.key_usage().unwrap().unwrap();
        assert!(critical && ku.digital_signature() && !ku.key_cert_sign());
        let (eku_critical, eku) = cert.extended_key_usage().unwrap().unwrap();
        assert!(!eku_critical);
        assert_eq!(eku, [hallmark_x509::testing::EKU_CODE_SIGNING]);

        // Valid from now for one day; serial in 1..200.
        assert!(cert.not_before() >= before);
        assert_eq!(cert.not_after() - cert.not_before(), Duration::days(1));
        let serial = u32::from_str_radix(&cert.serial_hex(), 16).unwrap();
        assert!((1..200).contains(&serial), "{serial}");

        // The key belongs to the certificate and signs as the spec says.
        assert_eq!(key.spec(), spec);
        assert_eq!(cert.public_key().unwrap(), key.public_key().unwrap());
        let signature = key.sign(b"payload").unwrap();
        cert.public_key()
            .unwrap()
            .verify(SignatureAlgorithm::for_key(spec), b"payload", &signature)
            .unwrap();
        validate_code_signing_chain(&[cert]).unwrap();
    }
}

#[test]
fn parse_many_reads_pem_bundles_and_concatenated_der() {
    let chain = TestChainBuilder::code_signing()
        .key_spec(KeySpec::EcP256)
        .with_intermediates(1);
    let chain = chain.build().unwrap();
    let certs = chain.certificates();

    let bundle: String = certs.iter().map(Certificate::to_pem).collect();
    let parsed = Certificate::parse_many(bundle.as_bytes()).unwrap();
    assert_eq!(parsed, certs);

    // CRLF line endings and text around the blocks, as trust-store files often have.
    let messy = format!("subject=whatever\r\n{}", bundle.replace('\n', "\r\n"));
    assert_eq!(Certificate::parse_many(messy.as_bytes()).unwrap(), certs);

    let der: Vec<u8> = certs.iter().flat_map(|c| c.der().to_vec()).collect();
    assert_eq!(Certificate::parse_many(&der).unwrap(), certs);
    assert_eq!(
        Certificate::parse_many(certs[0].der()).unwrap(),
        &certs[..1]
    );
}

#[test]
fn parse_rejects_garbage_and_other_pem_blocks() {
    assert!(Certificate::parse_many(b"").is_err());
    assert!(Certificate::parse_many(b"\x30\x03\x02\x01\x01").is_err());
    let key_pem = hallmark_x509::SigningKey::generate(KeySpec::EcP256)
        .unwrap()
        .to_pkcs8_pem()
        .unwrap();
    assert!(matches!(
        Certificate::parse_many(key_pem.as_bytes()),
        Err(Error::UnexpectedPemLabel { .. })
    ));

    let (_, cert) = generate_test_certificate("x", KeySpec::EcP256).unwrap();
    let mut trailing = cert.der().to_vec();
    trailing.push(0);
    assert!(Certificate::from_der(&trailing).is_err());
    assert!(Certificate::from_der(&cert.der()[..cert.der().len() - 1]).is_err());
}

#[test]
fn crl_and_ocsp_urls_come_from_the_extensions() {
    let chain = TestChainBuilder::code_signing()
        .key_spec(KeySpec::EcP256)
        .leaf(|l| {
            l.crl_distribution_points = vec![
                "http://crl.example/leaf.crl".into(),
                "ldap://ignored".into(),
            ];
            l.ocsp_urls = vec!["http://ocsp.example".into()];
        })
        .build()
        .unwrap();
    assert_eq!(
        chain.leaf().crl_distribution_points(),
        ["http://crl.example/leaf.crl"]
    );
    assert_eq!(chain.leaf().ocsp_urls(), ["http://ocsp.example"]);
    assert!(chain.root().crl_distribution_points().is_empty());
    validate_code_signing_chain(chain.certificates()).unwrap();
}

#[test]
fn template_fields_come_back_out() {
    let not_before = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
    let not_after = OffsetDateTime::from_unix_timestamp(4_000_000_000).unwrap();
    let mut template = CertTemplate::code_signing_leaf("fields");
    template.not_before = not_before;
    template.not_after = not_after;
    template.serial = Some(vec![0x00, 0x8f, 0x01]);
    template.key_spec = KeySpec::EcP521;
    let (_, cert) = template.self_signed().unwrap();
    assert_eq!(cert.not_before(), not_before);
    assert_eq!(cert.not_after(), not_after);
    assert_eq!(cert.serial_hex(), "8f01");
    assert_eq!(cert.public_key().unwrap().spec(), KeySpec::EcP521);
    assert!(cert.is_valid_at(not_before));
    assert!(!cert.is_valid_at(not_after + Duration::seconds(1)));
}

#[test]
fn verify_signed_by_checks_the_issuer_key() {
    let chain = TestChainBuilder::code_signing()
        .key_spec(KeySpec::EcP384)
        .build()
        .unwrap();
    chain.leaf().verify_signed_by(chain.root()).unwrap();
    assert!(matches!(
        chain.root().verify_signed_by(chain.leaf()),
        Err(Error::InvalidSignature)
    ));
    // An RSA issuer cannot have made an ECDSA signature.
    let rsa = TestChainBuilder::code_signing()
        .key_spec(KeySpec::Rsa2048)
        .build()
        .unwrap();
    assert!(matches!(
        chain.leaf().verify_signed_by(rsa.root()),
        Err(Error::CertificateSignatureKeyMismatch { .. })
    ));
}

fn algorithm(oid: &str, null_parameters: bool) -> spki::AlgorithmIdentifierOwned {
    spki::AlgorithmIdentifierOwned {
        oid: const_oid::ObjectIdentifier::new(oid).unwrap(),
        parameters: null_parameters.then(|| der::Any::from(der::asn1::Null)),
    }
}

const SHA256: &str = "2.16.840.1.101.3.4.2.1";
const SHA384: &str = "2.16.840.1.101.3.4.2.2";

#[test]
fn verify_signature_takes_the_algorithm_from_the_caller() {
    let chain = TestChainBuilder::code_signing().build().unwrap();
    let leaf = chain.leaf().x509();
    chain
        .root()
        .verify_signature(
            leaf.signature_algorithm(),
            chain.leaf().tbs_der(),
            leaf.signature().as_bytes().unwrap(),
        )
        .unwrap();
    assert!(
        chain
            .leaf()
            .verify_signature(
                leaf.signature_algorithm(),
                chain.leaf().tbs_der(),
                leaf.signature().as_bytes().unwrap(),
            )
            .is_err()
    );
}

#[test]
fn cms_signatures_with_bare_key_algorithms_verify() {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{self, EcdsaKeyPair, RsaKeyPair};
    let message = b"signed attributes";
    let digest = |oid: &str| const_oid::ObjectIdentifier::new(oid).unwrap();

    // RSA PKCS#1 v1.5 with SHA-256, signatureAlgorithm rsaEncryption.
    let rsa = TestChainBuilder::code_signing()
        .key_spec(KeySpec::Rsa2048)
        .build()
        .unwrap();
    let pair = RsaKeyPair::from_pkcs8(&rsa.leaf_key().to_pkcs8_der().unwrap()).unwrap();
    let mut sig = vec![0; pair.public_modulus_len()];
    pair.sign(
        &signature::RSA_PKCS1_SHA256,
        &SystemRandom::new(),
        message,
        &mut sig,
    )
    .unwrap();
    let leaf = rsa.leaf();
    let rsa_encryption = algorithm("1.2.840.113549.1.1.1", true);
    leaf.verify_cms_signature(digest(SHA256), &rsa_encryption, message, &sig)
        .unwrap();
    leaf.verify_signature(&algorithm("1.2.840.113549.1.1.11", true), message, &sig)
        .unwrap();
    assert!(matches!(
        leaf.verify_cms_signature(digest(SHA384), &rsa_encryption, message, &sig),
        Err(Error::InvalidSignature)
    ));
    assert!(matches!(
        leaf.verify_cms_signature(digest("1.3.14.3.2.26"), &rsa_encryption, message, &sig),
        Err(Error::Sha1Forbidden)
    ));

    // DER ECDSA on P-384 with SHA-384, signatureAlgorithm id-ecPublicKey.
    let ec = TestChainBuilder::code_signing()
        .key_spec(KeySpec::EcP384)
        .build()
        .unwrap();
    let pair = EcdsaKeyPair::from_pkcs8(
        &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        &ec.leaf_key().to_pkcs8_der().unwrap(),
    )
    .unwrap();
    let sig = pair.sign(&SystemRandom::new(), message).unwrap();
    let leaf = ec.leaf();
    let ec_public_key = algorithm("1.2.840.10045.2.1", false);
    leaf.verify_cms_signature(digest(SHA384), &ec_public_key, message, sig.as_ref())
        .unwrap();
    leaf.verify_signature(
        &algorithm("1.2.840.10045.4.3.3", false),
        message,
        sig.as_ref(),
    )
    .unwrap();
}

#[test]
fn certificates_and_keys_cross_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Certificate>();
    send_sync::<hallmark_x509::SigningKey>();
    send_sync::<hallmark_x509::PublicKey>();
    send_sync::<Error>();
    send_sync::<hallmark_x509::chain::ChainError>();
}

/// Verified certificate signatures are remembered per process; the memory must never let a
/// different issuer, or different certificate bytes, pass.
#[test]
fn remembered_signature_checks_never_vouch_for_other_bytes() {
    let ours = hallmark_x509::testing::TestChainBuilder::code_signing()
        .with_intermediates(1)
        .build()
        .expect("chain");
    let theirs = hallmark_x509::testing::TestChainBuilder::code_signing()
        .with_intermediates(1)
        .build()
        .expect("chain");
    let (leaf, issuer) = (&ours.certificates()[0], &ours.certificates()[1]);
    for _ in 0..2 {
        leaf.verify_signed_by(issuer)
            .expect("genuine link, first and remembered");
    }
    // Same names, another key.
    assert!(leaf.verify_signed_by(&theirs.certificates()[1]).is_err());

    // The same certificate with one bit of its signature flipped.
    let mut der = leaf.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 1;
    let tampered = Certificate::from_der(&der).expect("still parses");
    assert!(tampered.verify_signed_by(issuer).is_err());
    leaf.verify_signed_by(issuer)
        .expect("the genuine one still passes");

    // Parsing the same bytes twice gives the same certificate.
    let again = Certificate::from_der(leaf.der()).expect("parses");
    assert_eq!(&again, leaf);
    assert_eq!(again.sha256_fingerprint(), leaf.sha256_fingerprint());
}
