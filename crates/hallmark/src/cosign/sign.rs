//! `hallmark cosign sign` and `attest`: key-based signatures and attestations, written where
//! cosign writes them. Every image named is resolved first; then all signatures are appended
//! at once (see `hallmark_signature::cosign` for how concurrent signers lose nothing).
//!
//! - `sign`: a simple-signing payload naming the repository and digest (and the `-a`
//!   annotations), signed with the key, appended as one layer to `sha256-<hex>.sig`. A layer
//!   with the same payload already signed by the same key is not added twice.
//! - `attest`: the predicate file wrapped in an in-toto statement, signed as a DSSE envelope,
//!   appended to `sha256-<hex>.att` with its `predicateType` annotation.
//! - `--new-bundle-format`: instead, a sigstore bundle (DSSE over an in-toto statement;
//!   predicate `https://sigstore.dev/cosign/sign/v1` for `sign`) pushed by digest as a
//!   referrer of the image, through the referrers tag schema where the registry lacks the API.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;
use hallmark_client::{Client, NoProgress, Target};
use hallmark_cosign::attachment::{self, Attachment, Layer};
use hallmark_cosign::bundle;
use hallmark_cosign::dsse::{self, Envelope};
use hallmark_cosign::in_toto::{self, PredicateKind};
use hallmark_oci::{Algorithm, Descriptor, ImageRef, Reference, media_type};
use hallmark_signature::cosign::{Append, Appended, append_all};
use hallmark_x509::{PublicKey, SigningKey};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::Instrument;

use super::{annotations, attachment_target, image_refs, registries, repository_name};
use crate::UsageError;
use crate::target::{ClientArgs, small_runtime};

/// Images signed at once.
const CONCURRENCY: usize = 16;

/// Flags both signing commands share.
#[derive(Debug, clap::Args)]
pub struct SigningFlags {
    /// The private key: a cosign key file.
    #[arg(long)]
    key: PathBuf,
    /// Store a sigstore bundle as an OCI 1.1 referrer instead of the `.sig`/`.att` tag.
    #[arg(long)]
    new_bundle_format: bool,
    /// Upload to the Rekor transparency log. Hallmark signs offline: only `false` is
    /// accepted.
    #[arg(long, default_value_t = false, action = clap::ArgAction::Set, value_name = "BOOL")]
    tlog_upload: bool,
    /// Skip confirmation prompts (accepted for cosign compatibility; Hallmark never prompts).
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `cosign sign`.
#[derive(Debug, clap::Args)]
pub struct SignArgs {
    /// The images: `registry/repo:tag` or `registry/repo@sha256:...`.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// Annotations to sign, KEY=VALUE; repeatable.
    #[arg(short = 'a', long = "annotations", value_name = "KEY=VALUE")]
    annotations: Vec<String>,
    #[command(flatten)]
    flags: SigningFlags,
}

/// Flags of `cosign attest`.
#[derive(Debug, clap::Args)]
pub struct AttestArgs {
    /// The images: `registry/repo:tag` or `registry/repo@sha256:...`.
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
    /// The predicate file.
    #[arg(long)]
    predicate: PathBuf,
    /// Predicate type: custom, slsaprovenance, slsaprovenance02, slsaprovenance1, spdx,
    /// spdxjson, cyclonedx, link, vuln, openvex, or a predicate type URI.
    #[arg(long = "type", default_value = "custom")]
    predicate_type: String,
    #[command(flatten)]
    flags: SigningFlags,
}

/// A key ready to sign, with its public half.
struct Signer {
    key: SigningKey,
    public: PublicKey,
}

impl SigningFlags {
    fn check(&self) -> anyhow::Result<()> {
        if self.tlog_upload {
            return Err(UsageError(
                "unsupported: Hallmark signs offline and cannot upload to a transparency log; \
                 drop --tlog-upload=true"
                    .into(),
            )
            .into());
        }
        Ok(())
    }

