//! Trust store loading and management: the vector stores load, and each rule of notation's
//! loader refuses the store it exists to refuse (symlinks, subdirectories, leaf certificates,
//! non-root TSA certificates, bad names, missing stores).

use std::fs;
use std::path::{Path, PathBuf};

use hallmark_trust::{StoreType, TrustStore, TrustStoreError};
use hallmark_x509::Certificate;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};

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

fn params(cn: &str) -> CertificateParams {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    params.distinguished_name.push(DnType::CountryName, "US");
    params
        .distinguished_name
        .push(DnType::StateOrProvinceName, "WA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Hallmark Test");
    params.distinguished_name.push(DnType::CommonName, cn);
    params
}

fn root_ca(cn: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = params(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    CertifiedIssuer::self_signed(p, KeyPair::generate().expect("key")).expect("root")
}

/// A code-signing leaf issued by `ca`: neither a CA nor self-signed.
fn issued_leaf(ca: &CertifiedIssuer<'static, KeyPair>) -> String {
    let mut p = params("issued leaf");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let key = KeyPair::generate().expect("key");
    p.signed_by(&key, ca).expect("leaf").pem()
}

fn self_signed_leaf() -> String {
    let mut p = params("self-signed leaf");
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.self_signed(&KeyPair::generate().expect("key"))
        .expect("leaf")
        .pem()
}

/// A temporary `truststore/x509` with one file in `ty/name`.
fn store_with(ty: &str, name: &str, file: &str, content: &str) -> (tempfile::TempDir, TrustStore) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_dir = dir.path().join(ty).join(name);
    fs::create_dir_all(&store_dir).expect("mkdir");
    fs::write(store_dir.join(file), content).expect("write");
    let store = TrustStore::new(dir.path());
    (dir, store)
}

#[test]
fn vector_trust_stores_load() {
    let Some(root) = vectors() else { return };
    let cases: &[(&str, StoreType, &str, usize)] = &[
        ("mock-envelopes", StoreType::Ca, "valid-trust-store", 2),
        ("mock-envelopes", StoreType::Ca, "valid-trust-store-2", 1),
        (
            "mock-envelopes",
            StoreType::SigningAuthority,
            "valid-trust-store",
            1,
        ),
        (
            "mock-envelopes",
            StoreType::SigningAuthority,
            "valid-trust-store-2",
            1,
        ),
        ("timestamp", StoreType::Ca, "valid-trust-store", 2),
        ("timestamp", StoreType::Tsa, "test-timestamp", 1),
        ("timestamp", StoreType::Tsa, "test-mismatch", 1),
        ("jws-cose-pair", StoreType::Ca, "alpine", 1),
        ("blob", StoreType::Ca, "blob-signers", 2),
    ];
    for (folder, ty, name, count) in cases {
        let store = TrustStore::new(root.join(folder).join("truststore/x509"));
        let certs = store
            .certificates(*ty, name)
            .unwrap_or_else(|e| panic!("{folder} {ty}:{name}: {e}"));
        assert_eq!(certs.len(), *count, "{folder} {ty}:{name}");
    }

    // Listing and finding on a vector store.
    let store = TrustStore::new(root.join("mock-envelopes/truststore/x509"));
    let all = store.list(None, None).expect("list");
    assert_eq!(all.len(), 5);
    let sa = store
        .list(Some(StoreType::SigningAuthority), Some("valid-trust-store"))
        .expect("list");
    assert_eq!(sa.len(), 1);
    assert_eq!(sa[0].file, "NotationTestRoot.pem");

    let pem = fs::read(
        root.join("mock-envelopes/truststore/x509/ca/valid-trust-store/NotationTestRoot.pem"),
    )
    .expect("read");
    let cert = &Certificate::parse_many(&pem).expect("parse")[0];
    let holders: Vec<_> = store
        .find(cert)
        .expect("find")
        .into_iter()
        .map(|e| (e.store_type, e.store))
        .collect();
    assert_eq!(
        holders,
        [
            (StoreType::Ca, "valid-trust-store".to_owned()),
            (StoreType::SigningAuthority, "valid-trust-store".to_owned())
        ]
    );
}

#[test]
fn missing_store_names_the_store_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TrustStore::new(dir.path());
    let err = store
        .certificates(StoreType::Ca, "invalid_store")
        .expect_err("missing");
    let message = err.to_string();
    assert!(
        message.contains("the trust store \"invalid_store\" of type \"ca\" does not exist"),
        "{message}"
    );
    assert!(
        message.contains("hallmark cert add -t ca -s invalid_store"),
        "{message}"
    );
}

