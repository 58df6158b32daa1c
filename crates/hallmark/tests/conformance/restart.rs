//! Restarts: a server started again on the same root serves everything the first one
//! stored, and upload sessions opened before the restart can still be completed.

use serde_json::json;

use crate::support::{OCI_EMPTY, OCI_MANIFEST, Registry, pattern, sha256, sha512, with_query};

/// How the first server ends.
#[derive(Debug, Clone, Copy)]
enum Ending {
    /// SIGKILL, as a crash would.
    Killed,
    /// SIGTERM, a graceful stop.
    Stopped,
}

fn end(mut reg: Registry, how: Ending) {
    match how {
        Ending::Killed => reg.server.kill(),
        Ending::Stopped => reg.server.stop(),
    }
}

#[test]
fn everything_survives_a_restart() {
    for how in [Ending::Killed, Ending::Stopped] {
        let dir = tempfile::tempdir().expect("temp dir");
        let reg = Registry::at(dir.path());
        let blob = pattern(100_000);
        let blob_digest = reg.push_blob("lib/app", &blob);
        let image = reg.push_image("lib/app", "v1", "restart");
        let path = format!("/v2/lib/app/manifests/{}?tag=v2&tag=gone", image.digest);
        reg.send(
            "PUT",
            &path,
            &[("content-type", OCI_MANIFEST)],
            image.bytes.clone(),
        )
        .expect(201, "more tags");
        reg.delete("/v2/lib/app/manifests/gone")
            .expect(202, "delete a tag");
        let referrer = json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": "application/x.sig",
            "config": reg.push_descriptor("lib/app", OCI_EMPTY, b"{}"),
            "layers": [], "subject": image.descriptor(),
        });
        let referrer = reg.push_manifest("lib/app", "sig", &referrer);
        let deleted = reg.push_image("lib/app", "deleted", "deleted");
        reg.delete(&format!("/v2/lib/app/manifests/{}", deleted.digest))
            .expect(202, "delete");
        end(reg, how);

        let reg = Registry::at(dir.path());
        let case = format!("{how:?}");
        let got = reg.get(&format!("/v2/lib/app/blobs/{blob_digest}"));
        got.expect(200, &case);
        assert!(got.body == blob, "{case}: blob bytes");
        for reference in ["v1", "v2", image.digest.as_str()] {
            let got = reg.get(&format!("/v2/lib/app/manifests/{reference}"));
            got.expect(200, &case);
            assert_eq!(got.body, image.bytes, "{case}: {reference}");
            assert_eq!(got.header("content-type"), Some(OCI_MANIFEST), "{case}");
        }
        for reference in ["gone", "deleted", deleted.digest.as_str()] {
            reg.get(&format!("/v2/lib/app/manifests/{reference}"))
                .expect(404, &case);
        }
        let tags = reg.get("/v2/lib/app/tags/list").json();
        assert_eq!(tags["tags"], json!(["sig", "v1", "v2"]), "{case}");
        assert_eq!(
            reg.get("/v2/_catalog").json()["repositories"],
            json!(["lib/app"])
        );
        let referrers = reg
            .get(&format!("/v2/lib/app/referrers/{}", image.digest))
            .json();
        let listed = &referrers["manifests"];
        assert_eq!(
            listed.as_array().map(Vec::len),
            Some(1),
            "{case}: {referrers}"
        );
        assert_eq!(listed[0]["digest"], referrer.digest.as_str(), "{case}");
        assert_eq!(listed[0]["artifactType"], "application/x.sig", "{case}");
    }
}

