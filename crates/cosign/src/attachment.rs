//! Where cosign attaches things to an image without the referrers API: an OCI image manifest
//! tagged `sha256-<hex>.sig` (signatures), `.att` (attestations) or `.sbom` next to the image
//! (or in `COSIGN_REPOSITORY`), one layer per signature or attestation.
//!
//! The manifest's config is go-containerregistry's empty image config with `rootfs.diff_ids`
//! listing the layers' digests and one empty history entry per layer, which is what cosign
//! writes; readers use the layers and their annotations only.

use std::collections::BTreeMap;

use hallmark_oci::{Algorithm, Descriptor, Digest, Manifest, Tag, media_type};
use serde_json::{Value, json};

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

    /// The tag of this attachment for the image `digest`: `sha256-<hex>.<suffix>`.
    pub fn tag(self, digest: &Digest) -> Tag {
        let text = format!(
            "{}-{}.{}",
            digest.algorithm().as_str(),
            digest.hex(),
            self.suffix()
        );
        // Algorithm names and hex digits are inside the tag grammar, and the length is at
        // most 6 + 1 + 128 + 5 = 140; cut to the 128 the grammar allows, as cosign would
        // fail to push anything longer anyway.
        text.chars()
            .take(128)
            .collect::<String>()
            .parse()
            .unwrap_or_else(|_| Tag::for_referrers_of(digest))
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

/// The config blob and manifest bytes of an attachment holding `layers`, in order.
pub fn build(layers: &[Descriptor]) -> (Vec<u8>, Vec<u8>) {
    let diff_ids: Vec<&str> = layers.iter().map(|l| l.digest.as_str()).collect();
    let history: Vec<Value> = layers
        .iter()
        .map(|_| json!({ "created": "0001-01-01T00:00:00Z" }))
        .collect();
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": history,
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "config": {},
    });
    // JSON values and descriptors always serialize.
    let config = serde_json::to_vec(&config).unwrap_or_default();
    let config_descriptor = Descriptor::new(
        CONFIG_MEDIA_TYPE,
        Algorithm::Sha256.digest(&config),
        config.len() as u64,
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": config_descriptor,
        "layers": layers,
    });
    (config, serde_json::to_vec(&manifest).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn tags_follow_cosign() {
        let digest: Digest =
            "sha256:0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0"
                .parse()
                .unwrap();
        assert_eq!(
            Attachment::Signatures.tag(&digest).as_str(),
            "sha256-0fb3f3e9b3fcd7b3e7ad9b6ed0b6d1a2c0a7e0f3c0c8b4c0f0e3f0a4e2b3c1d0.sig"
        );
        assert!(
            Attachment::Attestations
                .tag(&digest)
                .as_str()
                .ends_with(".att")
        );
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
