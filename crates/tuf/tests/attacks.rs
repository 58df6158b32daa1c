//! Attack fixtures, one per TUF attack or Notary rule, each asserting the specific error.
//!
//! `ON_VECTORS` mutates the real notary-v1 files where no signature has to be remade (the
//! timestamp is hashed by nobody, and versions and the clock are inputs). `FRESH` builds a
//! repository shaped like the vectors with keys generated in the test (`common::Fixture`),
//! for attacks that need re-signed metadata.
#![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

mod common;

use std::path::Path;

use common::{
    Fixture, GUN, TestKey, cache_files, read, replace, rfc3339, sign, vector_time, vectors,
};
use hallmark_tuf::client::MAX_ROOT_ROTATIONS;
use hallmark_tuf::{
    Error, Gun, KeyType, Rejection, RepositoryFiles, RoleName, RootKeyProblem, RootPin,
    SignatureTally, TrustedState, Verified, Verifier,
};
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

fn verify(
    files: &RepositoryFiles,
    trusted: &TrustedState,
    now: OffsetDateTime,
) -> Result<(), Error> {
    verified(files, trusted, now).map(|_| ())
}

fn verified(
    files: &RepositoryFiles,
    trusted: &TrustedState,
    now: OffsetDateTime,
) -> Result<Verified, Error> {
    let gun: Gun = GUN.parse().unwrap();
    let verifier = Verifier {
        gun: &gun,
        pin: &RootPin::TrustOnFirstUse,
        trusted,
        now,
    };
    verifier.verify(files)
}

fn role(error: &Error) -> Option<&str> {
    match error {
        Error::Rollback { role, .. }
        | Error::Expired { role, .. }
        | Error::ThresholdNotMet { role, .. } => Some(role.as_str()),
        Error::HashMismatch { file, .. } | Error::LengthMismatch { file, .. } => {
            Some(file.as_str())
        }
        _ => None,
    }
}

fn rejected(error: &Error, rejection: &Rejection) -> bool {
    matches!(error, Error::ThresholdNotMet { tally, .. } if tally.has(rejection))
}

struct VectorCase {
    name: &'static str,
    setup: fn(&Path) -> (RepositoryFiles, TrustedState, OffsetDateTime),
    check: fn(&Error) -> bool,
}

fn vector_setup(dir: &Path) -> (RepositoryFiles, TrustedState, OffsetDateTime) {
    (cache_files(dir), TrustedState::default(), vector_time())
}

fn with_trusted(
    dir: &Path,
    trusted: TrustedState,
) -> (RepositoryFiles, TrustedState, OffsetDateTime) {
    (cache_files(dir), trusted, vector_time())
}

