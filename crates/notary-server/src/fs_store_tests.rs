//! Tests of [`FsTrustStore`]: versions, checksums, atomic commits, deletion, keys, the
//! change feed and its recovery from a torn append.
#![allow(clippy::unwrap_used)] // fixtures fail loudly

use super::*;
use crate::store::ChangeCategory;

fn gun() -> ServerGun {
    "example.com/demo".parse().unwrap()
}

fn file(role: &str, version: u64, bytes: &str) -> RoleFile {
    RoleFile {
        role: role.parse().unwrap(),
        version,
        bytes: bytes.as_bytes().to_vec(),
    }
}

fn change(version: u64) -> NewChange {
    NewChange {
        gun: gun().to_string(),
        version,
        sha256: "00".repeat(32),
        category: ChangeCategory::Update,
    }
}

fn all(records: usize) -> ChangeQuery {
    ChangeQuery {
        change_id: Some(0),
        records,
        backwards: false,
    }
}

#[test]
fn commit_makes_versions_current_and_addressable() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let targets: RoleName = "targets".parse().unwrap();
    store
        .commit(
            &gun(),
            &[file("root", 1, "r1"), file("targets", 2, "t2")],
            Some(&change(1)),
        )
        .unwrap();
    store
        .commit(&gun(), &[file("targets", 3, "t3")], None)
        .unwrap();

    let current = store.current(&gun()).unwrap();
    assert_eq!(current.get(&targets), Some(&3));
    assert_eq!(
        store.by_version(&gun(), &targets, 2).unwrap().unwrap(),
        b"t2"
    );
    for algorithm in CHECKSUMS {
        let sum = Checksum::of(algorithm, b"t2").unwrap();
        assert_eq!(
            store.by_checksum(&gun(), &targets, &sum).unwrap().unwrap(),
            b"t2"
        );
    }
    let missing = Checksum::of("sha256", b"other").unwrap();
    assert!(
        store
            .by_checksum(&gun(), &targets, &missing)
            .unwrap()
            .is_none()
    );
}

#[test]
fn replayed_version_is_refused_and_nothing_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    store
        .commit(&gun(), &[file("targets", 2, "t2")], None)
        .unwrap();
    let replay = [file("root", 1, "r1"), file("targets", 2, "other")];
    let err = store.commit(&gun(), &replay, None).unwrap_err();
    assert!(
        matches!(err, StoreError::OldVersion { stored: 2, .. }),
        "{err}"
    );
    let current = store.current(&gun()).unwrap();
    assert_eq!(
        current.len(),
        1,
        "root must not be applied alone: {current:?}"
    );
    let targets: RoleName = "targets".parse().unwrap();
    assert_eq!(
        store.by_version(&gun(), &targets, 2).unwrap().unwrap(),
        b"t2"
    );
}

#[test]
fn delete_removes_metadata_keeps_keys_and_records_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let id: KeyId = "ab".repeat(32).parse().unwrap();
    store
        .add_key(&gun(), ServerRole::Timestamp, &id, b"pkcs8")
        .unwrap();
    store
        .commit(&gun(), &[file("root", 1, "r1")], Some(&change(1)))
        .unwrap();
    let deletion = NewChange {
        category: ChangeCategory::Deletion,
        ..change(0)
    };
    assert!(store.delete(&gun(), &deletion).unwrap());
    assert!(
        !store.delete(&gun(), &deletion).unwrap(),
        "second delete finds nothing"
    );
    assert!(store.current(&gun()).unwrap().is_empty());
    let root: RoleName = "root".parse().unwrap();
    assert!(store.by_version(&gun(), &root, 1).unwrap().is_none());
    assert_eq!(
        store.active_key(&gun(), ServerRole::Timestamp).unwrap(),
        Some(id.clone())
    );

    let feed = store.changes(None, all(100)).unwrap();
    let categories: Vec<_> = feed.iter().map(|r| r.category).collect();
    assert_eq!(
        categories,
        [ChangeCategory::Update, ChangeCategory::Deletion]
    );
}

