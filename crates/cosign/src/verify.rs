//! Verification of what cosign attaches to an image, with a public key and no network: each
//! function takes bytes the caller fetched (and checked against their digests) and returns
//! what was proved, or the rule that failed.
//!
//! A simple signature passes when, in this order: the layer is a simple-signing payload; it
//! carries a base64 signature; the signature verifies over the exact payload bytes with the
//! key (a wrong key and an altered payload fail here); the payload is a cosign image
//! signature; it names the digest being verified (a signature moved to another image fails
//! here); and, where the caller asks, it names the repository and carries the annotations.
//! Attestations and bundles pass the same way over a DSSE envelope and its in-toto statement.
//!
//! Certificates, Rekor bundles and RFC 3161 timestamps found beside a signature are reported,
//! never verified: this module checks key signatures only.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_oci::{Descriptor, Digest};
use hallmark_x509::PublicKey;

use crate::attachment::{self, annotation};
use crate::bundle::{Bundle, Content};
use crate::dsse::{self, Envelope};
use crate::error::CosignError;
use crate::in_toto::Statement;
use crate::simple_signing::{self, Payload};

/// What the signed claims must say.
#[derive(Debug, Clone, Copy)]
pub struct Claims<'a> {
    /// The manifest being verified.
    pub digest: &'a Digest,
    /// Annotations the payload must carry (`-a KEY=VALUE`).
    pub annotations: &'a BTreeMap<String, String>,
    /// The repository `docker-reference` must name, when asked.
    pub repository: Option<&'a str>,
}

/// Material found beside a signature that this module does not verify.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Unverified {
    /// A signing certificate.
    pub certificate: bool,
    /// A Rekor bundle or transparency log entries.
    pub transparency_log: bool,
    /// RFC 3161 timestamps.
    pub rfc3161_timestamp: bool,
}

/// A simple signature that passed.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    /// The payload, parsed.
    pub payload: Payload,
    /// The payload bytes, as signed.
    pub payload_bytes: Vec<u8>,
    /// What was present and not verified.
    pub unverified: Unverified,
}

/// An attestation (or bundle) that passed.
#[derive(Debug, Clone)]
pub struct VerifiedStatement {
    /// The statement, parsed.
    pub statement: Statement,
    /// The statement bytes, as signed.
    pub statement_bytes: Vec<u8>,
    /// What was present and not verified.
    pub unverified: Unverified,
}

/// Verifies one `.sig` layer whose content is `payload`.
pub fn simple_signature(
    layer: &Descriptor,
    payload: &[u8],
    key: &PublicKey,
    claims: &Claims<'_>,
) -> Result<VerifiedSignature, CosignError> {
    if layer.media_type != simple_signing::MEDIA_TYPE {
        return Err(CosignError::WrongLayerMediaType {
            found: layer.media_type.clone(),
            expected: simple_signing::MEDIA_TYPE,
        });
    }
    let encoded = annotation(layer, attachment::SIGNATURE_ANNOTATION)
        .filter(|s| !s.is_empty())
        .ok_or(CosignError::MissingSignature)?;
    let signature = STANDARD
        .decode(encoded.trim())
        .map_err(|_| CosignError::SignatureNotBase64)?;
    key.verify_sigstore(payload, &signature)
        .map_err(|_| CosignError::SignatureMismatch)?;

    let parsed = Payload::parse(payload)?;
    if &parsed.manifest_digest != claims.digest {
        return Err(CosignError::DigestMismatch {
            signed: parsed.manifest_digest.to_string(),
            verified: claims.digest.to_string(),
        });
    }
    if let Some(repository) = claims.repository {
        check_reference(&parsed.docker_reference, repository)?;
    }
    for (key, expected) in claims.annotations {
        // cosign compares the JSON values: `-a n=1` is the string "1", never the number 1.
        let value = parsed.optional.as_ref().and_then(|o| o.get(key));
        if value.and_then(serde_json::Value::as_str) != Some(expected.as_str()) {
            return Err(CosignError::AnnotationMismatch {
                key: key.clone(),
                expected: expected.clone(),
                found: value.map(|v| match v {
                    serde_json::Value::String(s) => format!("{s:?}"),
                    other => format!("{other} (not a string)"),
                }),
            });
        }
    }
    Ok(VerifiedSignature {
        payload: parsed,
        payload_bytes: payload.to_vec(),
        unverified: Unverified {
            certificate: annotation(layer, attachment::CERTIFICATE_ANNOTATION).is_some(),
            transparency_log: annotation(layer, attachment::REKOR_BUNDLE_ANNOTATION).is_some(),
            rfc3161_timestamp: annotation(layer, attachment::RFC3161_ANNOTATION).is_some(),
        },
    })
}

