//! The steps of trust-store-trust-policy.md "Signature Verification", in notation's order.
//! Each function is one step; [`run`] applies the policy's action to its result.

use hallmark_envelope::{Envelope, Payload, SigningScheme};
use hallmark_revocation::Status;
use hallmark_timestamp::TimestampToken;
use hallmark_trust::{Action, Check, StoreType, TrustedIdentity, VerifyTimestamp};
use hallmark_x509::Certificate;
use time::OffsetDateTime;

use crate::{CheckOutcome, CheckResult, Failure, Outcome, Request, Subject, Verifier};

/// Collects check results and stops at the first enforced failure.
struct Run {
    checks: Vec<CheckOutcome>,
}

impl Run {
    /// Records `result` under `check`; `Err` when the failure is enforced.
    fn record(
        &mut self,
        check: Check,
        action: Action,
        result: Result<(), Failure>,
    ) -> Result<(), Failure> {
        self.record_about(check, check.as_str(), action, result)
    }

    /// [`Run::record`] for a step that is one part of `check`, described by `about`.
    fn record_about(
        &mut self,
        check: Check,
        about: &'static str,
        action: Action,
        result: Result<(), Failure>,
    ) -> Result<(), Failure> {
        let (result, verdict) = match result {
            Ok(()) => (CheckResult::Passed, Ok(())),
            Err(failure) if action == Action::Enforce => (CheckResult::Failed, Err(failure)),
            Err(failure) => {
                tracing::warn!(check = check.as_str(), "logged, not enforced: {failure}");
                (CheckResult::Logged(failure), Ok(()))
            }
        };
        self.checks.push(CheckOutcome {
            check,
            about,
            action,
            result,
        });
        verdict
    }

    fn skipped(&mut self, check: Check) {
        self.checks.push(CheckOutcome {
            check,
            about: check.as_str(),
            action: Action::Skip,
            result: CheckResult::Skipped,
        });
    }
}

/// Runs every step and assembles the [`Outcome`].
pub(crate) fn run(verifier: &Verifier<'_>, request: &Request<'_>) -> Outcome {
    let mut run = Run { checks: Vec::new() };
    let mut envelope = None;
    let mut payload = None;
    let verdict = steps(verifier, request, &mut run, &mut envelope, &mut payload);
    Outcome {
        policy: verifier.policy.name.clone(),
        checks: run.checks,
        envelope,
        payload,
        verdict,
    }
}

fn steps(
    verifier: &Verifier<'_>,
    request: &Request<'_>,
    run: &mut Run,
    envelope_slot: &mut Option<Envelope>,
    payload_slot: &mut Option<Payload>,
) -> Result<(), Failure> {
    let policy = verifier.policy;
    let action = |c: Check| policy.actions.get(c);

    // Step 1 (trust-store-trust-policy.md, "Steps"): a skip policy checks nothing.
    if action(Check::Integrity) == Action::Skip {
        for c in Check::ALL {
            run.skipped(c);
        }
        return Ok(());
    }

    // Integrity: parse, signature, certificate chain rules. Never logged.
    let parsed = Envelope::parse(request.format, request.envelope).map_err(Failure::from);
    let envelope = match parsed {
        Ok(e) => e,
        Err(f) => return run.record(Check::Integrity, Action::Enforce, Err(f)),
    };
    let integrity = envelope.verify_integrity().map_err(Failure::from);
    let payload = integrity.and_then(|()| envelope.payload().map_err(Failure::from));
    let envelope = envelope_slot.insert(envelope);
    let payload = match payload {
        Ok(p) => p,
        Err(f) => return run.record(Check::Integrity, Action::Enforce, Err(f)),
    };
    run.record(Check::Integrity, Action::Enforce, Ok(()))?;
    let payload = payload_slot.insert(payload);

    // Verification plugin: a named plugin owns critical attributes we cannot judge; without
    // plugin support the result is inconclusive, which fails whatever the level.
    if let Some(plugin) = &envelope.signed.verification_plugin {
        return run.record(
            Check::Integrity,
            Action::Enforce,
            Err(Failure::VerificationPluginUnsupported {
                plugin: plugin.clone(),
                min_version: envelope.signed.verification_plugin_min_version.clone(),
            }),
        );
    }

    // Authenticity: trust store, then trusted identity.
    let a = action(Check::Authenticity);
    if a == Action::Skip {
        run.skipped(Check::Authenticity);
    } else {
        run.record(Check::Authenticity, a, authenticity(verifier, envelope))?;
    }

    // Expiry.
    let a = action(Check::Expiry);
    if a == Action::Skip {
        run.skipped(Check::Expiry);
    } else {
        run.record(Check::Expiry, a, expiry(envelope, request.now))?;
    }

    // Authentic timestamp.
    let a = action(Check::AuthenticTimestamp);
    if a == Action::Skip {
        run.skipped(Check::AuthenticTimestamp);
    } else {
        let result = authentic_timestamp(verifier, envelope, request.now);
        run.record(Check::AuthenticTimestamp, a, result)?;
    }

    // Revocation of the signing chain.
    let a = action(Check::Revocation);
    if a == Action::Skip {
        run.skipped(Check::Revocation);
    } else {
        let result = revocation(verifier, envelope, request.now);
        run.record(Check::Revocation, a, result)?;
    }

    // The signed descriptor must be the artifact being verified, and the user's metadata
    // must be signed; both are part of integrity and always enforced.
    let matched = subject_matches(&payload.target_artifact, request.subject)
        .and_then(|()| user_metadata(payload, request));
    run.record_about(
        Check::Integrity,
        "signed artifact and user metadata",
        Action::Enforce,
        matched,
    )
}

