//! Parsing request paths into the endpoints of the Notary v1 server API
//! (`server/server.go`): GUNs, role names, checksums and versions become types here, at the
//! edge, and nothing past this module looks at the path again.
//!
//! A GUN may contain `/`, so a path is split at its `/_trust/` component: before it is the
//! GUN, after it the endpoint. Registry repository names cannot have a component starting
//! with `_`, so no OCI path is ever taken for a trust path.

use std::fmt;
use std::str::FromStr;

use hallmark_tuf::{Gun, RoleName};

use crate::error::{ErrorCode, NotaryError};

/// A GUN the server stores data under: a [`Gun`] (no empty, `.` or `..` components) whose
/// components are also usable as directory names: at most 255 bytes, no control characters,
/// and not starting with `_` (which the store reserves for its own files). Docker GUNs are
/// registry hosts and repository names, which never break these rules.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ServerGun(Gun);

impl ServerGun {
    /// The GUN.
    pub fn gun(&self) -> &Gun {
        &self.0
    }

    /// The GUN's components, each a safe directory name.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.as_str().split('/')
    }
}

impl FromStr for ServerGun {
    type Err = NotaryError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || NotaryError::new(ErrorCode::InvalidGun, format!("invalid GUN {s:?}"));
        let gun: Gun = s.parse().map_err(|_| invalid())?;
        let safe = gun.as_str().split('/').all(|part| {
            part.len() <= 255 && !part.starts_with('_') && !part.chars().any(char::is_control)
        });
        if safe {
            Ok(ServerGun(gun))
        } else {
            Err(invalid())
        }
    }
}

impl fmt::Display for ServerGun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The roles whose keys the server can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerRole {
    /// `snapshot`: server-held on request (`notary key rotate GUN snapshot -r`).
    Snapshot,
    /// `timestamp`: always server-held.
    Timestamp,
}

impl ServerRole {
    /// The role's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerRole::Snapshot => "snapshot",
            ServerRole::Timestamp => "timestamp",
        }
    }

    /// The role's name as a [`RoleName`].
    pub fn role_name(self) -> RoleName {
        match self {
            ServerRole::Snapshot => RoleName::snapshot(),
            ServerRole::Timestamp => RoleName::timestamp(),
        }
    }
}

/// A checksum a metadata file is addressed by: lowercase hex of sha256, sha384 or sha512.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    algorithm: &'static str,
    hex: String,
}

impl Checksum {
    /// The algorithm, from the length: `sha256`, `sha384` or `sha512`.
    pub fn algorithm(&self) -> &'static str {
        self.algorithm
    }

    /// The hex digits.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The checksum of `bytes` with `algorithm`.
    pub fn of(algorithm: &'static str, bytes: &[u8]) -> Option<Checksum> {
        use aws_lc_rs::digest::{SHA256, SHA384, SHA512, digest};
        let alg = match algorithm {
            "sha256" => &SHA256,
            "sha384" => &SHA384,
            "sha512" => &SHA512,
            _ => return None,
        };
        let hex = digest(alg, bytes)
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(Checksum { algorithm, hex })
    }
}

impl FromStr for Checksum {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let algorithm = match s.len() {
            64 => "sha256",
            96 => "sha384",
            128 => "sha512",
            _ => return Err(()),
        };
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(());
        }
        Ok(Checksum {
            algorithm,
            hex: s.to_string(),
        })
    }
}

/// Which file of a role a `GET` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataRef {
    /// `<role>.json`: the current one.
    Current(RoleName),
    /// `<role>.<hex>.json`: by checksum.
    Checksum(RoleName, Checksum),
    /// `<version>.<role>.json`: by version.
    Version(RoleName, u64),
}

impl MetadataRef {
    /// The role.
    pub fn role(&self) -> &RoleName {
        match self {
            MetadataRef::Current(r) | MetadataRef::Checksum(r, _) | MetadataRef::Version(r, _) => r,
        }
    }

    /// Parses the file part of `.../_trust/tuf/<file>`; `None` if it names no metadata.
    fn parse(file: &str) -> Option<MetadataRef> {
        let stem = file.strip_suffix(".json")?;
        if let Some((version, role)) = stem.split_once('.')
            && !version.is_empty()
            && version.bytes().all(|b| b.is_ascii_digit())
        {
            return Some(MetadataRef::Version(
                role.parse().ok()?,
                version.parse().ok()?,
            ));
        }
        match stem.rsplit_once('.') {
            Some((role, hex)) => Some(MetadataRef::Checksum(role.parse().ok()?, hex.parse().ok()?)),
            None => Some(MetadataRef::Current(stem.parse().ok()?)),
        }
    }
}

/// An endpoint of the Notary server API, with its parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustRoute {
    /// `/_notary_server/health`.
    Health,
    /// `/v2/_trust/changefeed`: every GUN's changes.
    GlobalChangefeed,
    /// `/v2/<gun>/_trust/changefeed`.
    Changefeed(ServerGun),
    /// `/v2/<gun>/_trust/tuf/`: `POST` publishes, `DELETE` deletes.
    Repository(ServerGun),
    /// `/v2/<gun>/_trust/tuf/<file>.json`.
    Metadata(ServerGun, MetadataRef),
    /// `/v2/<gun>/_trust/tuf/{snapshot,timestamp}.key`.
    Key(ServerGun, ServerRole),
    /// A path under `_trust` that names nothing: 404 `METADATA_NOT_FOUND`.
    Unknown,
}

