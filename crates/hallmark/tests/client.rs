//! The client commands against real registries on loopback: `hallmark serve` (referrers API)
//! and Debian's `docker-registry` (distribution 2.8.2, which answers 404 on the referrers API,
//! so referrers go through the tag schema). Credentials, TLS and referrers modes, layouts,
//! upload resume, the bearer token flow and a registry serving wrong bytes are in
//! `client/access.rs`, `client/layout.rs`, `client/resume.rs`, `client/token.rs` and
//! `client/tamper.rs`.

#[path = "client/access.rs"]
mod access_cases;
mod common;
#[path = "client/layout.rs"]
mod layout_cases;
#[allow(dead_code)]
#[path = "peers/layout.rs"]
mod peers_layout;
#[path = "client/resume.rs"]
mod resume_cases;
#[path = "client/support.rs"]
mod support;
#[path = "client/tamper.rs"]
mod tamper_cases;
#[path = "client/token.rs"]
mod token_cases;
#[path = "v1/support.rs"]
mod v1_support;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::Server;
use crate::support::{Cli, Distribution, raw_manifest};

/// Both kinds of registry, named for messages.
fn registries() -> (Server, Distribution) {
    (Server::start(), Distribution::start())
}

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// Digests of the referrers in a `discover -o json` document, at every depth.
fn referrer_digests(v: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for r in v["referrers"].as_array().into_iter().flatten() {
        out.insert(r["digest"].as_str().expect("digest").to_owned());
        out.extend(referrer_digests(r));
    }
    out
}

#[test]
fn push_pull_tag_and_list_on_both_registries() {
    let (ours, distribution) = registries();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = write(work.path(), "notes.txt", "hello from hallmark\n");

    for host in [ours.host(), distribution.host.clone()] {
        let repo = format!("{host}/team/app");
        let pushed = cli.json(&[
            "push",
            &format!("{repo}:v1"),
            &format!("{file}:text/plain"),
            "--artifact-type",
            "application/vnd.example.notes",
            "--annotation",
            "org.example.k=v",
        ]);
        let digest = pushed["digest"].as_str().expect("digest").to_owned();

        let out = work.path().join(format!("out-{}", host.replace(':', "-")));
        let pulled = cli.ok(&[
            "pull",
            &format!("{repo}:v1"),
            "-o",
            out.to_str().expect("utf-8"),
        ]);
        assert!(pulled.contains(&digest), "{pulled}");
        let got = std::fs::read_to_string(out.join("notes.txt")).expect("pulled file");
        assert_eq!(got, "hello from hallmark\n", "{host}");

        cli.ok(&["tag", &format!("{repo}:v1"), "v2", "latest"]);
        let tags = cli.json(&["repo", "tags", &repo]);
        assert_eq!(
            tags["tags"],
            serde_json::json!(["latest", "v1", "v2"]),
            "{host}"
        );
        let tags = cli.json(&["repo", "tags", &repo, "--page-size", "1"]);
        assert_eq!(
            tags["tags"].as_array().map(Vec::len),
            Some(3),
            "Link pages: {host}"
        );

        let descriptor: Value = serde_json::from_str(&cli.ok(&[
            "manifest",
            "fetch",
            "--descriptor",
            &format!("{repo}:latest"),
        ]))
        .expect("descriptor JSON");
        assert_eq!(descriptor["digest"], digest.as_str(), "{host}");
        let bytes = cli.ok(&["manifest", "fetch", &format!("{repo}@{digest}")]);
        assert_eq!(
            Some(bytes.as_bytes().to_vec()),
            raw_manifest(&host, "team/app", &digest),
            "manifest fetch prints the exact bytes"
        );

        let manifest: Value = serde_json::from_str(&bytes).expect("manifest JSON");
        assert_eq!(manifest["annotations"]["org.example.k"], "v");
        let layer = manifest["layers"][0]["digest"]
            .as_str()
            .expect("layer digest");
        let blob_out = work.path().join("blob.out");
        cli.ok(&[
            "blob",
            "fetch",
            &format!("{repo}@{layer}"),
            "--output-file",
            blob_out.to_str().expect("utf-8"),
        ]);
        assert_eq!(
            std::fs::read_to_string(&blob_out).expect("blob"),
            "hello from hallmark\n"
        );

        let catalog = cli.json(&["repo", "ls", &host]);
        assert_eq!(
            catalog["repositories"],
            serde_json::json!(["team/app"]),
            "{host}"
        );

        // distribution 2.8.2 deletes manifests by digest only; the error says so.
        if host == distribution.host {
            let err = cli.fails(&["manifest", "delete", &format!("{repo}:v2")]);
            assert!(err.contains("can only delete manifests by digest"), "{err}");
        } else {
            cli.ok(&["manifest", "delete", &format!("{repo}:v2")]);
            let tags = cli.json(&["repo", "tags", &repo]);
            assert_eq!(tags["tags"], serde_json::json!(["latest", "v1"]), "{host}");
        }
        cli.ok(&["manifest", "delete", &format!("{repo}@{digest}")]);
        let err = cli.fails(&["pull", &format!("{repo}:v1"), "-o", "gone"]);
        assert!(err.contains("not found"), "{err}");
    }
}

