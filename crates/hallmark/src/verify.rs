//! `hallmark verify`: finds the signatures of a manifest and verifies them under the trust
//! policy statement whose scope is the artifact's repository, as `notation verify` does. The
//! first signature that passes wins; the exit code is 0 only then.

use std::path::PathBuf;

use hallmark_oci::{Descriptor, Reference};
use hallmark_revocation::CachingFetcher;
use hallmark_signature::crl::HttpCrlFetcher;
use hallmark_signature::find::{FoundSignature, load, signature_descriptors};
use hallmark_trust::{Level, StoreType, TrustPolicy, TrustedIdentity};
use hallmark_tuf::Gun;
use hallmark_v1::artifact::{V1Verified, verify_artifact};
use hallmark_v1::source::Source;
use hallmark_verifier::{CheckResult, CrlChecker, Outcome, Request, Subject, Verifier};
use serde_json::{Value, json};
use time::OffsetDateTime;
use tracing::Instrument;

use crate::UsageError;
use crate::notary::{self, ConfigArgs};
use crate::sign::strip_reference;
use crate::target::{ClientArgs, Output, RefArg, print_json, small_runtime};

/// Flags of `verify`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The artifact: `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    /// Metadata the signature must carry, KEY=VALUE; repeatable.
    #[arg(short = 'm', long = "user-metadata", value_name = "KEY=VALUE")]
    user_metadata: Vec<String>,
    /// Signatures to try at most.
    #[arg(long, default_value_t = 100)]
    max_signatures: usize,
    /// The reference names an OCI image layout directory (needs --scope).
    #[arg(long, requires = "scope")]
    oci_layout: bool,
    /// The trust policy scope to verify a layout under, e.g. `registry.example/app`.
    #[arg(long)]
    scope: Option<String>,
    /// Where the repository's Notary v1 trust data lives, for statements with `notaryV1`
    /// stores (default: the registry itself, as `hallmark serve` answers both APIs).
    #[arg(long, value_name = "URL")]
    notary_v1_server: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    config: ConfigArgs,
    #[command(flatten)]
    client: ClientArgs,
}

/// Where downloaded CRLs are kept between runs.
pub fn crl_cache_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_CACHE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".cache")))
        .unwrap_or_else(std::env::temp_dir)
        .join("hallmark/crl")
}

/// Runs `verify`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let reference = RefArg::parse(&args.reference, args.oci_layout)?;
    let wanted = reference.require_reference("verify")?;
    let user_metadata = notary::metadata(&args.user_metadata)?;
    let scope = match (&reference, &args.scope) {
        (RefArg::Layout(..), Some(s)) => s.clone(),
        (RefArg::Layout(..), None) => {
            return Err(UsageError("--oci-layout needs --scope".into()).into());
        }
        (RefArg::Remote(_), _) => strip_reference(&reference),
    };
    let dir = args.config.dir()?;
    let document = notary::oci_policy(&dir)?;
    let policy = document.select(&scope)?;
    if policy.level == Level::Skip {
        println!(
            "Trust policy {:?} is configured to skip signature verification for {reference}",
            policy.name
        );
        return Ok(());
    }

    let registries: Vec<&str> = reference.registry().into_iter().collect();
    let client = args.client.client(&registries)?;
    let target = reference.target(&client, false)?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("verify", reference = %reference, policy = %policy.name);
    let (subject, descriptors) = rt.block_on(
        async {
            let subject = target.resolve(&wanted).await?;
            let found =
                signature_descriptors(&target, &subject.digest, args.max_signatures).await?;
            anyhow::Ok((subject, found))
        }
        .instrument(span.clone()),
    )?;
    if let Reference::Tag(tag) = &wanted {
        eprintln!(
            "Warning: Always verify the artifact using digest(@{}) rather than a tag(:{tag}) \
             because resolved digest may not point to the same signed artifact, as tags are \
             mutable.",
            subject.digest
        );
    }
    let resolved = format!("{}@{}", strip_reference(&reference), subject.digest);
    let v1_stores = policy.stores_of_type(StoreType::NotaryV1).count() > 0;
    if descriptors.is_empty() && !v1_stores {
        anyhow::bail!(
            "no signature is associated with \"{resolved}\", make sure the artifact was signed \
             successfully"
        );
    }

    let store = dir.trust_store();
    let fetcher = CachingFetcher::new(HttpCrlFetcher::new(), crl_cache_dir());
    let checker = CrlChecker(&fetcher);
    let verifier = Verifier::new(policy, &store, &checker);
    let target_subject = Subject::Manifest(subject.clone());
    let now = OffsetDateTime::now_utc();
    let mut results = Vec::new();
    // Signatures are fetched one at a time and verified in the registry's order; the first
    // that passes ends the search, so a long list costs only what it takes to find it.
    // Verification itself may download CRLs with a blocking client, so it runs outside the
    // async runtime.
    for descriptor in &descriptors {
        let sig = rt.block_on(load(&target, descriptor).instrument(span.clone()))?;
        let outcome =
            span.in_scope(|| verify_one(&verifier, &sig, &target_subject, &user_metadata, now));
        let passed = outcome.as_ref().is_ok_and(Outcome::passed);
        results.push((sig, outcome));
        if passed {
            break;
        }
    }
    let notation_passed = results
        .last()
        .is_some_and(|(_, o)| o.as_ref().is_ok_and(Outcome::passed));
    if v1_stores && !notation_passed {
        let RefArg::Remote(image) = &reference else {
            return Err(UsageError(
                "notaryV1 trust stores apply to registries, not to image layouts".into(),
            )
            .into());
        };
        let tag = match &wanted {
            Reference::Tag(t) => Some(t.as_str()),
            Reference::Digest(_) => None,
        };
        let check = V1Check {
            args: &args,
            image,
            client: &client,
            store: &dir.trust_store(),
            policy,
            user_metadata: &user_metadata,
        };
        match rt.block_on(check.run(&subject, tag).instrument(span.clone())) {
            Ok(v) => return report_v1(args.output, &resolved, policy, &v),
            Err(e) if descriptors.is_empty() => return Err(e),
            Err(e) => eprintln!("Notary v1: {e:#}"),
        }
    }
    let _entered = span.enter();
    report(args.output, &resolved, &subject, policy, &results)
}

