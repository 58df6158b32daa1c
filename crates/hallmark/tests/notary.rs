//! Notary Project signing and verification through the `hallmark` binary: against `hallmark
//! serve` (referrers API) and Debian's `docker-registry` (referrers tag schema), against
//! notation's published OCI layouts and blob signatures, and the trust store, key and policy
//! commands that set it all up.

mod common;
mod pki;
#[path = "client/support.rs"]
mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::Server;
use crate::pki::{OpensslTsa, Responder, test_root};
use crate::support::{Cli, Distribution, raw_manifest};

fn vectors() -> Option<PathBuf> {
    crate::common::vectors("notation")
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write file");
    path.display().to_string()
}

/// The configuration directory the CLI uses in `cli`'s private home.
fn config_dir(cli: &Cli) -> PathBuf {
    cli.home().join(".config/hallmark")
}

/// Pushes a small artifact to `repo:v1`; returns its digest.
fn push_artifact(cli: &Cli, repo: &str, file: &str) -> String {
    let pushed = cli.json(&["push", &format!("{repo}:v1"), file]);
    pushed["digest"].as_str().expect("digest").to_owned()
}

#[test]
fn sign_and_verify_on_hallmark_and_distribution() {
    let ours = Server::start();
    let distribution = Distribution::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = write(work.path(), "app.txt", "signed content\n");

    cli.ok(&["cert", "generate-test", "hallmark-test", "--default"]);
    let hosts = [ours.host(), distribution.host.clone()];
    let scopes: Vec<String> = hosts.iter().map(|h| format!("{h}/app")).collect();
    cli.ok(&[
        "policy",
        "init",
        "--name",
        "apps",
        "--scope",
        &scopes[0],
        "--scope",
        &scopes[1],
        "--trust-store",
        "ca:hallmark-test",
        "--trusted-identity",
        "*",
    ]);

    for host in &hosts {
        let repo = format!("{host}/app");
        let digest = push_artifact(&cli, &repo, &file);
        let by_digest = format!("{repo}@{digest}");

        let jws = cli.json(&["sign", &by_digest]);
        assert_eq!(jws["digest"], digest.as_str(), "{host}");
        let out = cli.output(&[
            "sign",
            &format!("{repo}:v1"),
            "--signature-format",
            "cose",
            "-m",
            "build=42",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("Warning: Always sign the artifact using digest"),
            "{stderr}"
        );

        let verified = cli.json(&["verify", &by_digest]);
        assert_eq!(verified["verified"], true, "{host}: {verified}");
        assert_eq!(verified["policy"]["name"], "apps");
        let checks: Vec<&str> = verified["signatures"][0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .map(|c| c["check"].as_str().expect("name"))
            .collect();
        assert!(
            checks.contains(&"authenticity") && checks.contains(&"expiry"),
            "{checks:?}"
        );
        let text = cli.ok(&["verify", &by_digest, "-m", "build=42"]);
        assert!(text.contains("Successfully verified signature"), "{text}");
        assert!(text.contains("build=42"), "{text}");
        let err = cli.fails(&["verify", &by_digest, "-m", "build=43"]);
        assert!(err.contains("user metadata build=43"), "{err}");

        let list = cli.json(&["list", &by_digest]);
        let sigs = list["signatures"].as_array().expect("signatures");
        assert_eq!(sigs.len(), 2, "{host}: {list}");
        let inspect = cli.json(&["inspect", &by_digest]);
        let formats: Vec<&str> = inspect["signatures"]
            .as_array()
            .expect("signatures")
            .iter()
            .map(|s| s["signatureEnvelopeType"].as_str().expect("type"))
            .collect();
        assert!(formats.contains(&"application/jose+json"), "{formats:?}");
        assert!(formats.contains(&"application/cose"), "{formats:?}");

        // The signature manifest is the OCI 1.1 form with the thumbprint annotation.
        let sig_digest = jws["signature"]["digest"]
            .as_str()
            .expect("signature digest");
        let bytes = raw_manifest(host, "app", sig_digest).expect("signature manifest");
        let manifest: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(
            manifest["artifactType"],
            "application/vnd.cncf.notary.signature"
        );
        assert_eq!(manifest["subject"]["digest"], digest.as_str());
        assert_eq!(manifest["layers"][0]["mediaType"], "application/jose+json");
        let thumbprints: Vec<String> = serde_json::from_str(
            manifest["annotations"]["io.cncf.notary.x509chain.thumbprint#S256"]
                .as_str()
                .expect("thumbprints"),
        )
        .expect("thumbprint list");
        let cert = cli.json(&[
            "cert",
            "show",
            "-t",
            "ca",
            "-s",
            "hallmark-test",
            "hallmark-test.crt",
        ]);
        assert_eq!(
            thumbprints,
            vec![
                cert["certificates"][0]["SHA256Fingerprint"]
                    .as_str()
                    .expect("fingerprint")
                    .to_owned()
            ]
        );
    }

    // Without the referrers API, the signatures live in the tag schema index.
    let discovered = cli.json(&["discover", &format!("{}/app:v1", distribution.host)]);
    assert_eq!(discovered["referrersSource"], "tag", "{discovered}");
    assert_eq!(discovered["referrers"].as_array().map(Vec::len), Some(2));
}

#[test]
fn verify_failures_say_what_to_do() {
    let ours = Server::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = write(work.path(), "app.txt", "content\n");
    let repo = format!("{}/myapp", ours.host());
    let digest = push_artifact(&cli, &repo, &file);
    let by_digest = format!("{repo}@{digest}");

    cli.ok(&["cert", "generate-test", "signer", "--default"]);
    let err = cli.fails(&["verify", &by_digest]);
    assert!(
        err.contains("no trust policy found") && err.contains("hallmark policy init"),
        "{err}"
    );

    // A scope without the registry host never matches; the error says so, whether the
    // policy is written by `policy init` or imported.
    let err = cli.fails(&[
        "policy",
        "init",
        "--name",
        "p",
        "--scope",
        "myapp",
        "--trust-store",
        "ca:signer",
        "--trusted-identity",
        "*",
    ]);
    assert!(
        err.contains("\"myapp\"") && err.contains("registry host"),
        "{err}"
    );
    let bare = r#"{"version":"1.0","trustPolicies":[{"name":"p","registryScopes":["myapp"],
        "signatureVerification":{"level":"strict"},"trustStores":["ca:signer"],
        "trustedIdentities":["*"]}]}"#;
    let bare = write(work.path(), "bare.json", bare);
    let err = cli.fails(&["policy", "import", &bare]);
    assert!(
        err.contains("\"myapp\"") && err.contains("registry host"),
        "{err}"
    );

    // A scope for a path of the repository that parses as a host never matches either.
    cli.ok(&[
        "policy",
        "init",
        "--name",
        "p",
        "--scope",
        "library/myapp",
        "--trust-store",
        "ca:signer",
        "--trusted-identity",
        "*",
    ]);
    let docker_hub_style = format!("{}/library/myapp@{digest}", ours.host());
    let err = cli.fails(&["verify", &docker_hub_style]);
    assert!(
        err.contains("\"library/myapp\"") && err.contains("registry host"),
        "{err}"
    );

    cli.ok(&[
        "policy",
        "init",
        "--force",
        "--name",
        "p",
        "--scope",
        &repo,
        "--trust-store",
        "ca:signer",
        "--trusted-identity",
        "*",
    ]);
    let err = cli.fails(&["verify", &by_digest]);
    assert!(err.contains("no signature is associated"), "{err}");

    cli.ok(&["sign", &by_digest]);
    cli.ok(&["verify", &by_digest]);

    // Another signer's certificate in the store: the signature is not trusted.
    cli.ok(&["cert", "delete", "-t", "ca", "-s", "signer", "--all", "-y"]);
    cli.ok(&["cert", "generate-test", "other"]);
    let other = config_dir(&cli).join("localkeys/other.crt");
    cli.ok(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "signer",
        other.to_str().expect("utf-8"),
    ]);
    let err = cli.fails(&["verify", &by_digest]);
    assert!(
        err.contains("does not contain any trusted certificate"),
        "{err}"
    );

    // An identity that does not match the signer.
    let policy = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["{repo}"],
        "signatureVerification":{{"level":"strict"}},"trustStores":["ca:signer"],
        "trustedIdentities":["x509.subject: C=US, ST=WA, O=Somebody Else"]}}]}}"#
    );
    let policy_file = write(work.path(), "policy.json", &policy);
    cli.ok(&["policy", "import", "--force", &policy_file]);
    let signer_cert = config_dir(&cli).join("localkeys/signer.crt");
    cli.ok(&[
        "cert",
        "add",
        "-t",
        "ca",
        "-s",
        "signer",
        signer_cert.to_str().expect("utf-8"),
    ]);
    let err = cli.fails(&["verify", &by_digest]);
    assert!(
        err.contains("does not match the X.509 trusted identities"),
        "{err}"
    );

    // An invalid policy is refused and the installed one is kept.
    let bad = write(
        work.path(),
        "bad.json",
        r#"{"version":"1.0","trustPolicies":[{"name":"x"}]}"#,
    );
    let out = cli.output(&["policy", "import", "--force", &bad]);
    assert!(!out.status.success());
    let shown = cli.ok(&["policy", "show"]);
    assert!(shown.contains("Somebody Else"), "{shown}");
}

