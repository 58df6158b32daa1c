//! The referrers API (spec "Listing Referrers"): an image index of the manifests whose
//! `subject` is a digest, with `artifactType` and annotations, the `artifactType` filter,
//! paging with `Link`, and `OCI-Subject` on push.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::support::{
    OCI_EMPTY, OCI_INDEX, OCI_MANIFEST, Pushed, Registry, Reply, next_link, sha256, with_query,
};

const SIGNATURE: &str = "application/vnd.example.signature";
const SBOM: &str = "application/vnd.example.sbom.v1+json";

/// An artifact manifest: empty config, one layer, `subject`, and the given extras.
fn artifact(reg: &Registry, repo: &str, subject: &Pushed, seed: &str, extra: Value) -> Value {
    let config = reg.push_descriptor(repo, OCI_EMPTY, b"{}");
    let layer = reg.push_descriptor(repo, "application/octet-stream", seed.as_bytes());
    let mut m = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": config,
        "layers": [layer],
        "subject": subject.descriptor(),
    });
    for (k, v) in extra.as_object().expect("extras are an object") {
        m[k] = v.clone();
    }
    m
}

/// Pushes a referrer by digest, checking `OCI-Subject`.
fn push_referrer(reg: &Registry, repo: &str, subject: &Pushed, manifest: &Value) -> Pushed {
    let bytes = serde_json::to_vec(manifest).expect("serialize");
    let media_type = manifest["mediaType"].as_str().expect("mediaType");
    let reply = reg.put_manifest(repo, &sha256(&bytes), media_type, &bytes);
    reply.expect(201, "push referrer");
    assert_eq!(reply.header("oci-subject"), Some(subject.digest.as_str()));
    Pushed {
        digest: sha256(&bytes),
        media_type: media_type.to_owned(),
        bytes,
    }
}

fn referrers(reg: &Registry, repo: &str, subject: &str, query: &str) -> Reply {
    let reply = reg.get(&format!("/v2/{repo}/referrers/{subject}{query}"));
    reply.expect(200, "referrers");
    assert_eq!(reply.header("content-type"), Some(OCI_INDEX));
    let body = reply.json();
    assert_eq!(body["schemaVersion"], 2);
    assert_eq!(body["mediaType"], OCI_INDEX);
    reply
}

/// The digests a referrers answer lists, in order.
fn digests(reply: &Reply) -> Vec<String> {
    reply.json()["manifests"]
        .as_array()
        .expect("manifests array")
        .iter()
        .map(|d| d["digest"].as_str().expect("digest").to_owned())
        .collect()
}

/// The entry for `digest` in a referrers answer.
fn entry(reply: &Reply, digest: &str) -> Value {
    reply.json()["manifests"]
        .as_array()
        .expect("manifests array")
        .iter()
        .find(|d| d["digest"] == digest)
        .unwrap_or_else(|| panic!("{digest} not listed"))
        .clone()
}

#[test]
fn referrers_list_artifact_types_and_annotations() {
    let reg = Registry::start();
    let subject = reg.push_image("app", "v1", "subject");
    let signature = artifact(
        &reg,
        "app",
        &subject,
        "sig",
        json!({"artifactType": SIGNATURE, "annotations": {"org.example.signer": "alice"}}),
    );
    let signature = push_referrer(&reg, "app", &subject, &signature);
    // No artifactType: the config's media type stands in for it.
    let mut sbom = artifact(&reg, "app", &subject, "sbom", json!({}));
    sbom["config"] = reg.push_descriptor("app", SBOM, b"{\"sbom\":true}");
    let sbom = push_referrer(&reg, "app", &subject, &sbom);
    // An index may be a referrer too; it has an artifactType only when it sets one.
    let typed_index = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "artifactType": "application/vnd.example.set",
        "manifests": [], "subject": subject.descriptor(), "annotations": {"k": "v"},
    });
    let typed_index = push_referrer(&reg, "app", &subject, &typed_index);
    let plain_index = json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [signature.descriptor()],
        "subject": subject.descriptor(),
    });
    let plain_index = push_referrer(&reg, "app", &subject, &plain_index);
    // A manifest without subject, and one with another subject, are not listed.
    reg.push_image("app", "unrelated", "unrelated");
    let other = artifact(
        &reg,
        "app",
        &signature,
        "nested",
        json!({"artifactType": SIGNATURE}),
    );
    push_referrer(&reg, "app", &signature, &other);

    let reply = referrers(&reg, "app", &subject.digest, "");
    assert!(
        reply.header("oci-filters-applied").is_none(),
        "no filter asked for"
    );
    let mut want = vec![
        signature.digest.clone(),
        sbom.digest.clone(),
        typed_index.digest.clone(),
        plain_index.digest.clone(),
    ];
    want.sort();
    let mut got = digests(&reply);
    got.sort();
    assert_eq!(got, want);

    let cases: [(&str, &Pushed, Option<&str>, Value); 4] = [
        (
            "artifact_type_set",
            &signature,
            Some(SIGNATURE),
            json!({"org.example.signer": "alice"}),
        ),
        ("from_config_media_type", &sbom, Some(SBOM), Value::Null),
        (
            "index_with_artifact_type",
            &typed_index,
            Some("application/vnd.example.set"),
            json!({"k": "v"}),
        ),
        (
            "index_without_artifact_type",
            &plain_index,
            None,
            Value::Null,
        ),
    ];
    for (case, pushed, artifact_type, annotations) in cases {
        let e = entry(&reply, &pushed.digest);
        assert_eq!(e["mediaType"], pushed.media_type.as_str(), "{case}");
        assert_eq!(e["size"], pushed.bytes.len(), "{case}");
        assert_eq!(e["artifactType"].as_str(), artifact_type, "{case}");
        assert_eq!(
            e.get("annotations").cloned().unwrap_or(Value::Null),
            annotations,
            "{case}"
        );
    }
}

