//! Tests of the publish validation, one per rule, on repositories keyed afresh: an
//! `ecdsa-x509` root certificate naming the GUN, `ecdsa` targets, snapshot and delegation
//! keys, and the server's timestamp key.
#![allow(clippy::unwrap_used)] // fixtures fail loudly

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_tuf::canonical::to_canonical;
use hallmark_tuf::sign::{file_meta, format_expires, sign_metadata};
use hallmark_tuf::{KeyType, PublicKey, Timestamp};
use hallmark_x509::testing::CertTemplate;
use hallmark_x509::{Certificate, SigningKey};
use serde_json::{Value, json};
use time::Duration;

use super::*;
use crate::fs_store::FsTrustStore;
use crate::signer::{self, get_or_create_key};

const GUN: &str = "example.com/demo";

/// A root key: a self-signed certificate naming `common_name`.
struct RootKey {
    key: SigningKey,
    public: PublicKey,
}

impl RootKey {
    fn new(common_name: &str, now: OffsetDateTime) -> RootKey {
        let mut template = CertTemplate::code_signing_leaf(common_name);
        template.subject = vec![("CN".into(), common_name.into())];
        template.not_before = now - Duration::days(30);
        template.not_after = now + Duration::days(3650);
        let (key, cert): (SigningKey, Certificate) = template.self_signed().unwrap();
        let public = PublicKey::new(KeyType::EcdsaX509, cert.to_pem().into_bytes()).unwrap();
        RootKey { key, public }
    }
}

fn key_object(public: &PublicKey) -> Value {
    json!({"keytype": public.key_type().as_str(),
           "keyval": {"private": null, "public": STANDARD.encode(public.public())}})
}

/// `signed` signed by root keys.
fn sign_root(signed: &Value, keys: &[&RootKey]) -> Vec<u8> {
    let canonical = to_canonical(signed).unwrap();
    let signatures: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({"keyid": k.public.id().as_str(), "method": "ecdsa",
                   "sig": STANDARD.encode(k.key.sign(&canonical).unwrap())})
        })
        .collect();
    serde_json::to_vec(&json!({"signed": signed, "signatures": signatures})).unwrap()
}

