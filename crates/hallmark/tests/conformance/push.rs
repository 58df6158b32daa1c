//! Manifest push (spec "Pushing Manifests"): by tag and by digest with `?tag=`, the four
//! accepted media types, validation of what a manifest names, and the size limit.

use serde_json::{Value, json};

use crate::support::{
    DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LIST, DOCKER_MANIFEST, OCI_CONFIG, OCI_INDEX, OCI_LAYER,
    OCI_MANIFEST, Registry, descriptor, sha256, sha512,
};

#[test]
fn push_by_tag_answers_201_with_location_and_digest() {
    let reg = Registry::start();
    let manifest = reg.image_manifest("app", "tagged");
    let bytes = serde_json::to_vec_pretty(&manifest).expect("serialize");
    let reply = reg.put_manifest("app", "v1", OCI_MANIFEST, &bytes);
    reply.expect(201, "PUT by tag");
    let digest = sha256(&bytes);
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    let location = format!("/v2/app/manifests/{digest}");
    assert_eq!(reply.header("location"), Some(location.as_str()));
    assert_eq!(
        reg.get("/v2/app/manifests/v1").body,
        bytes,
        "pretty bytes kept as sent"
    );
}

#[test]
fn push_by_digest_with_tags_echoes_each_tag() {
    let reg = Registry::start();
    let manifest = reg.image_manifest("app", "multi");
    let bytes = serde_json::to_vec(&manifest).expect("serialize");
    let digest = sha256(&bytes);
    let path = format!("/v2/app/manifests/{digest}?tag=a&tag=b");
    let reply = reg.send(
        "PUT",
        &path,
        &[("content-type", OCI_MANIFEST)],
        bytes.clone(),
    );
    reply.expect(201, "PUT by digest with tags");
    assert_eq!(reply.header_all("oci-tag"), ["a", "b"]);
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    for tag in ["a", "b"] {
        let got = reg.get(&format!("/v2/app/manifests/{tag}"));
        got.expect(200, tag);
        assert_eq!(
            got.header("docker-content-digest"),
            Some(digest.as_str()),
            "{tag}"
        );
        assert_eq!(got.body, bytes, "{tag}");
    }
    assert_eq!(
        reg.get("/v2/app/tags/list").json()["tags"],
        json!(["a", "b"])
    );
}

#[test]
fn push_by_digest_with_ten_tags() {
    let reg = Registry::start();
    let manifest = reg.image_manifest("app", "ten");
    let bytes = serde_json::to_vec(&manifest).expect("serialize");
    let digest = sha256(&bytes);
    let tags: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    let query: Vec<String> = tags.iter().map(|t| format!("tag={t}")).collect();
    let path = format!("/v2/app/manifests/{digest}?{}", query.join("&"));
    let reply = reg.send("PUT", &path, &[("content-type", OCI_MANIFEST)], bytes);
    reply.expect(201, "ten tags");
    assert_eq!(reply.header_all("oci-tag"), tags);
    assert_eq!(reg.get("/v2/app/tags/list").json()["tags"], json!(tags));
}

#[test]
fn push_by_digest_alone_creates_no_tag() {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "placeholder", "seed");
    reg.delete("/v2/app/manifests/placeholder")
        .expect(202, "drop tag");
    let other = reg.image_manifest("app", "untagged");
    let bytes = serde_json::to_vec(&other).expect("serialize");
    let reply = reg.put_manifest("app", &sha256(&bytes), OCI_MANIFEST, &bytes);
    reply.expect(201, "PUT by digest");
    assert!(
        reply.header("oci-tag").is_none(),
        "no OCI-Tag without ?tag="
    );
    assert_eq!(reg.get("/v2/app/tags/list").json()["tags"], json!([]));
    reg.get(&format!("/v2/app/manifests/{}", pushed.digest))
        .expect(200, "first");
    reg.get(&format!("/v2/app/manifests/{}", sha256(&bytes)))
        .expect(200, "second");
}

#[test]
fn manifest_pushed_by_sha512_digest() {
    let reg = Registry::start();
    let manifest = reg.image_manifest("app", "sha512");
    let bytes = serde_json::to_vec(&manifest).expect("serialize");
    let digest = sha512(&bytes);
    let reply = reg.put_manifest("app", &digest, OCI_MANIFEST, &bytes);
    reply.expect(201, "PUT by sha512 digest");
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    let got = reg.get(&format!("/v2/app/manifests/{digest}"));
    got.expect(200, "GET by sha512 digest");
    assert_eq!(got.body, bytes);
}