/// A config dir holding `ca:e2e` = `cert` and `policy` as the OCI trust policy.
fn e2e_config(cli: &Cli, root: &Path, cert: &str, policy: &Path) {
    let dir = config_dir(cli);
    let store = dir.join("truststore/x509/ca/e2e");
    std::fs::create_dir_all(&store).expect("store");
    let cert_path = root.join("e2e-layouts/localkeys").join(cert);
    std::fs::copy(&cert_path, store.join(cert)).expect("copy cert");
    std::fs::copy(policy, dir.join("trustpolicy.oci.json")).expect("policy");
}

fn layout_ref(root: &Path, name: &str, reference: &str) -> String {
    format!(
        "{}{reference}",
        root.join("e2e-layouts").join(name).display()
    )
}

#[test]
fn notation_e2e_layouts_verify_as_documented() {
    let Some(root) = vectors() else { return };
    let policies = root.join("trustpolicies");
    let verify = |cli: &Cli, layout: &str| {
        cli.output(&[
            "verify",
            "--oci-layout",
            &layout_ref(&root, layout, ":v1"),
            "--scope",
            "localhost:5000/test-repo",
        ])
    };

    let strict = Cli::new();
    e2e_config(
        &strict,
        &root,
        "e2e.crt",
        &policies.join("trustpolicy.json"),
    );
    for layout in ["e2e-valid-signature", "e2e-valid-multiple-signatures"] {
        let out = verify(&strict, layout);
        assert!(
            out.status.success(),
            "{layout}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let listed = strict.json(&[
        "list",
        "--oci-layout",
        &layout_ref(&root, "e2e-valid-multiple-signatures", ":v1"),
    ]);
    assert_eq!(
        listed["signatures"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );
    for (layout, why) in [
        ("e2e-invalid-signature", "integrity"),
        ("e2e-expired-signature", "digital signature has expired"),
        ("e2e", "no signature is associated"),
    ] {
        let out = verify(&strict, layout);
        assert_eq!(out.status.code(), Some(1), "{layout}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{layout}: {err}");
    }

    // The same public key under another certificate is not trusted (notation's trap).
    let wrong = Cli::new();
    e2e_config(
        &wrong,
        &root,
        "new_e2e.crt",
        &policies.join("trustpolicy.json"),
    );
    let out = verify(&wrong, "e2e-valid-signature");
    assert!(
        !out.status.success(),
        "new_e2e.crt must not anchor e2e.crt's signature"
    );

    let permissive = Cli::new();
    e2e_config(
        &permissive,
        &root,
        "e2e.crt",
        &policies.join("permissive_trustpolicy.json"),
    );
    let out = verify(&permissive, "e2e-expired-signature");
    assert!(
        out.status.success(),
        "permissive logs expiry: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let skip = Cli::new();
    e2e_config(
        &skip,
        &root,
        "e2e.crt",
        &policies.join("skip_trustpolicy.json"),
    );
    let out = verify(&skip, "e2e-invalid-signature");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("skip signature verification"));

    let expired = Cli::new();
    e2e_config(
        &expired,
        &root,
        "expired_e2e.crt",
        &policies.join("trustpolicy.json"),
    );
    let out = verify(&expired, "e2e-with-expired-cert");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("it was expired at \"Tue, 27 Jun 2023 06:10:00 +0000\""),
        "{err}"
    );

    // inspect shows the RFC 3161 timestamp range and the TSA chain.
    let inspected = strict.json(&[
        "inspect",
        "--oci-layout",
        &layout_ref(&root, "e2e-with-timestamped-signature", ":v1"),
    ]);
    let sig = &inspected["signatures"][0];
    assert_eq!(
        sig["unsignedAttributes"]["timestampSignature"]["timestamp"],
        "[2025-01-21T09:17:46.141Z, 2025-01-21T09:17:47.141Z]",
        "{inspected}"
    );
    let tsa: Vec<&str> = sig["unsignedAttributes"]["timestampSignature"]["certificates"]
        .as_array()
        .expect("tsa certificates")
        .iter()
        .map(|c| c["SHA256Fingerprint"].as_str().expect("fingerprint"))
        .collect();
    assert!(tsa.iter().any(|f| f.starts_with("36e731cf")), "{tsa:?}");
    assert!(tsa.iter().any(|f| f.starts_with("59283806")), "{tsa:?}");
    assert!(
        sig["certificates"][0]["SHA256Fingerprint"]
            .as_str()
            .is_some_and(|f| f.starts_with("1717fa9d")),
        "{sig}"
    );
}

