//! Errors (spec "Error Codes"): every 4xx carries `{"errors":[{"code","message","detail"}]}`;
//! invalid repository names and path tricks are refused with `NAME_INVALID` before anything
//! is stored; invalid tags; methods an endpoint does not have; unknown endpoints.

use std::path::Path;

use crate::support::{OCI_MANIFEST, Registry, refusal, sha256};

#[test]
fn every_error_code_comes_with_its_status_and_the_spec_body() {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "v1", "errors");
    let absent = sha256(b"absent");
    let session = crate::support::start_upload(&reg, "app");
    let mut missing_layer: serde_json::Value = serde_json::from_slice(&pushed.bytes).expect("json");
    missing_layer["layers"][0]["digest"] = absent.as_str().into();
    let missing_layer = serde_json::to_vec(&missing_layer).expect("serialize");
    let unknown_session = "/v2/app/blobs/uploads/0f8fad5bd9cb469fa16570867728950e";
    let cases = [
        refusal("blob_unknown", "GET", format!("/v2/app/blobs/{absent}"))
            .answer(404, "BLOB_UNKNOWN"),
        refusal("blob_upload_invalid", "PATCH", &session)
            .header("content-range", "5-6")
            .body(b"ab")
            .answer(416, "BLOB_UPLOAD_INVALID"),
        refusal("blob_upload_unknown", "GET", unknown_session).answer(404, "BLOB_UPLOAD_UNKNOWN"),
        refusal("digest_invalid", "GET", "/v2/app/blobs/sha256:00").answer(400, "DIGEST_INVALID"),
        refusal("manifest_blob_unknown", "PUT", "/v2/app/manifests/x")
            .header("content-type", OCI_MANIFEST)
            .body(missing_layer)
            .answer(400, "MANIFEST_BLOB_UNKNOWN"),
        refusal("manifest_invalid", "PUT", "/v2/app/manifests/x")
            .header("content-type", OCI_MANIFEST)
            .body(b"not json")
            .answer(400, "MANIFEST_INVALID"),
        refusal("manifest_unknown", "GET", "/v2/app/manifests/nope")
            .answer(404, "MANIFEST_UNKNOWN"),
        refusal("name_invalid", "GET", "/v2/App/tags/list").answer(400, "NAME_INVALID"),
        refusal("name_unknown", "GET", "/v2/nobody/tags/list").answer(404, "NAME_UNKNOWN"),
        refusal("size_invalid", "PATCH", &session)
            .header("content-range", "0-9")
            .body(b"short")
            .answer(400, "SIZE_INVALID"),
        refusal("unsupported", "PATCH", "/v2/app/manifests/v1").answer(405, "UNSUPPORTED"),
    ];
    for case in &cases {
        let reply = case.check(&reg);
        assert_eq!(
            reply.header("docker-distribution-api-version"),
            Some("registry/2.0"),
            "{}",
            case.name
        );
    }
}

/// Every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir").flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).expect("under dir");
                out.push(rel.display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn invalid_names_and_path_tricks_are_name_invalid_and_store_nothing() {
    let outer = tempfile::tempdir().expect("temp dir");
    let root = outer.path().join("root");
    let reg = Registry::at(&root);
    let before = files_under(outer.path());

    let long = "a".repeat(256);
    let names = [
        ("dot_dot", "../x"),
        ("dot_dot_inside", "a/../../b"),
        ("encoded_dot_dot", "%2e%2e/x"),
        ("encoded_dot_dot_upper", "a/%2E%2E/%2E%2E/b"),
        ("encoded_slashes", "a%2F..%2F..%2Fb"),
        ("single_dot", "a/./b"),
        ("uppercase", "Library/app"),
        ("empty_component", "a//b"),
        ("leading_separator", "-a"),
        ("trailing_separator", "a-"),
        ("leading_underscore", "a/_layers"),
        ("hidden_component", ".git"),
        ("space", "a%20b"),
        ("nul_byte", "a%00b"),
        ("non_ascii", "caf%C3%A9"),
        ("too_long", long.as_str()),
    ];
    let manifest = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,
        "digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
        "layers":[]}"#;
    let blob = b"{}";
    let blob_digest = sha256(blob);
    for (case, name) in names {
        let requests: [(&str, String, &[u8]); 6] = [
            ("PUT", format!("/v2/{name}/manifests/latest"), manifest),
            (
                "POST",
                format!("/v2/{name}/blobs/uploads/?digest={blob_digest}"),
                blob,
            ),
            ("POST", format!("/v2/{name}/blobs/uploads/"), b""),
            ("GET", format!("/v2/{name}/tags/list"), b""),
            ("GET", format!("/v2/{name}/manifests/latest"), b""),
            ("DELETE", format!("/v2/{name}/blobs/{blob_digest}"), b""),
        ];
        for (method, target, body) in requests {
            let reply = reg.raw_request(method, &target, body);
            reply.expect_error(400, "NAME_INVALID", &format!("{case}: {method} {target}"));
        }
    }

    // A mount from an invalid repository is refused the same way.
    reg.push_blob("good", blob);
    let reply = reg.raw_request(
        "POST",
        &format!("/v2/good/blobs/uploads/?mount={blob_digest}&from=..%2Fx"),
        b"",
    );
    reply.expect_error(400, "NAME_INVALID", "mount from ../x");

    let catalog = reg.get("/v2/_catalog");
    assert_eq!(catalog.json()["repositories"], serde_json::json!(["good"]));
    let after: Vec<String> = files_under(outer.path())
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    let expected_new = [
        format!("root/blobs/sha256/44/{}", &blob_digest[7..]),
        format!(
            "root/repositories/good/_layers/sha256/{}",
            &blob_digest[7..]
        ),
    ];
    assert_eq!(after, expected_new, "only the valid push stored anything");
}

