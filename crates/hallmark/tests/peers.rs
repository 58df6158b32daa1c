//! Third-party clients against the real `hallmark serve`: Debian's `skopeo` copies images in
//! and out byte for byte, and the oras-py SDK pushes and pulls artifacts and referrers.
//!
//! The peers are installed by `scripts/install-peers.sh`: skopeo from Debian (found on `PATH`),
//! oras-py in a venv under `HALLMARK_PEERS` (default `<workspace>/.peers`). A missing peer
//! fails the test instead of skipping it: a suite that passes without its peers proves nothing.

mod common;
#[path = "peers/layout.rs"]
mod layout;

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::common::Server;
use crate::layout::Blobs;

const INSTALL_HINT: &str = "run scripts/install-peers.sh to install the test peers";

/// The directory install-peers.sh fills.
fn peers_dir() -> PathBuf {
    match std::env::var_os("HALLMARK_PEERS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers"),
    }
}

/// An executable named `name` on `PATH`.
fn on_path(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("`{name}` is not on PATH: {INSTALL_HINT}"))
}

/// Runs a peer, failing the test with everything it printed unless it succeeds.
fn run(command: &mut Command) -> Output {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    assert!(
        out.status.success(),
        "{command:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    out
}

/// Debian's skopeo with a private home: no credentials, policy or registries configuration of
/// the machine leaks in. (Run as root, containers/image still keeps its blob-info cache in
/// /var/lib/containers/cache; at most it makes skopeo try cross-repository mounts, which the
/// server answers whether or not it has the blob.)
struct Skopeo {
    bin: PathBuf,
    home: tempfile::TempDir,
}

impl Skopeo {
    fn new() -> Skopeo {
        let home = tempfile::tempdir().expect("skopeo home");
        std::fs::write(home.path().join("registries.conf"), "").expect("registries.conf");
        std::fs::create_dir(home.path().join("tmp")).expect("skopeo tmp");
        Skopeo {
            bin: on_path("skopeo"),
            home,
        }
    }

    /// `skopeo <args>`; its stdout.
    fn run<S: AsRef<OsStr>>(&self, args: &[S]) -> Vec<u8> {
        let home = self.home.path();
        let mut command = Command::new(&self.bin);
        command
            .env("HOME", home)
            .env("XDG_RUNTIME_DIR", home)
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_DATA_HOME", home.join("data"))
            .env("CONTAINERS_REGISTRIES_CONF", home.join("registries.conf"))
            .env_remove("REGISTRY_AUTH_FILE")
            // No trust policy to consult: these tests are about the registry protocol.
            .arg("--insecure-policy")
            .arg("--tmpdir")
            .arg(home.join("tmp"))
            .args(args);
        run(&mut command).stdout
    }

    /// `skopeo <args>` printing JSON.
    fn json<S: AsRef<OsStr>>(&self, args: &[S]) -> Value {
        serde_json::from_slice(&self.run(args)).expect("skopeo prints JSON")
    }
}

/// `oci:<dir>:<tag>`.
fn oci_ref(dir: &Path, tag: &str) -> String {
    format!("oci:{}:{tag}", dir.display())
}

fn status_of(url: &str) -> u16 {
    reqwest::blocking::get(url).expect(url).status().as_u16()
}

fn get_bytes(url: &str) -> Vec<u8> {
    let resp = reqwest::blocking::get(url).expect(url);
    assert_eq!(resp.status(), 200, "GET {url}");
    resp.bytes().expect(url).to_vec()
}

/// The server logged no error: a peer that retries or falls back could otherwise hide a 500.
fn assert_quiet(server: &Server) {
    let errors: Vec<String> = server
        .log()
        .into_iter()
        .filter(|line| {
            let level = serde_json::from_str::<Value>(line).map(|v| v["level"].clone());
            level.is_ok_and(|l| l == "ERROR" || l == "WARN")
        })
        .collect();
    assert!(
        errors.is_empty(),
        "server logged errors:\n{}",
        errors.join("\n")
    );
}

/// A manifest of `repo` and the `Content-Type` it is served with.
fn get_manifest(server: &Server, repo: &str, reference: &str) -> (Vec<u8>, String) {
    let url = server.url(&format!("/v2/{repo}/manifests/{reference}"));
    let resp = reqwest::blocking::get(&url).expect(&url);
    assert_eq!(resp.status(), 200, "GET {url}");
    let content_type = resp.headers()["content-type"]
        .to_str()
        .expect(&url)
        .to_owned();
    (resp.bytes().expect(&url).to_vec(), content_type)
}

/// Same digests, same bytes; on a difference, names the blob rather than dumping megabytes.
fn assert_same_blobs(got: &Blobs, want: &Blobs, what: &str) {
    let names = |b: &Blobs| b.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(got), names(want), "{what}: blob names");
    for (d, bytes) in want {
        assert!(got[d] == *bytes, "{what}: blob {d} differs from the source");
        assert_eq!(
            layout::digest(&got[d]),
            *d,
            "{what}: blob {d} has another digest"
        );
    }
}

