//! Migration of Notary v1 signed tags to signatures stored next to the image.
//!
//! The v1 data has been verified by the caller. Each signed tag matching the glob, if given,
//! is reported. Tags Docker would not resolve (signed only by delegations other than
//! `targets/releases` and `targets`) are reported as such and not signed; the others go
//! through three passes (each pass `concurrency` at a time, with progress per tag):
//!
//! 1. Check: the registry's manifest for the tag must have exactly the digest and size v1
//!    signed; a tag missing from the registry, or whose digest or size differs, is reported
//!    and not signed. A tag whose evidence is attached and whose image a signature by our key
//!    already covers is reported as migrated.
//! 2. Sign: once per distinct image, however many tags name it: a Notary Project signature
//!    (a JWS envelope as a referrer; skipped when one by the same certificate chain is
//!    already there) or a cosign signature (appended to the `.sig` tag, duplicates skipped,
//!    all images settled at once). Every tag of the image shares the outcome.
//! 3. Evidence: the verified v1 metadata of each tag, attached as a referrer (`evidence`);
//!    the metadata files every tag shares are pushed once, then one manifest per tag.
//!
//! Evidence comes last, so a rerun redoes only tags whose migration did not finish; a tag
//! counts as migrated only when its evidence is there and a signature by our key verifies.

use std::collections::BTreeMap;
use std::sync::Arc;

use futures_util::{StreamExt, stream};
use hallmark_client::{NoProgress, Target};
use hallmark_envelope::EnvelopeFormat;
use hallmark_oci::{Descriptor, Reference, Tag};
use hallmark_signature::cosign::{Append, Appended, append_all, has_signature, signature_append};
use hallmark_signature::find;
use hallmark_signature::sign::{Signer, store};
use hallmark_tuf::{Gun, SignedTarget, Verified};
use hallmark_x509::{Certificate, PublicKey, SigningKey};
use serde::Serialize;
use time::OffsetDateTime;

use crate::Error;
use crate::evidence::{self, RootTrust};

/// How tags are signed anew.
pub enum Format {
    /// A Notary Project signature with a key and its certificate chain (leaf first).
    Notation {
        /// The private key.
        key: SigningKey,
        /// Its chain.
        chain: Vec<Certificate>,
    },
    /// A cosign signature with a key.
    Cosign {
        /// The private key.
        key: SigningKey,
        /// Its public half.
        public: PublicKey,
    },
}

impl Format {
    /// `notation` or `cosign`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Notation { .. } => "notation",
            Format::Cosign { .. } => "cosign",
        }
    }
}

/// What to migrate where.
pub struct Plan<'a> {
    /// The verified v1 data.
    pub verified: &'a Verified,
    /// Its repository.
    pub gun: &'a Gun,
    /// The registry repository holding the images.
    pub target: &'a Target,
    /// `registry/repository`, as cosign payloads name it.
    pub repository: &'a str,
    /// How to sign.
    pub format: &'a Format,
    /// Only tags matching this glob (`*` and `?`), if given.
    pub tags: Option<&'a str>,
    /// Check only: sign and write nothing.
    pub dry_run: bool,
    /// Tags handled at once.
    pub concurrency: usize,
    /// The signing time.
    pub now: OffsetDateTime,
    /// How the v1 root was trusted, as the evidence records.
    pub root_trust: RootTrust,
    /// Told as each tag gets through each pass.
    pub progress: &'a dyn TagProgress,
}

/// The passes of a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Checking the tags against the registry.
    Check,
    /// Signing their images.
    Sign,
    /// Attaching their evidence.
    Evidence,
}

impl Pass {
    /// `check`, `sign` or `evidence`.
    pub fn name(self) -> &'static str {
        match self {
            Pass::Check => "check",
            Pass::Sign => "sign",
            Pass::Evidence => "evidence",
        }
    }
}

/// Receives the progress of a migration, tag by tag; every method has a do-nothing default.
pub trait TagProgress: Send + Sync {
    /// `pass` starts over `tags` tags.
    fn start(&self, _pass: Pass, _tags: usize) {}
    /// `tag` is through the current pass.
    fn done(&self, _tag: &str) {}
}

/// Progress that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTagProgress;

impl TagProgress for NoTagProgress {}

