//! The signed payload: `{"targetArtifact": <OCI descriptor>}`.
//!
//! Spec "Payload": content type `application/vnd.cncf.notary.payload.v1+json`; the descriptor
//! needs mediaType, digest and size and may carry annotations (user metadata) and
//! artifactType. notation writes the JSON two ways, and Hallmark does the same so its
//! envelopes are byte-compatible: the JWS payload is re-marshalled from a Go map, so every
//! object's keys come out sorted; the COSE payload is the Go struct, so keys keep declaration
//! order (mediaType, digest, size, ...). Go's encoder escapes `<`, `>`, `&`, U+2028 and
//! U+2029 inside strings; both writers here do too.

use hallmark_oci::Descriptor;
use serde::{Deserialize, Serialize};

use crate::EnvelopeError;

/// The Notary Project signature payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payload {
    /// The artifact the signature is about.
    #[serde(rename = "targetArtifact")]
    pub target_artifact: Descriptor,
}

impl Payload {
    /// A payload naming `target_artifact`.
    pub fn new(target_artifact: Descriptor) -> Self {
        Payload { target_artifact }
    }

    /// Parses payload bytes as received in an envelope.
    pub fn from_json(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        serde_json::from_slice(bytes).map_err(|e| EnvelopeError::MalformedPayload(e.to_string()))
    }

    /// The JSON notation signs in JWS envelopes: keys sorted at every level.
    pub fn to_sorted_json(&self) -> Result<Vec<u8>, EnvelopeError> {
        let value =
            serde_json::to_value(self).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
        let mut out = String::new();
        write_sorted(&value, &mut out)?;
        Ok(out.into_bytes())
    }

    /// The JSON notation signs in COSE envelopes: keys in the descriptor's field order.
    pub fn to_struct_json(&self) -> Result<Vec<u8>, EnvelopeError> {
        let json =
            serde_json::to_string(self).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
        Ok(go_escape(&json).into_bytes())
    }
}

/// Writes `value` as compact JSON with object keys in byte order, as Go marshals a map.
pub(crate) fn write_sorted(
    value: &serde_json::Value,
    out: &mut String,
) -> Result<(), EnvelopeError> {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_scalar(&serde_json::Value::String(key.clone()), out)?;
                out.push(':');
                write_sorted(item, out)?;
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_sorted(item, out)?;
            }
            out.push(']');
        }
        scalar => write_scalar(scalar, out)?,
    }
    Ok(())
}

fn write_scalar(value: &serde_json::Value, out: &mut String) -> Result<(), EnvelopeError> {
    let text = serde_json::to_string(value).map_err(|e| EnvelopeError::Encoding(e.to_string()))?;
    out.push_str(&go_escape(&text));
    Ok(())
}

/// Go's `json.Marshal` HTML-safe escaping. These characters only occur inside strings in
/// serialized JSON, so replacing them everywhere is exact.
pub(crate) fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test that cannot read its fixture should fail loudly
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn payload() -> Payload {
        let digest = "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0"
            .parse()
            .unwrap();
        let mut d = Descriptor::new("application/vnd.oci.image.manifest.v1+json", digest, 481);
        d.annotations = Some(BTreeMap::from([("b<".to_owned(), "x&y".to_owned())]));
        Payload::new(d)
    }

    #[test]
    fn jws_payload_keys_are_sorted_and_html_escaped() {
        let json = String::from_utf8(payload().to_sorted_json().unwrap()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"targetArtifact":{"annotations":{"b\u003c":"x\u0026y"},"#,
                r#""digest":"sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d"#,
                r#"5416c83670c30acecef0","#,
                r#""mediaType":"application/vnd.oci.image.manifest.v1+json","size":481}}"#,
            )
        );
    }

    #[test]
    fn cose_payload_keeps_struct_order() {
        let mut p = payload();
        p.target_artifact.annotations = None;
        let json = String::from_utf8(p.to_struct_json().unwrap()).unwrap();
        assert_eq!(
            json,
            concat!(
                r#"{"targetArtifact":{"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""digest":"sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d"#,
                r#"5416c83670c30acecef0","#,
                r#""size":481}}"#,
            )
        );
    }
}
