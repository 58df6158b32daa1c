//! `hallmark cosign sign|attest|verify|verify-attestation|tree` through the binary, against
//! `hallmark serve` (referrers API) and Debian's `docker-registry` (distribution 2.8.2, no
//! referrers API), checked by an independent Python verifier and, both ways, by the Rust
//! `sigstore` crate (`interop/sigstore-peer`); then every rule verification enforces, one
//! negative fixture per rule (`cosign/negative.rs`).

mod common;
#[path = "cosign/support.rs"]
mod cosign_support;
#[path = "cosign/negative.rs"]
mod negative;
#[path = "client/support.rs"]
mod support;

use serde_json::Value;

use crate::common::Server;
use crate::cosign_support::{Signing, python_check, sigstore_peer};
use crate::support::{Distribution, raw_manifest};

/// Both registries, by name and host; the servers stop when the value is dropped.
fn registries() -> (Server, Distribution, Vec<(&'static str, String)>) {
    let server = Server::start();
    let distribution = Distribution::start();
    let hosts = vec![
        ("hallmark", server.host()),
        ("distribution", distribution.host.clone()),
    ];
    (server, distribution, hosts)
}

#[test]
fn signatures_from_two_keys_are_appended_and_each_verifies() {
    let (_server, _distribution, hosts) = registries();
    for (name, host) in hosts {
        let s = Signing::new();
        let image = s.push_image(&host, "demo", "v1");
        s.keys("a");
        s.keys("b");
        s.ok(&[
            "cosign",
            "sign",
            "--key",
            "a.key",
            &image,
            "-a",
            "team=blue",
        ]);

        // Hallmark's layer checked by code that shares nothing with Hallmark.
        let digest = s.digest(&image);
        python_check(&s, "a.key", &host, "demo", &digest);

        s.ok(&["cosign", "sign", "--key", "b.key", &image]);
        // Signing again with the same key and annotations adds nothing.
        let again = s.ok_stderr(&[
            "cosign",
            "sign",
            "--key",
            "a.key",
            &image,
            "-a",
            "team=blue",
        ]);
        assert!(
            again.contains("already has this signature"),
            "{name}: {again}"
        );

        let sig = raw_manifest(&host, "demo", &format!("sha256-{}.sig", &digest[7..]))
            .unwrap_or_else(|| panic!("{name}: no .sig tag"));
        let sig: Value = serde_json::from_slice(&sig).expect("sig manifest");
        assert_eq!(
            sig["layers"].as_array().map(Vec::len),
            Some(2),
            "{name}: {sig}"
        );

        let out = s.ok(&[
            "cosign",
            "verify",
            "--key",
            "a.pub",
            &image,
            "-a",
            "team=blue",
        ]);
        let payloads: Value = serde_json::from_str(out.trim()).expect("verify output");
        assert_eq!(
            payloads[0]["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(
            payloads[0]["critical"]["identity"]["docker-reference"],
            format!("{host}/demo")
        );
        assert_eq!(payloads[0]["optional"]["team"], "blue");
        s.ok(&[
            "cosign",
            "verify",
            "--key",
            "b.pub",
            &image,
            "--check-reference",
        ]);

        let tree = s.ok(&["cosign", "tree", &image]);
        assert!(tree.contains(&format!("Signatures for an image tag: {host}/demo:sha256-")));
        assert_eq!(
            tree.matches("├──").count() + tree.matches("└── sha256").count(),
            2,
            "{tree}"
        );
    }
}

#[test]
fn attestations_verify_by_predicate_type() {
    let (_server, _distribution, hosts) = registries();
    for (name, host) in hosts {
        let s = Signing::new();
        let image = s.push_image(&host, "app", "v1");
        s.keys("k");
        let provenance = s.write(
            "provenance.json",
            r#"{"builder":{"id":"https://ci.example/b"},"buildType":"https://ci.example/t"}"#,
        );
        s.ok(&[
            "cosign",
            "attest",
            "--key",
            "k.key",
            "--predicate",
            &provenance,
            "--type",
            "slsaprovenance",
            &image,
        ]);
        let sbom = s.write(
            "sbom.json",
            r#"{"bomFormat":"CycloneDX","specVersion":"1.5"}"#,
        );
        s.ok(&[
            "cosign",
            "attest",
            "--key",
            "k.key",
            "--predicate",
            &sbom,
            "--type",
            "cyclonedx",
            &image,
        ]);

        let out = s.ok(&[
            "cosign",
            "verify-attestation",
            "--key",
            "k.pub",
            "--type",
            "slsaprovenance",
            &image,
        ]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "{name}: one slsaprovenance attestation: {out}"
        );
        let statement = cosign_support::statement_of(lines[0]);
        assert_eq!(
            statement["predicateType"],
            "https://slsa.dev/provenance/v0.2"
        );
        assert_eq!(
            statement["subject"][0]["digest"]["sha256"],
            &s.digest(&image)[7..]
        );
        assert_eq!(
            statement["predicate"]["builder"]["id"],
            "https://ci.example/b"
        );

        let err = s.fails(&[
            "cosign",
            "verify-attestation",
            "--key",
            "k.pub",
            "--type",
            "spdxjson",
            &image,
        ]);
        assert!(
            err.contains("no attestations found (2 of other predicate types)"),
            "{err}"
        );
        // A predicate missing its type's required fields is refused before anything is pushed.
        let bad = s.write("bad.json", r#"{"builder":{}}"#);
        let err = s.fails_with(
            &[
                "cosign",
                "attest",
                "--key",
                "k.key",
                "--predicate",
                &bad,
                "--type",
                "slsaprovenance",
                &image,
            ],
            2,
        );
        assert!(
            err.contains("required field \"buildType\" is missing"),
            "{err}"
        );
    }
}

#[test]
fn bundles_are_stored_as_referrers_on_both_registries() {
    let (_server, _distribution, hosts) = registries();
    for (name, host) in hosts {
        let s = Signing::new();
        let image = s.push_image(&host, "bundled", "v1");
        s.keys("k");
        s.ok(&[
            "cosign",
            "sign",
            "--new-bundle-format",
            "--key",
            "k.key",
            &image,
        ]);
        let digest = s.digest(&image);
        assert!(
            raw_manifest(&host, "bundled", &format!("sha256-{}.sig", &digest[7..])).is_none(),
            "{name}: the bundle format writes no .sig tag"
        );
        if name == "distribution" {
            // No referrers API: the tag schema index lists the bundle.
            let index = raw_manifest(&host, "bundled", &format!("sha256-{}", &digest[7..]))
                .expect("referrers tag index");
            let index: Value = serde_json::from_slice(&index).expect("index");
            assert_eq!(
                index["manifests"][0]["artifactType"],
                "application/vnd.dev.sigstore.bundle.v0.3+json"
            );
        }
        let out = s.ok(&["cosign", "verify", "--key", "k.pub", &image]);
        let statements: Value = serde_json::from_str(out.trim()).expect("verify output");
        assert_eq!(
            statements[0]["predicateType"],
            "https://sigstore.dev/cosign/sign/v1"
        );

        let predicate = s.write("p.json", r#"{"bomFormat":"CycloneDX"}"#);
        s.ok(&[
            "cosign",
            "attest",
            "--new-bundle-format",
            "--key",
            "k.key",
            "--predicate",
            &predicate,
            "--type",
            "cyclonedx",
            &image,
        ]);
        s.ok(&[
            "cosign",
            "verify-attestation",
            "--key",
            "k.pub",
            "--type",
            "cyclonedx",
            &image,
        ]);
        let tree = s.ok(&["cosign", "tree", &image]);
        assert_eq!(
            tree.matches("application/vnd.dev.sigstore.bundle.v0.3+json")
                .count(),
            2
        );

        // Another key's bundle does not verify.
        s.keys("other");
        let err = s.fails(&["cosign", "verify", "--key", "other.pub", &image]);
        assert!(
            err.contains("does not verify with the public key"),
            "{name}: {err}"
        );
    }
}

#[test]
fn cosign_repository_moves_signatures_to_another_repository() {
    let distribution = Distribution::start();
    let host = distribution.host.clone();
    let s = Signing::new();
    let image = s.push_image(&host, "app", "v1");
    s.keys("k");
    let elsewhere = format!("{host}/signatures");
    s.ok_env(
        &["cosign", "sign", "--key", "k.key", &image],
        "COSIGN_REPOSITORY",
        &elsewhere,
    );
    let digest = s.digest(&image);
    let tag = format!("sha256-{}.sig", &digest[7..]);
    assert!(raw_manifest(&host, "signatures", &tag).is_some());
    assert!(raw_manifest(&host, "app", &tag).is_none());
    s.ok_env(
        &["cosign", "verify", "--key", "k.pub", &image],
        "COSIGN_REPOSITORY",
        &elsewhere,
    );
    let err = s.fails(&["cosign", "verify", "--key", "k.pub", &image]);
    assert!(err.contains("no signatures found"), "{err}");
}

/// Four signers at once on a registry with no locking: every signature survives.
#[test]
fn concurrent_signers_lose_nothing() {
    let distribution = Distribution::start();
    let host = distribution.host.clone();
    let s = Signing::new();
    let image = s.push_image(&host, "busy", "v1");
    let names = ["k1", "k2", "k3", "k4"];
    for n in names {
        s.keys(n);
    }
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            s.command(&["cosign", "sign", "--key", &format!("{n}.key"), &image])
                .spawn()
                .expect("spawn signer")
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().expect("signer");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let digest = s.digest(&image);
    let sig = raw_manifest(&host, "busy", &format!("sha256-{}.sig", &digest[7..])).expect("sig");
    let sig: Value = serde_json::from_slice(&sig).expect("sig manifest");
    assert_eq!(sig["layers"].as_array().map(Vec::len), Some(4), "{sig}");
    for n in names {
        s.ok(&["cosign", "verify", "--key", &format!("{n}.pub"), &image]);
    }
}

/// RSA and P-384 keys sign with sigstore's algorithms for them; many images in one command.
#[test]
fn other_key_types_and_many_images_in_one_command() {
    let server = Server::start();
    let host = server.host();
    let s = Signing::new();
    let images: Vec<String> = (0..5)
        .map(|i| s.push_image(&host, &format!("r{i}"), "v1"))
        .collect();
    for spec in ["RSA-3072", "EC-384"] {
        let prefix = spec.to_lowercase();
        s.ok_env(
            &[
                "cosign",
                "generate-key-pair",
                "--key-spec",
                spec,
                "--output-key-prefix",
                &prefix,
            ],
            "COSIGN_PASSWORD",
            "pw",
        );
        let key = format!("{prefix}.key");
        let mut sign = vec!["cosign", "sign", "--key", key.as_str()];
        sign.extend(images.iter().map(String::as_str));
        s.ok(&sign);
        if spec == "RSA-3072" {
            // PKCS#1 v1.5 with SHA-256, as cosign signs with RSA keys.
            python_check(&s, &key, &host, "r0", &s.digest(&images[0]));
        }
        let public = format!("{prefix}.pub");
        let mut verify = vec!["cosign", "verify", "--key", public.as_str()];
        verify.extend(images.iter().map(String::as_str));
        let out = s.ok(&verify);
        assert_eq!(out.lines().count(), images.len(), "{out}");
    }
}

/// The Rust `sigstore` crate verifies what Hallmark signed, and Hallmark verifies what the
/// crate signed, with key files written by the other side.
#[test]
fn sigstore_crate_interoperates_both_ways() {
    let Some(peer) = sigstore_peer() else { return };
    let (_server, _distribution, hosts) = registries();
    for (name, host) in hosts {
        let s = Signing::new();
        let image = s.push_image(&host, "interop", "v1");

        // Hallmark's key file and signature, read and verified by sigstore-rs.
        s.keys("ours");
        let public = s.peer(&peer, &["public-key", "--key", "ours.key"]);
        assert_eq!(
            public,
            s.read("ours.pub"),
            "{name}: sigstore-rs reads our key file"
        );
        s.ok(&[
            "cosign", "sign", "--key", "ours.key", "-a", "env=prod", &image,
        ]);
        let out = s.peer(
            &peer,
            &["verify", "--key", "ours.pub", "-a", "env=prod", &image],
        );
        assert!(out.contains("\"verified_layers\":1"), "{name}: {out}");

        // The crate's key file and signature, appended next to ours, verified by Hallmark.
        s.peer(
            &peer,
            &["generate-key-pair", "--output-key-prefix", "theirs"],
        );
        s.ok(&[
            "cosign",
            "public-key",
            "--key",
            "theirs.key",
            "--outfile",
            "theirs-ours.pub",
        ]);
        // The crate writes PEM with CRLF line ends; the key is what must match.
        let theirs = s.read("theirs.pub").replace("\r\n", "\n");
        assert_eq!(s.read("theirs-ours.pub"), theirs, "{name}");
        s.peer(&peer, &["sign", "--key", "theirs.key", &image]);
        s.ok(&["cosign", "verify", "--key", "theirs.pub", &image]);
        s.ok(&[
            "cosign", "verify", "--key", "ours.pub", "-a", "env=prod", &image,
        ]);
    }
}
