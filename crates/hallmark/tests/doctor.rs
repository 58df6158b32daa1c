//! `hallmark doctor` against real servers on loopback: `hallmark serve` (referrers API,
//! `OCI-Subject`, and the Notary v1 API beside the registry), Debian's `docker-registry`
//! (distribution 2.8.2: no referrers API, stores `subject` without indexing it), Debian's
//! `notary-server` (Notary v1, not a registry), and an address where nothing listens. Each
//! server is started by the test and stopped on drop. What no real server here does (refuse
//! OCI 1.1 artifacts with a 400 of its own, refuse pushes, answer a push too late, serve a
//! web UI on every path) a scripted registry, `Scripted`, does.

mod common;
#[path = "client/support.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::Server;
use crate::support::{Cli, Distribution, raw_manifest};

/// Whether the peer program at `path` is installed; under CI its absence fails the test.
fn peer(path: &str) -> bool {
    if Path::new(path).is_file() {
        return true;
    }
    // CI always has the peers: a skip there would hide a missing check.
    assert!(
        std::env::var_os("CI").is_none(),
        "{path} must be installed under CI; run scripts/install-peers.sh"
    );
    println!("skipped: {path} is absent; run scripts/install-peers.sh");
    false
}

/// A running Notary v1 server (Debian's notary-server 0.7.0): plain HTTP, in-memory
/// storage, the in-process signing service.
struct NotaryServer {
    host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl NotaryServer {
    fn start() -> NotaryServer {
        let dir = tempfile::tempdir().expect("notary dir");
        // A free port may be taken between probing and binding; try a few.
        for _ in 0..5 {
            let host = free_address();
            let config = serde_json::json!({
                "server": {"http_addr": host},
                "trust_service": {
                    "type": "local", "hostname": "", "port": "", "key_algorithm": "ecdsa"
                },
                "storage": {"backend": "memory"},
            });
            let path = dir.path().join("server.json");
            std::fs::write(&path, config.to_string()).expect("write notary config");
            let log = std::fs::File::create(dir.path().join("log")).expect("log file");
            let mut child = Command::new("/usr/bin/notary-server")
                .arg("-config")
                .arg(&path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start notary-server");
            if health_answers(&mut child, &host) {
                return NotaryServer {
                    host,
                    child,
                    _dir: dir,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("notary-server did not start");
    }
}

impl Drop for NotaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `/_notary_server/health` answers 200; false if the process exits first.
fn health_answers(child: &mut Child, host: &str) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://{host}/_notary_server/health");
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if reqwest::blocking::get(&url).is_ok_and(|r| r.status() == 200) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// `127.0.0.1:<port>` where nothing listens (at the moment it is returned).
fn free_address() -> String {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .to_string()
}

/// The finding of `check` in a JSON report.
fn finding<'a>(report: &'a Value, check: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["check"] == check)
        .unwrap_or_else(|| panic!("no {check} finding in {report:#}"))
}

/// Asserts that `check` came out as `status`; returns its detail.
fn expect<'a>(report: &'a Value, check: &str, status: &str) -> &'a str {
    let f = finding(report, check);
    assert_eq!(f["status"], status, "{check}: {f:#}");
    f["detail"].as_str().expect("detail")
}

fn has_check(report: &Value, check: &str) -> bool {
    report["findings"]
        .as_array()
        .is_some_and(|all| all.iter().any(|f| f["check"] == check))
}

/// The full digests a detail names.
fn digests(detail: &str) -> Vec<String> {
    detail
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| w.starts_with("sha256:") && w.len() == 71)
        .map(str::to_owned)
        .collect()
}

/// The digest of the empty config blob `{}`, which other clients' artifacts share.
const EMPTY_BLOB: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// `--write` deleted what it pushed to the scratch repository `repo`: the cleanup names the
/// artifact, its subject and the subject's blobs, and none is there any more; the shared
/// empty config blob is left alone, and the user's repository `user_repo` got nothing.
fn assert_cleaned_up(report: &Value, host: &str, repo: &str, user_repo: &str) {
    let detail = expect(report, "cleanup", "ok");
    assert!(detail.contains(&format!("{host}/{repo}")), "{detail}");
    let pushed = digests(detail);
    assert_eq!(
        pushed.len(),
        4,
        "artifact, subject and two blobs in {detail}"
    );
    let kinds = ["artifact", "subject", "layer blob", "config blob"];
    for (what, digest) in kinds.iter().zip(&pushed) {
        assert!(detail.contains(&format!("{what} {digest}")), "{detail}");
    }
    for (what, digest) in kinds[..2].iter().zip(&pushed) {
        let left = raw_manifest(host, repo, digest);
        assert_eq!(left, None, "{what} {digest} is still there");
    }
    for (what, digest) in kinds[2..].iter().zip(&pushed[2..]) {
        assert_eq!(
            blob_status(host, repo, digest),
            404,
            "{what} {digest} is still there"
        );
    }
    assert!(!detail.contains(EMPTY_BLOB), "{detail}");
    assert_eq!(
        blob_status(host, repo, EMPTY_BLOB),
        200,
        "the shared {{}} blob went"
    );
    let tags = format!("http://{host}/v2/{user_repo}/tags/list");
    let status = reqwest::blocking::get(&tags).expect(&tags).status();
    assert_eq!(status, 404, "{user_repo} exists: the probe wrote into it");
}

