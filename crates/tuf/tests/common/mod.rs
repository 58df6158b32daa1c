//! Shared test helpers: the notary-v1 vectors, and a builder of freshly keyed, signed
//! repositories shaped like the vectors' (x509 root key, ecdsa targets key, ed25519 snapshot
//! and timestamp keys, delegations `targets/releases` and `targets/alice`).
#![allow(dead_code)] // each test binary uses a different subset
#![allow(clippy::unwrap_used)] // fixtures fail loudly

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_tuf::canonical::to_canonical;
use hallmark_tuf::{KeyId, KeyType, RepositoryFiles, RoleName};
use hallmark_x509::testing::CertTemplate;
use hallmark_x509::{Certificate, KeySpec, SigningKey};
use serde_json::{Value, json};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

pub const GUN: &str = "example.com/demo";

/// The notary-v1 vector folder, or `None` (with a skip notice) when it is absent.
pub fn vectors() -> Option<PathBuf> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/notary-v1"
    ));
    if dir.is_dir() {
        Some(dir.to_path_buf())
    } else {
        // CI always has ../shared: a skip there would hide a missing check.
        assert!(
            std::env::var_os("CI").is_none(),
            "the interop vectors must be present under CI"
        );
        println!("skipped: {} is absent", dir.display());
        None
    }
}

/// A time inside every validity period of the vectors (timestamp.json expires 2026-12-17).
pub fn vector_time() -> OffsetDateTime {
    time::macros::datetime!(2026-12-04 00:00:00 UTC)
}

pub fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The client cache (`client-cache/`) as repository files.
pub fn cache_files(dir: &Path) -> RepositoryFiles {
    let cache = dir.join("client-cache");
    let mut delegations = BTreeMap::new();
    for name in ["releases", "alice"] {
        let role: RoleName = format!("targets/{name}").parse().unwrap();
        delegations.insert(role, read(&cache, &format!("targets/{name}.json")));
    }
    RepositoryFiles {
        root: read(&cache, "root.json"),
        versioned_roots: BTreeMap::new(),
        timestamp: read(&cache, "timestamp.json"),
        snapshot: read(&cache, "snapshot.json"),
        targets: read(&cache, "targets.json"),
        delegations,
    }
}

/// Replaces `from` by `to` in a file, once; the pattern must occur.
pub fn replace(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    assert!(text.contains(from), "{from:?} not in the file");
    text.replacen(from, to, 1).into_bytes()
}

enum Signer {
    Ec(SigningKey),
    Ed(Ed25519KeyPair),
}

/// A fresh key: its metadata object and ID, and the private half.
pub struct TestKey {
    pub key_type: KeyType,
    pub public: Vec<u8>,
    pub id: String,
    signer: Rc<Signer>,
}

impl TestKey {
    fn new(key_type: KeyType, public: Vec<u8>, signer: Signer) -> Rc<Self> {
        TestKey::with_signer(key_type, public, Rc::new(signer))
    }

    fn with_signer(key_type: KeyType, public: Vec<u8>, signer: Rc<Signer>) -> Rc<Self> {
        let id = KeyId::compute(key_type, &public).to_string();
        Rc::new(TestKey {
            key_type,
            public,
            id,
            signer,
        })
    }

    /// The same private key as this `ecdsa-x509` key, listed as a plain `ecdsa` key (the
    /// certificate's SPKI): another key ID for the same key.
    pub fn plain_twin(&self) -> Rc<Self> {
        assert_eq!(
            self.key_type,
            KeyType::EcdsaX509,
            "only certificate keys have twins"
        );
        let cert = Certificate::parse_many(&self.public).unwrap().remove(0);
        let spki = cert.public_key().unwrap().spki_der().to_vec();
        TestKey::with_signer(KeyType::Ecdsa, spki, self.signer.clone())
    }

    /// An `ecdsa` key (P-256, DER SPKI).
    pub fn ecdsa() -> Rc<Self> {
        let key = SigningKey::generate(KeySpec::EcP256).unwrap();
        let public = key.public_key().unwrap().spki_der().to_vec();
        TestKey::new(KeyType::Ecdsa, public, Signer::Ec(key))
    }