#[test]
fn copy_recursive_carries_a_multi_platform_index_and_its_referrer_graph() {
    let (ours, distribution) = registries();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");

    // A two-platform index in a layout, copied into our registry.
    let src = work.path().join("src");
    let (amd, arm) = (
        peers_layout::image(7, "amd64"),
        peers_layout::image(8, "arm64"),
    );
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            peers_layout::descriptor("application/vnd.oci.image.manifest.v1+json", &amd.manifest),
            peers_layout::descriptor("application/vnd.oci.image.manifest.v1+json", &arm.manifest),
        ],
    }))
    .expect("index");
    let mut blobs = amd.blobs.clone();
    blobs.extend(arm.blobs.clone());
    blobs.insert(peers_layout::digest(&index), index.clone());
    let top = peers_layout::descriptor("application/vnd.oci.image.index.v1+json", &index);
    peers_layout::write(&src, &blobs, top, "v1");
    let ours_ref = format!("{}/apps/web:v1", ours.host());
    cli.ok(&[
        "copy",
        "--from-oci-layout",
        &format!("{}:v1", src.display()),
        &ours_ref,
    ]);

    // A signature on the index, an SBOM on the amd64 manifest, a signature on the SBOM.
    let sig = write(work.path(), "sig.json", "{\"sig\":1}");
    let signature = cli.json(&[
        "push",
        &format!("{}/apps/web", ours.host()),
        &sig,
        "--artifact-type",
        "application/vnd.example.signature",
        "--subject",
        "v1",
    ]);
    let sbom_file = write(work.path(), "sbom.json", "{\"packages\":[]}");
    let amd_digest = peers_layout::digest(&amd.manifest);
    let sbom = cli.json(&[
        "push",
        &format!("{}/apps/web", ours.host()),
        &sbom_file,
        "--artifact-type",
        "application/vnd.example.sbom",
        "--subject",
        &amd_digest,
    ]);
    let sbom_digest = sbom["digest"].as_str().expect("digest");
    let sbom_sig = cli.json(&[
        "push",
        &format!("{}/apps/web", ours.host()),
        &sig,
        "--artifact-type",
        "application/vnd.example.signature",
        "--subject",
        sbom_digest,
    ]);
    let index_digest = peers_layout::digest(&index);
    let on_ours = cli.json(&["discover", &ours_ref]);
    assert_eq!(on_ours["referrersSource"], "api", "{on_ours}");
    assert_eq!(
        referrer_digests(&on_ours),
        BTreeSet::from([signature["digest"].as_str().expect("d").to_owned()])
    );

    // Ours -> distribution, recursively; then back into a second repository of ours.
    let dist_ref = format!("{}/apps/web:v1", distribution.host);
    let copied = cli.json(&["copy", "-r", &ours_ref, &dist_ref]);
    assert_eq!(copied["digest"], index_digest.as_str(), "{copied}");
    assert_eq!(
        copied["report"]["manifests"], 6,
        "index, 2 images, 3 referrers: {copied}"
    );

    let on_dist = cli.json(&["discover", &dist_ref]);
    assert_eq!(
        on_dist["referrersSource"], "tag",
        "distribution 2.8.2 has no API"
    );
    let on_amd = cli.json(&[
        "discover",
        &format!("{}/apps/web@{amd_digest}", distribution.host),
    ]);
    assert_eq!(
        referrer_digests(&on_amd),
        BTreeSet::from([
            sbom_digest.to_owned(),
            sbom_sig["digest"].as_str().expect("d").into()
        ]),
        "nested referrers through the tag schema: {on_amd}"
    );
    for digest in [
        &index_digest,
        &amd_digest,
        &peers_layout::digest(&arm.manifest),
    ] {
        assert_eq!(
            raw_manifest(&distribution.host, "apps/web", digest),
            raw_manifest(&ours.host(), "apps/web", digest),
            "{digest} arrived byte for byte"
        );
    }

    let back = format!("{}/apps/back:v1", ours.host());
    let copied = cli.json(&["copy", "-r", &dist_ref, &back]);
    assert_eq!(copied["report"]["manifests"], 6, "{copied}");
    let on_back = cli.json(&[
        "discover",
        &format!("{}/apps/back@{amd_digest}", ours.host()),
    ]);
    assert_eq!(on_back["referrersSource"], "api");
    assert_eq!(referrer_digests(&on_back), referrer_digests(&on_amd));

    // Same registry, other repository: blobs are mounted, not sent again.
    let mounted = cli.json(&["copy", &back, &format!("{}/apps/third:v1", ours.host())]);
    assert_eq!(mounted["report"]["blobs_transferred"], 0, "{mounted}");
    assert!(
        mounted["report"]["blobs_mounted"].as_u64() > Some(0),
        "{mounted}"
    );
    // Again: everything is there already.
    let again = cli.json(&["copy", "-r", &ours_ref, &dist_ref]);
    assert_eq!(again["report"]["blobs_transferred"], 0, "{again}");
}

