//! Why a signature was not accepted: one variant per rule of the verification algorithm, each
//! saying what failed and what the user can do about it.

use std::fmt;

use hallmark_envelope::EnvelopeError;
use hallmark_timestamp::TimestampError;
use hallmark_trust::TrustStoreError;
use time::OffsetDateTime;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;

/// The time format of notation's messages (RFC 1123 with a numeric zone).
const RFC1123Z: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] \
     [offset_hour sign:mandatory][offset_minute]"
);

/// Formats `t` as notation does in its messages.
pub(crate) struct When(pub OffsetDateTime);

impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(RFC1123Z) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0),
        }
    }
}

/// A failed verification rule.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// Integrity: the envelope is malformed or its signature does not verify.
    #[error("integrity: {0}")]
    Integrity(#[from] EnvelopeError),

    /// The envelope names a verification plugin; Hallmark runs no plugins, so the critical
    /// attributes that plugin would process cannot be checked.
    #[error(
        "the signature requires verification plugin \"{plugin}\"{min}, and Hallmark does not run \
         notation plugins: verification is inconclusive; verify it with notation and the plugin",
        min = .min_version.as_ref().map(|v| format!(" (version {v} or later)")).unwrap_or_default()
    )]
    VerificationPluginUnsupported {
        /// The plugin's name.
        plugin: String,
        /// `io.cncf.notary.verificationPluginMinVersion`, if set.
        min_version: Option<String>,
    },

    /// A trust store the policy names cannot be used.
    #[error("authenticity: {0}")]
    TrustStore(#[from] TrustStoreError),

    /// The policy names no trust store of the type the signing scheme needs.
    #[error(
        "authenticity: the trust policy \"{policy}\" lists no \"{store_type}\" trust store, which \
         signing scheme {scheme} needs; add one to its trustStores"
    )]
    NoStoreOfType {
        /// The policy statement.
        policy: String,
        /// `ca` or `signingAuthority`.
        store_type: &'static str,
        /// The envelope's signing scheme.
        scheme: &'static str,
    },

    /// No certificate of the chain is byte-identical to a trust store certificate.
    #[error(
        "authenticity: the signature's certificate chain does not contain any trusted certificate \
         (leaf \"{leaf}\", root \"{root}\"); add the signer's root or leaf certificate to one of \
         the trust stores {stores} with `hallmark cert add`"
    )]
    UntrustedChain {
        /// Subject of the chain's leaf.
        leaf: String,
        /// Subject of the chain's last certificate.
        root: String,
        /// The stores that were searched, as `type:name`.
        stores: String,
    },

    /// The leaf's subject matches none of the policy's trusted identities.
    #[error(
        "authenticity: signing certificate from the digital signature does not match the X.509 \
         trusted identities {identities} defined in the trust policy \"{policy}\" (the signer is \
         \"{subject}\")"
    )]
    IdentityMismatch {
        /// The leaf's subject.
        subject: String,
        /// The policy statement.
        policy: String,
        /// The identities, as written in the policy.
        identities: String,
    },

    /// The signature's expiry has passed.
    #[error("expiry: digital signature has expired on \"{}\"", When(*.0))]
    Expired(OffsetDateTime),

    /// The policy asks for a timestamp and the envelope has none.
    #[error(
        "authenticTimestamp: no timestamp countersignature was found in the signature envelope; \
         the trust policy lists a tsa store, so sign with --timestamp-url, or remove the tsa \
         store (or set verifyTimestamp to afterCertExpiry) to accept signatures without one"
    )]
    NoTimestamp,

    /// The timestamp token does not verify.
    #[error("authenticTimestamp: {0}")]
    Timestamp(#[from] TimestampError),

    /// A certificate expired before the verification time, and no timestamp vouches for the
    /// signing time.
    #[error(
        "authenticTimestamp: verification time is after certificate \"{subject}\" validity period, \
         it was expired at \"{}\"; renew the signing certificate and sign again, or use a \
         timestamp so that signatures outlive their certificates", When(*.not_after)
    )]
    CertificateExpired {
        /// The certificate's subject.
        subject: String,
        /// Its notAfter.
        not_after: OffsetDateTime,
    },

    /// A certificate is not valid yet at the verification time.
    #[error(
        "authenticTimestamp: verification time is before certificate \"{subject}\" validity \
         period, it will be valid from \"{}\"", When(*.not_before)
    )]
    CertificateNotYetValid {
        /// The certificate's subject.
        subject: String,
        /// Its notBefore.
        not_before: OffsetDateTime,
    },

    /// The timestamp's range reaches past a certificate's notAfter.
    #[error(
        "authenticTimestamp: timestamp can be after certificate \"{subject}\" validity period, it \
         was expired at \"{}\"", When(*.not_after)
    )]
    TimestampAfterValidity {
        /// The certificate's subject.
        subject: String,
        /// Its notAfter.
        not_after: OffsetDateTime,
    },

    /// The timestamp's range reaches before a certificate's notBefore.
    #[error(
        "authenticTimestamp: timestamp can be before certificate \"{subject}\" validity period, it \
         will be valid from \"{}\"", When(*.not_before)
    )]
    TimestampBeforeValidity {
        /// The certificate's subject.
        subject: String,
        /// Its notBefore.
        not_before: OffsetDateTime,
    },

    /// The authentic signing time of a signingAuthority signature lies outside a
    /// certificate's validity.
    #[error(
        "authenticTimestamp: the authentic signing time \"{}\" is outside the validity of \
         certificate \"{subject}\"", When(*.time)
    )]
    AuthenticSigningTimeOutsideValidity {
        /// The certificate's subject.
        subject: String,
        /// The authentic signing time.
        time: OffsetDateTime,
    },

    /// A certificate of the timestamping chain is revoked or its status is unknown.
    #[error(
        "authenticTimestamp: timestamping certificate with subject \"{subject}\" revocation \
         status is {status}"
    )]
    TimestampRevocation {
        /// The TSA certificate's subject.
        subject: String,
        /// What the revocation check found.
        status: String,
    },

    /// A certificate of the signing chain is revoked.
    #[error(
        "revocation: signing certificate with subject \"{subject}\" is revoked (since \
         \"{}\"{reason}); the signature must not be trusted", When(*.at),
        reason = .reason.as_ref().map(|r| format!(", reason {r}")).unwrap_or_default()
    )]
    Revoked {
        /// The revoked certificate's subject.
        subject: String,
        /// When it was revoked.
        at: OffsetDateTime,
        /// The CRL's reason code, if any.
        reason: Option<String>,
    },

    /// The revocation status of a signing certificate could not be determined.
    #[error(
        "revocation: signing certificate with subject \"{subject}\" revocation status is unknown: \
         {reason}; check network access to its CRL distribution point, or set the policy's \
         revocation check to log or skip"
    )]
    RevocationUnknown {
        /// The certificate's subject.
        subject: String,
        /// Why no status could be had.
        reason: String,
    },

    /// The signed payload names another artifact.
    #[error(
        "the signature is for another artifact: its {field} is {signed}, but the artifact being \
         verified has {expected}; this signature belongs to a different image or file"
    )]
    SubjectMismatch {
        /// `digest`, `size` or `mediaType`.
        field: &'static str,
        /// The value in the signed payload.
        signed: String,
        /// The value of the artifact being verified.
        expected: String,
    },

    /// A `-m KEY=VALUE` the user asked for is missing or different in the signed annotations.
    #[error(
        "user metadata {key}={expected} is not present in the signature{found}",
        found = .found.as_ref().map(|v| format!(" (it has {key}={v})")).unwrap_or_default()
    )]
    UserMetadataMismatch {
        /// The key.
        key: String,
        /// The value asked for.
        expected: String,
        /// The value signed, if the key is present.
        found: Option<String>,
    },
}
