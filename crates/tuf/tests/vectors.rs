//! The notary-v1 vectors (shared/vectors/notary-v1), with the outcomes their README gives:
//! every metadata file parses, all 29 signatures verify over the canonical JSON, key IDs
//! follow Notary's rule, and the client cache verifies to the tags it signs.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{GUN, cache_files, read, vector_time, vectors};
use hallmark_tuf::{
    Error, Gun, KeyId, PublicKey, RoleName, Root, RootPin, Signed, Snapshot, Targets, Timestamp,
    TrustDir, TrustedState, Verifier,
};

/// Every metadata file: the `*.json` files except changefeeds and key responses.
fn metadata_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".json")
                && !name.starts_with("changefeed")
                && !name.ends_with(".key.json")
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The role a vector file belongs to, from its path (`.../targets/alice.json`).
fn role_of(path: &Path) -> RoleName {
    let stem = path.file_stem().unwrap().to_string_lossy();
    let stem = stem.rsplit('.').next().unwrap();
    let parent = path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy();
    if parent == "targets" {
        format!("targets/{stem}").parse().unwrap()
    } else {
        stem.parse().unwrap()
    }
}

enum AnyRole {
    Root(Signed<Root>),
    Targets(Signed<Targets>),
    Snapshot(Signed<Snapshot>),
    Timestamp(Signed<Timestamp>),
}

