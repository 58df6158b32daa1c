//! `hallmark doctor` against real servers on loopback: `hallmark serve` (referrers API,
//! `OCI-Subject`, and the Notary v1 API beside the registry), Debian's `docker-registry`
//! (distribution 2.8.2: no referrers API, stores `subject` without indexing it), Debian's
//! `notary-server` (Notary v1, not a registry), and an address where nothing listens. Each
//! server is started by the test and stopped on drop.

mod common;
#[path = "client/support.rs"]
mod support;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
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

/// `--write` deleted what it pushed: the cleanup names the artifact and its subject, and
/// neither is there any more.
fn assert_cleaned_up(report: &Value, host: &str, repo: &str) {
    let detail = expect(report, "cleanup", "ok");
    let pushed = digests(detail);
    assert!(pushed.len() >= 2, "artifact and subject in {detail}");
    for (what, digest) in ["artifact", "subject"].iter().zip(&pushed) {
        assert!(detail.contains(&format!("{what} {digest}")), "{detail}");
        assert_eq!(
            raw_manifest(host, repo, digest),
            None,
            "{what} {digest} is still there"
        );
    }
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
    expect(&report, "referrers-api", "ok");
    let pushed = expect(&report, "subject-push", "ok");
    assert!(pushed.contains("answered OCI-Subject"), "{pushed}");
    assert_cleaned_up(&report, &host, "app");
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
    let referrers = expect(&report, "referrers-api", "warn");
    assert!(referrers.contains("404"), "{referrers}");
    let hint = finding(&report, "referrers-api")["hint"]
        .as_str()
        .expect("hint");
    assert!(hint.contains("`sha256-<hex>` tag"), "{hint}");
    let pushed = expect(&report, "subject-push", "warn");
    assert!(pushed.contains("without OCI-Subject"), "{pushed}");
    assert_cleaned_up(&report, &registry.host, "app");
    expect(&report, "notary-v1", "info");
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
    ] {
        let out = cli.output(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
    }
}