#[cfg(unix)]
#[test]
fn private_keys_are_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let id: KeyId = "cd".repeat(32).parse().unwrap();
    store
        .add_key(&gun(), ServerRole::Snapshot, &id, b"pkcs8")
        .unwrap();
    let path = store
        .key_dir(&gun(), ServerRole::Snapshot)
        .join(format!("{id}.key"));
    let mode = fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let key = store
        .private_key(&gun(), ServerRole::Snapshot, &id)
        .unwrap();
    assert_eq!(key.unwrap(), b"pkcs8");
}

#[test]
fn changefeed_pages_both_ways_and_per_gun() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let other: ServerGun = "example.com/other".parse().unwrap();
    for version in 1..=4 {
        store
            .commit(
                &gun(),
                &[file("root", version, "r")],
                Some(&change(version)),
            )
            .unwrap();
    }
    let mut foreign = change(1);
    foreign.gun = other.to_string();
    store
        .commit(&other, &[file("root", 1, "r")], Some(&foreign))
        .unwrap();

    let ids = |records: Vec<ChangeRecord>| records.iter().map(|r| r.number()).collect::<Vec<_>>();
    assert_eq!(ids(store.changes(None, all(100)).unwrap()), [1, 2, 3, 4, 5]);
    assert_eq!(
        ids(store.changes(Some(&gun()), all(100)).unwrap()),
        [1, 2, 3, 4]
    );
    assert_eq!(ids(store.changes(None, all(2)).unwrap()), [1, 2]);
    let after_two = ChangeQuery {
        change_id: Some(2),
        ..all(100)
    };
    assert_eq!(ids(store.changes(None, after_two).unwrap()), [3, 4, 5]);
    let newest_two = ChangeQuery {
        change_id: None,
        records: 2,
        backwards: true,
    };
    assert_eq!(ids(store.changes(None, newest_two).unwrap()), [4, 5]);
}

#[test]
fn torn_changefeed_append_is_dropped_at_open() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = FsTrustStore::open(dir.path()).unwrap();
        store
            .commit(&gun(), &[file("root", 1, "r")], Some(&change(1)))
            .unwrap();
    }
    let feed = dir.path().join("changefeed.jsonl");
    let mut f = OpenOptions::new().append(true).open(&feed).unwrap();
    f.write_all(b"{\"ID\":\"2\",\"Crea").unwrap();
    drop(f);

    let store = FsTrustStore::open(dir.path()).unwrap();
    store
        .commit(&gun(), &[file("root", 2, "r")], Some(&change(2)))
        .unwrap();
    let ids: Vec<u64> = store
        .changes(None, all(10))
        .unwrap()
        .iter()
        .map(|r| r.number())
        .collect();
    assert_eq!(ids, [1, 2]);
}

fn ids(records: Vec<ChangeRecord>) -> Vec<u64> {
    records.iter().map(|r| r.number()).collect()
}

#[test]
fn versions_above_current_are_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let targets: RoleName = "targets".parse().unwrap();
    store
        .commit(&gun(), &[file("targets", 1, "t1")], None)
        .unwrap();
    // A publish that failed after its version files, before current.json.
    store
        .write_version(&gun(), &file("targets", 2, "t2"))
        .unwrap();
    store.write_version(&gun(), &file("root", 1, "r1")).unwrap();

    assert!(store.by_version(&gun(), &targets, 2).unwrap().is_none());
    let sum = Checksum::of("sha256", b"t2").unwrap();
    assert!(store.by_checksum(&gun(), &targets, &sum).unwrap().is_none());
    let root: RoleName = "root".parse().unwrap();
    assert!(store.by_version(&gun(), &root, 1).unwrap().is_none());
    assert_eq!(
        store.by_version(&gun(), &targets, 1).unwrap().unwrap(),
        b"t1"
    );
}

