//! Blob uploads (spec "Pushing blobs"): POST then PUT, a single POST, chunked PATCHes with
//! `Content-Range`, session status and cancel, the final chunk on PUT, digest and length
//! checks, `OCI-Chunk-Min-Length`, cross-repository mounts and sha512.

use crate::support::{Registry, Reply, pattern, sha256, sha512, start_upload, with_query};

fn patch(reg: &Registry, location: &str, range: Option<&str>, data: &[u8]) -> Reply {
    let headers: &[(&str, &str)] = match range {
        Some(r) => &[
            ("content-range", r),
            ("content-type", "application/octet-stream"),
        ],
        None => &[("content-type", "application/octet-stream")],
    };
    reg.send("PATCH", location, headers, data.to_vec())
}

fn finish(reg: &Registry, location: &str, digest: &str, range: Option<&str>, data: &[u8]) -> Reply {
    let headers: &[(&str, &str)] = match range {
        Some(r) => &[("content-range", r)],
        None => &[],
    };
    reg.send(
        "PUT",
        &with_query(location, "digest", digest),
        headers,
        data.to_vec(),
    )
}

/// Asserts the session holds `size` bytes: GET on it is 204 with `Range` and `Location`.
#[track_caller]
fn expect_session_size(reg: &Registry, location: &str, size: u64, what: &str) {
    let reply = reg.get(location);
    reply.expect(204, what);
    let range = format!("0-{}", size.saturating_sub(1));
    assert_eq!(reply.header("range"), Some(range.as_str()), "{what}");
    assert!(reply.header("location").is_some(), "{what}: Location");
}

/// Asserts `repo` serves `data` under `digest`.
#[track_caller]
fn expect_blob(reg: &Registry, repo: &str, digest: &str, data: &[u8], what: &str) {
    let reply = reg.get(&format!("/v2/{repo}/blobs/{digest}"));
    reply.expect(200, what);
    assert!(reply.body == data, "{what}: blob bytes differ");
    assert_eq!(
        reply.header("docker-content-digest"),
        Some(digest),
        "{what}"
    );
}

#[track_caller]
fn expect_no_blob(reg: &Registry, repo: &str, digest: &str, what: &str) {
    reg.head(&format!("/v2/{repo}/blobs/{digest}"))
        .expect(404, what);
}

#[test]
fn post_then_put_stores_the_blob() {
    let reg = Registry::start();
    let data = pattern(3000);
    let digest = sha256(&data);
    let start = reg.send("POST", "/v2/app/blobs/uploads/", &[], Vec::new());
    start.expect(202, "POST");
    let location = start.header("location").expect("Location").to_owned();
    assert!(location.contains("/v2/app/blobs/uploads/"), "{location}");
    assert!(
        start.header("oci-chunk-min-length").is_none(),
        "no minimum configured"
    );

    let done = finish(&reg, &location, &digest, None, &data);
    done.expect(201, "PUT");
    let blob_location = format!("/v2/app/blobs/{digest}");
    assert_eq!(done.header("location"), Some(blob_location.as_str()));
    assert_eq!(done.header("docker-content-digest"), Some(digest.as_str()));
    expect_blob(&reg, "app", &digest, &data, "after POST+PUT");
    reg.get(&location)
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN", "session ends at PUT");
}

#[test]
fn single_post_with_digest_is_201() {
    let reg = Registry::start();
    for (case, data) in [("empty", Vec::new()), ("bytes", pattern(5000))] {
        let digest = sha256(&data);
        let path = format!("/v2/app/blobs/uploads/?digest={digest}");
        let reply = reg.send("POST", &path, &[], data.clone());
        reply.expect(201, case);
        let blob_location = format!("/v2/app/blobs/{digest}");
        assert_eq!(
            reply.header("location"),
            Some(blob_location.as_str()),
            "{case}"
        );
        expect_blob(&reg, "app", &digest, &data, case);
    }
}

#[test]
fn single_post_with_wrong_digest_stores_nothing() {
    let reg = Registry::start();
    let data = b"actual content".to_vec();
    let claimed = sha256(b"something else");
    let reply = reg.send(
        "POST",
        &format!("/v2/app/blobs/uploads/?digest={claimed}"),
        &[],
        data.clone(),
    );
    reply.expect_error(400, "DIGEST_INVALID", "single POST, wrong digest");
    expect_no_blob(&reg, "app", &claimed, "claimed digest");
    expect_no_blob(&reg, "app", &sha256(&data), "actual digest");
}

