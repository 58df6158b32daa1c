//! The targets role and its delegations (`tuf/data/targets.go`, TUF 1.0 §4.5).
//!
//! In Docker Content Trust a target's name is the tag and its hashes and length are the
//! manifest's digest and size. Delegated roles are named `targets/<x>`, each a direct child
//! of the role delegating it; their `paths` are plain string prefixes (`""` matches every
//! name) instead of TUF's glob patterns, and there is no `terminating` flag.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use crate::error::Error;
use crate::keys::PublicKey;
use crate::root::{RawRoleKeys, RoleKeys};
use crate::signed::{FileMeta, Metadata, RawCommon, RawFileMeta, RoleName, from_value, parse_keys};

/// A delegated role as its parent declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegatedRole {
    /// The role's name (`targets/<x>`).
    pub name: RoleName,
    /// Its keys (in the parent's `delegations.keys`) and threshold.
    pub keys: RoleKeys,
    /// Target name prefixes the role may sign (`""` for all).
    pub paths: Vec<String>,
}

impl DelegatedRole {
    /// Whether `target` starts with one of the role's path prefixes.
    pub fn allows(&self, target: &str) -> bool {
        self.paths
            .iter()
            .any(|prefix| target.starts_with(prefix.as_str()))
    }
}

/// The `delegations` of a targets file.
#[derive(Debug, Clone, Default)]
pub struct Delegations {
    /// Keys of the delegated roles, by ID.
    pub keys: BTreeMap<String, PublicKey>,
    /// The delegated roles, in file order.
    pub roles: Vec<DelegatedRole>,
}

/// Targets metadata: the top-level `targets` role or a delegated role.
#[derive(Debug, Clone)]
pub struct Targets {
    /// The version.
    pub version: u64,
    /// The expiry.
    pub expires: OffsetDateTime,
    /// The signed targets, by name (tag).
    pub targets: BTreeMap<String, FileMeta>,
    /// Roles this one delegates to.
    pub delegations: Delegations,
}

#[derive(Deserialize)]
struct RawTargets {
    #[serde(flatten)]
    common: RawCommon,
    #[serde(default)]
    targets: BTreeMap<String, RawFileMeta>,
    #[serde(default)]
    delegations: Option<RawDelegations>,
}

#[derive(Deserialize)]
struct RawDelegations {
    #[serde(default)]
    keys: BTreeMap<String, Value>,
    #[serde(default)]
    roles: Vec<RawDelegatedRole>,
}

#[derive(Deserialize)]
struct RawDelegatedRole {
    name: String,
    #[serde(flatten)]
    keys: RawRoleKeys,
    #[serde(default)]
    paths: Vec<String>,
}

impl Metadata for Targets {
    const TYPE: &'static str = "Targets";
    const ROLE: &'static str = "targets";

    fn from_signed(value: &Value, role: &RoleName) -> Result<Self, Error> {
        let raw: RawTargets = from_value(value, role)?;
        let (version, expires) = raw.common.check::<Targets>(role)?;
        let targets = raw
            .targets
            .into_iter()
            .map(|(name, meta)| Ok((name.clone(), meta.into_meta(&name)?)))
            .collect::<Result<BTreeMap<_, _>, Error>>()?;
        let delegations = match raw.delegations {
            Some(raw) => delegations(raw, role)?,
            None => Delegations::default(),
        };
        Ok(Targets {
            version,
            expires,
            targets,
            delegations,
        })
    }

    fn version(&self) -> u64 {
        self.version
    }

    fn expires(&self) -> OffsetDateTime {
        self.expires
    }
}

/// Checks each delegated role: a valid name, a direct child of `parent`
/// (`isValidTargetsStructure`), a threshold and keys that are listed.
fn delegations(raw: RawDelegations, parent: &RoleName) -> Result<Delegations, Error> {
    let keys = parse_keys(&raw.keys, parent)?;
    let mut roles = Vec::with_capacity(raw.roles.len());
    for role in raw.roles {
        let name: RoleName = role.name.parse()?;
        if !name.is_delegation() || name.parent().as_ref() != Some(parent) {
            return Err(Error::DelegationNotChild {
                parent: parent.clone(),
                name,
            });
        }
        let role_keys = role.keys.check(parent, name.as_str(), &keys)?;
        roles.push(DelegatedRole {
            name,
            keys: role_keys,
            paths: role.paths,
        });
    }
    Ok(Delegations { keys, roles })
}
