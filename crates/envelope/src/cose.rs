//! The COSE envelope: `COSE_Sign1_Tagged` (RFC 9052 §4.2, tag 18), as profiled by the Notary
//! Project ("COSE Sign1 Signature Envelope", signature-envelope-cose.md).
//!
//! Protected header: `1` alg, `2` crit (text labels), `3` content type, and the Notary
//! Project's text labels. Times are CBOR tag 1 over an integer epoch; an untagged time is
//! refused, as notation-core-go does. The certificate chain is label `33` (x5chain, RFC 9360):
//! an array of bstr or a single bstr, unprotected or protected.
//!
//! The signature covers `Sig_structure = ["Signature1", protected, h'', payload]` (RFC 9052
//! §4.4) built over the protected bytes **as received**, which coset keeps. When signing, the
//! protected map is written in Go's canonical order (length-first: integer labels, then text
//! labels by encoded length, then bytewise), with `crit` ordered signingScheme, expiry,
//! critical extended attributes, so Hallmark's bytes equal notation-core-go's.

use coset::cbor::value::Value;
use coset::{
    AsCborValue, CborSerializable, CoseSign1, Header, Label, ProtectedHeader, RegisteredLabel,
    RegisteredLabelWithPrivate, TaggedCborSerializable,
};
use hallmark_x509::{Certificate, SignatureAlgorithm};
use time::OffsetDateTime;

use crate::attributes::{
    AUTHENTIC_SIGNING_TIME, EXPIRY, ProtectedFields, SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME,
    SignedAttributes, TIMESTAMP_SIGNATURE, UnsignedAttributes, VERIFICATION_PLUGIN,
    VERIFICATION_PLUGIN_MIN_VERSION,
};
use crate::{Envelope, EnvelopeError, EnvelopeFormat};

/// RFC 9052 §4.2: the CBOR tag of COSE_Sign1_Tagged.
const COSE_SIGN1_TAG: u64 = 18;
/// RFC 9360 §2: x5chain.
const X5CHAIN: i64 = 33;
/// RFC 8949 §3.4.2: epoch-based date/time.
const EPOCH_TAG: u64 = 1;

/// Parses a COSE_Sign1_Tagged envelope with every header rule.
pub(crate) fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let sign1 = decode_tagged(bytes)?;
    let payload = sign1
        .payload
        .clone()
        .ok_or(EnvelopeError::DetachedPayload)?;
    // RFC 9052 §4.4: the Sig_structure uses the protected bstr as received.
    let signing_input = sign1.tbs_data(b"");

    let protected = &sign1.protected.header;
    let algorithm = parse_algorithm(protected)?;
    let (fields, protected_chain) = parse_protected(protected)?;
    let signed = fields.into_signed()?;
    let (unsigned, unprotected_chain) = parse_unprotected(&sign1.unprotected)?;

    let chain_values = protected_chain
        .or(unprotected_chain)
        .ok_or(EnvelopeError::MissingCertificateChain)?;
    let certificate_chain = parse_chain(chain_values)?;
    Ok(Envelope {
        format: EnvelopeFormat::Cose,
        algorithm,
        payload,
        signature: sign1.signature,
        signed,
        unsigned,
        certificate_chain,
        signing_input,
    })
}

fn decode_tagged(bytes: &[u8]) -> Result<CoseSign1, EnvelopeError> {
    let mut reader = bytes;
    let value: Value = coset::cbor::de::from_reader(&mut reader)
        .map_err(|e| EnvelopeError::MalformedCose(e.to_string()))?;
    if !reader.is_empty() {
        return Err(EnvelopeError::MalformedCose(
            "trailing bytes after the message".into(),
        ));
    }
    // Spec: the envelope is COSE_Sign1_Tagged; an untagged COSE_Sign1 is refused.
    let inner = match value {
        Value::Tag(COSE_SIGN1_TAG, inner) => *inner,
        _ => return Err(EnvelopeError::UntaggedCose),
    };
    CoseSign1::from_cbor_value(inner).map_err(|e| EnvelopeError::MalformedCose(e.to_string()))
}

