//! The TUF client workflow as Notary v1 runs it (TUF 1.0 §5 "Detailed client workflow";
//! Notary's `client/tufclient.go`, `tuf/builder.go`, `trustpinning/certs.go`).
//!
//! [`Verifier::verify`] is pure: it takes the repository's files, the GUN, the root pin, the
//! versions trusted before and the time, and either returns every verified role with the
//! signed targets, or the first rule broken. It fetches and reads nothing.
//!
//! Where Notary is lenient this verifier fails closed, and says so where it happens: a
//! delegation that is expired or under its threshold is skipped by Notary with a warning but
//! refused here, and so is a delegation that lists a target outside its paths (Notary drops
//! the entry). Intermediate `<n>.root.json` files must hold version `n`.

use std::collections::{BTreeMap, BTreeSet};

use hallmark_x509::Certificate;
use time::OffsetDateTime;
use tracing::debug;

use crate::error::{Error, Rejection, RootKeyProblem, SignatureTally};
use crate::gun::Gun;
use crate::keys::{KeyId, PublicKey};
use crate::root::{RoleKeys, Root};
use crate::signed::{FileMeta, Metadata, RoleName, Signed};
use crate::snapshot::Snapshot;
use crate::targets::{DelegatedRole, Targets};
use crate::timestamp::Timestamp;

/// The metadata files of one repository, as fetched or read from a trust directory.
#[derive(Debug, Clone, Default)]
pub struct RepositoryFiles {
    /// `root.json`: the newest root.
    pub root: Vec<u8>,
    /// `<n>.root.json` files, by version, for rotating from an older trusted root.
    pub versioned_roots: BTreeMap<u64, Vec<u8>>,
    /// `timestamp.json`.
    pub timestamp: Vec<u8>,
    /// `snapshot.json`.
    pub snapshot: Vec<u8>,
    /// `targets.json`.
    pub targets: Vec<u8>,
    /// Delegated targets files, by role name.
    pub delegations: BTreeMap<RoleName, Vec<u8>>,
}

/// How the first root is trusted.
#[derive(Debug, Clone)]
pub enum RootPin {
    /// Trust on first use: the root vouches for itself (Notary's default, `TOFUS`).
    TrustOnFirstUse,
    /// A root key the user pinned, by its key ID or Notary's canonical key ID.
    KeyId(KeyId),
    /// A root certificate the user pinned, compared byte for byte.
    Certificate(Certificate),
}

/// What was trusted before this update: the root and the versions seen, for rollback checks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedState {
    /// The trusted root file, if any (else the first root is trusted per the pin).
    pub root: Option<Vec<u8>>,
    /// Timestamp version last trusted (0 for none).
    pub timestamp_version: u64,
    /// Snapshot version last trusted.
    pub snapshot_version: u64,
    /// Targets version last trusted.
    pub targets_version: u64,
    /// Delegated role versions last trusted.
    pub delegation_versions: BTreeMap<RoleName, u64>,
}