const ON_VECTORS: &[VectorCase] = &[
    VectorCase {
        name: "rollback_timestamp",
        setup: |d| {
            with_trusted(
                d,
                TrustedState {
                    timestamp_version: 6,
                    ..Default::default()
                },
            )
        },
        check: |e| {
            matches!(
                e,
                Error::Rollback {
                    version: 5,
                    trusted: 6,
                    ..
                }
            ) && role(e) == Some("timestamp")
        },
    },
    VectorCase {
        name: "rollback_snapshot",
        setup: |d| {
            with_trusted(
                d,
                TrustedState {
                    snapshot_version: 7,
                    ..Default::default()
                },
            )
        },
        check: |e| {
            matches!(
                e,
                Error::Rollback {
                    version: 6,
                    trusted: 7,
                    ..
                }
            ) && role(e) == Some("snapshot")
        },
    },
    VectorCase {
        name: "rollback_targets",
        setup: |d| {
            with_trusted(
                d,
                TrustedState {
                    targets_version: 5,
                    ..Default::default()
                },
            )
        },
        check: |e| {
            matches!(
                e,
                Error::Rollback {
                    version: 4,
                    trusted: 5,
                    ..
                }
            ) && role(e) == Some("targets")
        },
    },
    VectorCase {
        name: "rollback_delegation",
        setup: |d| {
            let mut trusted = TrustedState::default();
            trusted
                .delegation_versions
                .insert("targets/releases".parse().unwrap(), 2);
            with_trusted(d, trusted)
        },
        check: |e| {
            matches!(
                e,
                Error::Rollback {
                    version: 1,
                    trusted: 2,
                    ..
                }
            ) && role(e) == Some("targets/releases")
        },
    },
    VectorCase {
        name: "rollback_root",
        setup: |d| {
            let mut files = cache_files(d);
            files.root = read(d, "server/1.root.json");
            let trusted = TrustedState {
                root: Some(read(d, "server/root.json")),
                ..Default::default()
            };
            (files, trusted, vector_time())
        },
        check: |e| {
            matches!(
                e,
                Error::Rollback {
                    version: 1,
                    trusted: 2,
                    ..
                }
            ) && role(e) == Some("root")
        },
    },
    VectorCase {
        name: "freeze_expired_timestamp",
        setup: |d| {
            let (files, trusted, _) = vector_setup(d);
            (
                files,
                trusted,
                time::macros::datetime!(2026-12-18 00:00:00 UTC),
            )
        },
        check: |e| matches!(e, Error::Expired { .. }) && role(e) == Some("timestamp"),
    },
    VectorCase {
        name: "mix_and_match_older_targets",
        setup: |d| {
            let (mut files, trusted, now) = vector_setup(d);
            files.targets = read(d, "server/2.targets.json");
            (files, trusted, now)
        },
        check: |e| {
            matches!(e, Error::LengthMismatch { expected: 2120, .. }) && role(e) == Some("targets")
        },
    },
    VectorCase {
        name: "tampered_target_hash",
        setup: |d| {
            let (mut files, trusted, now) = vector_setup(d);
            // Same length, another target size: only the hash can tell.
            files.targets = replace(&files.targets, "\"length\":16", "\"length\":61");
            (files, trusted, now)
        },
        check: |e| {
            matches!(
                e,
                Error::HashMismatch {
                    algorithm: "sha256",
                    ..
                }
            ) && role(e) == Some("targets")
        },
    },
    VectorCase {
        name: "wrong_key_type",
        setup: |d| {
            let (mut files, trusted, now) = vector_setup(d);
            files.timestamp = replace(
                &files.timestamp,
                "\"method\":\"eddsa\"",
                "\"method\":\"ecdsa\"",
            );
            (files, trusted, now)
        },
        check: |e| {
            let mismatch = Rejection::MethodKeyMismatch {
                method: "ecdsa".into(),
                key_type: KeyType::Ed25519,
            };
            rejected(e, &mismatch) && role(e) == Some("timestamp")
        },
    },
    VectorCase {
        name: "unknown_signing_key",
        setup: |d| {
            let (mut files, trusted, now) = vector_setup(d);
            // The snapshot key is in root, but not a timestamp key.
            files.timestamp = replace(
                &files.timestamp,
                "\"keyid\":\"a1b5ebbe163a2273b33d9341020e8019ce2f0733998d6f2f2a5aa4e235ed3545\"",
                "\"keyid\":\"e94969aeb715c8d6c775e63c6770f42c903c3619ac58a8df9dddee19f304f5c2\"",
            );
            (files, trusted, now)
        },
        check: |e| rejected(e, &Rejection::UnknownKey) && role(e) == Some("timestamp"),
    },
];

#[test]
fn attacks_on_the_vectors() {
    let Some(dir) = vectors() else { return };
    for case in ON_VECTORS {
        let (files, trusted, now) = (case.setup)(&dir);
        match verify(&files, &trusted, now) {
            Ok(()) => panic!("{}: verified", case.name),
            Err(e) => {
                println!("{}: {e}", case.name);
                assert!((case.check)(&e), "{}: unexpected error: {e}", case.name);
            }
        }
    }
}

