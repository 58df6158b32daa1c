//! The bridge from Notary v1 through the binary, against Debian's real `notary-server` and
//! `notary` client: a repository published with a `targets/releases` delegation and a key
//! rotation is listed, inspected from the client's trust directory, and migrated into
//! `hallmark serve` (Notary Project signatures) and Debian's `docker-registry` (cosign
//! signatures), then verified with `hallmark verify` and `hallmark cosign verify`.

mod common;
#[path = "client/support.rs"]
mod support;
#[path = "v1/support.rs"]
mod v1_support;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::common::Server;
use crate::support::{Cli, Distribution, raw_manifest};
use crate::v1_support::{NotaryClient, NotaryServer, notary_installed};

const GUN: &str = "example.com/app";
const EVIDENCE: &str = "application/vnd.hallmark.notary-v1.evidence.v1+json";

/// `hallmark ARGS` with `COSIGN_PASSWORD` set, in `dir`; returns (exit code, stdout, stderr).
fn run(cli: &Cli, dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = cli
        .command(args)
        .current_dir(dir)
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .expect("run hallmark");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn outcomes(report: &Value) -> BTreeMap<String, String> {
    report["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .map(|t| {
            (
                t["tag"].as_str().unwrap_or_default().to_owned(),
                t["outcome"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// Publishes `GUN` with tags v1, v3, moved and gone signed by `targets`, v2 by
/// `targets/releases`, and the snapshot key rotated to the server.
fn publish(n: &NotaryClient, manifests: &BTreeMap<&str, Vec<u8>>) {
    for (name, bytes) in manifests {
        std::fs::write(n.work().join(format!("{name}.json")), bytes).expect("manifest file");
    }
    std::fs::write(n.work().join("gone.json"), b"{\"not\":\"in the registry\"}").expect("gone");
    n.ok(&["init", GUN]);
    for tag in ["v1", "v3", "moved", "gone"] {
        n.ok(&["add", GUN, tag, &format!("{tag}.json")]);
    }
    n.ok(&["publish", GUN]);
    n.add_releases_delegation(GUN);
    n.ok(&["publish", GUN]);
    n.ok(&["add", GUN, "v2", "v2.json", "--roles", "targets/releases"]);
    n.ok(&["publish", GUN]);
    n.ok(&["key", "rotate", GUN, "snapshot", "-r"]);
    n.ok(&["publish", GUN]);
    let listed = n.ok(&["list", GUN]);
    assert!(listed.contains("v2") && listed.contains("gone"), "{listed}");
}

#[test]
fn real_notary_repository_migrates_to_both_registries() {
    if !notary_installed() {
        return;
    }
    let notary = NotaryServer::start();
    let server = Server::start();
    let distribution = Distribution::start();
    let (h, d) = (server.host(), distribution.host.clone());
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let state = work.path().join("state");
    let state = state.to_str().expect("utf-8");

    // The images, identical in both registries; `moved` will be retagged after signing.
    let mut manifests = BTreeMap::new();
    let mut digests = BTreeMap::new();
    for tag in ["v1", "v2", "v3", "moved"] {
        let file = work.path().join(format!("{tag}.txt"));
        std::fs::write(&file, format!("image {tag}\n")).expect("file");
        let pushed = cli.json(&[
            "push",
            &format!("{h}/app:{tag}"),
            file.to_str().expect("utf-8"),
        ]);
        digests.insert(tag, pushed["digest"].as_str().expect("digest").to_owned());
        cli.ok(&["copy", &format!("{h}/app:{tag}"), &format!("{d}/app:{tag}")]);
        manifests.insert(tag, raw_manifest(&h, "app", tag).expect("manifest"));
    }
    let n = NotaryClient::new(&notary.url());
    publish(&n, &manifests);
    for host in [&h, &d] {
        cli.ok(&["tag", &format!("{host}/app:v1"), "moved"]);
    }

    // Listed from the server (trust on first use) and from the client's own cache.
    let listed = cli.json(&["v1", "list", &notary.url(), GUN, "--state-dir", state]);
    let roles: Vec<&str> = listed["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter(|t| t["tag"] == "v2")
        .map(|t| t["role"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(roles, ["targets/releases"], "{listed}");
    let trust_dir = n.trust_dir();
    let cached = cli.json(&["v1", "inspect", trust_dir.to_str().expect("utf-8"), GUN]);
    assert_eq!(cached["tags"].as_array().map(Vec::len), Some(5), "{cached}");

    // Notary Project signatures into hallmark serve.
    cli.ok(&["cert", "generate-test", "migrated", "--default"]);
    let to = format!("{h}/app");
    let migrate = [
        "v1",
        "migrate",
        "--from",
        &notary.url(),
        "--gun",
        GUN,
        "--to",
        &to,
        "--key",
        "migrated",
        "--state-dir",
        state,
        "-o",
        "json",
    ];
    let (code, stdout, stderr) = run(&cli, work.path(), &migrate);
    assert_eq!(code, 1, "moved and gone are not migrated: {stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("report");
    let expected = [
        ("gone", "missing"),
        ("moved", "digest-mismatch"),
        ("v1", "signed"),
        ("v2", "signed"),
        ("v3", "signed"),
    ];
    assert_eq!(
        outcomes(&report),
        expected.map(|(a, b)| (a.to_owned(), b.to_owned())).into()
    );
    for tag in ["v1", "v2", "v3"] {
        cli.ok(&["verify", &format!("{h}/app@{}", digests[tag])]);
    }
    let evidence = referrers(&h, "app", &digests["v2"], EVIDENCE);
    assert_eq!(evidence.len(), 1);
    let annotations = &evidence[0]["annotations"];
    assert_eq!(annotations["dev.hallmark.notary-v1.gun"], GUN);
    assert_eq!(annotations["dev.hallmark.notary-v1.tag"], "v2");
    assert_eq!(
        annotations["dev.hallmark.notary-v1.role"],
        "targets/releases"
    );

    // A rerun migrates nothing twice.
    let (_, stdout, _) = run(&cli, work.path(), &migrate);
    let again = outcomes(&serde_json::from_str(&stdout).expect("report"));
    assert_eq!(again["v1"], "already-migrated");
    assert_eq!(again["v2"], "already-migrated");
    assert_eq!(referrers(&h, "app", &digests["v2"], EVIDENCE).len(), 1);

    // cosign signatures into distribution (no referrers API), the v* tags only. Evidence that
    // someone pushed for v3 without a signature does not make v3 count as migrated.
    run(&cli, work.path(), &["cosign", "generate-key-pair"]);
    let note = work.path().join("note.txt");
    std::fs::write(&note, "not evidence\n").expect("note");
    cli.ok(&[
        "push",
        &format!("{d}/app:planted"),
        note.to_str().expect("utf-8"),
        "--artifact-type",
        EVIDENCE,
        "--subject",
        &format!("{d}/app@{}", digests["v3"]),
        "-a",
        &format!("dev.hallmark.notary-v1.gun={GUN}"),
        "-a",
        "dev.hallmark.notary-v1.tag=v3",
        "-a",
        "dev.hallmark.notary-v1.migrated-to=cosign",
    ]);
    let to = format!("{d}/app");
    let cosign = [
        "v1",
        "migrate",
        "--from",
        &notary.url(),
        "--gun",
        GUN,
        "--to",
        &to,
        "--format",
        "cosign",
        "--key",
        "cosign.key",
        "--tags",
        "v*",
        "--state-dir",
        state,
        "-o",
        "json",
    ];
    let (dry_code, dry, _) = run(&cli, work.path(), &[&cosign[..], &["--dry-run"]].concat());
    assert_eq!(dry_code, 0);
    assert!(
        outcomes(&serde_json::from_str(&dry).expect("report"))
            .values()
            .all(|o| o == "would-sign")
    );
    let (code, stdout, stderr) = run(&cli, work.path(), &cosign);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    assert!(
        outcomes(&serde_json::from_str(&stdout).expect("report"))
            .values()
            .all(|o| o == "signed")
    );
    for tag in ["v1", "v2", "v3"] {
        let (code, _, stderr) = run(
            &cli,
            work.path(),
            &[
                "cosign",
                "verify",
                "--key",
                "cosign.pub",
                &format!("{d}/app@{}", digests[tag]),
            ],
        );
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(referrers(&d, "app", &digests["v1"], EVIDENCE).len(), 1);
    // v3 now has its real evidence beside the planted one.
    assert_eq!(referrers(&d, "app", &digests["v3"], EVIDENCE).len(), 2);
}

/// The referrers of `digest` of one artifact type, through the API or the tag schema.
fn referrers(host: &str, repo: &str, digest: &str, artifact_type: &str) -> Vec<Value> {
    let url = format!("http://{host}/v2/{repo}/referrers/{digest}");
    let response = reqwest::blocking::get(&url).expect(&url);
    let index: Value = if response.status() == 200 {
        serde_json::from_slice(&response.bytes().expect("body")).expect("referrers index")
    } else {
        let tag = digest.replace(':', "-");
        raw_manifest(host, repo, &tag)
            .map(|b| serde_json::from_slice(&b).expect("tag schema index"))
            .unwrap_or_default()
    };
    index["manifests"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|d| d["artifactType"] == artifact_type)
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn trust_directories_are_inspected_and_expiry_is_enforced() {
    let Some(vectors) = crate::common::vectors("notary-v1") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let metadata = dir.path().join("tuf/example.com/demo/metadata");
    std::fs::create_dir_all(&metadata).expect("dir");
    for entry in std::fs::read_dir(vectors.join("client-cache")).expect("cache") {
        let entry = entry.expect("entry");
        if entry.path().is_file() {
            std::fs::copy(entry.path(), metadata.join(entry.file_name())).expect("copy");
        }
    }
    std::fs::create_dir_all(metadata.join("targets")).expect("dir");
    for role in ["releases", "alice"] {
        std::fs::copy(
            vectors.join(format!("client-cache/targets/{role}.json")),
            metadata.join(format!("targets/{role}.json")),
        )
        .expect("copy");
    }
    let cli = Cli::new();
    let trust_dir = dir.path().to_str().expect("utf-8");
    let listed = cli.json(&[
        "v1",
        "inspect",
        trust_dir,
        "example.com/demo",
        "--at",
        "2026-12-04T00:00:00Z",
    ]);
    let v1: Vec<&Value> = listed["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter(|t| t["tag"] == "v1")
        .collect();
    assert_eq!(
        v1[0]["digest"],
        "sha256:a4bba2aec97f95071fa9b9f612e966a89fc070ccaed26f30743c329abfd98fdc"
    );
    assert_eq!(v1[0]["size"], 16);
    // After the timestamp expired: the freeze rule, named.
    let err = cli.fails(&[
        "v1",
        "inspect",
        trust_dir,
        "example.com/demo",
        "--at",
        "2027-01-01T00:00:00Z",
    ]);
    assert!(
        err.contains("timestamp expired") && err.contains("freeze"),
        "{err}"
    );
    // A repository the directory does not hold.
    let err = cli.fails(&["v1", "inspect", trust_dir, "example.com/other"]);
    assert!(
        err.contains("holds no metadata for example.com/other"),
        "{err}"
    );
}

/// Consumers can switch before publishers: `hallmark verify` accepts an image that Notary v1
/// data signs, under a trust policy statement whose `notaryV1` store holds the v1 root
/// certificate, and refuses one that the data does not sign, or under another root. The v1
/// data is published with the real `notary` client to Debian's `notary-server`, and to
/// `hallmark serve` itself (which answers the v1 API beside the registry).
#[test]
fn v1_trust_data_verifies_artifacts_under_a_trust_policy() {
    if !notary_installed() {
        return;
    }
    let notary = NotaryServer::start();
    let server = Server::start();
    v1_trust_scenario(&server, Some(&notary.url()));
    let server = Server::start();
    v1_trust_scenario(&server, None);
}

/// Publishes to `notary_url` (or to `server`'s own v1 API) and verifies through the policy.
fn v1_trust_scenario(server: &Server, notary_url: Option<&str>) {
    let h = server.host();
    let v1_url = notary_url.map_or_else(|| format!("http://{h}"), str::to_owned);
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let mut digests = BTreeMap::new();
    let mut manifests = BTreeMap::new();
    for tag in ["signed", "unsigned"] {
        let file = work.path().join(format!("{tag}.txt"));
        std::fs::write(&file, format!("image {tag}\n")).expect("file");
        let pushed = cli.json(&[
            "push",
            &format!("{h}/app:{tag}"),
            file.to_str().expect("utf-8"),
        ]);
        digests.insert(tag, pushed["digest"].as_str().expect("digest").to_owned());
        manifests.insert(tag, raw_manifest(&h, "app", tag).expect("manifest"));
    }
    // The GUN is the image's repository name, as Docker names it.
    let gun = format!("{h}/app");
    let n = NotaryClient::new(&v1_url);
    std::fs::write(n.work().join("signed.json"), &manifests["signed"]).expect("manifest");
    n.ok(&["init", &gun]);
    n.ok(&["add", &gun, "signed", "signed.json"]);
    n.ok(&["publish", &gun]);

    // The root certificate, as `v1 list` exports it, in a notaryV1 trust store.
    let state = work.path().join("state");
    let state = state.to_str().expect("utf-8");
    let listed = cli.json(&["v1", "list", &v1_url, &gun, "--state-dir", state]);
    let pem = listed["rootKeys"][0]["certificate"]
        .as_str()
        .expect("root certificate");
    let root = work.path().join("v1root.crt");
    std::fs::write(&root, pem).expect("root file");
    let root = root.to_str().expect("utf-8");
    cli.ok(&[
        "cert", "add", "--type", "notaryV1", "--store", "v1root", root,
    ]);
    cli.ok(&[
        "policy",
        "init",
        "--name",
        "v1",
        "--scope",
        &gun,
        "--trust-store",
        "notaryV1:v1root",
        "--trusted-identity",
        "*",
    ]);

    let verify = |reference: &str| {
        let mut args = vec!["verify", reference, "-o", "json"];
        if let Some(url) = notary_url {
            args.extend(["--notary-v1-server", url]);
        }
        cli.output(&args)
    };
    let ok = verify(&format!("{gun}@{}", digests["signed"]));
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let report: Value = serde_json::from_slice(&ok.stdout).expect("json");
    assert_eq!(report["notaryV1"]["tag"], "signed");
    assert_eq!(report["notaryV1"]["role"], "targets");
    assert!(verify(&format!("{gun}:signed")).status.success());

    let refused = verify(&format!("{gun}@{}", digests["unsigned"]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("no signed tag names"));
    let refused = verify(&format!("{gun}:unsigned"));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("tag \"unsigned\" is not signed"));

    // Another root: the data does not verify under it.
    let other = NotaryClient::new(&v1_url);
    other.ok(&["init", "example.com/other"]);
    other.ok(&["publish", "example.com/other"]);
    let other_listed = cli.json(&[
        "v1",
        "list",
        &v1_url,
        "example.com/other",
        "--state-dir",
        state,
    ]);
    let other_pem = other_listed["rootKeys"][0]["certificate"]
        .as_str()
        .expect("certificate");
    std::fs::write(root, other_pem).expect("root file");
    cli.ok(&[
        "cert", "delete", "--type", "notaryV1", "--store", "v1root", "--all", "-y",
    ]);
    cli.ok(&[
        "cert", "add", "--type", "notaryV1", "--store", "v1root", root,
    ]);
    let refused = verify(&format!("{gun}@{}", digests["signed"]));
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("did not verify under any trusted root"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
}