impl TrustedState {
    /// Combines two states kept for one repository (the one an update proved and the one
    /// stored, perhaps by a concurrent run) so that no rollback floor is lowered: the newer
    /// root (by version; `self`'s on a tie), the higher targets version, and for every
    /// delegation either state names, the higher version. Timestamp and snapshot take the
    /// higher version too, unless the two roots give that role different keys: then the
    /// newer root's state decides, as a key rotation resets the floor (TUF 1.0 §5.3.11).
    ///
    /// Fails when a root of either state does not parse.
    pub fn merge(&self, other: &TrustedState) -> Result<TrustedState, Error> {
        let parse =
            |state: &TrustedState| state.root.as_deref().map(Signed::<Root>::parse).transpose();
        let (mine, theirs) = (parse(self)?, parse(other)?);
        let version = |root: &Option<Signed<Root>>| root.as_ref().map(|r| r.signed.version);
        let (newer, older, newer_root, older_root) = if version(&theirs) > version(&mine) {
            (other, self, theirs, mine)
        } else {
            (self, other, mine, theirs)
        };
        let role_floor = |pick: fn(&Root) -> &RoleKeys, floor: fn(&TrustedState) -> u64| {
            let same_keys = match (&newer_root, &older_root) {
                (Some(new), Some(old)) => same_key_ids(pick(&old.signed), pick(&new.signed)),
                _ => true,
            };
            if same_keys {
                floor(newer).max(floor(older))
            } else {
                floor(newer)
            }
        };
        let mut delegation_versions = older.delegation_versions.clone();
        for (role, &version) in &newer.delegation_versions {
            let kept = delegation_versions.entry(role.clone()).or_insert(version);
            *kept = (*kept).max(version);
        }
        Ok(TrustedState {
            root: newer.root.clone().or_else(|| older.root.clone()),
            timestamp_version: role_floor(|r| &r.roles.timestamp, |s| s.timestamp_version),
            snapshot_version: role_floor(|r| &r.roles.snapshot, |s| s.snapshot_version),
            targets_version: newer.targets_version.max(older.targets_version),
            delegation_versions,
        })
    }
}

/// The most root versions one update rotates through (python-tuf's `max_root_rotations`):
/// bounds the `<n>.root.json` files a server can make a client fetch and check.
pub const MAX_ROOT_ROTATIONS: u64 = 32;

/// A target signed by a verified role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTarget {
    /// The target's name: the tag, for Docker.
    pub name: String,
    /// The role whose metadata lists it.
    pub role: RoleName,
    /// Its hashes and length: for Docker, the manifest's digest and size.
    pub meta: FileMeta,
}

impl SignedTarget {
    /// The OCI digest, `sha256:<hex>`, if a sha256 hash is recorded.
    pub fn digest(&self) -> Option<String> {
        let sha256 = self.meta.hashes.sha256()?;
        Some(format!("sha256:{}", crate::keys::hex(sha256)))
    }
}

/// A repository whose metadata verified.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The newest trusted root.
    pub root: Signed<Root>,
    /// The timestamp.
    pub timestamp: Signed<Timestamp>,
    /// The snapshot.
    pub snapshot: Signed<Snapshot>,
    /// The top-level targets.
    pub targets: Signed<Targets>,
    /// Every verified delegated role, by name.
    pub delegations: BTreeMap<RoleName, Signed<Targets>>,
    /// Every signed target, by role: `targets` first, then delegations breadth first.
    pub signed_targets: Vec<SignedTarget>,
    /// For every verified role, the key IDs whose signatures verified and counted toward its
    /// threshold, in file order: never a key whose signature failed or was counted already.
    pub signed_by: BTreeMap<RoleName, Vec<String>>,
}

/// The roles `docker pull` accepts, in priority order (`GetTargetByName(tag,
/// "targets/releases", "targets")`).
const DOCKER_ROLES: [&str; 2] = ["targets/releases", "targets"];

impl Verified {
    /// Each tag as Docker resolves it: signed by `targets/releases`, else by `targets`.
    /// Targets that only other delegations sign are left out, as `docker pull` ignores them.
    pub fn docker_targets(&self) -> BTreeMap<&str, &SignedTarget> {
        let mut out = BTreeMap::new();
        for role in DOCKER_ROLES {
            for target in self
                .signed_targets
                .iter()
                .filter(|t| t.role.as_str() == role)
            {
                out.entry(target.name.as_str()).or_insert(target);
            }
        }
        out
    }

    /// The key IDs whose signatures counted for `role` (empty for a role not verified).
    pub fn signed_by(&self, role: &RoleName) -> &[String] {
        self.signed_by.get(role).map_or(&[], Vec::as_slice)
    }

