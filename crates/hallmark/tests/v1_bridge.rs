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
const SIGNATURE: &str = "application/vnd.cncf.notary.signature";

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

/// The JSON report a run printed, or a failure that shows what it said.
fn parse_report(stdout: &str, stderr: &str) -> Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("no report ({e}): {stderr}"))
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

/// Publishes `GUN` with tags v1, latest (v1's image), v3, moved and gone signed by `targets`,
/// v2 by `targets/releases`, beta by `targets/alice` only (which Docker does not resolve), and
/// the snapshot key rotated to the server.
fn publish(n: &NotaryClient, manifests: &BTreeMap<&str, Vec<u8>>) {
    for (name, bytes) in manifests {
        std::fs::write(n.work().join(format!("{name}.json")), bytes).expect("manifest file");
    }
    std::fs::write(n.work().join("gone.json"), b"{\"not\":\"in the registry\"}").expect("gone");
    n.ok(&["init", GUN]);
    for tag in ["v1", "v3", "moved", "gone"] {
        n.ok(&["add", GUN, tag, &format!("{tag}.json")]);
    }
    n.ok(&["add", GUN, "latest", "v1.json"]);
    n.ok(&["publish", GUN]);
    n.add_releases_delegation(GUN);
    n.add_delegation(GUN, "targets/alice");
    n.ok(&["publish", GUN]);
    n.ok(&["add", GUN, "v2", "v2.json", "--roles", "targets/releases"]);
    n.ok(&["add", GUN, "beta", "v3.json", "--roles", "targets/alice"]);
    n.ok(&["publish", GUN]);
    n.ok(&["key", "rotate", GUN, "snapshot", "-r"]);
    n.ok(&["publish", GUN]);
    let listed = n.ok(&["list", GUN]);
    assert!(listed.contains("v2") && listed.contains("gone"), "{listed}");
}

/// The expected tag → outcome map.
fn expect(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(tag, outcome)| ((*tag).to_owned(), (*outcome).to_owned()))
        .collect()
}

/// The trust policy of `cli`'s configuration directory.
fn policy_path(cli: &Cli) -> std::path::PathBuf {
    cli.home().join(".config/hallmark/trustpolicy.oci.json")
}

fn read_policy(cli: &Cli) -> Value {
    serde_json::from_slice(&std::fs::read(policy_path(cli)).expect("policy")).expect("policy")
}

