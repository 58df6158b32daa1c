//! `hallmark cosign` key files through the binary: names, modes, passwords, import, and what
//! is refused.

#[path = "client/support.rs"]
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;

use crate::support::Cli;

fn run(cli: &Cli, dir: &Path, password: Option<&str>, args: &[&str]) -> Output {
    let mut command = cli.command(args);
    command.current_dir(dir).env_remove("COSIGN_PASSWORD");
    if let Some(p) = password {
        command.env("COSIGN_PASSWORD", p);
    }
    command.output().expect("run hallmark")
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[test]
fn generate_key_pair_writes_cosigns_files_and_public_key_reads_them_back() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    let out = run(
        &cli,
        dir.path(),
        Some("s3cret"),
        &["cosign", "generate-key-pair"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.path().join("cosign.key");
    let public = dir.path().join("cosign.pub");
    assert_eq!(mode(&key), 0o600);
    assert_eq!(mode(&public), 0o644);
    let key_text = std::fs::read_to_string(&key).expect("key");
    assert!(key_text.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
    let public_text = std::fs::read_to_string(&public).expect("pub");
    assert!(public_text.starts_with("-----BEGIN PUBLIC KEY-----\n"));

    let out = run(
        &cli,
        dir.path(),
        Some("s3cret"),
        &["cosign", "public-key", "--key", "cosign.key"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), public_text);

    // The password can also come on standard input, as cosign reads it without a terminal.
    let mut command = cli.command(&["cosign", "public-key", "--key", "cosign.key"]);
    command
        .current_dir(dir.path())
        .env_remove("COSIGN_PASSWORD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = command.spawn().expect("spawn");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), b"s3cret").expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(String::from_utf8_lossy(&out.stdout), public_text);

    let out = run(
        &cli,
        dir.path(),
        Some("wrong"),
        &["cosign", "public-key", "--key", "cosign.key"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));

    // An existing pair is never overwritten.
    let out = run(
        &cli,
        dir.path(),
        Some("other"),
        &["cosign", "generate-key-pair"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&key).expect("key"), key_text);
}

#[test]
fn import_key_pair_seals_an_existing_key_under_a_new_password() {
    let cli = Cli::new();
    let dir = tempfile::tempdir().expect("dir");
    cli.ok(&["cert", "generate-test", "imported", "--key-spec", "EC-384"]);
    let source = cli.home().join(".config/hallmark/localkeys/imported.key");
    let source = source.to_str().expect("utf-8");
    let out = run(
        &cli,
        dir.path(),
        Some(""),
        &[
            "cosign",
            "import-key-pair",
            "--key",
            source,
            "--output-key-prefix",
            "release",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&dir.path().join("release.key")), 0o600);
    // An empty password is a password.
    let out = run(
        &cli,
        dir.path(),
        Some(""),
        &["cosign", "public-key", "--key", "release.key"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        std::fs::read_to_string(dir.path().join("release.pub")).expect("pub")
    );

    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(
        &not_a_key,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .expect("write");
    let out = run(
        &cli,
        dir.path(),
        Some(""),
        &[
            "cosign",
            "import-key-pair",
            "--key",
            not_a_key.to_str().expect("utf-8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(!dir.path().join("import-cosign.key").exists());
}
