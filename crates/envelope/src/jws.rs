//! The JWS envelope: RFC 7515 flattened JSON serialization, as profiled by the Notary Project
//! ("JWS Signature Envelope", signature-envelope-jws.md).
//!
//! Only the flattened form is allowed, with exactly the members `payload`, `protected`,
//! `header` and `signature`. The signing input is `b64u(protected) || '.' || b64u(payload)`
//! over the strings **as received** (RFC 7515 §5.2), so re-encoding never changes what is
//! verified. Decoding is lenient about trailing `=` padding in the base64url members: a padded
//! member still fails, because the signature does not cover the padded string (notation-go's
//! `ca_invalid_sig_env.json` is exactly that case).
//!
//! When signing, the protected header is written as notation-core-go writes it: keys sorted
//! (a Go map), `crit` ordered signingScheme, critical extended attributes, expiry.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hallmark_x509::{Certificate, SignatureAlgorithm};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::attributes::{
    AUTHENTIC_SIGNING_TIME, EXPIRY, ProtectedFields, SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME,
    SignedAttributes, TIMESTAMP_SIGNATURE, UnsignedAttributes, VERIFICATION_PLUGIN,
    VERIFICATION_PLUGIN_MIN_VERSION,
};
use crate::payload::{go_escape, write_sorted};
use crate::{Envelope, EnvelopeError, EnvelopeFormat};

/// The four members of the flattened serialization (RFC 7515 §7.2.2), and no others.
const MEMBERS: [&str; 4] = ["payload", "protected", "header", "signature"];

/// base64url that tolerates absent padding only.
const B64URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

/// Standard base64 as Go's `[]byte` JSON fields write it, padding optional.
const B64STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Parses a flattened JWS envelope with every header rule.
pub(crate) fn parse(bytes: &[u8]) -> Result<Envelope, EnvelopeError> {
    let members = parse_members(bytes)?;
    let protected_b64 = member_str(&members, "protected")?;
    let payload_b64 = member_str(&members, "payload")?;
    let signature_b64 = member_str(&members, "signature")?;

    let protected_json = decode_b64url(protected_b64, "protected")?;
    let payload = decode_b64url(payload_b64, "payload")?;
    let signature = decode_b64url(signature_b64, "signature")?;

    let header = match members.get("header") {
        Some(Value::Object(header)) => header,
        Some(_) => {
            return Err(EnvelopeError::MalformedJson(
                "header must be an object".into(),
            ));
        }
        None => return Err(EnvelopeError::MissingJwsMember("header")),
    };
    let (unsigned, certificate_chain) = parse_unprotected(header)?;

    let protected: Map<String, Value> = serde_json::from_slice(&protected_json)
        .map_err(|_| EnvelopeError::MalformedProtectedHeader("JSON"))?;
    let (algorithm, fields) = parse_protected(protected)?;
    let signed = fields.into_signed()?;

    // RFC 7515 §5.2 step 8: the signing input is the received ASCII, not a re-encoding.
    let signing_input = format!("{protected_b64}.{payload_b64}").into_bytes();
    Ok(Envelope {
        format: EnvelopeFormat::Jws,
        algorithm,
        payload,
        signature,
        signed,
        unsigned,
        certificate_chain,
        signing_input,
    })
}

fn parse_members(bytes: &[u8]) -> Result<Map<String, Value>, EnvelopeError> {
    let text = std::str::from_utf8(bytes)
        .map_err(|_| EnvelopeError::MalformedJson("envelope is not UTF-8".into()))?
        .trim();
    if is_compact(text) {
        return Err(EnvelopeError::CompactSerialization);
    }
    let members: Map<String, Value> =
        serde_json::from_str(text).map_err(|e| EnvelopeError::MalformedJson(e.to_string()))?;

    // Spec "JWS Signature Envelope": only the flattened JSON serialization, with exactly
    // these members; the general serialization (`signatures`) is refused here too.
    if let Some(extra) = members.keys().find(|k| !MEMBERS.contains(&k.as_str())) {
        return Err(EnvelopeError::UnexpectedJwsMember(extra.clone()));
    }
    Ok(members)
}

