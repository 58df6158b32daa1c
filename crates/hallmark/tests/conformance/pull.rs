//! Pull (spec "Pulling manifests", "Pulling blobs"): the version check, manifests by tag and
//! digest with the exact bytes and headers, blobs with and without `Range`.

use std::ops::Range;

use crate::support::{Registry, pattern, sha256};

#[test]
fn version_check_answers_200_on_every_form() {
    let reg = Registry::start();
    for (method, path) in [("GET", "/v2/"), ("HEAD", "/v2/"), ("GET", "/v2")] {
        let reply = reg.send(method, path, &[], Vec::new());
        reply.expect(200, path);
        assert_eq!(
            reply.header("docker-distribution-api-version"),
            Some("registry/2.0"),
            "{method} {path}"
        );
        if method == "GET" {
            assert_eq!(reply.json(), serde_json::json!({}), "{path}");
        }
    }
}

#[test]
fn manifest_pull_by_tag_and_digest_gives_exact_bytes_and_headers() {
    let reg = Registry::start();
    let pushed = reg.push_image("library/app", "v1", "pull");
    let cases = [
        ("get_by_tag", "GET", "v1"),
        ("get_by_digest", "GET", pushed.digest.as_str()),
        ("head_by_tag", "HEAD", "v1"),
        ("head_by_digest", "HEAD", pushed.digest.as_str()),
    ];
    for (case, method, reference) in cases {
        let path = format!("/v2/library/app/manifests/{reference}");
        let reply = reg.send(method, &path, &[], Vec::new());
        reply.expect(200, case);
        assert_eq!(
            reply.header("content-type"),
            Some(pushed.media_type.as_str()),
            "{case}"
        );
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(pushed.digest.as_str()),
            "{case}"
        );
        let len = pushed.bytes.len().to_string();
        assert_eq!(reply.header("content-length"), Some(len.as_str()), "{case}");
        if method == "GET" {
            assert_eq!(reply.body, pushed.bytes, "{case}");
        } else {
            assert!(reply.body.is_empty(), "{case}: HEAD has no body");
        }
    }
}

#[test]
fn missing_manifests_are_404_manifest_unknown() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    let absent = sha256(b"never pushed");
    for (case, reference) in [("unknown_tag", "v2"), ("unknown_digest", absent.as_str())] {
        let path = format!("/v2/app/manifests/{reference}");
        reg.get(&path).expect_error(404, "MANIFEST_UNKNOWN", case);
        let head = reg.head(&path);
        head.expect(404, case);
        assert!(head.body.is_empty(), "{case}: HEAD has no body");
    }
    // A manifest of another repository is not in this one.
    let other = reg.push_image("other", "v1", "other");
    reg.get(&format!("/v2/app/manifests/{}", other.digest))
        .expect_error(404, "MANIFEST_UNKNOWN", "digest of another repository");
    // A repository nobody pushed to is unknown as a whole.
    reg.get("/v2/nobody/manifests/v1")
        .expect_error(404, "NAME_UNKNOWN", "unknown repository");
}

#[test]
fn blob_pull_gives_exact_bytes_and_headers() {
    let reg = Registry::start();
    let cases: [(&str, Vec<u8>); 3] = [
        ("empty_blob", Vec::new()),
        ("small_blob", b"hello blob".to_vec()),
        ("two_mebibyte_blob", pattern(2 << 20)),
    ];
    for (case, data) in cases {
        let digest = reg.push_blob("app", &data);
        let path = format!("/v2/app/blobs/{digest}");
        for method in ["GET", "HEAD"] {
            let reply = reg.send(method, &path, &[], Vec::new());
            reply.expect(200, case);
            assert_eq!(
                reply.header("docker-content-digest"),
                Some(digest.as_str()),
                "{case}"
            );
            let len = data.len().to_string();
            assert_eq!(
                reply.header("content-length"),
                Some(len.as_str()),
                "{case} {method}"
            );
            let want: &[u8] = if method == "GET" { &data } else { &[] };
            assert!(reply.body == want, "{case} {method}: body differs");
        }
    }
}

#[test]
fn blob_range_requests() {
    let reg = Registry::start();
    let data = pattern(100);
    let digest = reg.push_blob("app", &data);
    let path = format!("/v2/app/blobs/{digest}");
    // (case, Range, status, Content-Range, bytes served)
    type Case = (
        &'static str,
        &'static str,
        u16,
        Option<&'static str>,
        Range<usize>,
    );
    let cases: &[Case] = &[
        ("first_ten", "bytes=0-9", 206, Some("bytes 0-9/100"), 0..10),
        (
            "single_byte",
            "bytes=42-42",
            206,
            Some("bytes 42-42/100"),
            42..43,
        ),
        (
            "middle",
            "bytes=10-19",
            206,
            Some("bytes 10-19/100"),
            10..20,
        ),
        (
            "open_ended",
            "bytes=90-",
            206,
            Some("bytes 90-99/100"),
            90..100,
        ),
        (
            "end_past_size_clipped",
            "bytes=95-500",
            206,
            Some("bytes 95-99/100"),
            95..100,
        ),
        ("suffix", "bytes=-10", 206, Some("bytes 90-99/100"), 90..100),
        (
            "suffix_longer_than_blob",
            "bytes=-1000",
            206,
            Some("bytes 0-99/100"),
            0..100,
        ),
        ("multi_range_ignored", "bytes=0-1,5-6", 200, None, 0..100),
        ("other_unit_ignored", "items=0-1", 200, None, 0..100),
        ("malformed_ignored", "bytes=x-1", 200, None, 0..100),
    ];
    for (case, range, status, content_range, served) in cases {
        let reply = reg.send("GET", &path, &[("range", range)], Vec::new());
        reply.expect(*status, case);
        assert_eq!(reply.header("content-range"), *content_range, "{case}");
        assert_eq!(reply.body, &data[served.clone()], "{case}");
        let len = served.len().to_string();
        assert_eq!(reply.header("content-length"), Some(len.as_str()), "{case}");
        assert_eq!(
            reply.header("docker-content-digest"),
            Some(digest.as_str()),
            "{case}"
        );
    }
}

#[test]
fn unsatisfiable_ranges_are_416_with_the_size() {
    let reg = Registry::start();
    let digest = reg.push_blob("app", &pattern(100));
    let path = format!("/v2/app/blobs/{digest}");
    for (case, range) in [
        ("start_at_size", "bytes=100-"),
        ("start_past_size", "bytes=200-300"),
        ("empty_suffix", "bytes=-0"),
    ] {
        let reply = reg.send("GET", &path, &[("range", range)], Vec::new());
        reply.expect(416, case);
        assert_eq!(reply.header("content-range"), Some("bytes */100"), "{case}");
    }
}

#[test]
fn missing_blobs_are_404() {
    let reg = Registry::start();
    reg.push_blob("app", b"present");
    let elsewhere = reg.push_blob("other", b"only in other");
    let absent = sha256(b"absent");
    let cases = [
        ("unknown_digest", "app", absent.as_str(), "BLOB_UNKNOWN"),
        (
            "blob_of_another_repository",
            "app",
            elsewhere.as_str(),
            "BLOB_UNKNOWN",
        ),
        (
            "unknown_repository",
            "nobody",
            absent.as_str(),
            "NAME_UNKNOWN",
        ),
    ];
    for (case, repo, digest, code) in cases {
        let path = format!("/v2/{repo}/blobs/{digest}");
        reg.get(&path).expect_error(404, code, case);
        reg.head(&path).expect(404, case);
    }
}
