//! One test per rule an envelope can break, each asserting the exact error.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use coset::cbor::value::Value;
use hallmark_envelope::{
    Envelope, EnvelopeError, EnvelopeFormat, SIGNING_SCHEME, SignRequest, sign,
};
use hallmark_x509::testing::{
    BasicConstraintsSpec, EKU_SERVER_AUTH, ExtendedKeyUsageSpec, KeyUsageBit, KeyUsageSpec,
};
use hallmark_x509::{KeySpec, generate_test_certificate};
use serde_json::json;

use common::*;

fn parse_jws(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    Envelope::parse(EnvelopeFormat::Jws, bytes)
}

fn parse_cose(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    Envelope::parse(EnvelopeFormat::Cose, bytes)
}

fn integrity_of_jws(bytes: &[u8]) -> Result<(), EnvelopeError> {
    parse_jws(bytes)?.verify_integrity()
}

fn members(bytes: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn tampered_payload_fails_signature() {
    let chain = chain();
    let mut jws = members(&signed(EnvelopeFormat::Jws, &chain));
    let mut other = payload();
    other.target_artifact.size += 1;
    let forged = URL_SAFE_NO_PAD.encode(other.to_sorted_json().unwrap());
    jws.insert("payload".into(), forged.into());
    let err = integrity_of_jws(&serde_json::to_vec(&jws).unwrap()).unwrap_err();
    assert!(matches!(err, EnvelopeError::SignatureInvalid), "{err:?}");
}

#[test]
fn tampered_cose_payload_fails_signature() {
    let chain = chain();
    let mut cose = signed(EnvelopeFormat::Cose, &chain);
    let at = cose.windows(4).position(|w| w == b"481}").unwrap();
    cose[at] = b'9';
    let err = parse_cose(&cose).unwrap().verify_integrity().unwrap_err();
    assert!(matches!(err, EnvelopeError::SignatureInvalid), "{err:?}");
}

#[test]
fn tampered_protected_header_fails_signature() {
    let chain = chain();
    let mut jws = members(&signed(EnvelopeFormat::Jws, &chain));
    let mut protected = jws_protected();
    protected["io.cncf.notary.signingTime"] = json!("2020-01-01T00:00:00Z");
    let forged = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&protected).unwrap());
    jws.insert("protected".into(), forged.into());
    let err = integrity_of_jws(&serde_json::to_vec(&jws).unwrap()).unwrap_err();
    assert!(matches!(err, EnvelopeError::SignatureInvalid), "{err:?}");
}

#[test]
fn signature_from_another_key_fails() {
    let chain = chain();
    let other = builder().build().unwrap();
    let jws = jws_with(&jws_protected(), other.leaf_key(), chain.certificates());
    let err = integrity_of_jws(&jws).unwrap_err();
    assert!(matches!(err, EnvelopeError::SignatureInvalid), "{err:?}");
}

#[test]
fn padded_payload_member_fails_signature() {
    // notation-go's ca_invalid case: a trailing "=" the signature does not cover.
    let chain = chain();
    let mut jws = members(&signed(EnvelopeFormat::Jws, &chain));
    let padded = format!("{}=", jws["payload"].as_str().unwrap());
    jws.insert("payload".into(), padded.into());
    let err = integrity_of_jws(&serde_json::to_vec(&jws).unwrap()).unwrap_err();
    assert!(matches!(err, EnvelopeError::SignatureInvalid), "{err:?}");
}

#[test]
fn algorithm_not_matching_the_key_is_refused() {
    let (key, cert) = generate_test_certificate("rsa", KeySpec::Rsa2048).unwrap(); // PS256
    let mut protected = jws_protected();
    protected["alg"] = json!("PS384");
    let err = integrity_of_jws(&jws_with(&protected, &key, &[cert])).unwrap_err();
    assert!(
        matches!(
            &err,
            EnvelopeError::AlgorithmKeyMismatch { alg, key, .. }
                if alg == "PS384" && key == "RSA-2048"
        ),
        "{err:?}"
    );
}

#[test]
fn unsupported_jws_algorithm_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["alg"] = json!("HS256");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::UnsupportedAlgorithm(ref a) if a == "HS256"),
        "{err:?}"
    );
}

