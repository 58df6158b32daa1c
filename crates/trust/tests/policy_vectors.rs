//! notation's trust policy vectors (`shared/vectors/notation/trustpolicies`): every file gives
//! the outcome its README states, with notation-go's message for the invalid ones.

use std::fs;
use std::path::{Path, PathBuf};

use hallmark_trust::policy::{Action, Check, Level, VerifyTimestamp};
use hallmark_trust::{BlobTrustPolicyDocument, OciTrustPolicyDocument, StoreType, TrustedIdentity};

const VECTORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/vectors/notation"
);

fn vectors() -> Option<PathBuf> {
    let dir = Path::new(VECTORS);
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        // CI always has ../shared and the peers: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {VECTORS} is absent");
        None
    }
}

/// OCI policy files that are VALID (including "VALID, fails at verify").
const VALID: &[&str] = &[
    "trustpolicy.json",
    "permissive_trustpolicy.json",
    "audit_trustpolicy.json",
    "skip_trustpolicy.json",
    "any_registry_scope_trust_policy.json",
    "registry_scope_trustpolicy.json",
    "multiple_registry_scope_trustpolicy.json",
    "multi_statements_with_wildcard_registry_scope_trustpolicy.json",
    "multiple_trust_store_trustpolicy.json",
    "multiple_trusted_identity_trustpolicy.json",
    "valid_trusted_identity_trustpolicy.json",
    "invalid_trusted_identity_trustpolicy.json",
    "invalid_registry_scope_trustpolicy.json",
    "invalid_trust_store_trustpolicy.json",
    "overlapped_trust_store_trustpolicy.json",
    "override_strict_trustpolicy.json",
    "override_permissive_trustpolicy.json",
    "override_audit_trustpolicy.json",
    "timestamp_trustpolicy.json",
    "timestamp_after_cert_expiry_trustpolicy.json",
    "quickstart_trustpolicy.json",
    "generate_test_trustpolicy.json",
];

/// OCI policy files that are INVALID (load), with the README's message (or its key part).
const INVALID: &[(&str, &str)] = &[
    (
        "empty_registry_scope_trustpolicy.json",
        "oci trust policy statement \"e2e\" has zero registry scopes, it must specify registry \
         scopes with at least one value",
    ),
    (
        "malformed_registry_scope_trustpolicy.json",
        "registry scope \"localhost:5000\\\\test-repo\" is not valid, make sure it is a fully \
         qualified repository without the scheme, protocol or tag. For example \
         domain.com/my/repository or a local scope like local/myOCILayout",
    ),
    (
        "wildcard_plus_other_registry_scope_trustpolicy.json",
        "uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with \
         other scope values",
    ),
    (
        "overlapped_registry_scope_trustpolicy.json",
        "registry scope \"localhost:5000/test-repo6\" is present in multiple oci trust policy \
         statements, one registry scope value can only be associated with one statement",
    ),
    (
        "multi_statements_with_the_same_registry_scope_trustpolicy.json",
        "registry scope \"localhost:5000/test-repo8\" is present in multiple oci trust policy \
         statements, one registry scope value can only be associated with one statement",
    ),
    (
        "multi_statements_with_multi_wildcard_registry_scope_trustpolicy.json",
        "registry scope \"*\" is present in multiple oci trust policy statements",
    ),
    (
        "multi_statements_with_the_same_name_trustpolicy.json",
        "multiple oci trust policy statements use the same name \"e2e\", statement names must \
         be unique",
    ),
    (
        "unset_trust_store_trustpolicy.json",
        "trust policy statement \"e2e\" is either missing trust stores or trusted identities, \
         both must be specified",
    ),
    (
        "unset_trusted_identity_trustpolicy.json",
        "trust policy statement \"e2e\" is either missing trust stores or trusted identities, \
         both must be specified",
    ),
    (
        "malformed_trust_store_trustpolicy.json",
        "trust policy statement \"e2e\" uses an unsupported trust store name \"\" in trust store \
         value \"ca:\". Named store name needs to follow [a-zA-Z0-9_.-]+ format",
    ),
    (
        "wildcard_trust_store_trustpolicy.json",
        "trust policy statement \"e2e\" has malformed trust store value \"*\". The required \
         format is <TrustStoreType>:<TrustStoreName>",
    ),
    (
        "empty_trusted_identity_trustpolicy.json",
        "trust policy statement \"e2e\" has an empty trusted identity",
    ),
    (
        "malformed_trusted_identity_trustpolicy.json",
        "trust policy statement \"e2e\" has trusted identity \"x509.subject \
         CN=e2e,O=Notary,L=Seattle,ST=WA,C=US\" missing separator",
    ),
    (
        "wildcard_plus_other_trusted_identity_trustpolicy.json",
        "uses a wildcard trusted identity '*', a wildcard identity cannot be used in \
         conjunction with other values",
    ),
    (
        "overlapped_trusted_identity_trustpolicy.json",
        "trust policy statement \"e2e\" has overlapping x509 trustedIdentities, ",
    ),
    (
        "missing_organization_trusted_identity_trustpolicy.json",
        "distinguished name (DN) \" CN=e2e,L=Seattle,ST=WA,C=US\" has no mandatory RDN \
         attribute for \"O\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a \
         minimum",
    ),
    (
        "missing_state_trusted_identity_trustpolicy.json",
        "distinguished name (DN) \" CN=e2e,O=Notary,L=Seattle,C=US\" has no mandatory RDN \
         attribute for \"ST\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a \
         minimum",
    ),
    (
        "missing_country_trusted_identity_trustpolicy.json",
        "distinguished name (DN) \" CN=e2e,O=Notary,L=Seattle,ST=WA\" has no mandatory RDN \
         attribute for \"C\", it must contain 'C', 'ST' or 'S', and 'O' RDN attributes at a \
         minimum",
    ),
    (
        "override_integrity_for_permissive_trustpolicy.json",
        "\"integrity\" verification can not be overridden in custom signature verification",
    ),
    (
        "invalid_format_trustpolicy.json",
        "failed to parse OCI trust policy configuration",
    ),
];

