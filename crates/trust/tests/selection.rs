//! Choosing a statement (exact scope, then `*`, else an explanation), identity matching
//! against real certificates, and `policy init`.

use std::fs;
use std::path::Path;

use hallmark_trust::policy::{PolicyWriteError, ScopeHintKind, write_policy};
use hallmark_trust::{
    BlobPolicyInit, ConfigDir, Level, OciPolicyInit, OciTrustPolicyDocument, PolicySelectionError,
    TrustedIdentity,
};
use hallmark_x509::Certificate;

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/notation"
);

fn statement(name: &str, scopes: &[&str]) -> String {
    let scopes: Vec<String> = scopes.iter().map(|s| format!("{s:?}")).collect();
    format!(
        r#"{{"name":"{name}","registryScopes":[{}],"signatureVerification":{{"level":"strict"}},
            "trustStores":["ca:s"],"trustedIdentities":["*"]}}"#,
        scopes.join(",")
    )
}

fn doc(statements: &[String]) -> OciTrustPolicyDocument {
    let text = format!(
        r#"{{"version":"1.0","trustPolicies":[{}]}}"#,
        statements.join(",")
    );
    OciTrustPolicyDocument::parse(text.as_bytes()).expect("valid document")
}

#[test]
fn exact_scope_beats_wildcard_in_any_order() {
    let wildcard_first = doc(&[statement("any", &["*"]), statement("exact", &["r.io/app"])]);
    let exact_first = doc(&[statement("exact", &["r.io/app"]), statement("any", &["*"])]);
    for d in [&wildcard_first, &exact_first] {
        assert_eq!(d.select("r.io/app").expect("exact").name, "exact");
        assert_eq!(d.select("r.io/app:v1").expect("tag ignored").name, "exact");
        assert_eq!(
            d.select("r.io/app@sha256:00").expect("digest ignored").name,
            "exact"
        );
        assert_eq!(d.select("r.io/other").expect("wildcard").name, "any");
        assert_eq!(
            d.select("r.io/app/sub").expect("no prefix match").name,
            "any"
        );
    }
}

#[test]
fn scope_without_registry_host_is_explained() {
    let d = doc(&[statement("app", &["myorg/myapp"])]);
    let err = d
        .select("localhost:5000/myorg/myapp")
        .expect_err("no match");
    let message = err.to_string();
    assert!(
        message.contains(
            "scope \"myorg/myapp\" never matches \"localhost:5000/myorg/myapp\": registry scopes \
             must include the registry host"
        ),
        "{message}"
    );
    assert!(message.starts_with("artifact \"localhost:5000/myorg/myapp\" has no applicable"));
    let PolicySelectionError::NoApplicablePolicy { hints, .. } = err else {
        panic!("wrong variant")
    };
    assert_eq!(hints[0].kind, ScopeHintKind::ScopeLacksHost);

    let d = doc(&[statement("app", &["localhost:5000/myapp"])]);
    let err = d.select("myapp").expect_err("no match");
    assert!(
        err.to_string()
            .contains("the artifact reference must include the registry host"),
        "{err}"
    );
}

#[test]
fn no_applicable_policy() {
    let d = doc(&[statement("app", &["r.io/app"])]);
    let err = d.select("q.io/other").expect_err("no match");
    let message = err.to_string();
    assert!(
        message.contains("artifact \"q.io/other\" has no applicable oci trust policy statement")
    );
    assert!(
        message.contains("To create a trust policy, see: https://notaryproject.dev/"),
        "{message}"
    );
}

#[test]
fn identity_matches_real_leaf() {
    let path = Path::new(VECTORS).join("jws-cose-pair/truststore/x509/ca/alpine/alpine.pem");
    let Ok(pem) = fs::read(&path) else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent", path.display());
        return;
    };
    let subject = Certificate::parse_many(&pem).expect("parse")[0].subject();
    let policy_bytes =
        fs::read(Path::new(VECTORS).join("jws-cose-pair/trustpolicy.json")).expect("policy");
    let policy = OciTrustPolicyDocument::parse(&policy_bytes).expect("valid");
    let selected = policy.select("localhost:5000/test").expect("scope");
    assert!(
        selected
            .trusted_identities
            .iter()
            .any(|i| i.matches(&subject))
    );

    let reordered = identity_of("x509.subject: C=US, S=WA, O=Notary, CN=alpine");
    assert!(reordered.matches(&subject), "order and S synonym");
    let subset = identity_of("x509.subject: C=US,ST=WA,O=Notary");
    assert!(subset.matches(&subject), "extra leaf attributes are fine");
    let wrong = identity_of("x509.subject: C=US,ST=WA,O=Notary,OU=Missing");
    assert!(
        !wrong.matches(&subject),
        "an attribute absent from the leaf fails"
    );
    let wrong = identity_of("x509.subject: CN=alpine,O=Notary,L=Seattle,ST=WA,C=USB");
    assert!(!wrong.matches(&subject));
}

