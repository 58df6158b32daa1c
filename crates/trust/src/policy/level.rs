//! Verification levels, checks and actions: the table of the trust store and trust policy
//! specification, "Signature Verification details" (reference §3), and the `override` rules.
//!
//! A level is a preset of one action per check; a statement may override single checks of a
//! non-skip level. notation-go enforces two further rules, kept here with its messages:
//! integrity can never be overridden, and only revocation may be set to `skip`.

use std::fmt;
use std::str::FromStr;

use super::error::SignatureVerificationError;

/// A preset of verification actions (`signatureVerification.level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Every check is enforced.
    Strict,
    /// Integrity and authenticity enforced; the rest logged.
    Permissive,
    /// Only integrity enforced; the rest logged.
    Audit,
    /// Nothing is verified.
    Skip,
}

impl Level {
    /// All levels, in the order notation lists them.
    pub const ALL: [Level; 4] = [Level::Strict, Level::Permissive, Level::Audit, Level::Skip];

    /// The name used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Strict => "strict",
            Level::Permissive => "permissive",
            Level::Audit => "audit",
            Level::Skip => "skip",
        }
    }

    /// The actions of this level before any override (reference §3 table).
    pub fn actions(self) -> Actions {
        use Action::{Enforce, Log, Skip};
        let (authenticity, rest) = match self {
            Level::Strict => (Enforce, Enforce),
            Level::Permissive => (Enforce, Log),
            Level::Audit => (Log, Log),
            Level::Skip => {
                return Actions {
                    integrity: Skip,
                    authenticity: Skip,
                    authentic_timestamp: Skip,
                    expiry: Skip,
                    revocation: Skip,
                };
            }
        };
        Actions {
            integrity: Enforce,
            authenticity,
            authentic_timestamp: rest,
            expiry: rest,
            revocation: rest,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = SignatureVerificationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| SignatureVerificationError::InvalidLevel {
                level: s.to_owned(),
            })
    }
}

/// What a failed check leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// The failure fails verification.
    Enforce,
    /// The failure is reported and verification continues.
    Log,
    /// The check is not run.
    Skip,
}

impl Action {
    /// The name used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Enforce => "enforce",
            Action::Log => "log",
            Action::Skip => "skip",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Action {
    type Err = SignatureVerificationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [Action::Enforce, Action::Log, Action::Skip]
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| SignatureVerificationError::UnsupportedAction {
                action: s.to_owned(),
            })
    }
}

/// One verification check of the specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Check {
    /// The signature verifies and the envelope is well formed.
    Integrity,
    /// The signer chains to a trust store certificate and matches a trusted identity.
    Authenticity,
    /// The signing time is proven (timestamp or signing authority) within the chain validity.
    AuthenticTimestamp,
    /// The signature has not expired.
    Expiry,
    /// No certificate of the chain is revoked.
    Revocation,
}

impl Check {
    /// All checks, in the order of the specification's table.
    pub const ALL: [Check; 5] = [
        Check::Integrity,
        Check::Authenticity,
        Check::AuthenticTimestamp,
        Check::Expiry,
        Check::Revocation,
    ];

    /// The name used in `override`.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Integrity => "integrity",
            Check::Authenticity => "authenticity",
            Check::AuthenticTimestamp => "authenticTimestamp",
            Check::Expiry => "expiry",
            Check::Revocation => "revocation",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Check {
    type Err = SignatureVerificationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Check::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| SignatureVerificationError::UnsupportedCheck {
                check: s.to_owned(),
            })
    }
}

/// The action of every check, after the statement's overrides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Actions {
    /// Action of [`Check::Integrity`].
    pub integrity: Action,
    /// Action of [`Check::Authenticity`].
    pub authenticity: Action,
    /// Action of [`Check::AuthenticTimestamp`].
    pub authentic_timestamp: Action,
    /// Action of [`Check::Expiry`].
    pub expiry: Action,
    /// Action of [`Check::Revocation`].
    pub revocation: Action,
}

