//! The Notary v1 server API of `hallmark serve`: Debian's real `notary` client (0.7.0)
//! publishes into it over plain HTTP on loopback (init, targets, a `targets/releases`
//! delegation, snapshot and timestamp key rotation to the server), reads back what it
//! published from its own and from a fresh trust directory, and `hallmark-tuf`'s client
//! workflow verifies the files fetched over HTTP. Crafted uploads (the captured ones in
//! `shared/vectors/notary-v1/client-uploads`, and tampered copies of what the client
//! published) must be refused with notary-server's error codes.

mod common;
#[path = "v1/support.rs"]
mod v1_support;

use std::collections::BTreeMap;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};

use hallmark_tuf::{RepositoryFiles, RoleName, RootPin, TrustedState, Verifier};
use serde_json::Value;

use crate::common::Server;
use crate::v1_support::{NotaryClient, notary_installed};

const GUN: &str = "example.com/demo";

fn vectors() -> Option<PathBuf> {
    crate::common::vectors("notary-v1")
}

/// An HTTP answer: status and body.
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The first error's code and detail, requiring `status`.
    fn error(&self, status: u16) -> (String, Value) {
        let body = self.json();
        assert_eq!(self.status, status, "{body}");
        let error = &body["errors"][0];
        let code = error["code"].as_str().expect("error code").to_owned();
        (code, error["detail"].clone())
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::new()
}

fn get(server: &Server, path: &str) -> Answer {
    let response = http().get(server.url(path)).send().expect("GET");
    let status = response.status().as_u16();
    let body = response.bytes().expect("body").to_vec();
    Answer { status, body }
}