#[test]
fn blob_sign_verify_and_inspect() {
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = write(work.path(), "release.tar", "release bytes\n");
    cli.ok(&["cert", "generate-test", "blob-signer", "--default"]);
    cli.ok(&[
        "blob",
        "policy",
        "init",
        "--name",
        "releases",
        "--trust-store",
        "ca:blob-signer",
        "--trusted-identity",
        "*",
        "--global",
    ]);
    let sigs = work.path().join("sigs");
    for format in ["jws", "cose"] {
        cli.ok(&[
            "blob",
            "sign",
            &file,
            "--signature-format",
            format,
            "--signature-directory",
            sigs.to_str().expect("utf-8"),
            "-m",
            "stage=prod",
        ]);
        let sig = sigs.join(format!("release.tar.{format}.sig"));
        assert!(sig.is_file(), "{}", sig.display());
        let sig = sig.to_str().expect("utf-8").to_owned();
        cli.ok(&["blob", "verify", "--signature", &sig, &file]);
        cli.ok(&[
            "blob",
            "verify",
            "--signature",
            &sig,
            &file,
            "-m",
            "stage=prod",
        ]);
        let err = cli.fails(&[
            "blob",
            "verify",
            "--signature",
            &sig,
            &file,
            "-m",
            "stage=dev",
        ]);
        assert!(err.contains("user metadata"), "{err}");
        let other = write(work.path(), "other.tar", "other bytes\n");
        let err = cli.fails(&["blob", "verify", "--signature", &sig, &other]);
        assert!(err.contains("signature is for another artifact"), "{err}");
        let inspected = cli.json(&["blob", "inspect", &sig]);
        assert_eq!(
            inspected["signedAttributes"]["signingScheme"],
            "notary.x509"
        );
        assert_eq!(inspected["userDefinedAttributes"]["stage"], "prod");
        // Signing again without --force keeps the existing file.
        let err = cli.fails(&[
            "blob",
            "sign",
            &file,
            "--signature-format",
            format,
            "--signature-directory",
            sigs.to_str().expect("utf-8"),
        ]);
        assert!(err.contains("--force"), "{err}");
    }
}