// `--preserve-digests` on every copy: pushing to a registry, containers/image gzips layers
// stored uncompressed (two of ours), which changes their digests and so the manifest. The flag
// makes skopeo copy blobs as they are and fail rather than alter any digest, so what arrives
// is byte for byte what was sent.
#[test]
fn skopeo_copies_an_oci_image_in_and_out_byte_for_byte() {
    let server = Server::start();
    let skopeo = Skopeo::new();
    let work = tempfile::tempdir().expect("work dir");
    let (src, dst) = (work.path().join("src"), work.path().join("dst"));
    let image = layout::image(1, "amd64");
    let manifest_digest = layout::digest(&image.manifest);
    let top = layout::descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        &image.manifest,
    );
    layout::write(&src, &image.blobs, top, "v1");
    let remote = format!("docker://{}/repo/img:v1", server.host());

    skopeo.run(&[
        "copy",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &oci_ref(&src, "v1"),
        &remote,
    ]);

    let inspect = skopeo.json(&["inspect", "--tls-verify=false", &remote]);
    assert_eq!(inspect["Digest"], manifest_digest.as_str(), "{inspect}");
    assert_eq!(
        inspect["Layers"],
        serde_json::json!(image.layers),
        "{inspect}"
    );
    assert_eq!(inspect["Architecture"], "amd64", "{inspect}");
    let raw = skopeo.run(&["inspect", "--raw", "--tls-verify=false", &remote]);
    assert!(raw == image.manifest, "manifest changed on the way in");
    let tags = skopeo.json(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/repo/img", server.host()),
    ]);
    assert_eq!(tags["Tags"], serde_json::json!(["v1"]), "{tags}");

    skopeo.run(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &remote,
        &oci_ref(&dst, "v1"),
    ]);
    let got = layout::read_top(&dst);
    assert_eq!(got["digest"], manifest_digest.as_str(), "{got}");
    assert_eq!(got["size"], image.manifest.len(), "{got}");
    assert_same_blobs(&layout::read_blobs(&dst), &image.blobs, "pulled layout");

    // Registry to registry, within one server: containers/image may mount the blobs from
    // repo/img rather than upload them again.
    let promoted = format!("docker://{}/repo/promoted:v1", server.host());
    skopeo.run(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        &remote,
        &promoted,
    ]);
    let raw = skopeo.run(&["inspect", "--raw", "--tls-verify=false", &promoted]);
    assert!(raw == image.manifest, "manifest changed on promotion");

    skopeo.run(&["delete", "--tls-verify=false", &remote]);
    for reference in ["v1", manifest_digest.as_str()] {
        let url = server.url(&format!("/v2/repo/img/manifests/{reference}"));
        assert_eq!(status_of(&url), 404, "GET {url} after skopeo delete");
    }
    let tags = skopeo.json(&[
        "list-tags",
        "--tls-verify=false",
        &format!("docker://{}/repo/img", server.host()),
    ]);
    assert_eq!(tags["Tags"], serde_json::json!([]), "{tags}");
    // The other repository keeps its copy and every blob of it.
    let url = server.url("/v2/repo/promoted/manifests/v1");
    assert!(
        get_bytes(&url) == image.manifest,
        "promoted manifest changed"
    );
    for d in image.blobs.keys().filter(|d| **d != manifest_digest) {
        let blob = get_bytes(&server.url(&format!("/v2/repo/promoted/blobs/{d}")));
        assert!(blob == image.blobs[d], "promoted blob {d} changed");
    }
    assert_quiet(&server);
}