    /// What this update proved, for the next update's rollback checks: only the delegations
    /// verified in this run. Merge it into the state kept before ([`TrustedState::merge`])
    /// rather than replacing that, or a run whose snapshot omits a delegation drops its floor.
    pub fn trusted_state(&self) -> TrustedState {
        TrustedState {
            root: Some(self.root.bytes().to_vec()),
            timestamp_version: self.timestamp.signed.version,
            snapshot_version: self.snapshot.signed.version,
            targets_version: self.targets.signed.version,
            delegation_versions: self
                .delegations
                .iter()
                .map(|(name, file)| (name.clone(), file.signed.version))
                .collect(),
        }
    }
}

/// The inputs of one verification.
#[derive(Debug, Clone)]
pub struct Verifier<'a> {
    /// The repository's GUN (root certificates must name it).
    pub gun: &'a Gun,
    /// How the first root is trusted.
    pub pin: &'a RootPin,
    /// What was trusted before.
    pub trusted: &'a TrustedState,
    /// The time to check expiry and certificate validity against.
    pub now: OffsetDateTime,
}

/// A verified file and the key IDs whose signatures counted toward its threshold.
type Counted<T> = (Signed<T>, Vec<String>);

/// The root chosen, the key IDs that signed it, and which trusted versions still apply.
struct RootOutcome {
    root: Signed<Root>,
    signed_by: Vec<String>,
    timestamp_floor: u64,
    snapshot_floor: u64,
}

