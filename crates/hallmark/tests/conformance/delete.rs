//! Content management (spec "Deleting tags", "Deleting Manifests", "Deleting Blobs").

use serde_json::json;

use crate::support::{Registry, sha256};

/// The default registry, and one that keeps no manifest in memory, so that deletes are
/// checked against the files as well as against the caches.
fn registries() -> [Registry; 2] {
    [
        Registry::start(),
        Registry::with_config("[storage]\nmanifest_cache_bytes = 0\n"),
    ]
}

#[test]
fn deleting_a_tag_keeps_the_manifest() {
    for reg in registries() {
        delete_tag(&reg);
    }
}

fn delete_tag(reg: &Registry) {
    let pushed = reg.push_image("app", "v1", "tagged");
    let path = format!("/v2/app/manifests/{}?tag=v2", pushed.digest);
    reg.send(
        "PUT",
        &path,
        &[("content-type", pushed.media_type.as_str())],
        pushed.bytes.clone(),
    )
    .expect(201, "second tag");

    let reply = reg.delete("/v2/app/manifests/v1");
    reply.expect(202, "DELETE tag");
    reg.get("/v2/app/manifests/v1")
        .expect_error(404, "MANIFEST_UNKNOWN", "deleted tag");
    reg.head("/v2/app/manifests/v1")
        .expect(404, "deleted tag, HEAD");
    let by_digest = reg.get(&format!("/v2/app/manifests/{}", pushed.digest));
    by_digest.expect(200, "manifest by digest");
    assert_eq!(by_digest.body, pushed.bytes);
    reg.get("/v2/app/manifests/v2").expect(200, "other tag");
    assert_eq!(reg.get("/v2/app/tags/list").json()["tags"], json!(["v2"]));
    reg.delete("/v2/app/manifests/v1")
        .expect_error(404, "MANIFEST_UNKNOWN", "DELETE tag twice");
}

#[test]
fn deleting_a_manifest_removes_it_and_its_tags() {
    for reg in registries() {
        delete_manifest(&reg);
    }
}

fn delete_manifest(reg: &Registry) {
    let doomed = reg.push_image("app", "v1", "doomed");
    let path = format!("/v2/app/manifests/{}?tag=also", doomed.digest);
    reg.send(
        "PUT",
        &path,
        &[("content-type", doomed.media_type.as_str())],
        doomed.bytes.clone(),
    )
    .expect(201, "second tag");
    let kept = reg.push_image("app", "kept", "kept");
    // Read everything once, so that any cache holds it.
    for r in ["v1", "also", doomed.digest.as_str()] {
        reg.get(&format!("/v2/app/manifests/{r}")).expect(200, r);
    }

    reg.delete(&format!("/v2/app/manifests/{}", doomed.digest))
        .expect(202, "DELETE");
    for r in ["v1", "also", doomed.digest.as_str()] {
        let path = format!("/v2/app/manifests/{r}");
        reg.get(&path).expect_error(404, "MANIFEST_UNKNOWN", r);
        reg.head(&path).expect(404, r);
    }
    assert_eq!(reg.get("/v2/app/tags/list").json()["tags"], json!(["kept"]));
    reg.get(&format!("/v2/app/manifests/{}", kept.digest))
        .expect(200, "other manifest");
    reg.delete(&format!("/v2/app/manifests/{}", doomed.digest))
        .expect_error(404, "MANIFEST_UNKNOWN", "DELETE twice");

    // It can be pushed again afterwards.
    reg.push_manifest(
        "app",
        "again",
        &serde_json::from_slice(&doomed.bytes).expect("json"),
    );
    reg.get("/v2/app/manifests/again")
        .expect(200, "pushed again");
    reg.get("/v2/app/manifests/v1")
        .expect(404, "old tags stay deleted");
}

#[test]
fn deleting_a_manifest_leaves_other_repositories_alone() {
    let reg = Registry::start();
    let a = reg.push_image("a", "v1", "shared");
    let b = reg.push_image("b", "v1", "shared");
    assert_eq!(a.digest, b.digest, "same content in both");
    reg.delete(&format!("/v2/a/manifests/{}", a.digest))
        .expect(202, "DELETE in a");
    reg.get("/v2/a/manifests/v1").expect(404, "gone from a");
    let kept = reg.get("/v2/b/manifests/v1");
    kept.expect(200, "kept in b");
    assert_eq!(kept.body, b.bytes);
}

#[test]
fn deleting_a_blob() {
    let reg = Registry::start();
    let digest = reg.push_blob("app", b"to be deleted");
    let kept = reg.push_blob("other", b"to be deleted");
    assert_eq!(digest, kept);
    let path = format!("/v2/app/blobs/{digest}");
    reg.delete(&path).expect(202, "DELETE blob");
    reg.get(&path)
        .expect_error(404, "BLOB_UNKNOWN", "GET deleted blob");
    reg.head(&path).expect(404, "HEAD deleted blob");
    reg.delete(&path)
        .expect_error(404, "BLOB_UNKNOWN", "DELETE twice");
    let other = reg.get(&format!("/v2/other/blobs/{digest}"));
    other.expect(200, "same blob in another repository");
    assert_eq!(other.body, b"to be deleted");
}

#[test]
fn deleting_what_does_not_exist_is_404() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    let absent = sha256(b"absent");
    let cases = [
        (
            "unknown_tag",
            "/v2/app/manifests/nope".to_owned(),
            "MANIFEST_UNKNOWN",
        ),
        (
            "unknown_manifest",
            format!("/v2/app/manifests/{absent}"),
            "MANIFEST_UNKNOWN",
        ),
        (
            "unknown_blob",
            format!("/v2/app/blobs/{absent}"),
            "BLOB_UNKNOWN",
        ),
        (
            "manifest_in_unknown_repo",
            format!("/v2/nobody/manifests/{absent}"),
            "NAME_UNKNOWN",
        ),
        (
            "tag_in_unknown_repo",
            "/v2/nobody/manifests/v1".to_owned(),
            "NAME_UNKNOWN",
        ),
        (
            "blob_in_unknown_repo",
            format!("/v2/nobody/blobs/{absent}"),
            "NAME_UNKNOWN",
        ),
    ];
    for (case, path, code) in cases {
        reg.delete(&path).expect_error(404, code, case);
    }
}

#[test]
fn deleting_with_an_invalid_digest_is_400() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    for (case, path) in [
        ("blob_short_digest", "/v2/app/blobs/sha256:abc"),
        ("blob_not_a_digest", "/v2/app/blobs/latest"),
        ("manifest_short_digest", "/v2/app/manifests/sha256:abc"),
        (
            "manifest_unknown_algorithm",
            "/v2/app/manifests/md5:d41d8cd98f00b204e9800998ecf8427e",
        ),
    ] {
        reg.delete(path).expect_error(400, "DIGEST_INVALID", case);
    }
    reg.get("/v2/app/manifests/v1").expect(200, "untouched");
}