#[test]
fn chunked_upload_reports_progress_and_completes() {
    let reg = Registry::start();
    let data = pattern(30);
    let digest = sha256(&data);
    let location = start_upload(&reg, "app");
    expect_session_size(&reg, &location, 0, "fresh session");

    let mut location = location;
    for (i, chunk) in data.chunks(10).enumerate() {
        let (first, last) = (i * 10, i * 10 + chunk.len() - 1);
        let reply = patch(&reg, &location, Some(&format!("{first}-{last}")), chunk);
        reply.expect(202, "PATCH");
        let range = format!("0-{last}");
        assert_eq!(reply.header("range"), Some(range.as_str()), "chunk {i}");
        location = reply
            .header("location")
            .expect("Location after PATCH")
            .to_owned();
        expect_session_size(&reg, &location, last as u64 + 1, "after chunk");
    }

    // Nothing partial is served: the blob appears only when the PUT completes it.
    expect_no_blob(&reg, "app", &digest, "before the closing PUT");
    finish(&reg, &location, &digest, None, &[]).expect(201, "closing PUT");
    expect_blob(&reg, "app", &digest, &data, "chunked");
}

#[test]
fn chunks_without_content_range_are_appended() {
    let reg = Registry::start();
    let data = pattern(2 << 20);
    let digest = sha256(&data);
    let location = start_upload(&reg, "app");
    let (a, b) = data.split_at(1 << 20);
    let reply = patch(&reg, &location, None, a);
    reply.expect(202, "first streamed chunk");
    let range = format!("0-{}", a.len() - 1);
    assert_eq!(reply.header("range"), Some(range.as_str()));
    patch(&reg, &location, None, b).expect(202, "second streamed chunk");
    finish(&reg, &location, &digest, None, &[]).expect(201, "closing PUT");
    expect_blob(&reg, "app", &digest, &data, "streamed chunks");
}

#[test]
fn out_of_order_chunk_is_416_and_changes_nothing() {
    let reg = Registry::start();
    let data = pattern(20);
    let digest = sha256(&data);
    // (case, Content-Range of a 10-byte chunk sent after bytes 0-9)
    let cases = [
        ("gap_after_end", "15-24"),
        ("rewind_to_start", "0-9"),
        ("overlap", "5-14"),
        ("far_ahead", "1000-1009"),
    ];
    for (case, range) in cases {
        let location = start_upload(&reg, "app");
        patch(&reg, &location, Some("0-9"), &data[..10]).expect(202, "first chunk");

        let reply = patch(&reg, &location, Some(range), &data[10..]);
        reply.expect_error(416, "BLOB_UPLOAD_INVALID", case);
        assert_eq!(
            reply.header("range"),
            Some("0-9"),
            "{case}: Range of what is held"
        );
        assert!(
            reply.header("location").is_some(),
            "{case}: Location to resume"
        );
        expect_session_size(&reg, &location, 10, case);

        patch(&reg, &location, Some("10-19"), &data[10..]).expect(202, "resume");
        finish(&reg, &location, &digest, None, &[]).expect(201, case);
        expect_blob(&reg, "app", &digest, &data, case);
    }
}

#[test]
fn malformed_content_range_is_refused_and_changes_nothing() {
    let reg = Registry::start();
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-4"), &pattern(5)).expect(202, "first chunk");
    for (case, range) in [
        ("not_a_range", "abc"),
        ("end_before_start", "9-5"),
        ("no_start", "-5"),
        ("no_end", "5-"),
        ("not_numbers", "x-y"),
    ] {
        patch(&reg, &location, Some(range), &pattern(5)).expect_error(
            416,
            "BLOB_UPLOAD_INVALID",
            case,
        );
        expect_session_size(&reg, &location, 5, case);
    }
}

#[test]
fn first_chunk_must_start_at_zero() {
    let reg = Registry::start();
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("1-10"), &pattern(10)).expect_error(
        416,
        "BLOB_UPLOAD_INVALID",
        "first chunk at 1",
    );
    expect_session_size(&reg, &location, 0, "nothing kept");
}