impl Verifier<'_> {
    /// Runs the whole workflow over `files`.
    pub fn verify(&self, files: &RepositoryFiles) -> Result<Verified, Error> {
        let RootOutcome {
            root,
            signed_by: root_signers,
            timestamp_floor,
            snapshot_floor,
        } = self.update_root(files)?;
        let mut signed_by = BTreeMap::from([(RoleName::root(), root_signers)]);
        let (timestamp, signers) = self.update_timestamp(&root.signed, files, timestamp_floor)?;
        signed_by.insert(RoleName::timestamp(), signers);
        let (snapshot, signers) =
            self.update_snapshot(&root, &timestamp.signed, files, snapshot_floor)?;
        signed_by.insert(RoleName::snapshot(), signers);
        let (targets, signers) = self.update_targets(&root.signed, &snapshot.signed, files)?;
        signed_by.insert(RoleName::targets(), signers);
        let delegations =
            self.update_delegations(&snapshot.signed, &targets, files, &mut signed_by)?;
        let signed_targets = signed_targets(&targets, &delegations);
        debug!(gun = %self.gun, targets = signed_targets.len(), "notary metadata verified");
        Ok(Verified {
            root,
            timestamp,
            snapshot,
            targets,
            delegations,
            signed_targets,
            signed_by,
        })
    }

    /// TUF §5.2 and §5.3: load the trusted root and rotate through every newer version.
    fn update_root(&self, files: &RepositoryFiles) -> Result<RootOutcome, Error> {
        let newest = Signed::<Root>::parse(&files.root)?;

        // §5.2, trust on first use (or the pin): without a trusted root, the newest root
        // must be signed by a threshold of its own valid root certificates, which must match
        // the pin if there is one. Stops a substituted root when a pin is given.
        let Some(trusted_bytes) = &self.trusted.root else {
            let tally = self.check_root_self(&newest)?;
            self.check_unexpired(&newest)?;
            debug!(version = newest.signed.version, "root trusted on first use");
            return Ok(RootOutcome {
                root: newest,
                signed_by: tally.counted,
                timestamp_floor: self.trusted.timestamp_version,
                snapshot_floor: self.trusted.snapshot_version,
            });
        };
        let trusted = Signed::<Root>::parse(trusted_bytes)?;

        // §5.3.5, rollback: the newest root may not be older than the trusted one.
        let (from, to) = (trusted.signed.version, newest.signed.version);
        if to < from {
            return Err(Error::Rollback {
                role: RoleName::root(),
                version: to,
                trusted: from,
            });
        }

        // At most MAX_ROOT_ROTATIONS versions per update (python-tuf's max_root_rotations):
        // bounds what a server can make the client fetch and check by claiming a huge version.
        if to - from > MAX_ROOT_ROTATIONS {
            return Err(Error::TooManyRootRotations {
                trusted: from,
                newest: to,
                cap: MAX_ROOT_ROTATIONS,
            });
        }

        // §5.3.4, root rotation: each version from the trusted one up must be signed by a
        // threshold of the previous root's keys and of its own. Stops an attacker holding
        // only new keys (or only old ones) from replacing the root.
        let tally = self.walk_roots(files, &trusted, &newest)?;

        // §5.3.10, freeze: only the final root must be unexpired.
        self.check_unexpired(&newest)?;

        // §5.3.11: a rotated timestamp or snapshot key resets that role's rollback floor, so
        // a repository can recover from a fast-forward attack with the old key.
        let (old, new) = (&trusted.signed.roles, &newest.signed.roles);
        let timestamp_floor = floor(
            &old.timestamp,
            &new.timestamp,
            self.trusted.timestamp_version,
        );
        let snapshot_floor = floor(&old.snapshot, &new.snapshot, self.trusted.snapshot_version);
        debug!(from, to, "root updated");
        Ok(RootOutcome {
            root: newest,
            signed_by: tally.counted,
            timestamp_floor,
            snapshot_floor,
        })
    }

    /// Checks every rotation from `trusted` to `newest`, through `<n>.root.json` files; a
    /// root of the same version is checked against the trusted one the same way. Returns
    /// the tally of `newest` against its own keys.
    fn walk_roots(
        &self,
        files: &RepositoryFiles,
        trusted: &Signed<Root>,
        newest: &Signed<Root>,
    ) -> Result<SignatureTally, Error> {
        let (from, to) = (trusted.signed.version, newest.signed.version);
        if from == to {
            return self.check_rotation(trusted, newest);
        }
        let mut current = trusted.clone();
        for version in from.saturating_add(1)..to {
            let next = self.versioned_root(files, version)?;
            self.check_rotation(&current, &next)?;
            current = next;
        }
        self.check_rotation(&current, newest)
    }

    fn versioned_root(&self, files: &RepositoryFiles, version: u64) -> Result<Signed<Root>, Error> {
        let bytes = files
            .versioned_roots
            .get(&version)
            .ok_or(Error::MissingRootVersion { version })?;
        let root = Signed::<Root>::parse(bytes)?;
        if root.signed.version != version {
            return Err(Error::RootVersionMismatch {
                expected: version,
                found: root.signed.version,
            });
        }
        Ok(root)
    }

    /// `next` is signed by a threshold of `previous`'s root certificates (whose common name
    /// must still be the GUN; their expiry is not checked, as Notary does not) and by its own;
    /// returns the tally against its own keys.
    pub(crate) fn check_rotation(
        &self,
        previous: &Signed<Root>,
        next: &Signed<Root>,
    ) -> Result<SignatureTally, Error> {
        let old = &previous.signed;
        let role = &old.roles.root;
        let tally = next.tally(role.threshold, |key_id| {
            let key = role.lookup(&old.keys, key_id)?;
            self.root_key_problem(key, false)
                .map_or(Ok(key), |p| Err(Rejection::UnusableRootKey(p)))
        });
        if tally.valid < role.threshold as usize {
            return Err(Error::RootRotationNotSigned {
                version: next.signed.version,
                trusted_version: old.version,
                tally,
            });
        }
        self.check_root_self(next)
    }

    /// A root is signed by a threshold of its own usable root keys: leaf certificates
    /// naming the GUN, valid now, and matching the pin (`trustpinning.ValidateRoot`).
    pub(crate) fn check_root_self(&self, root: &Signed<Root>) -> Result<SignatureTally, Error> {
        let signed = &root.signed;
        let role = &signed.roles.root;
        let tofu = matches!(self.pin, RootPin::TrustOnFirstUse);
        let pinned = role
            .keys(&signed.keys)
            .into_iter()
            .any(|key| self.is_pinned(key));
        if !tofu && !pinned {
            return Err(Error::RootNotPinned {
                version: signed.version,
            });
        }
        let tally = root.tally(role.threshold, |key_id| {
            let key = role.lookup(&signed.keys, key_id)?;
            match self.root_key_problem(key, true) {
                None if self.is_pinned(key) => Ok(key),
                None => Err(Rejection::UnusableRootKey(RootKeyProblem::NotPinned)),
                Some(problem) => Err(Rejection::UnusableRootKey(problem)),
            }
        });
        threshold_met(RoleName::root(), tally)
    }

    fn is_pinned(&self, key: &PublicKey) -> bool {
        match self.pin {
            RootPin::TrustOnFirstUse => true,
            RootPin::KeyId(id) => key.id() == id || &key.canonical_id() == id,
            RootPin::Certificate(pinned) => key.certificate() == Some(pinned),
        }
    }

    /// Why Notary would not use `key` as a root key (`validRootLeafCerts`), if it would not.
    fn root_key_problem(&self, key: &PublicKey, check_validity: bool) -> Option<RootKeyProblem> {
        let Some(certificate) = key.certificate() else {
            return Some(RootKeyProblem::NotCertificate);
        };
        if certificate.is_ca() {
            return Some(RootKeyProblem::CaCertificate);
        }
        let subject = certificate.subject();
        let common_name = subject.common_name().unwrap_or_default();
        if !self.gun.matches_common_name(common_name) {
            return Some(RootKeyProblem::CommonNameMismatch {
                common_name: common_name.to_string(),
            });
        }
        if check_validity && !certificate.is_valid_at(self.now) {
            return Some(RootKeyProblem::CertificateNotValidAt {
                not_before: certificate.not_before(),
                not_after: certificate.not_after(),
            });
        }
        None
    }

    /// TUF §5.4: the timestamp.
    fn update_timestamp(
        &self,
        root: &Root,
        files: &RepositoryFiles,
        floor: u64,
    ) -> Result<Counted<Timestamp>, Error> {
        let timestamp = Signed::<Timestamp>::parse(&files.timestamp)?;

        // §5.4.2: a threshold of the timestamp keys root names (arbitrary software attack).
        let tally = check_role_signatures(&timestamp, &root.roles.timestamp, &root.keys)?;

        // §5.4.3, rollback: not older than the timestamp trusted before.
        check_version(&timestamp, floor)?;

        // §5.4.4, freeze: not expired. The timestamp lives 14 days, so a frozen mirror
        // is noticed within two weeks.
        self.check_unexpired(&timestamp)?;
        debug!(version = timestamp.signed.version, "timestamp verified");
        Ok((timestamp, tally.counted))
    }

    /// TUF §5.5: the snapshot the timestamp names.
    fn update_snapshot(
        &self,
        root: &Signed<Root>,
        timestamp: &Timestamp,
        files: &RepositoryFiles,
        floor: u64,
    ) -> Result<Counted<Snapshot>, Error> {
        // §5.5.2, mix-and-match: the bytes are the ones the timestamp hashes.
        let by = RoleName::timestamp();
        timestamp
            .snapshot
            .check(&files.snapshot, &RoleName::snapshot(), &by)?;
        let snapshot = Signed::<Snapshot>::parse(&files.snapshot)?;

        // §5.5.3: a threshold of the snapshot keys.
        let keys = &root.signed.keys;
        let tally = check_role_signatures(&snapshot, &root.signed.roles.snapshot, keys)?;

        // §5.5.4, rollback; §5.5.6, freeze.
        check_version(&snapshot, floor)?;
        self.check_unexpired(&snapshot)?;

        // Notary checksums the root too (`repoBuilder.validateChecksumFor`): the root in
        // use must be the one this snapshot records, or roles from two states could mix.
        let root_meta = snapshot.signed.meta_for(&RoleName::root());
        if let Some(meta) = root_meta {
            meta.check(root.bytes(), &RoleName::root(), &RoleName::snapshot())?;
        }
        debug!(version = snapshot.signed.version, "snapshot verified");
        Ok((snapshot, tally.counted))
    }

    /// TUF §5.6: the top-level targets.
    fn update_targets(
        &self,
        root: &Root,
        snapshot: &Snapshot,
        files: &RepositoryFiles,
    ) -> Result<Counted<Targets>, Error> {
        // §5.6.2, mix-and-match: the bytes are the ones the snapshot hashes.
        let role = RoleName::targets();
        snapshot_meta(snapshot, &role)?.check(&files.targets, &role, &RoleName::snapshot())?;
        let targets = Signed::<Targets>::parse(&files.targets)?;

        // §5.6.3: a threshold of the targets keys; §5.6.4, rollback; §5.6.5, freeze.
        let tally = check_role_signatures(&targets, &root.roles.targets, &root.keys)?;
        check_version(&targets, self.trusted.targets_version)?;
        self.check_unexpired(&targets)?;
        debug!(version = targets.signed.version, "targets verified");
        Ok((targets, tally.counted))
    }

    /// TUF §5.6.7: delegated roles, breadth first from `targets`, a level at a time so that
    /// every parent is verified before the roles it delegates to. Names grow by a component
    /// per level (each role is a direct child of its parent), so the walk ends.
    fn update_delegations(
        &self,
        snapshot: &Snapshot,
        targets: &Signed<Targets>,
        files: &RepositoryFiles,
        signed_by: &mut BTreeMap<RoleName, Vec<String>>,
    ) -> Result<BTreeMap<RoleName, Signed<Targets>>, Error> {
        let mut done = BTreeMap::new();
        let mut level = vec![(targets.clone(), vec![String::new()])];
        while !level.is_empty() {
            let mut next: Vec<(Signed<Targets>, Vec<String>)> = Vec::new();
            for (parent, parent_paths) in &level {
                for role in &parent.signed.delegations.roles {
                    let seen = next.iter().any(|(file, _)| file.role() == &role.name);
                    if seen || done.contains_key(&role.name) {
                        continue;
                    }
                    let Some((file, signers)) =
                        self.update_delegation(snapshot, role, &parent.signed, files)?
                    else {
                        continue;
                    };
                    signed_by.insert(role.name.clone(), signers);
                    // §5.6.7.2: a delegation is trusted only for its paths, narrowed by its
                    // parent's (`DelegationRole.Restrict`); a target outside them is refused.
                    let paths = restrict_paths(parent_paths, &role.paths);
                    if let Some(outside) = file.signed.targets.keys().find(|t| !allows(&paths, t)) {
                        return Err(Error::TargetOutsideDelegatedPaths {
                            role: role.name.clone(),
                            target: outside.clone(),
                        });
                    }
                    next.push((file, paths));
                }
            }
            done.extend(
                next.iter()
                    .map(|(file, _)| (file.role().clone(), file.clone())),
            );
            level = next;
        }
        Ok(done)
    }

    /// Verifies one delegated role declared by `parent`; `None` when the snapshot does not
    /// list it (Notary skips roles it has no checksum for).
    fn update_delegation(
        &self,
        snapshot: &Snapshot,
        role: &DelegatedRole,
        parent: &Targets,
        files: &RepositoryFiles,
    ) -> Result<Option<Counted<Targets>>, Error> {
        let Some(meta) = snapshot.meta_for(&role.name) else {
            debug!(role = %role.name, "delegation not in snapshot; skipped");
            return Ok(None);
        };
        let bytes = files
            .delegations
            .get(&role.name)
            .ok_or_else(|| Error::MissingMetadata {
                role: role.name.clone(),
            })?;

        // §5.6.2 for the delegation: the bytes are the ones the snapshot hashes.
        meta.check(bytes, &role.name, &RoleName::snapshot())?;
        let file = Signed::<Targets>::parse_role(bytes, role.name.clone())?;

        // §5.6.7.2 / §5.6.3: a threshold of the keys the parent gives the role;
        // §5.6.4, rollback; §5.6.5, freeze.
        let tally = check_role_signatures(&file, &role.keys, &parent.delegations.keys)?;
        let floor = self.trusted.delegation_versions.get(&role.name);
        check_version(&file, floor.copied().unwrap_or(0))?;
        self.check_unexpired(&file)?;
        debug!(role = %role.name, version = file.signed.version, "delegation verified");
        Ok(Some((file, tally.counted)))
    }

    pub(crate) fn check_unexpired<T: Metadata>(&self, file: &Signed<T>) -> Result<(), Error> {
        let expires = file.signed.expires();
        if self.now > expires {
            return Err(Error::Expired {
                role: file.role().clone(),
                expires,
                now: self.now,
            });
        }
        Ok(())
    }
}

