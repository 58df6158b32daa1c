//! Listing (spec "Listing Tags", and the catalog extension): lexical order, `n` and `last`,
//! `Link` to the next page, `n=0`, and unknown repositories.

use serde_json::json;

use crate::support::{Registry, next_link};

/// A page query, what it must list, and whether a `Link` follows.
type PageCase = (&'static str, &'static str, &'static [&'static str], bool);

#[test]
fn tags_are_listed_in_lexical_order() {
    let reg = Registry::start();
    let tags = [
        "v2", "latest", "V1", "1.0", "_hidden", "a-b", "a.b", "a_b", "A",
    ];
    let pushed = reg.push_image("lib/app", "v2", "tags");
    for t in &tags[1..] {
        let path = format!("/v2/lib/app/manifests/{t}");
        reg.send(
            "PUT",
            &path,
            &[("content-type", pushed.media_type.as_str())],
            pushed.bytes.clone(),
        )
        .expect(201, t);
    }
    let reply = reg.get("/v2/lib/app/tags/list");
    reply.expect(200, "tags list");
    assert!(
        reply
            .header("content-type")
            .unwrap_or_default()
            .starts_with("application/json")
    );
    let mut want: Vec<&str> = tags.to_vec();
    want.sort();
    assert_eq!(reply.json(), json!({"name": "lib/app", "tags": want}));
    assert!(
        reply.header("link").is_none(),
        "everything fits in one page"
    );
}

fn tagged_registry() -> Registry {
    let reg = Registry::start();
    let pushed = reg.push_image("app", "a", "pages");
    for t in ["b", "c", "d", "e"] {
        let path = format!("/v2/app/manifests/{t}");
        reg.send(
            "PUT",
            &path,
            &[("content-type", pushed.media_type.as_str())],
            pushed.bytes.clone(),
        )
        .expect(201, t);
    }
    reg
}

#[test]
fn tags_pages_with_n_and_last() {
    let reg = tagged_registry();
    let cases: &[PageCase] = &[
        ("n_smaller_than_count", "?n=2", &["a", "b"], true),
        (
            "n_equal_to_count",
            "?n=5",
            &["a", "b", "c", "d", "e"],
            false,
        ),
        (
            "n_larger_than_count",
            "?n=100",
            &["a", "b", "c", "d", "e"],
            false,
        ),
        ("n_zero", "?n=0", &[], false),
        ("last_only", "?last=b", &["c", "d", "e"], false),
        ("n_and_last", "?n=2&last=a", &["b", "c"], true),
        ("last_not_a_tag", "?last=bb", &["c", "d", "e"], false),
        ("last_after_everything", "?last=z", &[], false),
        ("last_before_everything", "?n=1&last=0", &["a"], true),
    ];
    for (case, query, want, link) in cases {
        let reply = reg.get(&format!("/v2/app/tags/list{query}"));
        reply.expect(200, case);
        assert_eq!(reply.json(), json!({"name": "app", "tags": want}), "{case}");
        assert_eq!(next_link(&reply).is_some(), *link, "{case}");
    }
}

#[test]
fn following_tag_links_lists_every_tag_once() {
    let reg = tagged_registry();
    for n in 1..=3 {
        let mut seen = Vec::new();
        let mut url = Some(format!("/v2/app/tags/list?n={n}"));
        while let Some(u) = url {
            let reply = reg.get(&u);
            reply.expect(200, "page");
            let tags = reply.json()["tags"].as_array().expect("tags").clone();
            assert!(tags.len() <= n, "n={n}: page of {}", tags.len());
            seen.extend(
                tags.into_iter()
                    .map(|t| t.as_str().expect("tag").to_owned()),
            );
            url = next_link(&reply);
            assert!(seen.len() <= 5, "n={n}: Link loops");
        }
        assert_eq!(seen, ["a", "b", "c", "d", "e"], "n={n}");
    }
}

#[test]
fn unknown_repository_tags_are_404_name_unknown() {
    let reg = Registry::start();
    reg.push_image("app", "v1", "present");
    for path in [
        "/v2/nobody/tags/list",
        "/v2/app/sub/tags/list",
        "/v2/ap/tags/list",
    ] {
        reg.get(path).expect_error(404, "NAME_UNKNOWN", path);
    }
}

#[test]
fn repository_with_only_blobs_has_no_tags() {
    let reg = Registry::start();
    reg.push_blob("blobs-only", b"data");
    let reply = reg.get("/v2/blobs-only/tags/list");
    reply.expect(200, "blobs only");
    assert_eq!(reply.json(), json!({"name": "blobs-only", "tags": []}));
}

#[test]
fn catalog_lists_repositories_in_order_with_pages() {
    let reg = Registry::start();
    assert_eq!(reg.get("/v2/_catalog").json(), json!({"repositories": []}));
    for repo in ["b", "a/b", "a", "c-d/e", "a/b/c"] {
        reg.push_image(repo, "v1", repo);
    }
    const ALL: &[&str] = &["a", "a/b", "a/b/c", "b", "c-d/e"];
    let cases: &[PageCase] = &[
        ("everything", "", ALL, false),
        ("n_two", "?n=2", &["a", "a/b"], true),
        ("n_zero", "?n=0", &[], false),
        ("n_and_last", "?n=2&last=a/b", &["a/b/c", "b"], true),
        ("last_only", "?last=b", &["c-d/e"], false),
    ];
    for (case, query, want, link) in cases {
        let reply = reg.get(&format!("/v2/_catalog{query}"));
        reply.expect(200, case);
        assert_eq!(reply.json(), json!({"repositories": want}), "{case}");
        assert_eq!(next_link(&reply).is_some(), *link, "{case}");
    }
    let mut seen = Vec::new();
    let mut url = Some("/v2/_catalog?n=2".to_owned());
    while let Some(u) = url {
        let reply = reg.get(&u);
        let page = reply.json()["repositories"]
            .as_array()
            .expect("array")
            .clone();
        seen.extend(
            page.into_iter()
                .map(|r| r.as_str().expect("name").to_owned()),
        );
        url = next_link(&reply);
        assert!(seen.len() <= ALL.len(), "Link loops");
    }
    assert_eq!(seen, ALL);
}