/// Three dot-separated base64url segments: RFC 7515 §7.1 compact serialization.
fn is_compact(text: &str) -> bool {
    let parts: Vec<&str> = text.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
        })
}

fn member_str<'a>(
    members: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, EnvelopeError> {
    match members.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(EnvelopeError::MalformedJson(format!(
            "{name} must be a string"
        ))),
        None => Err(EnvelopeError::MissingJwsMember(name)),
    }
}

fn decode_b64url(text: &str, field: &'static str) -> Result<Vec<u8>, EnvelopeError> {
    B64URL
        .decode(text.trim_end_matches('='))
        .map_err(|_| EnvelopeError::InvalidBase64 {
            field,
            encoding: "base64url",
        })
}

fn parse_unprotected(
    header: &Map<String, Value>,
) -> Result<(UnsignedAttributes, Vec<Certificate>), EnvelopeError> {
    // Spec: x5c is an ordered list of standard-base64 DER certificates, leaf first.
    let x5c = match header.get("x5c") {
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(Value::Array(_)) | None => return Err(EnvelopeError::MissingCertificateChain),
        Some(_) => return Err(invalid("x5c", "an array of base64 DER certificates")),
    };
    let mut chain = Vec::with_capacity(x5c.len());
    for (index, item) in x5c.iter().enumerate() {
        let Value::String(b64) = item else {
            return Err(invalid("x5c", "an array of base64 DER certificates"));
        };
        let der = B64STD
            .decode(b64)
            .map_err(|_| EnvelopeError::InvalidBase64 {
                field: "x5c",
                encoding: "base64",
            })?;
        let cert = Certificate::from_der(&der)
            .map_err(|source| EnvelopeError::InvalidCertificate { index, source })?;
        chain.push(cert);
    }

    let timestamp_signature = match header.get(TIMESTAMP_SIGNATURE) {
        Some(Value::String(b64)) => {
            Some(
                B64STD
                    .decode(b64)
                    .map_err(|_| EnvelopeError::InvalidBase64 {
                        field: TIMESTAMP_SIGNATURE,
                        encoding: "base64",
                    })?,
            )
        }
        Some(_) => return Err(invalid(TIMESTAMP_SIGNATURE, "a base64 string")),
        None => None,
    };
    let signing_agent = match header.get(SIGNING_AGENT) {
        Some(Value::String(agent)) => Some(agent.clone()),
        Some(_) => return Err(invalid(SIGNING_AGENT, "a string")),
        None => None,
    };
    // Other unprotected keys are not covered by the signature and carry no meaning; the
    // mock vectors use `io.cncf.notary.SigningAgent`, so unknown keys are tolerated.
    let unsigned = UnsignedAttributes {
        signing_agent,
        timestamp_signature,
    };
    Ok((unsigned, chain))
}

fn invalid(name: &str, expected: &'static str) -> EnvelopeError {
    EnvelopeError::InvalidHeaderValue {
        name: name.to_owned(),
        expected,
    }
}

fn parse_protected(
    protected: Map<String, Value>,
) -> Result<(SignatureAlgorithm, ProtectedFields), EnvelopeError> {
    let mut fields = ProtectedFields::default();
    let mut algorithm = None;
    for (key, value) in protected {
        match key.as_str() {
            "alg" => {
                let name = string_value(&key, value)?;
                algorithm = Some(
                    SignatureAlgorithm::from_jws_name(&name)
                        .ok_or(EnvelopeError::UnsupportedAlgorithm(name))?,
                );
            }
            "cty" => fields.content_type = Some(string_value(&key, value)?),
            "crit" => fields.crit = Some(crit_value(value)?),
            SIGNING_SCHEME => fields.signing_scheme = Some(string_value(&key, value)?),
            SIGNING_TIME => fields.signing_time = Some(time_value(SIGNING_TIME, value)?),
            AUTHENTIC_SIGNING_TIME => {
                fields.authentic_signing_time = Some(time_value(AUTHENTIC_SIGNING_TIME, value)?)
            }
            EXPIRY => fields.expiry = Some(time_value(EXPIRY, value)?),
            VERIFICATION_PLUGIN => fields.verification_plugin = Some(string_value(&key, value)?),
            VERIFICATION_PLUGIN_MIN_VERSION => {
                fields.verification_plugin_min_version = Some(string_value(&key, value)?)
            }
            _ => fields.extended.push((key, value)),
        }
    }
    for name in ["alg", "cty", "crit"] {
        fields.format_headers.push(name.to_owned());
    }
    let algorithm = algorithm.ok_or(EnvelopeError::MissingProtectedHeader("alg"))?;
    Ok((algorithm, fields))
}

