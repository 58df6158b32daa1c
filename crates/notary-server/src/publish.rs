//! `POST /v2/<gun>/_trust/tuf/`: an atomic publish, validated as notary-server validates it
//! (`server/handlers/validation.go`), step by step:
//!
//! 1. every part names a role (`NO_FILENAME`, `INVALID_ROLE`);
//! 2. root: required on the first publish; its version is the stored one or the next (a
//!    lower one: "root modifications must increment the version"); it is signed by a
//!    threshold of its own root certificates (common name = GUN, valid now) and, on
//!    rotation, of the stored root's; unexpired (`INVALID_UPDATE`, `ErrBadRoot`);
//! 3. the server holds the timestamp key the root names;
//! 4. targets, then delegations parent first, each signed by a threshold of the keys its
//!    parent gives it, unexpired, a delegation's targets within its paths (`ErrBadTargets`).
//!    A parent not in the upload is the stored one, checked first against the chain above
//!    it as it will be (root, targets, ...): still delegated to, and signed by a threshold
//!    of the keys it is delegated (expiry is not checked, as notary-server loads stored
//!    roles); a role whose parent no longer delegates to it is refused;
//! 5. the client's snapshot, verified and checked against every file, or one the server
//!    signs when it holds the snapshot key (`ErrBadSnapshot`, `ErrBadHierarchy`);
//! 6. a timestamp the server signs;
//! 7. each file newer than the stored one (`VERSION`), all written at once, with a change
//!    feed record.
//!
//! Signatures and thresholds are checked by `hallmark-tuf`, by the rules its client applies.

use std::collections::BTreeMap;

use hallmark_tuf::root::RoleKeys;
use hallmark_tuf::{PublicKey, RoleName, Root, ServerKey, Signed, Snapshot, Targets, UpdateCheck};
use time::OffsetDateTime;
use tracing::debug;

use crate::error::{ErrorCode, NotaryError, UpdateProblem};
use crate::multipart::Part;
use crate::route::{ServerGun, ServerRole};
use crate::signer::{
    Stored, held_keys, make_snapshot, make_timestamp, next_version, update_change,
};
use crate::store::{RoleFile, TrustDataStore};

/// The uploaded files, by role.
pub type Upload = BTreeMap<RoleName, Vec<u8>>;

/// Step 1: the role of each part, from its file name (`root`, or `root.json`).
pub fn roles_from_parts(parts: Vec<Part>) -> Result<Upload, NotaryError> {
    let mut upload = Upload::new();
    for part in parts {
        let name = part.filename.unwrap_or_default();
        let name = name.strip_suffix(".json").unwrap_or(&name);
        if name.is_empty() {
            return Err(NotaryError::bare(ErrorCode::NoFilename));
        }
        let role: RoleName = name.parse().map_err(|_| {
            NotaryError::new(ErrorCode::InvalidRole, format!("invalid role {name:?}"))
        })?;
        if upload.insert(role.clone(), part.body).is_some() {
            let reason = format!("role {role} uploaded twice");
            return Err(NotaryError::new(ErrorCode::MalformedUpload, reason));
        }
    }
    if upload.is_empty() {
        return Err(NotaryError::new(
            ErrorCode::MalformedUpload,
            "no files uploaded",
        ));
    }
    Ok(upload)
}

/// What one publish decided.
struct Plan<'a> {
    check: UpdateCheck<'a>,
    stored: Stored,
    writes: Vec<RoleFile>,
}