// `--format v2s2` makes skopeo convert the manifest to Docker's schema 2 (it ignores the
// format under `--preserve-digests`, so that flag is left off here). Converting may also gzip
// the uncompressed layers, so the check is that the stored manifest names blobs the registry
// serves with exactly those digests and sizes, and that they come back out unchanged.
#[test]
fn skopeo_pushes_and_pulls_docker_schema2() {
    let server = Server::start();
    let skopeo = Skopeo::new();
    let work = tempfile::tempdir().expect("work dir");
    let (src, dst) = (work.path().join("src"), work.path().join("dst"));
    let image = layout::image(2, "arm64");
    let top = layout::descriptor(
        "application/vnd.oci.image.manifest.v1+json",
        &image.manifest,
    );
    layout::write(&src, &image.blobs, top, "v1");
    let remote = format!("docker://{}/repo/docker:v1", server.host());

    skopeo.run(&[
        "copy",
        "--format",
        "v2s2",
        "--dest-tls-verify=false",
        &oci_ref(&src, "v1"),
        &remote,
    ]);

    let (stored, content_type) = get_manifest(&server, "repo/docker", "v1");
    let manifest: Value = serde_json::from_slice(&stored).expect("manifest is JSON");
    let docker = "application/vnd.docker.distribution.manifest.v2+json";
    assert_eq!(content_type, docker);
    assert_eq!(manifest["mediaType"], docker, "{manifest}");
    let config = &manifest["config"];
    assert_eq!(
        config["mediaType"], "application/vnd.docker.container.image.v1+json",
        "{manifest}"
    );
    // The config's diff_ids name uncompressed layers, so compressing leaves it as it was.
    assert_eq!(config["digest"], image.config.as_str(), "{manifest}");
    let layers = manifest["layers"].as_array().expect("layers");
    assert_eq!(layers.len(), image.layers.len(), "{manifest}");
    let mut served = Blobs::new();
    for d in std::iter::once(config).chain(layers) {
        let media_type = d["mediaType"].as_str().expect("media type");
        assert!(media_type.starts_with("application/vnd.docker."), "{d}");
        let digest = d["digest"].as_str().expect("digest");
        let blob = get_bytes(&server.url(&format!("/v2/repo/docker/blobs/{digest}")));
        assert_eq!(
            layout::digest(&blob),
            digest,
            "served blob has another digest"
        );
        assert_eq!(d["size"], blob.len(), "{d}");
        served.insert(digest.to_owned(), blob);
    }

    let inspect = skopeo.json(&["inspect", "--tls-verify=false", &remote]);
    assert_eq!(
        inspect["Digest"],
        layout::digest(&stored).as_str(),
        "{inspect}"
    );
    assert_eq!(inspect["Architecture"], "arm64", "{inspect}");

    // Back out through the `dir:` transport, which writes the manifest exactly as served.
    skopeo.run(&[
        "copy",
        "--preserve-digests",
        "--src-tls-verify=false",
        &remote,
        &format!("dir:{}", dst.display()),
    ]);
    let pulled = std::fs::read(dst.join("manifest.json")).expect("dir manifest");
    assert!(pulled == stored, "docker manifest changed on the way out");
    for (d, bytes) in &served {
        let hex = d.strip_prefix("sha256:").expect("sha256");
        let blob = std::fs::read(dst.join(hex)).expect("dir blob");
        assert!(blob == *bytes, "blob {d} changed on the way out");
    }
    assert_quiet(&server);
}