#[test]
fn final_chunk_may_ride_on_the_put() {
    let reg = Registry::start();
    let data = pattern(25);
    let digest = sha256(&data);
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-9"), &data[..10]).expect(202, "first chunk");
    finish(&reg, &location, &digest, Some("10-24"), &data[10..]).expect(201, "PUT with chunk");
    expect_blob(&reg, "app", &digest, &data, "final chunk on PUT");

    // Without Content-Range the PUT's body is appended as well.
    let location = start_upload(&reg, "app2");
    patch(&reg, &location, Some("0-9"), &data[..10]).expect(202, "first chunk");
    finish(&reg, &location, &digest, None, &data[10..]).expect(201, "PUT with body");
    expect_blob(&reg, "app2", &digest, &data, "body on PUT");
}

#[test]
fn out_of_order_final_chunk_is_416_and_changes_nothing() {
    let reg = Registry::start();
    let data = pattern(20);
    let digest = sha256(&data);
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-9"), &data[..10]).expect(202, "first chunk");
    let reply = finish(&reg, &location, &digest, Some("12-21"), &data[10..]);
    reply.expect_error(416, "BLOB_UPLOAD_INVALID", "final chunk with a gap");
    expect_session_size(&reg, &location, 10, "after refused final chunk");
    expect_no_blob(&reg, "app", &digest, "refused final chunk");
    finish(&reg, &location, &digest, Some("10-19"), &data[10..]).expect(201, "retry");
    expect_blob(&reg, "app", &digest, &data, "after retry");
}

#[test]
fn cancelled_session_is_gone() {
    let reg = Registry::start();
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-9"), &pattern(10)).expect(202, "chunk");
    reg.delete(&location).expect(204, "DELETE session");

    let digest = sha256(&pattern(10));
    let after: [(&str, Reply); 4] = [
        ("get", reg.get(&location)),
        ("patch", patch(&reg, &location, Some("10-19"), &pattern(10))),
        ("put", finish(&reg, &location, &digest, None, &[])),
        ("delete_again", reg.delete(&location)),
    ];
    for (case, reply) in after {
        reply.expect_error(404, "BLOB_UPLOAD_UNKNOWN", case);
    }
    expect_no_blob(&reg, "app", &digest, "cancelled");
}

#[test]
fn put_with_wrong_digest_is_400_and_stores_nothing() {
    let reg = Registry::start();
    let data = pattern(100);
    let wrong = sha256(b"not this");
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-99"), &data).expect(202, "chunk");
    finish(&reg, &location, &wrong, None, &[]).expect_error(400, "DIGEST_INVALID", "PUT");
    expect_no_blob(&reg, "app", &wrong, "claimed digest");
    expect_no_blob(&reg, "app", &sha256(&data), "actual digest");

    // A digest that is not a digest at all is refused before the session is touched.
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-99"), &data).expect(202, "chunk");
    for (case, digest) in [("malformed", "sha256:abc"), ("unknown_algorithm", "md5:00")] {
        finish(&reg, &location, digest, None, &[]).expect_error(400, "DIGEST_INVALID", case);
    }
    let no_digest = reg.send("PUT", &location, &[], Vec::new());
    no_digest.expect_error(400, "DIGEST_INVALID", "PUT without ?digest=");
    expect_session_size(&reg, &location, 100, "session kept");
    finish(&reg, &location, &sha256(&data), None, &[]).expect(201, "then a good PUT");
}

#[test]
fn content_length_must_match_content_range() {
    let reg = Registry::start();
    let data = pattern(10);
    let location = start_upload(&reg, "app");
    // Content-Range says ten bytes, the body (and so Content-Length) has five.
    patch(&reg, &location, Some("0-9"), &data[..5]).expect_error(
        400,
        "SIZE_INVALID",
        "PATCH length mismatch",
    );
    expect_session_size(&reg, &location, 0, "after PATCH mismatch");
    finish(&reg, &location, &sha256(&data), Some("0-9"), &data[..5]).expect_error(
        400,
        "SIZE_INVALID",
        "PUT length mismatch",
    );
    expect_session_size(&reg, &location, 0, "after PUT mismatch");
    patch(&reg, &location, Some("0-9"), &data).expect(202, "a consistent chunk");
    finish(&reg, &location, &sha256(&data), None, &[]).expect(201, "completes");
}