#[test]
fn bad_store_name_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TrustStore::new(dir.path());
    for name in ["", "a/b", "..", "a b", "*"] {
        let err = store.certificates(StoreType::Ca, name).expect_err(name);
        assert!(
            matches!(err, TrustStoreError::InvalidStoreName { .. }),
            "{name}: {err}"
        );
    }
}

#[test]
fn leaf_issued_by_someone_else_is_refused() {
    let ca = root_ca("leaf test root");
    let (_dir, store) = store_with("ca", "s", "leaf.pem", &issued_leaf(&ca));
    let err = store.certificates(StoreType::Ca, "s").expect_err("leaf");
    assert!(
        err.to_string()
            .contains("is not a CA certificate or self-signed signing certificate"),
        "{err}"
    );
}

#[test]
fn ca_and_self_signed_leaf_are_accepted_in_ca_stores() {
    let ca = root_ca("accepted root");
    let both = format!("{}{}", ca.pem(), self_signed_leaf());
    let (_dir, store) = store_with("ca", "s", "both.crt", &both);
    assert_eq!(
        store.certificates(StoreType::Ca, "s").expect("load").len(),
        2
    );
}

#[test]
fn tsa_store_takes_root_cas_only() {
    let (_dir, store) = store_with("tsa", "t", "leaf.pem", &self_signed_leaf());
    let err = store
        .certificates(StoreType::Tsa, "t")
        .expect_err("self-signed leaf in tsa");
    assert!(matches!(err, TrustStoreError::TsaNotRoot { .. }), "{err}");

    let (_dir, store) = store_with("tsa", "t", "root.pem", &root_ca("tsa root").pem());
    assert_eq!(
        store.certificates(StoreType::Tsa, "t").expect("root").len(),
        1
    );
}