#[test]
fn retagging_moves_the_tag() {
    let reg = Registry::start();
    let first = reg.push_image("app", "latest", "one");
    let second = reg.push_image("app", "latest", "two");
    let got = reg.get("/v2/app/manifests/latest");
    assert_eq!(
        got.header("docker-content-digest"),
        Some(second.digest.as_str())
    );
    reg.get(&format!("/v2/app/manifests/{}", first.digest))
        .expect(200, "old one stays");
}

/// Pushes the blobs of a Docker schema 2 image and returns its manifest.
fn docker_manifest(reg: &Registry, repo: &str, seed: &str) -> Value {
    let config = format!("{{\"architecture\":\"arm64\",\"seed\":\"{seed}\"}}");
    json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": reg.push_descriptor(repo, DOCKER_CONFIG, config.as_bytes()),
        "layers": [reg.push_descriptor(repo, DOCKER_LAYER, seed.as_bytes())],
    })
}

#[test]
fn every_manifest_media_type_round_trips() {
    let reg = Registry::start();
    let oci = reg.push_image("app", "oci", "oci");
    let docker = reg.push_manifest("app", "docker", &docker_manifest(&reg, "app", "docker"));
    let index = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [oci.descriptor()],
        "annotations": {"org.example": "index"},
    });
    let list = json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_LIST,
        "manifests": [{
            "mediaType": DOCKER_MANIFEST,
            "digest": docker.digest,
            "size": docker.bytes.len(),
            "platform": {"architecture": "arm64", "os": "linux"},
        }],
    });
    let index = reg.push_manifest("app", "index", &index);
    let list = reg.push_manifest("app", "list", &list);

    for (case, pushed) in [
        ("oci", oci),
        ("docker", docker),
        ("index", index),
        ("list", list),
    ] {
        for reference in [case, pushed.digest.as_str()] {
            let got = reg.get(&format!("/v2/app/manifests/{reference}"));
            got.expect(200, case);
            assert_eq!(
                got.header("content-type"),
                Some(pushed.media_type.as_str()),
                "{case}"
            );
            assert_eq!(got.body, pushed.bytes, "{case}");
        }
    }
}

#[test]
fn media_type_comes_from_the_body_or_the_header() {
    let reg = Registry::start();
    let cases = [
        ("only_in_body", true, ""),
        ("only_in_header", false, OCI_MANIFEST),
        (
            "header_with_parameters",
            true,
            "application/vnd.oci.image.manifest.v1+json; x=y",
        ),
    ];
    for (case, in_body, header) in cases {
        let mut manifest = reg.image_manifest("app", case);
        if !in_body {
            manifest
                .as_object_mut()
                .expect("object")
                .remove("mediaType");
        }
        let bytes = serde_json::to_vec(&manifest).expect("serialize");
        reg.put_manifest("app", case, header, &bytes)
            .expect(201, case);
        let got = reg.get(&format!("/v2/app/manifests/{case}"));
        assert_eq!(got.header("content-type"), Some(OCI_MANIFEST), "{case}");
        assert_eq!(got.body, bytes, "{case}");
    }
}

/// One refused push: what is sent, and the code it must be refused with (400 in every case).
struct Rejected {
    case: &'static str,
    reference: String,
    content_type: &'static str,
    body: Vec<u8>,
    code: &'static str,
}

/// A refused push of `body` under the tag `bad`.
fn rejected(
    case: &'static str,
    content_type: &'static str,
    body: Value,
    code: &'static str,
) -> Rejected {
    let body = serde_json::to_vec(&body).expect("serialize");
    rejected_bytes(case, "bad", content_type, body, code)
}

fn rejected_bytes(
    case: &'static str,
    reference: &str,
    content_type: &'static str,
    body: Vec<u8>,
    code: &'static str,
) -> Rejected {
    Rejected {
        case,
        reference: reference.to_owned(),
        content_type,
        body,
        code,
    }
}