    /// An `ecdsa-x509` key: a self-signed certificate with `common_name`, valid `validity`.
    pub fn ecdsa_x509(
        common_name: &str,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Rc<Self> {
        let mut template = CertTemplate::code_signing_leaf(common_name);
        template.subject = vec![("CN".to_string(), common_name.to_string())];
        template.not_before = not_before;
        template.not_after = not_after;
        let (key, cert): (SigningKey, Certificate) = template.self_signed().unwrap();
        TestKey::new(
            KeyType::EcdsaX509,
            cert.to_pem().into_bytes(),
            Signer::Ec(key),
        )
    }

    /// An `ed25519` key.
    pub fn ed25519() -> Rc<Self> {
        let pair = Ed25519KeyPair::generate().unwrap();
        let public = pair.public_key().as_ref().to_vec();
        TestKey::new(KeyType::Ed25519, public, Signer::Ed(pair))
    }

    /// The key object as metadata lists it.
    pub fn json(&self) -> Value {
        json!({
            "keytype": self.key_type.as_str(),
            "keyval": {"private": null, "public": STANDARD.encode(&self.public)},
        })
    }

    /// A signature object over `message` with the key's usual method.
    pub fn sign(&self, message: &[u8]) -> Value {
        let (method, sig) = match &*self.signer {
            Signer::Ec(key) => ("ecdsa", key.sign(message).unwrap()),
            Signer::Ed(pair) => ("eddsa", pair.sign(message).as_ref().to_vec()),
        };
        json!({"keyid": self.id, "method": method, "sig": STANDARD.encode(sig)})
    }
}

/// A metadata file: `signed` and a signature by each of `keys` over its canonical form.
pub fn sign(signed: &Value, keys: &[Rc<TestKey>]) -> Vec<u8> {
    let canonical = to_canonical(signed).unwrap();
    let signatures: Vec<Value> = keys.iter().map(|k| k.sign(&canonical)).collect();
    serde_json::to_vec(&json!({"signed": signed, "signatures": signatures})).unwrap()
}

/// `{hashes: {sha256, sha512}, length}` of `bytes`, base64 as Notary writes it.
pub fn file_meta(bytes: &[u8]) -> Value {
    use aws_lc_rs::digest::{SHA256, SHA512, digest};
    json!({
        "hashes": {
            "sha256": STANDARD.encode(digest(&SHA256, bytes)),
            "sha512": STANDARD.encode(digest(&SHA512, bytes)),
        },
        "length": bytes.len(),
    })
}

pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap()
}

/// A repository with fresh keys, shaped like the vectors, valid at [`Fixture::now`].
pub struct Fixture {
    pub now: OffsetDateTime,
    pub root_key: Rc<TestKey>,
    pub targets_key: Rc<TestKey>,
    pub snapshot_key: Rc<TestKey>,
    pub timestamp_key: Rc<TestKey>,
    pub releases_key: Rc<TestKey>,
    pub alice_key: Rc<TestKey>,
    /// The `signed` objects; snapshot and timestamp `meta` are filled in by `files`.
    pub root: Value,
    pub targets: Value,
    pub delegations: BTreeMap<String, Value>,
    pub snapshot: Value,
    pub timestamp: Value,
    /// Who signs each role's file.
    pub signers: BTreeMap<String, Vec<Rc<TestKey>>>,
}

fn target(payload: &[u8]) -> Value {
    file_meta(payload)
}

