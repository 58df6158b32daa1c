//! One fixture per rule `hallmark cosign verify` enforces, each named after what it checks:
//! a `.sig` (or `.att`) manifest crafted to break exactly that rule is put in a registry, and
//! verification must fail with the message that names the rule. Key files that cannot be
//! opened, and flags asking for checks Hallmark does not make, are refused the same way.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hallmark_cosign::attachment::{self, Attachment, Layer};
use hallmark_cosign::dsse::{self, Envelope};
use hallmark_cosign::key_file;
use hallmark_cosign::simple_signing::{self, Payload};
use hallmark_oci::Digest;
use hallmark_x509::SigningKey;

use crate::common::Server;
use crate::cosign_support::{PASSWORD, Signing};

/// What a fixture builds its layers from.
struct Context {
    key: SigningKey,
    repository: String,
    digest: Digest,
    other: Digest,
}

impl Context {
    fn payload(&self, digest: &Digest, annotations: &[(&str, &str)]) -> Vec<u8> {
        let annotations: BTreeMap<String, String> = annotations
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Payload::new(&self.repository, digest.clone(), &annotations).to_bytes()
    }

    fn signed(&self, payload: Vec<u8>) -> Layer {
        let signature = self.key.sign_sigstore(&payload).expect("sign");
        layer(
            simple_signing::MEDIA_TYPE,
            payload,
            Some(STANDARD.encode(signature)),
        )
    }

    fn attestation(&self, subject_hex: &str, predicate_type: &str) -> Layer {
        let statement = serde_json::json!({
            "_type": "https://in-toto.io/Statement/v0.1",
            "predicateType": predicate_type,
            "subject": [{ "name": "x", "digest": { "sha256": subject_hex } }],
            "predicate": {},
        })
        .to_string();
        let envelope = Envelope::sign(
            dsse::IN_TOTO_PAYLOAD_TYPE,
            statement.into_bytes(),
            &self.key,
        )
        .expect("sign envelope");
        layer(dsse::MEDIA_TYPE, envelope.to_bytes(), Some(String::new()))
    }
}

fn layer(media_type: &str, content: Vec<u8>, signature: Option<String>) -> Layer {
    let annotations = signature
        .map(|s| BTreeMap::from([(attachment::SIGNATURE_ANNOTATION.to_owned(), s)]))
        .unwrap_or_default();
    Layer::new(media_type, content, annotations)
}

type Build = fn(&Context) -> Layer;