#[test]
fn parallel_referrer_writes_on_the_tag_fallback_lose_none() {
    const WRITERS: usize = 16;
    let distribution = Distribution::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let repo = format!("{}/race/app", distribution.host);
    let subject_file = write(work.path(), "subject.txt", "subject");
    let subject = cli.json(&["push", &format!("{repo}:v1"), &subject_file]);
    let subject_digest = subject["digest"].as_str().expect("digest").to_owned();

    // Separate processes, so nothing inside one client serialises them.
    let mut children = Vec::new();
    for i in 0..WRITERS {
        let file = write(
            work.path(),
            &format!("sig{i}.txt"),
            &format!("signature {i}"),
        );
        let child = cli
            .command(&["push", &repo, &file, "--subject", "v1", "-o", "json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start writer");
        children.push(child);
    }
    let mut pushed = BTreeSet::new();
    for child in children {
        let out = child.wait_with_output().expect("writer");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).expect("push JSON");
        pushed.insert(v["digest"].as_str().expect("digest").to_owned());
    }
    assert_eq!(pushed.len(), WRITERS);

    let tag = subject_digest.replace(':', "-");
    let index = raw_manifest(&distribution.host, "race/app", &tag).expect("fallback index");
    let index: Value = serde_json::from_slice(&index).expect("index JSON");
    let listed: BTreeSet<String> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .map(|d| d["digest"].as_str().expect("digest").to_owned())
        .collect();
    assert_eq!(
        listed, pushed,
        "every concurrent referrer is in the tag schema index"
    );
    let discovered = cli.json(&["discover", &format!("{repo}:v1"), "--depth", "1"]);
    assert_eq!(referrer_digests(&discovered), pushed);

    // Deleting a referrer takes it out of the index too.
    let gone = pushed.pop_first().expect("a referrer");
    cli.ok(&["manifest", "delete", &format!("{repo}@{gone}")]);
    let discovered = cli.json(&["discover", &format!("{repo}:v1"), "--depth", "1"]);
    assert_eq!(referrer_digests(&discovered), pushed);
}

#[test]
fn basic_auth_with_htpasswd_login_push_logout() {
    let registry = Distribution::start_with_htpasswd("alice", "s3cret-pass");
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = write(work.path(), "a.txt", "authenticated");
    let reference = format!("{}/private/app:v1", registry.host);

    let err = cli.fails(&["push", &reference, &file]);
    assert!(
        err.contains("401") && err.contains("hallmark login"),
        "{err}"
    );
    assert!(
        err.contains("no credentials"),
        "names what was tried: {err}"
    );

    let err = cli.fails(&["login", &registry.host, "-u", "alice", "-p", "wrong"]);
    assert!(err.contains("user 'alice' from the command line"), "{err}");
    assert!(
        !cli.docker_config().exists(),
        "a failed login saves nothing"
    );

    let mut login = cli.command(&["login", &registry.host, "-u", "alice", "--password-stdin"]);
    login
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = login.spawn().expect("login");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"s3cret-pass\n")
        .expect("password");
    let out = child.wait_with_output().expect("login");
    assert!(out.status.success(), "{out:?}");
    let config: Value =
        serde_json::from_slice(&std::fs::read(cli.docker_config()).expect("config.json"))
            .expect("config JSON");
    assert!(
        config["auths"][&registry.host]["auth"].is_string(),
        "{config}"
    );

    // Stored credentials are used without flags.
    let pushed = cli.json(&["push", &reference, &file]);
    let pulled = work.path().join("pulled");
    cli.ok(&["pull", &reference, "-o", pulled.to_str().expect("utf-8")]);
    assert_eq!(
        std::fs::read_to_string(pulled.join("a.txt")).expect("file"),
        "authenticated"
    );
    let err = cli.fails(&["pull", &reference, "-o", "x", "-u", "alice", "-p", "nope"]);
    assert!(err.contains("401"), "{err}");

    // Copy into the protected registry with credentials for that side only.
    let ours = Server::start();
    let open_ref = format!("{}/open/app:v1", ours.host());
    cli.ok(&["push", &open_ref, &file]);
    let to = format!("{}/copied/app:v1", registry.host);
    let err = cli.fails(&[
        "copy",
        &open_ref,
        &to,
        "--to-username",
        "alice",
        "--to-password",
        "x",
    ]);
    assert!(err.contains("user 'alice' from the command line"), "{err}");
    cli.ok(&[
        "copy",
        &open_ref,
        &to,
        "--to-username",
        "alice",
        "--to-password",
        "s3cret-pass",
    ]);

    assert!(cli.ok(&["logout", &registry.host]).contains("Removed"));
    let err = cli.fails(&["manifest", "fetch", &reference]);
    assert!(err.contains("hallmark login"), "{err}");
    assert!(pushed["digest"].is_string());
}
