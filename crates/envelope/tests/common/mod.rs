//! Shared fixtures: vector paths, a payload, and hand-built envelopes for negative cases.
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // fixtures fail loudly

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use coset::cbor::value::Value;
use hallmark_envelope::{EnvelopeFormat, Payload, SignRequest, sign};
use hallmark_oci::Descriptor;
use hallmark_x509::testing::{TestChain, TestChainBuilder};
use hallmark_x509::{Certificate, KeySpec, SigningKey};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::datetime;

/// The notation vector folder, or `None` (with a skip notice) when it is absent.
pub fn vectors(sub: &str) -> Option<std::path::PathBuf> {
    let dir = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notation"
    ))
    .join(sub);
    if dir.exists() {
        Some(dir)
    } else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent", dir.display());
        None
    }
}

pub const SIGNING_TIME: OffsetDateTime = datetime!(2026-12-03 10:00:00 UTC);

pub fn payload() -> Payload {
    let digest = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
        .parse()
        .unwrap();
    Payload::new(Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        digest,
        481,
    ))
}

/// A code-signing chain builder with EC P-256 keys (fast), whatever the builder's default.
pub fn builder() -> TestChainBuilder {
    TestChainBuilder::code_signing().key_spec(KeySpec::EcP256)
}

/// A valid leaf + root chain with EC P-256 keys.
pub fn chain() -> TestChain {
    builder().build().unwrap()
}

/// A correct envelope made by `sign`.
pub fn signed(format: EnvelopeFormat, chain: &TestChain) -> Vec<u8> {
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
    sign(format, &request).unwrap()
}

/// The protected header `sign` would write for EC P-256, as a JSON object to modify.
pub fn jws_protected() -> serde_json::Value {
    json!({
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": "application/vnd.cncf.notary.payload.v1+json",
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": "2026-12-03T10:00:00Z",
    })
}

/// A flattened JWS over `protected` and the test payload, signed by `key`, with `x5c`.
pub fn jws_with(protected: &serde_json::Value, key: &SigningKey, x5c: &[Certificate]) -> Vec<u8> {
    let protected = URL_SAFE_NO_PAD.encode(serde_json::to_vec(protected).unwrap());
    let payload = URL_SAFE_NO_PAD.encode(payload().to_sorted_json().unwrap());
    let signature = key
        .sign(format!("{protected}.{payload}").as_bytes())
        .unwrap();
    let x5c: Vec<String> = x5c.iter().map(|c| STANDARD.encode(c.der())).collect();
    serde_json::to_vec(&json!({
        "payload": payload,
        "protected": protected,
        "header": {"x5c": x5c},
        "signature": URL_SAFE_NO_PAD.encode(signature),
    }))
    .unwrap()
}

/// The protected map `sign` would write for EC P-256, as CBOR entries to modify.
pub fn cose_protected() -> Vec<(Value, Value)> {
    vec![
        (Value::Integer(1.into()), Value::Integer((-7).into())),
        (
            Value::Integer(2.into()),
            Value::Array(vec![Value::Text("io.cncf.notary.signingScheme".into())]),
        ),
        (
            Value::Integer(3.into()),
            Value::Text("application/vnd.cncf.notary.payload.v1+json".into()),
        ),
        (
            Value::Text("io.cncf.notary.signingScheme".into()),
            Value::Text("notary.x509".into()),
        ),
        (
            Value::Text("io.cncf.notary.signingTime".into()),
            Value::Tag(1, Box::new(Value::Integer(1_764_756_000.into()))),
        ),
    ]
}

fn cbor(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(value, &mut out).unwrap();
    out
}

/// A COSE_Sign1 over `protected` and the test payload, signed by `key`; tag 18 if `tagged`.
pub fn cose_with(
    protected: Vec<(Value, Value)>,
    key: &SigningKey,
    x5chain: &[Certificate],
    tagged: bool,
) -> Vec<u8> {
    let protected = cbor(&Value::Map(protected));
    let payload = payload().to_struct_json().unwrap();
    let tbs = cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.clone()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.clone()),
    ]));
    let signature = key.sign(&tbs).unwrap();
    let chain = x5chain
        .iter()
        .map(|c| Value::Bytes(c.der().to_vec()))
        .collect();
    let message = Value::Array(vec![
        Value::Bytes(protected),
        Value::Map(vec![(Value::Integer(33.into()), Value::Array(chain))]),
        Value::Bytes(payload),
        Value::Bytes(signature),
    ]);
    if tagged {
        cbor(&Value::Tag(18, Box::new(message)))
    } else {
        cbor(&message)
    }
}