fn parse_algorithm(header: &Header) -> Result<SignatureAlgorithm, EnvelopeError> {
    let id = match &header.alg {
        None => return Err(EnvelopeError::MissingProtectedHeader("alg")),
        Some(RegisteredLabelWithPrivate::Assigned(alg)) => *alg as i64,
        Some(RegisteredLabelWithPrivate::PrivateUse(id)) => *id,
        Some(RegisteredLabelWithPrivate::Text(name)) => {
            return Err(EnvelopeError::UnsupportedAlgorithm(name.clone()));
        }
    };
    SignatureAlgorithm::from_cose_id(id)
        .ok_or_else(|| EnvelopeError::UnsupportedAlgorithm(id.to_string()))
}

fn parse_protected(header: &Header) -> Result<(ProtectedFields, Option<Value>), EnvelopeError> {
    let mut fields = ProtectedFields {
        crit: (!header.crit.is_empty()).then(|| header.crit.iter().map(crit_name).collect()),
        ..ProtectedFields::default()
    };
    fields.format_headers.push("1".into());
    if !header.crit.is_empty() {
        fields.format_headers.push("2".into());
    }
    fields.content_type = match &header.content_type {
        None => None,
        Some(RegisteredLabel::Text(cty)) => {
            fields.format_headers.push("3".into());
            Some(cty.clone())
        }
        Some(RegisteredLabel::Assigned(_)) => {
            return Err(invalid("3", "a text content type"));
        }
    };

    let mut chain = None;
    for (label, value) in &header.rest {
        match label {
            Label::Int(X5CHAIN) => {
                fields.format_headers.push(X5CHAIN.to_string());
                chain = Some(value.clone());
            }
            Label::Int(other) => fields.extended.push((other.to_string(), to_json(value))),
            Label::Text(name) => parse_text_label(&mut fields, name, value)?,
        }
    }
    Ok((fields, chain))
}

fn parse_text_label(
    fields: &mut ProtectedFields,
    name: &str,
    value: &Value,
) -> Result<(), EnvelopeError> {
    match name {
        SIGNING_SCHEME => fields.signing_scheme = Some(text(name, value)?),
        SIGNING_TIME => fields.signing_time = Some(time_value(SIGNING_TIME, value)?),
        AUTHENTIC_SIGNING_TIME => {
            fields.authentic_signing_time = Some(time_value(AUTHENTIC_SIGNING_TIME, value)?)
        }
        EXPIRY => fields.expiry = Some(time_value(EXPIRY, value)?),
        VERIFICATION_PLUGIN => fields.verification_plugin = Some(text(name, value)?),
        VERIFICATION_PLUGIN_MIN_VERSION => {
            fields.verification_plugin_min_version = Some(text(name, value)?)
        }
        _ => fields.extended.push((name.to_owned(), to_json(value))),
    }
    Ok(())
}

fn crit_name(label: &RegisteredLabelWithPrivate<coset::iana::HeaderParameter>) -> String {
    match label {
        RegisteredLabelWithPrivate::Text(name) => name.clone(),
        RegisteredLabelWithPrivate::Assigned(param) => (*param as i64).to_string(),
        RegisteredLabelWithPrivate::PrivateUse(id) => id.to_string(),
    }
}

fn parse_unprotected(
    header: &Header,
) -> Result<(UnsignedAttributes, Option<Value>), EnvelopeError> {
    let mut unsigned = UnsignedAttributes::default();
    let mut chain = None;
    for (label, value) in &header.rest {
        match label {
            Label::Int(X5CHAIN) => chain = Some(value.clone()),
            Label::Text(name) if name == TIMESTAMP_SIGNATURE => match value {
                Value::Bytes(token) => unsigned.timestamp_signature = Some(token.clone()),
                _ => return Err(invalid(TIMESTAMP_SIGNATURE, "a byte string")),
            },
            Label::Text(name) if name == SIGNING_AGENT => {
                unsigned.signing_agent = Some(text(SIGNING_AGENT, value)?)
            }
            // Unprotected headers are not covered by the signature; unknown ones mean nothing.
            _ => {}
        }
    }
    Ok((unsigned, chain))
}

