//! The signature manifest (signature-specification.md, "Storage"): an OCI image manifest whose
//! `subject` is the signed artifact and whose single layer is the envelope.
//!
//! Two forms exist and both are read. The OCI 1.1 form, which Hallmark writes, carries
//! `artifactType: application/vnd.cncf.notary.signature` and the empty config; the legacy
//! form of notation 1.0 to 1.3 has no `artifactType` and gives the config that media type.

use std::collections::BTreeMap;

use hallmark_envelope::EnvelopeFormat;
use hallmark_oci::{Algorithm, Descriptor, Manifest, media_type};
use hallmark_x509::Certificate;
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Error;

/// The artifact type of a Notary Project signature.
pub const SIGNATURE_ARTIFACT_TYPE: &str = "application/vnd.cncf.notary.signature";
/// Annotation listing the SHA-256 thumbprints of the signing chain, leaf first.
pub const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";
/// The image spec's creation-time annotation.
pub const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";
/// Notation refuses signature manifests larger than this.
pub const MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Notation refuses envelopes larger than this.
pub const MAX_ENVELOPE_SIZE: u64 = 32 << 20;

/// The empty JSON object `{}` that OCI 1.1 artifacts use as config.
pub const EMPTY_CONFIG: &[u8] = b"{}";

/// The descriptor of [`EMPTY_CONFIG`], with its data inline as oras and notation write it.
pub fn empty_config() -> Descriptor {
    let mut d = Descriptor::new(
        media_type::OCI_EMPTY,
        Algorithm::Sha256.digest(EMPTY_CONFIG),
        EMPTY_CONFIG.len() as u64,
    );
    d.data = Some("e30=".to_owned());
    d
}

/// The thumbprint annotation's value: a JSON array of lowercase hex SHA-256 fingerprints.
pub fn thumbprints(chain: &[Certificate]) -> String {
    let list: Vec<String> = chain.iter().map(Certificate::sha256_fingerprint).collect();
    serde_json::Value::from(list).to_string()
}

/// Builds the OCI 1.1 signature manifest for `envelope` signing `subject`.
pub fn build(
    subject: &Descriptor,
    envelope: &Descriptor,
    chain: &[Certificate],
    created: OffsetDateTime,
) -> Result<Vec<u8>, Error> {
    let created = created
        .replace_nanosecond(0)
        .unwrap_or(created)
        .format(&Rfc3339)
        .map_err(|e| Error::Encoding(e.to_string()))?;
    let subject = Descriptor::new(&subject.media_type, subject.digest.clone(), subject.size);
    let annotations: BTreeMap<&str, String> = [
        (THUMBPRINT_ANNOTATION, thumbprints(chain)),
        (CREATED_ANNOTATION, created),
    ]
    .into();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": SIGNATURE_ARTIFACT_TYPE,
        "config": empty_config(),
        "layers": [envelope],
        "subject": subject,
        "annotations": annotations,
    });
    serde_json::to_vec(&manifest).map_err(|e| Error::Encoding(e.to_string()))
}

/// A signature manifest that has been read: where its envelope is and in which format.
#[derive(Debug, Clone)]
pub struct SignatureManifest {
    /// The envelope layer.
    pub envelope: Descriptor,
    /// The envelope format, from the layer's media type.
    pub format: EnvelopeFormat,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
}

impl SignatureManifest {
    /// Reads a signature manifest in either form; anything else is an error that says why.
    pub fn parse(bytes: &[u8], media_type: &str) -> Result<Self, Error> {
        let manifest = Manifest::parse(bytes, Some(media_type))
            .map_err(|e| Error::NotASignature(format!("the manifest does not parse: {e}")))?;
        let artifact_type = manifest.effective_artifact_type();
        if artifact_type != Some(SIGNATURE_ARTIFACT_TYPE) {
            return Err(Error::NotASignature(format!(
                "its artifact type is {}, not {SIGNATURE_ARTIFACT_TYPE}",
                artifact_type.unwrap_or("(none)")
            )));
        }
        let [layer] = manifest.layers.as_slice() else {
            return Err(Error::NotASignature(format!(
                "a signature manifest has exactly one layer, this one has {}",
                manifest.layers.len()
            )));
        };
        let format = EnvelopeFormat::from_media_type(&layer.media_type).ok_or_else(|| {
            Error::NotASignature(format!(
                "its layer has media type {}, which is neither application/jose+json nor \
                 application/cose",
                layer.media_type
            ))
        })?;
        if layer.size > MAX_ENVELOPE_SIZE {
            return Err(Error::NotASignature(format!(
                "its envelope is {} bytes, over the {MAX_ENVELOPE_SIZE}-byte limit",
                layer.size
            )));
        }
        Ok(SignatureManifest {
            envelope: layer.clone(),
            format,
            annotations: manifest.annotations.unwrap_or_default(),
        })
    }
}