/// The statement of `policy` named `name`, or whose scopes are exactly `scopes`.
fn statement<'a>(policy: &'a Value, pick: &dyn Fn(&Value) -> bool) -> &'a Value {
    policy["trustPolicies"]
        .as_array()
        .expect("trustPolicies")
        .iter()
        .find(|p| pick(p))
        .unwrap_or_else(|| panic!("no such statement in {policy:#}"))
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

    // The images, identical in both registries; `moved` will be retagged after signing, and
    // `latest` names v1's image.
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
        cli.ok(&["tag", &format!("{host}/app:v1"), "moved", "latest"]);
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
    let root_key = listed["rootKeys"][0]["keyId"]
        .as_str()
        .expect("root key ID")
        .to_owned();
    let trust_dir = n.trust_dir();
    let cached = cli.json(&["v1", "inspect", trust_dir.to_str().expect("utf-8"), GUN]);
    assert_eq!(cached["tags"].as_array().map(Vec::len), Some(7), "{cached}");

    // Notary Project signatures into hallmark serve.
    cli.ok(&["cert", "generate-test", "mine"]);
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

    // A trust policy that cannot be read (here a symlink) stops the migration before
    // anything is signed, rather than being replaced.
    let policy = policy_path(&cli);
    let elsewhere = work.path().join("policy-elsewhere.json");
    std::fs::write(&elsewhere, "{}").expect("policy");
    std::os::unix::fs::symlink(&elsewhere, &policy).expect("symlink");
    let (code, stdout, stderr) = run(&cli, work.path(), &migrate);
    assert_eq!(code, 1, "{stdout}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    assert!(referrers(&h, "app", &digests["v1"], SIGNATURE).is_empty());
    assert_eq!(std::fs::read(&elsewhere).expect("policy"), b"{}");
    std::fs::remove_file(&policy).expect("unlink");

    // The user's policy: a statement for app and other, one for elsewhere. Both stay;
    // app moves to a statement of its own that trusts what the shared one did and the
    // new signer.
    let shared = serde_json::json!({
        "name": "shared",
        "registryScopes": [to, format!("{h}/other")],
        "signatureVerification": { "level": "strict" },
        "trustStores": ["ca:mine"],
        "trustedIdentities": ["x509.subject: C=US, ST=WA, O=mine, CN=mine"],
    });
    let unrelated = serde_json::json!({
        "name": "unrelated",
        "registryScopes": [format!("{h}/elsewhere")],
        "signatureVerification": { "level": "audit" },
        "trustStores": ["ca:mine"],
        "trustedIdentities": ["*"],
    });
    let user_policy = serde_json::json!({
        "version": "1.0",
        "trustPolicies": [shared, unrelated],
    });
    std::fs::write(&policy, user_policy.to_string()).expect("policy");

    // A dry run with no kept state trusts the root on first use, says so, and writes
    // nothing: no state, no signature.
    let fresh = work.path().join("fresh-state");
    let mut dry = migrate.to_vec();
    dry = dry
        .into_iter()
        .map(|a| {
            if a == state {
                fresh.to_str().expect("utf-8")
            } else {
                a
            }
        })
        .collect();
    dry.push("--dry-run");
    let (code, stdout, stderr) = run(&cli, work.path(), &dry);
    assert_eq!(
        code, 1,
        "moved, gone and beta would not be migrated: {stderr}"
    );
    let report = parse_report(&stdout, &stderr);
    assert_eq!(report["rootTrust"], "first-use");
    assert!(
        stderr.contains("trusted on first use")
            && stderr.contains(&root_key)
            && stderr.contains("--root-key"),
        "{stderr}"
    );
    assert!(!fresh.exists(), "a dry run saved state");
    assert!(referrers(&h, "app", &digests["v1"], SIGNATURE).is_empty());
    assert_eq!(read_policy(&cli), user_policy);

    let (code, stdout, stderr) = run(&cli, work.path(), &migrate);
    assert_eq!(code, 1, "moved, gone and beta are not migrated: {stderr}");
    assert!(
        !stderr.contains("first use"),
        "the root was kept by v1 list: {stderr}"
    );
    let report = parse_report(&stdout, &stderr);
    let migrated = [
        ("beta", "not-resolved-by-docker"),
        ("gone", "missing"),
        ("latest", "signed"),
        ("moved", "digest-mismatch"),
        ("v1", "signed"),
        ("v2", "signed"),
        ("v3", "signed"),
    ];
    assert_eq!(outcomes(&report), expect(&migrated), "{report:#}");
    for tag in ["v1", "v2", "v3"] {
        cli.ok(&["verify", &format!("{h}/app@{}", digests[tag])]);
    }
    // v1 and latest share one image: one signature, and the evidence of each tag.
    let signatures = |digest: &str| referrers(&h, "app", digest, SIGNATURE).len();
    for tag in ["v1", "v2", "v3"] {
        assert_eq!(signatures(&digests[tag]), 1, "{tag}");
    }
    assert_eq!(referrers(&h, "app", &digests["v1"], EVIDENCE).len(), 2);
    let evidence = referrers(&h, "app", &digests["v2"], EVIDENCE);
    assert_eq!(evidence.len(), 1);
    let annotations = &evidence[0]["annotations"];
    assert_eq!(annotations["dev.hallmark.notary-v1.gun"], GUN);
    assert_eq!(annotations["dev.hallmark.notary-v1.tag"], "v2");
    assert_eq!(
        annotations["dev.hallmark.notary-v1.role"],
        "targets/releases"
    );
    assert_eq!(
        annotations["dev.hallmark.notary-v1.root-trust"],
        "saved-state"
    );

    // The user's statements survive; app has its own, with the shared trust and ours.
    let written = read_policy(&cli);
    let by_name = |name: &'static str| move |p: &Value| p["name"] == name;
    assert_eq!(
        statement(&written, &by_name("shared"))["registryScopes"],
        serde_json::json!([format!("{h}/other")])
    );
    assert_eq!(statement(&written, &by_name("unrelated")), &unrelated);
    let ours = statement(&written, &|p| {
        p["registryScopes"] == serde_json::json!([to])
    });
    assert_eq!(
        ours["trustStores"],
        serde_json::json!(["ca:mine", "ca:migrated"])
    );
    let identities = ours["trustedIdentities"].as_array().expect("identities");
    assert_eq!(identities.len(), 2, "{ours:#}");
    assert_eq!(identities[0], "x509.subject: C=US, ST=WA, O=mine, CN=mine");
    assert!(
        identities[1]
            .as_str()
            .is_some_and(|i| i.contains("migrated"))
    );

    // A later edit of that statement, and an interrupted run (v3's evidence never written):
    // the rerun completes v3, with still one signature, migrates nothing twice and leaves
    // the policy as the user left it.
    let mut edited = written.clone();
    for p in edited["trustPolicies"].as_array_mut().expect("statements") {
        if p["registryScopes"] == serde_json::json!([to]) {
            p["trustedIdentities"]
                .as_array_mut()
                .expect("identities")
                .push("x509.subject: C=US, ST=WA, O=later, CN=later".into());
        }
    }
    std::fs::write(&policy, edited.to_string()).expect("policy");
    let v3_evidence = referrers(&h, "app", &digests["v3"], EVIDENCE);
    let v3_evidence = v3_evidence[0]["digest"].as_str().expect("digest");
    cli.ok(&["manifest", "delete", &format!("{h}/app@{v3_evidence}")]);
    assert!(referrers(&h, "app", &digests["v3"], EVIDENCE).is_empty());
    let (code, stdout, stderr) = run(&cli, work.path(), &migrate);
    assert_eq!(code, 1, "{stderr}");
    let again = outcomes(&parse_report(&stdout, &stderr));
    let mut resumed = migrated;
    for (tag, outcome) in &mut resumed {
        if ["latest", "v1", "v2"].contains(&*tag) {
            *outcome = "already-migrated";
        }
    }
    assert_eq!(again, expect(&resumed));
    for tag in ["v1", "v2", "v3"] {
        assert_eq!(signatures(&digests[tag]), 1, "{tag}");
    }
    assert_eq!(referrers(&h, "app", &digests["v2"], EVIDENCE).len(), 1);
    assert_eq!(referrers(&h, "app", &digests["v3"], EVIDENCE).len(), 1);
    assert_eq!(read_policy(&cli), edited);

    // cosign signatures into distribution (no referrers API), the v* tags only, under the
    // pinned root. Evidence that someone pushed for v3 without a signature does not make v3
    // count as migrated.
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
    let url = notary.url();
    let cosign = |pattern: &str, more: &[&str]| {
        let mut args = vec![
            "v1",
            "migrate",
            "--from",
            &url,
            "--gun",
            GUN,
            "--to",
            &to,
            "--format",
            "cosign",
            "--key",
            "cosign.key",
            "--tags",
            pattern,
            "--root-key",
            &root_key,
            "--state-dir",
            state,
            "-o",
            "json",
        ];
        args.extend(more);
        run(&cli, work.path(), &args)
    };
    let (code, stdout, stderr) = cosign("v*", &["--dry-run"]);
    assert_eq!(code, 0, "{stderr}");
    let would = [
        ("v1", "would-sign"),
        ("v2", "would-sign"),
        ("v3", "would-sign"),
    ];
    let dry = outcomes(&parse_report(&stdout, &stderr));
    assert_eq!(dry, expect(&would));
    let sig_tags = || {
        let url = format!("http://{d}/v2/app/tags/list");
        let body = reqwest::blocking::get(&url)
            .and_then(|r| r.bytes())
            .expect(&url);
        let tags: Value = serde_json::from_slice(&body).expect("tag list");
        tags["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .filter(|t| t.as_str().is_some_and(|t| t.ends_with(".sig")))
            .count()
    };
    assert_eq!(sig_tags(), 0, "a dry run wrote a signature");

    // A pattern that matches no signed tag is an error, naming the tags there are.
    let (code, _, stderr) = cosign("nomatch*", &["--dry-run"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no signed tag matches \"nomatch*\"")
            && stderr.contains("beta, gone, latest, moved, v1, v2, v3"),
        "{stderr}"
    );

    let (code, stdout, stderr) = cosign("v*", &[]);
    assert_eq!(code, 0, "{stderr}\n{stdout}");
    // No progress drawn, nor any warning, when stderr is not a terminal.
    assert_eq!(stderr, "");
    let signed = [("v1", "signed"), ("v2", "signed"), ("v3", "signed")];
    let report = parse_report(&stdout, &stderr);
    assert_eq!(outcomes(&report), expect(&signed));
    assert_eq!(report["rootTrust"], "pinned");
    assert_eq!(sig_tags(), 3);
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
    let evidence = referrers(&d, "app", &digests["v1"], EVIDENCE);
    assert_eq!(evidence.len(), 1);
    assert_eq!(
        evidence[0]["annotations"]["dev.hallmark.notary-v1.root-trust"],
        "pinned"
    );
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

    // user_metadata_cannot_pass_by_v1: v1 data carries none, so -m fails closed.
    let signed = format!("{gun}@{}", digests["signed"]);
    let mut args = vec!["verify", signed.as_str(), "-m", "env=prod"];
    if let Some(url) = notary_url {
        args.extend(["--notary-v1-server", url]);
    }
    let refused = cli.output(&args);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("carries no user metadata"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    // trusted_identity_cannot_pass_by_v1: identities name signing certificates v1 lacks.
    let init = |identity: &str| {
        cli.ok(&[
            "policy",
            "init",
            "--force",
            "--name",
            "v1",
            "--scope",
            &gun,
            "--trust-store",
            "notaryV1:v1root",
            "--trusted-identity",
            identity,
        ])
    };
    init("x509.subject: CN=release, O=example, L=x, ST=y, C=US");
    let refused = verify(&signed);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("names trusted identities"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    init("*");

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
