//! What the cosign tests share: a working directory with key files and a `hallmark` runner
//! whose `COSIGN_PASSWORD` is set, images pushed with their digests remembered, and the two
//! independent checkers (the Python verifier and the `sigstore` crate's peer program).

#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use serde_json::Value;

use crate::support::Cli;

/// The password of every key the tests make.
pub const PASSWORD: &str = "pw";

/// A working directory and a runner.
pub struct Signing {
    cli: Cli,
    dir: tempfile::TempDir,
    digests: RefCell<HashMap<String, String>>,
}

impl Signing {
    /// An empty working directory.
    pub fn new() -> Signing {
        Signing {
            cli: Cli::new(),
            dir: tempfile::tempdir().expect("work dir"),
            digests: RefCell::new(HashMap::new()),
        }
    }

    /// The working directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `hallmark ARGS` in the working directory, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = self.cli.command(args);
        c.current_dir(self.dir()).env("COSIGN_PASSWORD", PASSWORD);
        c.env_remove("COSIGN_REPOSITORY");
        c
    }

    fn run(&self, mut command: Command) -> Output {
        command.output().expect("run hallmark")
    }

    fn check(out: Output, args: &[&str]) -> Output {
        assert!(
            out.status.success(),
            "hallmark {args:?} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        out
    }

    /// Runs, requires success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = Self::check(self.run(self.command(args)), args);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs, requires success, returns stderr.
    pub fn ok_stderr(&self, args: &[&str]) -> String {
        let out = Self::check(self.run(self.command(args)), args);
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs with one more environment variable, requires success, returns stdout.
    pub fn ok_env(&self, args: &[&str], key: &str, value: &str) -> String {
        let mut command = self.command(args);
        command.env(key, value);
        let out = Self::check(self.run(command), args);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs, requires exit status 1 (a failure, not a usage error), returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        self.fails_with(args, 1)
    }

    /// Runs, requires exit status `code`, returns stderr.
    pub fn fails_with(&self, args: &[&str], code: i32) -> String {
        let out = self.run(self.command(args));
        assert_eq!(
            out.status.code(),
            Some(code),
            "hallmark {args:?}:\n--- stdout\n{}\n--- stderr\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Writes a file in the working directory; returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir().join(name);
        std::fs::write(&path, text).expect("write file");
        path.display().to_string()
    }

    /// A file of the working directory.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir().join(name)).expect("read file")
    }

    /// `PREFIX.key` and `PREFIX.pub`, made by `hallmark cosign generate-key-pair`.
    pub fn keys(&self, prefix: &str) {
        self.ok(&["cosign", "generate-key-pair", "--output-key-prefix", prefix]);
    }

    /// Pushes a small artifact of its own content as `host/repo:tag`; returns the reference.
    pub fn push_image(&self, host: &str, repo: &str, tag: &str) -> String {
        let image = format!("{host}/{repo}:{tag}");
        let file = self.write(
            &format!("{repo}-{tag}.txt"),
            &format!("content of {image}\n"),
        );
        let out = self.ok(&["push", &image, &file]);
        let digest = out
            .lines()
            .find_map(|l| l.strip_prefix("Digest: "))
            .unwrap_or_else(|| panic!("no digest in push output: {out}"))
            .trim()
            .to_owned();
        self.digests.borrow_mut().insert(image.clone(), digest);
        image
    }

    /// The digest `push_image` got for `image`.
    pub fn digest(&self, image: &str) -> String {
        self.digests.borrow()[image].clone()
    }

    /// Runs the `sigstore` crate's peer program in the working directory; returns stdout.
    pub fn peer(&self, peer: &Path, args: &[&str]) -> String {
        let out = Command::new(peer)
            .args(args)
            .current_dir(self.dir())
            .env("COSIGN_PASSWORD", PASSWORD)
            .env("HOME", self.cli.home())
            .output()
            .expect("run sigstore-peer");
        assert!(
            out.status.success(),
            "sigstore-peer {args:?} failed:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn peers_dir() -> PathBuf {
    match std::env::var_os("HALLMARK_PEERS") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.peers"),
    }
}

/// A peer at `path`, or `None` (a skip) outside CI.
fn peer(path: PathBuf, what: &str) -> Option<PathBuf> {
    if path.is_file() {
        return Some(path);
    }
    // CI always has the peers: a skip there would hide a missing check.
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} must be installed under CI ({}); run scripts/install-peers.sh",
        path.display()
    );
    println!(
        "skipped: {} is absent; run scripts/install-peers.sh",
        path.display()
    );
    None
}

/// The `sigstore` crate's peer program built by install-peers.sh.
pub fn sigstore_peer() -> Option<PathBuf> {
    peer(
        peers_dir().join("bin/sigstore-peer"),
        "the sigstore-peer program",
    )
}

/// `scripts/cosign-verify.py` opens `key` and verifies every layer of `repo`'s `.sig` for
/// `digest` at `host`.
pub fn python_check(s: &Signing, key: &str, host: &str, repo: &str, digest: &str) {
    let Some(python) = peer(peers_dir().join("venv/bin/python3"), "the Python venv") else {
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/cosign-verify.py");
    let out = Command::new(python)
        .arg(script)
        .args([key, PASSWORD, host, repo, digest])
        .current_dir(s.dir())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run cosign-verify.py");
    assert!(
        out.status.success(),
        "cosign-verify.py refused our signature:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verified: u32 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a count");
    assert!(verified >= 1);
}

/// The in-toto statement inside a DSSE envelope printed by `verify-attestation`.
pub fn statement_of(envelope_json: &str) -> Value {
    let envelope: Value = serde_json::from_str(envelope_json).expect("envelope JSON");
    let payload = envelope["payload"].as_str().expect("payload");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .expect("base64 payload");
    serde_json::from_slice(&bytes).expect("statement JSON")
}