struct Repo {
    _dir: tempfile::TempDir,
    store: FsTrustStore,
    gun: ServerGun,
    now: OffsetDateTime,
    root_key: RootKey,
    targets_key: ServerKey,
    snapshot_key: ServerKey,
    timestamp: PublicKey,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        let store = FsTrustStore::open(dir.path()).unwrap();
        let gun: ServerGun = GUN.parse().unwrap();
        let timestamp = get_or_create_key(&store, &gun, ServerRole::Timestamp).unwrap();
        let now = OffsetDateTime::now_utc();
        Repo {
            _dir: dir,
            root_key: RootKey::new(GUN, now),
            targets_key: ServerKey::generate().unwrap(),
            snapshot_key: ServerKey::generate().unwrap(),
            timestamp: timestamp.public().clone(),
            store,
            gun,
            now,
        }
    }

    fn expires(&self, days: i64) -> String {
        format_expires(self.now + Duration::days(days)).unwrap()
    }

    /// Root `version` with `root_keys` as root keys and `snapshot` as snapshot key.
    fn root_signed(&self, version: u64, root_keys: &[&RootKey], snapshot: &PublicKey) -> Value {
        let mut keys = serde_json::Map::new();
        let mut role = |public: &PublicKey| {
            keys.insert(public.id().to_string(), key_object(public));
            json!({"keyids": [public.id().as_str()], "threshold": 1})
        };
        let root_ids: Vec<&str> = root_keys.iter().map(|k| k.public.id().as_str()).collect();
        for k in root_keys {
            role(&k.public);
        }
        let roles = json!({
            "root": {"keyids": root_ids, "threshold": 1},
            "targets": role(self.targets_key.public()),
            "snapshot": role(snapshot),
            "timestamp": role(&self.timestamp),
        });
        json!({"_type": "Root", "consistent_snapshot": false, "expires": self.expires(3650),
               "keys": keys, "roles": roles, "version": version})
    }

    fn root(&self, version: u64) -> Vec<u8> {
        let signed = self.root_signed(version, &[&self.root_key], self.snapshot_key.public());
        sign_root(&signed, &[&self.root_key])
    }

    fn targets_signed(&self, version: u64, delegations: Value) -> Value {
        json!({"_type": "Targets", "delegations": delegations, "expires": self.expires(1000),
               "targets": {"v1": file_meta(b"payload")}, "version": version})
    }

    fn targets(&self, version: u64) -> Vec<u8> {
        let signed = self.targets_signed(version, json!({"keys": {}, "roles": []}));
        sign_metadata(&signed, &[&self.targets_key]).unwrap()
    }

    fn snapshot(&self, version: u64, files: &[(&str, &[u8])]) -> Vec<u8> {
        let meta: serde_json::Map<String, Value> = files
            .iter()
            .map(|(role, bytes)| (role.to_string(), file_meta(bytes)))
            .collect();
        let signed = json!({"_type": "Snapshot", "expires": self.expires(1000), "meta": meta,
                            "version": version});
        sign_metadata(&signed, &[&self.snapshot_key]).unwrap()
    }

    fn publish(&self, files: &[(&str, Vec<u8>)]) -> Result<u64, NotaryError> {
        self.publish_at(files, self.now)
    }

    fn publish_at(
        &self,
        files: &[(&str, Vec<u8>)],
        now: OffsetDateTime,
    ) -> Result<u64, NotaryError> {
        let upload = files
            .iter()
            .map(|(r, b)| (r.parse().unwrap(), b.clone()))
            .collect();
        publish(&self.store, &self.gun, upload, now)
    }

    /// The first publish: root v1, targets v1, snapshot v1.
    fn first(&self) {
        let (root, targets) = (self.root(1), self.targets(1));
        let snapshot = self.snapshot(1, &[("root", &root), ("targets", &targets)]);
        let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
        assert_eq!(self.publish(&files).unwrap(), 1);
    }

    fn current(&self, role: &str) -> Vec<u8> {
        let stored = Stored::load(&self.store, &self.gun).unwrap();
        stored.files[&role.parse::<RoleName>().unwrap()].clone()
    }
}

fn assert_invalid(result: Result<u64, NotaryError>, problem: &str, words: &str) {
    let err = result.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidUpdate, "{err}");
    assert_eq!(err.detail()["Name"], problem, "{err}");
    assert!(err.to_string().contains(words), "{words:?} not in {err}");
}

#[test]
fn first_publish_stores_every_role_and_a_server_timestamp() {
    let repo = Repo::new();
    repo.first();
    let timestamp = Signed::<Timestamp>::parse(&repo.current("timestamp")).unwrap();
    let snapshot = repo.current("snapshot");
    let (ts, sn) = (RoleName::timestamp(), RoleName::snapshot());
    timestamp
        .signed
        .snapshot
        .check(&snapshot, &sn, &ts)
        .unwrap();
    assert_eq!(timestamp.signatures[0].key_id, repo.timestamp.id().as_str());
    let feed = repo.store.changes(
        None,
        crate::store::ChangeQuery {
            change_id: Some(0),
            records: 10,
            backwards: false,
        },
    );
    assert_eq!(feed.unwrap().len(), 1);
}

#[test]
fn first_publish_without_root_is_refused() {
    let repo = Repo::new();
    let targets = repo.targets(1);
    assert_invalid(
        repo.publish(&[("targets", targets)]),
        "ErrBadRoot",
        "no root",
    );
}

#[test]
fn root_for_another_gun_is_refused() {
    let mut repo = Repo::new();
    repo.root_key = RootKey::new("example.com/other", repo.now);
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(1, &[("root", &root), ("targets", &targets)]);
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    assert_invalid(repo.publish(&files), "ErrBadRoot", "common name");
}

