//! in-toto statements (in-toto/attestation, "Statement" layer) as `cosign attest` makes them:
//! the predicate file wrapped with the attested image as the subject, under the predicate
//! type that `--type` names.

use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::error::CosignError;
use crate::go_json;

/// `_type` of the statements `cosign attest` writes.
pub const STATEMENT_V01: &str = "https://in-toto.io/Statement/v0.1";
/// `_type` of statement v1 (sigstore bundles).
pub const STATEMENT_V1: &str = "https://in-toto.io/Statement/v1";
/// The predicate type of `--type custom`.
pub const CUSTOM_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/v1";

/// `--type` names cosign knows, their predicate type URIs, and the fields a predicate of
/// that type must have.
const KNOWN_TYPES: &[(&str, &str, &[&str])] = &[
    ("custom", CUSTOM_PREDICATE, &[]),
    (
        "slsaprovenance",
        "https://slsa.dev/provenance/v0.2",
        &["builder", "buildType"],
    ),
    (
        "slsaprovenance02",
        "https://slsa.dev/provenance/v0.2",
        &["builder", "buildType"],
    ),
    (
        "slsaprovenance1",
        "https://slsa.dev/provenance/v1",
        &["buildDefinition", "runDetails"],
    ),
    ("spdx", "https://spdx.dev/Document", &[]),
    ("spdxjson", "https://spdx.dev/Document", &[]),
    ("cyclonedx", "https://cyclonedx.org/bom", &[]),
    ("link", "https://in-toto.io/Link/v1", &[]),
    (
        "vuln",
        "https://cosign.sigstore.dev/attestation/vuln/v1",
        &["scanner"],
    ),
    ("openvex", "https://openvex.dev/ns", &[]),
];

/// What `--type` names: one of cosign's short names or a predicate type URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredicateKind {
    name: String,
    uri: String,
}

impl PredicateKind {
    /// Parses a `--type` value.
    pub fn parse(text: &str) -> Result<Self, CosignError> {
        if let Some((name, uri, _)) = KNOWN_TYPES.iter().find(|(n, ..)| *n == text) {
            return Ok(PredicateKind {
                name: (*name).to_owned(),
                uri: (*uri).to_owned(),
            });
        }
        if text.contains("://") {
            return Ok(PredicateKind {
                name: text.to_owned(),
                uri: text.to_owned(),
            });
        }
        let names: Vec<&str> = KNOWN_TYPES.iter().map(|(n, ..)| *n).collect();
        Err(CosignError::UnknownPredicateType(format!(
            "{text:?}; use one of {} or a predicate type URI",
            names.join(", ")
        )))
    }