#[cfg(unix)]
#[test]
fn symlinks_are_refused() {
    let ca = root_ca("symlink root");
    let (dir, store) = store_with("ca", "s", "real.pem", &ca.pem());
    let outside = dir.path().join("outside.pem");
    fs::write(&outside, ca.pem()).expect("write");
    std::os::unix::fs::symlink(&outside, dir.path().join("ca/s/link.pem")).expect("symlink");
    let err = store
        .certificates(StoreType::Ca, "s")
        .expect_err("symlinked file");
    assert!(
        matches!(err, TrustStoreError::NotARegularFile { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("link.pem"), "{err}");

    std::os::unix::fs::symlink(dir.path().join("ca/s"), dir.path().join("ca/linked"))
        .expect("symlink");
    let err = store
        .certificates(StoreType::Ca, "linked")
        .expect_err("symlinked store");
    assert!(
        matches!(err, TrustStoreError::NotADirectory { .. }),
        "{err}"
    );
}

#[test]
fn subdirectory_is_an_error() {
    let ca = root_ca("subdir root");
    let (dir, store) = store_with("ca", "s", "root.pem", &ca.pem());
    fs::create_dir(dir.path().join("ca/s/nested")).expect("mkdir");
    let err = store
        .certificates(StoreType::Ca, "s")
        .expect_err("subdirectory");
    assert!(
        matches!(err, TrustStoreError::NotARegularFile { .. }),
        "{err}"
    );
}

#[test]
fn empty_store_and_unparsable_file() {
    let (_dir, store) = store_with("ca", "s", "notes.txt", "not a certificate");
    let err = store
        .certificates(StoreType::Ca, "s")
        .expect_err("no certificate files");
    assert!(matches!(err, TrustStoreError::Empty { .. }), "{err}");

    let (_dir, store) = store_with("ca", "s", "junk.pem", "not a certificate");
    let err = store.certificates(StoreType::Ca, "s").expect_err("junk");
    assert!(matches!(err, TrustStoreError::Parse { .. }), "{err}");
}

#[test]
fn add_list_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = TrustStore::new(dir.path().join("truststore/x509"));
    let ca = root_ca("managed root");
    let source = dir.path().join("root.crt");
    fs::write(&source, ca.pem()).expect("write");

    let stored = store
        .add(StoreType::Ca, "team", &source, false)
        .expect("add");
    assert_eq!(
        stored.file_name().and_then(|n| n.to_str()),
        Some("root.crt")
    );
    assert_eq!(
        fs::read(&stored).expect("read"),
        fs::read(&source).expect("read")
    );
    let err = store
        .add(StoreType::Ca, "team", &source, false)
        .expect_err("exists");
    assert!(
        matches!(err, TrustStoreError::AlreadyExists { .. }),
        "{err}"
    );
    store
        .add(StoreType::Ca, "team", &source, true)
        .expect("overwrite");
    store
        .add(StoreType::Tsa, "team", &source, false)
        .expect("root in tsa");

    let leaf = dir.path().join("leaf.pem");
    fs::write(&leaf, issued_leaf(&ca)).expect("write");
    let err = store
        .add(StoreType::Ca, "team", &leaf, false)
        .expect_err("leaf");
    assert!(
        matches!(err, TrustStoreError::NotCaOrSelfSigned { .. }),
        "{err}"
    );
    let txt = dir.path().join("root.txt");
    fs::write(&txt, ca.pem()).expect("write");
    let err = store
        .add(StoreType::Ca, "team", &txt, false)
        .expect_err("extension");
    assert!(
        matches!(err, TrustStoreError::UnsupportedExtension { .. }),
        "{err}"
    );
    assert!(
        store
            .add(StoreType::Ca, "bad/name", &source, false)
            .is_err()
    );

    let entries = store.list(None, None).expect("list");
    let summary: Vec<_> = entries
        .iter()
        .map(|e| (e.store_type, e.store.as_str(), e.file.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (StoreType::Ca, "team", "root.crt"),
            (StoreType::Tsa, "team", "root.crt")
        ]
    );

    let cert = Certificate::parse_many(ca.pem().as_bytes())
        .expect("parse")
        .remove(0);
    assert_eq!(store.find(&cert).expect("find").len(), 2);

    store
        .delete_file(StoreType::Ca, "team", "root.crt")
        .expect("delete file");
    assert!(
        store
            .delete_file(StoreType::Ca, "team", "root.crt")
            .is_err()
    );
    let removed = store
        .delete_store(StoreType::Tsa, "team")
        .expect("delete store");
    assert_eq!(removed.len(), 1);
    assert!(matches!(
        store.certificates(StoreType::Tsa, "team"),
        Err(TrustStoreError::StoreNotFound { .. })
    ));
    assert!(store.delete_store(StoreType::Tsa, "team").is_err());
}

#[test]
fn policy_certificates_load_every_listed_store() {
    let Some(root) = vectors() else { return };
    let folder = root.join("mock-envelopes");
    let bytes = fs::read(folder.join("trustpolicy.json")).expect("policy");
    let doc = hallmark_trust::OciTrustPolicyDocument::parse(&bytes).expect("valid");
    let policy = doc
        .select("registry.acme-rockets.io/software/net-monitor")
        .expect("statement");
    let store = TrustStore::new(folder.join("truststore/x509"));
    assert_eq!(
        store
            .policy_certificates(policy, StoreType::Ca)
            .expect("ca")
            .len(),
        2
    );
    let sa = store
        .policy_certificates(policy, StoreType::SigningAuthority)
        .expect("sa");
    assert_eq!(sa.len(), 1);
    assert!(
        store
            .policy_certificates(policy, StoreType::Tsa)
            .expect("none listed")
            .is_empty()
    );

    let missing =
        fs::read(root.join("trustpolicies/invalid_trust_store_trustpolicy.json")).expect("policy");
    let doc = hallmark_trust::OciTrustPolicyDocument::parse(&missing).expect("valid");
    let policy = doc.select("localhost:5000/anything").expect("wildcard");
    let err = store
        .policy_certificates(policy, StoreType::Ca)
        .expect_err("missing store");
    assert!(
        err.to_string()
            .contains("the trust store \"invalid_store\" of type \"ca\" does not exist")
    );
}

#[test]
fn notary_v1_store_takes_self_signed_leaves_only() {
    let (_dir, store) = store_with("notaryV1", "v", "leaf.pem", &self_signed_leaf());
    assert_eq!(
        store
            .certificates(StoreType::NotaryV1, "v")
            .expect("a v1 root key's certificate")
            .len(),
        1
    );
    // ca_certificate_in_a_notary_v1_store: v1 root keys are never CAs, it would match nothing.
    let (_dir, store) = store_with("notaryV1", "v", "ca.pem", &root_ca("a CA").pem());
    let err = store
        .certificates(StoreType::NotaryV1, "v")
        .expect_err("CA in notaryV1");
    assert!(
        matches!(err, TrustStoreError::NotaryV1NotRootKey { .. }),
        "{err}"
    );
}