/// `docker-reference` names `repository`, with or without a tag or digest after it
/// (containers/image writes the full reference).
fn check_reference(signed: &str, repository: &str) -> Result<(), CosignError> {
    let rest = signed.strip_prefix(repository);
    let matches = match rest {
        Some("") => true,
        Some(r) => (r.starts_with(':') && !r[1..].contains('/')) || r.starts_with('@'),
        None => false,
    };
    if matches {
        Ok(())
    } else {
        Err(CosignError::ReferenceMismatch {
            signed: signed.to_owned(),
            verified: repository.to_owned(),
        })
    }
}

/// Verifies one `.att` layer whose content is `envelope`; `predicate_type` is the type the
/// statement must have, when given.
pub fn attestation(
    layer: &Descriptor,
    envelope: &[u8],
    key: &PublicKey,
    claims: &Claims<'_>,
    predicate_type: Option<&str>,
) -> Result<VerifiedStatement, CosignError> {
    if layer.media_type != dsse::MEDIA_TYPE {
        return Err(CosignError::WrongLayerMediaType {
            found: layer.media_type.clone(),
            expected: dsse::MEDIA_TYPE,
        });
    }
    let envelope = Envelope::parse(envelope)?;
    let statement = statement(&envelope, key, claims, predicate_type)?;
    Ok(VerifiedStatement {
        statement,
        statement_bytes: envelope.payload,
        unverified: Unverified {
            certificate: annotation(layer, attachment::CERTIFICATE_ANNOTATION).is_some(),
            transparency_log: annotation(layer, attachment::REKOR_BUNDLE_ANNOTATION).is_some(),
            rfc3161_timestamp: annotation(layer, attachment::RFC3161_ANNOTATION).is_some(),
        },
    })
}

/// Verifies a sigstore bundle (a referrer's layer); its statement must have `predicate_type`
/// when given (`https://sigstore.dev/cosign/sign/v1` for signatures).
pub fn bundle(
    bytes: &[u8],
    key: &PublicKey,
    claims: &Claims<'_>,
    predicate_type: Option<&str>,
) -> Result<VerifiedStatement, CosignError> {
    let bundle = Bundle::parse(bytes)?;
    let Content::Dsse(envelope) = &bundle.content else {
        return Err(CosignError::UnsupportedBundleContent);
    };
    let statement = statement(envelope, key, claims, predicate_type)?;
    Ok(VerifiedStatement {
        statement,
        statement_bytes: envelope.payload.clone(),
        unverified: Unverified {
            certificate: bundle.certificate.is_some(),
            transparency_log: bundle.tlog_entries > 0,
            rfc3161_timestamp: bundle.rfc3161_timestamps > 0,
        },
    })
}