// A multi-platform image: `--all` pushes both images, then the index that names them by
// digest, and pulls all three back. Pushed again with `--format v2s2`, it becomes a Docker
// manifest list of Docker manifests.
#[test]
fn skopeo_copies_a_multi_platform_index_with_all() {
    let server = Server::start();
    let skopeo = Skopeo::new();
    let work = tempfile::tempdir().expect("work dir");
    let (src, dst) = (work.path().join("src"), work.path().join("dst"));
    let mut blobs = Blobs::new();
    let mut entries = Vec::new();
    for (seed, arch) in [(3, "amd64"), (4, "arm64")] {
        let image = layout::image(seed, arch);
        let mut entry = layout::descriptor(
            "application/vnd.oci.image.manifest.v1+json",
            &image.manifest,
        );
        entry["platform"] = serde_json::json!({ "architecture": arch, "os": "linux" });
        entries.push(entry);
        blobs.extend(image.blobs);
    }
    let index = serde_json::to_vec_pretty(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": entries,
    }))
    .expect("index serializes");
    blobs.insert(layout::digest(&index), index.clone());
    let top = layout::descriptor("application/vnd.oci.image.index.v1+json", &index);
    layout::write(&src, &blobs, top, "v1");
    let remote = format!("docker://{}/repo/multi:v1", server.host());

    skopeo.run(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-tls-verify=false",
        &oci_ref(&src, "v1"),
        &remote,
    ]);
    let raw = skopeo.run(&["inspect", "--raw", "--tls-verify=false", &remote]);
    assert!(raw == index, "index changed on the way in");

    skopeo.run(&[
        "copy",
        "--all",
        "--preserve-digests",
        "--src-tls-verify=false",
        &remote,
        &oci_ref(&dst, "v1"),
    ]);
    assert_eq!(
        layout::read_top(&dst)["digest"],
        layout::digest(&index).as_str()
    );
    assert_same_blobs(&layout::read_blobs(&dst), &blobs, "pulled layout");

    let remote = format!("docker://{}/repo/multi-docker:v1", server.host());
    skopeo.run(&[
        "copy",
        "--all",
        "--format",
        "v2s2",
        "--dest-tls-verify=false",
        &oci_ref(&src, "v1"),
        &remote,
    ]);
    let list_type = "application/vnd.docker.distribution.manifest.list.v2+json";
    let (list, served_type) = get_manifest(&server, "repo/multi-docker", "v1");
    assert_eq!(served_type, list_type);
    let list: Value = serde_json::from_slice(&list).expect("list is JSON");
    assert_eq!(list["mediaType"], list_type, "{list}");
    let children = list["manifests"].as_array().expect("list entries");
    assert_eq!(children.len(), 2, "{list}");
    for child in children {
        let digest = child["digest"].as_str().expect("child digest");
        let (bytes, served_type) = get_manifest(&server, "repo/multi-docker", digest);
        assert_eq!(child["mediaType"], served_type.as_str(), "{child}");
        assert_eq!(
            served_type,
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(layout::digest(&bytes), digest, "{child}");
    }
    assert_quiet(&server);
}

/// oras-py, driven by `tests/peers/oras_peer.py` with the venv's Python.
struct OrasPeer {
    python: PathBuf,
    home: tempfile::TempDir,
}

impl OrasPeer {
    fn new() -> OrasPeer {
        let venv = peers_dir().join("venv");
        let python = venv.join("bin/python3");
        // install-peers.sh writes `peers-v3-check` last, once the venv is complete.
        if !python.is_file() || !venv.join("bin/peers-v3-check").is_file() {
            panic!("oras-py venv missing at {}: {INSTALL_HINT}", venv.display());
        }
        let home = tempfile::tempdir().expect("oras home");
        OrasPeer { python, home }
    }