/// The Notary v1 half of verification: the statement's `notaryV1` stores name the trusted v1
/// root certificates.
struct V1Check<'a> {
    args: &'a Args,
    image: &'a hallmark_oci::ImageRef,
    client: &'a hallmark_client::Client,
    store: &'a hallmark_trust::TrustStore,
    policy: &'a TrustPolicy,
    user_metadata: &'a std::collections::BTreeMap<String, String>,
}

impl V1Check<'_> {
    /// Fails closed on what v1 data cannot prove: it has no user metadata and no signing
    /// certificates for trusted identities to name. Every v1 check is enforced whatever the
    /// statement's level.
    async fn run(&self, subject: &Descriptor, tag: Option<&str>) -> anyhow::Result<V1Verified> {
        if let Some(key) = self.user_metadata.keys().next() {
            anyhow::bail!(
                "-m {key}=... cannot be checked: Notary v1 trust data carries no user metadata; \
                 only a Notary Project signature can pass with -m"
            );
        }
        if self
            .policy
            .trusted_identities
            .iter()
            .any(|i| *i != TrustedIdentity::Any)
        {
            anyhow::bail!(
                "trust policy {:?} names trusted identities, which are subjects of Notary \
                 Project signing certificates; Notary v1 data has none, so its notaryV1 stores \
                 are used only by a statement whose trustedIdentities is [\"*\"]",
                self.policy.name
            );
        }
        let roots = self
            .store
            .policy_certificates(self.policy, StoreType::NotaryV1)?;
        let gun: Gun =
            self.image.name().parse().map_err(|e| {
                anyhow::anyhow!("{} is not a Notary v1 GUN: {e}", self.image.name())
            })?;
        let source = match &self.args.notary_v1_server {
            Some(url) => {
                let (host, plain) = crate::v1::server(url)?;
                let mut client_args = self.args.client.clone();
                client_args.plain_http |= plain;
                Source::Server {
                    client: client_args.client(&[host.as_str()])?,
                    host,
                }
            }
            None => Source::Server {
                client: self.client.clone(),
                host: self.image.registry.clone(),
            },
        };
        let state = crate::v1::default_state_dir();
        let now = OffsetDateTime::now_utc();
        Ok(verify_artifact(&source, &gun, &roots, Some(&state), subject, tag, now).await?)
    }
}

fn report_v1(
    output: Output,
    resolved: &str,
    policy: &TrustPolicy,
    v: &V1Verified,
) -> anyhow::Result<()> {
    if output == Output::Json {
        return print_json(&json!({
            "reference": resolved,
            "verified": true,
            "policy": {"name": policy.name, "level": policy.level.as_str()},
            "notaryV1": {
                "tag": v.tag,
                "role": v.role,
                "rootVersion": v.root_version,
                "rootCertificate": v.root_subject,
            },
        }));
    }
    println!("Successfully verified {resolved} by Notary v1 trust data");
    println!(
        "  tag {:?} signed by role {} under root version {} ({})",
        v.tag, v.role, v.root_version, v.root_subject
    );
    println!(
        "  trust policy: {:?} (level {})",
        policy.name,
        policy.level.as_str()
    );
    Ok(())
}