    /// The predicate type URI.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// The statement for an image (`repository`, sha256 `hex`) with `predicate` (the file's
    /// bytes), as `cosign attest` writes it: a custom predicate is wrapped as
    /// `{"Data": <text>, "Timestamp": <RFC 3339>}`, an SPDX tag-value document stays text,
    /// every other predicate must be a JSON object with its type's required fields.
    pub fn statement(
        &self,
        repository: &str,
        sha256_hex: &str,
        predicate: &[u8],
        now: OffsetDateTime,
    ) -> Result<Vec<u8>, CosignError> {
        let body = match self.name.as_str() {
            "custom" => {
                let text = String::from_utf8_lossy(predicate).into_owned();
                let stamp = now
                    .replace_nanosecond(0)
                    .unwrap_or(now)
                    .format(&Rfc3339)
                    .unwrap_or_default();
                let mut map = Map::new();
                map.insert("Data".to_owned(), Value::String(text));
                map.insert("Timestamp".to_owned(), Value::String(stamp));
                Value::Object(map)
            }
            "spdx" => Value::String(String::from_utf8_lossy(predicate).into_owned()),
            _ => self.json_predicate(predicate)?,
        };
        let mut out = String::with_capacity(predicate.len() + 256);
        out.push_str(r#"{"_type":"#);
        go_json::write_string(&mut out, STATEMENT_V01);
        out.push_str(r#","predicateType":"#);
        go_json::write_string(&mut out, &self.uri);
        out.push_str(r#","subject":[{"name":"#);
        go_json::write_string(&mut out, repository);
        out.push_str(r#","digest":{"sha256":"#);
        go_json::write_string(&mut out, sha256_hex);
        out.push_str(r#"}}],"predicate":"#);
        go_json::write_value(&mut out, &body);
        out.push('}');
        Ok(out.into_bytes())
    }

    fn json_predicate(&self, predicate: &[u8]) -> Result<Value, CosignError> {
        let invalid = |why: String| CosignError::InvalidPredicate {
            kind: self.name.clone(),
            why,
        };
        let value: Value =
            serde_json::from_slice(predicate).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let Value::Object(map) = &value else {
            return Err(invalid("not a JSON object".to_owned()));
        };
        let required = KNOWN_TYPES
            .iter()
            .find(|(n, ..)| *n == self.name)
            .map_or(&[][..], |(.., fields)| *fields);
        if let Some(missing) = required.iter().find(|f| !map.contains_key(**f)) {
            return Err(invalid(format!("required field {missing:?} is missing")));
        }
        Ok(value)
    }
}

/// The parts of a statement verification looks at.
#[derive(Debug, Clone)]
pub struct Statement {
    /// `_type`.
    pub statement_type: String,
    /// `predicateType`.
    pub predicate_type: String,
    /// The subjects that have a `sha256` digest.
    pub subjects: Vec<Subject>,
    /// The predicate.
    pub predicate: Value,
}

/// One subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// `name`: the repository the artifact was attested in, as cosign writes it.
    pub name: Option<String>,
    /// `digest.sha256` (hex).
    pub sha256: String,
}

impl Statement {
    /// Parses statement bytes (v0.1 or v1).
    pub fn parse(bytes: &[u8]) -> Result<Statement, CosignError> {
        let malformed = |why: &str| CosignError::MalformedStatement(why.to_owned());
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(&format!("not JSON: {e}")))?;
        let text = |key: &str| value.get(key).and_then(Value::as_str).map(str::to_owned);
        let statement_type = text("_type").ok_or_else(|| malformed("no \"_type\""))?;
        if statement_type != STATEMENT_V01 && statement_type != STATEMENT_V1 {
            return Err(malformed(&format!("unknown _type {statement_type:?}")));
        }
        let predicate_type = text("predicateType").ok_or_else(|| malformed("no predicateType"))?;
        let subjects = value
            .get("subject")
            .and_then(Value::as_array)
            .ok_or_else(|| malformed("no subject list"))?;
        let subjects = subjects
            .iter()
            .filter_map(|s| {
                Some(Subject {
                    name: s.get("name").and_then(Value::as_str).map(str::to_owned),
                    sha256: s.get("digest")?.get("sha256")?.as_str()?.to_owned(),
                })
            })
            .collect();
        Ok(Statement {
            statement_type,
            predicate_type,
            subjects,
            predicate: value.get("predicate").cloned().unwrap_or(Value::Null),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const HEX: &str = "0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0";

    #[test]
    fn custom_predicates_are_wrapped_with_a_timestamp() {
        let kind = PredicateKind::parse("custom").unwrap();
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let bytes = kind.statement("r/x", HEX, b"hello <world>", now).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        let predicate = concat!(
            r#""predicate":{"Data":"hello \u003cworld\u003e","#,
            r#""Timestamp":"2023-11-14T22:13:20Z"}"#
        );
        assert!(text.contains(predicate), "{text}");
        let statement = Statement::parse(&bytes).unwrap();
        assert_eq!(statement.predicate_type, CUSTOM_PREDICATE);
        let subject = Subject {
            name: Some("r/x".to_owned()),
            sha256: HEX.to_owned(),
        };
        assert_eq!(statement.subjects, vec![subject]);
    }

    #[test]
    fn typed_predicates_need_their_fields() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let slsa = PredicateKind::parse("slsaprovenance").unwrap();
        assert!(slsa.statement("r", HEX, br#"{"builder":{}}"#, now).is_err());
        slsa.statement("r", HEX, br#"{"builder":{"id":"b"},"buildType":"t"}"#, now)
            .unwrap();
        let cdx = PredicateKind::parse("cyclonedx").unwrap();
        assert!(cdx.statement("r", HEX, b"not json", now).is_err());
        assert_eq!(cdx.uri(), "https://cyclonedx.org/bom");
        assert_eq!(
            PredicateKind::parse("https://e.com/p").unwrap().uri(),
            "https://e.com/p"
        );
        assert!(PredicateKind::parse("sbom").is_err());
    }
}