#[test]
fn change_feed_failure_after_the_commit_point_keeps_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    let feed = dir.path().join("changefeed.jsonl");
    fs::create_dir(&feed).unwrap(); // appending to it fails
    store
        .commit(&gun(), &[file("root", 1, "r1")], Some(&change(1)))
        .unwrap();
    let root: RoleName = "root".parse().unwrap();
    assert_eq!(store.current(&gun()).unwrap().get(&root), Some(&1));

    fs::remove_dir(&feed).unwrap();
    store
        .commit(&gun(), &[file("root", 2, "r2")], Some(&change(2)))
        .unwrap();
    let deletion = NewChange {
        category: ChangeCategory::Deletion,
        ..change(0)
    };
    fs::rename(&feed, dir.path().join("feed.bak")).unwrap();
    fs::create_dir(&feed).unwrap();
    assert!(store.delete(&gun(), &deletion).unwrap(), "deleted");
    assert!(store.current(&gun()).unwrap().is_empty());
    fs::remove_dir(&feed).unwrap();
    fs::rename(dir.path().join("feed.bak"), &feed).unwrap();
    // Only the second record made it; the first one's ID is not reused.
    assert_eq!(ids(store.changes(None, all(10)).unwrap()), [2]);
}

#[test]
fn failed_append_is_cut_off_and_its_id_not_reused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("feed");
    append_line(&path, b"{\"a\":1}\n", |f, l| f.write_all(l)).unwrap();
    let half_then_fail = |f: &mut fs::File, l: &[u8]| {
        f.write_all(&l[..3])?;
        Err(io::Error::other("disk full"))
    };
    let failure = append_line(&path, b"{\"b\":2}\n", half_then_fail).unwrap_err();
    assert!(!failure.torn, "{:?}", failure.error);
    assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}\n");

    // Through the store: the next record is whole, under a new ID.
    let store = FsTrustStore::open(dir.path()).unwrap();
    store
        .commit(&gun(), &[file("root", 1, "r")], Some(&change(1)))
        .unwrap();
    store.lock().next_id += 1; // as after a failed append
    store
        .commit(&gun(), &[file("root", 2, "r")], Some(&change(2)))
        .unwrap();
    drop(store);
    let store = FsTrustStore::open(dir.path()).unwrap();
    store
        .commit(&gun(), &[file("root", 3, "r")], Some(&change(3)))
        .unwrap();
    assert_eq!(ids(store.changes(None, all(10)).unwrap()), [1, 3, 4]);
}

#[test]
fn torn_append_is_repaired_before_the_next_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    store
        .commit(&gun(), &[file("root", 1, "r")], Some(&change(1)))
        .unwrap();
    // An append that failed and could not be cut off.
    let feed = dir.path().join("changefeed.jsonl");
    let mut f = OpenOptions::new().append(true).open(&feed).unwrap();
    f.write_all(b"{\"ID\":\"2\",\"Crea").unwrap();
    drop(f);
    {
        let mut state = store.lock();
        state.next_id = 3;
        state.torn = true;
    }
    store
        .commit(&gun(), &[file("root", 2, "r")], Some(&change(2)))
        .unwrap();
    assert_eq!(ids(store.changes(None, all(10)).unwrap()), [1, 3]);
    let text = fs::read_to_string(&feed).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
}

#[test]
fn paging_back_from_zero_starts_at_the_newest() {
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    for version in 1..=3 {
        store
            .commit(
                &gun(),
                &[file("root", version, "r")],
                Some(&change(version)),
            )
            .unwrap();
    }
    let back_from_zero = ChangeQuery {
        change_id: Some(0),
        records: 2,
        backwards: true,
    };
    assert_eq!(ids(store.changes(None, back_from_zero).unwrap()), [2, 3]);
    let before_three = ChangeQuery {
        change_id: Some(3),
        ..back_from_zero
    };
    assert_eq!(ids(store.changes(None, before_three).unwrap()), [1, 2]);
}

#[cfg(unix)]
#[test]
fn key_directories_are_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let store = FsTrustStore::open(dir.path()).unwrap();
    // A directory an older version made with the default mode is tightened.
    let keys = store.repo(&gun()).join("keys");
    fs::create_dir_all(&keys).unwrap();
    fs::set_permissions(&keys, fs::Permissions::from_mode(0o755)).unwrap();
    let id: KeyId = "ef".repeat(32).parse().unwrap();
    for role in [ServerRole::Timestamp, ServerRole::Snapshot] {
        store.add_key(&gun(), role, &id, b"pkcs8").unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&store.key_dir(&gun(), role)), 0o700, "{role:?}");
        assert_eq!(mode(&keys), 0o700);
    }
}