#[test]
fn body_shorter_than_content_length_is_rolled_back() {
    let reg = Registry::start();
    let data = pattern(20);
    let location = start_upload(&reg, "app");
    patch(&reg, &location, Some("0-9"), &data[..10]).expect(202, "first chunk");

    // The client promises ten bytes, sends four and stops.
    let head = format!(
        "PATCH {location} HTTP/1.1\r\nHost: {}\r\nContent-Range: 10-19\r\n\
         Content-Length: 10\r\nConnection: close\r\n\r\n",
        reg.server.addr
    );
    let reply = reg.raw(&head, &data[10..14], true).expect("an answer");
    reply.expect_error(400, "BLOB_UPLOAD_INVALID", "truncated chunk");
    expect_session_size(&reg, &location, 10, "truncated chunk rolled back");
    patch(&reg, &location, Some("10-19"), &data[10..]).expect(202, "resend");
    let digest = sha256(&data);
    finish(&reg, &location, &digest, None, &[]).expect(201, "completes");
    expect_blob(&reg, "app", &digest, &data, "after a truncated chunk");

    // The same on a single POST: nothing is stored.
    let head = format!(
        "POST /v2/single/blobs/uploads/?digest={digest} HTTP/1.1\r\nHost: {}\r\n\
         Content-Length: 20\r\nConnection: close\r\n\r\n",
        reg.server.addr
    );
    let reply = reg.raw(&head, &data[..14], true).expect("an answer");
    reply.expect_error(400, "BLOB_UPLOAD_INVALID", "truncated single POST");
    expect_no_blob(&reg, "single", &digest, "truncated single POST");
}

#[test]
fn chunk_min_length_is_advertised_only_when_configured() {
    let configured = Registry::with_config("[registry]\nchunk_min_length = 1048576\n");
    let reply = configured.send("POST", "/v2/app/blobs/uploads/", &[], Vec::new());
    reply.expect(202, "POST");
    assert_eq!(reply.header("oci-chunk-min-length"), Some("1048576"));

    let default = Registry::start();
    let reply = default.send("POST", "/v2/app/blobs/uploads/", &[], Vec::new());
    reply.expect(202, "POST");
    assert_eq!(reply.header("oci-chunk-min-length"), None);
}

#[test]
fn cross_repository_mount() {
    let reg = Registry::start();
    let data = pattern(1000);
    let digest = reg.push_blob("source", &data);
    let path = format!("/v2/target/blobs/uploads/?mount={digest}&from=source");
    let reply = reg.send("POST", &path, &[], Vec::new());
    reply.expect(201, "mount");
    let blob_location = format!("/v2/target/blobs/{digest}");
    assert_eq!(reply.header("location"), Some(blob_location.as_str()));
    assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
    expect_blob(&reg, "target", &digest, &data, "mounted");
    expect_blob(&reg, "source", &digest, &data, "source keeps it");
}

#[test]
fn mount_of_what_the_source_lacks_opens_a_session() {
    let reg = Registry::start();
    let held = reg.push_blob("source", b"held");
    let data = pattern(64);
    let digest = sha256(&data);
    let cases = [
        (
            "digest_not_in_source",
            format!("?mount={digest}&from=source"),
        ),
        (
            "source_does_not_exist",
            format!("?mount={digest}&from=nobody"),
        ),
        ("no_from", format!("?mount={held}")),
    ];
    for (case, query) in cases {
        let reply = reg.send(
            "POST",
            &format!("/v2/target/blobs/uploads/{query}"),
            &[],
            vec![],
        );
        reply.expect(202, case);
        let location = reply
            .header("location")
            .expect("session Location")
            .to_owned();
        assert!(
            location.contains("/v2/target/blobs/uploads/"),
            "{case}: {location}"
        );
        finish(&reg, &location, &digest, None, &data).expect(201, case);
        expect_blob(&reg, "target", &digest, &data, case);
    }
}

