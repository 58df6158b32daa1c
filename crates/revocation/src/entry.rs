//! Finding a certificate in a validated CRL and reading what its entry means (RFC 5280 §5.3).
//!
//! The decision rule is notation-core-go's (`revocation/internal/crl`, `checkRevocation`):
//!
//! - Entries are matched by serial number.
//! - **Signing time and invalidity date**: when a signing time is known and the entry carries
//!   an `invalidityDate` (RFC 5280 §5.3.2, the time the key is known or suspected to have been
//!   compromised) that is strictly *after* the signing time, the certificate was still good
//!   when it signed, and the entry does not count: notation stops reading the CRL there and
//!   the result is good. Only the invalidity date is compared; the `revocationDate` (when the
//!   CA processed the revocation) never is, and without an invalidity date or a signing time
//!   every entry counts, whatever its reason.
//! - `certificateHold` and `removeFromCRL` are temporary: the most recent such entry (by
//!   revocation date) decides, hold meaning revoked and removeFromCRL meaning good again.
//! - Any other reason, or no reason code at all (`unspecified`), revokes the certificate at
//!   once.
//!
//! Unknown critical entry extensions fail the check (RFC 5280 §5.3), as in notation.

use const_oid::db::rfc5280;
use der::Decode;
use der::asn1::GeneralizedTime;
use time::OffsetDateTime;
use x509_cert::crl::RevokedCert;
use x509_cert::ext::pkix::crl::CrlReason;

use crate::crl::{CrlError, to_offset};

/// What the CRL says about one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finding {
    /// Not listed, listed only after the signing time, or released with removeFromCRL.
    Good,
    /// Listed with a reason that counts.
    Revoked {
        at: OffsetDateTime,
        reason: Option<CrlReason>,
    },
}

/// The entry extensions Hallmark reads.
struct EntryExtensions {
    reason: Option<CrlReason>,
    invalidity_date: Option<OffsetDateTime>,
}

/// Applies notation's rule (module docs) to the entries listing `serial` (its DER INTEGER
/// content bytes).
pub(crate) fn find(
    entries: &[RevokedCert],
    serial: &[u8],
    signing_time: Option<OffsetDateTime>,
) -> Result<Finding, CrlError> {
    // The latest certificateHold or removeFromCRL entry: temporary states, the most recent wins.
    let mut latest_temporary: Option<(OffsetDateTime, CrlReason)> = None;

    for entry in entries
        .iter()
        .filter(|e| e.serial_number.as_bytes() == serial)
    {
        let extensions = read_extensions(entry)?;
        let at = to_offset(entry.revocation_date.to_unix_duration())?;

        // Signed before the key became invalid: the signature stays good (notation `break`s
        // out of the entry loop here, so later entries are not read either).
        if let (Some(signed), Some(invalid)) = (signing_time, extensions.invalidity_date)
            && signed < invalid
        {
            break;
        }

        match extensions.reason {
            Some(reason @ (CrlReason::CertificateHold | CrlReason::RemoveFromCRL)) => {
                if latest_temporary.is_none_or(|(latest, _)| latest < at) {
                    latest_temporary = Some((at, reason));
                }
            }
            reason => return Ok(Finding::Revoked { at, reason }),
        }
    }

    Ok(match latest_temporary {
        Some((at, CrlReason::CertificateHold)) => Finding::Revoked {
            at,
            reason: Some(CrlReason::CertificateHold),
        },
        _ => Finding::Good,
    })
}

fn read_extensions(entry: &RevokedCert) -> Result<EntryExtensions, CrlError> {
    let mut found = EntryExtensions {
        reason: None,
        invalidity_date: None,
    };
    for extension in entry.crl_entry_extensions.as_deref().unwrap_or_default() {
        let malformed = |source| CrlError::MalformedExtension {
            oid: extension.extn_id,
            source,
        };
        let value = extension.extn_value.as_bytes();
        match extension.extn_id {
            rfc5280::ID_CE_CRL_REASONS => {
                found.reason = Some(CrlReason::from_der(value).map_err(malformed)?);
            }
            rfc5280::ID_CE_INVALIDITY_DATE => {
                let date = GeneralizedTime::from_der(value).map_err(malformed)?;
                found.invalidity_date = Some(to_offset(date.to_unix_duration())?);
            }
            oid if extension.critical => {
                return Err(CrlError::UnknownCriticalEntryExtension { oid });
            }
            _ => {}
        }
    }
    Ok(found)
}

/// RFC 5280 §5.3.1 names, as notation prints them.
pub(crate) fn reason_name(reason: CrlReason) -> &'static str {
    match reason {
        CrlReason::Unspecified => "unspecified",
        CrlReason::KeyCompromise => "keyCompromise",
        CrlReason::CaCompromise => "cACompromise",
        CrlReason::AffiliationChanged => "affiliationChanged",
        CrlReason::Superseded => "superseded",
        CrlReason::CessationOfOperation => "cessationOfOperation",
        CrlReason::CertificateHold => "certificateHold",
        CrlReason::RemoveFromCRL => "removeFromCRL",
        CrlReason::PrivilegeWithdrawn => "privilegeWithdrawn",
        CrlReason::AaCompromise => "aACompromise",
    }
}