#[test]
fn invalid_manifests_are_refused_and_not_stored() {
    let reg = Registry::start();
    let good = reg.image_manifest("app", "good");
    let config = good["config"].clone();
    let layer = good["layers"][0].clone();
    let missing = descriptor(OCI_LAYER, b"never pushed");
    let elsewhere = reg.push_descriptor("other", OCI_LAYER, b"only in other");
    let image = |config: &Value, layers: Vec<Value>| {
        let mut m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": layers});
        m["config"] = config.clone();
        m
    };
    let mut wrong_size = layer.clone();
    wrong_size["size"] = json!(9999);
    let missing_child = json!({
        "mediaType": OCI_MANIFEST, "digest": sha256(b"no manifest"), "size": 10,
    });
    let good_bytes = serde_json::to_vec(&good).expect("serialize");

    let cases = [
        rejected(
            "layer_blob_missing",
            OCI_MANIFEST,
            image(&config, vec![layer.clone(), missing.clone()]),
            "MANIFEST_BLOB_UNKNOWN",
        ),
        rejected(
            "config_blob_missing",
            OCI_MANIFEST,
            image(
                &descriptor(OCI_CONFIG, b"{\"none\":1}"),
                vec![layer.clone()],
            ),
            "MANIFEST_BLOB_UNKNOWN",
        ),
        rejected(
            "blob_only_in_another_repository",
            OCI_MANIFEST,
            image(&config, vec![elsewhere]),
            "MANIFEST_BLOB_UNKNOWN",
        ),
        rejected(
            "index_names_missing_manifest",
            OCI_INDEX,
            json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [missing_child]}),
            "MANIFEST_BLOB_UNKNOWN",
        ),
        rejected(
            "manifest_list_names_missing_manifest",
            DOCKER_LIST,
            json!({"schemaVersion": 2, "mediaType": DOCKER_LIST, "manifests": [missing_child]}),
            "MANIFEST_BLOB_UNKNOWN",
        ),
        rejected(
            "descriptor_size_wrong",
            OCI_MANIFEST,
            image(&config, vec![wrong_size]),
            "MANIFEST_INVALID",
        ),
        rejected(
            "content_type_differs_from_media_type",
            OCI_INDEX,
            good.clone(),
            "MANIFEST_INVALID",
        ),
        rejected(
            "unsupported_media_type",
            "text/plain",
            json!({"schemaVersion": 2, "config": config, "layers": []}),
            "MANIFEST_INVALID",
        ),
        rejected(
            "no_media_type_anywhere",
            "",
            json!({"schemaVersion": 2, "config": config, "layers": []}),
            "MANIFEST_INVALID",
        ),
        rejected(
            "schema_version_1",
            OCI_MANIFEST,
            json!({"schemaVersion": 1, "mediaType": OCI_MANIFEST, "config": config}),
            "MANIFEST_INVALID",
        ),
        rejected(
            "image_without_config",
            OCI_MANIFEST,
            json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "layers": [layer]}),
            "MANIFEST_INVALID",
        ),
        rejected(
            "descriptor_with_bad_digest",
            OCI_MANIFEST,
            image(
                &json!({"mediaType": OCI_CONFIG, "digest": "sha256:00", "size": 2}),
                vec![],
            ),
            "MANIFEST_INVALID",
        ),
        rejected_bytes(
            "malformed_json",
            "bad",
            OCI_MANIFEST,
            b"{\"schemaVersion\": 2, \"mediaType\": ".to_vec(),
            "MANIFEST_INVALID",
        ),
        rejected_bytes(
            "empty_body",
            "bad",
            OCI_MANIFEST,
            Vec::new(),
            "MANIFEST_INVALID",
        ),
        rejected_bytes(
            "digest_in_url_does_not_match_body",
            &sha256(b"some other manifest"),
            OCI_MANIFEST,
            good_bytes.clone(),
            "DIGEST_INVALID",
        ),
        rejected_bytes(
            "sha512_in_url_does_not_match_body",
            &sha512(b"some other manifest"),
            OCI_MANIFEST,
            good_bytes,
            "DIGEST_INVALID",
        ),
    ];
    for c in cases {
        let reply = reg.put_manifest("app", &c.reference, c.content_type, &c.body);
        reply.expect_error(400, c.code, c.case);
        reg.get(&format!("/v2/app/manifests/{}", c.reference))
            .expect(404, c.case);
        reg.get(&format!("/v2/app/manifests/{}", sha256(&c.body)))
            .expect(404, c.case);
    }
    let tags = reg.get("/v2/app/tags/list");
    assert_eq!(tags.json()["tags"], json!([]), "no refused push left a tag");
}