/// Whether `path` belongs to the Notary API rather than the registry's.
pub fn is_trust_path(path: &str) -> bool {
    path == "/_notary_server/health"
        || (path.starts_with("/v2/") && (path.contains("/_trust/") || path.ends_with("/_trust")))
}

/// Matches a trust path (one [`is_trust_path`] accepts). A GUN that is not valid fails with
/// `INVALID_GUN`; any other unknown shape is [`TrustRoute::Unknown`].
pub fn parse(path: &str) -> Result<TrustRoute, NotaryError> {
    if path == "/_notary_server/health" {
        return Ok(TrustRoute::Health);
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Ok(TrustRoute::Unknown);
    };
    let Some(rest) = hallmark_oci::percent_decode(rest) else {
        return Ok(TrustRoute::Unknown);
    };
    if rest == "_trust/changefeed" {
        return Ok(TrustRoute::GlobalChangefeed);
    }
    let Some((gun, endpoint)) = rest.split_once("/_trust/") else {
        return Ok(TrustRoute::Unknown);
    };
    let gun: ServerGun = gun.parse()?;
    let route = match endpoint {
        "changefeed" => TrustRoute::Changefeed(gun),
        "tuf" | "tuf/" => TrustRoute::Repository(gun),
        "tuf/snapshot.key" => TrustRoute::Key(gun, ServerRole::Snapshot),
        "tuf/timestamp.key" => TrustRoute::Key(gun, ServerRole::Timestamp),
        other => match other.strip_prefix("tuf/").and_then(MetadataRef::parse) {
            Some(reference) => TrustRoute::Metadata(gun, reference),
            None => TrustRoute::Unknown,
        },
    };
    Ok(route)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // literals

    use super::*;

    fn gun(s: &str) -> ServerGun {
        s.parse().unwrap()
    }

    fn role(s: &str) -> RoleName {
        s.parse().unwrap()
    }

    #[test]
    fn matches_every_endpoint() {
        let sha = "a".repeat(64);
        let cases = [
            ("/_notary_server/health", TrustRoute::Health),
            ("/v2/_trust/changefeed", TrustRoute::GlobalChangefeed),
            (
                "/v2/a.io/b/_trust/changefeed",
                TrustRoute::Changefeed(gun("a.io/b")),
            ),
            (
                "/v2/a.io/b/_trust/tuf/",
                TrustRoute::Repository(gun("a.io/b")),
            ),
            (
                "/v2/a/_trust/tuf/timestamp.key",
                TrustRoute::Key(gun("a"), ServerRole::Timestamp),
            ),
            (
                "/v2/a/_trust/tuf/snapshot.key",
                TrustRoute::Key(gun("a"), ServerRole::Snapshot),
            ),
            (
                "/v2/a/_trust/tuf/root.json",
                TrustRoute::Metadata(gun("a"), MetadataRef::Current(role("root"))),
            ),
            (
                "/v2/a/_trust/tuf/targets/releases.json",
                TrustRoute::Metadata(gun("a"), MetadataRef::Current(role("targets/releases"))),
            ),
            (
                "/v2/a/_trust/tuf/3.targets/releases.json",
                TrustRoute::Metadata(gun("a"), MetadataRef::Version(role("targets/releases"), 3)),
            ),
            (
                &format!("/v2/a/_trust/tuf/snapshot.{sha}.json"),
                TrustRoute::Metadata(
                    gun("a"),
                    MetadataRef::Checksum(role("snapshot"), sha.parse().unwrap()),
                ),
            ),
            ("/v2/a/_trust/tuf/nope.json", TrustRoute::Unknown),
            ("/v2/a/_trust/tuf/root.abc.json", TrustRoute::Unknown),
            ("/v2/a/_trust/other", TrustRoute::Unknown),
        ];
        for (path, want) in cases {
            assert!(is_trust_path(path), "{path}");
            assert_eq!(parse(path).unwrap(), want, "{path}");
        }
    }

    #[test]
    fn registry_paths_are_not_trust_paths() {
        for path in [
            "/v2/",
            "/v2/a/manifests/latest",
            "/v2/_catalog",
            "/v2/a/trust/x",
        ] {
            assert!(!is_trust_path(path), "{path}");
        }
    }

    #[test]
    fn refuses_guns_that_escape_the_store() {
        for path in [
            "/v2/../x/_trust/tuf/",
            "/v2/a/../../b/_trust/tuf/root.json",
            "/v2/a/%2e%2e/_trust/tuf/",
            "/v2/a//b/_trust/tuf/",
            "/v2/a/_x/_trust/tuf/",
            "/v2/a/./b/_trust/changefeed",
        ] {
            let err = parse(path).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidGun, "{path}");
        }
    }
}