/// Verifies one found signature; `Err` when its envelope could not be fetched.
fn verify_one(
    verifier: &Verifier<'_>,
    sig: &FoundSignature,
    subject: &Subject,
    user_metadata: &std::collections::BTreeMap<String, String>,
    now: OffsetDateTime,
) -> Result<Outcome, String> {
    let signature = sig
        .signature
        .as_ref()
        .map_err(|e| format!("integrity: {e}"))?;
    let envelope = sig.envelope.as_ref().map_err(Clone::clone)?;
    Ok(verifier.verify(&Request {
        format: signature.format,
        envelope,
        subject,
        user_metadata,
        now,
    }))
}

/// The envelope media type of a signature, or `-` when its manifest is unusable.
pub fn media_type(sig: &FoundSignature) -> &'static str {
    sig.signature
        .as_ref()
        .map_or("-", |s| s.format.media_type())
}

/// One check as JSON.
fn checks_json(outcome: &Outcome) -> Vec<Value> {
    outcome
        .checks
        .iter()
        .map(|c| {
            let (result, message) = match &c.result {
                CheckResult::Passed => ("passed", None),
                CheckResult::Skipped => ("skipped", None),
                CheckResult::Logged(f) => ("failed (logged)", Some(f.to_string())),
                CheckResult::Failed => (
                    "failed",
                    outcome.verdict.as_ref().err().map(ToString::to_string),
                ),
            };
            json!({
                "check": c.check.as_str(),
                "about": c.about,
                "action": c.action.as_str(),
                "result": result,
                "message": message,
            })
        })
        .collect()
}

fn report(
    output: Output,
    resolved: &str,
    subject: &Descriptor,
    policy: &TrustPolicy,
    results: &[(FoundSignature, Result<Outcome, String>)],
) -> anyhow::Result<()> {
    let passed = results
        .iter()
        .find(|(_, o)| o.as_ref().is_ok_and(Outcome::passed));
    if output == Output::Json {
        let signatures: Vec<Value> = results
            .iter()
            .map(|(sig, outcome)| match outcome {
                Ok(o) => json!({
                    "digest": sig.manifest.digest,
                    "envelopeMediaType": media_type(sig),
                    "verified": o.passed(),
                    "error": o.verdict.as_ref().err().map(ToString::to_string),
                    "checks": checks_json(o),
                }),
                Err(e) => json!({
                    "digest": sig.manifest.digest,
                    "verified": false,
                    "error": e,
                }),
            })
            .collect();
        print_json(&json!({
            "reference": resolved,
            "mediaType": subject.media_type,
            "digest": subject.digest,
            "size": subject.size,
            "policy": {"name": policy.name, "level": policy.level.as_str()},
            "verified": passed.is_some(),
            "signatures": signatures,
        }))?;
    } else if let Some((sig, Ok(outcome))) = passed {
        println!("Successfully verified signature for {resolved}");
        println!(
            "  trust policy: {:?} (level {})",
            policy.name,
            policy.level.as_str()
        );
        println!("  signature: {} ({})", sig.manifest.digest, media_type(sig));
        for c in &outcome.checks {
            let result = match &c.result {
                CheckResult::Passed => "passed".to_owned(),
                CheckResult::Skipped => "skipped".to_owned(),
                CheckResult::Logged(f) => format!("FAILED, only logged: {f}"),
                CheckResult::Failed => "failed".to_owned(),
            };
            println!("  {:<34} {:<8} {result}", c.about, c.action.as_str());
        }
        if let Some(annotations) = outcome
            .payload
            .as_ref()
            .and_then(|p| p.target_artifact.annotations.as_ref())
        {
            println!("  signed user metadata:");
            for (k, v) in annotations {
                println!("    {k}={v}");
            }
        }
    }
    if passed.is_some() {
        return Ok(());
    }
    let mut message = format!(
        "signature verification failed for all the signatures associated with {resolved} \
         (trust policy {:?}, level {})",
        policy.name,
        policy.level.as_str()
    );
    for (sig, outcome) in results {
        let why = match outcome {
            Ok(o) => o
                .verdict
                .as_ref()
                .err()
                .map(ToString::to_string)
                .unwrap_or_default(),
            Err(e) => e.clone(),
        };
        message.push_str(&format!("\n  {}: {why}", sig.manifest.digest));
    }
    Err(anyhow::anyhow!(message))
}