/// What became of a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Signed now, with its evidence attached.
    Signed,
    /// Its evidence was already attached: migrated by an earlier run.
    AlreadyMigrated,
    /// `--dry-run`: it would be signed.
    WouldSign,
    /// The registry has no manifest for the tag.
    Missing,
    /// The registry's manifest for the tag is not the one v1 signed.
    DigestMismatch,
    /// The registry's manifest has the digest but another size (a broken v1 record).
    SizeMismatch,
    /// Only delegations `docker pull` does not use sign it (neither `targets/releases` nor
    /// `targets`): not signed anew, as Docker never verified it.
    NotResolvedByDocker,
    /// Something failed; see the detail.
    Failed,
}

impl Outcome {
    /// Whether the tag ends migrated (or would, in a dry run).
    pub fn is_success(self) -> bool {
        matches!(
            self,
            Outcome::Signed | Outcome::AlreadyMigrated | Outcome::WouldSign
        )
    }
}

/// One tag's line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct TagReport {
    /// The tag.
    pub tag: String,
    /// The digest v1 signed.
    pub digest: String,
    /// The size v1 signed.
    pub size: u64,
    /// The v1 role that signed it.
    pub role: String,
    /// What happened.
    pub outcome: Outcome,
    /// The registry's digest for the tag, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry_digest: Option<String>,
    /// The new signature's manifest digest (Notary Project) or `.sig` tag (cosign).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    /// The evidence artifact's digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Where the time of a migration went, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timings {
    /// Pass 1: checking every tag against the registry.
    pub check_ms: f64,
    /// Pass 2: signing and storing the signatures.
    pub sign_ms: f64,
    /// Pass 3: attaching the evidence.
    pub evidence_ms: f64,
}

fn millis(since: std::time::Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1000.0
}

/// A tag that passed the check, with the registry's descriptor.
struct Candidate {
    index: usize,
    target: SignedTarget,
    subject: Descriptor,
}

/// The names of the signed tags `pattern` matches (all without one), by any role, sorted.
pub fn selected_tags<'v>(verified: &'v Verified, pattern: Option<&str>) -> Vec<&'v str> {
    let mut names: Vec<&str> = verified
        .signed_targets
        .iter()
        .map(|t| t.name.as_str())
        .filter(|name| pattern.is_none_or(|p| glob(p, name)))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// The report lines of the selected tags Docker does not resolve: each named once, by the
/// first role that signs it (in the order the verifier read them).
fn not_resolved(plan: &Plan<'_>, docker: &BTreeMap<&str, &SignedTarget>) -> Vec<TagReport> {
    let mut lines: BTreeMap<&str, TagReport> = BTreeMap::new();
    for t in &plan.verified.signed_targets {
        if docker.contains_key(t.name.as_str()) || !plan.tags.is_none_or(|p| glob(p, &t.name)) {
            continue;
        }
        lines.entry(t.name.as_str()).or_insert_with(|| {
            let mut line = report_line(t);
            line.outcome = Outcome::NotResolvedByDocker;
            line.detail = Some(format!(
                "signed only by {}, which docker pull does not use",
                t.role.as_str()
            ));
            line
        });
    }
    lines.into_values().collect()
}