/// The trusted version of a role, or 0 when the new root gave it other keys.
fn floor(old: &RoleKeys, new: &RoleKeys, trusted: u64) -> u64 {
    if same_key_ids(old, new) { trusted } else { 0 }
}

fn same_key_ids(old: &RoleKeys, new: &RoleKeys) -> bool {
    let old_ids: BTreeSet<&String> = old.key_ids.iter().collect();
    let new_ids: BTreeSet<&String> = new.key_ids.iter().collect();
    old_ids == new_ids
}

/// A threshold of `role`'s keys out of `keys` signed `file`; the tally, whose `counted` are
/// the key IDs that did.
pub(crate) fn check_role_signatures<T: Metadata>(
    file: &Signed<T>,
    role: &RoleKeys,
    keys: &BTreeMap<String, PublicKey>,
) -> Result<SignatureTally, Error> {
    let tally = file.tally(role.threshold, |key_id| role.lookup(keys, key_id));
    threshold_met(file.role().clone(), tally)
}

fn threshold_met(role: RoleName, tally: SignatureTally) -> Result<SignatureTally, Error> {
    if tally.valid >= tally.threshold as usize {
        Ok(tally)
    } else {
        Err(Error::ThresholdNotMet { role, tally })
    }
}

fn check_version<T: Metadata>(file: &Signed<T>, trusted: u64) -> Result<(), Error> {
    let version = file.signed.version();
    if version < trusted {
        return Err(Error::Rollback {
            role: file.role().clone(),
            version,
            trusted,
        });
    }
    Ok(())
}

