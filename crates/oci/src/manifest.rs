//! Image manifests and indexes: the parts a registry must understand to validate a push and to
//! index referrers.
//!
//! The registry stores and serves the exact bytes it received; this module only reads them.
//! Unknown fields are ignored, as the image spec requires of implementations.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::digest::Digest;
use crate::media_type::{self, ManifestKind};

/// A content descriptor (image spec, "Descriptors").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Media type of the referenced content.
    pub media_type: String,
    /// Digest of the referenced content.
    pub digest: Digest,
    /// Size in bytes of the referenced content.
    pub size: u64,
    /// Locations the content may also be fetched from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Arbitrary metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, String>>,
    /// Type of an artifact when the descriptor points at one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Platform of an index entry, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<serde_json::Value>,
    /// Embedded content, kept opaque.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

impl Descriptor {
    /// A descriptor with only the required fields set.
    pub fn new(media_type: impl Into<String>, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest,
            size,
            urls: Vec::new(),
            annotations: None,
            artifact_type: None,
            platform: None,
            data: None,
        }
    }
}

/// Why manifest bytes are not an acceptable manifest.
#[derive(Debug, Error)]
pub enum ManifestError {
    /// The bytes are not JSON of the expected shape.
    #[error("manifest is not valid JSON of the expected shape: {0}")]
    Json(#[from] serde_json::Error),
    /// `schemaVersion` is not 2.
    #[error("schemaVersion must be 2, found {0}")]
    SchemaVersion(i64),
    /// The media type is not one of the accepted manifest types.
    #[error(
        "unsupported manifest media type '{0}' (accepted: OCI image manifest and index, \
         Docker schema 2 manifest and manifest list)"
    )]
    UnsupportedMediaType(String),
    /// Neither the request nor the body says what the manifest is.
    #[error("manifest media type unknown: send Content-Type or set mediaType in the body")]
    MissingMediaType,
    /// The request's `Content-Type` disagrees with the body's `mediaType`.
    #[error("Content-Type '{header}' does not match the manifest's mediaType '{body}'")]
    MediaTypeMismatch {
        /// From the `Content-Type` header.
        header: String,
        /// From the body.
        body: String,
    },
    /// An image manifest without a config descriptor.
    #[error("image manifest has no config descriptor")]
    MissingConfig,
}

/// The fields of any accepted manifest, parsed leniently so one type covers all four kinds.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawManifest {
    schema_version: i64,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    layers: Vec<Descriptor>,
    #[serde(default)]
    manifests: Vec<Descriptor>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// A parsed manifest: what it references and what it says about itself.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The media type, from the request or the body.
    pub media_type: String,
    /// Image manifest or index.
    pub kind: ManifestKind,
    /// `artifactType` as set in the manifest.
    pub artifact_type: Option<String>,
    /// The config descriptor of an image manifest.
    pub config: Option<Descriptor>,
    /// Layers of an image manifest.
    pub layers: Vec<Descriptor>,
    /// Entries of an index.
    pub manifests: Vec<Descriptor>,
    /// The manifest this one refers to, making it a referrer.
    pub subject: Option<Descriptor>,
    /// Manifest annotations.
    pub annotations: Option<BTreeMap<String, String>>,
}

impl Manifest {
    /// Parses manifest bytes, with the `Content-Type` the client sent, if any.
    pub fn parse(bytes: &[u8], content_type: Option<&str>) -> Result<Manifest, ManifestError> {
        let raw: RawManifest = serde_json::from_slice(bytes)?;
        if raw.schema_version != 2 {
            return Err(ManifestError::SchemaVersion(raw.schema_version));
        }
        let header = content_type
            .map(media_type::essence)
            .filter(|s| !s.is_empty());
        let media_type = match (header, raw.media_type.as_deref()) {
            (Some(h), Some(b)) if h != b => {
                return Err(ManifestError::MediaTypeMismatch {
                    header: h.to_owned(),
                    body: b.to_owned(),
                });
            }
            (Some(h), _) => h.to_owned(),
            (None, Some(b)) => b.to_owned(),
            (None, None) => return Err(ManifestError::MissingMediaType),
        };
        let kind = media_type::manifest_kind(&media_type)
            .ok_or_else(|| ManifestError::UnsupportedMediaType(media_type.clone()))?;
        if kind == ManifestKind::Image && raw.config.is_none() {
            return Err(ManifestError::MissingConfig);
        }
        Ok(Manifest {
            media_type,
            kind,
            artifact_type: raw.artifact_type,
            config: raw.config,
            layers: raw.layers,
            manifests: raw.manifests,
            subject: raw.subject,
            annotations: raw.annotations,
        })
    }

    /// The artifact type a referrers response reports for this manifest: `artifactType`, or
    /// for an image manifest without one, the config's media type.
    pub fn effective_artifact_type(&self) -> Option<&str> {
        match (&self.artifact_type, self.kind, &self.config) {
            (Some(t), _, _) => Some(t),
            (None, ManifestKind::Image, Some(c)) => Some(&c.media_type),
            _ => None,
        }
    }

    /// The descriptor a referrers index lists for this manifest, stored as `size` bytes with
    /// `digest`: its media type, artifact type and annotations (spec, "Listing Referrers").
    pub fn referrer_descriptor(&self, digest: Digest, size: u64) -> Descriptor {
        Descriptor {
            annotations: self.annotations.clone(),
            artifact_type: self.effective_artifact_type().map(str::to_owned),
            ..Descriptor::new(self.media_type.clone(), digest, size)
        }
    }

    /// Blobs this manifest needs in the repository (config and layers), skipping descriptors
    /// whose content may live elsewhere (foreign layers, or any with `urls`).
    pub fn required_blobs(&self) -> impl Iterator<Item = &Descriptor> {
        self.config.iter().chain(
            self.layers
                .iter()
                .filter(|d| d.urls.is_empty() && d.media_type != media_type::DOCKER_FOREIGN_LAYER),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.manifest.v1+json",
      "config": {"mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2},
      "layers": [],
      "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "size": 0},
      "annotations": {"a": "b"}
    }"#;

    #[test]
    fn image_manifest_with_subject() {
        let m = Manifest::parse(IMAGE.as_bytes(), None).expect("valid manifest");
        assert_eq!(m.kind, ManifestKind::Image);
        assert!(m.subject.is_some());
        assert_eq!(m.effective_artifact_type(), Some(media_type::OCI_EMPTY));
        assert_eq!(m.required_blobs().count(), 1);
    }

    #[test]
    fn rejects_bad_manifests() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            ("not json", None, "not valid JSON"),
            (
                r#"{"schemaVersion": 1}"#,
                Some(media_type::OCI_MANIFEST),
                "schemaVersion",
            ),
            (r#"{"schemaVersion": 2}"#, None, "media type unknown"),
            (r#"{"schemaVersion": 2}"#, Some("text/plain"), "unsupported"),
            (
                r#"{"schemaVersion": 2}"#,
                Some(media_type::OCI_MANIFEST),
                "no config",
            ),
            (IMAGE, Some(media_type::OCI_INDEX), "does not match"),
            (
                r#"{"schemaVersion": 2, "manifests": [{"mediaType": "x", "digest": "sha256:1",
                  "size": 1}]}"#,
                Some(media_type::OCI_INDEX),
                "digest must have",
            ),
        ];
        for (body, ct, want) in cases {
            let err = Manifest::parse(body.as_bytes(), *ct)
                .expect_err(body)
                .to_string();
            assert!(err.contains(want), "{body}: {err}");
        }
    }
}