struct FreshCase {
    name: &'static str,
    setup: fn(&mut Fixture) -> (RepositoryFiles, TrustedState),
    check: fn(&Error) -> bool,
}

fn past(fixture: &Fixture) -> String {
    rfc3339(fixture.now - Duration::hours(1))
}

fn fresh(fixture: &mut Fixture) -> (RepositoryFiles, TrustedState) {
    (fixture.files(), TrustedState::default())
}

/// Root v1 of the fixture is trusted; root v2 replaces the root key with `new_key`, and is
/// signed by `signers`.
fn rotate_root(
    fixture: &mut Fixture,
    new_key: &std::rc::Rc<TestKey>,
    signers: Vec<std::rc::Rc<TestKey>>,
) -> (RepositoryFiles, TrustedState) {
    let v1 = sign(&fixture.root, &fixture.signers["root"]);
    let old_id = fixture.root_key.id.clone();
    let keys = fixture.root["keys"].as_object_mut().unwrap();
    keys.remove(&old_id);
    keys.insert(new_key.id.clone(), new_key.json());
    fixture.root["roles"]["root"]["keyids"] = json!([new_key.id]);
    fixture.root["version"] = json!(2);
    fixture.signers.insert("root".into(), signers);
    let trusted = TrustedState {
        root: Some(v1),
        ..Default::default()
    };
    (fixture.files(), trusted)
}

/// Makes `key` the fixture's only root key.
fn replace_root_key(fixture: &mut Fixture, key: std::rc::Rc<TestKey>) {
    let old_id = fixture.root_key.id.clone();
    let keys = fixture.root["keys"].as_object_mut().unwrap();
    keys.remove(&old_id);
    keys.insert(key.id.clone(), key.json());
    fixture.root["roles"]["root"]["keyids"] = json!([key.id]);
    fixture.signers.insert("root".into(), vec![key]);
}

fn new_root_key(fixture: &Fixture) -> std::rc::Rc<TestKey> {
    TestKey::ecdsa_x509(
        GUN,
        fixture.now - Duration::hours(1),
        fixture.now + Duration::days(365),
    )
}

