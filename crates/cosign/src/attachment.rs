//! Where cosign attaches things to an image without the referrers API: an OCI image manifest
//! tagged `sha256-<hex>.sig` (signatures), `.att` (attestations) or `.sbom` next to the image
//! (or in `COSIGN_REPOSITORY`), one layer per signature or attestation.
//!
//! The manifest's config is go-containerregistry's empty image config with `rootfs.diff_ids`
//! listing the layers' digests and one empty history entry per layer, which is what cosign
//! writes; readers use the layers and their annotations only.

use std::collections::BTreeMap;

use hallmark_oci::{Algorithm, Descriptor, Digest, Manifest, Tag, media_type};

use crate::error::CosignError;

/// Layer annotation: the base64 signature of a simple-signing payload (empty for DSSE).
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation: the signing certificate (PEM), keyless or PKI signatures.
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation: the certificate chain (PEM).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation: the Rekor bundle (JSON).
pub const REKOR_BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation: an RFC 3161 timestamp (JSON).
pub const RFC3161_ANNOTATION: &str = "dev.sigstore.cosign/rfc3161timestamp";
/// Layer annotation of attestations: the statement's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// The config media type of cosign's attachment manifests.
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";
/// cosign refuses to grow an attachment past this many layers.
pub const MAX_LAYERS: usize = 1000;

/// What is attached, and so which tag suffix holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attachment {
    /// Simple-signing signatures: `.sig`.
    Signatures,
    /// DSSE attestations: `.att`.
    Attestations,
    /// SBOMs: `.sbom`.
    Sbom,
}

impl Attachment {
    /// The tag suffix.
    pub fn suffix(self) -> &'static str {
        match self {
            Attachment::Signatures => "sig",
            Attachment::Attestations => "att",
            Attachment::Sbom => "sbom",
        }
    }

    /// The tag of this attachment for the image `digest`: `sha256-<hex>.<suffix>`. cosign
    /// names attachments of sha256 digests only: any other (`sha512-` and 128 hex digits with
    /// the suffix) would not fit the 128 characters a tag may have.
    pub fn tag(self, digest: &Digest) -> Result<Tag, CosignError> {
        if digest.algorithm() != Algorithm::Sha256 {
            return Err(CosignError::UnsupportedDigest(digest.to_string()));
        }
        format!("sha256-{}.{}", digest.hex(), self.suffix())
            .parse()
            .map_err(|_| CosignError::UnsupportedDigest(digest.to_string()))
    }
}

/// One layer: its descriptor (with annotations) and content.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The descriptor, annotations included.
    pub descriptor: Descriptor,
    /// The layer's bytes.
    pub content: bytes::Bytes,
}

impl Layer {
    /// A layer holding `content` of `media_type` with `annotations`.
    pub fn new(media_type: &str, content: Vec<u8>, annotations: BTreeMap<String, String>) -> Layer {
        let mut descriptor = Descriptor::new(
            media_type,
            Algorithm::Sha256.digest(&content),
            content.len() as u64,
        );
        descriptor.annotations = Some(annotations);
        Layer {
            descriptor,
            content: content.into(),
        }
    }

    /// The value of annotation `key`.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        annotation(&self.descriptor, key)
    }
}

/// The value of annotation `key` of a descriptor.
pub fn annotation<'a>(descriptor: &'a Descriptor, key: &str) -> Option<&'a str> {
    descriptor
        .annotations
        .as_ref()
        .and_then(|a| a.get(key))
        .map(String::as_str)
}

/// The layers of an attachment manifest, refused if it is not an image manifest.
pub fn layers(bytes: &[u8], content_type: &str) -> Result<Vec<Descriptor>, CosignError> {
    let manifest = Manifest::parse(bytes, Some(content_type))
        .map_err(|e| CosignError::MalformedAttachment(e.to_string()))?;
    if manifest.config.is_none() {
        return Err(CosignError::MalformedAttachment(format!(
            "it is a {}, not an image manifest",
            manifest.media_type
        )));
    }
    Ok(manifest.layers)
}

/// The config blob and manifest bytes of an attachment holding `layers`, in order, as
/// go-containerregistry (which cosign uses) writes them: its structs' field order, not sorted
/// keys, so the same layers give cosign's bytes and digests.
pub fn build(layers: &[Descriptor]) -> (Vec<u8>, Vec<u8>) {
    let config = GoConfig {
        architecture: "",
        created: ZERO_TIME,
        history: layers
            .iter()
            .map(|_| GoHistory { created: ZERO_TIME })
            .collect(),
        os: "",
        rootfs: GoRootFs {
            kind: "layers",
            diff_ids: layers.iter().map(|l| l.digest.as_str()).collect(),
        },
        config: Empty {},
    };
    // Plain structs of strings and numbers always serialize.
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let config_descriptor = Descriptor::new(
        CONFIG_MEDIA_TYPE,
        Algorithm::Sha256.digest(&config),
        config.len() as u64,
    );
    let manifest = GoManifest {
        schema_version: 2,
        media_type: media_type::OCI_MANIFEST,
        config: GoDescriptor(&config_descriptor),
        layers: layers.iter().map(GoDescriptor).collect(),
    };
    (config, serde_json::to_vec(&manifest).unwrap_or_default())
}