fn string_value(name: &str, value: Value) -> Result<String, EnvelopeError> {
    match value {
        Value::String(s) => Ok(s),
        _ => Err(invalid(name, "a string")),
    }
}

fn crit_value(value: Value) -> Result<Vec<String>, EnvelopeError> {
    let Value::Array(items) = value else {
        return Err(invalid("crit", "an array of header names"));
    };
    items
        .into_iter()
        .map(|item| match item {
            Value::String(s) => Ok(s),
            _ => Err(invalid("crit", "an array of header names")),
        })
        .collect()
}

/// Spec: times are RFC 3339 date-times; the offset is kept as written.
fn time_value(name: &'static str, value: Value) -> Result<OffsetDateTime, EnvelopeError> {
    let Value::String(text) = value else {
        return Err(EnvelopeError::InvalidTime(name));
    };
    OffsetDateTime::parse(&text, &Rfc3339).map_err(|_| EnvelopeError::InvalidTime(name))
}

/// RFC 3339 without fractional seconds, in the time's own offset (`Z` for UTC).
pub(crate) fn format_time(time: OffsetDateTime) -> Result<String, EnvelopeError> {
    let whole = time
        .replace_nanosecond(0)
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    whole
        .format(&Rfc3339)
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))
}

/// The protected header JSON notation-core-go writes for `attrs`.
pub(crate) fn encode_protected(
    alg: SignatureAlgorithm,
    attrs: &SignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut map = Map::new();
    let mut crit = vec![Value::from(SIGNING_SCHEME)];
    if attrs.authentic_signing_time.is_some() {
        crit.push(Value::from(AUTHENTIC_SIGNING_TIME));
    }
    crit.extend(
        attrs
            .critical_extended()
            .map(|a| Value::from(a.key.clone())),
    );
    if attrs.expiry.is_some() {
        crit.push(Value::from(EXPIRY));
    }

    map.insert("alg".into(), Value::from(alg.jws_name()));
    map.insert("crit".into(), Value::Array(crit));
    map.insert("cty".into(), Value::from(attrs.content_type.clone()));
    map.insert(
        SIGNING_SCHEME.into(),
        Value::from(attrs.signing_scheme.as_str()),
    );
    let times = [
        (SIGNING_TIME, attrs.signing_time),
        (AUTHENTIC_SIGNING_TIME, attrs.authentic_signing_time),
        (EXPIRY, attrs.expiry),
    ];
    for (name, time) in times {
        if let Some(time) = time {
            map.insert(name.into(), Value::from(format_time(time)?));
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
            map.insert(name.into(), Value::from(value.clone()));
        }
    }
    for attr in &attrs.extended {
        map.insert(attr.key.clone(), attr.value.clone());
    }

    let mut out = String::new();
    write_sorted(&Value::Object(map), &mut out)?;
    Ok(out.into_bytes())
}