#[test]
fn invalid_tags_are_refused_and_store_nothing() {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "good", "tags");
    let long = "a".repeat(129);
    let tags = [
        ("leading_dot", ".x"),
        ("leading_dash", "-x"),
        ("dot_dot", "%2e%2e"),
        ("encoded_slash", "a%2Fb"),
        ("encoded_path_escape", "..%2F..%2Fescape"),
        ("space", "a%20b"),
        ("non_ascii", "t%C3%A9"),
        ("too_long", long.as_str()),
        ("empty", ""),
    ];
    for (case, tag) in tags {
        let put = format!("/v2/app/manifests/{tag}");
        let head = format!(
            "PUT {put} HTTP/1.1\r\nHost: {}\r\nContent-Type: {OCI_MANIFEST}\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            reg.server.addr,
            pushed.bytes.len()
        );
        let reply = reg.raw(&head, &pushed.bytes, false).expect("answer");
        reply.expect_error(400, "MANIFEST_INVALID", &format!("{case}: PUT"));
        reg.raw_request("GET", &put, b"").expect_error(
            400,
            "MANIFEST_INVALID",
            &format!("{case}: GET"),
        );
    }
    // An invalid `?tag=` refuses the whole push, manifest included.
    let other = reg.image_manifest("app", "other");
    let bytes = serde_json::to_vec(&other).expect("serialize");
    let digest = sha256(&bytes);
    let path = format!("/v2/app/manifests/{digest}?tag=ok&tag=.bad");
    reg.send("PUT", &path, &[("content-type", OCI_MANIFEST)], bytes)
        .expect_error(400, "MANIFEST_INVALID", "?tag=.bad");
    reg.get(&format!("/v2/app/manifests/{digest}"))
        .expect(404, "not stored");
    reg.get("/v2/app/manifests/ok").expect(404, "no tag stored");

    let tags = reg.get("/v2/app/tags/list").json();
    assert_eq!(tags["tags"], serde_json::json!(["good"]));
}

#[test]
fn methods_an_endpoint_lacks_are_405_unsupported() {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "v1", "methods");
    let d = pushed.digest.as_str();
    let session = crate::support::start_upload(&reg, "app");
    // (method, path, the methods the endpoint has)
    let manifest = "GET, HEAD, PUT, DELETE";
    let blob = "GET, HEAD, DELETE";
    let cases = [
        ("PATCH", "/v2/app/manifests/v1".to_owned(), manifest),
        ("POST", "/v2/app/manifests/v1".to_owned(), manifest),
        ("PUT", format!("/v2/app/blobs/{d}"), blob),
        ("PATCH", format!("/v2/app/blobs/{d}"), blob),
        ("POST", format!("/v2/app/blobs/{d}"), blob),
        ("POST", "/v2/app/tags/list".to_owned(), "GET"),
        ("DELETE", "/v2/app/tags/list".to_owned(), "GET"),
        ("PUT", "/v2/_catalog".to_owned(), "GET"),
        ("DELETE", "/v2/".to_owned(), "GET, HEAD"),
        ("POST", "/v2/".to_owned(), "GET, HEAD"),
        ("PUT", format!("/v2/app/referrers/{d}"), "GET"),
        ("DELETE", format!("/v2/app/referrers/{d}"), "GET"),
        ("GET", "/v2/app/blobs/uploads/".to_owned(), "POST"),
        ("PUT", "/v2/app/blobs/uploads/".to_owned(), "POST"),
        ("POST", session.clone(), "GET, PATCH, PUT, DELETE"),
    ];
    for (method, path, allow) in cases {
        let what = format!("{method} {path}");
        let reply = reg.send(method, &path, &[], Vec::new());
        reply.expect_error(405, "UNSUPPORTED", &what);
        // RFC 9110, section 15.5.6: a 405 lists the methods the resource does support.
        let mut listed: Vec<&str> = reply
            .header("allow")
            .unwrap_or_else(|| panic!("{what}: no Allow header"))
            .split(',')
            .map(str::trim)
            .collect();
        listed.sort_unstable();
        let mut want: Vec<&str> = allow.split(", ").collect();
        want.sort_unstable();
        assert_eq!(listed, want, "{what}");
    }
    reg.get("/v2/app/manifests/v1")
        .expect(200, "nothing changed");
    reg.get(&session).expect(204, "session untouched");
}