#[test]
fn root_rotation_needs_the_previous_root_keys() {
    let repo = Repo::new();
    repo.first();
    let usurper = RootKey::new(GUN, repo.now);
    let signed = repo.root_signed(2, &[&usurper], repo.snapshot_key.public());
    let alone = sign_root(&signed, &[&usurper]);
    assert_invalid(
        repo.publish(&[("root", alone)]),
        "ErrBadRoot",
        "not signed by the trusted",
    );

    // Signed by both the old and the new key, the rotation goes through.
    let both = sign_root(&signed, &[&usurper, &repo.root_key]);
    let snapshot_of =
        |root: &[u8]| repo.snapshot(2, &[("root", root), ("targets", &repo.current("targets"))]);
    let files = [("snapshot", snapshot_of(&both)), ("root", both)];
    assert_eq!(repo.publish(&files).unwrap(), 2);
}

#[test]
fn root_may_not_skip_versions() {
    let repo = Repo::new();
    repo.first();
    let root = repo.root(3);
    let snapshot = repo.snapshot(2, &[("root", &root), ("targets", &repo.current("targets"))]);
    assert_invalid(
        repo.publish(&[("root", root), ("snapshot", snapshot)]),
        "ErrBadRoot",
        "skips",
    );
}

#[test]
fn replayed_targets_is_a_version_error() {
    let repo = Repo::new();
    repo.first();
    let err = repo
        .publish(&[("targets", repo.current("targets"))])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Version, "{err}");
}

#[test]
fn targets_under_threshold_or_expired_are_refused() {
    let repo = Repo::new();
    repo.first();
    let stranger = ServerKey::generate().unwrap();
    let signed = repo.targets_signed(2, json!({"keys": {}, "roles": []}));
    let forged = sign_metadata(&signed, &[&stranger]).unwrap();
    assert_invalid(
        repo.publish(&[("targets", forged)]),
        "ErrBadTargets",
        "threshold",
    );

    let mut expired = repo.targets_signed(2, json!({"keys": {}, "roles": []}));
    expired["expires"] = repo.expires(-1).into();
    let expired = sign_metadata(&expired, &[&repo.targets_key]).unwrap();
    assert_invalid(
        repo.publish(&[("targets", expired)]),
        "ErrBadTargets",
        "expired",
    );
}

#[test]
fn delegations_need_a_parent_that_declares_them() {
    let repo = Repo::new();
    repo.first();
    let releases = ServerKey::generate().unwrap();
    let file = |version: u64, target: &str| {
        let signed = json!({"_type": "Targets", "expires": repo.expires(100),
            "targets": {target: file_meta(b"x")}, "version": version});
        sign_metadata(&signed, &[&releases]).unwrap()
    };
    let undeclared = [("targets/releases", file(1, "v2"))];
    assert_invalid(
        repo.publish(&undeclared),
        "ErrBadTargets",
        "does not delegate",
    );

    let id = releases.public().id().as_str();
    let delegations = json!({"keys": {id: releases.key_object()}, "roles": [
        {"name": "targets/releases", "keyids": [id], "threshold": 1, "paths": ["release-"]}]});
    let parent = sign_metadata(&repo.targets_signed(2, delegations), &[&repo.targets_key]).unwrap();
    let outside = [
        ("targets", parent.clone()),
        ("targets/releases", file(1, "v2")),
    ];
    assert_invalid(repo.publish(&outside), "ErrBadTargets", "outside its paths");

    // Parent and child in one upload, the server signing nothing but the timestamp.
    let child = file(1, "release-2");
    let root = repo.current("root");
    let snapshot = repo.snapshot(
        2,
        &[
            ("root", &root),
            ("targets", &parent),
            ("targets/releases", &child),
        ],
    );
    let files = [
        ("targets/releases", child),
        ("targets", parent),
        ("snapshot", snapshot),
    ];
    assert_eq!(repo.publish(&files).unwrap(), 2);
}

#[test]
fn client_snapshot_must_record_the_files_published() {
    let repo = Repo::new();
    repo.first();
    let targets = repo.targets(2);
    let stale = repo.snapshot(2, &[("root", &repo.current("root")), ("targets", b"old")]);
    let files = [("targets", targets), ("snapshot", stale)];
    assert_invalid(repo.publish(&files), "ErrBadSnapshot", "targets");
}

