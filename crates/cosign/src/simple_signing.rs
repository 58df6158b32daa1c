//! cosign's simple-signing payload ("Red Hat simple signing" as cosign writes it): the JSON a
//! `.sig` layer holds and its signature covers, byte for byte.
//!
//! ```json
//! {"critical":{"identity":{"docker-reference":"registry/repo"},
//!   "image":{"docker-manifest-digest":"sha256:…"},"type":"cosign container image signature"},
//!  "optional":{"key":"value"}}
//! ```
//!
//! cosign puts the repository (no tag) in `docker-reference` and the `-a` annotations (or
//! `null`) in `optional`; containers/image puts the full reference with its tag there and its
//! own `creator` and `timestamp`. Both are read. Verification works on the exact bytes that
//! were signed, never on a re-serialization.

use std::collections::BTreeMap;

use hallmark_oci::Digest;
use serde_json::Value;

use crate::error::CosignError;
use crate::go_json;

/// The layer media type of a simple-signing payload.
pub const MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// `critical.type` of every cosign image signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// A simple-signing payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Payload {
    /// `critical.identity.docker-reference`.
    pub docker_reference: String,
    /// `critical.image.docker-manifest-digest`: the manifest signed.
    pub manifest_digest: Digest,
    /// `optional`: annotations (cosign's `-a`) and other claims; `None` is JSON `null`.
    pub optional: Option<BTreeMap<String, Value>>,
}

impl Payload {
    /// The payload cosign writes for `manifest_digest` in `repository` with `annotations`.
    pub fn new(
        repository: &str,
        manifest_digest: Digest,
        annotations: &BTreeMap<String, String>,
    ) -> Payload {
        let optional = (!annotations.is_empty()).then(|| {
            annotations
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        });
        Payload {
            docker_reference: repository.to_owned(),
            manifest_digest,
            optional,
        }
    }

    /// The bytes cosign (Go's `encoding/json`) writes for this payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(256);
        out.push_str(r#"{"critical":{"identity":{"docker-reference":"#);
        go_json::write_string(&mut out, &self.docker_reference);
        out.push_str(r#"},"image":{"docker-manifest-digest":"#);
        go_json::write_string(&mut out, self.manifest_digest.as_str());
        out.push_str(r#"},"type":"#);
        go_json::write_string(&mut out, SIGNATURE_TYPE);
        out.push_str(r#"},"optional":"#);
        match &self.optional {
            None => out.push_str("null"),
            Some(map) => {
                let object: serde_json::Map<String, Value> =
                    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                go_json::write_value(&mut out, &Value::Object(object));
            }
        }
        out.push('}');
        out.into_bytes()
    }

    /// Parses payload bytes: `critical` must name the signature type, an image digest and an
    /// identity, as cosign's and containers/image's readers require.
    pub fn parse(bytes: &[u8]) -> Result<Payload, CosignError> {
        let malformed = |why: &str| CosignError::MalformedPayload(why.to_owned());
        let document: Value = serde_json::from_slice(bytes)
            .map_err(|e| CosignError::MalformedPayload(format!("not JSON: {e}")))?;
        let critical = document
            .get("critical")
            .and_then(Value::as_object)
            .ok_or_else(|| malformed("no \"critical\" object"))?;
        let kind = critical
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no critical.type"))?;
        if kind != SIGNATURE_TYPE {
            return Err(CosignError::PayloadType(kind.to_owned()));
        }
        let digest = critical
            .get("image")
            .and_then(|i| i.get("docker-manifest-digest"))
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no critical.image.docker-manifest-digest"))?;
        let manifest_digest = digest.parse().map_err(|_| {
            CosignError::MalformedPayload(format!("docker-manifest-digest {digest:?} is invalid"))
        })?;
        let docker_reference = critical
            .get("identity")
            .and_then(|i| i.get("docker-reference"))
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no critical.identity.docker-reference"))?
            .to_owned();
        let optional = match document.get("optional") {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => {
                Some(map.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            }
            Some(_) => return Err(malformed("\"optional\" is neither an object nor null")),
        };
        Ok(Payload {
            docker_reference,
            manifest_digest,
            optional,
        })
    }

    /// The value of annotation `key` in `optional`, as text (non-string values as JSON).
    pub fn annotation(&self, key: &str) -> Option<String> {
        let value = self.optional.as_ref()?.get(key)?;
        Some(match value {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const DIGEST: &str = "sha256:0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0";

    #[test]
    fn bytes_match_cosign() {
        let none = Payload::new(
            "127.0.0.1:5000/demo",
            DIGEST.parse().unwrap(),
            &BTreeMap::new(),
        );
        assert_eq!(
            String::from_utf8(none.to_bytes()).unwrap(),
            format!(
                "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/demo\"}},\
                 \"image\":{{\"docker-manifest-digest\":\"{DIGEST}\"}},\"type\":\"cosign \
                 container image signature\"}},\"optional\":null}}"
            )
        );
        let annotated = BTreeMap::from([
            ("z".to_owned(), "<1>".to_owned()),
            ("a".to_owned(), "b".to_owned()),
        ]);
        let some = Payload::new("r/x", DIGEST.parse().unwrap(), &annotated);
        let text = String::from_utf8(some.to_bytes()).unwrap();
        assert!(
            text.ends_with(r#""optional":{"a":"b","z":"\u003c1\u003e"}}"#),
            "{text}"
        );
        assert_eq!(Payload::parse(text.as_bytes()).unwrap(), some);
    }

    #[test]
    fn containers_image_payload_is_read() {
        let text = format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"r/x:v1\"}},\"image\":\
             {{\"docker-manifest-digest\":\"{DIGEST}\"}},\"type\":\"cosign container image \
             signature\"}},\"optional\":{{\"creator\":\"containers/image 5.23\",\"timestamp\":\
             1700000000}}}}"
        );
        let p = Payload::parse(text.as_bytes()).unwrap();
        assert_eq!(p.docker_reference, "r/x:v1");
        assert_eq!(p.annotation("timestamp").as_deref(), Some("1700000000"));
    }

    #[test]
    fn malformed_payloads_are_refused() {
        for bad in [
            "[]",
            "{}",
            r#"{"critical":{"type":"other","image":{},"identity":{}}}"#,
            r#"{"critical":{"type":"cosign container image signature","identity":{}}}"#,
            r#"{"critical":{"type":"cosign container image signature",
                "image":{"docker-manifest-digest":"md5:1"},"identity":{"docker-reference":"x"}}}"#,
        ] {
            assert!(Payload::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