#[test]
fn unknown_critical_header_fails_closed() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["crit"] = json!(["io.cncf.notary.signingScheme", "com.example.policy"]);
    protected["com.example.policy"] = json!("strict");
    let envelope = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap();
    let err = envelope.verify_integrity().unwrap_err();
    assert!(
        matches!(err, EnvelopeError::UnknownCriticalHeader(ref h) if h == "com.example.policy"),
        "{err:?}"
    );
    // A verification plugin that processed it clears the rule.
    envelope
        .verify_integrity_with_processed(&["com.example.policy"])
        .unwrap();
}

#[test]
fn crit_entry_for_an_absent_header_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["crit"] = json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]);
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::CriticalHeaderAbsent(ref h) if h == "io.cncf.notary.expiry"),
        "{err:?}"
    );
}

#[test]
fn expiry_not_marked_critical_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["io.cncf.notary.expiry"] = json!("2027-12-03T10:00:00Z");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::MissingCritEntry(ref h) if h == "io.cncf.notary.expiry"),
        "{err:?}"
    );
}

#[test]
fn signing_scheme_not_marked_critical_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["crit"] = json!([]);
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::MissingCritEntry(ref h) if h == SIGNING_SCHEME
        ),
        "{err:?}"
    );
}

#[test]
fn missing_crit_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected.as_object_mut().unwrap().remove("crit");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::MissingProtectedHeader("crit")),
        "{err:?}"
    );
}

#[test]
fn missing_signing_time_under_x509_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected
        .as_object_mut()
        .unwrap()
        .remove("io.cncf.notary.signingTime");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::MissingProtectedHeader("io.cncf.notary.signingTime")
        ),
        "{err:?}"
    );
}

#[test]
fn authentic_signing_time_under_x509_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["crit"] = json!([
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.authenticSigningTime"
    ]);
    protected["io.cncf.notary.authenticSigningTime"] = json!("2026-12-03T10:00:00Z");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::HeaderNotAllowedForScheme {
                header: "io.cncf.notary.authenticSigningTime",
                scheme: "notary.x509"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn signing_time_under_signing_authority_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["io.cncf.notary.signingScheme"] = json!("notary.x509.signingAuthority");
    protected["crit"] = json!([
        "io.cncf.notary.signingScheme",
        "io.cncf.notary.authenticSigningTime"
    ]);
    protected["io.cncf.notary.authenticSigningTime"] = json!("2026-12-03T10:00:00Z");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::HeaderNotAllowedForScheme {
                header: "io.cncf.notary.signingTime",
                scheme: "notary.x509.signingAuthority"
            }
        ),
        "{err:?}"
    );
}

#[test]
fn missing_authentic_signing_time_under_signing_authority_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["io.cncf.notary.signingScheme"] = json!("notary.x509.signingAuthority");
    protected
        .as_object_mut()
        .unwrap()
        .remove("io.cncf.notary.signingTime");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::MissingProtectedHeader("io.cncf.notary.authenticSigningTime")
        ),
        "{err:?}"
    );
}

#[test]
fn unknown_signing_scheme_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["io.cncf.notary.signingScheme"] = json!("notary.default.x509");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::UnsupportedSigningScheme(_)),
        "{err:?}"
    );
}

#[test]
fn time_with_no_offset_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["io.cncf.notary.signingTime"] = json!("2026-12-03 10:00:00");
    let err = parse_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::InvalidTime("io.cncf.notary.signingTime")
        ),
        "{err:?}"
    );
}

#[test]
fn expiry_before_signing_time_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["crit"] = json!(["io.cncf.notary.signingScheme", "io.cncf.notary.expiry"]);
    protected["io.cncf.notary.expiry"] = json!("2026-12-03T09:59:59Z");
    let err = integrity_of_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::ExpiryBeforeSigningTime),
        "{err:?}"
    );
}

#[test]
fn wrong_content_type_is_refused() {
    let chain = chain();
    let mut protected = jws_protected();
    protected["cty"] = json!("application/json");
    let err = integrity_of_jws(&jws_with(
        &protected,
        chain.leaf_key(),
        chain.certificates(),
    ))
    .unwrap_err();
    assert!(
        matches!(err, EnvelopeError::ContentTypeMismatch(ref c) if c == "application/json"),
        "{err:?}"
    );
}