#[test]
fn snapshot_is_signed_here_only_with_a_server_snapshot_key() {
    let repo = Repo::new();
    repo.first();
    assert_invalid(
        repo.publish(&[("targets", repo.targets(2))]),
        "ErrBadHierarchy",
        "snapshot",
    );

    // `notary key rotate GUN snapshot -r`: the server's key in a new root, root only.
    let server_snapshot = get_or_create_key(&repo.store, &repo.gun, ServerRole::Snapshot).unwrap();
    let signed = repo.root_signed(2, &[&repo.root_key], server_snapshot.public());
    let root = sign_root(&signed, &[&repo.root_key]);
    assert_eq!(repo.publish(&[("root", root.clone())]).unwrap(), 2);
    assert_eq!(repo.publish(&[("targets", repo.targets(2))]).unwrap(), 3);

    let snapshot = Signed::<Snapshot>::parse(&repo.current("snapshot")).unwrap();
    assert_eq!(snapshot.signed.version, 3);
    assert_eq!(
        snapshot.signatures[0].key_id,
        server_snapshot.public().id().as_str()
    );
    let (targets, by) = (RoleName::targets(), RoleName::snapshot());
    let meta = snapshot.signed.meta_for(&targets).unwrap();
    meta.check(&repo.current("targets"), &targets, &by).unwrap();
}

#[test]
fn timestamp_must_be_the_servers_key() {
    let mut repo = Repo::new();
    repo.timestamp = ServerKey::generate().unwrap().public().clone();
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(1, &[("root", &root), ("targets", &targets)]);
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    assert_invalid(repo.publish(&files), "ErrBadRoot", "timestamp key");
}

#[test]
fn stale_timestamp_is_re_signed_on_read() {
    let repo = Repo::new();
    let then = repo.now - Duration::days(20);
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(1, &[("root", &root), ("targets", &targets)]);
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    repo.publish_at(&files, then).unwrap();

    assert!(signer::needs_refresh(&repo.store, &repo.gun, repo.now).unwrap());
    signer::refresh(&repo.store, &repo.gun, repo.now).unwrap();
    let timestamp = Signed::<Timestamp>::parse(&repo.current("timestamp")).unwrap();
    assert_eq!(timestamp.signed.version, 2);
    assert!(timestamp.signed.expires > repo.now + Duration::days(13));
    assert!(!signer::needs_refresh(&repo.store, &repo.gun, repo.now).unwrap());
}

#[test]
fn parts_must_name_roles_once() {
    let part = |filename: Option<&str>| Part {
        name: Some("files".into()),
        filename: filename.map(str::to_string),
        body: b"{}".to_vec(),
    };
    let err = roles_from_parts(vec![part(None)]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::NoFilename);
    let err = roles_from_parts(vec![part(Some("Targets"))]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidRole);
    let err = roles_from_parts(vec![part(Some("root")), part(Some("root.json"))]).unwrap_err();
    assert_eq!(err.code(), ErrorCode::MalformedUpload);
    let upload = roles_from_parts(vec![part(Some("targets/releases.json"))]).unwrap();
    assert!(upload.contains_key(&"targets/releases".parse::<RoleName>().unwrap()));
}

/// A delegation entry for `name` with `key` and every path allowed.
fn delegating(entries: &[(&str, &ServerKey)]) -> Value {
    let mut keys = serde_json::Map::new();
    let roles: Vec<Value> = entries
        .iter()
        .map(|(name, key)| {
            let id = key.public().id().as_str();
            keys.insert(id.to_string(), key.key_object());
            json!({"name": name, "keyids": [id], "threshold": 1, "paths": [""]})
        })
        .collect();
    json!({"keys": keys, "roles": roles})
}

impl Repo {
    /// A delegated targets file of `version` signed by `key`, delegating `delegations`.
    fn delegated(&self, version: u64, delegations: Value, key: &ServerKey) -> Vec<u8> {
        let signed = json!({"_type": "Targets", "delegations": delegations,
            "expires": self.expires(100), "targets": {"v": file_meta(b"x")}, "version": version});
        sign_metadata(&signed, &[key]).unwrap()
    }

