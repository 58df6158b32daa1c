//! `hallmark cosign tree`: what is attached to an image, as `cosign tree` shows it: the
//! layers of its `.att`, `.sig` and `.sbom` tags, and its OCI 1.1 referrers (sigstore bundles
//! and any other artifact), from `COSIGN_REPOSITORY` when set.

use hallmark_cosign::attachment::{self, Attachment};
use hallmark_oci::Algorithm;
use hallmark_signature::cosign::attached_layers;
use serde_json::json;
use tracing::Instrument;

use super::{attachment_target, image_refs, registries};
use crate::target::{ClientArgs, Output, print_json, small_runtime};

/// The attachments `cosign tree` lists, in its order.
const ALL_KINDS: [Attachment; 3] = [
    Attachment::Attestations,
    Attachment::Signatures,
    Attachment::Sbom,
];

/// Flags of `cosign tree`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The image: `registry/repo:tag` or `registry/repo@sha256:...`.
    image: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Runs `cosign tree`.
pub fn run(args: Args) -> anyhow::Result<()> {
    let images = image_refs(std::slice::from_ref(&args.image))?;
    let image = &images[0];
    let names = registries(&images);
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let client = args.client.client(&names)?;
    let rt = small_runtime()?;
    let span = tracing::info_span!("cosign_tree", image = %image);
    let (digest, target, attachments, referrers) = rt.block_on(
        async {
            let descriptor = super::resolve(&client, image, false).await?;
            let target = attachment_target(&client, image)?;
            let mut attachments = Vec::new();
            // cosign names attachment tags for sha256 images only; others have referrers.
            let kinds = match descriptor.digest.algorithm() {
                Algorithm::Sha256 => &ALL_KINDS[..],
                _ => &[],
            };
            for &kind in kinds {
                let tag = kind.tag(&descriptor.digest)?;
                let layers = attached_layers(&target, &descriptor.digest, kind).await?;
                if !layers.is_empty() {
                    attachments.push((kind, tag, layers));
                }
            }
            let (referrers, _) = target.referrers(&descriptor.digest, None).await?;
            anyhow::Ok((descriptor.digest, target, attachments, referrers))
        }
        .instrument(span),
    )?;

    let repo = target.describe();
    if args.output == Output::Json {
        let attached: Vec<_> = attachments
            .iter()
            .map(|(kind, tag, layers)| {
                json!({
                    "kind": kind.suffix(),
                    "tag": format!("{repo}:{tag}"),
                    "layers": layers,
                })
            })
            .collect();
        return print_json(&json!({
            "image": format!("{}@{digest}", image.name()),
            "attachments": attached,
            "referrers": referrers,
        }));
    }
    println!("Supply chain artifacts for {}@{digest}", image.name());
    if attachments.is_empty() && referrers.is_empty() {
        println!("(none)");
    }
    for (kind, tag, layers) in &attachments {
        let title = match kind {
            Attachment::Attestations => "Attestations",
            Attachment::Signatures => "Signatures",
            Attachment::Sbom => "SBOMs",
        };
        println!("└── {title} for an image tag: {repo}:{tag}");
        for (i, layer) in layers.iter().enumerate() {
            let branch = if i + 1 == layers.len() {
                "└──"
            } else {
                "├──"
            };
            let detail = attachment::annotation(layer, attachment::PREDICATE_TYPE_ANNOTATION)
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            println!("    {branch} {}{detail}", layer.digest);
        }
    }
    if !referrers.is_empty() {
        println!("└── Referrers in {repo}");
        for (i, r) in referrers.iter().enumerate() {
            let branch = if i + 1 == referrers.len() {
                "└──"
            } else {
                "├──"
            };
            let kind = r.artifact_type.as_deref().unwrap_or(&r.media_type);
            println!("    {branch} {} ({kind})", r.digest);
        }
    }
    Ok(())
}