/// `b64u(protected) || '.' || b64u(payload)`.
pub(crate) fn signing_input(protected_json: &[u8], payload: &[u8]) -> String {
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(protected_json),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

/// The flattened envelope, members in notation-core-go's order.
pub(crate) fn assemble(
    signing_input: &str,
    signature: &[u8],
    chain: &[Certificate],
    unsigned: &UnsignedAttributes,
) -> Result<Vec<u8>, EnvelopeError> {
    #[derive(serde::Serialize)]
    struct Header<'a> {
        #[serde(
            rename = "io.cncf.notary.timestampSignature",
            skip_serializing_if = "Option::is_none"
        )]
        timestamp_signature: Option<String>,
        x5c: Vec<String>,
        #[serde(
            rename = "io.cncf.notary.signingAgent",
            skip_serializing_if = "Option::is_none"
        )]
        signing_agent: Option<&'a str>,
    }
    #[derive(serde::Serialize)]
    struct Flattened<'a> {
        payload: &'a str,
        protected: &'a str,
        header: Header<'a>,
        signature: String,
    }

    let (protected, payload) = signing_input
        .split_once('.')
        .ok_or_else(|| EnvelopeError::Encoding("signing input has no separator".into()))?;
    let envelope = Flattened {
        payload,
        protected,
        header: Header {
            timestamp_signature: unsigned
                .timestamp_signature
                .as_ref()
                .map(|t| STANDARD.encode(t)),
            x5c: chain.iter().map(|c| STANDARD.encode(c.der())).collect(),
            signing_agent: unsigned.signing_agent.as_deref().filter(|a| !a.is_empty()),
        },
        signature: URL_SAFE_NO_PAD.encode(signature),
    };
    let json =
        serde_json::to_string(&envelope).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    Ok(go_escape(&json).into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot read its fixture should fail loudly
mod tests {
    use super::*;
    use crate::{ExtendedAttribute, PAYLOAD_CONTENT_TYPE, SigningScheme};

    const VECTOR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notation/core-conformance/jws/conformance.json"
    );

    fn datetime(text: &str) -> OffsetDateTime {
        OffsetDateTime::parse(text, &Rfc3339).unwrap()
    }

    fn extended(key: &str, value: &str, critical: bool) -> ExtendedAttribute {
        ExtendedAttribute {
            key: key.into(),
            value: Value::from(value),
            critical,
        }
    }

    /// core-conformance/README.md: the fixed request reproduces payload, protected and the
    /// signing agent byte for byte.
    #[test]
    fn conformance_request_reproduces_notation_core_go_bytes() {
        let Ok(text) = std::fs::read_to_string(VECTOR) else {
            println!("skipped: {VECTOR} is absent");
            return;
        };
        let vector: Value = serde_json::from_str(&text).unwrap();
        let attrs = SignedAttributes {
            content_type: PAYLOAD_CONTENT_TYPE.into(),
            signing_scheme: SigningScheme::X509,
            signing_time: Some(datetime("2022-08-29T13:50:00Z")),
            authentic_signing_time: None,
            expiry: Some(datetime("2099-08-30T13:50:00Z")),
            verification_plugin: None,
            verification_plugin_min_version: None,
            extended: vec![
                extended("signedCritKey1", "signedCritValue1", true),
                extended("signedKey1", "signedValue1", false),
                extended("signedKey2", "signedValue1", false),
                extended("signedKey3", "signedValue1", false),
                extended("signedKey4", "signedValue1", false),
            ],
        };
        let protected = encode_protected(SignatureAlgorithm::Es256, &attrs).unwrap();
        let input = signing_input(&protected, br#"{"key":"hello JWS"}"#);
        let unsigned = UnsignedAttributes {
            signing_agent: Some("NotationConformanceTest/1.0.0".into()),
            timestamp_signature: None,
        };
        let envelope = assemble(&input, b"sig", &[], &unsigned).unwrap();
        let ours: Value = serde_json::from_slice(&envelope).unwrap();

        assert_eq!(ours["protected"], vector["protected"]);
        assert_eq!(ours["payload"], vector["payload"]);
        assert_eq!(
            ours["header"][SIGNING_AGENT],
            vector["header"][SIGNING_AGENT]
        );
    }

    /// The same file, parsed as a verifier: no x5c, so it fails.
    #[test]
    fn conformance_envelope_without_x5c_is_refused() {
        let Ok(bytes) = std::fs::read(VECTOR) else {
            println!("skipped: {VECTOR} is absent");
            return;
        };
        assert!(matches!(
            parse(&bytes),
            Err(EnvelopeError::MissingCertificateChain)
        ));
    }

    #[test]
    fn times_keep_their_offset_and_drop_fractions() {
        let t = datetime("2023-03-14T16:10:02.75+08:00");
        assert_eq!(format_time(t).unwrap(), "2023-03-14T16:10:02+08:00");
        assert_eq!(
            format_time(datetime("2022-08-29T13:50:00Z")).unwrap(),
            "2022-08-29T13:50:00Z"
        );
    }
}