/// The envelope's signature, payload type, statement subject and predicate type.
fn statement(
    envelope: &Envelope,
    key: &PublicKey,
    claims: &Claims<'_>,
    predicate_type: Option<&str>,
) -> Result<Statement, CosignError> {
    if envelope.payload_type != dsse::IN_TOTO_PAYLOAD_TYPE {
        return Err(CosignError::EnvelopePayloadType(
            envelope.payload_type.clone(),
        ));
    }
    envelope.verify(key)?;
    let statement = Statement::parse(&envelope.payload)?;
    let wanted = claims.digest.hex();
    let sha256 = claims.digest.algorithm() == hallmark_oci::Algorithm::Sha256;
    let matching: Vec<_> = statement
        .subjects
        .iter()
        .filter(|s| sha256 && s.sha256 == wanted)
        .collect();
    if matching.is_empty() {
        return Err(CosignError::SubjectMismatch {
            subjects: statement
                .subjects
                .iter()
                .map(|s| s.sha256.clone())
                .collect(),
            verified: claims.digest.to_string(),
        });
    }
    if let Some(repository) = claims.repository {
        let names: Vec<&str> = matching.iter().filter_map(|s| s.name.as_deref()).collect();
        if names.is_empty() {
            return Err(CosignError::NoReferenceInStatement(repository.to_owned()));
        }
        if !names.iter().any(|n| check_reference(n, repository).is_ok()) {
            return Err(CosignError::ReferenceMismatch {
                signed: names.join(", "),
                verified: repository.to_owned(),
            });
        }
    }
    // A statement has no place for cosign's `-a` annotations: asking for them cannot pass.
    if let Some(key) = claims.annotations.keys().next() {
        return Err(CosignError::AnnotationsNotInStatement(key.clone()));
    }
    if let Some(wanted) = predicate_type
        && statement.predicate_type != wanted
    {
        return Err(CosignError::PredicateTypeMismatch {
            found: statement.predicate_type.clone(),
            expected: wanted.to_owned(),
        });
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use hallmark_x509::{KeySpec, SigningKey};

    const HEX: &str = "0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0";

    /// A signed envelope over a statement with one subject, named `name` when given.
    fn envelope(key: &SigningKey, name: Option<&str>) -> Envelope {
        let mut subject = serde_json::json!({ "digest": { "sha256": HEX } });
        if let Some(name) = name {
            subject["name"] = name.into();
        }
        let statement = serde_json::json!({
            "_type": crate::in_toto::STATEMENT_V1,
            "subject": [subject],
            "predicateType": "https://sigstore.dev/cosign/sign/v1",
            "predicate": {},
        });
        let payload = serde_json::to_vec(&statement).unwrap();
        Envelope::sign(dsse::IN_TOTO_PAYLOAD_TYPE, payload, key).unwrap()
    }

    #[test]
    fn statements_check_the_asked_reference_and_refuse_annotations() {
        let key = SigningKey::generate(KeySpec::EcP256).unwrap();
        let public = key.public_key().unwrap();
        let digest: Digest = format!("sha256:{HEX}").parse().unwrap();
        let none = BTreeMap::new();
        let claims = |repository, annotations| Claims {
            digest: &digest,
            annotations,
            repository,
        };
        let named = envelope(&key, Some("r.io/app"));
        assert!(statement(&named, &public, &claims(None, &none), None).is_ok());
        assert!(statement(&named, &public, &claims(Some("r.io/app"), &none), None).is_ok());

        // reference_mismatch_in_statement
        let other = statement(&named, &public, &claims(Some("r.io/other"), &none), None);
        assert!(
            matches!(other, Err(CosignError::ReferenceMismatch { .. })),
            "{other:?}"
        );

        // statement_without_a_name_cannot_prove_a_reference
        let unnamed = envelope(&key, None);
        let result = statement(&unnamed, &public, &claims(Some("r.io/app"), &none), None);
        assert!(
            matches!(result, Err(CosignError::NoReferenceInStatement(_))),
            "{result:?}"
        );

        // annotations_asked_of_a_statement
        let asked = BTreeMap::from([("team".to_owned(), "red".to_owned())]);
        let result = statement(&named, &public, &claims(None, &asked), None);
        assert!(
            matches!(result, Err(CosignError::AnnotationsNotInStatement(ref k)) if k == "team"),
            "{result:?}"
        );
    }

    #[test]
    fn references_match_with_or_without_tag() {
        for ok in ["r.io/a/b", "r.io/a/b:v1", "r.io/a/b@sha256:00"] {
            assert!(check_reference(ok, "r.io/a/b").is_ok(), "{ok}");
        }
        for bad in [
            "r.io/a/bc",
            "r.io/a",
            "r.io/a/b/c",
            "r.io/a/b:v1/x",
            "other/a/b",
        ] {
            assert!(check_reference(bad, "r.io/a/b").is_err(), "{bad}");
        }
    }
}
