//! Revocation checking of a certificate chain (Notary Project trust-store-trust-policy.md
//! "Certificate Revocation Evaluation"; notation-core-go `revocation.Validate`).
//!
//! Each certificate but the root is checked against its issuer, the next certificate in the
//! chain. The root is non-revokable: nothing above it could revoke it, and its trust comes from
//! the trust store. For each certificate:
//!
//! 1. No CRL distribution point and no OCSP URL: non-revokable (the spec's "no revocation
//!    information means not revoked").
//! 2. OCSP URL only: unknown, because Hallmark has no OCSP client yet. notation would ask the
//!    responder; failing closed keeps an enforced revocation check from passing silently.
//!    With both OCSP and CRL, notation falls back to the CRL when OCSP is unknown; Hallmark
//!    goes to the CRL directly.
//! 3. CRL distribution points: the http(s) URLs are tried in order until one yields a CRL that
//!    passes every rule of [`crate::crl`]; its entry for the certificate decides (see
//!    [`crate::entry`] for the signing-time rule). Errors move on to the next URL; when none
//!    works the status is unknown and lists every URL's reason. A certificate announcing
//!    delta CRLs (freshestCRL) is unknown, since delta CRLs are not supported.

use const_oid::db::rfc5280;
use hallmark_x509::Certificate;
use time::OffsetDateTime;

use crate::crl::{Crl, CrlError, Subject};
use crate::entry::{self, Finding};
use crate::fetch::CrlFetcher;
use crate::status::Status;

/// Why a certificate's status is unknown; its text becomes [`Status::Unknown`].
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The certificate's DER could not be read for its serial number or extensions.
    #[error("the certificate cannot be parsed, so its revocation status cannot be checked")]
    Unparsable(#[source] der::Error),

    /// Only OCSP is offered, and Hallmark has no OCSP client.
    #[error(
        "OCSP is not supported by Hallmark yet; the certificate names only an OCSP responder \
         ({urls}) and no CRL distribution point, so its revocation status is unknown (use \
         certificates with a CRL distribution point, or set the trust policy's revocation \
         check to log or skip)"
    )]
    OcspOnly {
        /// The OCSP responder URLs, comma separated.
        urls: String,
    },

    /// A CRL distribution point extension exists but has no URL Hallmark can fetch.
    #[error(
        "the certificate's CRL distribution points have no http or https URL (LDAP and other \
         schemes are not fetched), so its revocation status is unknown"
    )]
    NoHttpDistributionPoint,

    /// The certificate says delta CRLs exist; a base CRL alone could miss a revocation.
    #[error(
        "delta CRLs are not supported by Hallmark yet; the certificate points to delta CRLs \
         (freshestCRL extension), so its revocation status is unknown"
    )]
    DeltaCrlInCertificate,

    /// Every distribution point failed.
    #[error(
        "revocation status unknown: no CRL distribution point gave a usable CRL ({}); fix the \
         cause or retry when the CRL server is reachable",
        describe_failures(.0)
    )]
    NoUsableCrl(Vec<UrlFailure>),
}

/// One distribution point that did not give an answer.
#[derive(Debug)]
pub struct UrlFailure {
    /// The CRL URL.
    pub url: String,
    /// What went wrong with it.
    pub error: CrlError,
}

/// Checks every certificate of `chain` (leaf first, root last) and returns one status per
/// certificate, in the same order.
///
/// The last certificate is the root and is always [`Status::NonRevokable`], as in notation;
/// a chain of one self-signed certificate therefore gives `[NonRevokable]`, and an empty chain
/// gives an empty vector. `signing_time` is the (authentic) signing time when known, used by
/// the invalidity-date rule; `now` is the time CRL freshness is judged at.
pub fn check_chain(
    chain: &[Certificate],
    fetcher: &dyn CrlFetcher,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Vec<Status> {
    let mut statuses: Vec<Status> = chain
        .windows(2)
        .map(|pair| check_certificate(&pair[0], &pair[1], fetcher, signing_time, now))
        .collect();
    if !chain.is_empty() {
        statuses.push(Status::NonRevokable);
    }
    statuses
}

/// Checks one certificate against the CRLs its `issuer` published.
pub fn check_certificate(
    certificate: &Certificate,
    issuer: &Certificate,
    fetcher: &dyn CrlFetcher,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Status {
    match try_check(certificate, issuer, fetcher, signing_time, now) {
        Ok(status) => status,
        Err(error) => Status::Unknown(describe(&error)),
    }
}

fn try_check(
    certificate: &Certificate,
    issuer: &Certificate,
    fetcher: &dyn CrlFetcher,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Status, CheckError> {
    let parsed = certificate.x509();
    let has_extension = |oid| {
        parsed
            .tbs_certificate()
            .extensions()
            .is_some_and(|exts| exts.iter().any(|e| e.extn_id == oid))
    };
    let urls: Vec<String> = certificate
        .crl_distribution_points()
        .into_iter()
        .filter(|url| is_http(url))
        .collect();

    // Step 1 and 2: which revocation source the certificate offers.
    if urls.is_empty() {
        if has_extension(rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS) {
            return Err(CheckError::NoHttpDistributionPoint);
        }
        let ocsp = certificate.ocsp_urls();
        if !ocsp.is_empty() {
            return Err(CheckError::OcspOnly {
                urls: ocsp.join(", "),
            });
        }
        return Ok(Status::NonRevokable);
    }
    if has_extension(rfc5280::ID_CE_FRESHEST_CRL) {
        return Err(CheckError::DeltaCrlInCertificate);
    }

    // Step 3: the first distribution point with a usable CRL decides.
    let issuer = issuer.x509();
    let subject = Subject {
        certificate: parsed,
        distribution_points: &urls,
    };
    let mut failures = Vec::new();
    for url in &urls {
        match check_url(url, &subject, issuer, fetcher, signing_time, now) {
            Ok(status) => return Ok(status),
            Err(error) => failures.push(UrlFailure {
                url: url.clone(),
                error,
            }),
        }
    }
    Err(CheckError::NoUsableCrl(failures))
}

fn check_url(
    url: &str,
    subject: &Subject<'_>,
    issuer: &x509_cert::Certificate,
    fetcher: &dyn CrlFetcher,
    signing_time: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<Status, CrlError> {
    let first = fetcher.fetch(url).map_err(CrlError::Fetch)?;
    let crl = match usable_crl(&first, subject, issuer, now) {
        // A stored copy that is no longer usable may have been replaced upstream.
        Err(_) if fetcher.evict(url) => {
            let second = fetcher.fetch(url).map_err(CrlError::Fetch)?;
            usable_crl(&second, subject, issuer, now)?
        }
        result => result?,
    };

    let serial = subject
        .certificate
        .tbs_certificate()
        .serial_number()
        .as_bytes();
    Ok(match entry::find(crl.entries(), serial, signing_time)? {
        Finding::Good => Status::Good,
        Finding::Revoked { at, reason } => Status::Revoked {
            at,
            reason: reason.map(|r| entry::reason_name(r).to_owned()),
        },
    })
}

fn usable_crl(
    bytes: &[u8],
    subject: &Subject<'_>,
    issuer: &x509_cert::Certificate,
    now: OffsetDateTime,
) -> Result<Crl, CrlError> {
    let crl = Crl::parse(bytes)?;
    crl.validate(subject, issuer, now)?;
    Ok(crl)
}

fn is_http(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn describe_failures(failures: &[UrlFailure]) -> String {
    failures
        .iter()
        .map(|f| format!("{}: {}", f.url, describe(&f.error)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// An error and its sources, joined with ": ", since `Status::Unknown` carries plain text.
fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