    /// Publishes `files` with a client snapshot of `version` listing root, targets and
    /// every uploaded file.
    fn publish_with_snapshot(
        &self,
        version: u64,
        files: Vec<(&str, Vec<u8>)>,
    ) -> Result<u64, NotaryError> {
        let (root, targets) = (self.current("root"), self.current("targets"));
        let mut listed: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        listed.insert("root".into(), root);
        listed.insert("targets".into(), targets);
        for (role, bytes) in &files {
            listed.insert(role.to_string(), bytes.clone());
        }
        let listed: Vec<(&str, &[u8])> = listed
            .iter()
            .map(|(r, b)| (r.as_str(), b.as_slice()))
            .collect();
        let mut files = files;
        files.push(("snapshot", self.snapshot(version, &listed)));
        self.publish(&files)
    }
}

#[test]
fn stored_parent_that_no_longer_delegates_is_refused() {
    let repo = Repo::new();
    repo.first();
    let (a_key, b_key) = (
        ServerKey::generate().unwrap(),
        ServerKey::generate().unwrap(),
    );
    let targets = |version: u64, delegations: Value| {
        sign_metadata(
            &repo.targets_signed(version, delegations),
            &[&repo.targets_key],
        )
        .unwrap()
    };
    let a = repo.delegated(1, delegating(&[("targets/a/b", &b_key)]), &a_key);
    let files = vec![
        ("targets", targets(2, delegating(&[("targets/a", &a_key)]))),
        ("targets/a", a),
    ];
    assert_eq!(repo.publish_with_snapshot(2, files).unwrap(), 2);
    let b = |version| repo.delegated(version, json!({"keys": {}, "roles": []}), &b_key);
    // While targets delegates to targets/a, the stored targets/a vouches for targets/a/b.
    let files = vec![("targets/a/b", b(1))];
    assert_eq!(repo.publish_with_snapshot(3, files).unwrap(), 3);

    // targets stops delegating to targets/a: its stored file no longer counts.
    let files = vec![("targets", targets(3, delegating(&[])))];
    assert_eq!(repo.publish_with_snapshot(4, files).unwrap(), 4);
    assert_invalid(
        repo.publish_with_snapshot(5, vec![("targets/a/b", b(2))]),
        "ErrBadTargets",
        "does not delegate to targets/a",
    );

    // targets delegates to targets/a again, with another key: the stored file, signed by
    // the old key, does not count either.
    let other = ServerKey::generate().unwrap();
    let files = vec![("targets", targets(4, delegating(&[("targets/a", &other)])))];
    assert_eq!(repo.publish_with_snapshot(5, files).unwrap(), 5);
    assert_invalid(
        repo.publish_with_snapshot(6, vec![("targets/a/b", b(2))]),
        "ErrBadTargets",
        "not signed by a threshold",
    );
}

#[test]
fn stored_targets_no_longer_signed_by_the_root_cannot_delegate() {
    let mut repo = Repo::new();
    repo.first();
    let a_key = ServerKey::generate().unwrap();
    let signed = repo.targets_signed(2, delegating(&[("targets/a", &a_key)]));
    let targets = sign_metadata(&signed, &[&repo.targets_key]).unwrap();
    assert_eq!(
        repo.publish_with_snapshot(2, vec![("targets", targets)])
            .unwrap(),
        2
    );
    // A root naming another targets key, without a targets file signed by it.
    repo.targets_key = ServerKey::generate().unwrap();
    let root = repo.root(2);
    assert_eq!(
        repo.publish_with_snapshot(3, vec![("root", root)]).unwrap(),
        3
    );
    let a = repo.delegated(1, json!({"keys": {}, "roles": []}), &a_key);
    assert_invalid(
        repo.publish_with_snapshot(4, vec![("targets/a", a)]),
        "ErrBadTargets",
        "the stored targets is not signed",
    );
}