#[test]
fn upload_session_survives_a_restart() {
    let data = pattern(3 << 20);
    // (case, algorithm asked at POST, digest given at PUT)
    let cases = [
        ("sha256", "", sha256(&data)),
        ("sha512", "?digest-algorithm=sha512", sha512(&data)),
    ];
    for (case, query, digest) in cases {
        for how in [Ending::Killed, Ending::Stopped] {
            let dir = tempfile::tempdir().expect("temp dir");
            let reg = Registry::at(dir.path());
            let start = reg.send(
                "POST",
                &format!("/v2/app/blobs/uploads/{query}"),
                &[],
                vec![],
            );
            start.expect(202, case);
            let location = start.header("location").expect("Location").to_owned();
            let first = 2 << 20;
            let range = format!("0-{}", first - 1);
            reg.send(
                "PATCH",
                &location,
                &[("content-range", &range)],
                data[..first].to_vec(),
            )
            .expect(202, case);
            end(reg, how);

            let reg = Registry::at(dir.path());
            let what = format!("{case} after {how:?}");
            let status = reg.get(&location);
            status.expect(204, &what);
            assert_eq!(status.header("range"), Some(range.as_str()), "{what}");
            let range = format!("{first}-{}", data.len() - 1);
            let rest = data[first..].to_vec();
            reg.send("PATCH", &location, &[("content-range", &range)], rest)
                .expect(202, &what);
            reg.send(
                "PUT",
                &with_query(&location, "digest", &digest),
                &[],
                Vec::new(),
            )
            .expect(201, &what);
            let got = reg.get(&format!("/v2/app/blobs/{digest}"));
            got.expect(200, &what);
            assert!(got.body == data, "{what}: blob bytes");
        }
    }
}

#[test]
fn wrong_digest_after_restart_is_still_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let reg = Registry::at(dir.path());
    let location = crate::support::start_upload(&reg, "app");
    reg.send("PATCH", &location, &[("content-range", "0-9")], pattern(10))
        .expect(202, "chunk");
    end(reg, Ending::Killed);

    let reg = Registry::at(dir.path());
    let wrong = sha256(b"wrong");
    reg.send(
        "PUT",
        &with_query(&location, "digest", &wrong),
        &[],
        Vec::new(),
    )
    .expect_error(400, "DIGEST_INVALID", "wrong digest after restart");
    reg.head(&format!("/v2/app/blobs/{wrong}"))
        .expect(404, "not stored");
    reg.head(&format!("/v2/app/blobs/{}", sha256(&pattern(10))))
        .expect(404, "not stored");
}

#[test]
fn stale_upload_sessions_are_removed_at_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("hallmark.toml");
    std::fs::write(&config, "[storage]\nstale_upload_hours = 0\n").expect("write config");
    let config = config.to_str().expect("UTF-8 path");
    let root = dir.path().join("root");
    let first = Registry::at_with(&root, &["--config", config]);
    let location = crate::support::start_upload(&first, "app");
    drop(first);

    // Every session is older than zero hours by the time the next server starts.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let second = Registry::at_with(&root, &["--config", config]);
    second
        .get(&location)
        .expect_error(404, "BLOB_UPLOAD_UNKNOWN", "stale session removed");
}

#[test]
fn concurrent_pushes_to_one_tag_agree_with_what_is_stored() {
    let dir = tempfile::tempdir().expect("temp dir");
    let reg = Registry::at(dir.path());
    let images: Vec<_> = (0..6)
        .map(|i| reg.image_manifest("app", &format!("race {i}")))
        .collect();
    std::thread::scope(|s| {
        for image in &images {
            s.spawn(|| {
                for _ in 0..5 {
                    reg.push_manifest("app", "race", image);
                }
            });
        }
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..40 {
                    let got = reg.get("/v2/app/manifests/race");
                    if got.status == 200 {
                        // Whatever is served, its digest header names its bytes.
                        let digest = got.header("docker-content-digest").expect("digest");
                        assert_eq!(digest, sha256(&got.body), "torn read");
                    }
                }
            });
        }
    });
    let before = reg.get("/v2/app/manifests/race");
    before.expect(200, "tag after the race");
    assert_eq!(reg.get("/v2/app/tags/list").json()["tags"], json!(["race"]));
    end(reg, Ending::Killed);

    // What the caches served is what the files say.
    let reg = Registry::at(dir.path());
    let after = reg.get("/v2/app/manifests/race");
    after.expect(200, "tag after restart");
    assert_eq!(
        after.body, before.body,
        "cache and disk disagree on the tag"
    );
}