/// Validates `upload` against the stored state of `gun` and applies it atomically; returns
/// the new timestamp version.
pub fn publish(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    mut upload: Upload,
    now: OffsetDateTime,
) -> Result<u64, NotaryError> {
    if upload.remove(&RoleName::timestamp()).is_some() {
        debug!(%gun, "uploaded timestamp ignored: the server signs its own");
    }
    let mut plan = Plan {
        check: UpdateCheck {
            gun: gun.gun(),
            now,
        },
        stored: Stored::load(store, gun)?,
        writes: Vec::new(),
    };
    let root = plan.root(upload.get(&RoleName::root()))?;
    let timestamp_keys = held_keys(
        store,
        gun,
        ServerRole::Timestamp,
        &root.signed.roles.timestamp,
    )?
    .ok_or_else(|| {
        let reason = "the root's timestamp key is not held by this server";
        NotaryError::invalid_update(UpdateProblem::BadRoot, reason)
    })?;
    let targets = plan.targets(&root, upload.get(&RoleName::targets()))?;
    let mut files = plan.delegations(&root, &targets, &upload)?;
    files.insert(RoleName::root(), root.bytes().to_vec());
    files.insert(RoleName::targets(), targets.bytes().to_vec());

    let snapshot = match upload.get(&RoleName::snapshot()) {
        Some(bytes) => plan.client_snapshot(&root, bytes, &files, &upload)?,
        None => plan.server_snapshot(store, gun, &root, &files)?,
    };
    let role = RoleName::timestamp();
    let version = next_version(&role, plan.stored.version(&role))?;
    let timestamp = make_timestamp(version, now, &snapshot, &timestamp_keys)?;
    let change = update_change(gun, &timestamp);
    plan.writes.push(timestamp);
    store.commit(gun, &plan.writes, Some(&change))?;
    let roles: Vec<&str> = plan.writes.iter().map(|f| f.role.as_str()).collect();
    tracing::info!(%gun, ?roles, timestamp = version, "published");
    Ok(version)
}

fn bad(problem: UpdateProblem) -> impl Fn(hallmark_tuf::Error) -> NotaryError {
    move |e| NotaryError::invalid_update(problem, e.to_string())
}