#[test]
fn artifact_type_filter() {
    let reg = Registry::start();
    let subject = reg.push_image("app", "v1", "subject");
    let mut pushed = Vec::new();
    for (seed, artifact_type) in [("s1", SIGNATURE), ("s2", SIGNATURE), ("b1", SBOM)] {
        let m = artifact(
            &reg,
            "app",
            &subject,
            seed,
            json!({"artifactType": artifact_type}),
        );
        pushed.push((
            artifact_type,
            push_referrer(&reg, "app", &subject, &m).digest,
        ));
    }
    let cases = [
        ("signatures", SIGNATURE, 2),
        ("sboms", SBOM, 1),
        ("no_match", "application/vnd.example.none", 0),
    ];
    for (case, filter, count) in cases {
        let query = format!("?artifactType={}", filter.replace('+', "%2B"));
        let reply = referrers(&reg, "app", &subject.digest, &query);
        assert_eq!(
            reply.header("oci-filters-applied"),
            Some("artifactType"),
            "{case}"
        );
        let got: BTreeSet<String> = digests(&reply).into_iter().collect();
        let want: BTreeSet<String> = pushed
            .iter()
            .filter(|(t, _)| *t == filter)
            .map(|(_, d)| d.clone())
            .collect();
        assert_eq!(got.len(), count, "{case}");
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn unknown_subject_has_an_empty_list() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    let absent = sha256(b"no such subject");
    for (case, repo) in [
        ("known_repository", "app"),
        ("unknown_repository", "nobody"),
    ] {
        let reply = referrers(&reg, repo, &absent, "");
        assert_eq!(reply.json()["manifests"], json!([]), "{case}");
        assert!(reply.header("link").is_none(), "{case}");
    }
}

#[test]
fn invalid_subject_digest_is_400() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    for (case, digest) in [
        ("tag_instead_of_digest", "v1"),
        ("short_hex", "sha256:abc"),
        ("unknown_algorithm", "md5:d41d8cd98f00b204e9800998ecf8427e"),
        (
            "uppercase_hex",
            &sha256(b"x").to_uppercase().replace("SHA256", "sha256"),
        ),
    ] {
        reg.get(&format!("/v2/app/referrers/{digest}"))
            .expect_error(400, "DIGEST_INVALID", case);
    }
}

/// Follows `Link` from the first page; returns every page's digests.
fn all_pages(reg: &Registry, first: &str) -> Vec<Vec<String>> {
    let mut pages = Vec::new();
    let mut url = Some(first.to_owned());
    while let Some(u) = url {
        let reply = reg.get(&u);
        reply.expect(200, "referrers page");
        assert_eq!(reply.header("content-type"), Some(OCI_INDEX));
        pages.push(digests(&reply));
        url = next_link(&reply);
        assert!(pages.len() <= 10, "Link loops");
    }
    pages
}

#[test]
fn referrers_are_paged_with_link() {
    let reg = Registry::with_config("[registry]\nreferrers_page_size = 2\n");
    let subject = reg.push_image("app", "v1", "subject");
    let mut signatures = BTreeSet::new();
    let mut all = BTreeSet::new();
    for i in 0..5 {
        let artifact_type = if i % 2 == 0 { SIGNATURE } else { SBOM };
        let m = artifact(
            &reg,
            "app",
            &subject,
            &format!("r{i}"),
            json!({"artifactType": artifact_type}),
        );
        let d = push_referrer(&reg, "app", &subject, &m).digest;
        if artifact_type == SIGNATURE {
            signatures.insert(d.clone());
        }
        all.insert(d);
    }
    let cases = [
        ("unfiltered", String::new(), all, vec![2, 2, 1]),
        (
            "filtered",
            format!("?artifactType={SIGNATURE}"),
            signatures,
            vec![2, 1],
        ),
    ];
    for (case, query, want, sizes) in cases {
        let first = format!("/v2/app/referrers/{}{query}", subject.digest);
        let pages = all_pages(&reg, &first);
        let got_sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
        assert_eq!(got_sizes, sizes, "{case}");
        let listed: Vec<String> = pages.into_iter().flatten().collect();
        let got: BTreeSet<String> = listed.iter().cloned().collect();
        assert_eq!(got.len(), listed.len(), "{case}: an entry listed twice");
        assert_eq!(got, want, "{case}");
    }
}