#[test]
fn sha512_uploads() {
    let reg = Registry::start();
    let data = pattern(4000);
    let digest = sha512(&data);

    let reply = reg.send(
        "POST",
        "/v2/chunked/blobs/uploads/?digest-algorithm=sha512",
        &[],
        Vec::new(),
    );
    reply.expect(202, "POST with digest-algorithm");
    let location = reply.header("location").expect("Location").to_owned();
    patch(&reg, &location, Some("0-1999"), &data[..2000]).expect(202, "chunk");
    let done = finish(&reg, &location, &digest, Some("2000-3999"), &data[2000..]);
    done.expect(201, "sha512 PUT");
    assert_eq!(done.header("docker-content-digest"), Some(digest.as_str()));
    expect_blob(&reg, "chunked", &digest, &data, "sha512 chunked");

    let path = format!("/v2/single/blobs/uploads/?digest={digest}");
    reg.send("POST", &path, &[], data.clone())
        .expect(201, "sha512 single POST");
    expect_blob(&reg, "single", &digest, &data, "sha512 single POST");

    // A session opened for sha256 still completes with a sha512 digest.
    let location = start_upload(&reg, "default");
    finish(&reg, &location, &digest, None, &data).expect(201, "sha512 on a sha256 session");
    expect_blob(
        &reg,
        "default",
        &digest,
        &data,
        "sha512 on a sha256 session",
    );
}

#[test]
fn unsupported_digest_algorithm_is_400() {
    let reg = Registry::start();
    for (case, query) in [
        ("unknown_algorithm", "?digest-algorithm=md5"),
        (
            "single_post_unknown_algorithm",
            "?digest=md5:d41d8cd98f00b204e9800998ecf8427e",
        ),
        ("single_post_malformed", "?digest=sha256:xyz"),
        ("mount_malformed", "?mount=sha256:xyz&from=other"),
    ] {
        let reply = reg.send(
            "POST",
            &format!("/v2/app/blobs/uploads/{query}"),
            &[],
            vec![],
        );
        reply.expect_error(400, "DIGEST_INVALID", case);
    }
    reg.get("/v2/_catalog").expect(200, "catalog");
    assert_eq!(
        reg.get("/v2/_catalog").json()["repositories"],
        serde_json::json!([])
    );
}

#[test]
fn sessions_are_bound_to_their_repository() {
    let reg = Registry::start();
    let location = start_upload(&reg, "mine");
    let id = location.rsplit('/').next().expect("session id");
    let foreign = format!("/v2/theirs/blobs/uploads/{id}");
    reg.get(&foreign)
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN", "GET from another repo");
    patch(&reg, &foreign, Some("0-2"), b"abc").expect_error(
        404,
        "BLOB_UPLOAD_UNKNOWN",
        "PATCH from another repo",
    );
    reg.delete(&foreign)
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN", "DELETE from another repo");
    expect_session_size(&reg, &location, 0, "untouched");
}

#[test]
fn unknown_session_ids_are_404() {
    let reg = Registry::start();
    for (case, id) in [
        ("random_uuid", "0f8fad5b-d9cb-469f-a165-70867728950e"),
        ("not_a_uuid", "not-a-session"),
    ] {
        let path = format!("/v2/app/blobs/uploads/{id}");
        reg.get(&path)
            .expect_error(404, "BLOB_UPLOAD_UNKNOWN", case);
        patch(&reg, &path, None, b"x").expect_error(404, "BLOB_UPLOAD_UNKNOWN", case);
        finish(&reg, &path, &sha256(b"x"), None, b"x").expect_error(
            404,
            "BLOB_UPLOAD_UNKNOWN",
            case,
        );
    }
}

#[test]
fn concurrent_chunks_at_the_same_offset_append_once() {
    let reg = Registry::start();
    let data = pattern(2 << 20);
    let location = start_upload(&reg, "app");
    let statuses: Vec<u16> = std::thread::scope(|s| {
        let senders: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let range = format!("0-{}", data.len() - 1);
                    patch(&reg, &location, Some(&range), &data).status
                })
            })
            .collect();
        senders
            .into_iter()
            .map(|t| t.join().expect("sender thread"))
            .collect()
    });
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let refused = statuses.iter().filter(|s| **s == 416).count();
    assert_eq!((accepted, refused), (1, 3), "{statuses:?}");
    expect_session_size(&reg, &location, data.len() as u64, "one chunk appended");
    finish(&reg, &location, &sha256(&data), None, &[]).expect(201, "completes");
    expect_blob(
        &reg,
        "app",
        &sha256(&data),
        &data,
        "after concurrent chunks",
    );
}
