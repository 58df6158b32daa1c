//! The Globally Unique Name of a Notary repository (`data.GUN`): for Docker, the normalised
//! repository name (`docker.io/library/alpine`). Root certificates carry it as their common
//! name, and the trust directory stores metadata under it.

use std::fmt;
use std::str::FromStr;

use crate::error::Error;

/// A GUN: non-empty, without `*` (Notary's route pattern `[^*]+`), and a relative path of
/// plain components, since the trust directory nests it as directories.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Gun(String);

impl Gun {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a root certificate's common name names this GUN: exactly equal, as Notary's
    /// `trustpinning.validRootLeafCerts` requires. A `prefix*` common name is no wildcard
    /// here: Notary's `MatchCNToGun` wildcards apply to trust pinning configuration (keys of
    /// `trust_pinning.certs`), which this verifier does not have, never to root certificates.
    pub fn matches_common_name(&self, common_name: &str) -> bool {
        common_name == self.0
    }
}

impl FromStr for Gun {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let plain = s
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..");
        if plain && !s.contains(['*', '\\', '\0']) {
            Ok(Gun(s.to_string()))
        } else {
            Err(Error::InvalidGun(s.to_string()))
        }
    }
}

impl fmt::Display for Gun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test inputs are literals

    use super::*;

    #[test]
    fn root_common_name_must_equal_the_gun_exactly() {
        let gun: Gun = "example.com/demo".parse().unwrap();
        assert!(gun.matches_common_name("example.com/demo"));
        for other in [
            "example.com/*",
            "example.com/demo*",
            "*",
            "example.com/dem",
            "",
        ] {
            assert!(!gun.matches_common_name(other), "{other:?} matched");
        }
    }
}