fn parse(path: &Path) -> AnyRole {
    let bytes = std::fs::read(path).unwrap();
    let role = role_of(path);
    let what = path.display();
    match role.as_str() {
        "root" => AnyRole::Root(Signed::parse(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"))),
        "snapshot" => {
            AnyRole::Snapshot(Signed::parse(&bytes).unwrap_or_else(|e| panic!("{what}: {e}")))
        }
        "timestamp" => {
            AnyRole::Timestamp(Signed::parse(&bytes).unwrap_or_else(|e| panic!("{what}: {e}")))
        }
        _ => AnyRole::Targets(
            Signed::parse_role(&bytes, role).unwrap_or_else(|e| panic!("{what}: {e}")),
        ),
    }
}

#[test]
fn every_metadata_vector_parses() {
    let Some(dir) = vectors() else { return };
    let files = metadata_files(&dir);
    assert_eq!(files.len(), 29, "the README counts 29 metadata files");
    for path in &files {
        parse(path);
    }
}

/// Every key that any root or targets file lists, by ID.
fn key_pool(files: &[PathBuf]) -> BTreeMap<String, PublicKey> {
    let mut pool = BTreeMap::new();
    for path in files {
        match parse(path) {
            AnyRole::Root(root) => pool.extend(root.signed.keys),
            AnyRole::Targets(targets) => pool.extend(targets.signed.delegations.keys),
            _ => {}
        }
    }
    pool
}

#[test]
fn all_29_signatures_verify_over_canonical_json() {
    let Some(dir) = vectors() else { return };
    let files = metadata_files(&dir);
    let pool = key_pool(&files);
    let mut verified = 0;
    for path in &files {
        let (canonical, signatures) = match parse(path) {
            AnyRole::Root(f) => (f.canonical().to_vec(), f.signatures),
            AnyRole::Targets(f) => (f.canonical().to_vec(), f.signatures),
            AnyRole::Snapshot(f) => (f.canonical().to_vec(), f.signatures),
            AnyRole::Timestamp(f) => (f.canonical().to_vec(), f.signatures),
        };
        for signature in signatures {
            let key = &pool[&signature.key_id];
            key.verify(&signature.method, &canonical, &signature.sig)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            verified += 1;
        }
    }
    assert_eq!(verified, 29);
}

#[test]
fn canonical_form_equals_the_signed_bytes_as_served() {
    let Some(dir) = vectors() else { return };
    // Notary writes `signed` canonically already: the canonical bytes are a substring.
    for path in metadata_files(&dir) {
        let bytes = std::fs::read(&path).unwrap();
        let canonical = match parse(&path) {
            AnyRole::Root(f) => f.canonical().to_vec(),
            AnyRole::Targets(f) => f.canonical().to_vec(),
            AnyRole::Snapshot(f) => f.canonical().to_vec(),
            AnyRole::Timestamp(f) => f.canonical().to_vec(),
        };
        let prefix = b"{\"signed\":";
        assert!(bytes.starts_with(prefix), "{}", path.display());
        assert_eq!(
            &bytes[prefix.len()..prefix.len() + canonical.len()],
            &canonical[..]
        );
    }
}

#[test]
fn key_ids_follow_notary_rules() {
    let Some(dir) = vectors() else { return };
    let root: Signed<Root> = Signed::parse(&read(&dir, "server/root.json")).unwrap();
    let root_key =
        &root.signed.keys["cdea92103878095f08e82edd211a7333b075a1914d75b84b569c064a5fd78965"];
    assert_eq!(root_key.key_type().as_str(), "ecdsa-x509");
    let subject = root_key.certificate().unwrap().subject();
    assert_eq!(subject.common_name(), Some(GUN));

    // The canonical ID (of the certificate's key as a plain ecdsa key) names the private
    // key file; the metadata ID is over the certificate.
    let canonical = root_key.canonical_id();
    assert_ne!(canonical.as_str(), root_key.id().as_str());
    let layout = String::from_utf8(read(&dir, "trustdir-layout.txt")).unwrap();
    assert!(
        layout.contains(&format!("private/{canonical}.key")),
        "canonical root key ID {canonical} names no private key file"
    );

    // Plain keys' canonical ID is their ID, and their private key files carry it.
    let targets_key =
        &root.signed.keys["fe56b5257c4d785bdf635282c52b9541061498cf49eda0384994fb1602fd30e8"];
    assert_eq!(&targets_key.canonical_id(), targets_key.id());
    assert!(layout.contains(&format!("private/{}.key", targets_key.id())));
}

fn verify_cache(dir: &Path, pin: &RootPin) -> Result<hallmark_tuf::Verified, Error> {
    let gun: Gun = GUN.parse().unwrap();
    let trusted = TrustedState::default();
    let verifier = Verifier {
        gun: &gun,
        pin,
        trusted: &trusted,
        now: vector_time(),
    };
    verifier.verify(&cache_files(dir))
}

const PAYLOAD_V1_SHA256: &str =
    "sha256:a4bba2aec97f95071fa9b9f612e966a89fc070ccaed26f30743c329abfd98fdc";

#[test]
fn client_cache_verifies_to_the_signed_tags() {
    let Some(dir) = vectors() else { return };
    let verified = verify_cache(&dir, &RootPin::TrustOnFirstUse).unwrap();

    assert_eq!(verified.root.signed.version, 2);
    assert_eq!(verified.timestamp.signed.version, 5);
    assert_eq!(verified.snapshot.signed.version, 6);
    assert_eq!(verified.targets.signed.version, 4);
    let delegations: Vec<&str> = verified.delegations.keys().map(|r| r.as_str()).collect();
    assert_eq!(delegations, ["targets/alice", "targets/releases"]);

    let payload_v2 = format!("sha256:{}", sha256_hex(&read(&dir, "payload-v2.txt")));
    let docker: Vec<(&str, String, u64, &str)> = verified
        .docker_targets()
        .into_iter()
        .map(|(tag, t)| (tag, t.digest().unwrap(), t.meta.length, t.role.as_str()))
        .collect();
    assert_eq!(
        docker,
        [
            ("v1", PAYLOAD_V1_SHA256.to_string(), 16, "targets"),
            ("v2", payload_v2.clone(), 27, "targets/releases"),
            ("v3", PAYLOAD_V1_SHA256.to_string(), 16, "targets"),
        ]
    );
    assert_eq!(
        PAYLOAD_V1_SHA256,
        format!("sha256:{}", sha256_hex(&read(&dir, "payload-v1.txt")))
    );

    // Every role's signatures, alice's included.
    let all: Vec<(&str, &str)> = verified
        .signed_targets
        .iter()
        .map(|t| (t.name.as_str(), t.role.as_str()))
        .collect();
    assert_eq!(
        all,
        [
            ("v1", "targets"),
            ("v3", "targets"),
            ("v2", "targets/alice"),
            ("v2", "targets/releases")
        ]
    );

    let state = verified.trusted_state();
    assert_eq!(
        (
            state.timestamp_version,
            state.snapshot_version,
            state.targets_version
        ),
        (5, 6, 4)
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn client_cache_verifies_with_every_kind_of_pin() {
    let Some(dir) = vectors() else { return };
    let root: Signed<Root> = Signed::parse(&read(&dir, "server/root.json")).unwrap();
    let key = root.signed.roles.root.keys(&root.signed.keys)[0].clone();
    for pin in [
        RootPin::KeyId(key.id().clone()),
        RootPin::KeyId(key.canonical_id()),
        RootPin::Certificate(key.certificate().unwrap().clone()),
    ] {
        verify_cache(&dir, &pin).unwrap_or_else(|e| panic!("{pin:?}: {e}"));
    }
    let other: KeyId = "fe56b5257c4d785bdf635282c52b9541061498cf49eda0384994fb1602fd30e8"
        .parse()
        .unwrap();
    let err = verify_cache(&dir, &RootPin::KeyId(other)).unwrap_err();
    assert!(matches!(err, Error::RootNotPinned { version: 2 }), "{err}");
}

#[test]
fn root_rotation_from_v1_to_v2_verifies() {
    let Some(dir) = vectors() else { return };
    let gun: Gun = GUN.parse().unwrap();
    // v1 had a client-held snapshot key; v2 moved it to the server (§5.3.11: a rotated
    // snapshot key resets the snapshot rollback floor).
    let trusted = TrustedState {
        root: Some(read(&dir, "server/1.root.json")),
        snapshot_version: 100,
        ..TrustedState::default()
    };
    let verifier = Verifier {
        gun: &gun,
        pin: &RootPin::TrustOnFirstUse,
        trusted: &trusted,
        now: vector_time(),
    };
    let verified = verifier.verify(&cache_files(&dir)).unwrap();
    assert_eq!(verified.root.signed.version, 2);
}

#[test]
fn trust_dir_layout_reads_and_verifies() {
    let Some(dir) = vectors() else { return };
    let trust = tempfile::tempdir().unwrap();
    let metadata = trust.path().join("tuf/example.com/demo/metadata");
    std::fs::create_dir_all(metadata.join("targets")).unwrap();
    for rel in [
        "root.json",
        "timestamp.json",
        "snapshot.json",
        "targets.json",
        "targets/releases.json",
        "targets/alice.json",
    ] {
        std::fs::copy(dir.join("client-cache").join(rel), metadata.join(rel)).unwrap();
    }
    let gun: Gun = GUN.parse().unwrap();
    let trust_dir = TrustDir::new(trust.path());
    assert_eq!(trust_dir.metadata_dir(&gun), metadata);
    let files = trust_dir.read(&gun).unwrap();
    assert_eq!(files.delegations.len(), 2);
    assert_eq!(files.root, cache_files(&dir).root);

    let trusted = TrustedState::default();
    let verifier = Verifier {
        gun: &gun,
        pin: &RootPin::TrustOnFirstUse,
        trusted: &trusted,
        now: vector_time(),
    };
    assert_eq!(verifier.verify(&files).unwrap().docker_targets().len(), 3);
}
