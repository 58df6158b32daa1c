//! Test images built from scratch: tar layers, gzip, and OCI image layout directories
//! (image spec "OCI Image Layout"), so skopeo has a source that no registry has touched.
//!
//! Everything is deterministic for a given seed. The gzip writer uses stored (uncompressed)
//! deflate blocks: valid gzip that every reader accepts, with no compression crate needed.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use serde_json::{Value, json};

/// Blobs by digest (`sha256:<hex>`).
pub type Blobs = BTreeMap<String, Vec<u8>>;

/// The digest of `bytes`, as text.
pub fn digest(bytes: &[u8]) -> String {
    hallmark_oci::Algorithm::Sha256.digest(bytes).to_string()
}

/// A descriptor of `bytes`.
pub fn descriptor(media_type: &str, bytes: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": digest(bytes), "size": bytes.len() })
}

/// `len` bytes from a xorshift generator: incompressible and reproducible.
pub fn pseudo_random(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A ustar archive of regular files (POSIX.1-1988 header, two zero blocks at the end).
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        let mut header = [0u8; 512];
        let mut field =
            |at: usize, value: &[u8]| header[at..at + value.len()].copy_from_slice(value);
        field(0, name.as_bytes());
        field(100, b"0000644\0");
        field(108, b"0000000\0");
        field(116, b"0000000\0");
        field(124, format!("{:011o}\0", data.len()).as_bytes());
        field(136, b"00000000000\0");
        field(148, b"        ");
        field(156, b"0");
        field(257, b"ustar\0");
        field(263, b"00");
        let sum: u32 = header.iter().map(|&b| u32::from(b)).sum();
        header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(data);
        out.resize(out.len().next_multiple_of(512), 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

/// RFC 1952 gzip of `data` in stored deflate blocks (RFC 1951, section 3.2.4).
pub fn gzip(data: &[u8]) -> Vec<u8> {
    // Header: magic, deflate, no flags, no mtime, no extra flags, OS unknown.
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    let mut blocks = data.chunks(0xffff).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        let last = blocks.peek().is_none();
        let len = block.len() as u16;
        out.push(u8::from(last));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// An image: its manifest and every blob it names.
pub struct Image {
    /// The manifest, as stored.
    pub manifest: Vec<u8>,
    /// Digest of the config.
    pub config: String,
    /// Digests of the layers, in order.
    pub layers: Vec<String>,
    /// Config, layers and the manifest itself.
    pub blobs: Blobs,
}

/// A linux image for `arch` with three layers of different sizes and kinds: a 2.5 MiB tar
/// (several upload batches), a small tar, and a gzip-compressed tar of 100 KiB.
pub fn image(seed: u64, arch: &str) -> Image {
    let big = tar(&[("big.bin", &pseudo_random(seed, 5 << 19))]);
    let small = tar(&[
        ("etc/hostname", b"hallmark\n"),
        (
            "README",
            format!("peer test image {seed} for {arch}\n").as_bytes(),
        ),
    ]);
    let medium_tar = tar(&[("medium.bin", &pseudo_random(seed + 1, 100 << 10))]);
    let medium = gzip(&medium_tar);
    let layers = [
        (
            "application/vnd.oci.image.layer.v1.tar",
            big.as_slice(),
            &big,
        ),
        (
            "application/vnd.oci.image.layer.v1.tar",
            small.as_slice(),
            &small,
        ),
        (
            "application/vnd.oci.image.layer.v1.tar+gzip",
            medium.as_slice(),
            &medium_tar,
        ),
    ];

    let config = serde_json::to_vec(&json!({
        "architecture": arch,
        "os": "linux",
        "config": { "Env": ["PATH=/usr/bin"] },
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|(_, _, plain)| digest(plain)).collect::<Vec<_>>(),
        },
    }))
    .expect("config serializes");
    // Indented, not compact: a client or server that re-serializes would change these bytes.
    let manifest = serde_json::to_vec_pretty(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": layers.iter().map(|(mt, b, _)| descriptor(mt, b)).collect::<Vec<_>>(),
        "annotations": { "org.opencontainers.image.title": format!("peer test {arch}") },
    }))
    .expect("manifest serializes");

    let mut blobs = Blobs::new();
    for b in [&config, &big, &small, &medium, &manifest] {
        blobs.insert(digest(b), b.clone());
    }
    Image {
        config: digest(&config),
        layers: layers.iter().map(|(_, b, _)| digest(b)).collect(),
        manifest,
        blobs,
    }
}

/// Writes an OCI image layout at `dir` holding `blobs`, with `top` (a descriptor) as the
/// index entry named `tag`.
pub fn write(dir: &Path, blobs: &Blobs, mut top: Value, tag: &str) {
    let blob_dir = dir.join("blobs/sha256");
    fs::create_dir_all(&blob_dir).expect("create layout");
    for (d, bytes) in blobs {
        let hex = d.strip_prefix("sha256:").expect("sha256 digest");
        fs::write(blob_dir.join(hex), bytes).expect("write blob");
    }
    fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).expect("oci-layout");
    top["annotations"] = json!({ "org.opencontainers.image.ref.name": tag });
    let index = json!({ "schemaVersion": 2, "manifests": [top] });
    fs::write(dir.join("index.json"), index.to_string()).expect("index.json");
}

/// Every blob of the layout at `dir`, keyed by the digest its file name claims.
pub fn read_blobs(dir: &Path) -> Blobs {
    let mut blobs = Blobs::new();
    for entry in fs::read_dir(dir.join("blobs/sha256")).expect("read layout blobs") {
        let path = entry.expect("layout entry").path();
        let hex = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("blob name");
        blobs.insert(format!("sha256:{hex}"), fs::read(&path).expect("read blob"));
    }
    blobs
}

/// The single entry of the layout's `index.json`.
pub fn read_top(dir: &Path) -> Value {
    let index: Value =
        serde_json::from_slice(&fs::read(dir.join("index.json")).expect("read index.json"))
            .expect("index.json is JSON");
    let manifests = index["manifests"]
        .as_array()
        .expect("index lists manifests");
    assert_eq!(manifests.len(), 1, "one image in {}", dir.display());
    manifests[0].clone()
}