const FRESH: &[FreshCase] = &[
    FreshCase {
        name: "freeze_expired_snapshot",
        setup: |f| {
            f.snapshot["expires"] = json!(past(f));
            fresh(f)
        },
        check: |e| matches!(e, Error::Expired { .. }) && role(e) == Some("snapshot"),
    },
    FreshCase {
        name: "freeze_expired_targets",
        setup: |f| {
            f.targets["expires"] = json!(past(f));
            fresh(f)
        },
        check: |e| matches!(e, Error::Expired { .. }) && role(e) == Some("targets"),
    },
    FreshCase {
        name: "freeze_expired_delegation",
        setup: |f| {
            let expires = past(f);
            f.delegations.get_mut("targets/releases").unwrap()["expires"] = json!(expires);
            fresh(f)
        },
        check: |e| matches!(e, Error::Expired { .. }) && role(e) == Some("targets/releases"),
    },
    FreshCase {
        name: "expired_root",
        setup: |f| {
            f.root["expires"] = json!(past(f));
            fresh(f)
        },
        check: |e| matches!(e, Error::Expired { .. }) && role(e) == Some("root"),
    },
    FreshCase {
        name: "expired_root_certificate",
        setup: |f| {
            let key =
                TestKey::ecdsa_x509(GUN, f.now - Duration::days(30), f.now - Duration::days(1));
            let old_id = f.root_key.id.clone();
            let keys = f.root["keys"].as_object_mut().unwrap();
            keys.remove(&old_id);
            keys.insert(key.id.clone(), key.json());
            f.root["roles"]["root"]["keyids"] = json!([key.id]);
            f.signers.insert("root".into(), vec![key]);
            fresh(f)
        },
        check: |e| {
            let expired = |r: &hallmark_tuf::RejectedSignature| {
                let problem = match &r.rejection {
                    Rejection::UnusableRootKey(problem) => problem,
                    _ => return false,
                };
                matches!(problem, RootKeyProblem::CertificateNotValidAt { .. })
            };
            let any_expired = match e {
                Error::ThresholdNotMet { tally, .. } => tally.rejected.iter().any(expired),
                _ => false,
            };
            role(e) == Some("root") && any_expired
        },
    },
    FreshCase {
        name: "root_certificate_for_another_gun",
        setup: |f| {
            let key = TestKey::ecdsa_x509(
                "example.com/other",
                f.now - Duration::hours(1),
                f.now + Duration::days(9),
            );
            let old_id = f.root_key.id.clone();
            let keys = f.root["keys"].as_object_mut().unwrap();
            keys.remove(&old_id);
            keys.insert(key.id.clone(), key.json());
            f.root["roles"]["root"]["keyids"] = json!([key.id]);
            f.signers.insert("root".into(), vec![key]);
            fresh(f)
        },
        check: |e| {
            let problem = RootKeyProblem::CommonNameMismatch {
                common_name: "example.com/other".into(),
            };
            rejected(e, &Rejection::UnusableRootKey(problem)) && role(e) == Some("root")
        },
    },
    FreshCase {
        name: "threshold_not_met",
        setup: |f| {
            // Two targets keys, threshold 2, one signature.
            let second = TestKey::ecdsa();
            f.root["keys"][second.id.as_str()] = second.json();
            f.root["roles"]["targets"] =
                json!({"keyids": [f.targets_key.id, second.id], "threshold": 2});
            fresh(f)
        },
        check: |e| {
            let one_of_two = |t: &SignatureTally| t.valid == 1 && t.threshold == 2;
            matches!(e, Error::ThresholdNotMet { tally, .. } if one_of_two(tally))
                && role(e) == Some("targets")
        },
    },
    FreshCase {
        name: "unknown_signing_key",
        setup: |f| {
            // The snapshot signed by the timestamp key.
            let timestamp_key = f.timestamp_key.clone();
            f.signers.insert("snapshot".into(), vec![timestamp_key]);
            fresh(f)
        },
        check: |e| rejected(e, &Rejection::UnknownKey) && role(e) == Some("snapshot"),
    },
    FreshCase {
        name: "delegation_outside_paths",
        setup: |f| {
            f.targets["delegations"]["roles"][0]["paths"] = json!(["release-"]);
            fresh(f)
        },
        check: |e| {
            matches!(e, Error::TargetOutsideDelegatedPaths { role, target }
                if role.as_str() == "targets/releases" && target == "v2")
        },
    },
    FreshCase {
        name: "delegation_threshold_not_met",
        setup: |f| {
            let alice = f.alice_key.clone();
            f.signers.insert("targets/releases".into(), vec![alice]);
            fresh(f)
        },
        check: |e| rejected(e, &Rejection::UnknownKey) && role(e) == Some("targets/releases"),
    },
    FreshCase {
        name: "mix_and_match_stale_delegation",
        setup: |f| {
            let mut files = f.files();
            // releases v2 published after the snapshot was made.
            let mut releases = f.delegations["targets/releases"].clone();
            releases["version"] = json!(2);
            let bytes = sign(&releases, &f.signers["targets/releases"]);
            files
                .delegations
                .insert("targets/releases".parse().unwrap(), bytes);
            (files, TrustedState::default())
        },
        check: |e| {
            matches!(e, Error::HashMismatch { .. } | Error::LengthMismatch { .. })
                && role(e) == Some("targets/releases")
        },
    },
    FreshCase {
        name: "delegation_file_missing",
        setup: |f| {
            let mut files = f.files();
            files.delegations.remove(&"targets/alice".parse().unwrap());
            (files, TrustedState::default())
        },
        check: |e| matches!(e, Error::MissingMetadata { role } if role.as_str() == "targets/alice"),
    },
    FreshCase {
        name: "root_rotation_not_signed_by_old_root",
        setup: |f| {
            let key = new_root_key(f);
            rotate_root(f, &key, vec![key.clone()])
        },
        check: |e| {
            matches!(e, Error::RootRotationNotSigned { version: 2, trusted_version: 1, tally }
            if tally.valid == 0 && tally.has(&Rejection::UnknownKey))
        },
    },
    FreshCase {
        name: "root_rotation_not_signed_by_new_root",
        setup: |f| {
            let key = new_root_key(f);
            let old = f.root_key.clone();
            rotate_root(f, &key, vec![old])
        },
        check: |e| rejected(e, &Rejection::UnknownKey) && role(e) == Some("root"),
    },
    FreshCase {
        name: "root_rotation_skipping_a_version",
        setup: |f| {
            let key = new_root_key(f);
            let old = f.root_key.clone();
            let (files, trusted) = rotate_root(f, &key, vec![old, key.clone()]);
            // Root v3 is offered with no 2.root.json beside it.
            f.root["version"] = json!(3);
            let mut files = RepositoryFiles {
                root: sign(&f.root, &f.signers["root"]),
                ..files
            };
            f.reseal(&mut files);
            (files, trusted)
        },
        check: |e| matches!(e, Error::MissingRootVersion { version: 2 }),
    },
    FreshCase {
        name: "root_rotation_beyond_the_cap",
        setup: |f| {
            let key = new_root_key(f);
            let old = f.root_key.clone();
            let (files, trusted) = rotate_root(f, &key, vec![old, key.clone()]);
            // Root v34 over the trusted v1: 33 rotations, one more than the cap. No
            // intermediate root is given: the cap is checked before any is looked for.
            f.root["version"] = json!(1 + MAX_ROOT_ROTATIONS + 1);
            let mut files = RepositoryFiles {
                root: sign(&f.root, &f.signers["root"]),
                ..files
            };
            f.reseal(&mut files);
            (files, trusted)
        },
        check: |e| {
            matches!(
                e,
                Error::TooManyRootRotations {
                    trusted: 1,
                    newest: 34,
                    cap: 32
                }
            )
        },
    },
    FreshCase {
        name: "root_certificate_with_wildcard_common_name",
        setup: |f| {
            // Notary's validRootLeafCerts wants CN == GUN exactly; `prefix*` is no wildcard.
            let key = TestKey::ecdsa_x509(
                "example.com/*",
                f.now - Duration::hours(1),
                f.now + Duration::days(9),
            );
            replace_root_key(f, key);
            fresh(f)
        },
        check: |e| {
            let problem = RootKeyProblem::CommonNameMismatch {
                common_name: "example.com/*".into(),
            };
            rejected(e, &Rejection::UnusableRootKey(problem)) && role(e) == Some("root")
        },
    },
    FreshCase {
        name: "one_key_counted_twice_under_two_key_ids",
        setup: |f| {
            // One key as an `ecdsa-x509` certificate and as the plain `ecdsa` key inside it:
            // two key IDs, threshold 2, both signatures valid, but a single key.
            let certificate = f.releases_key.clone();
            let plain = certificate.plain_twin();
            f.root["keys"][certificate.id.as_str()] = certificate.json();
            f.root["keys"][plain.id.as_str()] = plain.json();
            f.root["roles"]["targets"] =
                json!({"keyids": [certificate.id, plain.id], "threshold": 2});
            f.signers.insert("targets".into(), vec![certificate, plain]);
            fresh(f)
        },
        check: |e| {
            let once = |t: &SignatureTally| {
                t.valid == 1 && t.threshold == 2 && t.has(&Rejection::DuplicateKey)
            };
            matches!(e, Error::ThresholdNotMet { tally, .. } if once(tally))
                && role(e) == Some("targets")
        },
    },
];