fn identity_of(value: &str) -> TrustedIdentity {
    let d = OciPolicyInit {
        name: "n".into(),
        registry_scopes: vec!["*".into()],
        level: Level::Strict,
        trust_stores: vec!["ca:s".into()],
        trusted_identities: vec![value.into()],
    }
    .build()
    .expect("valid identity");
    d.statements()[0].policy.trusted_identities[0].clone()
}

#[test]
fn policy_init_builds_valid_documents_and_write_refuses_overwrite() {
    let oci = OciPolicyInit {
        name: "wabbit".into(),
        registry_scopes: vec!["localhost:5000/net-monitor".into()],
        level: Level::Strict,
        trust_stores: vec!["ca:wabbit-networks.io".into()],
        trusted_identities: vec!["x509.subject: C=US, ST=WA, O=wabbit-networks.io".into()],
    }
    .build()
    .expect("oci");
    let text = String::from_utf8(oci.raw().to_vec()).expect("utf8");
    assert!(
        text.starts_with("{\n    \"version\": \"1.0\",\n    \"trustPolicies\": ["),
        "{text}"
    );
    assert_eq!(
        oci.select("localhost:5000/net-monitor")
            .expect("select")
            .name,
        "wabbit"
    );

    let skip = OciPolicyInit {
        name: "skip".into(),
        registry_scopes: vec!["*".into()],
        level: Level::Skip,
        trust_stores: vec![],
        trusted_identities: vec![],
    }
    .build()
    .expect("skip");
    assert!(!String::from_utf8_lossy(skip.raw()).contains("trustStores"));

    let bad = OciPolicyInit {
        name: "bad".into(),
        registry_scopes: vec!["*".into()],
        level: Level::Audit,
        trust_stores: vec![],
        trusted_identities: vec!["*".into()],
    };
    assert!(bad.build().is_err(), "init validates like import");

    let blob = BlobPolicyInit {
        name: "blobs".into(),
        level: Level::Permissive,
        trust_stores: vec!["ca:s".into()],
        trusted_identities: vec!["*".into()],
        global: true,
    }
    .build()
    .expect("blob");
    assert!(String::from_utf8_lossy(blob.raw()).contains("\"globalPolicy\": true"));
    assert_eq!(blob.select(None).expect("global").name, "blobs");

    let dir = tempfile::tempdir().expect("tempdir");
    let config = ConfigDir::new(dir.path());
    let path = config.blob_policy_path();
    write_policy(&path, blob.raw(), false).expect("first write");
    let err = write_policy(&path, oci.raw(), false).expect_err("exists");
    assert!(matches!(err, PolicyWriteError::Exists { .. }), "{err}");
    assert_eq!(fs::read(&path).expect("read"), blob.raw(), "left alone");
    write_policy(&path, oci.raw(), true).expect("forced");
    assert_eq!(fs::read(&path).expect("read"), oci.raw());

    // Import keeps the bytes as given and refuses invalid documents.
    config.import_oci_policy(oci.raw(), false).expect("import");
    assert_eq!(config.load_oci_policy().expect("load").raw(), oci.raw());
    assert!(config.import_oci_policy(b"{}", true).is_err());
}

#[test]
fn bare_repository_scope_is_refused_naming_the_missing_host() {
    let text = format!(
        r#"{{"version":"1.0","trustPolicies":[{}]}}"#,
        statement("app", &["myapp"])
    );
    let err = OciTrustPolicyDocument::parse(text.as_bytes()).expect_err("no host");
    let message = err.to_string();
    assert!(
        message.contains("registry scope \"myapp\" lacks the registry host")
            && message.contains("localhost:5000/myapp"),
        "{message}"
    );

    // Anything else without a '/' keeps notation's own message.
    let text = format!(
        r#"{{"version":"1.0","trustPolicies":[{}]}}"#,
        statement("app", &["localhost:5000\\\\app"])
    );
    let err = OciTrustPolicyDocument::parse(text.as_bytes()).expect_err("malformed");
    assert!(
        err.to_string()
            .contains("is not valid, make sure it is a fully qualified"),
        "{err}"
    );
}

#[test]
fn notary_v1_stores_belong_to_oci_policies_only() {
    let oci = doc(&[statement("app", &["r.io/app"]).replace("ca:s", "notaryV1:legacy")]);
    assert!(oci.select("r.io/app").is_ok());
    // notary_v1_store_in_a_blob_policy: v1 data never signs blobs, so it is refused.
    let blob = br#"{"version":"1.0","trustPolicies":[{"name":"b","globalPolicy":true,
        "signatureVerification":{"level":"strict"},"trustStores":["notaryV1:legacy"],
        "trustedIdentities":["*"]}]}"#;
    let err = hallmark_trust::BlobTrustPolicyDocument::parse(blob)
        .expect_err("notaryV1 in a blob policy");
    assert!(
        err.to_string().contains("unsupported trust store type"),
        "{err}"
    );
}
