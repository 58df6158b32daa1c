//! `hallmark cosign verify` and `verify-attestation`: offline verification with a public key.
//!
//! For each image (resolved to its digest once), every candidate is checked and reported:
//! the layers of its `.sig` (or `.att`) tag, and the sigstore bundles among its referrers
//! (through the referrers tag schema where the registry lacks the API). An image passes when
//! at least one candidate passes every check of `hallmark_cosign::verify`; the output is the
//! verified payloads, as cosign prints them, and each failure's reason goes to stderr.
//!
//! Certificates, Rekor bundles and timestamps found beside a signature are reported as not
//! verified. Asking for them to be verified (`--certificate-identity`, `--rekor-url`, ...)
//! fails as unsupported before anything is fetched.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use futures_util::StreamExt as _;
use hallmark_client::{Client, Target};
use hallmark_cosign::CosignError;
use hallmark_cosign::attachment::Attachment;
use hallmark_cosign::bundle;
use hallmark_cosign::in_toto::PredicateKind;
use hallmark_cosign::key_file;
use hallmark_cosign::verify::{self, Claims, Unverified};
use hallmark_oci::{Descriptor, ImageRef, Manifest, Reference};
use hallmark_signature::cosign::{attached_layers, layer_content};
use hallmark_x509::PublicKey;
use serde_json::{Value, json};
use tracing::Instrument;

use super::{annotations, attachment_target, image_refs, registries, repository_name};
use crate::UsageError;
use crate::target::{ClientArgs, Output, small_runtime};

/// Images verified at once.
const CONCURRENCY: usize = 16;

/// Flags both verification commands share.
#[derive(Debug, clap::Args)]
pub struct VerificationFlags {
    /// The public key: a PEM `PUBLIC KEY` file such as `cosign.pub`.
    #[arg(long)]
    key: PathBuf,
    /// Accepted for cosign compatibility: Hallmark never checks a transparency log, and says
    /// so for every signature that carries a log entry.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL",
        num_args = 0..=1, default_missing_value = "true")]
    insecure_ignore_tlog: bool,
    /// Accepted for cosign compatibility: sigstore bundle referrers are always checked beside
    /// the `.sig` (or `.att`) layers.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL",
        num_args = 0..=1, default_missing_value = "true")]
    new_bundle_format: bool,
    /// Verify transparency log entries against this Rekor (unsupported: Hallmark is offline).
    #[arg(long, value_name = "URL")]
    rekor_url: Option<String>,
    /// Keyless: the certificate identity to require (unsupported).
    #[arg(long, value_name = "IDENTITY")]
    certificate_identity: Option<String>,
    /// Keyless: the OIDC issuer to require (unsupported).
    #[arg(long, value_name = "ISSUER")]
    certificate_oidc_issuer: Option<String>,
    /// Keyless: a pattern the certificate identity must match (unsupported).
    #[arg(long, value_name = "REGEXP")]
    certificate_identity_regexp: Option<String>,
    /// Keyless: a pattern the OIDC issuer must match (unsupported).
    #[arg(long, value_name = "REGEXP")]
    certificate_oidc_issuer_regexp: Option<String>,
    /// A signing certificate to verify with (unsupported: Hallmark verifies with --key).
    #[arg(long, value_name = "FILE")]
    certificate: Option<PathBuf>,
    /// The chain of --certificate (unsupported).
    #[arg(long, value_name = "FILE")]
    certificate_chain: Option<PathBuf>,
    /// A sigstore trusted root (Fulcio, Rekor, TSA keys) to verify against (unsupported).
    #[arg(long, value_name = "FILE")]
    trusted_root: Option<PathBuf>,
    /// `json` (cosign's output: the verified payloads) or `text`.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Json)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `cosign verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The images: `registry/repo:tag` or `registry/repo@sha256:...`.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Annotations the signature must carry, KEY=VALUE; repeatable.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    /// Require the signed `docker-reference` to name the image's repository.
    #[arg(long)]
    check_reference: bool,
    #[command(flatten)]
    flags: VerificationFlags,
}