impl Plan<'_> {
    /// Step 7, early: a file no newer than the stored one is a replay.
    fn check_newer(&self, role: &RoleName, version: u64) -> Result<(), NotaryError> {
        let stored = self.stored.version(role);
        if version <= stored {
            let reason = format!("{role} version {version} is not newer than {stored}");
            return Err(NotaryError::new(ErrorCode::Version, reason));
        }
        Ok(())
    }

    /// Step 2: the root in force after this publish.
    fn root(&mut self, uploaded: Option<&Vec<u8>>) -> Result<Signed<Root>, NotaryError> {
        let previous = self.stored.parsed::<Root>(&RoleName::root())?;
        let Some(bytes) = uploaded else {
            let reason = "no root is stored for this GUN and the update has none";
            return previous
                .ok_or_else(|| NotaryError::invalid_update(UpdateProblem::BadRoot, reason));
        };
        let root = Signed::<Root>::parse(bytes).map_err(bad(UpdateProblem::BadRoot))?;
        if let Some(previous) = &previous {
            let (stored, offered) = (previous.signed.version, root.signed.version);
            if offered == stored && previous.bytes() == root.bytes() {
                return Ok(root);
            }
            if offered < stored {
                let reason = format!(
                    "root modifications must increment the version: the stored root is \
                     version {stored}, the uploaded one {offered}"
                );
                return Err(NotaryError::invalid_update(UpdateProblem::BadRoot, reason));
            }
            // The same version with other bytes: a replay or a concurrent publish.
            self.check_newer(&RoleName::root(), offered)?;
            if offered - stored > 1 {
                let reason = format!("root version {offered} skips versions after {stored}");
                return Err(NotaryError::invalid_update(UpdateProblem::BadRoot, reason));
            }
        }
        // A rotation must convince the stored root's keys as well as its own.
        self.check
            .check_root(previous.as_ref(), &root)
            .map_err(bad(UpdateProblem::BadRoot))?;
        debug!(version = root.signed.version, "root verified");
        self.push(&RoleName::root(), root.signed.version, root.bytes());
        Ok(root)
    }

    /// Step 4: the top-level targets in force after this publish.
    fn targets(
        &mut self,
        root: &Signed<Root>,
        uploaded: Option<&Vec<u8>>,
    ) -> Result<Signed<Targets>, NotaryError> {
        let role = RoleName::targets();
        let Some(bytes) = uploaded else {
            let reason = "no targets are stored for this GUN and the update has none";
            return self
                .stored
                .parsed::<Targets>(&role)?
                .ok_or_else(|| NotaryError::invalid_update(UpdateProblem::BadTargets, reason));
        };
        let targets = Signed::<Targets>::parse(bytes).map_err(bad(UpdateProblem::BadTargets))?;
        let (keys, role_keys) = (&root.signed.keys, &root.signed.roles.targets);
        self.check
            .check_role(&targets, role_keys, keys)
            .map_err(bad(UpdateProblem::BadTargets))?;
        self.check_newer(&role, targets.signed.version)?;
        debug!(version = targets.signed.version, "targets verified");
        self.push(&role, targets.signed.version, bytes);
        Ok(targets)
    }

    /// Step 4, delegations: parents before children; returns every delegation's file after
    /// this publish.
    fn delegations(
        &mut self,
        root: &Signed<Root>,
        targets: &Signed<Targets>,
        upload: &Upload,
    ) -> Result<BTreeMap<RoleName, Vec<u8>>, NotaryError> {
        let mut files: BTreeMap<RoleName, Vec<u8>> = (self.stored.files.iter())
            .filter(|(role, _)| role.is_delegation())
            .map(|(role, bytes)| (role.clone(), bytes.clone()))
            .collect();
        // Roles whose keys can be trusted for their children: those verified in this
        // publish, and stored ones once checked against the chain above them.
        let mut verified: BTreeMap<RoleName, Signed<Targets>> = BTreeMap::new();
        let mut uploaded: Vec<(&RoleName, &Vec<u8>)> = upload
            .iter()
            .filter(|(role, _)| role.is_delegation())
            .collect();
        if uploaded.is_empty() {
            return Ok(files);
        }
        if upload.contains_key(&RoleName::targets()) {
            verified.insert(RoleName::targets(), targets.clone());
        } else {
            let keys = (&root.signed.roles.targets, &root.signed.keys);
            let checked = stored_signed_by(targets, keys, &RoleName::root())?;
            verified.insert(RoleName::targets(), checked.clone());
        }
        uploaded.sort_by_key(|(role, _)| (role.as_str().matches('/').count(), (*role).clone()));
        for (role, bytes) in uploaded {
            self.verify_ancestors(role, &mut verified)?;
            let file = self.delegation(role, bytes, &verified)?;
            files.insert(role.clone(), bytes.clone());
            verified.insert(role.clone(), file);
        }
        Ok(files)
    }

    /// Checks the stored ancestors of `role` not yet in `verified`, top down, each against
    /// its parent; `targets` is in `verified` already.
    fn verify_ancestors(
        &self,
        role: &RoleName,
        verified: &mut BTreeMap<RoleName, Signed<Targets>>,
    ) -> Result<(), NotaryError> {
        let refuse =
            |reason: String| NotaryError::invalid_update(UpdateProblem::BadTargets, reason);
        let mut ancestors = Vec::new();
        let mut next = role.parent();
        while let Some(ancestor) = next {
            if verified.contains_key(&ancestor) {
                break;
            }
            next = ancestor.parent();
            ancestors.push(ancestor);
        }
        for ancestor in ancestors.into_iter().rev() {
            let Some(stored) = self.stored.parsed::<Targets>(&ancestor)? else {
                return Err(refuse(format!(
                    "parent {ancestor} of {role} does not exist; publish {ancestor} first"
                )));
            };
            let parent_name = ancestor
                .parent()
                .ok_or_else(|| refuse(format!("{ancestor} has no parent")))?;
            let parent = verified
                .get(&parent_name)
                .ok_or_else(|| refuse(format!("parent {parent_name} of {ancestor} is unknown")))?;
            let delegations = &parent.signed.delegations;
            let declared = (delegations.roles.iter())
                .find(|d| d.name == ancestor)
                .ok_or_else(|| {
                    refuse(format!(
                        "{parent_name} does not delegate to {ancestor} any more, so {role} \
                         cannot be published under it"
                    ))
                })?;
            let keys = (&declared.keys, &delegations.keys);
            let checked = stored_signed_by(&stored, keys, &parent_name)?.clone();
            verified.insert(ancestor, checked);
        }
        Ok(())
    }

    fn delegation(
        &mut self,
        role: &RoleName,
        bytes: &[u8],
        verified: &BTreeMap<RoleName, Signed<Targets>>,
    ) -> Result<Signed<Targets>, NotaryError> {
        let refuse =
            |reason: String| NotaryError::invalid_update(UpdateProblem::BadTargets, reason);
        let parent_name = role
            .parent()
            .ok_or_else(|| refuse(format!("{role} has no parent")))?;
        let parent = verified
            .get(&parent_name)
            .ok_or_else(|| refuse(format!("parent {parent_name} of {role} does not exist")))?;
        let delegations = &parent.signed.delegations;
        let declared = (delegations.roles.iter())
            .find(|d| &d.name == role)
            .ok_or_else(|| refuse(format!("{parent_name} does not delegate to {role}")))?;

        let file = Signed::<Targets>::parse_role(bytes, role.clone())
            .map_err(bad(UpdateProblem::BadTargets))?;
        self.check
            .check_role(&file, &declared.keys, &delegations.keys)
            .map_err(bad(UpdateProblem::BadTargets))?;
        if let Some(outside) = file.signed.targets.keys().find(|t| !declared.allows(t)) {
            return Err(refuse(format!(
                "{role} signs {outside:?} outside its paths"
            )));
        }
        self.check_newer(role, file.signed.version)?;
        debug!(%role, version = file.signed.version, "delegation verified");
        self.push(role, file.signed.version, bytes);
        Ok(file)
    }

    /// Step 5, client-held key: the snapshot verifies and records every file as it will be.
    fn client_snapshot(
        &mut self,
        root: &Signed<Root>,
        bytes: &[u8],
        files: &BTreeMap<RoleName, Vec<u8>>,
        upload: &Upload,
    ) -> Result<Vec<u8>, NotaryError> {
        let refuse = |r: String| NotaryError::invalid_update(UpdateProblem::BadSnapshot, r);
        let snapshot = Signed::<Snapshot>::parse(bytes).map_err(bad(UpdateProblem::BadSnapshot))?;
        let (keys, role_keys) = (&root.signed.keys, &root.signed.roles.snapshot);
        self.check
            .check_role(&snapshot, role_keys, keys)
            .map_err(bad(UpdateProblem::BadSnapshot))?;
        // Mix-and-match: what the snapshot records must be what clients will download.
        for (role, file) in files {
            match snapshot.signed.meta_for(role) {
                Some(meta) => meta
                    .check(file, role, &RoleName::snapshot())
                    .map_err(bad(UpdateProblem::BadSnapshot))?,
                None if upload.contains_key(role) => {
                    return Err(refuse(format!(
                        "snapshot does not list the uploaded {role}"
                    )));
                }
                None => {}
            }
        }
        self.check_newer(&RoleName::snapshot(), snapshot.signed.version)?;
        self.push(&RoleName::snapshot(), snapshot.signed.version, bytes);
        Ok(bytes.to_vec())
    }

    /// Step 5, server-held key: a snapshot of every file, signed here.
    fn server_snapshot(
        &mut self,
        store: &dyn TrustDataStore,
        gun: &ServerGun,
        root: &Signed<Root>,
        files: &BTreeMap<RoleName, Vec<u8>>,
    ) -> Result<Vec<u8>, NotaryError> {
        let role_keys = &root.signed.roles.snapshot;
        let keys: Vec<ServerKey> = held_keys(store, gun, ServerRole::Snapshot, role_keys)?
            .ok_or_else(|| {
                let reason = "no snapshot was included in the update and the server does not \
                              hold the snapshot key";
                NotaryError::invalid_update(UpdateProblem::BadHierarchy, reason)
            })?;
        let listed: BTreeMap<RoleName, &[u8]> = files
            .iter()
            .map(|(role, bytes)| (role.clone(), bytes.as_slice()))
            .collect();
        let role = RoleName::snapshot();
        let version = next_version(&role, self.stored.version(&role))?;
        let file = make_snapshot(version, self.check.now, &listed, &keys)?;
        let bytes = file.bytes.clone();
        self.writes.push(file);
        Ok(bytes)
    }

    fn push(&mut self, role: &RoleName, version: u64, bytes: &[u8]) {
        self.writes.push(RoleFile {
            role: role.clone(),
            version,
            bytes: bytes.to_vec(),
        });
    }
}

/// `stored`, a stored targets role, when a threshold of `keys` (its role's keys and the key
/// objects, as `delegator` gives them) signed it; expiry is not checked.
fn stored_signed_by<'s>(
    stored: &'s Signed<Targets>,
    (role_keys, key_objects): (&RoleKeys, &BTreeMap<String, PublicKey>),
    delegator: &RoleName,
) -> Result<&'s Signed<Targets>, NotaryError> {
    let threshold = role_keys.threshold.max(1);
    let tally = stored.tally(threshold, |id| role_keys.lookup(key_objects, id));
    if tally.valid >= threshold as usize {
        return Ok(stored);
    }
    let role = stored.role();
    let reason = format!(
        "the stored {role} is not signed by a threshold of the keys {delegator} gives it \
         ({} of {threshold}); publish {role} again, signed by its current keys",
        tally.valid
    );
    Err(NotaryError::invalid_update(
        UpdateProblem::BadTargets,
        reason,
    ))
}

#[cfg(test)]
#[path = "publish_tests.rs"]
mod tests;