#[test]
fn unknown_endpoints_are_404_with_an_error_body() {
    let reg = Registry::start();
    for path in [
        "/",
        "/v1/",
        "/v3/",
        "/v2/app",
        "/v2/app/other/x",
        "/v2/app/tags/all",
    ] {
        reg.get(path).expect_error(404, "NAME_UNKNOWN", path);
    }
}

#[test]
fn refusals_sent_while_the_client_is_still_writing_reach_it() {
    let reg = Registry::start();
    let big = crate::support::pattern(8 << 20);
    let pushed = reg.push_image("app", "v1", "refusals");
    let gone = crate::support::start_upload(&reg, "app");
    reg.delete(&gone).expect(204, "cancel");
    let mut over_limit: serde_json::Value = serde_json::from_slice(&pushed.bytes).expect("json");
    over_limit["annotations"] = serde_json::json!({ "pad": "x".repeat(5 << 20) });
    let over_limit = serde_json::to_vec(&over_limit).expect("serialize");
    // Each refusal comes before the server reads the body: from the session, the route, the
    // declared length, the method or the query.
    for round in 0..3 {
        let session = crate::support::start_upload(&reg, "app");
        reg.send(
            "PATCH",
            &session,
            &[("content-range", "0-9")],
            big[..10].to_vec(),
        )
        .expect(202, "first chunk");
        let cases = [
            refusal("out_of_order_chunk", "PATCH", &session)
                .header("content-range", format!("20-{}", 20 + big.len() - 1))
                .body(big.clone())
                .answer(416, "BLOB_UPLOAD_INVALID"),
            refusal("cancelled_session", "PATCH", &gone)
                .body(big.clone())
                .answer(404, "BLOB_UPLOAD_UNKNOWN"),
            refusal("invalid_name", "PUT", "/v2/App/manifests/v1")
                .body(big.clone())
                .answer(400, "NAME_INVALID"),
            refusal("manifest_over_limit", "PUT", "/v2/app/manifests/big")
                .header("content-type", OCI_MANIFEST)
                .body(over_limit.clone())
                .answer(413, "SIZE_INVALID"),
            refusal(
                "method_not_allowed",
                "PUT",
                format!("/v2/app/blobs/{}", pushed.digest),
            )
            .body(big.clone())
            .answer(405, "UNSUPPORTED"),
            refusal(
                "invalid_digest",
                "POST",
                "/v2/app/blobs/uploads/?digest=sha256:00",
            )
            .body(big.clone())
            .answer(400, "DIGEST_INVALID"),
        ];
        for case in &cases {
            case.check(&reg);
        }
        let status = reg.get(&session);
        status.expect(204, &format!("round {round}: session kept"));
        assert_eq!(status.header("range"), Some("0-9"), "round {round}");
    }
}

#[test]
fn refusal_before_100_continue_is_prompt() {
    let reg = Registry::start();
    let head = format!(
        "PATCH /v2/app/blobs/uploads/0f8fad5bd9cb469fa16570867728950e HTTP/1.1\r\n\
         Host: {}\r\nContent-Length: 8388608\r\nExpect: 100-continue\r\n\
         Connection: close\r\n\r\n",
        reg.server.addr
    );
    let started = std::time::Instant::now();
    // The client waits for 100 Continue and sends nothing: the refusal must come at once.
    let reply = reg.raw(&head, b"", false).expect("an answer");
    reply.expect_error(404, "BLOB_UPLOAD_UNKNOWN", "refused before 100 Continue");
    let waited = started.elapsed();
    assert!(
        waited < std::time::Duration::from_secs(5),
        "answer took {waited:?}"
    );
}