/// `POST /v2/<gun>/_trust/tuf/` with one `files` part per (filename, content), as Go's
/// `mime/multipart` writes them.
fn publish(server: &Server, gun: &str, parts: &[(&str, Vec<u8>)]) -> Answer {
    let boundary = "0123456789abcdefhallmark";
    let mut body = Vec::new();
    for (filename, content) in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        body.extend_from_slice(
            format!(
                "Content-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let content_type = format!("multipart/form-data; boundary={boundary}");
    post(server, gun, &content_type, body)
}

fn post(server: &Server, gun: &str, content_type: &str, body: Vec<u8>) -> Answer {
    let response = http()
        .post(server.url(&format!("/v2/{gun}/_trust/tuf/")))
        .header("content-type", content_type)
        .body(body)
        .send()
        .expect("POST");
    let status = response.status().as_u16();
    let body = response.bytes().expect("body").to_vec();
    Answer { status, body }
}

/// A request sent as raw bytes, so that no client library normalises the path.
fn raw_get(server: &Server, path: &str) -> Answer {
    let mut stream = std::net::TcpStream::connect(server.addr).expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let text = String::from_utf8_lossy(&response);
    let status = text
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b)
        .unwrap_or_default();
    Answer {
        status,
        body: body.as_bytes().to_vec(),
    }
}

fn upload(dir: &Path, publish: &str, role: &str) -> Vec<u8> {
    let path = dir
        .join("client-uploads")
        .join(publish)
        .join(format!("{role}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn health_and_base_answer_and_unknown_trust_paths_are_metadata_not_found() {
    let server = Server::start();
    let health = get(&server, "/_notary_server/health");
    assert_eq!((health.status, health.json()), (200, serde_json::json!({})));
    assert_eq!(get(&server, "/v2/").status, 200);
    for path in [
        "/v2/example.com/demo/_trust/tuf/root.json",
        "/v2/example.com/demo/_trust/tuf/nope.json",
        "/v2/example.com/demo/_trust/other",
    ] {
        let (code, _) = get(&server, path).error(404);
        assert_eq!(code, "METADATA_NOT_FOUND", "{path}");
    }
    // The registry still answers its own paths, with its own error codes.
    let (code, _) = get(&server, "/v2/a/b/tags/list").error(404);
    assert_eq!(code, "NAME_UNKNOWN");
}

#[test]
fn crafted_uploads_are_refused() {
    let Some(dir) = vectors() else { return };
    let server = Server::start();
    let first = "publish-1_example.com_demo";

    // Not a multipart form.
    let answer = post(
        &server,
        GUN,
        "application/json",
        upload(&dir, first, "root"),
    );
    assert_eq!(answer.error(400).0, "MALFORMED_UPLOAD");

    // A part whose file name is no role.
    for bad in ["Root", "targets/../root", "targets/", "other"] {
        let answer = publish(&server, GUN, &[(bad, upload(&dir, first, "root"))]);
        assert_eq!(answer.error(400).0, "INVALID_ROLE", "{bad}");
    }

    // First publish without a root (the captured second publish: targets and snapshot).
    let second = "publish-2_example.com_demo";
    let parts = [
        ("targets", upload(&dir, second, "targets")),
        ("snapshot", upload(&dir, second, "snapshot")),
    ];
    let (code, detail) = publish(&server, GUN, &parts).error(400);
    assert_eq!(
        (code.as_str(), &detail["Name"]),
        ("INVALID_UPDATE", &"ErrBadRoot".into())
    );

    // The captured first publish, whose root names notary-server's timestamp key, not ours.
    let parts = ["root", "targets", "snapshot"].map(|r| (r, upload(&dir, first, r)));
    let (code, detail) = publish(&server, GUN, &parts).error(400);
    assert_eq!(code, "INVALID_UPDATE");
    assert!(detail.to_string().contains("timestamp key"), "{detail}");

    // The same root for another GUN: its certificate names example.com/demo.
    let (code, detail) = publish(&server, "example.com/other", &parts).error(400);
    assert_eq!(code, "INVALID_UPDATE");
    assert!(detail.to_string().contains("common name"), "{detail}");

    refuse_escaping_guns(&server);
    let empty = get(&server, "/v2/_trust/changefeed").json();
    assert_eq!(empty["count"], 0, "nothing was published: {empty}");
}

/// GUNs that would leave the store, sent raw so that nothing normalises them.
fn refuse_escaping_guns(server: &Server) {
    for path in [
        "/v2/example.com/../../etc/_trust/tuf/root.json",
        "/v2/a/%2e%2e/b/_trust/tuf/root.json",
        "/v2/../_trust/changefeed",
    ] {
        let (code, _) = raw_get(server, path).error(400);
        assert_eq!(code, "INVALID_GUN", "{path}");
    }
    assert!(!server.root.join("notary/repos/etc").exists());
}

fn list(client: &NotaryClient) -> BTreeMap<String, String> {
    let out = client.ok(&["list", GUN]);
    out.lines()
        .skip(2)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Some((fields.first()?.to_string(), fields.get(3)?.to_string()))
        })
        .collect()
}

fn expect_targets(client: &NotaryClient, want: &[(&str, &str)]) {
    let want: BTreeMap<String, String> = want
        .iter()
        .map(|(n, r)| (n.to_string(), r.to_string()))
        .collect();
    assert_eq!(list(client), want);
}

#[test]
fn real_notary_client_publishes_rotates_and_reads_back() {
    if !notary_installed() {
        return;
    }
    let server = Server::start();
    let url = server.url("");
    let client = NotaryClient::new(&url);
    std::fs::write(client.work().join("one.txt"), "payload one\n").expect("payload");
    std::fs::write(client.work().join("two.txt"), "payload two, longer\n").expect("payload");

    // init, two targets, publish: root, targets and snapshot uploaded; timestamp ours.
    client.ok(&["init", GUN]);
    client.ok(&["add", GUN, "v1", "one.txt"]);
    client.ok(&["add", GUN, "v2", "two.txt"]);
    client.ok(&["publish", GUN]);
    expect_targets(&client, &[("v1", "targets"), ("v2", "targets")]);

    // A targets/releases delegation with a new key, then a target signed into it.
    client.add_releases_delegation(GUN);
    client.ok(&["publish", GUN]);
    client.ok(&["add", GUN, "v3", "two.txt", "--roles", "targets/releases"]);
    client.ok(&["publish", GUN]);
    let all = [
        ("v1", "targets"),
        ("v2", "targets"),
        ("v3", "targets/releases"),
    ];
    expect_targets(&client, &all);

    // The snapshot key moves to the server: from now on the server signs snapshots.
    client.ok(&["key", "rotate", GUN, "snapshot", "-r"]);
    client.ok(&["add", GUN, "v4", "one.txt"]);
    client.ok(&["publish", GUN]);
    let all = [
        ("v1", "targets"),
        ("v2", "targets"),
        ("v3", "targets/releases"),
        ("v4", "targets"),
    ];
    expect_targets(&client, &all);

    // A new server timestamp key, published in a new root by the client.
    let old_key = get(&server, &format!("/v2/{GUN}/_trust/tuf/timestamp.key")).json();
    client.ok(&["key", "rotate", GUN, "timestamp", "-r"]);
    let new_key = get(&server, &format!("/v2/{GUN}/_trust/tuf/timestamp.key")).json();
    assert_ne!(old_key, new_key, "rotation hands out a new key");
    expect_targets(&client, &all);
    let lookup = client.ok(&["lookup", GUN, "v3"]);
    assert!(lookup.starts_with("v3 sha256:"), "{lookup}");

    // A second client starting from nothing trusts the root on first use and sees it all.
    let fresh = NotaryClient::new(&url);
    expect_targets(&fresh, &all);
    assert_eq!(fresh.ok(&["lookup", GUN, "v3"]), lookup);

    verify_with_hallmark_tuf(&server);
    refuse_tampered_targets(&server);
    check_changefeed(&server);
}

fn fetch(server: &Server, file: &str) -> Vec<u8> {
    let answer = get(server, &format!("/v2/{GUN}/_trust/tuf/{file}"));
    assert_eq!(
        answer.status,
        200,
        "{file}: {}",
        String::from_utf8_lossy(&answer.body)
    );
    answer.body
}

/// What the client published verifies with `hallmark-tuf`, from nothing (trust on first
/// use) and from the first root through every rotation.
fn verify_with_hallmark_tuf(server: &Server) {
    let releases: RoleName = "targets/releases".parse().expect("role");
    let current: Value = serde_json::from_slice(
        &std::fs::read(
            server
                .root
                .join("notary/repos/example.com/demo/_trust/current.json"),
        )
        .expect("current.json"),
    )
    .expect("json");
    let root_version = current["root"].as_u64().expect("root version");
    assert_eq!(
        root_version, 3,
        "init, snapshot rotation, timestamp rotation"
    );
    let files = RepositoryFiles {
        root: fetch(server, "root.json"),
        versioned_roots: (1..=root_version)
            .map(|v| (v, fetch(server, &format!("{v}.root.json"))))
            .collect(),
        timestamp: fetch(server, "timestamp.json"),
        snapshot: fetch(server, "snapshot.json"),
        targets: fetch(server, "targets.json"),
        delegations: BTreeMap::from([(releases.clone(), fetch(server, "targets/releases.json"))]),
    };
    let gun = GUN.parse().expect("gun");
    let now = time::OffsetDateTime::now_utc();
    let tofu = TrustedState::default();
    let from_first = TrustedState {
        root: files.versioned_roots.get(&1).cloned(),
        ..TrustedState::default()
    };
    for trusted in [&tofu, &from_first] {
        let verifier = Verifier {
            gun: &gun,
            pin: &RootPin::TrustOnFirstUse,
            trusted,
            now,
        };
        let verified = verifier
            .verify(&files)
            .expect("published metadata verifies");
        let tags: Vec<&str> = verified.docker_targets().keys().copied().collect();
        assert_eq!(tags, ["v1", "v2", "v3", "v4"]);
        assert_eq!(verified.docker_targets()["v3"].role, releases);
    }

    // The same files by checksum, as the client fetches them.
    let sum = sha256_hex(&files.snapshot);
    assert_eq!(
        fetch(server, &format!("snapshot.{sum}.json")),
        files.snapshot
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A replay of the current targets is refused with `VERSION`; a targets file whose version
/// was raised without re-signing, with `INVALID_UPDATE` (`ErrBadTargets`).
fn refuse_tampered_targets(server: &Server) {
    let targets = fetch(server, "targets.json");
    let (code, _) = publish(server, GUN, &[("targets", targets.clone())]).error(400);
    assert_eq!(code, "VERSION");

    let mut file: Value = serde_json::from_slice(&targets).expect("json");
    let version = file["signed"]["version"].as_u64().expect("version");
    file["signed"]["version"] = (version + 1).into();
    let tampered = serde_json::to_vec(&file).expect("json");
    let (code, detail) = publish(server, GUN, &[("targets", tampered)]).error(400);
    assert_eq!(code, "INVALID_UPDATE");
    assert_eq!(detail["Name"], "ErrBadTargets", "{detail}");
    assert_eq!(
        fetch(server, "targets.json"),
        targets,
        "nothing was applied"
    );
}

/// One `update` record per publish, the global feed the same, newest first when asked.
fn check_changefeed(server: &Server) {
    let feed = get(
        server,
        &format!("/v2/{GUN}/_trust/changefeed?change_id=0&records=100"),
    );
    let feed = feed.json();
    let records = feed["records"].as_array().expect("records");
    assert_eq!(feed["count"], records.len());
    assert!(records.len() >= 5, "{feed}");
    assert!(
        records
            .iter()
            .all(|r| r["Category"] == "update" && r["GUN"] == GUN)
    );
    let global = get(server, "/v2/_trust/changefeed").json();
    assert_eq!(global["records"], feed["records"]);
    let newest = get(server, "/v2/_trust/changefeed?change_id=-1&records=1").json();
    assert_eq!(newest["records"][0], *records.last().expect("a record"));
}

#[test]
fn delete_removes_the_trust_data() {
    if !notary_installed() {
        return;
    }
    let server = Server::start();
    let client = NotaryClient::new(&server.url(""));
    std::fs::write(client.work().join("one.txt"), "payload\n").expect("payload");
    client.ok(&["init", GUN]);
    client.ok(&["add", GUN, "v1", "one.txt"]);
    client.ok(&["publish", GUN]);
    client.ok(&["delete", GUN, "--remote"]);
    assert_eq!(
        get(&server, &format!("/v2/{GUN}/_trust/tuf/root.json")).status,
        404
    );
    let feed = get(&server, &format!("/v2/{GUN}/_trust/changefeed")).json();
    let categories: Vec<&Value> = feed["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| &r["Category"])
        .collect();
    assert_eq!(categories, ["update", "deletion"]);
}