#[test]
fn attacks_on_fresh_repositories() {
    for case in FRESH {
        let mut fixture = Fixture::new();
        let (files, trusted) = (case.setup)(&mut fixture);
        match verify(&files, &trusted, fixture.now) {
            Ok(()) => panic!("{}: verified", case.name),
            Err(e) => {
                println!("{}: {e}", case.name);
                assert!((case.check)(&e), "{}: unexpected error: {e}", case.name);
            }
        }
    }
}

#[test]
fn fresh_repository_verifies() {
    let fixture = Fixture::new();
    let files = fixture.files();
    let gun: Gun = GUN.parse().unwrap();
    let trusted = TrustedState::default();
    let verifier = Verifier {
        gun: &gun,
        pin: &RootPin::TrustOnFirstUse,
        trusted: &trusted,
        now: fixture.now,
    };
    let verified = verifier.verify(&files).unwrap();
    let docker: Vec<(&str, &str)> = verified
        .docker_targets()
        .into_iter()
        .map(|(tag, t)| (tag, t.role.as_str()))
        .collect();
    assert_eq!(docker, [("v1", "targets"), ("v2", "targets/releases")]);
}

#[test]
fn root_rotation_signed_by_old_and_new_keys_verifies() {
    let mut fixture = Fixture::new();
    let key = new_root_key(&fixture);
    let old = fixture.root_key.clone();
    let (files, trusted) = rotate_root(&mut fixture, &key, vec![old, key.clone()]);
    verify(&files, &trusted, fixture.now).unwrap();

    // And through an intermediate version: v1 -> 2.root.json -> v3 signed by the v2 key.
    let mut files = files;
    files.versioned_roots.insert(2, files.root.clone());
    fixture.root["version"] = json!(3);
    fixture.signers.insert("root".into(), vec![key]);
    files.root = sign(&fixture.root, &fixture.signers["root"]);
    fixture.reseal(&mut files);
    verify(&files, &trusted, fixture.now).unwrap();
}

