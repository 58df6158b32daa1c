//! The throwaway subject of `doctor --write`, in the most portable form there is: an OCI
//! image manifest (image spec 1.0, which every current registry takes) with a real image
//! config (`application/vnd.oci.image.config.v1+json`) and one uncompressed tar layer
//! (`application/vnd.oci.image.layer.v1.tar`, a layer type the image spec has had from 1.0).
//! Nothing in it needs OCI 1.1, so a registry that refuses the artifact pushed next refuses
//! it for its `subject` and `artifactType`.
//!
//! The config and the layer both carry the probe's nonce: their digests, and the
//! manifest's, belong to this probe alone, so deleting them cannot remove anyone else's
//! content.

use bytes::Bytes;
use hallmark_oci::{Algorithm, Descriptor, media_type};
use serde_json::json;

/// The media type of an image config.
pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";

/// The media type of an uncompressed tar layer.
pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The annotation, and config label, that says what the content is.
pub const DESCRIPTION: &str = "hallmark doctor probe; safe to delete";

/// The name of the one file in the layer.
const FILE_NAME: &str = "hallmark-doctor-probe";

/// A blob to push: its descriptor and bytes.
pub struct Blob {
    /// The descriptor.
    pub descriptor: Descriptor,
    /// The content.
    pub bytes: Bytes,
}

impl Blob {
    fn new(media_type: &str, bytes: Vec<u8>) -> Blob {
        let bytes = Bytes::from(bytes);
        let descriptor = Descriptor::new(
            media_type,
            Algorithm::Sha256.digest(&bytes),
            bytes.len() as u64,
        );
        Blob { descriptor, bytes }
    }

    /// The OCI empty descriptor's blob, `{}`: the config (and only layer) of every OCI 1.1
    /// artifact that carries no content, shared by all of them.
    pub fn empty() -> Blob {
        Blob::new(media_type::OCI_EMPTY, b"{}".to_vec())
    }
}

/// The subject image: its config and layer blobs, and its manifest.
pub struct Image {
    /// The image config.
    pub config: Blob,
    /// The only layer.
    pub layer: Blob,
    /// The manifest bytes (`application/vnd.oci.image.manifest.v1+json`).
    pub manifest: Bytes,
}

impl Image {
    /// The image for `nonce`.
    pub fn new(nonce: &str) -> Image {
        let tar = tar_with(FILE_NAME, format!("{DESCRIPTION}\n{nonce}\n").as_bytes());
        let diff_id = Algorithm::Sha256.digest(&tar);
        let layer = Blob::new(LAYER, tar);
        let config = json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {
                "Labels": {
                    "org.opencontainers.image.description": DESCRIPTION,
                    "io.hallmark.doctor.nonce": nonce,
                },
            },
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        });
        // Serializing a JSON value cannot fail.
        let config = Blob::new(CONFIG, serde_json::to_vec(&config).unwrap_or_default());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": config.descriptor,
            "layers": [layer.descriptor],
        });
        let manifest = Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default());
        Image {
            config,
            layer,
            manifest,
        }
    }
}

/// A tar archive (ustar) holding one regular file, `name`, with `content`.
fn tar_with(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    let mut put = |at: usize, field: &[u8]| header[at..at + field.len()].copy_from_slice(field);
    put(0, name.as_bytes());
    put(100, b"0000644\0");
    put(108, b"0000000\0");
    put(116, b"0000000\0");
    put(124, format!("{:011o}\0", content.len()).as_bytes());
    put(136, b"00000000000\0");
    put(148, b"        ");
    put(156, b"0");
    put(257, b"ustar\0");
    put(263, b"00");
    let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());

    let padded = content.len().div_ceil(512) * 512;
    let mut tar = Vec::with_capacity(512 + padded + 1024);
    tar.extend_from_slice(&header);
    tar.extend_from_slice(content);
    // The content padded to a whole block, then two zero blocks: the end of the archive.
    tar.resize(512 + padded + 1024, 0);
    tar
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::process::{Command, Stdio};

    use super::*;

    /// The layer is a tar that `tar` itself unpacks to the one file.
    #[test]
    fn the_layer_unpacks_with_tar() {
        let image = Image::new("n-1");
        let mut child = Command::new("tar")
            .args(["-xO", "-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tar runs");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(&image.layer.bytes).expect("write layer");
        drop(stdin);
        let out = child.wait_with_output().expect("tar ends");
        assert!(out.status.success(), "{out:?}");
        assert_eq!(out.stdout, format!("{DESCRIPTION}\nn-1\n").as_bytes());
    }

    #[test]
    fn the_image_is_plain_and_unique() {
        let a = Image::new("a");
        let b = Image::new("b");
        assert_ne!(a.config.descriptor.digest, b.config.descriptor.digest);
        assert_ne!(a.layer.descriptor.digest, b.layer.descriptor.digest);
        assert_ne!(a.manifest, b.manifest);
        let m: serde_json::Value = serde_json::from_slice(&a.manifest).expect("JSON");
        assert_eq!(m["config"]["mediaType"], CONFIG);
        assert_eq!(m["layers"][0]["mediaType"], LAYER);
        assert!(m.get("subject").is_none() && m.get("artifactType").is_none());
        let c: serde_json::Value = serde_json::from_slice(&a.config.bytes).expect("JSON");
        let tar = tar_with(FILE_NAME, format!("{DESCRIPTION}\na\n").as_bytes());
        let diff_id = Algorithm::Sha256.digest(&tar);
        assert_eq!(c["rootfs"]["diff_ids"][0], diff_id.as_str());
    }
}