    /// `oras_peer.py <args>`; the JSON it prints.
    fn run(&self, args: &[&OsStr]) -> Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/oras_peer.py");
        let out = run(Command::new(&self.python)
            .arg(script)
            .args(args)
            // No docker credentials of the machine; no bytecode written into the venv.
            .env("HOME", self.home.path())
            .env("PYTHONDONTWRITEBYTECODE", "1"));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            let stdout = String::from_utf8_lossy(&out.stdout);
            panic!("oras_peer.py printed no JSON ({e}): {stdout}")
        })
    }
}

/// The referrers of `subject` in `peers/artifact` (after `query`), as (digest, artifactType).
fn referrers(server: &Server, subject: &str, query: &str) -> (Value, BTreeSet<(String, String)>) {
    let url = server.url(&format!("/v2/peers/artifact/referrers/{subject}{query}"));
    let resp = reqwest::blocking::get(&url).expect(&url);
    assert_eq!(resp.status(), 200, "GET {url}");
    let index: Value =
        serde_json::from_slice(&resp.bytes().expect(&url)).expect("referrers index is JSON");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let listed = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|d| (d["digest"].to_string(), d["artifactType"].to_string()))
        .collect();
    (index, listed)
}

/// The oras-py SDK pushes an artifact and pulls it back identically, then pushes two referrers
/// to it; the referrers API must list both, filter them by `artifactType`, and drop the one
/// whose manifest the SDK deletes.
#[test]
fn oras_py_pushes_pulls_and_attaches_referrers() {
    let server = Server::start();
    let oras = OrasPeer::new();
    let work = tempfile::tempdir().expect("work dir");
    let payload = layout::pseudo_random(5, 300 << 10);
    let notes = b"notes for the peer test\n".to_vec();
    std::fs::write(work.path().join("payload.bin"), &payload).expect("payload");
    std::fs::write(work.path().join("notes.txt"), &notes).expect("notes");
    let host = server.host();

    let report = oras.run(&["push".as_ref(), host.as_ref(), work.path().as_os_str()]);
    assert_eq!(
        report["pulled"],
        serde_json::json!(["pulled/notes.txt", "pulled/payload.bin"]),
        "{report}"
    );
    let pulled = |name: &str| std::fs::read(work.path().join("pulled").join(name)).expect(name);
    assert!(pulled("payload.bin") == payload, "payload.bin changed");
    assert!(pulled("notes.txt") == notes, "notes.txt changed");
    assert_eq!(
        report["tags"],
        serde_json::json!(["sbom", "v1"]),
        "{report}"
    );

    let subject = report["artifact"]["digest"]
        .as_str()
        .expect("artifact digest");
    let pushed: Vec<(String, String)> = report["referrers"]
        .as_array()
        .expect("referrers in the report")
        .iter()
        .map(|r| (r["digest"].to_string(), r["artifactType"].to_string()))
        .collect();
    let [sbom, signature] = pushed.as_slice() else {
        panic!("two referrers expected: {report}");
    };
    let (index, listed) = referrers(&server, subject, "");
    assert_eq!(
        listed,
        BTreeSet::from([sbom.clone(), signature.clone()]),
        "{index}"
    );
    for d in index["manifests"].as_array().expect("manifests") {
        assert_eq!(
            d["mediaType"], "application/vnd.oci.image.manifest.v1+json",
            "{d}"
        );
        assert!(
            d["annotations"]["org.example.kind"].is_string(),
            "annotations: {d}"
        );
    }

    let query = "?artifactType=application/vnd.hallmark.test.signature.v1";
    let (index, listed) = referrers(&server, subject, query);
    assert_eq!(listed, BTreeSet::from([signature.clone()]), "{index}");
    assert_eq!(
        index["manifests"][0]["size"],
        report["referrers"][1]["size"]
    );

    let report = oras.run(&["untag".as_ref(), host.as_ref(), "sbom".as_ref()]);
    assert_eq!(report["deleted"], true, "{report}");
    assert_eq!(report["tags"], serde_json::json!(["v1"]), "{report}");
    let (index, listed) = referrers(&server, subject, "");
    assert_eq!(listed, BTreeSet::from([signature.clone()]), "{index}");
    assert_quiet(&server);
}