#[test]
fn root_rotations_up_to_the_cap_are_followed() {
    let mut fixture = Fixture::new();
    let trusted = TrustedState {
        root: Some(sign(&fixture.root, &fixture.signers["root"])),
        ..Default::default()
    };
    let mut files = fixture.files();
    let newest = 1 + MAX_ROOT_ROTATIONS;
    for version in 2..newest {
        fixture.root["version"] = json!(version);
        let bytes = sign(&fixture.root, &fixture.signers["root"]);
        files.versioned_roots.insert(version, bytes);
    }
    fixture.root["version"] = json!(newest);
    files.root = sign(&fixture.root, &fixture.signers["root"]);
    fixture.reseal(&mut files);
    let verified = verified(&files, &trusted, fixture.now).unwrap();
    assert_eq!(verified.root.signed.version, newest);
}

fn releases() -> RoleName {
    "targets/releases".parse().unwrap()
}

#[test]
fn delegation_floor_survives_a_run_that_skips_it() {
    let mut fixture = Fixture::new();
    let now = fixture.now;
    // Run 1 verifies targets/releases v2.
    fixture.delegations.get_mut("targets/releases").unwrap()["version"] = json!(2);
    let first = verified(&fixture.files(), &TrustedState::default(), now).unwrap();
    let stored = first.trusted_state();
    assert_eq!(stored.delegation_versions.get(&releases()), Some(&2));

    // Run 2: the server leaves targets/releases out of the snapshot, so the run skips it.
    let mut files = fixture.files();
    files.delegations.remove(&releases());
    fixture.reseal(&mut files);
    let second = verified(&files, &stored, now).unwrap();
    assert!(!second.delegations.contains_key(&releases()));
    assert!(
        !second
            .trusted_state()
            .delegation_versions
            .contains_key(&releases())
    );
    let merged = second.trusted_state().merge(&stored).unwrap();
    assert_eq!(merged.delegation_versions.get(&releases()), Some(&2));

    // Run 3: the older, still valid targets/releases v1 is refused against the merged state.
    fixture.delegations.get_mut("targets/releases").unwrap()["version"] = json!(1);
    let files = fixture.files();
    let error = verify(&files, &merged, now).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Rollback {
                version: 1,
                trusted: 2,
                ..
            }
        ) && role(&error) == Some("targets/releases"),
        "unexpected error: {error}"
    );
    // Run 2's state alone would have let it through.
    verify(&files, &second.trusted_state(), now).unwrap();
}

