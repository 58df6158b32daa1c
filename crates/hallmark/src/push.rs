//! `hallmark push`: files as the layers of an OCI artifact manifest, optionally a referrer of
//! another manifest (`--subject`), in the way `oras push` does it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt};
use hallmark_client::blob::{BlobSource, FileSource};
use hallmark_client::{Outcome, Progress, Target};
use hallmark_oci::{Algorithm, Descriptor, Reference, media_type};
use serde_json::json;
use tracing::Instrument;

use crate::UsageError;
use crate::progress;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// Media type of a layer pushed without one.
const DEFAULT_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
/// Artifact type of a manifest pushed without one, as oras sets it.
const DEFAULT_ARTIFACT: &str = "application/vnd.unknown.artifact.v1";
/// Annotation giving a layer's file name.
pub const TITLE: &str = "org.opencontainers.image.title";

/// Flags of `push`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Destination: `registry/repo[:tag]`, or a layout `PATH[:tag]` with --oci-layout.
    reference: String,
    /// Files to push, each optionally with its media type: `FILE[:MEDIATYPE]`.
    #[arg(required = true)]
    files: Vec<String>,
    /// The manifest's artifactType.
    #[arg(long, default_value = DEFAULT_ARTIFACT)]
    artifact_type: String,
    /// Manifest annotation `KEY=VALUE`; repeatable.
    #[arg(short = 'a', long = "annotation")]
    annotations: Vec<String>,
    /// Manifest this artifact refers to (tag or digest in the same repository, or a full
    /// reference to it); makes the push a referrer.
    #[arg(long)]
    subject: Option<String>,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// `FILE[:MEDIATYPE]`: a media type always has a `/`, a trailing path component never does.
fn split_file(spec: &str) -> (PathBuf, String) {
    match spec.rsplit_once(':') {
        Some((path, mt)) if mt.contains('/') && !path.is_empty() => (path.into(), mt.into()),
        _ => (spec.into(), DEFAULT_LAYER.into()),
    }
}

/// Digest and size of a file, read once.
fn hash_file(path: &Path) -> anyhow::Result<(hallmark_oci::Digest, u64)> {
    use std::io::Read;
    let mut file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut digester = Algorithm::Sha256.digester();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file
            .read(&mut buf)
            .with_context(|| format!("cannot read {}", path.display()))?;
        if n == 0 {
            break;
        }
        digester.update(&buf[..n]);
        size += n as u64;
    }
    Ok((digester.finish(), size))
}

/// Parses `KEY=VALUE` annotations.
pub fn annotations(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(UsageError(format!("annotation '{p}' is not KEY=VALUE")).into()),
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let dest = RefArg::parse(&args.reference, args.oci_layout)?;
    let client = args.client.client(dest.registry().as_slice())?;
    let target = dest.target(&client, true)?;
    let annotations = annotations(&args.annotations)?;
    let span = tracing::info_span!("push", reference = %dest);
    runtime()?.block_on(push(args, dest, target, annotations).instrument(span))
}

async fn push(
    args: Args,
    dest: RefArg,
    target: Target,
    annotations: BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let progress = progress::for_terminal();

    let mut layers = Vec::new();
    for spec in &args.files {
        let (path, media_type) = split_file(spec);
        let title = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| UsageError(format!("{} has no file name", path.display())))?
            .to_owned();
        let p = path.clone();
        let (digest, size) = tokio::task::spawn_blocking(move || hash_file(&p)).await??;
        let mut d = Descriptor::new(&media_type, digest, size);
        d.annotations = Some([(TITLE.to_owned(), title)].into());
        layers.push((d, path));
    }

    let subject = match &args.subject {
        None => None,
        Some(s) => Some(resolve_subject(&target, &dest, s).await?),
    };

    let config_bytes = Bytes::from_static(b"{}");
    let config = Descriptor::new(
        media_type::OCI_EMPTY,
        Algorithm::Sha256.digest(&config_bytes),
        2,
    );
    upload(&target, &config, &config_bytes, &*progress).await?;
    let target_ref = &target;
    let progress_ref = &*progress;
    let uploads = layers.iter().map(|(d, path)| async move {
        upload(target_ref, d, &FileSource(path.clone()), progress_ref).await
    });
    futures_util::stream::iter(uploads)
        .buffer_unordered(args.client.concurrency.max(1))
        .try_collect::<Vec<()>>()
        .await?;

    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": args.artifact_type,
        "config": config,
        "layers": layers.iter().map(|(d, _)| d).collect::<Vec<_>>(),
    });
    if let Some(s) = subject {
        manifest["subject"] = serde_json::to_value(s)?;
    }
    if !annotations.is_empty() {
        manifest["annotations"] = serde_json::to_value(&annotations)?;
    }
    let bytes = Bytes::from(serde_json::to_vec(&manifest)?);
    let digest = Algorithm::Sha256.digest(&bytes);
    let reference = dest
        .reference()
        .unwrap_or_else(|| Reference::Digest(digest.clone()));
    let pushed = target
        .push_manifest(&reference, media_type::OCI_MANIFEST, bytes, true)
        .await?;
    drop(progress);

    match args.output {
        Output::Json => print_json(&json!({
            "reference": dest.to_string(),
            "mediaType": pushed.media_type,
            "digest": pushed.digest,
            "size": pushed.size,
            "artifactType": args.artifact_type,
        })),
        Output::Text => {
            println!("Pushed {dest}\nDigest: {}", pushed.digest);
            Ok(())
        }
    }
}

async fn upload(
    target: &Target,
    d: &Descriptor,
    source: &dyn BlobSource,
    progress: &dyn Progress,
) -> anyhow::Result<()> {
    progress.start(d);
    let outcome = target.push_blob(d, source, progress).await?;
    if outcome == Outcome::Skipped {
        tracing::debug!(digest = %d.digest, "blob already present");
    }
    progress.finish(d, outcome);
    Ok(())
}

/// The subject's descriptor: a tag or digest in the destination, or a full reference to the
/// same repository.
pub async fn resolve_subject(
    target: &Target,
    dest: &RefArg,
    subject: &str,
) -> anyhow::Result<Descriptor> {
    let reference = match subject.parse::<Reference>() {
        Ok(r) => r,
        Err(_) => {
            let full = RefArg::parse(subject, matches!(dest, RefArg::Layout(..)))?;
            let same = match (&full, dest) {
                (RefArg::Remote(a), RefArg::Remote(b)) => {
                    a.registry == b.registry && a.repository == b.repository
                }
                (RefArg::Layout(a, _), RefArg::Layout(b, _)) => a == b,
                _ => false,
            };
            if !same {
                return Err(UsageError(format!(
                    "subject {subject} must be in the same repository as {dest}"
                ))
                .into());
            }
            full.require_reference("--subject")?
        }
    };
    let d = target.resolve(&reference).await?;
    Ok(Descriptor::new(&d.media_type, d.digest, d.size))
}