/// Flags of `cosign verify-attestation`.
#[derive(Debug, clap::Args)]
pub struct VerifyAttestationArgs {
    /// The images: `registry/repo:tag` or `registry/repo@sha256:...`.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// The predicate type to verify (cosign's names or a URI); others are skipped.
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    #[command(flatten)]
    flags: VerificationFlags,
}

impl VerificationFlags {
    fn check(&self) -> anyhow::Result<()> {
        let asked = [
            (
                self.rekor_url.is_some(),
                "--rekor-url (transparency log verification)",
            ),
            (
                self.certificate_identity.is_some()
                    || self.certificate_oidc_issuer.is_some()
                    || self.certificate_identity_regexp.is_some()
                    || self.certificate_oidc_issuer_regexp.is_some(),
                "--certificate-identity[-regexp]/--certificate-oidc-issuer[-regexp] \
                 (keyless verification)",
            ),
            (
                self.certificate.is_some() || self.certificate_chain.is_some(),
                "--certificate/--certificate-chain (certificate verification)",
            ),
            (
                self.trusted_root.is_some(),
                "--trusted-root (Fulcio, Rekor and TSA verification)",
            ),
        ];
        if let Some((_, what)) = asked.iter().find(|(set, _)| *set) {
            return Err(UsageError(format!(
                "unsupported: {what}; Hallmark verifies cosign signatures offline with --key only"
            ))
            .into());
        }
        Ok(())
    }

    fn public_key(&self) -> anyhow::Result<PublicKey> {
        let pem = std::fs::read(&self.key)
            .with_context(|| format!("cannot read --key {}", self.key.display()))?;
        key_file::load_public_key(&pem)
            .with_context(|| format!("--key {} is not a usable public key", self.key.display()))
    }
}

/// What to look for.
#[derive(Clone, Copy)]
enum Wanted<'a> {
    Signatures {
        annotations: &'a BTreeMap<String, String>,
        check_reference: bool,
    },
    Attestations {
        predicate_type: &'a str,
    },
}

/// One candidate that passed.
struct Passed {
    source: String,
    output: Value,
    unverified: Unverified,
}

/// What one image's verification found.
struct ImageResult {
    image: ImageRef,
    digest: String,
    passed: Vec<Passed>,
    failed: Vec<(String, String)>,
    skipped: usize,
}

/// Runs `cosign verify`.
pub fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    args.flags.check()?;
    let annotations = annotations(&args.annotations)?;
    let wanted = Wanted::Signatures {
        annotations: &annotations,
        check_reference: args.check_reference,
    };
    run(&args.images, &args.flags, wanted, "cosign_verify")
}

/// Runs `cosign verify-attestation`.
pub fn verify_attestation(args: VerifyAttestationArgs) -> anyhow::Result<()> {
    args.flags.check()?;
    let kind = PredicateKind::parse(&args.predicate_type).map_err(|e| UsageError(e.to_string()))?;
    let wanted = Wanted::Attestations {
        predicate_type: kind.uri(),
    };
    run(
        &args.images,
        &args.flags,
        wanted,
        "cosign_verify_attestation",
    )
}

