//! OCI image layouts as source and destination: an image and its signature leave a registry
//! for a layout written by `hallmark copy -r`, Debian's `skopeo` reads that layout, and the
//! layout goes back out to distribution with the signature still attached.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::Server;
use crate::peers_layout;
use crate::support::{Cli, Distribution, raw_manifest};

/// `skopeo <args>` with a private home; its stdout.
fn skopeo(home: &Path, args: &[&str]) -> Vec<u8> {
    std::fs::create_dir_all(home.join("tmp")).expect("skopeo tmp");
    std::fs::write(home.join("registries.conf"), "").expect("registries.conf");
    let out = Command::new("skopeo")
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("CONTAINERS_REGISTRIES_CONF", home.join("registries.conf"))
        .env_remove("REGISTRY_AUTH_FILE")
        .arg("--insecure-policy")
        .arg("--tmpdir")
        .arg(home.join("tmp"))
        .args(args)
        .output()
        .expect("skopeo is installed by scripts/install-peers.sh");
    assert!(
        out.status.success(),
        "skopeo {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn layout_written_by_copy_is_read_by_skopeo_and_round_trips() {
    let ours = Server::start();
    let distribution = Distribution::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");

    let image = peers_layout::image(3, "amd64");
    let image_digest = peers_layout::digest(&image.manifest);
    let src = work.path().join("src");
    let top = peers_layout::descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        &image.manifest,
    );
    peers_layout::write(&src, &image.blobs, top, "v1");
    let remote = format!("{}/layout/img:v1", ours.host());
    cli.ok(&[
        "copy",
        "--from-oci-layout",
        &format!("{}:v1", src.display()),
        &remote,
    ]);
    let sig = work.path().join("sig.json");
    std::fs::write(&sig, "{\"signed\":true}").expect("signature");
    let signature = cli.json(&[
        "push",
        &format!("{}/layout/img", ours.host()),
        sig.to_str().expect("utf-8"),
        "--artifact-type",
        "application/vnd.example.signature",
        "--subject",
        "v1",
    ]);
    let signature_digest = signature["digest"].as_str().expect("digest");

    // Registry -> layout, with the referrer.
    let dir = work.path().join("out");
    let layout_ref = format!("{}:v1", dir.display());
    let copied = cli.json(&["copy", "-r", &remote, "--to-oci-layout", &layout_ref]);
    assert_eq!(copied["digest"], image_digest.as_str(), "{copied}");
    assert_eq!(copied["report"]["manifests"], 2, "{copied}");
    let found = cli.json(&["discover", "--oci-layout", &layout_ref]);
    assert_eq!(found["referrersSource"], "layout");
    assert_eq!(found["referrers"][0]["digest"], signature_digest, "{found}");
    assert_eq!(
        found["referrers"][0]["artifactType"],
        "application/vnd.example.signature"
    );

    // Tags in a layout: added, listed, removed without touching the manifest.
    cli.ok(&["tag", "--oci-layout", &layout_ref, "v2"]);
    let dir_str = dir.to_str().expect("utf-8");
    let tags = cli.json(&["repo", "tags", "--oci-layout", dir_str]);
    assert_eq!(tags["tags"], serde_json::json!(["v1", "v2"]));
    cli.ok(&[
        "manifest",
        "delete",
        "--oci-layout",
        &format!("{dir_str}:v2"),
    ]);
    let tags = cli.json(&["repo", "tags", "--oci-layout", dir_str]);
    assert_eq!(tags["tags"], serde_json::json!(["v1"]));

    // skopeo reads the layout hallmark wrote, and copies the image out of it unchanged.
    let home = work.path().join("skopeo-home");
    let oci = format!("oci:{}:v1", dir.display());
    let inspect: Value =
        serde_json::from_slice(&skopeo(&home, &["inspect", &oci])).expect("inspect JSON");
    assert_eq!(inspect["Digest"], image_digest.as_str(), "{inspect}");
    assert_eq!(inspect["Architecture"], "amd64", "{inspect}");
    assert_eq!(
        inspect["Layers"],
        serde_json::json!(image.layers),
        "{inspect}"
    );
    let out_dir = work.path().join("skopeo-dir");
    skopeo(
        &home,
        &[
            "copy",
            "--preserve-digests",
            &oci,
            &format!("dir:{}", out_dir.display()),
        ],
    );
    let manifest = std::fs::read(out_dir.join("manifest.json")).expect("manifest.json");
    assert!(
        manifest == image.manifest,
        "skopeo read the manifest byte for byte"
    );
    for (digest, bytes) in &image.blobs {
        if *digest == image_digest {
            continue;
        }
        let hex = digest.strip_prefix("sha256:").expect("sha256");
        assert!(
            std::fs::read(out_dir.join(hex)).expect("blob") == *bytes,
            "blob {digest}"
        );
    }

    // Layout -> distribution, with the referrer; both arrive unchanged.
    let back = format!("{}/layout/img:v1", distribution.host);
    cli.ok(&["copy", "-r", "--from-oci-layout", &layout_ref, &back]);
    assert_eq!(
        raw_manifest(&distribution.host, "layout/img", "v1"),
        Some(image.manifest.clone())
    );
    let on_dist = cli.json(&["discover", &back]);
    assert_eq!(
        on_dist["referrers"][0]["digest"], signature_digest,
        "{on_dist}"
    );
    assert_eq!(
        raw_manifest(&distribution.host, "layout/img", signature_digest),
        raw_manifest(&ours.host(), "layout/img", signature_digest)
    );
}

#[test]
fn tampered_content_is_refused_and_nothing_is_published() {
    let ours = Server::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let image = peers_layout::image(5, "amd64");
    let src = work.path().join("src");
    let top = peers_layout::descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        &image.manifest,
    );
    peers_layout::write(&src, &image.blobs, top, "v1");

    // One byte of the largest layer flipped on disk, size unchanged.
    let layer = &image.layers[0];
    let path = src
        .join("blobs/sha256")
        .join(layer.trim_start_matches("sha256:"));
    let mut bytes = std::fs::read(&path).expect("layer");
    bytes[1000] ^= 0xff;
    std::fs::write(&path, bytes).expect("tamper");

    let source = format!("{}:v1", src.display());
    let err = cli.fails(&[
        "copy",
        "--from-oci-layout",
        &source,
        &format!("{}/t/img:v1", ours.host()),
    ]);
    assert!(err.contains(layer) && err.contains("hashes to"), "{err}");
    let head = |what: &str| {
        let url = ours.url(&format!("/v2/t/img/{what}"));
        reqwest::blocking::Client::new()
            .head(&url)
            .send()
            .expect(&url)
            .status()
            .as_u16()
    };
    assert_eq!(
        head(&format!("blobs/{layer}")),
        404,
        "the bad blob was not published"
    );
    assert_eq!(head("manifests/v1"), 404, "nor the manifest naming it");

    let dst = work.path().join("dst");
    let err = cli.fails(&[
        "copy",
        "--from-oci-layout",
        &source,
        "--to-oci-layout",
        &format!("{}:v1", dst.display()),
    ]);
    assert!(err.contains("hashes to"), "{err}");
    let hex = layer.trim_start_matches("sha256:");
    assert!(
        !dst.join("blobs/sha256").join(hex).exists(),
        "no bad blob in the layout"
    );
    let leftovers: Vec<_> = std::fs::read_dir(&dst)
        .expect("layout dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files removed: {leftovers:?}"
    );
}