/// Name, layer, which attachment, extra verify flags, the message expected.
const CASES: &[(&str, Build, Attachment, &[&str], &str)] = &[
    (
        "payload_tampered",
        |c| {
            let mut l = c.signed(c.payload(&c.digest, &[]));
            let altered = c.payload(&c.digest, &[("team", "red")]);
            l = Layer::new(
                simple_signing::MEDIA_TYPE,
                altered,
                l.descriptor.annotations.clone().unwrap_or_default(),
            );
            l
        },
        Attachment::Signatures,
        &[],
        "does not verify with the public key",
    ),
    (
        "payload_for_another_digest",
        |c| c.signed(c.payload(&c.other, &[])),
        Attachment::Signatures,
        &[],
        "the signature is for sha256:",
    ),
    (
        "annotation_mismatch",
        |c| c.signed(c.payload(&c.digest, &[("team", "red")])),
        Attachment::Signatures,
        &["-a", "team=blue"],
        "annotation \"team\" is \"red\", expected \"blue\"",
    ),
    (
        "annotation_absent",
        |c| c.signed(c.payload(&c.digest, &[])),
        Attachment::Signatures,
        &["-a", "team=blue"],
        "annotation \"team\" is absent, expected \"blue\"",
    ),
    (
        "annotation_of_another_json_type",
        |c| {
            let text = serde_json::json!({
                "critical": {
                    "identity": { "docker-reference": c.repository },
                    "image": { "docker-manifest-digest": c.digest.as_str() },
                    "type": simple_signing::SIGNATURE_TYPE,
                },
                "optional": { "build": 7 },
            })
            .to_string();
            c.signed(text.into_bytes())
        },
        Attachment::Signatures,
        &["-a", "build=7"],
        "annotation \"build\" is 7 (not a string), expected \"7\"",
    ),
    (
        "wrong_layer_media_type",
        |c| {
            let l = c.signed(c.payload(&c.digest, &[]));
            Layer::new(
                "application/octet-stream",
                l.content.to_vec(),
                l.descriptor.annotations.clone().unwrap_or_default(),
            )
        },
        Attachment::Signatures,
        &[],
        "layer media type \"application/octet-stream\" is not",
    ),
    (
        "missing_signature_annotation",
        |c| layer(simple_signing::MEDIA_TYPE, c.payload(&c.digest, &[]), None),
        Attachment::Signatures,
        &[],
        "no dev.cosignproject.cosign/signature annotation",
    ),
    (
        "signature_not_base64",
        |c| {
            let payload = c.payload(&c.digest, &[]);
            layer(
                simple_signing::MEDIA_TYPE,
                payload,
                Some("!!not base64!!".to_owned()),
            )
        },
        Attachment::Signatures,
        &[],
        "is not base64",
    ),
    (
        "not_a_cosign_payload",
        |c| {
            let text = serde_json::json!({
                "critical": {
                    "identity": { "docker-reference": "x" },
                    "image": { "docker-manifest-digest": c.digest.as_str() },
                    "type": "atomic container signature",
                },
                "optional": null,
            })
            .to_string();
            c.signed(text.into_bytes())
        },
        Attachment::Signatures,
        &[],
        "payload type \"atomic container signature\"",
    ),
    (
        "reference_mismatch",
        |c| {
            let p = Payload::new("other.example/repo", c.digest.clone(), &BTreeMap::new());
            c.signed(p.to_bytes())
        },
        Attachment::Signatures,
        &["--check-reference"],
        "names repository \"other.example/repo\"",
    ),
    (
        "attestation_subject_mismatch",
        |c| c.attestation(c.other.hex(), "https://cosign.sigstore.dev/attestation/v1"),
        Attachment::Attestations,
        &[],
        "do not include",
    ),
    (
        "attestation_envelope_tampered",
        |c| {
            let good = c.attestation(c.digest.hex(), "https://cosign.sigstore.dev/attestation/v1");
            let mut envelope = Envelope::parse(&good.content).expect("envelope");
            envelope.payload.extend_from_slice(b" ");
            layer(dsse::MEDIA_TYPE, envelope.to_bytes(), Some(String::new()))
        },
        Attachment::Attestations,
        &[],
        "does not verify with the public key",
    ),
];

/// Puts `layer` as the whole attachment of `digest` in `repo` at `host`.
fn put_attachment(host: &str, repo: &str, digest: &Digest, kind: Attachment, layer: &Layer) {
    let http = reqwest::blocking::Client::new();
    let (config, manifest) = attachment::build(std::slice::from_ref(&layer.descriptor));
    for blob in [Bytes::from(config), layer.content.clone()] {
        let blob_digest = hallmark_oci::Algorithm::Sha256.digest(&blob);
        let url = format!("http://{host}/v2/{repo}/blobs/uploads/?digest={blob_digest}");
        let r = http.post(&url).body(blob).send().expect(&url);
        assert_eq!(r.status(), 201, "{url}");
    }
    let tag = kind.tag(digest).expect("sha256 tag");
    let url = format!("http://{host}/v2/{repo}/manifests/{tag}");
    let r = http
        .put(&url)
        .header("content-type", hallmark_oci::media_type::OCI_MANIFEST)
        .body(manifest)
        .send()
        .expect(&url);
    assert_eq!(r.status(), 201, "{url}");
}