#[test]
fn notation_blob_signatures_inspect_and_fail_now() {
    let Some(root) = vectors() else { return };
    let blob = root.join("blob");
    let cli = Cli::new();
    let dir = config_dir(&cli);
    let store = dir.join("truststore/x509/ca/blob-signers");
    std::fs::create_dir_all(&store).expect("store");
    for c in ["testcert2.pem", "testcert3.pem"] {
        std::fs::copy(
            blob.join("truststore/x509/ca/blob-signers").join(c),
            store.join(c),
        )
        .expect("cert");
    }
    std::fs::copy(
        blob.join("trustpolicy.blob.json"),
        dir.join("trustpolicy.blob.json"),
    )
    .expect("policy");
    let license = blob.join("notation-LICENSE");
    let jws = blob.join("blob.jws.sig");
    let err = cli.fails(&[
        "blob",
        "verify",
        "--signature",
        jws.to_str().expect("utf-8"),
        license.to_str().expect("utf-8"),
    ]);
    assert!(
        err.contains("it was expired at \"Wed, 01 Jan 2025 08:04:39 +0000\""),
        "{err}"
    );

    let inspected = cli.json(&["blob", "inspect", jws.to_str().expect("utf-8")]);
    assert_eq!(
        inspected["unsignedAttributes"]["timestampSignature"]["timestamp"],
        "[2024-12-31T08:05:29.509Z, 2024-12-31T08:05:30.509Z]"
    );
    assert_eq!(
        inspected["unsignedAttributes"]["signingAgent"],
        "notation-go/1.3.0+unreleased"
    );
    let malformed = blob.join("malformed.jws.sig");
    cli.fails(&["blob", "inspect", malformed.to_str().expect("utf-8")]);
}