    fn signer(&self) -> anyhow::Result<Signer> {
        let key = super::load_key(&self.key)?;
        let public = key.public_key()?;
        Ok(Signer { key, public })
    }
}

/// One image, resolved.
struct Subject {
    image: ImageRef,
    descriptor: Descriptor,
    target: Target,
}

async fn subjects(client: &Client, images: &[ImageRef]) -> anyhow::Result<Vec<Subject>> {
    let mut out = Vec::with_capacity(images.len());
    for image in images {
        let descriptor = super::resolve(client, image, true).await?;
        // Statements and attachment tags name sha256 digests only; refused before any push.
        if descriptor.digest.algorithm() != Algorithm::Sha256 {
            anyhow::bail!(
                "{image}: cosign signs sha256 images only (its tags and statements name sha256 \
                 digests); {} cannot be signed",
                descriptor.digest
            );
        }
        let target = attachment_target(client, image)?;
        out.push(Subject {
            image: image.clone(),
            descriptor,
            target,
        });
    }
    Ok(out)
}

/// Runs `cosign sign`.
pub fn sign(args: SignArgs) -> anyhow::Result<()> {
    args.flags.check()?;
    let images = image_refs(&args.images)?;
    let annotations = annotations(&args.annotations)?;
    let signer = args.flags.signer()?;
    let names = registries(&images);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let client = args.flags.client.client(&names)?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("cosign_sign", images = images.len());
    rt.block_on(
        async {
            if args.flags.new_bundle_format && !annotations.is_empty() {
                return Err(UsageError(
                    "-a annotations go into the simple-signing payload of the .sig tag, and a \
                     bundle's statement has no place for them: drop -a or --new-bundle-format"
                        .into(),
                )
                .into());
            }
            let subjects = subjects(&client, &images).await?;
            if args.flags.new_bundle_format {
                let statements = subjects.iter().map(sign_statement).collect();
                return store_bundles(&subjects, &signer, bundle::SIGN_PREDICATE, statements).await;
            }
            let appends = subjects
                .iter()
                .map(|s| signature_append(s, &signer, &annotations))
                .collect::<anyhow::Result<Vec<_>>>()?;
            report(
                &subjects,
                &appends,
                append_all(&appends, CONCURRENCY).await,
                "signature",
            )
        }
        .instrument(span),
    )
}

/// The `.sig` layer for one image.
fn signature_append(
    subject: &Subject,
    signer: &Signer,
    annotations: &BTreeMap<String, String>,
) -> anyhow::Result<Append> {
    Ok(hallmark_signature::cosign::signature_append(
        &subject.target,
        &repository_name(&subject.image),
        &subject.descriptor.digest,
        annotations,
        &signer.key,
        &signer.public,
    )?)
}

/// Runs `cosign attest`.
pub fn attest(args: AttestArgs) -> anyhow::Result<()> {
    args.flags.check()?;
    let images = image_refs(&args.images)?;
    let kind = PredicateKind::parse(&args.predicate_type).map_err(|e| UsageError(e.to_string()))?;
    let predicate = std::fs::read(&args.predicate)
        .with_context(|| format!("cannot read --predicate {}", args.predicate.display()))?;
    let signer = args.flags.signer()?;
    let names = registries(&images);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let client = args.flags.client.client(&names)?;
    let now = OffsetDateTime::now_utc();
    let rt = small_runtime()?;
    let span = tracing::info_span!("cosign_attest", images = images.len(), kind = kind.uri());
    rt.block_on(
        async {
            let subjects = subjects(&client, &images).await?;
            // Every statement is built (and its predicate checked) before anything is pushed.
            let statements = subjects
                .iter()
                .map(|s| {
                    kind.statement(
                        &repository_name(&s.image),
                        s.descriptor.digest.hex(),
                        &predicate,
                        now,
                    )
                    .map_err(|e| anyhow::Error::from(UsageError(e.to_string())))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            if args.flags.new_bundle_format {
                return store_bundles(&subjects, &signer, kind.uri(), statements).await;
            }
            let appends = subjects
                .iter()
                .zip(statements)
                .map(|(s, statement)| attestation_append(s, &signer, kind.uri(), statement))
                .collect::<anyhow::Result<Vec<_>>>()?;
            report(
                &subjects,
                &appends,
                append_all(&appends, CONCURRENCY).await,
                "attestation",
            )
        }
        .instrument(span),
    )
}

/// The `.att` layer for one image.
fn attestation_append(
    subject: &Subject,
    signer: &Signer,
    predicate_type: &str,
    statement: Vec<u8>,
) -> anyhow::Result<Append> {
    let envelope = Envelope::sign(dsse::IN_TOTO_PAYLOAD_TYPE, statement, &signer.key)?;
    let layer_annotations = BTreeMap::from([
        (attachment::SIGNATURE_ANNOTATION.to_owned(), String::new()),
        (
            attachment::PREDICATE_TYPE_ANNOTATION.to_owned(),
            predicate_type.to_owned(),
        ),
    ]);
    let layer = Layer::new(dsse::MEDIA_TYPE, envelope.to_bytes(), layer_annotations);
    Ok(Append::new(
        subject.target.clone(),
        subject.descriptor.digest.clone(),
        Attachment::Attestations,
        layer,
        // Each attestation is new: cosign appends without looking for duplicates.
        Box::new(|_| false),
    )?)
}

/// Prints what became of each append; fails if any failed.
fn report(
    subjects: &[Subject],
    appends: &[Append],
    results: Vec<Result<Appended, hallmark_signature::Error>>,
    what: &str,
) -> anyhow::Result<()> {
    let mut failed = 0;
    for ((subject, append), result) in subjects.iter().zip(appends).zip(results) {
        let at = format!("{}:{}", append.target.describe(), append.tag());
        let image = format!("{}@{}", subject.image.name(), subject.descriptor.digest);
        match result {
            Ok(Appended::Added) => eprintln!("Pushed {what} of {image} to {at}"),
            Ok(Appended::AlreadyPresent) => {
                eprintln!("{image} already has this {what} in {at}; nothing pushed")
            }
            Err(e) => {
                failed += 1;
                eprintln!("error: {image}: {e}");
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} images could not be signed", subjects.len());
    }
    Ok(())
}

/// The statement `cosign sign --new-bundle-format` signs: the image digest, an empty
/// predicate of type `https://sigstore.dev/cosign/sign/v1`.
fn sign_statement(subject: &Subject) -> Vec<u8> {
    let statement = json!({
        "_type": in_toto::STATEMENT_V1,
        "subject": [{ "digest": { "sha256": subject.descriptor.digest.hex() } }],
        "predicateType": bundle::SIGN_PREDICATE,
        "predicate": {},
    });
    serde_json::to_vec(&statement).unwrap_or_default()
}

/// Signs each image's statement into a bundle and pushes it as a referrer.
async fn store_bundles(
    subjects: &[Subject],
    signer: &Signer,
    predicate_type: &str,
    statements: Vec<Vec<u8>>,
) -> anyhow::Result<()> {
    let created = OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .format(&Rfc3339)?;
    let empty = Bytes::from_static(b"{}");
    let empty_descriptor =
        Descriptor::new(media_type::OCI_EMPTY, Algorithm::Sha256.digest(&empty), 2);
    let pushes = subjects.iter().zip(statements).map(|(subject, statement)| {
        let envelope = Envelope::sign(dsse::IN_TOTO_PAYLOAD_TYPE, statement, &signer.key);
        let (empty, empty_descriptor, created) = (&empty, &empty_descriptor, &created);
        async move {
            let bundle = Bytes::from(bundle::dsse_bundle(&envelope?, &signer.public));
            let layer = Descriptor::new(
                bundle::MEDIA_TYPE_V03,
                Algorithm::Sha256.digest(&bundle),
                bundle.len() as u64,
            );
            let target = &subject.target;
            target
                .push_blob(empty_descriptor, empty, &NoProgress)
                .await?;
            target.push_blob(&layer, &bundle, &NoProgress).await?;
            let manifest = json!({
                "schemaVersion": 2,
                "mediaType": media_type::OCI_MANIFEST,
                "artifactType": bundle::MEDIA_TYPE_V03,
                "config": empty_descriptor,
                "layers": [layer],
                "subject": subject.descriptor,
                "annotations": {
                    "org.opencontainers.image.created": created,
                    bundle::CONTENT_ANNOTATION: "dsse-envelope",
                    bundle::PREDICATE_TYPE_ANNOTATION: predicate_type,
                },
            });
            let bytes = Bytes::from(serde_json::to_vec(&manifest)?);
            let digest = Reference::Digest(Algorithm::Sha256.digest(&bytes));
            let pushed = target
                .push_manifest(&digest, media_type::OCI_MANIFEST, bytes, true)
                .await?;
            eprintln!(
                "Pushed bundle {} for {}@{} to {}",
                pushed.digest,
                subject.image.name(),
                subject.descriptor.digest,
                target.describe()
            );
            anyhow::Ok(())
        }
    });
    let results: Vec<anyhow::Result<()>> = futures_util::stream::iter(pushes)
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|r| r.err().map(|e| format!("{e:#}")))
        .collect();
    if !failed.is_empty() {
        for e in &failed {
            eprintln!("error: {e}");
        }
        anyhow::bail!(
            "{} of {} bundles could not be stored",
            failed.len(),
            subjects.len()
        );
    }
    Ok(())
}

use futures_util::StreamExt as _;