#[test]
fn each_broken_rule_is_refused_with_its_reason() {
    let server = Server::start();
    let host = server.host();
    let s = Signing::new();
    s.keys("k");
    let pem = std::fs::read(s.dir().join("k.key")).expect("key file");
    let key = key_file::load_signing_key(&pem, PASSWORD.as_bytes()).expect("open key");
    let other_image = s.push_image(&host, "other", "v1");

    for (name, build, kind, flags, expected) in CASES {
        let repo = format!("neg-{}", name.replace('_', "-"));
        let image = s.push_image(&host, &repo, "v1");
        let context = Context {
            key: SigningKey::from_pkcs8_der(&key.to_pkcs8_der().expect("der")).expect("key"),
            repository: format!("{host}/{repo}"),
            digest: s.digest(&image).parse().expect("digest"),
            other: s.digest(&other_image).parse().expect("digest"),
        };
        put_attachment(&host, &repo, &context.digest, *kind, &build(&context));
        let mut args = match kind {
            Attachment::Attestations => vec!["cosign", "verify-attestation", "--key", "k.pub"],
            _ => vec!["cosign", "verify", "--key", "k.pub"],
        };
        args.extend_from_slice(flags);
        args.push(&image);
        let err = s.fails(&args);
        assert!(
            err.contains(expected),
            "{name}: expected {expected:?} in:\n{err}"
        );
    }
}

#[test]
fn wrong_key_no_signature_and_unusable_key_files_are_refused() {
    let server = Server::start();
    let host = server.host();
    let s = Signing::new();
    s.keys("k");
    s.keys("stranger");
    let image = s.push_image(&host, "app", "v1");

    // no_signatures
    let err = s.fails(&["cosign", "verify", "--key", "k.pub", &image]);
    assert!(err.contains("no signatures found"), "{err}");

    // wrong_key
    s.ok(&["cosign", "sign", "--key", "k.key", &image]);
    let err = s.fails(&["cosign", "verify", "--key", "stranger.pub", &image]);
    assert!(err.contains("does not verify with the public key"), "{err}");

    // wrong_password
    let mut command = s.command(&["cosign", "sign", "--key", "k.key", &image]);
    command.env("COSIGN_PASSWORD", "not the password");
    let out = command.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));

    // truncated_key_file
    let text = s.read("k.key");
    s.write("truncated.key", &text[..text.len() / 2]);
    let err = s.fails(&["cosign", "sign", "--key", "truncated.key", &image]);
    assert!(err.contains("cannot open truncated.key"), "{err}");

    // public_key_given_to_sign, private_key_given_to_verify
    let err = s.fails(&["cosign", "sign", "--key", "k.pub", &image]);
    assert!(err.contains("is not an encrypted cosign key"), "{err}");
    let err = s.fails(&["cosign", "verify", "--key", "k.key", &image]);
    assert!(err.contains("not a public key file"), "{err}");

    // Checks Hallmark cannot make are refused, never skipped: exit 2 before any request.
    for flags in [
        &["--rekor-url", "https://rekor.example"][..],
        &["--certificate-identity", "me@example.com"][..],
        &["--certificate-identity-regexp", ".*"][..],
        &["--certificate", "cert.pem"][..],
        &["--trusted-root", "trusted_root.json"][..],
    ] {
        let mut args = vec!["cosign", "verify", "--key", "k.pub"];
        args.extend_from_slice(flags);
        args.push(&image);
        let err = s.fails_with(&args, 2);
        assert!(err.contains("unsupported"), "{err}");
    }
    let err = s.fails_with(
        &[
            "cosign",
            "sign",
            "--key",
            "k.key",
            "--tlog-upload=true",
            &image,
        ],
        2,
    );
    assert!(err.contains("unsupported"), "{err}");

    // annotations_in_a_bundle: a bundle's statement has no place for -a; refused, not dropped.
    let err = s.fails_with(
        &[
            "cosign",
            "sign",
            "--key",
            "k.key",
            "--new-bundle-format",
            "-a",
            "team=red",
            &image,
        ],
        2,
    );
    assert!(err.contains("drop -a or --new-bundle-format"), "{err}");
}