#[test]
fn trust_store_and_key_management() {
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    cli.ok(&["cert", "generate-test", "one", "--default"]);
    cli.ok(&["cert", "generate-test", "two", "--key-spec", "EC-384"]);
    let keys = cli.json(&["key", "list"]);
    let names: Vec<&str> = keys["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["one", "two"]);
    assert_eq!(keys["default"], "one");
    cli.ok(&["key", "update", "two", "--default"]);
    assert_eq!(cli.json(&["key", "list"])["default"], "two");

    let listed = cli.json(&["cert", "list"]);
    assert_eq!(
        listed["certificates"].as_array().map(Vec::len),
        Some(2),
        "{listed}"
    );

    // A leaf that is neither a CA nor self-signed is refused by the store.
    let bad = write(
        work.path(),
        "not-a-cert.pem",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    );
    cli.fails(&["cert", "add", "-t", "ca", "-s", "x", &bad]);

    // Registering an existing key and certificate.
    let dir = config_dir(&cli);
    let key = dir.join("localkeys/one.key");
    let crt = dir.join("localkeys/one.crt");
    cli.ok(&[
        "key",
        "add",
        "again",
        "--key-file",
        key.to_str().expect("utf-8"),
        "--cert-file",
        crt.to_str().expect("utf-8"),
    ]);
    // A key with another key's certificate is refused.
    let other = dir.join("localkeys/two.crt");
    let err = cli.fails(&[
        "key",
        "add",
        "mismatch",
        "--key-file",
        key.to_str().expect("utf-8"),
        "--cert-file",
        other.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("does not belong"), "{err}");

    cli.ok(&["key", "delete", "again"]);
    cli.ok(&["cert", "cleanup-test", "one", "-y"]);
    let names: Vec<String> = cli.json(&["key", "list"])["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| k["name"].as_str().expect("name").to_owned())
        .collect();
    assert_eq!(names, ["two"]);
    assert!(!dir.join("localkeys/one.key").exists());
}

#[test]
fn revoked_signing_certificate_fails_verification_through_its_crl() {
    use rcgen::{
        CertificateParams, CertificateRevocationListParams, CrlDistributionPoint, DnType,
        ExtendedKeyUsagePurpose, KeyIdMethod, KeyPair, KeyUsagePurpose, RevokedCertParams,
        SerialNumber,
    };

    let current_crl = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let served = current_crl.clone();
    let crls = Responder::start(Box::new(move |_| {
        let crl = served.lock().expect("crl").clone();
        ("application/pkix-crl".to_owned(), crl)
    }));
    let ours = Server::start();
    let work = tempfile::tempdir().expect("work");

    // A root that publishes a CRL, and a code-signing leaf that points at it.
    let root = test_root("Revocation Test Root");
    let mut leaf_params = CertificateParams::default();
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "Revocation Test Signer");
    leaf_params
        .distinguished_name
        .push(DnType::OrganizationName, "Hallmark Test");
    leaf_params
        .distinguished_name
        .push(DnType::StateOrProvinceName, "WA");
    leaf_params
        .distinguished_name
        .push(DnType::CountryName, "US");
    leaf_params.serial_number = Some(SerialNumber::from(0x4242u64));
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    leaf_params.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec![format!("http://{}/root.crl", crls.addr)],
    }];
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = leaf_params.signed_by(&leaf_key, &root).expect("leaf");
    let key_file = write(work.path(), "signer.key", &leaf_key.serialize_pem());
    let chain_file = write(work.path(), "signer.crt", &(leaf.pem() + &root.pem()));
    let root_file = write(work.path(), "root.crt", &root.pem());

    let crl = |revoked: Vec<RevokedCertParams>| {
        let now = time::OffsetDateTime::now_utc();
        CertificateRevocationListParams {
            this_update: now - time::Duration::hours(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked,
            key_identifier_method: KeyIdMethod::Sha256,
        }
        .signed_by(&root)
        .expect("crl")
        .der()
        .to_vec()
    };
    let revoked_leaf = || RevokedCertParams {
        serial_number: SerialNumber::from(0x4242u64),
        revocation_time: time::OffsetDateTime::now_utc() - time::Duration::days(1),
        reason_code: Some(rcgen::RevocationReason::KeyCompromise),
        invalidity_date: None,
    };

    // Each case in a fresh home, so the CRL cache of one does not answer for the other.
    for (revoked, level) in [(false, "strict"), (true, "strict"), (true, "permissive")] {
        let cli = Cli::new();
        let repo = format!("{}/revocation", ours.host());
        cli.ok(&[
            "key",
            "add",
            "signer",
            "--key-file",
            &key_file,
            "--cert-file",
            &chain_file,
            "--default",
        ]);
        cli.ok(&["cert", "add", "-t", "ca", "-s", "rev", &root_file]);
        cli.ok(&[
            "policy",
            "init",
            "--name",
            "p",
            "--scope",
            &repo,
            "--trust-store",
            "ca:rev",
            "--trusted-identity",
            "*",
            "--level",
            level,
        ]);
        let file = write(work.path(), "artifact.txt", "revocation test\n");
        let digest = push_artifact(&cli, &repo, &file);
        let by_digest = format!("{repo}@{digest}");
        cli.ok(&["sign", &by_digest]);

        let list = if revoked {
            vec![revoked_leaf()]
        } else {
            Vec::new()
        };
        *current_crl.lock().expect("crl") = crl(list);
        let out = cli.output(&["verify", &by_digest, "-o", "json"]);
        let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
        let revocation = report["signatures"][0]["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .find(|c| c["check"] == "revocation")
            .cloned()
            .expect("a revocation check");
        match (revoked, level) {
            (false, _) => {
                assert!(out.status.success(), "{report}");
                assert_eq!(revocation["result"], "passed", "{report}");
            }
            (true, "strict") => {
                assert_eq!(out.status.code(), Some(1), "{report}");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("revoked"), "{err}");
            }
            (true, _) => {
                // Permissive logs revocation instead of enforcing it.
                assert!(out.status.success(), "{report}");
                assert_eq!(revocation["result"], "failed (logged)", "{report}");
            }
        }
    }
}

#[test]
fn timestamped_signature_from_an_openssl_tsa_verifies_and_is_shown() {
    if std::process::Command::new("openssl")
        .arg("version")
        .output()
        .is_err()
    {
        assert!(
            std::env::var_os("CI").is_none(),
            "the openssl CLI must be present under CI"
        );
        println!("skipped: no openssl CLI");
        return;
    }
    let tsa = OpensslTsa::start();
    let ours = Server::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let tsa_root = write(work.path(), "tsa-root.pem", &tsa.root_pem);
    let repo = format!("{}/stamped", ours.host());
    let file = write(work.path(), "artifact.txt", "timestamped\n");
    let digest = push_artifact(&cli, &repo, &file);
    let by_digest = format!("{repo}@{digest}");

    cli.ok(&["cert", "generate-test", "signer", "--default"]);
    // A test certificate is valid from the second it was made, and a timestamp whose
    // accuracy (1 s here) reaches before that is rightly refused: sign a little later.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    cli.ok(&["cert", "add", "-t", "tsa", "-s", "openssl", &tsa_root]);
    let policy = format!(
        r#"{{"version":"1.0","trustPolicies":[{{"name":"p","registryScopes":["{repo}"],
        "signatureVerification":{{"level":"strict","verifyTimestamp":"always"}},
        "trustStores":["ca:signer","tsa:openssl"],"trustedIdentities":["*"]}}]}}"#
    );
    let policy = write(work.path(), "policy.json", &policy);
    cli.ok(&["policy", "import", &policy]);

    for format in ["jws", "cose"] {
        let signed = cli.json(&[
            "sign",
            &by_digest,
            "--signature-format",
            format,
            "--timestamp-url",
            &tsa.url(),
            "--timestamp-root-cert",
            &tsa_root,
        ]);
        assert_eq!(signed["digest"], digest.as_str());
    }
    let verified = cli.json(&["verify", &by_digest]);
    assert_eq!(verified["verified"], true, "{verified}");
    let inspected = cli.json(&["inspect", &by_digest]);
    for sig in inspected["signatures"].as_array().expect("signatures") {
        let stamp = &sig["unsignedAttributes"]["timestampSignature"];
        assert!(
            stamp["timestamp"]
                .as_str()
                .is_some_and(|t| t.starts_with('[')),
            "{sig}"
        );
        let subjects: Vec<&str> = stamp["certificates"]
            .as_array()
            .expect("tsa chain")
            .iter()
            .map(|c| c["issuedTo"].as_str().expect("subject"))
            .collect();
        assert!(
            subjects.iter().any(|s| s.contains("Test TSA")),
            "{subjects:?}"
        );
    }

    // A TSA whose root the user did not name is refused before anything is stored.
    let other = OpensslTsa::start();
    let err = cli.fails(&[
        "sign",
        &by_digest,
        "--timestamp-url",
        &other.url(),
        "--timestamp-root-cert",
        &tsa_root,
    ]);
    assert!(
        err.contains("timestamping with") && err.contains("--timestamp-root-cert"),
        "{err}"
    );
    assert_eq!(
        cli.json(&["list", &by_digest])["signatures"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
}