#[test]
fn empty_x5c_is_refused() {
    let chain = chain();
    let jws = jws_with(&jws_protected(), chain.leaf_key(), &[]);
    let err = parse_jws(&jws).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::MissingCertificateChain),
        "{err:?}"
    );
}

#[test]
fn x5c_entry_that_is_not_der_is_refused() {
    let chain = chain();
    let mut jws = members(&jws_with(
        &jws_protected(),
        chain.leaf_key(),
        chain.certificates(),
    ));
    jws["header"]["x5c"] = json!(["bm90IGEgY2VydGlmaWNhdGU="]);
    let err = parse_jws(&serde_json::to_vec(&jws).unwrap()).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidCertificate { index: 0, .. }),
        "{err:?}"
    );
}

#[test]
fn extra_jws_top_level_member_is_refused() {
    let chain = chain();
    let mut jws = members(&signed(EnvelopeFormat::Jws, &chain));
    jws.insert("signatures".into(), json!([]));
    let err = parse_jws(&serde_json::to_vec(&jws).unwrap()).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::UnexpectedJwsMember(ref m) if m == "signatures"),
        "{err:?}"
    );
}

#[test]
fn jws_compact_serialization_is_refused() {
    let chain = chain();
    let jws = members(&signed(EnvelopeFormat::Jws, &chain));
    let compact = format!(
        "{}.{}.{}",
        jws["protected"].as_str().unwrap(),
        jws["payload"].as_str().unwrap(),
        jws["signature"].as_str().unwrap()
    );
    let err = parse_jws(compact.as_bytes()).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::CompactSerialization),
        "{err:?}"
    );
}

#[test]
fn jws_that_is_not_json_is_refused() {
    let err = parse_jws(b"malformed signature").unwrap_err();
    assert!(matches!(err, EnvelopeError::MalformedJson(_)), "{err:?}");
}

#[test]
fn cose_without_tag_18_is_refused() {
    let chain = chain();
    let cose = cose_with(
        cose_protected(),
        chain.leaf_key(),
        chain.certificates(),
        false,
    );
    let err = parse_cose(&cose).unwrap_err();
    assert!(matches!(err, EnvelopeError::UntaggedCose), "{err:?}");
}

#[test]
fn cose_untagged_signing_time_is_refused() {
    let chain = chain();
    let mut protected = cose_protected();
    protected[4].1 = Value::Integer(1_764_756_000.into());
    let cose = cose_with(protected, chain.leaf_key(), chain.certificates(), true);
    let err = parse_cose(&cose).unwrap_err();
    assert!(
        matches!(
            err,
            EnvelopeError::UntaggedTime("io.cncf.notary.signingTime")
        ),
        "{err:?}"
    );
}

#[test]
fn cose_unknown_algorithm_is_refused() {
    let chain = chain();
    let mut protected = cose_protected();
    protected[0].1 = Value::Integer((-257).into()); // RS256: registered, not allowed
    let cose = cose_with(protected, chain.leaf_key(), chain.certificates(), true);
    let err = parse_cose(&cose).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::UnsupportedAlgorithm(ref a) if a == "-257"),
        "{err:?}"
    );
}

#[test]
fn truncated_cose_is_refused() {
    let chain = chain();
    let cose = signed(EnvelopeFormat::Cose, &chain);
    let err = parse_cose(&cose[..cose.len() / 2]).unwrap_err();
    assert!(matches!(err, EnvelopeError::MalformedCose(_)), "{err:?}");
}

#[test]
fn cose_with_empty_x5chain_is_refused() {
    let chain = chain();
    let cose = cose_with(cose_protected(), chain.leaf_key(), &[], true);
    let err = parse_cose(&cose).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::MissingCertificateChain),
        "{err:?}"
    );
}

/// Builds a JWS over `chain` (leaf key signs) and expects a chain-rule failure.
fn assert_chain_rule_broken(certs: &[hallmark_x509::Certificate], key: &hallmark_x509::SigningKey) {
    let err = integrity_of_jws(&jws_with(&jws_protected(), key, certs)).unwrap_err();
    assert!(matches!(err, EnvelopeError::Chain(_)), "{err:?}");
}