#[test]
fn deleted_referrer_leaves_the_list() {
    let reg = Registry::start();
    let subject = reg.push_image("app", "v1", "subject");
    let keep = artifact(
        &reg,
        "app",
        &subject,
        "keep",
        json!({"artifactType": SIGNATURE}),
    );
    let keep = push_referrer(&reg, "app", &subject, &keep);
    let cases = [
        ("list_read_before_delete", true),
        ("list_not_read_before_delete", false),
    ];
    for (case, read_first) in cases {
        let gone = artifact(&reg, "app", &subject, case, json!({"artifactType": SBOM}));
        let gone = push_referrer(&reg, "app", &subject, &gone);
        if read_first {
            let listed = digests(&referrers(&reg, "app", &subject.digest, ""));
            assert!(
                listed.contains(&gone.digest),
                "{case}: listed before delete"
            );
        }
        reg.delete(&format!("/v2/app/manifests/{}", gone.digest))
            .expect(202, case);
        let listed = digests(&referrers(&reg, "app", &subject.digest, ""));
        assert_eq!(listed, std::slice::from_ref(&keep.digest), "{case}");
    }
}

#[test]
fn sha512_subject() {
    let reg = Registry::start();
    let manifest = reg.image_manifest("app", "sha512 subject");
    let bytes = serde_json::to_vec(&manifest).expect("serialize");
    let digest = crate::support::sha512(&bytes);
    reg.put_manifest("app", &digest, OCI_MANIFEST, &bytes)
        .expect(201, "subject by sha512");
    let subject = Pushed {
        digest: digest.clone(),
        media_type: OCI_MANIFEST.into(),
        bytes,
    };
    let m = artifact(
        &reg,
        "app",
        &subject,
        "sig512",
        json!({"artifactType": SIGNATURE}),
    );
    let referrer = push_referrer(&reg, "app", &subject, &m);
    let listed = digests(&referrers(&reg, "app", &digest, ""));
    assert_eq!(listed, [referrer.digest]);
}

#[test]
fn referrers_are_per_repository() {
    let reg = Registry::start();
    let subject = reg.push_image("app", "v1", "subject");
    reg.push_image("copy", "v1", "subject");
    let sig = artifact(
        &reg,
        "app",
        &subject,
        "sig",
        json!({"artifactType": SIGNATURE}),
    );
    push_referrer(&reg, "app", &subject, &sig);
    let reply = referrers(&reg, "copy", &subject.digest, "");
    assert_eq!(
        reply.json()["manifests"],
        json!([]),
        "other repository lists nothing"
    );
}

#[test]
fn referrer_pushed_by_tag_answers_oci_subject() {
    let reg = Registry::start();
    let subject = reg.push_image("app", "v1", "subject");
    let m = artifact(
        &reg,
        "app",
        &subject,
        "tagged",
        json!({"artifactType": SIGNATURE}),
    );
    let bytes = serde_json::to_vec(&m).expect("serialize");
    let reply = reg.put_manifest("app", "sig", OCI_MANIFEST, &bytes);
    reply.expect(201, "push by tag");
    assert_eq!(reply.header("oci-subject"), Some(subject.digest.as_str()));
    let listed = digests(&referrers(&reg, "app", &subject.digest, ""));
    assert_eq!(listed, [sha256(&bytes)]);
    // A push without subject has no OCI-Subject.
    let plain = reg.image_manifest("app", "plain");
    let bytes = serde_json::to_vec(&plain).expect("serialize");
    let reply = reg.put_manifest("app", "plain", OCI_MANIFEST, &bytes);
    reply.expect(201, "plain push");
    assert!(reply.header("oci-subject").is_none());
}

#[test]
fn paging_link_keeps_working_after_a_query_with_last() {
    let reg = Registry::with_config("[registry]\nreferrers_page_size = 1\n");
    let subject = reg.push_image("app", "v1", "subject");
    for i in 0..3 {
        let m = artifact(&reg, "app", &subject, &format!("p{i}"), json!({}));
        push_referrer(&reg, "app", &subject, &m);
    }
    let first = referrers(&reg, "app", &subject.digest, "");
    let next = next_link(&first).expect("Link on a full page");
    assert!(
        next.contains(&format!("/v2/app/referrers/{}", subject.digest)),
        "{next}"
    );
    let second = reg.get(&next);
    second.expect(200, "second page");
    assert_ne!(digests(&first), digests(&second));
    let bad = with_query(
        &format!("/v2/app/referrers/{}", subject.digest),
        "last",
        "nope",
    );
    reg.get(&bad)
        .expect_error(400, "DIGEST_INVALID", "last is not a digest");
}