#[test]
fn merged_state_keeps_every_floor_but_one_a_key_rotation_reset() {
    let mut fixture = Fixture::new();
    let v1 = sign(&fixture.root, &fixture.signers["root"]);
    // Root v2 gives the timestamp role a new key; snapshot keeps its key.
    let timestamp_key = TestKey::ed25519();
    fixture.root["keys"][timestamp_key.id.as_str()] = timestamp_key.json();
    fixture.root["roles"]["timestamp"] = json!({"keyids": [timestamp_key.id], "threshold": 1});
    fixture.root["version"] = json!(2);
    let v2 = sign(&fixture.root, &fixture.signers["root"]);
    let alice: RoleName = "targets/alice".parse().unwrap();
    let old = TrustedState {
        root: Some(v1),
        timestamp_version: 100,
        snapshot_version: 50,
        targets_version: 7,
        delegation_versions: [(releases(), 3), (alice.clone(), 2)].into(),
    };
    let new = TrustedState {
        root: Some(v2),
        timestamp_version: 1,
        snapshot_version: 40,
        targets_version: 5,
        delegation_versions: [(releases(), 4)].into(),
    };
    // Whichever was stored first, the merge is the same.
    for merged in [new.merge(&old).unwrap(), old.merge(&new).unwrap()] {
        assert_eq!(merged.root, new.root, "the newer root is kept");
        assert_eq!(
            merged.timestamp_version, 1,
            "a rotated key resets the floor"
        );
        assert_eq!(merged.snapshot_version, 50);
        assert_eq!(merged.targets_version, 7);
        let expected = [(releases(), 4), (alice.clone(), 2)].into();
        assert_eq!(merged.delegation_versions, expected);
    }
}

#[test]
fn signed_by_names_only_signatures_that_counted() {
    let mut fixture = Fixture::new();
    // Targets has two keys, threshold 1.
    let second = TestKey::ecdsa();
    fixture.root["keys"][second.id.as_str()] = second.json();
    fixture.root["roles"]["targets"] =
        json!({"keyids": [fixture.targets_key.id, second.id], "threshold": 1});
    let mut files = fixture.files();
    // Besides its valid signature, targets.json carries a bad one by the second targets key
    // and a valid one by a key outside the role.
    let canonical = hallmark_tuf::canonical::to_canonical(&fixture.targets).unwrap();
    let mut envelope: Value = serde_json::from_slice(&files.targets).unwrap();
    let signatures = envelope["signatures"].as_array_mut().unwrap();
    signatures.push(second.sign(b"other bytes"));
    signatures.push(TestKey::ecdsa().sign(&canonical));
    files.targets = serde_json::to_vec(&envelope).unwrap();
    fixture.reseal(&mut files);

    let verified = verified(&files, &TrustedState::default(), fixture.now).unwrap();
    assert_eq!(verified.targets.signatures.len(), 3);
    let expected = [
        ("root", &fixture.root_key),
        ("timestamp", &fixture.timestamp_key),
        ("snapshot", &fixture.snapshot_key),
        ("targets", &fixture.targets_key),
        ("targets/releases", &fixture.releases_key),
        ("targets/alice", &fixture.alice_key),
    ];
    for (role, key) in expected {
        let role: RoleName = role.parse().unwrap();
        assert_eq!(
            verified.signed_by(&role),
            std::slice::from_ref(&key.id),
            "{role}"
        );
    }
}