/// The status of `HEAD /v2/<repo>/blobs/<digest>`.
fn blob_status(host: &str, repo: &str, digest: &str) -> u16 {
    let url = format!("http://{host}/v2/{repo}/blobs/{digest}");
    let client = reqwest::blocking::Client::new();
    client.head(&url).send().expect(&url).status().as_u16()
}

#[test]
fn hallmark_serve_has_referrers_and_indexes_subjects() {
    let server = Server::start();
    let cli = Cli::new();
    let host = server.host();

    let report = cli.json(&["doctor", &host, "app", "--write"]);
    assert_eq!(report["reachable"], true);
    expect(&report, "transport", "ok");
    expect(&report, "distribution-api", "ok");
    expect(&report, "auth", "ok");
    let referrers = expect(&report, "referrers-api", "ok");
    assert!(
        referrers.contains("app-hallmark-doctor/referrers/")
            && referrers.contains("listing the artifact pushed with it"),
        "{referrers}"
    );
    let pushed = expect(&report, "subject-push", "ok");
    assert!(pushed.contains("answered OCI-Subject"), "{pushed}");
    assert!(
        pushed.contains(&format!("{host}/app-hallmark-doctor")),
        "{pushed}"
    );
    assert_cleaned_up(&report, &host, "app-hallmark-doctor", "app");
    // hallmark serve answers the Notary v1 API beside the registry.
    let notary = expect(&report, "notary-v1", "ok");
    assert!(notary.contains("a Notary v1 trust server"), "{notary}");

    // The text form: one line per check, hints indented below.
    let text = cli.ok(&["doctor", &host]);
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("ok    referrers-api")),
        "{text}"
    );
    assert!(
        text.contains("\n                          hint: "),
        "{text}"
    );
}

#[test]
fn distribution_lacks_referrers_and_stores_subjects_unindexed() {
    if !peer("/usr/bin/docker-registry") {
        return;
    }
    let registry = Distribution::start();
    let cli = Cli::new();

    let report = cli.json(&["doctor", &registry.host, "app", "--write"]);
    assert_eq!(report["reachable"], true);
    expect(&report, "distribution-api", "ok");
    // Asked of the image the probe pushed, a 404 is conclusive.
    let referrers = expect(&report, "referrers-api", "warn");
    assert!(
        referrers.contains("(the image the probe pushed) answered 404: no referrers API"),
        "{referrers}"
    );
    let hint = finding(&report, "referrers-api")["hint"]
        .as_str()
        .expect("hint");
    assert!(hint.contains("`sha256-<hex>` tag"), "{hint}");
    let pushed = expect(&report, "subject-push", "warn");
    assert!(pushed.contains("without OCI-Subject"), "{pushed}");
    assert_cleaned_up(&report, &registry.host, "app-hallmark-doctor", "app");
    expect(&report, "notary-v1", "info");
}

#[test]
fn an_untrusted_certificate_says_why_nothing_was_pushed() {
    if !peer("/usr/bin/docker-registry") {
        return;
    }
    let (registry, _ca) = Distribution::start_with_tls();
    let cli = Cli::new();

    let report = cli.json(&["doctor", &registry.host, "app", "--write"]);
    expect(&report, "transport", "fail");
    let pushed = expect(&report, "subject-push", "info");
    assert!(
        pushed.contains("not checked") && pushed.contains("certificate is not trusted"),
        "{pushed}"
    );
    let hint = finding(&report, "subject-push")["hint"]
        .as_str()
        .expect("hint");
    assert!(hint.contains("--ca-file"), "{hint}");
    assert!(!has_check(&report, "cleanup"), "{report:#}");
}