impl Fixture {
    pub fn new() -> Self {
        let now = OffsetDateTime::now_utc();
        let years = |n: i64| rfc3339(now + Duration::days(365 * n));
        let root_key =
            TestKey::ecdsa_x509(GUN, now - Duration::hours(1), now + Duration::days(3650));
        let targets_key = TestKey::ecdsa();
        let snapshot_key = TestKey::ed25519();
        let timestamp_key = TestKey::ed25519();
        let releases_key = TestKey::ecdsa_x509(
            "releases",
            now - Duration::hours(1),
            now + Duration::days(400),
        );
        let alice_key = TestKey::ecdsa();
        let role = |k: &TestKey| json!({"keyids": [k.id], "threshold": 1});
        let root = json!({
            "_type": "Root",
            "consistent_snapshot": false,
            "expires": years(10),
            "keys": {
                root_key.id.clone(): root_key.json(),
                targets_key.id.clone(): targets_key.json(),
                snapshot_key.id.clone(): snapshot_key.json(),
                timestamp_key.id.clone(): timestamp_key.json(),
            },
            "roles": {
                "root": role(&root_key),
                "targets": role(&targets_key),
                "snapshot": role(&snapshot_key),
                "timestamp": role(&timestamp_key),
            },
            "version": 1,
        });
        let delegated = |name: &str, k: &TestKey| {
            let role = json!({"keyids": [k.id], "name": name, "threshold": 1});
            let mut role = role.as_object().cloned().unwrap();
            role.insert("paths".into(), json!([""]));
            Value::Object(role)
        };
        let delegation_keys = json!({
            releases_key.id.clone(): releases_key.json(),
            alice_key.id.clone(): alice_key.json(),
        });
        let delegation_roles = json!([
            delegated("targets/releases", &releases_key),
            delegated("targets/alice", &alice_key),
        ]);
        let targets = json!({
            "_type": "Targets",
            "delegations": {"keys": delegation_keys, "roles": delegation_roles},
            "expires": years(3),
            "targets": {"v1": target(b"payload one\n")},
            "version": 2,
        });
        let delegation = |tag: &str| {
            json!({
                "_type": "Targets",
                "delegations": {"keys": {}, "roles": []},
                "expires": years(3),
                "targets": {tag: target(b"payload two\n")},
                "version": 1,
            })
        };
        let mut delegations = BTreeMap::new();
        delegations.insert("targets/releases".to_string(), delegation("v2"));
        delegations.insert("targets/alice".to_string(), delegation("v2"));
        let snapshot = json!({"_type": "Snapshot", "expires": years(3), "meta": {}, "version": 3});
        let timestamp = json!({
            "_type": "Timestamp",
            "expires": rfc3339(now + Duration::days(14)),
            "meta": {},
            "version": 4,
        });
        let mut signers = BTreeMap::new();
        signers.insert("root".to_string(), vec![root_key.clone()]);
        signers.insert("targets".to_string(), vec![targets_key.clone()]);
        signers.insert("snapshot".to_string(), vec![snapshot_key.clone()]);
        signers.insert("timestamp".to_string(), vec![timestamp_key.clone()]);
        signers.insert("targets/releases".to_string(), vec![releases_key.clone()]);
        signers.insert("targets/alice".to_string(), vec![alice_key.clone()]);
        Fixture {
            now,
            root_key,
            targets_key,
            snapshot_key,
            timestamp_key,
            releases_key,
            alice_key,
            root,
            targets,
            delegations,
            snapshot,
            timestamp,
            signers,
        }
    }

    /// Signs every role, the snapshot over the others' bytes and the timestamp over the
    /// snapshot's.
    pub fn files(&self) -> RepositoryFiles {
        let root = sign(&self.root, &self.signers["root"]);
        let targets = sign(&self.targets, &self.signers["targets"]);
        let mut files = RepositoryFiles {
            root,
            targets,
            ..RepositoryFiles::default()
        };
        for (name, signed) in &self.delegations {
            let bytes = sign(signed, &self.signers[name]);
            files.delegations.insert(name.parse().unwrap(), bytes);
        }
        self.reseal(&mut files);
        files
    }

    /// Recomputes snapshot and timestamp over the files as they are now.
    pub fn reseal(&self, files: &mut RepositoryFiles) {
        let mut snapshot = self.snapshot.clone();
        snapshot["meta"]["root"] = file_meta(&files.root);
        snapshot["meta"]["targets"] = file_meta(&files.targets);
        for (name, bytes) in &files.delegations {
            snapshot["meta"][name.as_str()] = file_meta(bytes);
        }
        files.snapshot = sign(&snapshot, &self.signers["snapshot"]);
        let mut timestamp = self.timestamp.clone();
        timestamp["meta"]["snapshot"] = file_meta(&files.snapshot);
        files.timestamp = sign(&timestamp, &self.signers["timestamp"]);
    }
}