/// Authenticity: some certificate of the chain is byte-identical to a certificate of a trust
/// store of the type the signing scheme needs (`ca` for notary.x509, `signingAuthority` for
/// notary.x509.signingAuthority), and the leaf's subject matches a trusted identity.
fn authenticity(verifier: &Verifier<'_>, envelope: &Envelope) -> Result<(), Failure> {
    let policy = verifier.policy;
    let (wanted, scheme) = match envelope.signed.signing_scheme {
        SigningScheme::X509 => (StoreType::Ca, "notary.x509"),
        SigningScheme::X509SigningAuthority => {
            (StoreType::SigningAuthority, "notary.x509.signingAuthority")
        }
    };
    let stores: Vec<&String> = policy
        .trust_stores
        .iter()
        .filter(|(t, _)| *t == wanted)
        .map(|(_, n)| n)
        .collect();
    if stores.is_empty() {
        return Err(Failure::NoStoreOfType {
            policy: policy.name.clone(),
            store_type: wanted.as_str(),
            scheme,
        });
    }
    let mut trusted = false;
    for name in &stores {
        let certs = verifier.store.certificates(wanted, name)?;
        if envelope
            .certificate_chain
            .iter()
            .any(|c| certs.iter().any(|t| t.der() == c.der()))
        {
            trusted = true;
            break;
        }
    }
    let chain = &envelope.certificate_chain;
    let subject_of =
        |c: Option<&Certificate>| c.map(|c| c.subject().to_string()).unwrap_or_default();
    if !trusted {
        return Err(Failure::UntrustedChain {
            leaf: subject_of(chain.first()),
            root: subject_of(chain.last()),
            stores: stores
                .iter()
                .map(|n| format!("{}:{n}", wanted.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        });
    }

    let leaf = chain.first().map(Certificate::subject);
    let matched = leaf.as_ref().is_some_and(|subject| {
        policy
            .trusted_identities
            .iter()
            .any(|identity| identity.matches(subject))
    });
    if !matched {
        return Err(Failure::IdentityMismatch {
            subject: subject_of(chain.first()),
            policy: policy.name.clone(),
            identities: policy
                .trusted_identities
                .iter()
                .map(TrustedIdentity::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(())
}

/// Expiry: the signature is not valid at or after `io.cncf.notary.expiry`.
fn expiry(envelope: &Envelope, now: OffsetDateTime) -> Result<(), Failure> {
    match envelope.signed.expiry {
        Some(at) if now >= at => Err(Failure::Expired(at)),
        _ => Ok(()),
    }
}

/// Authentic timestamp (trust-store-trust-policy.md, "Authentic timestamp").
///
/// For the signingAuthority scheme, the authentic signing time must lie inside every
/// certificate's validity. For notary.x509, a verified RFC 3161 timestamp is required when the
/// policy lists a `tsa` store and `verifyTimestamp` is `always` (or `afterCertExpiry` and some
/// certificate has expired); its whole [genTime ± accuracy] range must lie inside every
/// certificate's validity, and the TSA chain must not be revoked. Without a timestamp, every
/// certificate must be valid at the verification time.
fn authentic_timestamp(
    verifier: &Verifier<'_>,
    envelope: &Envelope,
    now: OffsetDateTime,
) -> Result<(), Failure> {
    let chain = &envelope.certificate_chain;
    if envelope.signed.signing_scheme == SigningScheme::X509SigningAuthority {
        let Some(time) = envelope.signed.authentic_signing_time else {
            return Err(Failure::Integrity(
                hallmark_envelope::EnvelopeError::MissingProtectedHeader(
                    "io.cncf.notary.authenticSigningTime",
                ),
            ));
        };
        for c in chain {
            if time < c.not_before() || time > c.not_after() {
                return Err(Failure::AuthenticSigningTimeOutsideValidity {
                    subject: c.subject().to_string(),
                    time,
                });
            }
        }
        return Ok(());
    }

    let policy = verifier.policy;
    let tsa_stores: Vec<&String> = policy
        .trust_stores
        .iter()
        .filter(|(t, _)| *t == StoreType::Tsa)
        .map(|(_, n)| n)
        .collect();
    let some_expired = chain.iter().any(|c| now > c.not_after());
    let wants_timestamp = !tsa_stores.is_empty()
        && match policy.verify_timestamp {
            VerifyTimestamp::Always => true,
            VerifyTimestamp::AfterCertExpiry => some_expired,
        };
    if !wants_timestamp {
        return valid_now(chain, now);
    }

    let Some(token) = &envelope.unsigned.timestamp_signature else {
        return Err(Failure::NoTimestamp);
    };
    let token = TimestampToken::parse(token)?;
    let mut roots = Vec::new();
    for name in tsa_stores {
        roots.extend(verifier.store.certificates(StoreType::Tsa, name)?);
    }
    let range = token.verify(&envelope.signature, &roots)?;
    for c in chain {
        if range.latest > c.not_after() {
            return Err(Failure::TimestampAfterValidity {
                subject: c.subject().to_string(),
                not_after: c.not_after(),
            });
        }
        if range.earliest < c.not_before() {
            return Err(Failure::TimestampBeforeValidity {
                subject: c.subject().to_string(),
                not_before: c.not_before(),
            });
        }
    }

    // The TSA's own chain must not be revoked (its status checked at genTime).
    let statuses = verifier
        .revocation
        .check(&range.tsa_chain, Some(range.earliest), now);
    for (cert, status) in range.tsa_chain.iter().zip(statuses) {
        match status {
            Status::Good | Status::NonRevokable => {}
            Status::Revoked { .. } => {
                return Err(Failure::TimestampRevocation {
                    subject: cert.subject().to_string(),
                    status: "revoked".into(),
                });
            }
            Status::Unknown(reason) => {
                return Err(Failure::TimestampRevocation {
                    subject: cert.subject().to_string(),
                    status: format!("unknown ({reason})"),
                });
            }
        }
    }
    Ok(())
}

/// Every certificate valid at `now`.
fn valid_now(chain: &[Certificate], now: OffsetDateTime) -> Result<(), Failure> {
    for c in chain {
        if now > c.not_after() {
            return Err(Failure::CertificateExpired {
                subject: c.subject().to_string(),
                not_after: c.not_after(),
            });
        }
        if now < c.not_before() {
            return Err(Failure::CertificateNotYetValid {
                subject: c.subject().to_string(),
                not_before: c.not_before(),
            });
        }
    }
    Ok(())
}

/// Revocation of the signing chain; the signing time, when authentic, lets a certificate
/// revoked after the signature was made still count (the revocation crate applies the rule).
fn revocation(
    verifier: &Verifier<'_>,
    envelope: &Envelope,
    now: OffsetDateTime,
) -> Result<(), Failure> {
    let chain = &envelope.certificate_chain;
    let signing_time = envelope.signed.authentic_signing_time;
    let statuses = verifier.revocation.check(chain, signing_time, now);
    for (cert, status) in chain.iter().zip(statuses) {
        match status {
            Status::Good | Status::NonRevokable => {}
            Status::Revoked { at, reason } => {
                return Err(Failure::Revoked {
                    subject: cert.subject().to_string(),
                    at,
                    reason,
                });
            }
            Status::Unknown(reason) => {
                return Err(Failure::RevocationUnknown {
                    subject: cert.subject().to_string(),
                    reason,
                });
            }
        }
    }
    Ok(())
}

/// The payload's descriptor must be the artifact being verified: media type, digest and size.
fn subject_matches(signed: &hallmark_oci::Descriptor, subject: &Subject) -> Result<(), Failure> {
    let mismatch = |field, signed: String, expected: String| {
        Err(Failure::SubjectMismatch {
            field,
            signed,
            expected,
        })
    };
    match subject {
        Subject::Manifest(d) => {
            if signed.digest != d.digest {
                return mismatch("digest", signed.digest.to_string(), d.digest.to_string());
            }
            if signed.size != d.size {
                return mismatch("size", signed.size.to_string(), d.size.to_string());
            }
            if signed.media_type != d.media_type {
                return mismatch("mediaType", signed.media_type.clone(), d.media_type.clone());
            }
        }
        Subject::Blob {
            size,
            digests,
            media_type,
        } => {
            let alg = signed.digest.algorithm();
            let ours = digests.iter().find(|d| d.algorithm() == alg);
            match ours {
                Some(d) if *d == signed.digest => {}
                Some(d) => return mismatch("digest", signed.digest.to_string(), d.to_string()),
                None => {
                    return mismatch(
                        "digest algorithm",
                        alg.to_string(),
                        "a supported algorithm".into(),
                    );
                }
            }
            if signed.size != *size {
                return mismatch("size", signed.size.to_string(), size.to_string());
            }
            if let Some(m) = media_type
                && signed.media_type != *m
            {
                return mismatch("mediaType", signed.media_type.clone(), m.clone());
            }
        }
    }
    Ok(())
}

/// Every `-m KEY=VALUE` must be a signed annotation of the target artifact.
fn user_metadata(payload: &Payload, request: &Request<'_>) -> Result<(), Failure> {
    let annotations = payload.target_artifact.annotations.as_ref();
    for (key, expected) in request.user_metadata {
        let found = annotations.and_then(|a| a.get(key));
        if found != Some(expected) {
            return Err(Failure::UserMetadataMismatch {
                key: key.clone(),
                expected: expected.clone(),
                found: found.cloned(),
            });
        }
    }
    Ok(())
}
