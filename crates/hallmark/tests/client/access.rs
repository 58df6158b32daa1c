//! How the client reaches registries: credentials from podman's auth file and from a Docker
//! credential helper (`credsStore`), TLS with an extra CA (and the loopback probe that
//! finds it), and `--referrers-mode` forcing the API or the tag schema.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::common::Server;
use crate::support::{Cli, Distribution};

/// A `docker-credential-hmtest` that keeps one credential in `store.json` beside itself.
fn install_helper(bin: &Path) {
    std::fs::create_dir_all(bin).expect("bin dir");
    let script = "#!/bin/sh\nd=\"$(dirname \"$0\")\"\ncase \"$1\" in\n\
        get) cat >/dev/null; if [ -f \"$d/store.json\" ]; then cat \"$d/store.json\"; \
        else echo 'credentials not found in native keychain'; exit 1; fi;;\n\
        store) cat > \"$d/store.json\";;\n\
        erase) cat >/dev/null; rm -f \"$d/store.json\";;\n\
        *) exit 2;;\nesac\n";
    let path = bin.join("docker-credential-hmtest");
    std::fs::write(&path, script).expect("helper");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

#[test]
fn credentials_from_auth_json_and_a_credential_helper() {
    let registry = Distribution::start_with_htpasswd("alice", "pw-1");
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = work.path().join("a.txt");
    std::fs::write(&file, "helper").expect("file");
    let file = file.to_str().expect("utf-8");
    let reference = format!("{}/creds/app:v1", registry.host);

    // podman's auth.json through REGISTRY_AUTH_FILE (base64 of "alice:pw-1").
    let auth_file = work.path().join("auth.json");
    let auths = serde_json::json!({"auths": {&registry.host: {"auth": "YWxpY2U6cHctMQ=="}}});
    std::fs::write(&auth_file, auths.to_string()).expect("auth.json");
    let out = cli
        .command(&["push", &reference, file])
        .env("REGISTRY_AUTH_FILE", &auth_file)
        .output()
        .expect("push");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Docker's credsStore: login stores through the helper, pull reads through it.
    let bin = work.path().join("bin");
    install_helper(&bin);
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::fs::create_dir_all(cli.docker_config().parent().expect("dir")).expect("docker dir");
    std::fs::write(cli.docker_config(), r#"{"credsStore": "hmtest"}"#).expect("config.json");
    let with_path = |args: &[&str]| {
        let out = cli
            .command(args)
            .env("PATH", &path)
            .output()
            .expect("hallmark");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
        )
    };
    let (ok, stdout, stderr) = with_path(&["login", &registry.host, "-u", "alice", "-p", "pw-1"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("docker-credential-hmtest"), "{stdout}");
    let stored: Value =
        serde_json::from_slice(&std::fs::read(bin.join("store.json")).expect("helper store"))
            .expect("helper JSON");
    assert_eq!(stored["Username"], "alice");
    let config = std::fs::read_to_string(cli.docker_config()).expect("config.json");
    assert!(
        !config.contains("auths"),
        "the secret stays in the helper: {config}"
    );

    let out_dir = work.path().join("pulled");
    let (ok, _, stderr) = with_path(&["pull", &reference, "-o", out_dir.to_str().expect("utf-8")]);
    assert!(ok, "{stderr}");
    let (ok, stdout, _) = with_path(&["logout", &registry.host]);
    assert!(ok && stdout.contains("Removed"), "{stdout}");
    assert!(
        !bin.join("store.json").exists(),
        "logout erased through the helper"
    );
    let (ok, _, stderr) = with_path(&["pull", &reference, "-o", "x"]);
    assert!(!ok && stderr.contains("hallmark login"), "{stderr}");
}

#[test]
fn tls_needs_the_ca_and_loopback_is_probed() {
    let (registry, ca) = Distribution::start_with_tls();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = work.path().join("t.txt");
    std::fs::write(&file, "over TLS").expect("file");
    let file = file.to_str().expect("utf-8");
    let reference = format!("{}/tls/app:v1", registry.host);
    let ca = ca.to_str().expect("utf-8");

    let err = cli.fails(&["push", &reference, file]);
    // The loopback probe saw TLS, so the failure is the untrusted certificate, over https.
    assert!(
        err.contains("https://") && err.contains("--ca-file"),
        "{err}"
    );
    assert!(err.contains("UnknownIssuer"), "{err}");
    cli.ok(&["push", &reference, file, "--ca-file", ca]);
    let tags = cli.json(&[
        "repo",
        "tags",
        &format!("{}/tls/app", registry.host),
        "--ca-file",
        ca,
    ]);
    assert_eq!(tags["tags"], serde_json::json!(["v1"]));
    let err = cli.fails(&["pull", &reference, "-o", "x", "--plain-http"]);
    assert!(err.contains("400") || err.contains("failed"), "{err}");
}

#[test]
fn referrers_mode_forces_the_api_or_the_tag_schema() {
    let ours = Server::start();
    let distribution = Distribution::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = work.path().join("f.txt");
    std::fs::write(&file, "x").expect("file");
    let file = file.to_str().expect("utf-8");

    // On distribution, `api` fails and says why and what to use instead.
    let dist = format!("{}/modes/app", distribution.host);
    cli.ok(&["push", &format!("{dist}:v1"), file]);
    let err = cli.fails(&["discover", &format!("{dist}:v1"), "--referrers-mode", "api"]);
    assert!(
        err.contains("no referrers API") && err.contains("--referrers-mode"),
        "{err}"
    );

    // On ours, `tag` writes and reads the tag schema even though the API exists.
    let repo = format!("{}/modes/app", ours.host());
    let subject = cli.json(&["push", &format!("{repo}:v1"), file]);
    let sig = cli.json(&[
        "push",
        &repo,
        file,
        "--subject",
        "v1",
        "--referrers-mode",
        "tag",
    ]);
    let tag = subject["digest"]
        .as_str()
        .expect("digest")
        .replace(':', "-");
    let tags = cli.json(&["repo", "tags", &repo]);
    assert!(
        tags["tags"]
            .as_array()
            .expect("tags")
            .contains(&Value::from(tag)),
        "{tags}"
    );
    let found = cli.json(&["discover", &format!("{repo}:v1"), "--referrers-mode", "tag"]);
    assert_eq!(found["referrersSource"], "tag");
    assert_eq!(found["referrers"][0]["digest"], sig["digest"]);
    let found = cli.json(&["discover", &format!("{repo}:v1")]);
    assert_eq!(found["referrersSource"], "api");
}

#[test]
fn refused_manifest_types_are_named_in_the_error() {
    let ours = Server::start();
    let distribution = Distribution::start();
    let store = tempfile::tempdir().expect("dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // The withdrawn OCI artifact manifest of the 1.1 release candidates: neither accepts it.
    let media_type = "application/vnd.oci.artifact.manifest.v1+json";
    let body = serde_json::json!({"mediaType": media_type, "artifactType": "a/b", "blobs": []});
    for host in [ours.host(), distribution.host.clone()] {
        let client = hallmark_client::Client::new(hallmark_client::ClientConfig {
            credential_store: hallmark_client::CredentialStore::with_file(
                store.path().join("none"),
            ),
            ..hallmark_client::ClientConfig::default()
        })
        .expect("client");
        let repo = client.repository(&host, "refused/app".parse().expect("name"));
        let err = runtime
            .block_on(repo.push_manifest(
                &hallmark_oci::Reference::Tag("v1".parse().expect("tag")),
                media_type,
                bytes::Bytes::from(body.to_string()),
            ))
            .expect_err("refused");
        let text = err.to_string();
        assert!(
            matches!(err, hallmark_client::Error::ManifestRejected { .. }),
            "{host}: {err:?}"
        );
        assert!(
            text.contains(media_type) && text.contains("OCI 1.1"),
            "{text}"
        );
    }
}