#[test]
fn foreign_layers_need_not_be_pushed() {
    let reg = Registry::start();
    let mut manifest = docker_manifest(&reg, "app", "foreign");
    let foreign = json!({
        "mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
        "digest": sha256(b"windows base layer"),
        "size": 18,
        "urls": ["https://example.invalid/layer"],
    });
    manifest["layers"]
        .as_array_mut()
        .expect("layers")
        .push(foreign);
    reg.push_manifest("app", "foreign", &manifest);
}

#[test]
fn subject_that_does_not_exist_is_accepted() {
    let reg = Registry::start();
    let mut manifest = reg.image_manifest("app", "referrer");
    let subject = json!({"mediaType": OCI_MANIFEST, "digest": sha256(b"future"), "size": 123});
    manifest["subject"] = subject;
    let bytes = serde_json::to_vec(&manifest).expect("serialize");
    let reply = reg.put_manifest("app", &sha256(&bytes), OCI_MANIFEST, &bytes);
    reply.expect(201, "push with dangling subject");
    let future = sha256(b"future");
    assert_eq!(reply.header("oci-subject"), Some(future.as_str()));
}

/// An image manifest of about `size` bytes, padded with annotations.
fn padded_manifest(config: &Value, size: usize) -> Vec<u8> {
    let mut annotations = serde_json::Map::new();
    let mut m = json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config,
        "layers": [], "annotations": {}});
    let base = serde_json::to_vec(&m).expect("serialize").len();
    let value = "v".repeat(1000);
    let per_entry = value.len() + 20;
    for i in 0..(size.saturating_sub(base) / per_entry) {
        annotations.insert(
            format!("org.example.pad.{i:06}"),
            Value::String(value.clone()),
        );
    }
    m["annotations"] = Value::Object(annotations);
    serde_json::to_vec(&m).expect("serialize")
}

#[test]
fn manifest_size_limit() {
    let reg = Registry::start();
    let config = reg.push_descriptor("app", OCI_CONFIG, b"{}");

    let under = padded_manifest(&config, 3_900_000);
    assert!(
        under.len() > 3_800_000 && under.len() < 4 << 20,
        "{}",
        under.len()
    );
    let reply = reg.put_manifest("app", "big", OCI_MANIFEST, &under);
    reply.expect(201, "3.9 MB manifest");
    let got = reg.get("/v2/app/manifests/big");
    assert!(got.body == under, "3.9 MB manifest read back whole");

    let over = padded_manifest(&config, (4 << 20) + 10_000);
    assert!(over.len() > 4 << 20, "{}", over.len());
    let reply = reg.put_manifest("app", "huge", OCI_MANIFEST, &over);
    reply.expect_error(413, "SIZE_INVALID", "over 4 MiB with Content-Length");

    // Without a Content-Length the server must stop reading at the limit all the same.
    let chunked = reqwest::blocking::Body::new(std::io::Cursor::new(over.clone()));
    let reply = reg.send(
        "PUT",
        "/v2/app/manifests/huge",
        &[("content-type", OCI_MANIFEST)],
        chunked,
    );
    reply.expect_error(413, "SIZE_INVALID", "over 4 MiB, chunked");
    reg.get("/v2/app/manifests/huge")
        .expect(404, "nothing stored");
}

#[test]
fn manifest_size_limit_is_configurable() {
    let reg = Registry::with_config("[registry]\nmanifest_max_bytes = 2000\n");
    let config = reg.push_descriptor("app", OCI_CONFIG, b"{}");
    let small = padded_manifest(&config, 1500);
    assert!(small.len() <= 2000);
    reg.put_manifest("app", "small", OCI_MANIFEST, &small)
        .expect(201, "under limit");
    let large = padded_manifest(&config, 3000);
    assert!(large.len() > 2000);
    reg.put_manifest("app", "large", OCI_MANIFEST, &large)
        .expect_error(413, "SIZE_INVALID", "over configured limit");
}

#[test]
fn index_may_name_docker_and_oci_children() {
    let reg = Registry::start();
    let oci = reg.push_image("app", "a", "child-oci");
    let docker = reg.push_manifest("app", "b", &docker_manifest(&reg, "app", "child-docker"));
    let inner = reg.push_manifest(
        "app",
        "inner",
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [oci.descriptor()]}),
    );
    let outer = json!({
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [oci.descriptor(), docker.descriptor(), inner.descriptor()],
    });
    reg.push_manifest("app", "outer", &outer);
}
