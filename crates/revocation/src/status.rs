//! The revocation status of one certificate, as the Notary Project defines the outcomes
//! (trust-store-trust-policy.md "Certificate Revocation Evaluation"; notation-core-go
//! `result.Result`).

use std::fmt;

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What revocation checking found for one certificate of a chain.
///
/// How a verifier acts on it depends on the trust policy's `revocation` action: `Revoked`
/// fails an enforced check, and so does `Unknown` (the status could not be established, so the
/// check fails closed); `Good` and `NonRevokable` pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A valid CRL from the issuer does not list the certificate (or no longer does).
    Good,
    /// The certificate names no revocation source (no CRL distribution point, no OCSP URL),
    /// or it is the chain's root. Notary Project treats it as not revoked.
    NonRevokable,
    /// A valid CRL from the issuer lists the certificate.
    Revoked {
        /// The `revocationDate` of the CRL entry.
        at: OffsetDateTime,
        /// The RFC 5280 §5.3.1 reason name (`keyCompromise`, ...) when the entry has one.
        reason: Option<String>,
    },
    /// The status could not be established; the text says why and what to do.
    Unknown(String),
}

impl Status {
    /// True for the statuses a verifier may accept: `Good` and `NonRevokable`.
    pub fn is_ok(&self) -> bool {
        matches!(self, Self::Good | Self::NonRevokable)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Good => f.write_str("good"),
            Self::NonRevokable => f.write_str("non-revokable"),
            Self::Revoked { at, reason } => {
                let at = at.format(&Rfc3339).unwrap_or_else(|_| at.to_string());
                match reason {
                    Some(reason) => write!(f, "revoked at {at} ({reason})"),
                    None => write!(f, "revoked at {at}"),
                }
            }
            Self::Unknown(why) => write!(f, "unknown: {why}"),
        }
    }
}
