//! Sign with every key spec in both formats, then parse and verify what was signed.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use hallmark_envelope::{Envelope, EnvelopeFormat, PAYLOAD_CONTENT_TYPE, SignRequest, sign};
use hallmark_x509::{KeySpec, SignatureAlgorithm, generate_test_certificate};
use time::Duration;

use common::{SIGNING_TIME, payload};

#[test]
fn every_key_spec_round_trips_in_both_formats() {
    let payload = payload();
    let prefix = b"token over ".to_vec(); // captured: timestampers may borrow state
    let stamp = |signature: &[u8]| -> Result<Vec<u8>, String> {
        let mut token = prefix.clone();
        token.extend_from_slice(&signature[..8]);
        Ok(token)
    };
    for spec in KeySpec::ALL {
        let (key, cert) = generate_test_certificate("round trip", spec).unwrap();
        let chain = [cert];
        for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
            let request = SignRequest {
                payload: &payload,
                signing_time: SIGNING_TIME + Duration::milliseconds(250),
                expiry: Some(SIGNING_TIME + Duration::days(1)),
                signing_agent: "hallmark/test",
                key: &key,
                certificate_chain: &chain,
                timestamper: Some(&stamp),
            };
            let bytes = sign(format, &request).unwrap();
            let envelope = Envelope::parse(format, &bytes)
                .unwrap_or_else(|e| panic!("{spec} {format}: {e:?}"));
            envelope
                .verify_integrity()
                .unwrap_or_else(|e| panic!("{spec} {format}: {e:?}"));

            assert_eq!(envelope.algorithm, SignatureAlgorithm::for_key(spec));
            assert_eq!(envelope.payload().unwrap(), payload);
            assert_eq!(envelope.signed.content_type, PAYLOAD_CONTENT_TYPE);
            assert_eq!(
                envelope.signed.signing_time,
                Some(SIGNING_TIME),
                "whole seconds"
            );
            assert_eq!(
                envelope.signed.expiry,
                Some(SIGNING_TIME + Duration::days(1))
            );
            assert_eq!(
                envelope.unsigned.signing_agent.as_deref(),
                Some("hallmark/test")
            );
            let mut token = b"token over ".to_vec();
            token.extend_from_slice(&envelope.signature[..8]);
            assert_eq!(envelope.unsigned.timestamp_signature, Some(token));
            assert_eq!(envelope.certificate_chain, chain);
        }
    }
}

#[test]
fn a_chain_with_a_root_round_trips() {
    let chain = common::chain();
    for format in [EnvelopeFormat::Jws, EnvelopeFormat::Cose] {
        let bytes = common::signed(format, &chain);
        let envelope = Envelope::parse(format, &bytes).unwrap();
        envelope.verify_integrity().unwrap();
        assert_eq!(envelope.certificate_chain, chain.certificates());
    }
}

/// RFC 9360 §2: x5chain may sit in the protected header, as a single bstr.
#[test]
fn cose_x5chain_in_the_protected_header_as_one_bstr_is_accepted() {
    use coset::cbor::value::Value;
    let (key, cert) = generate_test_certificate("protected chain", KeySpec::EcP256).unwrap();
    let mut protected = common::cose_protected();
    protected.push((Value::Integer(33.into()), Value::Bytes(cert.der().to_vec())));
    let bytes = common::cose_with(protected, &key, &[], true);
    let envelope = Envelope::parse(EnvelopeFormat::Cose, &bytes).unwrap();
    envelope.verify_integrity().unwrap();
    assert_eq!(envelope.certificate_chain, [cert]);
}

#[test]
fn a_failing_timestamper_fails_signing() {
    let chain = common::chain();
    let payload = payload();
    let stamp = |_: &[u8]| -> Result<Vec<u8>, String> { Err("tsa unreachable".into()) };
    let request = SignRequest {
        payload: &payload,
        signing_time: SIGNING_TIME,
        expiry: None,
        signing_agent: "hallmark/test",
        key: chain.leaf_key(),
        certificate_chain: chain.certificates(),
        timestamper: Some(&stamp),
    };
    let err = sign(EnvelopeFormat::Jws, &request).unwrap_err();
    assert!(
        matches!(err, hallmark_envelope::EnvelopeError::Timestamp(_)),
        "{err:?}"
    );
}
