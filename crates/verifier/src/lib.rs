//! The Notary Project verification algorithm (trust-store-trust-policy.md, "Signature
//! Verification"), step by step, over one signature envelope.
//!
//! This crate decides; it does not fetch. The caller finds the signatures (referrers API, tag
//! schema, an image layout or a detached file), picks the trust policy statement, and supplies
//! revocation answers through [`RevocationChecker`]; everything here is pure computation over
//! bytes, certificates and a clock, so the outcome of a verification can be reproduced exactly
//! in a test by fixing [`Request::now`].
//!
//! The steps run in notation's order: integrity, verification plugin, authenticity (trust
//! store, then trusted identity), expiry, authentic timestamp, revocation, then the match of
//! the signed descriptor and of the user metadata. Each step's failure is either enforced,
//! which ends verification, or logged, which is recorded in the [`Outcome`] and verification
//! goes on; the trust policy's level and overrides decide which.

mod failure;
mod steps;

use std::collections::BTreeMap;

use hallmark_envelope::{Envelope, EnvelopeFormat, Payload};
use hallmark_oci::{Descriptor, Digest};
use hallmark_revocation::{CrlFetcher, Status};
use hallmark_trust::{Action, Check, TrustPolicy, TrustStore};
use hallmark_x509::Certificate;
use time::OffsetDateTime;

pub use failure::Failure;

/// What the signature must be about.
#[derive(Debug, Clone)]
pub enum Subject {
    /// An OCI manifest: media type, digest and size must all equal the signed descriptor.
    Manifest(Descriptor),
    /// A detached blob: its size, the digest of its bytes in whichever algorithm the payload
    /// uses, and the media type when the user gave one.
    Blob {
        /// Length in bytes.
        size: u64,
        /// The blob's digest in every algorithm a payload may use.
        digests: Vec<Digest>,
        /// The media type the user expects, if any.
        media_type: Option<String>,
    },
}

/// One verification request.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The envelope's format, from the signature manifest's layer media type or the file name.
    pub format: EnvelopeFormat,
    /// The envelope bytes exactly as stored.
    pub envelope: &'a [u8],
    /// What the signature must be about.
    pub subject: &'a Subject,
    /// `-m KEY=VALUE`: each must be present in the signed annotations with this value.
    pub user_metadata: &'a BTreeMap<String, String>,
    /// The verification time.
    pub now: OffsetDateTime,
}

/// Answers revocation questions; the binary implements it with CRLs fetched over HTTP.
pub trait RevocationChecker {
    /// One status per certificate of `chain` (leaf first, root last).
    fn check(
        &self,
        chain: &[Certificate],
        signing_time: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Vec<Status>;
}

/// [`RevocationChecker`] over CRLs from a [`CrlFetcher`].
pub struct CrlChecker<'a>(pub &'a dyn CrlFetcher);

impl RevocationChecker for CrlChecker<'_> {
    fn check(
        &self,
        chain: &[Certificate],
        signing_time: Option<OffsetDateTime>,
        now: OffsetDateTime,
    ) -> Vec<Status> {
        hallmark_revocation::check_chain(chain, self.0, signing_time, now)
    }
}

/// The result of one check.
#[derive(Debug)]
pub struct CheckOutcome {
    /// Which check of the trust policy.
    pub check: Check,
    /// What this step examined: the check's name, or the part of it when a check has several
    /// steps (integrity covers the envelope and, last, the signed artifact and metadata).
    pub about: &'static str,
    /// What the policy said to do with a failure.
    pub action: Action,
    /// What happened.
    pub result: CheckResult,
}

/// What one check found.
#[derive(Debug)]
pub enum CheckResult {
    /// The check passed.
    Passed,
    /// The policy skips this check.
    Skipped,
    /// The check failed and the policy only logs it.
    Logged(Failure),
    /// The check failed and the policy enforces it: the failure is [`Outcome::verdict`].
    Failed,
}

/// Everything verification learned about one envelope.
#[derive(Debug)]
pub struct Outcome {
    /// The trust policy statement that applied.
    pub policy: String,
    /// Every check that ran, in order. A skipped check is listed with [`Action::Skip`].
    pub checks: Vec<CheckOutcome>,
    /// The parsed envelope, when it parsed.
    pub envelope: Option<Envelope>,
    /// The signed payload, when integrity passed.
    pub payload: Option<Payload>,
    /// The enforced failure that ended verification, if any.
    pub verdict: Result<(), Failure>,
}

impl Outcome {
    /// Whether the signature is accepted.
    pub fn passed(&self) -> bool {
        self.verdict.is_ok()
    }

    /// Failures that the policy only logs.
    pub fn logged(&self) -> impl Iterator<Item = (Check, &Failure)> {
        self.checks.iter().filter_map(|c| match &c.result {
            CheckResult::Logged(f) => Some((c.check, f)),
            _ => None,
        })
    }
}

/// Verifies envelopes under one trust policy statement.
pub struct Verifier<'a> {
    policy: &'a TrustPolicy,
    store: &'a TrustStore,
    revocation: &'a dyn RevocationChecker,
}

impl<'a> Verifier<'a> {
    /// A verifier for `policy`, reading certificates from `store`.
    pub fn new(
        policy: &'a TrustPolicy,
        store: &'a TrustStore,
        revocation: &'a dyn RevocationChecker,
    ) -> Self {
        Verifier {
            policy,
            store,
            revocation,
        }
    }

    /// Runs every step on one envelope.
    pub fn verify(&self, request: &Request<'_>) -> Outcome {
        steps::run(self, request)
    }
}
