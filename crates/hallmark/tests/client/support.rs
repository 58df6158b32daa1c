//! Test support for the client commands: Debian's `docker-registry` (distribution 2.8.2, no
//! referrers API) started on loopback and killed on drop, and a runner for the `hallmark`
//! binary with a private home, so no credentials or configuration of the machine leak in.
//!
//! `docker-registry` and `htpasswd` are installed by `scripts/install-peers.sh`; a missing peer
//! fails the test rather than skipping it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const INSTALL_HINT: &str = "run scripts/install-peers.sh to install the test peers";

/// A running distribution 2.8.2 registry.
pub struct Distribution {
    /// `127.0.0.1:<port>`.
    pub host: String,
    child: Child,
    dir: tempfile::TempDir,
    pki: Option<tempfile::TempDir>,
}

impl Distribution {
    /// Starts an open registry.
    pub fn start() -> Distribution {
        Self::start_with(None)
    }

    /// Starts a registry that wants HTTP Basic credentials checked against an htpasswd file
    /// (bcrypt) holding `user`.
    pub fn start_with_htpasswd(user: &str, password: &str) -> Distribution {
        Self::start_with(Some((user, password)))
    }

    /// Starts a registry serving HTTPS with a certificate for 127.0.0.1 issued by a test
    /// CA; returns it and the CA certificate's PEM file.
    pub fn start_with_tls() -> (Distribution, PathBuf) {
        let pki = tempfile::tempdir().expect("pki dir");
        let ca = test_pki(pki.path());
        let tls = format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            pki.path().join("leaf.pem").display(),
            pki.path().join("leaf.key").display()
        );
        let mut registry = Self::start_inner(None, &tls);
        let kept = registry.dir.path().join("ca.pem");
        std::fs::copy(&ca, &kept).expect("keep CA");
        registry.pki = Some(pki);
        (registry, kept)
    }

    fn start_with(auth: Option<(&str, &str)>) -> Distribution {
        Self::start_inner(auth, "")
    }

    fn start_inner(auth: Option<(&str, &str)>, tls: &str) -> Distribution {
        let bin = Path::new("/usr/bin/docker-registry");
        assert!(bin.exists(), "{} is missing: {INSTALL_HINT}", bin.display());
        let dir = tempfile::tempdir().expect("registry dir");
        let auth_section = match auth {
            None => String::new(),
            Some((user, password)) => {
                let out = Command::new("htpasswd")
                    .args(["-Bbn", user, password])
                    .output()
                    .unwrap_or_else(|e| panic!("cannot run htpasswd ({e}): {INSTALL_HINT}"));
                assert!(out.status.success(), "htpasswd failed: {out:?}");
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, &out.stdout).expect("write htpasswd");
                format!(
                    "auth:\n  htpasswd:\n    realm: hallmark-test\n    path: {}\n",
                    file.display()
                )
            }
        };
        // A free port may be taken between probing and binding; try a few.
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("free port")
                .port();
            let host = format!("127.0.0.1:{port}");
            let config = format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    \
                 rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n\
                 {tls}{auth_section}",
                dir.path().join("data").display()
            );
            let config_path = dir.path().join("config.yml");
            std::fs::write(&config_path, config).expect("write config");
            let log = std::fs::File::create(dir.path().join("log")).expect("log file");
            let mut child = Command::new(bin)
                .arg("serve")
                .arg(&config_path)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            if wait_ready(&mut child, &host, !tls.is_empty()) {
                return Distribution {
                    host,
                    child,
                    dir,
                    pki: None,
                };
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start");
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The registry's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log")).unwrap_or_default()
    }
}

/// Waits until `/v2/` answers (200, or 401 with auth), or with TLS until the port accepts
/// connections; false if the process exits first.
fn wait_ready(child: &mut Child, host: &str, tls: bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(20);
    let url = format!("http://{host}/v2/");
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return false;
        }
        if tls && std::net::TcpStream::connect(host).is_ok() {
            return true;
        }
        if let Ok(r) = reqwest::blocking::get(&url)
            && (r.status() == 200 || r.status() == 401)
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

impl Drop for Distribution {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A test CA and a leaf for `127.0.0.1` signed by it, made with the `openssl` tool; returns
/// the CA certificate's path.
fn test_pki(dir: &Path) -> PathBuf {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap_or_else(|e| panic!("cannot run openssl ({e}): {INSTALL_HINT}"));
        assert!(out.status.success(), "openssl {args:?}: {out:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "1",
        "-subj",
        "/CN=hallmark test CA",
    ];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE"]);
    ca.extend(["-addext", "keyUsage=critical,keyCertSign"]);
    run(&ca);
    let mut csr = vec![
        "req",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "leaf.key",
        "-out",
        "leaf.csr",
    ];
    csr.extend(ec);
    run(&csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .expect("leaf extensions");
    run(&[
        "x509",
        "-req",
        "-days",
        "1",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "leaf.pem",
        "-extfile",
        "leaf.ext",
    ]);
    dir.join("ca.pem")
}

/// Runs `hallmark` client commands with a private home and credentials file.
pub struct Cli {
    home: tempfile::TempDir,
}

impl Cli {
    /// A runner with an empty home.
    pub fn new() -> Cli {
        Cli {
            home: tempfile::tempdir().expect("home"),
        }
    }

    /// The private home directory.
    pub fn home(&self) -> &Path {
        self.home.path()
    }

    /// Docker's config.json in the private home.
    pub fn docker_config(&self) -> PathBuf {
        self.home.path().join(".docker/config.json")
    }

    /// The command, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let home = self.home.path();
        let mut c = Command::new(env!("CARGO_BIN_EXE_hallmark"));
        c.env("HOME", home)
            .env("DOCKER_CONFIG", home.join(".docker"))
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_RUNTIME_DIR", home.join("run"))
            .env_remove("REGISTRY_AUTH_FILE")
            .env_remove("HALLMARK_CLIENT_CONFIG")
            .env("HALLMARK_LOG", "warn")
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs and returns everything, whatever the exit status.
    pub fn output(&self, args: &[&str]) -> Output {
        self.command(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run hallmark {args:?}: {e}"))
    }

    /// Runs, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            out.status.success(),
            "hallmark {args:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        String::from_utf8(out.stdout).expect("utf-8 output")
    }

    /// Runs with `-o json` appended; parses stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let text = self.ok(&all);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}: {text}"))
    }

    /// Runs, requires failure, returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.output(args);
        assert!(
            !out.status.success(),
            "hallmark {args:?} should have failed:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8 output")
    }
}

/// The manifest bytes of `reference` in `repo` at `host`, fetched raw.
pub fn raw_manifest(host: &str, repo: &str, reference: &str) -> Option<Vec<u8>> {
    let url = format!("http://{host}/v2/{repo}/manifests/{reference}");
    let r = reqwest::blocking::Client::new()
        .get(&url)
        .header(
            "accept",
            "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json",
        )
        .send()
        .expect(&url);
    (r.status() == 200).then(|| r.bytes().expect(&url).to_vec())
}