/// RFC 9360 §2: x5chain is a single bstr, or an array of bstr ordered leaf first.
fn parse_chain(value: Value) -> Result<Vec<Certificate>, EnvelopeError> {
    let ders = match value {
        Value::Bytes(der) => vec![der],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Bytes(der) => Ok(der),
                _ => Err(invalid("33", "an array of DER certificates")),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(invalid("33", "an array of DER certificates")),
    };
    if ders.is_empty() {
        return Err(EnvelopeError::MissingCertificateChain);
    }
    ders.iter()
        .enumerate()
        .map(|(index, der)| {
            Certificate::from_der(der)
                .map_err(|source| EnvelopeError::InvalidCertificate { index, source })
        })
        .collect()
}

fn text(name: &str, value: &Value) -> Result<String, EnvelopeError> {
    match value {
        Value::Text(s) => Ok(s.clone()),
        _ => Err(invalid(name, "a text string")),
    }
}

fn invalid(name: &str, expected: &'static str) -> EnvelopeError {
    EnvelopeError::InvalidHeaderValue {
        name: name.to_owned(),
        expected,
    }
}

/// Spec: times are tag 1 over integer seconds; untagged or non-integer times are refused.
fn time_value(name: &'static str, value: &Value) -> Result<OffsetDateTime, EnvelopeError> {
    let Value::Tag(EPOCH_TAG, inner) = value else {
        return Err(EnvelopeError::UntaggedTime(name));
    };
    let Value::Integer(seconds) = **inner else {
        return Err(EnvelopeError::UntaggedTime(name));
    };
    let seconds = i64::try_from(seconds).map_err(|_| EnvelopeError::InvalidTime(name))?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| EnvelopeError::InvalidTime(name))
}

/// Extended attribute values are reported as JSON, whatever their CBOR type.
fn to_json(value: &Value) -> serde_json::Value {
    use base64::Engine as _;
    match value {
        Value::Integer(i) => {
            let i = i128::from(*i);
            i64::try_from(i)
                .map(serde_json::Value::from)
                .or_else(|_| u64::try_from(i).map(serde_json::Value::from))
                .unwrap_or_else(|_| serde_json::Value::String(i.to_string()))
        }
        Value::Bytes(b) => base64::engine::general_purpose::STANDARD.encode(b).into(),
        Value::Float(f) => serde_json::Value::from(*f),
        Value::Text(s) => s.clone().into(),
        Value::Bool(b) => (*b).into(),
        Value::Tag(_, inner) => to_json(inner),
        Value::Array(items) => items.iter().map(to_json).collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| {
                let key = match k {
                    Value::Text(s) => s.clone(),
                    other => to_json(other).to_string(),
                };
                (key, to_json(v))
            })
            .collect::<serde_json::Map<_, _>>()
            .into(),
        _ => serde_json::Value::Null,
    }
}

/// Extended attributes given as JSON are written as the corresponding CBOR.
fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Integer(i.into()),
            (None, Some(u)) => Value::Integer(u.into()),
            _ => Value::Float(n.as_f64().unwrap_or_default()),
        },
        serde_json::Value::String(s) => Value::Text(s.clone()),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::Text(k.clone()), from_json(v)))
                .collect(),
        ),
    }
}

fn encode(value: &Value) -> Result<Vec<u8>, EnvelopeError> {
    let mut out = Vec::new();
    coset::cbor::ser::into_writer(value, &mut out)
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    Ok(out)
}

fn epoch(time: OffsetDateTime) -> Value {
    Value::Tag(
        EPOCH_TAG,
        Box::new(Value::Integer(time.unix_timestamp().into())),
    )
}