impl Actions {
    /// The action for one check.
    pub fn get(&self, check: Check) -> Action {
        match check {
            Check::Integrity => self.integrity,
            Check::Authenticity => self.authenticity,
            Check::AuthenticTimestamp => self.authentic_timestamp,
            Check::Expiry => self.expiry,
            Check::Revocation => self.revocation,
        }
    }

    fn set(&mut self, check: Check, action: Action) {
        match check {
            Check::Integrity => self.integrity = action,
            Check::Authenticity => self.authenticity = action,
            Check::AuthenticTimestamp => self.authentic_timestamp = action,
            Check::Expiry => self.expiry = action,
            Check::Revocation => self.revocation = action,
        }
    }
}

/// Applies `override` entries to a level, with notation-go's rules: a skip level cannot be
/// customised, integrity cannot be overridden, and only revocation may be skipped.
pub(crate) fn apply_overrides<'a>(
    level: Level,
    overrides: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<Actions, SignatureVerificationError> {
    let mut actions = level.actions();
    let mut overrides = overrides.into_iter().peekable();
    if overrides.peek().is_none() {
        return Ok(actions);
    }
    if level == Level::Skip {
        return Err(SignatureVerificationError::SkipCustomized);
    }

    for (check, action) in overrides {
        let check: Check = check.parse()?;
        let action: Action = action.parse()?;
        if check == Check::Integrity {
            return Err(SignatureVerificationError::IntegrityOverridden);
        }
        if check != Check::Revocation && action == Action::Skip {
            return Err(SignatureVerificationError::CannotSkip { check });
        }
        actions.set(check, action);
    }
    Ok(actions)
}

/// When the timestamp countersignature is verified (`signatureVerification.verifyTimestamp`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VerifyTimestamp {
    /// Always (the default when the member is absent or empty).
    #[default]
    Always,
    /// Only when some certificate of the signing chain has expired.
    AfterCertExpiry,
}

impl VerifyTimestamp {
    /// The name used in policy documents.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyTimestamp::Always => "always",
            VerifyTimestamp::AfterCertExpiry => "afterCertExpiry",
        }
    }
}

impl fmt::Display for VerifyTimestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_table_matches_the_specification() {
        use Action::{Enforce as E, Log as L, Skip as S};
        let rows = [
            (Level::Strict, [E, E, E, E, E]),
            (Level::Permissive, [E, E, L, L, L]),
            (Level::Audit, [E, L, L, L, L]),
            (Level::Skip, [S, S, S, S, S]),
        ];
        for (level, expected) in rows {
            let actions = level.actions();
            let got: Vec<Action> = Check::ALL.iter().map(|c| actions.get(*c)).collect();
            assert_eq!(got, expected, "{level}");
        }
    }

    #[test]
    fn overrides_follow_notation_rules() {
        let a = apply_overrides(Level::Strict, [("revocation", "skip"), ("expiry", "log")])
            .expect("valid overrides");
        assert_eq!(a.revocation, Action::Skip);
        assert_eq!(a.expiry, Action::Log);
        assert_eq!(a.authenticity, Action::Enforce);

        let cases = [
            (Level::Skip, ("expiry", "log"), "can't be used to customize"),
            (
                Level::Strict,
                ("integrity", "log"),
                "\"integrity\" verification can not be",
            ),
            (
                Level::Audit,
                ("expiry", "skip"),
                "\"expiry\" verification can not be skipped",
            ),
            (
                Level::Audit,
                ("bogus", "log"),
                "verification type \"bogus\"",
            ),
            (
                Level::Audit,
                ("expiry", "warn"),
                "verification action \"warn\"",
            ),
        ];
        for (level, entry, fragment) in cases {
            let err = apply_overrides(level, [entry]).expect_err("invalid override");
            assert!(err.to_string().contains(fragment), "{err}");
        }
    }
}