#[test]
fn leaf_that_is_a_ca_is_refused() {
    let chain = builder()
        .leaf(|leaf| {
            leaf.basic_constraints = Some(BasicConstraintsSpec {
                ca: true,
                path_len: None,
                critical: true,
            });
        })
        .build()
        .unwrap();
    assert_chain_rule_broken(chain.certificates(), chain.leaf_key());
}

#[test]
fn leaf_without_digital_signature_is_refused() {
    let chain = builder()
        .leaf(|leaf| {
            leaf.key_usage = Some(KeyUsageSpec::new(&[KeyUsageBit::NonRepudiation], true));
        })
        .build()
        .unwrap();
    assert_chain_rule_broken(chain.certificates(), chain.leaf_key());
}

#[test]
fn leaf_with_server_auth_eku_is_refused() {
    let chain = builder()
        .leaf(|leaf| {
            leaf.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_SERVER_AUTH], false));
        })
        .build()
        .unwrap();
    assert_chain_rule_broken(chain.certificates(), chain.leaf_key());
}

#[test]
fn chain_out_of_order_is_refused() {
    let chain = builder().with_intermediates(1).build().unwrap();
    let mut certs = chain.certificates().to_vec();
    certs.swap(1, 2); // leaf, root, intermediate
    assert_chain_rule_broken(&certs, chain.leaf_key());
}

#[test]
fn unrelated_certificate_in_chain_is_refused() {
    let chain = chain();
    let (_, stranger) = generate_test_certificate("stranger", KeySpec::EcP256).unwrap();
    let mut certs = chain.certificates().to_vec();
    certs.insert(1, stranger);
    assert_chain_rule_broken(&certs, chain.leaf_key());
}

#[test]
fn sign_refuses_a_key_that_is_not_the_leafs() {
    let other = chain();
    let chain = chain();
    let payload = payload();
    let request = SignRequest {
        payload: &payload,
        signing_time: SIGNING_TIME,
        expiry: None,
        signing_agent: "hallmark-test",
        key: other.leaf_key(),
        certificate_chain: chain.certificates(),
        timestamper: None,
    };
    let err = sign(EnvelopeFormat::Jws, &request).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::InvalidSignRequest(_)),
        "{err:?}"
    );
}

#[test]
fn sign_refuses_expiry_before_signing_time() {
    let chain = chain();
    let payload = payload();
    let request = SignRequest {
        payload: &payload,
        signing_time: SIGNING_TIME,
        expiry: Some(SIGNING_TIME),
        signing_agent: "hallmark-test",
        key: chain.leaf_key(),
        certificate_chain: chain.certificates(),
        timestamper: None,
    };
    let err = sign(EnvelopeFormat::Cose, &request).unwrap_err();
    assert!(
        matches!(err, EnvelopeError::ExpiryBeforeSigningTime),
        "{err:?}"
    );
}

#[test]
fn sign_refuses_a_chain_that_breaks_the_rules() {
    let chain = builder()
        .leaf(|leaf| {
            leaf.extended_key_usage = Some(ExtendedKeyUsageSpec::new(&[EKU_SERVER_AUTH], false));
        })
        .build()
        .unwrap();
    let payload = payload();
    let request = SignRequest {
        payload: &payload,
        signing_time: SIGNING_TIME,
        expiry: None,
        signing_agent: "hallmark-test",
        key: chain.leaf_key(),
        certificate_chain: chain.certificates(),
        timestamper: None,
    };
    let err = sign(EnvelopeFormat::Jws, &request).unwrap_err();
    assert!(matches!(err, EnvelopeError::Chain(_)), "{err:?}");
}

#[test]
fn cose_with_a_huge_claimed_length_is_refused_without_allocating() {
    // tag 18, array(4), bstr with a claimed length of 2^62 and no data.
    let bytes = [0xd2, 0x84, 0x5b, 0x40, 0, 0, 0, 0, 0, 0, 0];
    let err = parse_cose(&bytes).unwrap_err();
    assert!(matches!(err, EnvelopeError::MalformedCose(_)), "{err:?}");
}