/// Go's canonical (length-first) order: shorter encoded keys first, then bytewise.
fn canonical_sort(entries: &mut [(Value, Value)]) -> Result<(), EnvelopeError> {
    let mut keyed = Vec::with_capacity(entries.len());
    for (k, _) in entries.iter() {
        keyed.push(encode(k)?);
    }
    let mut order: Vec<usize> = (0..entries.len()).collect();
    order.sort_by(|&a, &b| (keyed[a].len(), &keyed[a]).cmp(&(keyed[b].len(), &keyed[b])));
    let sorted: Vec<_> = order.iter().map(|&i| entries[i].clone()).collect();
    entries.clone_from_slice(&sorted);
    Ok(())
}

/// The protected header bytes notation-core-go writes for `attrs`.
pub(crate) fn encode_protected(
    alg: SignatureAlgorithm,
    attrs: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut crit = vec![Value::Text(SIGNING_SCHEME.into())];
    if attrs.authentic_signing_time.is_some() {
        crit.push(Value::Text(AUTHENTIC_SIGNING_TIME.into()));
    }
    if attrs.expiry.is_some() {
        crit.push(Value::Text(EXPIRY.into()));
    }
    crit.extend(
        attrs
            .critical_extended()
            .map(|a| Value::Text(a.key.clone())),
    );

    let mut entries = vec![
        (
            Value::Integer(1.into()),
            Value::Integer(alg.cose_id().into()),
        ),
        (Value::Integer(2.into()), Value::Array(crit)),
        (
            Value::Integer(3.into()),
            Value::Text(attrs.content_type.clone()),
        ),
        (
            Value::Text(SIGNING_SCHEME.into()),
            Value::Text(attrs.signing_scheme.as_str().into()),
        ),
    ];
    let times = [
        (SIGNING_TIME, attrs.signing_time),
        (AUTHENTIC_SIGNING_TIME, attrs.authentic_signing_time),
        (EXPIRY, attrs.expiry),
    ];
    for (name, time) in times {
        if let Some(time) = time {
            entries.push((Value::Text(name.into()), epoch(time)));
        }
    }
    for (name, value) in [
        (VERIFICATION_PLUGIN, &attrs.verification_plugin),
        (
            VERIFICATION_PLUGIN_MIN_VERSION,
            &attrs.verification_plugin_min_version,
        ),
    ] {
        if let Some(value) = value {
            entries.push((Value::Text(name.into()), Value::Text(value.clone())));
        }
    }
    for attr in &attrs.extended {
        entries.push((Value::Text(attr.key.clone()), from_json(&attr.value)));
    }
    canonical_sort(&mut entries)?;
    encode(&Value::Map(entries))
}

/// The unprotected header: x5chain, then the text labels, in canonical order.
fn unprotected_header(chain: &[Certificate], unsigned: &UnsignedAttributes) -> Header {
    let mut rest = Vec::new();
    if !chain.is_empty() {
        let ders = chain
            .iter()
            .map(|c| Value::Bytes(c.der().to_vec()))
            .collect();
        rest.push((Label::Int(X5CHAIN), Value::Array(ders)));
    }
    if let Some(agent) = unsigned.signing_agent.as_deref().filter(|a| !a.is_empty()) {
        rest.push((Label::Text(SIGNING_AGENT.into()), Value::Text(agent.into())));
    }
    if let Some(token) = &unsigned.timestamp_signature {
        rest.push((
            Label::Text(TIMESTAMP_SIGNATURE.into()),
            Value::Bytes(token.clone()),
        ));
    }
    Header {
        rest,
        ..Header::default()
    }
}

/// An unsigned message over `protected` and `payload`, ready for [`to_be_signed`].
pub(crate) fn message(protected: Vec<u8>, payload: &[u8]) -> Result<CoseSign1, EnvelopeError> {
    let header =
        Header::from_slice(&protected).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    Ok(CoseSign1 {
        protected: ProtectedHeader {
            original_data: Some(protected),
            header,
        },
        unprotected: Header::default(),
        payload: Some(payload.to_vec()),
        signature: Vec::new(),
    })
}