#[test]
fn notary_server_is_notary_v1_and_not_a_registry() {
    if !peer("/usr/bin/notary-server") {
        return;
    }
    let notary = NotaryServer::start();
    let cli = Cli::new();

    let report = cli.json(&["doctor", &notary.host, "example.com/demo"]);
    assert_eq!(report["reachable"], true);
    let registry = expect(&report, "distribution-api", "fail");
    assert!(
        registry.contains("Notary v1 trust server, not a registry"),
        "{registry}"
    );
    let v1 = expect(&report, "notary-v1", "ok");
    assert!(
        v1.contains("example.com/demo: none yet (404 METADATA_NOT_FOUND)"),
        "{v1}"
    );
    // Registry checks make no sense against it and are not run.
    assert!(!has_check(&report, "referrers-api"), "{report:#}");
}

#[test]
fn unreachable_address_exits_1_with_a_clear_message() {
    let cli = Cli::new();
    let address = free_address();
    let out = cli.output(&["doctor", &address, "-o", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{address} is not reachable")),
        "{stderr}"
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(report["reachable"], false);
    expect(&report, "transport", "fail");
}

#[test]
fn bad_command_lines_exit_2() {
    let cli = Cli::new();
    for args in [
        &["doctor", "127.0.0.1:5000", "--write"][..],
        &["doctor", "ftp://127.0.0.1:5000"],
        &["doctor", "127.0.0.1:5000/v2/"],
        &["doctor", "127.0.0.1:5000", "Not_A_Repo"],
        // The client settings are the command line's too: 1 means "nothing answered".
        &[
            "doctor",
            "127.0.0.1:5000",
            "--ca-file",
            "/nonexistent/ca.pem",
        ],
    ] {
        let out = cli.output(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
    let long = format!("{}/app", "a".repeat(240));
    let out = cli.output(&["doctor", "127.0.0.1:5000", &long, "--write"]);
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("pass a shorter REPO"), "{stderr}");
}

/// What the scripted registry does differently from a plain distribution registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    /// Takes plain images; answers a manifest with `subject` with a 400 and a body of its
    /// own (no spec error code), as registries without OCI 1.1 support do.
    NoOci11,
    /// Refuses every push with 401, as for an account without push rights.
    NoPushRights,
    /// Stores a manifest with `subject`, then answers only after the probe gave up.
    SlowArtifact,
}

/// A registry on loopback that answers as its `Script` says, and records every request
/// (`METHOD /path`). Every path outside the distribution API answers 200 with a web page,
/// as registries with a web UI do: also `/_notary_server/health` and the Notary v1 paths.
struct Scripted {
    host: String,
    state: Arc<Mutex<State>>,
}

struct State {
    script: Script,
    /// `repo digest` to size, blobs and manifests alike.
    stored: HashMap<String, usize>,
    requests: Vec<String>,
}

const WEB_PAGE: &str = "<!doctype html><html><body>Registry UI</body></html>";

impl Scripted {
    fn start(script: Script) -> Scripted {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let host = listener.local_addr().expect("address").to_string();
        let state = Arc::new(Mutex::new(State {
            script,
            stored: HashMap::new(),
            requests: Vec::new(),
        }));
        let shared = state.clone();
        // The thread ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = shared.clone();
                std::thread::spawn(move || serve(stream, &state));
            }
        });
        Scripted { host, state }
    }

    fn requests(&self) -> Vec<String> {
        self.state.lock().expect("state").requests.clone()
    }
}