#[test]
fn lower_root_version_is_an_invalid_update() {
    let repo = Repo::new();
    repo.first();
    assert_eq!(
        repo.publish_with_snapshot(2, vec![("root", repo.root(2))])
            .unwrap(),
        2
    );
    assert_invalid(
        repo.publish_with_snapshot(3, vec![("root", repo.root(1))]),
        "ErrBadRoot",
        "root modifications must increment the version",
    );
    // The stored version with other bytes is still a replay.
    let err = repo
        .publish_with_snapshot(3, vec![("root", repo.root(2))])
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::Version, "{err}");
}

#[test]
fn stale_snapshot_with_a_client_key_needs_no_refresh() {
    let repo = Repo::new();
    let (root, targets) = (repo.root(1), repo.targets(1));
    let meta = json!({"root": file_meta(&root), "targets": file_meta(&targets)});
    let signed = json!({"_type": "Snapshot", "expires": repo.expires(3), "meta": meta,
                        "version": 1});
    let snapshot = sign_metadata(&signed, &[&repo.snapshot_key]).unwrap();
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    repo.publish(&files).unwrap();
    // Within 7 days of expiry, but only the client can sign a new snapshot.
    assert!(!signer::needs_refresh(&repo.store, &repo.gun, repo.now).unwrap());
}

#[test]
fn stale_timestamp_without_the_server_key_needs_no_refresh() {
    let repo = Repo::new();
    let then = repo.now - Duration::days(20);
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(1, &[("root", &root), ("targets", &targets)]);
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    repo.publish_at(&files, then).unwrap();
    assert!(signer::needs_refresh(&repo.store, &repo.gun, repo.now).unwrap());
    // The key the root names is gone from the server.
    let id = repo.timestamp.id();
    let key = repo.store.private_key(&repo.gun, ServerRole::Timestamp, id);
    assert!(key.unwrap().is_some());
    let path = repo
        ._dir
        .path()
        .join(format!("repos/{GUN}/_trust/keys/timestamp/{id}.key"));
    std::fs::remove_file(path).unwrap();
    assert!(!signer::needs_refresh(&repo.store, &repo.gun, repo.now).unwrap());
}

#[test]
fn re_signed_timestamp_is_recorded_in_the_change_feed() {
    let repo = Repo::new();
    let then = repo.now - Duration::days(20);
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(1, &[("root", &root), ("targets", &targets)]);
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    repo.publish_at(&files, then).unwrap();
    signer::refresh(&repo.store, &repo.gun, repo.now).unwrap();

    let query = crate::store::ChangeQuery {
        change_id: Some(0),
        records: 10,
        backwards: false,
    };
    let feed = repo.store.changes(Some(&repo.gun), query).unwrap();
    let versions: Vec<u64> = feed.iter().map(|r| r.version).collect();
    assert_eq!(versions, [1, 2]);
    let timestamp = repo.current("timestamp");
    let sha256 = crate::route::Checksum::of("sha256", &timestamp).unwrap();
    assert_eq!(feed[1].sha256, sha256.hex());
    assert_eq!(feed[1].category, crate::store::ChangeCategory::Update);
}

#[test]
fn snapshot_at_the_largest_version_is_not_incremented() {
    let repo = Repo::new();
    let (root, targets) = (repo.root(1), repo.targets(1));
    let snapshot = repo.snapshot(
        signer::MAX_VERSION,
        &[("root", &root), ("targets", &targets)],
    );
    let files = [("root", root), ("targets", targets), ("snapshot", snapshot)];
    repo.publish(&files).unwrap();

    // The snapshot key moves to the server, which would have to sign version MAX + 1.
    assert!(signer::next_version(&RoleName::snapshot(), u64::MAX).is_err());
    let server_snapshot = get_or_create_key(&repo.store, &repo.gun, ServerRole::Snapshot).unwrap();
    let signed = repo.root_signed(2, &[&repo.root_key], server_snapshot.public());
    let root = sign_root(&signed, &[&repo.root_key]);
    assert_invalid(
        repo.publish(&[("root", root)]),
        "ErrBadHierarchy",
        "largest possible",
    );
}