/// The Sig_structure bytes the signer signs.
pub(crate) fn to_be_signed(message: &CoseSign1) -> Vec<u8> {
    message.tbs_data(b"")
}

/// The tagged message with its signature and unprotected header.
pub(crate) fn assemble(
    mut message: CoseSign1,
    signature: Vec<u8>,
    chain: &[Certificate],
    unsigned: &UnsignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    message.signature = signature;
    message.unprotected = unprotected_header(chain, unsigned);
    message
        .to_tagged_vec()
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot read its fixture should fail loudly
mod tests {
    use super::*;
    use crate::{ExtendedAttribute, PAYLOAD_CONTENT_TYPE, SigningScheme};

    const VECTOR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notation/core-conformance/cose/conformance.json"
    );

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn load() -> Option<serde_json::Value> {
        let text = std::fs::read_to_string(VECTOR).ok()?;
        Some(serde_json::from_str(&text).unwrap())
    }

    fn attrs(vector: &serde_json::Value) -> SignedAttributes {
        let at =
            |k: &str| OffsetDateTime::from_unix_timestamp(vector[k].as_i64().unwrap()).unwrap();
        SignedAttributes {
            content_type: PAYLOAD_CONTENT_TYPE.into(),
            signing_scheme: SigningScheme::X509,
            signing_time: Some(at("signingTime")),
            authentic_signing_time: None,
            expiry: Some(at("expiry")),
            verification_plugin: None,
            verification_plugin_min_version: None,
            extended: vec![
                ExtendedAttribute {
                    key: "signedKey1".into(),
                    value: "signedValue1".into(),
                    critical: false,
                },
                ExtendedAttribute {
                    key: "signedCritKey1".into(),
                    value: "signedCritValue1".into(),
                    critical: true,
                },
            ],
        }
    }

    /// core-conformance/README.md: the fixed request gives exactly `protectedHeaders.cborHex`,
    /// and, with the vector's signature in place, exactly `expectedOutput.cborHex`.
    #[test]
    fn conformance_request_reproduces_notation_core_go_bytes() {
        let Some(vector) = load() else {
            println!("skipped: {VECTOR} is absent");
            return;
        };
        let protected = encode_protected(SignatureAlgorithm::Ps384, &attrs(&vector)).unwrap();
        let expected = hex(vector["protectedHeaders"]["cborHex"].as_str().unwrap());
        assert_eq!(protected, expected);

        let expected_message = hex(vector["expectedOutput"]["cborHex"].as_str().unwrap());
        let original = decode_tagged(&expected_message).unwrap();
        let payload = hex(vector["payload"].as_str().unwrap());
        let unsigned = UnsignedAttributes {
            signing_agent: Some("NotationConformanceTest/1.0.0".into()),
            timestamp_signature: None,
        };
        let message = message(protected, &payload).unwrap();
        let ours = assemble(message, original.signature, &[], &unsigned).unwrap();
        assert_eq!(ours, expected_message);
    }

    /// Decoding `expectedOutput` gives the protected map of the README, critical flags included.
    #[test]
    fn conformance_message_decodes_to_the_documented_map() {
        let Some(vector) = load() else {
            println!("skipped: {VECTOR} is absent");
            return;
        };
        let message = decode_tagged(&hex(vector["expectedOutput"]["cborHex"].as_str().unwrap()));
        let message = message.unwrap();
        assert_eq!(
            parse_algorithm(&message.protected.header).unwrap(),
            SignatureAlgorithm::Ps384
        );
        let (fields, chain) = parse_protected(&message.protected.header).unwrap();
        assert!(chain.is_none());
        let signed = fields.into_signed().unwrap();
        assert_eq!(signed, attrs(&vector));
    }
}