/// Go's zero `time.Time`, which an empty image's config and history carry.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// go-containerregistry's `v1.ConfigFile`, with the fields an empty image sets.
#[derive(serde::Serialize)]
struct GoConfig<'a> {
    architecture: &'a str,
    created: &'a str,
    history: Vec<GoHistory<'a>>,
    os: &'a str,
    rootfs: GoRootFs<'a>,
    config: Empty,
}

/// `v1.History` of a layer appended without history of its own.
#[derive(serde::Serialize)]
struct GoHistory<'a> {
    created: &'a str,
}

/// `v1.RootFS`.
#[derive(serde::Serialize)]
struct GoRootFs<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    diff_ids: Vec<&'a str>,
}

/// An empty `v1.Config` (every field is `omitempty`).
#[derive(serde::Serialize)]
struct Empty {}

/// `v1.Manifest` without annotations or subject.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct GoManifest<'a> {
    schema_version: u32,
    media_type: &'a str,
    config: GoDescriptor<'a>,
    layers: Vec<GoDescriptor<'a>>,
}

/// A descriptor in `v1.Descriptor`'s field order: mediaType, size, digest, data, urls,
/// annotations, platform, artifactType.
struct GoDescriptor<'a>(&'a Descriptor);

impl serde::Serialize for GoDescriptor<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let d = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("mediaType", &d.media_type)?;
        map.serialize_entry("size", &d.size)?;
        map.serialize_entry("digest", &d.digest)?;
        if let Some(data) = &d.data {
            map.serialize_entry("data", data)?;
        }
        if !d.urls.is_empty() {
            map.serialize_entry("urls", &d.urls)?;
        }
        if let Some(annotations) = &d.annotations {
            map.serialize_entry("annotations", annotations)?;
        }
        if let Some(platform) = &d.platform {
            map.serialize_entry("platform", platform)?;
        }
        if let Some(artifact_type) = &d.artifact_type {
            map.serialize_entry("artifactType", artifact_type)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn tags_follow_cosign() {
        let digest: Digest =
            "sha256:0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0"
                .parse()
                .unwrap();
        assert_eq!(
            Attachment::Signatures.tag(&digest).unwrap().as_str(),
            "sha256-0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0.sig"
        );
        assert!(
            Attachment::Attestations
                .tag(&digest)
                .unwrap()
                .as_str()
                .ends_with(".att")
        );
    }

    #[test]
    fn sha512_images_have_no_attachment_tag() {
        // `sha512-` and 128 hex digits leave no room for the suffix: cut, the three
        // attachments would share one tag.
        let digest: Digest = format!("sha512:{}", "ab".repeat(64)).parse().unwrap();
        for kind in [
            Attachment::Signatures,
            Attachment::Attestations,
            Attachment::Sbom,
        ] {
            let refused = kind.tag(&digest);
            assert!(
                matches!(refused, Err(CosignError::UnsupportedDigest(_))),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn built_attachments_are_written_in_go_containerregistry_field_order() {
        let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), "c2ln".to_owned())]);
        let layer = Layer::new(
            crate::simple_signing::MEDIA_TYPE,
            b"p".to_vec(),
            annotations,
        );
        let (config, manifest) = build(std::slice::from_ref(&layer.descriptor));
        let d = layer.descriptor.digest.as_str();
        let expected_config = format!(
            concat!(
                r#"{{"architecture":"","created":"0001-01-01T00:00:00Z","#,
                r#""history":[{{"created":"0001-01-01T00:00:00Z"}}],"os":"","#,
                r#""rootfs":{{"type":"layers","diff_ids":["{d}"]}},"config":{{}}}}"#
            ),
            d = d
        );
        assert_eq!(String::from_utf8(config.clone()).unwrap(), expected_config);
        let c = Algorithm::Sha256.digest(&config);
        let expected_manifest = format!(
            concat!(
                r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","#,
                r#""config":{{"mediaType":"application/vnd.oci.image.config.v1+json","#,
                r#""size":{n},"digest":"{c}"}},"#,
                r#""layers":[{{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","#,
                r#""size":1,"digest":"{d}","#,
                r#""annotations":{{"dev.cosignproject.cosign/signature":"c2ln"}}}}]}}"#
            ),
            n = config.len(),
            c = c,
            d = d
        );
        assert_eq!(String::from_utf8(manifest).unwrap(), expected_manifest);
    }

    #[test]
    fn built_manifests_list_their_layers_in_the_config() {
        let a = Layer::new("text/plain", b"a".to_vec(), BTreeMap::new());
        let b = Layer::new("text/plain", b"b".to_vec(), BTreeMap::new());
        let (config, manifest) = build(&[a.descriptor.clone(), b.descriptor.clone()]);
        let config: Value = serde_json::from_slice(&config).unwrap();
        assert_eq!(
            config["rootfs"]["diff_ids"],
            json!([a.descriptor.digest.as_str(), b.descriptor.digest.as_str()])
        );
        let read = layers(&manifest, media_type::OCI_MANIFEST).unwrap();
        assert_eq!(read, vec![a.descriptor, b.descriptor]);
    }
}