/// Runs the three passes; one report line per tag, in tag order, and where the time went.
pub async fn migrate(plan: &Plan<'_>) -> (Vec<TagReport>, Timings) {
    let mut timings = Timings::default();
    let started = std::time::Instant::now();
    let docker = plan.verified.docker_targets();
    let tags: Vec<SignedTarget> = docker
        .values()
        .filter(|t| plan.tags.is_none_or(|p| glob(p, &t.name)))
        .map(|t| (*t).clone())
        .collect();
    let mut reports: Vec<TagReport> = tags.iter().map(report_line).collect();
    let unresolved = not_resolved(plan, &docker);

    plan.progress.start(Pass::Check, tags.len());
    let checks: Vec<(usize, Result<Check, Error>)> = stream::iter(tags.iter().enumerate())
        .map(|(i, t)| async move {
            let check = check(plan, t).await;
            plan.progress.done(&t.name);
            (i, check)
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect()
        .await;
    let mut candidates = Vec::new();
    for (i, check) in checks {
        match check {
            Ok(Check::Ready(subject)) => candidates.push(Candidate {
                index: i,
                target: tags[i].clone(),
                subject,
            }),
            Ok(Check::Done(outcome, registry_digest)) => {
                reports[i].outcome = outcome;
                reports[i].registry_digest = registry_digest;
            }
            Err(e) => fail(&mut reports[i], &e),
        }
    }
    candidates.sort_by_key(|c| c.index);
    timings.check_ms = millis(started);
    if plan.dry_run {
        for c in &candidates {
            reports[c.index].outcome = Outcome::WouldSign;
        }
        return (in_tag_order(reports, unresolved), timings);
    }

    let started = std::time::Instant::now();
    plan.progress.start(Pass::Sign, candidates.len());
    let signed = sign_all(plan, &candidates).await;
    let mut to_attest = Vec::new();
    for (c, result) in candidates.iter().zip(signed) {
        match result {
            Ok(signature) => {
                reports[c.index].signature = Some(signature);
                to_attest.push(c);
            }
            Err(e) => fail(&mut reports[c.index], &e),
        }
    }
    timings.sign_ms = millis(started);
    let started = std::time::Instant::now();
    plan.progress.start(Pass::Evidence, to_attest.len());
    let evidence = push_evidence(plan, &to_attest).await;
    for (i, result) in evidence {
        match result {
            Ok(digest) => {
                reports[i].evidence = Some(digest);
                reports[i].outcome = Outcome::Signed;
            }
            Err(e) => fail(&mut reports[i], &e),
        }
    }
    timings.evidence_ms = millis(started);
    (in_tag_order(reports, unresolved), timings)
}

fn in_tag_order(mut reports: Vec<TagReport>, more: Vec<TagReport>) -> Vec<TagReport> {
    reports.extend(more);
    reports.sort_by(|a, b| a.tag.cmp(&b.tag));
    reports
}

fn report_line(t: &SignedTarget) -> TagReport {
    TagReport {
        tag: t.name.clone(),
        digest: t.digest().unwrap_or_default(),
        size: t.meta.length,
        role: t.role.as_str().to_owned(),
        outcome: Outcome::Failed,
        registry_digest: None,
        signature: None,
        evidence: None,
        detail: None,
    }
}

fn fail(report: &mut TagReport, e: &dyn std::fmt::Display) {
    report.outcome = Outcome::Failed;
    report.detail = Some(e.to_string());
}

enum Check {
    Ready(Descriptor),
    Done(Outcome, Option<String>),
}

/// Pass 1 for one tag.
async fn check(plan: &Plan<'_>, t: &SignedTarget) -> Result<Check, Error> {
    let Some(signed_digest) = t.digest() else {
        return Err(Error::Encoding(format!(
            "v1 recorded no sha256 hash for tag {:?}",
            t.name
        )));
    };
    let tag: Tag = t
        .name
        .parse()
        .map_err(|_| Error::Encoding(format!("{:?} is not a valid OCI tag", t.name)))?;
    let subject = match plan.target.resolve(&Reference::Tag(tag)).await {
        Ok(d) => d,
        Err(hallmark_client::Error::ManifestUnknown { .. }) => {
            return Ok(Check::Done(Outcome::Missing, None));
        }
        Err(e) => return Err(e.into()),
    };
    if subject.digest.as_str() != signed_digest {
        return Ok(Check::Done(
            Outcome::DigestMismatch,
            Some(subject.digest.to_string()),
        ));
    }
    if subject.size != t.meta.length {
        return Ok(Check::Done(
            Outcome::SizeMismatch,
            Some(format!("{} ({} bytes)", subject.digest, subject.size)),
        ));
    }
    // Migrated means both halves are there: the evidence, and a signature that verifies with
    // our key. Evidence anyone could push alone never stands for a migrated tag: the tag is
    // signed, and its own evidence attached, anyway.
    let (referrers, _) = plan
        .target
        .referrers(&subject.digest, Some(evidence::ARTIFACT_TYPE))
        .await?;
    let evidence = referrers
        .iter()
        .any(|r| evidence::is_evidence_of(r, plan.gun, &t.name, plan.format.name()));
    if evidence && signed(plan, &subject).await?.is_some() {
        return Ok(Check::Done(Outcome::AlreadyMigrated, None));
    }
    Ok(Check::Ready(subject))
}

/// The signature of `subject` by our key already stored, if any.
async fn signed(plan: &Plan<'_>, subject: &Descriptor) -> Result<Option<String>, Error> {
    match plan.format {
        Format::Notation { chain, .. } => Ok(find::signed_by(plan.target, subject, chain)
            .await?
            .map(|d| d.to_string())),
        Format::Cosign { key, public } => {
            let append = cosign_append(plan, key, public, subject)?;
            let tag = append.tag().to_string();
            Ok(has_signature(&append).await?.then_some(tag))
        }
    }
}

fn cosign_append(
    plan: &Plan<'_>,
    key: &SigningKey,
    public: &PublicKey,
    subject: &Descriptor,
) -> Result<Append, Error> {
    Ok(signature_append(
        plan.target,
        plan.repository,
        &subject.digest,
        &BTreeMap::new(),
        key,
        public,
    )?)
}

/// Pass 2: the signature of every candidate, in order. Each distinct image is signed once
/// (tags sharing a digest share one signature, and its failure).
async fn sign_all(plan: &Plan<'_>, candidates: &[Candidate]) -> Vec<Result<String, Arc<Error>>> {
    let mut subjects: Vec<(&Descriptor, Vec<&str>)> = Vec::new();
    let mut by_digest: BTreeMap<&str, usize> = BTreeMap::new();
    let mut subject_of = Vec::with_capacity(candidates.len());
    for c in candidates {
        let i = *by_digest
            .entry(c.subject.digest.as_str())
            .or_insert_with(|| {
                subjects.push((&c.subject, Vec::new()));
                subjects.len() - 1
            });
        if let Some((_, tags)) = subjects.get_mut(i) {
            tags.push(c.target.name.as_str());
        }
        subject_of.push(i);
    }
    let done = |tags: &[&str]| tags.iter().for_each(|t| plan.progress.done(t));
    let signed: Vec<Result<String, Error>> = match plan.format {
        Format::Notation { key, chain } => {
            stream::iter(&subjects)
                .map(|(subject, tags)| async move {
                    let signed = notation_sign(plan, key, chain, subject).await;
                    done(tags);
                    signed
                })
                .buffered(plan.concurrency.max(1))
                .collect()
                .await
        }
        Format::Cosign { key, public } => {
            let images: Vec<&Descriptor> = subjects.iter().map(|(s, _)| *s).collect();
            let signed = cosign_sign(plan, key, public, &images).await;
            subjects.iter().for_each(|(_, tags)| done(tags));
            signed
        }
    };
    let signed: Vec<Result<String, Arc<Error>>> =
        signed.into_iter().map(|r| r.map_err(Arc::new)).collect();
    subject_of
        .into_iter()
        .map(|i| {
            signed.get(i).cloned().unwrap_or_else(|| {
                Err(Arc::new(Error::Encoding(
                    "no result for a signature".to_owned(),
                )))
            })
        })
        .collect()
}

async fn notation_sign(
    plan: &Plan<'_>,
    key: &SigningKey,
    chain: &[Certificate],
    subject: &Descriptor,
) -> Result<String, Error> {
    // An earlier, interrupted run may have signed already: one signature by our key is enough.
    if let Some(found) = find::signed_by(plan.target, subject, chain).await? {
        return Ok(found.to_string());
    }
    let metadata = BTreeMap::new();
    let signer = Signer {
        key,
        chain,
        format: EnvelopeFormat::Jws,
        expiry: None,
        user_metadata: &metadata,
        tsa: None,
    };
    let envelope = signer.envelope(&signer.payload(subject), plan.now)?;
    let pushed = store(
        plan.target,
        subject,
        signer.format,
        envelope,
        chain,
        plan.now,
    )
    .await?;
    Ok(pushed.digest.to_string())
}

async fn cosign_sign(
    plan: &Plan<'_>,
    key: &SigningKey,
    public: &PublicKey,
    images: &[&Descriptor],
) -> Vec<Result<String, Error>> {
    let mut appends = Vec::with_capacity(images.len());
    let mut prepared = Vec::with_capacity(images.len());
    for subject in images {
        match cosign_append(plan, key, public, subject) {
            Ok(append) => {
                appends.push(append);
                prepared.push(Ok(appends.len() - 1));
            }
            Err(e) => prepared.push(Err(e)),
        }
    }
    let mut results = append_all(&appends, plan.concurrency).await.into_iter();
    prepared
        .into_iter()
        .map(|p| {
            let i = p?;
            let tag = appends[i].tag().to_string();
            match results.next() {
                Some(Ok(Appended::Added | Appended::AlreadyPresent)) => Ok(tag),
                Some(Err(e)) => Err(e.into()),
                None => Err(Error::Encoding("no result for a signature".to_owned())),
            }
        })
        .collect()
}

/// Pass 3: the evidence of each tag. The metadata files are shared by every tag, so each
/// distinct blob is pushed once, before the manifests; returns each tag's manifest digest.
async fn push_evidence(
    plan: &Plan<'_>,
    tags: &[&Candidate],
) -> Vec<(usize, Result<String, Error>)> {
    let mut built = Vec::with_capacity(tags.len());
    let mut blobs = BTreeMap::new();
    for c in tags {
        let evidence = evidence::build(
            plan.verified,
            plan.gun,
            &c.target,
            &c.subject,
            plan.format.name(),
            plan.root_trust,
            plan.now,
        );
        if let Ok(e) = &evidence {
            for (descriptor, bytes) in &e.blobs {
                blobs.insert(
                    descriptor.digest.clone(),
                    (descriptor.clone(), bytes.clone()),
                );
            }
        }
        built.push((c.index, evidence));
    }
    let pushed: Vec<Result<(), Error>> = stream::iter(blobs.values())
        .map(|(descriptor, bytes)| async move {
            plan.target
                .push_blob(descriptor, bytes, &NoProgress)
                .await
                .map(drop)
                .map_err(Error::from)
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect()
        .await;
    if let Some(Err(e)) = pushed.into_iter().find(Result::is_err) {
        let why = e.to_string();
        return built
            .into_iter()
            .map(|(i, _)| (i, Err(Error::EvidenceBlobs(why.clone()))))
            .collect();
    }
    stream::iter(built.into_iter().zip(tags))
        .map(|((i, evidence), c)| async move {
            let result = match evidence {
                Ok(e) => push_evidence_manifest(plan, e.manifest).await,
                Err(e) => Err(e),
            };
            plan.progress.done(&c.target.name);
            (i, result)
        })
        .buffer_unordered(plan.concurrency.max(1))
        .collect()
        .await
}

async fn push_evidence_manifest(plan: &Plan<'_>, manifest: bytes::Bytes) -> Result<String, Error> {
    let digest = hallmark_oci::Algorithm::Sha256.digest(&manifest);
    plan.target
        .push_manifest(
            &Reference::Digest(digest.clone()),
            hallmark_oci::media_type::OCI_MANIFEST,
            manifest,
            true,
        )
        .await?;
    Ok(digest.to_string())
}

/// `*` any run of characters, `?` one character, everything else itself. Iterative, with
/// one backtrack point (the last `*`): at most pattern × text steps, never exponential.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    // After the last `*` seen: where the pattern resumes, and where in the text it matched.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = t.get(ti) {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi + 1, ti));
                pi += 1;
            }
            Some(&q) if q == '?' || q == c => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                // The `*` takes one more character; the rest of the pattern tries again.
                Some((resume, from)) => {
                    star = Some((resume, from + 1));
                    pi = resume;
                    ti = from + 1;
                }
                None => return false,
            },
        }
    }
    p.get(pi..)
        .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs() {
        assert!(glob("v1.*", "v1.2"));
        assert!(glob("*", "latest"));
        assert!(glob("v?", "v3"));
        assert!(!glob("v?", "v10"));
        assert!(!glob("v1.*", "v2.0"));
        assert!(glob("*-rc*", "1.0-rc2"));
        assert!(glob("", ""));
        assert!(!glob("", "a"));
        assert!(glob("**", ""));
        assert!(glob("a*b?c", "aXXbYc"));
        assert!(!glob("a*b?c", "aXXbc"));
        assert!(glob("*?", "x"));
        assert!(!glob("?*", ""));
        assert!(glob("v*.*", "v1.2.3"));
        assert!(glob("ä?", "äö"));
    }

    #[test]
    fn pathological_globs_stay_fast() {
        // A backtracking matcher takes exponential time on these.
        let text = "a".repeat(4000);
        let pattern = format!("{}b", "*a".repeat(40));
        let started = std::time::Instant::now();
        assert!(!glob(&pattern, &text));
        assert!(glob(&format!("{}*", "*a".repeat(40)), &text));
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }
}