fn snapshot_meta<'s>(snapshot: &'s Snapshot, role: &RoleName) -> Result<&'s FileMeta, Error> {
    snapshot.meta_for(role).ok_or_else(|| Error::MissingMeta {
        role: RoleName::snapshot(),
        file: role.to_string(),
    })
}

/// The child's prefixes that lie inside one of the parent's.
fn restrict_paths(parent: &[String], child: &[String]) -> Vec<String> {
    child
        .iter()
        .filter(|path| parent.iter().any(|p| path.starts_with(p.as_str())))
        .cloned()
        .collect()
}

fn allows(paths: &[String], target: &str) -> bool {
    paths.iter().any(|p| target.starts_with(p.as_str()))
}

/// Every signed target: `targets` first, then delegations by depth and name.
fn signed_targets(
    targets: &Signed<Targets>,
    delegations: &BTreeMap<RoleName, Signed<Targets>>,
) -> Vec<SignedTarget> {
    let mut roles: Vec<&Signed<Targets>> = delegations.values().collect();
    roles.sort_by_key(|file| file.role().as_str().matches('/').count());
    std::iter::once(targets)
        .chain(roles)
        .flat_map(|file| {
            file.signed.targets.iter().map(|(name, meta)| SignedTarget {
                name: name.clone(),
                role: file.role().clone(),
                meta: meta.clone(),
            })
        })
        .collect()
}
