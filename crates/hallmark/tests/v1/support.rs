//! Debian's real Notary v1 server and client for the bridge tests: `notary-server` with the
//! in-memory store and local (in-process) signing keys, on plain HTTP on loopback, killed on
//! drop; and the `notary` client with its own trust directory and passphrases from the
//! environment, as `shared/reference/notary-v1-run.sh` drives them.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const INSTALL_HINT: &str = "run scripts/install-peers.sh to install the test peers";

/// Whether the notary programs are installed; under CI they must be.
pub fn notary_installed() -> bool {
    let found =
        Path::new("/usr/bin/notary-server").is_file() && Path::new("/usr/bin/notary").is_file();
    if !found {
        // CI always has the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "notary and notary-server must be installed under CI: {INSTALL_HINT}"
        );
        println!("skipped: Debian's notary package is not installed ({INSTALL_HINT})");
    }
    found
}

/// A running `notary-server`.
pub struct NotaryServer {
    /// `127.0.0.1:<port>`.
    pub host: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl NotaryServer {
    /// Starts a server and waits until its health check answers.
    pub fn start() -> NotaryServer {
        let dir = tempfile::tempdir().expect("server dir");
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .expect("free port")
                .local_addr()
                .expect("addr")
                .port();
            let host = format!("127.0.0.1:{port}");
            let config = dir.path().join("server.json");
            std::fs::write(
                &config,
                format!(
                    r#"{{"server":{{"http_addr":"{host}"}},"trust_service":{{"type":"local"}},
                    "logging":{{"level":"info"}},"storage":{{"backend":"memory"}}}}"#
                ),
            )
            .expect("config");
            let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
            let mut child = Command::new("notary-server")
                .arg("-config")
                .arg(&config)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start notary-server ({e}): {INSTALL_HINT}"));
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                let url = format!("http://{host}/_notary_server/health");
                if reqwest::blocking::get(&url).is_ok_and(|r| r.status() == 200) {
                    return NotaryServer {
                        host,
                        child,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("notary-server did not start");
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host)
    }
}

impl Drop for NotaryServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The `notary` client with a trust directory of its own.
pub struct NotaryClient {
    server: String,
    dir: tempfile::TempDir,
}

impl NotaryClient {
    /// A client of `server` (a URL) with an empty trust directory.
    pub fn new(server: &str) -> NotaryClient {
        NotaryClient {
            server: server.to_owned(),
            dir: tempfile::tempdir().expect("trust dir"),
        }
    }

    /// The trust directory.
    pub fn trust_dir(&self) -> PathBuf {
        self.dir.path().join("trust")
    }

    /// A scratch directory beside the trust directory.
    pub fn work(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `notary ARGS`; returns everything.
    pub fn output(&self, args: &[&str]) -> Output {
        Command::new("notary")
            .arg("-s")
            .arg(&self.server)
            .arg("-d")
            .arg(self.trust_dir())
            .args(args)
            .current_dir(self.dir.path())
            .env("NOTARY_ROOT_PASSPHRASE", "root-pass")
            .env("NOTARY_TARGETS_PASSPHRASE", "targets-pass")
            .env("NOTARY_SNAPSHOT_PASSPHRASE", "snapshot-pass")
            .env("NOTARY_DELEGATION_PASSPHRASE", "delegation-pass")
            .env("HOME", self.dir.path())
            .stdin(Stdio::null())
            .output()
            .expect("run notary")
    }

    /// Runs `notary ARGS`, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "notary {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Adds a `targets/releases` delegation with a fresh key (openssl, SEC1 form, which the
    /// Debian build imports) and imports its private key.
    pub fn add_releases_delegation(&self, gun: &str) {
        self.add_delegation(gun, "targets/releases");
    }

    /// Adds delegation `role` (`targets/NAME`, for all paths) with a fresh key, as
    /// [`NotaryClient::add_releases_delegation`] does.
    pub fn add_delegation(&self, gun: &str, role: &str) {
        let name = role.rsplit('/').next().expect("role name");
        let (key, cert, sec1) = (
            format!("{name}.key"),
            format!("{name}.crt"),
            format!("{name}-sec1.key"),
        );
        let subject = format!("/CN={name}");
        let run = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(self.work())
                .output()
                .expect("openssl");
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        };
        run(&[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &key,
            "-out",
            &cert,
            "-days",
            "400",
            "-subj",
            &subject,
        ]);
        run(&["ec", "-in", &key, "-out", &sec1]);
        self.ok(&["delegation", "add", gun, role, &cert, "--all-paths"]);
        self.ok(&["key", "import", &sec1, "--role", role]);
    }
}