/// One response: status, extra headers, body.
type Answer = (u16, Vec<(&'static str, String)>, Vec<u8>);

fn serve(mut stream: TcpStream, state: &Mutex<State>) {
    // A TLS handshake (the transport probe): answer as Go's server does and hang up.
    let mut first = [0u8; 1];
    if stream.peek(&mut first).is_err() || first[0] == 0x16 {
        let _ = stream.write_all(b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request");
        return;
    }
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut words = line.split_whitespace();
    let (method, target) = (
        words.next().unwrap_or("").to_owned(),
        words.next().unwrap_or(""),
    );
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_owned(), query.to_owned());
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    let (status, headers, content) = answer(state, &method, &path, &query, &body);
    let mut out = format!(
        "HTTP/1.1 {status} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
        content.len()
    );
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if method != "HEAD" {
        bytes.extend_from_slice(&content);
    }
    let _ = stream.write_all(&bytes);
}

fn error_body(code: &str) -> Vec<u8> {
    let body = serde_json::json!({"errors": [{"code": code, "message": code.to_lowercase()}]});
    body.to_string().into_bytes()
}

fn answer(state: &Mutex<State>, method: &str, path: &str, query: &str, body: &[u8]) -> Answer {
    let json = || ("Content-Type", "application/json".to_owned());
    let script = {
        let mut s = state.lock().expect("state");
        s.requests.push(format!("{method} {path}"));
        s.script
    };
    if path == "/v2/" {
        let version = ("Docker-Distribution-API-Version", "registry/2.0".to_owned());
        return (200, vec![version, json()], b"{}".to_vec());
    }
    let api = [
        "/blobs/uploads/",
        "/blobs/",
        "/manifests/",
        "/referrers/",
        "/tags/list",
    ];
    let found = path.strip_prefix("/v2/").and_then(|rest| {
        api.iter()
            .filter_map(|m| rest.rfind(m).map(|at| (at, *m)))
            .max_by_key(|(at, m)| (*at, m.len()))
            .map(|(at, m)| (&rest[..at], m, &rest[at + m.len()..]))
    });
    let Some((repo, kind, rest)) = found else {
        let html = ("Content-Type", "text/html".to_owned());
        return (200, vec![html], WEB_PAGE.as_bytes().to_vec());
    };
    let writes = method == "POST" || method == "PUT";
    if writes && script == Script::NoPushRights {
        let challenge = ("WWW-Authenticate", "Basic realm=\"scripted\"".to_owned());
        return (401, vec![challenge, json()], error_body("UNAUTHORIZED"));
    }
    let key = |digest: &str| format!("{repo} {digest}");
    let has = |digest: &str| {
        state
            .lock()
            .expect("state")
            .stored
            .contains_key(&key(digest))
    };
    let store = |digest: &str| {
        let mut s = state.lock().expect("state");
        s.stored.insert(key(digest), body.len());
    };
    let remove = |digest: &str| state.lock().expect("state").stored.remove(&key(digest));
    match (kind, method) {
        ("/blobs/uploads/", "POST") => {
            let digest = query
                .strip_prefix("digest=")
                .unwrap_or("")
                .replace("%3A", ":");
            store(&digest);
            let location = ("Location", format!("/v2/{repo}/blobs/{digest}"));
            (201, vec![location], Vec::new())
        }
        ("/blobs/", "HEAD") => match state.lock().expect("state").stored.get(&key(rest)) {
            Some(size) => (200, vec![("Content-Length", size.to_string())], Vec::new()),
            None => (404, Vec::new(), Vec::new()),
        },
        ("/blobs/", "DELETE") => match remove(rest) {
            Some(_) => (202, Vec::new(), Vec::new()),
            None => (404, vec![json()], error_body("BLOB_UNKNOWN")),
        },
        ("/manifests/", "PUT") => {
            let artifact = String::from_utf8_lossy(body).contains("\"subject\"");
            match script {
                Script::NoOci11 if artifact => {
                    let own = br#"{"error":"unsupported manifest: unknown field subject"}"#;
                    (400, vec![json()], own.to_vec())
                }
                Script::SlowArtifact if artifact => {
                    store(rest);
                    std::thread::sleep(Duration::from_secs(7));
                    (201, Vec::new(), Vec::new())
                }
                _ => {
                    store(rest);
                    (201, Vec::new(), Vec::new())
                }
            }
        }
        ("/manifests/", "DELETE") => match remove(rest) {
            Some(_) => (202, Vec::new(), Vec::new()),
            None => (404, vec![json()], error_body("MANIFEST_UNKNOWN")),
        },
        // No referrers API: a plain 404, or NAME_UNKNOWN for a repository with nothing in it.
        ("/referrers/", "GET") | ("/tags/list", "GET") => {
            let exists = {
                let s = state.lock().expect("state");
                s.stored.keys().any(|k| k.starts_with(&format!("{repo} ")))
            };
            match (exists, kind) {
                (true, "/referrers/") => (404, Vec::new(), b"404 page not found".to_vec()),
                (true, _) => (200, vec![json()], br#"{"tags":[]}"#.to_vec()),
                (false, _) => (404, vec![json()], error_body("NAME_UNKNOWN")),
            }
        }
        _ if has(rest) => (200, Vec::new(), Vec::new()),
        _ => (404, vec![json()], error_body("MANIFEST_UNKNOWN")),
    }
}

/// Asserts that every write went to the scratch repository and the shared `{}` blob was not
/// deleted; returns the manifests pushed, in order.
fn writes_stayed_in_scratch(server: &Scripted, scratch: &str) -> Vec<String> {
    let requests = server.requests();
    let writes = requests
        .iter()
        .filter(|r| r.starts_with("PUT ") || r.starts_with("POST ") || r.starts_with("DELETE "));
    for r in writes {
        let path = r.split_once(' ').map_or("", |(_, p)| p);
        assert!(
            path.starts_with(&format!("/v2/{scratch}/")),
            "{r} in {requests:#?}"
        );
        assert!(!r.contains(EMPTY_BLOB) || !r.starts_with("DELETE"), "{r}");
    }
    requests
        .iter()
        .filter_map(|r| r.strip_prefix("PUT "))
        .filter(|p| p.contains("/manifests/"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn registry_without_oci_1_1_gets_the_oci_hint_not_login() {
    let server = Scripted::start(Script::NoOci11);
    let cli = Cli::new();

    let report = cli.json(&["doctor", &server.host, "team/app", "--write"]);
    let pushed = expect(&report, "subject-push", "fail");
    assert!(
        pushed.contains(&format!(
            "{}/team/app-hallmark-doctor took a plain image",
            server.host
        )) && pushed.contains("lacks OCI 1.1 artifact support")
            && pushed.contains("400"),
        "{pushed}"
    );
    let hint = finding(&report, "subject-push")["hint"]
        .as_str()
        .expect("hint");
    assert!(
        hint.contains("notation sign") && hint.contains("`.sig` tags"),
        "{hint}"
    );
    assert!(!hint.contains("hallmark login"), "{hint}");
    // Asked of the image it pushed, the 404 is conclusive.
    let referrers = expect(&report, "referrers-api", "warn");
    assert!(
        referrers.contains("answered 404: no referrers API"),
        "{referrers}"
    );
    // The image it pushed is gone; the refused artifact was never stored.
    let cleanup = expect(&report, "cleanup", "ok");
    assert!(cleanup.contains("subject sha256:"), "{cleanup}");
    assert!(!cleanup.contains("artifact"), "{cleanup}");
    let manifests = writes_stayed_in_scratch(&server, "team/app-hallmark-doctor");
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    let requests = server.requests();
    assert!(
        requests.contains(&format!("DELETE {}", manifests[0])),
        "subject not deleted: {requests:#?}"
    );
    // Its web UI answers 200 on every path: that makes no Notary v1 server.
    let notary = expect(&report, "notary-v1", "info");
    assert!(
        notary.contains("not with the JSON a Notary server sends"),
        "{notary}"
    );
    expect(&report, "distribution-api", "ok");

    // Without --write, the 404 NAME_UNKNOWN of a repository that does not exist tells
    // nothing about the API.
    let report = cli.json(&["doctor", &server.host, "team/other"]);
    let referrers = expect(&report, "referrers-api", "warn");
    assert!(
        referrers.contains("404 NAME_UNKNOWN")
            && referrers.contains(&format!("repository {}/team/other", server.host))
            && referrers.contains("cannot tell"),
        "{referrers}"
    );
    let hint = finding(&report, "referrers-api")["hint"]
        .as_str()
        .expect("hint");
    assert!(
        hint.contains("existing repository") && hint.contains("--write"),
        "{hint}"
    );
}

#[test]
fn refused_pushes_ask_for_push_rights_and_leave_nothing_to_delete() {
    let server = Scripted::start(Script::NoPushRights);
    let cli = Cli::new();

    let report = cli.json(&["doctor", &server.host, "team/app", "--write"]);
    let pushed = expect(&report, "subject-push", "fail");
    assert!(pushed.contains("team/app-hallmark-doctor"), "{pushed}");
    let hint = finding(&report, "subject-push")["hint"]
        .as_str()
        .expect("hint");
    assert!(
        hint.contains(&format!("hallmark login {}", server.host)),
        "{hint}"
    );
    assert!(!has_check(&report, "cleanup"), "{report:#}");
    let requests = server.requests();
    assert!(
        !requests.iter().any(|r| r.starts_with("DELETE")),
        "{requests:#?}"
    );
}

#[test]
fn an_artifact_answered_too_late_is_deleted_too() {
    let server = Scripted::start(Script::SlowArtifact);
    let cli = Cli::new();

    let report = cli.json(&["doctor", &server.host, "team/app", "--write"]);
    let pushed = expect(&report, "subject-push", "fail");
    assert!(pushed.contains("no answer within"), "{pushed}");
    let cleanup = expect(&report, "cleanup", "ok");
    assert!(
        cleanup.contains("artifact sha256:") && cleanup.contains("subject sha256:"),
        "{cleanup}"
    );
    let manifests = writes_stayed_in_scratch(&server, "team/app-hallmark-doctor");
    assert_eq!(manifests.len(), 2, "{manifests:?}");
    let requests = server.requests();
    for manifest in &manifests {
        let delete = format!("DELETE {manifest}");
        assert!(requests.contains(&delete), "no {delete} in {requests:#?}");
    }
}