/// Blob policies (VALID as blob documents).
const BLOB_VALID: &[&str] = &[
    "blob_trust_policy.json",
    "blob/trustpolicy.blob.json",
    "skip_trustpolicy.json",
];

/// Rejected by `blob policy import` too.
const BLOB_INVALID: &[(&str, &str)] = &[
    (
        "malformed_trust_store_trustpolicy.json",
        "uses an unsupported trust store name \"\"",
    ),
    (
        "malformed_trusted_identity_trustpolicy.json",
        "missing separator",
    ),
    (
        "invalid_format_trustpolicy.json",
        "failed to parse blob trust policy configuration",
    ),
];

fn read(dir: &Path, name: &str) -> Vec<u8> {
    fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn full_message(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

fn oci(dir: &Path, name: &str) -> OciTrustPolicyDocument {
    OciTrustPolicyDocument::parse(&read(dir, name))
        .unwrap_or_else(|e| panic!("{name} should be valid: {}", full_message(&e)))
}

#[test]
fn every_oci_vector_gives_its_readme_outcome() {
    let Some(root) = vectors() else { return };
    let dir = root.join("trustpolicies");

    for name in VALID {
        let doc = oci(&dir, name);
        assert_eq!(
            doc.raw(),
            read(&dir, name).as_slice(),
            "{name}: raw bytes kept"
        );
    }
    for (name, fragment) in INVALID {
        let err = OciTrustPolicyDocument::parse(&read(&dir, name))
            .err()
            .unwrap_or_else(|| panic!("{name} should be invalid"));
        let message = full_message(&err);
        assert!(
            message.contains(fragment),
            "{name}:\n  got:  {message}\n  want: {fragment}"
        );
    }

    // No vector file goes untested.
    let mut listed: Vec<&str> = VALID
        .iter()
        .copied()
        .chain(INVALID.iter().map(|(n, _)| *n))
        .collect();
    listed.extend(["blob_trust_policy.json"]);
    for entry in fs::read_dir(&dir).expect("read dir") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name.ends_with(".json") {
            assert!(
                listed.contains(&name.as_str()),
                "{name} has no expected outcome here"
            );
        }
    }
}

#[test]
fn every_blob_vector_gives_its_readme_outcome() {
    let Some(root) = vectors() else { return };
    let dir = root.join("trustpolicies");
    for name in BLOB_VALID {
        let bytes = read(&dir, name);
        let doc = BlobTrustPolicyDocument::parse(&bytes).unwrap_or_else(|e| {
            panic!("{name} should be a valid blob policy: {}", full_message(&e))
        });
        assert_eq!(doc.raw(), bytes.as_slice());
    }
    for (name, fragment) in BLOB_INVALID {
        let err = BlobTrustPolicyDocument::parse(&read(&dir, name))
            .err()
            .unwrap_or_else(|| panic!("{name} should be an invalid blob policy"));
        let message = full_message(&err);
        assert!(message.contains(fragment), "{name}: {message}");
    }
    // The blob document from the blob folder (our own) is valid as well.
    BlobTrustPolicyDocument::parse(&read(&root, "blob/trustpolicy.blob.json"))
        .expect("blob vector");
}

#[test]
fn levels_overrides_and_timestamp_options_are_read() {
    let Some(root) = vectors() else { return };
    let dir = root.join("trustpolicies");
    let only = |name: &str| oci(&dir, name).statements()[0].policy.clone();

    let strict = only("override_strict_trustpolicy.json");
    assert_eq!(strict.level, Level::Strict);
    for check in [
        Check::Authenticity,
        Check::AuthenticTimestamp,
        Check::Expiry,
        Check::Revocation,
    ] {
        assert_eq!(strict.actions.get(check), Action::Log, "{check}");
    }
    assert_eq!(strict.actions.integrity, Action::Enforce);

    let permissive = only("override_permissive_trustpolicy.json");
    assert_eq!(permissive.actions.authenticity, Action::Log);
    assert_eq!(permissive.actions.expiry, Action::Enforce);

    let audit = only("override_audit_trustpolicy.json");
    assert_eq!(audit.actions.authenticity, Action::Enforce);

    let skip = only("skip_trustpolicy.json");
    assert!(skip.is_skip());
    assert_eq!(skip.actions.integrity, Action::Skip);

    let always = only("timestamp_trustpolicy.json");
    assert_eq!(always.verify_timestamp, VerifyTimestamp::Always);
    assert_eq!(
        always.stores_of_type(StoreType::Tsa).collect::<Vec<_>>(),
        ["e2e"]
    );
    let after = only("timestamp_after_cert_expiry_trustpolicy.json");
    assert_eq!(after.verify_timestamp, VerifyTimestamp::AfterCertExpiry);

    let quickstart = only("quickstart_trustpolicy.json");
    assert_eq!(
        quickstart.trust_stores,
        [(StoreType::Ca, "wabbit-networks.io".to_owned())]
    );

    let identities = only("multiple_trusted_identity_trustpolicy.json").trusted_identities;
    assert!(matches!(
        identities.as_slice(),
        [
            TrustedIdentity::X509Subject(_),
            TrustedIdentity::X509Subject(_)
        ]
    ));
}

#[test]
fn selection_on_vectors() {
    let Some(root) = vectors() else { return };
    let dir = root.join("trustpolicies");

    let doc = oci(
        &dir,
        "multi_statements_with_wildcard_registry_scope_trustpolicy.json",
    );
    assert_eq!(
        doc.select("localhost:5000/test-repo9").expect("exact").name,
        "e2e"
    );
    assert_eq!(
        doc.select("localhost:5000/other").expect("wildcard").name,
        "e2e2"
    );

    let doc = oci(&dir, "invalid_registry_scope_trustpolicy.json");
    let err = doc
        .select("localhost:5000/test-repo")
        .expect_err("no statement");
    assert!(
        err.to_string().starts_with(
            "artifact \"localhost:5000/test-repo\" has no applicable oci trust policy statement"
        ),
        "{err}"
    );

    let doc = BlobTrustPolicyDocument::parse(&read(&dir, "blob_trust_policy.json")).expect("blob");
    assert_eq!(
        doc.select(None).expect("global").name,
        "global-verification-policy"
    );
    assert_eq!(
        doc.select(Some("skip-verification-policy"))
            .expect("named")
            .level,
        Level::Skip
    );
    let err = doc.select(Some("nope")).expect_err("unknown name");
    assert!(err.to_string().contains("\"nope\""), "{err}");
}

#[test]
fn other_vector_folders_policies_load() {
    let Some(root) = vectors() else { return };
    for name in [
        "jws-cose-pair/trustpolicy.json",
        "mock-envelopes/trustpolicy.json",
        "mock-envelopes/trustpolicy.audit.json",
        "timestamp/trustpolicy.json",
        "e2e-layouts/trustpolicy.json",
    ] {
        oci(&root, name);
    }
    let doc = oci(&root, "mock-envelopes/trustpolicy.json");
    let policy = doc
        .select("registry.acme-rockets.io/software/net-monitor")
        .expect("exact");
    assert_eq!(policy.name, "test-statement-name");
    assert_eq!(
        policy
            .stores_of_type(StoreType::SigningAuthority)
            .collect::<Vec<_>>(),
        ["valid-trust-store"]
    );

    let blob =
        BlobTrustPolicyDocument::parse(&read(&root, "blob/trustpolicy.blob.json")).expect("blob");
    assert_eq!(blob.select(None).expect("global").name, "e2e-blob-signers");
}