fn run(
    images: &[String],
    flags: &VerificationFlags,
    wanted: Wanted<'_>,
    command: &'static str,
) -> anyhow::Result<()> {
    let images = image_refs(images)?;
    let key = flags.public_key()?;
    let names = registries(&images);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let client = flags.client.client(&names)?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("cosign", command, images = images.len());
    let results: Vec<anyhow::Result<ImageResult>> = rt.block_on(
        futures_util::stream::iter(&images)
            .map(|image| verify_image(&client, image, &key, wanted))
            .buffered(CONCURRENCY)
            .collect()
            .instrument(span),
    );

    let mut failures = 0;
    for (image, result) in images.iter().zip(results) {
        match result {
            Ok(r) if !r.passed.is_empty() => print_passed(&r, wanted, flags.output)?,
            Ok(r) => {
                failures += 1;
                print_failed(&r, wanted);
            }
            Err(e) => {
                failures += 1;
                eprintln!("error: {image}: {e:#}");
            }
        }
    }
    if failures > 0 {
        anyhow::bail!(
            "{failures} of {} images have no {} that verifies with {}",
            images.len(),
            noun(wanted),
            flags.key.display()
        );
    }
    Ok(())
}

fn noun(wanted: Wanted<'_>) -> &'static str {
    match wanted {
        Wanted::Signatures { .. } => "signature",
        Wanted::Attestations { .. } => "attestation",
    }
}

async fn verify_image(
    client: &Client,
    image: &ImageRef,
    key: &PublicKey,
    wanted: Wanted<'_>,
) -> anyhow::Result<ImageResult> {
    let descriptor = super::resolve(client, image, false).await?;
    let target = attachment_target(client, image)?;
    let repository = repository_name(image);
    let empty = BTreeMap::new();
    let claims = Claims {
        digest: &descriptor.digest,
        annotations: match wanted {
            Wanted::Signatures { annotations, .. } => annotations,
            Wanted::Attestations { .. } => &empty,
        },
        repository: match wanted {
            Wanted::Signatures {
                check_reference: true,
                ..
            } => Some(&repository),
            _ => None,
        },
    };
    let mut result = ImageResult {
        image: image.clone(),
        digest: descriptor.digest.to_string(),
        passed: Vec::new(),
        failed: Vec::new(),
        skipped: 0,
    };
    check_attachment(&target, &descriptor, key, &claims, wanted, &mut result).await?;
    check_bundles(&target, &descriptor, key, &claims, wanted, &mut result).await?;
    Ok(result)
}

/// Every layer of the `.sig` or `.att` tag.
async fn check_attachment(
    target: &Target,
    image: &Descriptor,
    key: &PublicKey,
    claims: &Claims<'_>,
    wanted: Wanted<'_>,
    result: &mut ImageResult,
) -> anyhow::Result<()> {
    let kind = match wanted {
        Wanted::Signatures { .. } => Attachment::Signatures,
        Wanted::Attestations { .. } => Attachment::Attestations,
    };
    let tag = kind.tag(&image.digest)?;
    for layer in attached_layers(target, &image.digest, kind).await? {
        let source = format!("{}:{tag} layer {}", target.describe(), layer.digest);
        let content = match layer_content(target, &layer).await {
            Ok(c) => c,
            Err(e) => {
                result.failed.push((source, e.to_string()));
                continue;
            }
        };
        let outcome = match wanted {
            Wanted::Signatures { .. } => verify::simple_signature(&layer, &content, key, claims)
                .map(|v| (json_or_text(&v.payload_bytes), v.unverified)),
            Wanted::Attestations { predicate_type } => {
                verify::attestation(&layer, &content, key, claims, Some(predicate_type))
                    .map(|v| (json_or_text(&content), v.unverified))
            }
        };
        record(result, source, outcome);
    }
    Ok(())
}

/// Every sigstore bundle among the referrers.
async fn check_bundles(
    target: &Target,
    image: &Descriptor,
    key: &PublicKey,
    claims: &Claims<'_>,
    wanted: Wanted<'_>,
    result: &mut ImageResult,
) -> anyhow::Result<()> {
    let predicate_type = match wanted {
        Wanted::Signatures { .. } => bundle::SIGN_PREDICATE,
        Wanted::Attestations { predicate_type } => predicate_type,
    };
    let (referrers, _) = target
        .referrers(&image.digest, Some(bundle::MEDIA_TYPE_V03))
        .await?;
    for referrer in referrers {
        let source = format!("{} bundle {}", target.describe(), referrer.digest);
        let outcome = match bundle_layer(target, &referrer).await {
            Ok(bytes) => verify::bundle(&bytes, key, claims, Some(predicate_type))
                .map(|v| (json_or_text(&v.statement_bytes), v.unverified)),
            Err(e) => {
                result.failed.push((source, format!("{e:#}")));
                continue;
            }
        };
        record(result, source, outcome);
    }
    Ok(())
}

/// The bundle a referrer manifest holds in its one layer.
async fn bundle_layer(target: &Target, referrer: &Descriptor) -> anyhow::Result<bytes::Bytes> {
    let (descriptor, bytes) = target
        .fetch_manifest(&Reference::Digest(referrer.digest.clone()))
        .await?;
    let manifest = Manifest::parse(&bytes, Some(&descriptor.media_type))?;
    let layer = manifest
        .layers
        .iter()
        .find(|l| l.media_type == bundle::MEDIA_TYPE_V03)
        .context("the bundle manifest has no layer of the bundle media type")?;
    Ok(layer_content(target, layer).await?)
}

fn record(
    result: &mut ImageResult,
    source: String,
    outcome: Result<(Value, Unverified), CosignError>,
) {
    match outcome {
        Ok((output, unverified)) => result.passed.push(Passed {
            source,
            output,
            unverified,
        }),
        // verify-attestation --type selects attestations; others are not failures.
        Err(CosignError::PredicateTypeMismatch { .. }) => result.skipped += 1,
        Err(e) => result.failed.push((source, e.to_string())),
    }
}

fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

fn print_passed(r: &ImageResult, wanted: Wanted<'_>, output: Output) -> anyhow::Result<()> {
    eprintln!("\nVerification for {}@{} --", r.image.name(), r.digest);
    eprintln!(
        "The following checks were performed on each of these {}s:",
        noun(wanted)
    );
    eprintln!("  - The cosign claims were validated");
    eprintln!("  - The signatures were verified against the specified public key");
    for p in &r.passed {
        let u = &p.unverified;
        let mut not = Vec::new();
        if u.certificate {
            not.push("certificate");
        }
        if u.transparency_log {
            not.push("transparency log entry");
        }
        if u.rfc3161_timestamp {
            not.push("RFC 3161 timestamp");
        }
        if !not.is_empty() {
            eprintln!(
                "  - {}: present but not verified (offline): {}",
                p.source,
                not.join(", ")
            );
        }
    }
    match output {
        Output::Json => {
            let outputs: Vec<&Value> = r.passed.iter().map(|p| &p.output).collect();
            match wanted {
                Wanted::Signatures { .. } => println!("{}", serde_json::to_string(&outputs)?),
                Wanted::Attestations { .. } => {
                    for o in outputs {
                        println!("{}", serde_json::to_string(o)?);
                    }
                }
            }
        }
        Output::Text => {
            for p in &r.passed {
                println!("Verified {}: {}", p.source, json!(p.output));
            }
        }
    }
    Ok(())
}

fn print_failed(r: &ImageResult, wanted: Wanted<'_>) {
    let name = format!("{}@{}", r.image.name(), r.digest);
    if r.failed.is_empty() {
        let skipped = if r.skipped > 0 {
            format!(" ({} of other predicate types)", r.skipped)
        } else {
            String::new()
        };
        eprintln!(
            "error: {name}: no {}s found{skipped}: nothing in its {} tag or among its \
             sigstore bundle referrers",
            noun(wanted),
            match wanted {
                Wanted::Signatures { .. } => ".sig",
                Wanted::Attestations { .. } => ".att",
            }
        );
        return;
    }
    eprintln!(
        "error: {name}: none of its {} {}s verified:",
        r.failed.len(),
        noun(wanted)
    );
    for (source, reason) in &r.failed {
        eprintln!("  - {source}: {reason}");
    }
}
