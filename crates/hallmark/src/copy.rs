//! `hallmark copy`: an image, an index with all its manifests, or an artifact, from one
//! registry or layout to another; with `-r`, every referrer travels along, recursively.

use hallmark_client::Credential;
use hallmark_client::copy::{CopyOptions, copy};
use hallmark_oci::Reference;
use serde_json::json;
use tracing::Instrument;

use crate::progress;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// Flags of `copy`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: `registry/repo:tag|@digest`, or a layout with --from-oci-layout.
    source: String,
    /// Destination: `registry/repo[:tag]`, or a layout with --to-oci-layout; without a tag,
    /// the source's tag is used.
    destination: String,
    /// Copy referrers (signatures, SBOMs, attestations) too, recursively.
    #[arg(short = 'r', long)]
    recursive: bool,
    /// The source is an OCI image layout.
    #[arg(long)]
    from_oci_layout: bool,
    /// The destination is an OCI image layout (created if missing).
    #[arg(long)]
    to_oci_layout: bool,
    /// User name for the source registry only.
    #[arg(long, requires = "from_password")]
    from_username: Option<String>,
    /// Password for the source registry only.
    #[arg(long, requires = "from_username")]
    from_password: Option<String>,
    /// User name for the destination registry only.
    #[arg(long, requires = "to_password")]
    to_username: Option<String>,
    /// Password for the destination registry only.
    #[arg(long, requires = "to_username")]
    to_password: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Credentials given for one side of the copy.
fn side(
    reference: &RefArg,
    username: &Option<String>,
    password: &Option<String>,
) -> Option<(String, Credential)> {
    let registry = reference.registry()?;
    Some((
        registry.to_owned(),
        Credential::Basic {
            username: username.clone()?,
            password: password.clone()?,
        },
    ))
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let source = RefArg::parse(&args.source, args.from_oci_layout)?;
    let destination = RefArg::parse(&args.destination, args.to_oci_layout)?;
    let src_ref = source.require_reference("copy source")?;
    let dst_ref = destination.reference().or(match &src_ref {
        Reference::Tag(t) => Some(Reference::Tag(t.clone())),
        Reference::Digest(_) => None,
    });
    let registries: Vec<&str> = [source.registry(), destination.registry()]
        .into_iter()
        .flatten()
        .collect();
    let extra = [
        side(&source, &args.from_username, &args.from_password),
        side(&destination, &args.to_username, &args.to_password),
    ];
    let client = args
        .client
        .client_with(&registries, extra.into_iter().flatten().collect())?;
    let src = source.target(&client, false)?;
    let dst = destination.target(&client, true)?;
    let options = CopyOptions {
        recursive: args.recursive,
        concurrency: args.client.concurrency.max(1),
    };
    let span = tracing::info_span!("copy", source = %source, destination = %destination);
    runtime()?.block_on(
        async move {
            let progress = progress::for_terminal();
            let (root, report) =
                copy(&src, &src_ref, &dst, dst_ref.as_ref(), options, &*progress).await?;
            drop(progress);
            tracing::debug!(digest = %root.digest, manifests = report.manifests,
                transferred = report.blobs_transferred, skipped = report.blobs_skipped,
                mounted = report.blobs_mounted, "copied");
            match args.output {
                Output::Json => print_json(&json!({
                    "source": source.to_string(),
                    "destination": destination.to_string(),
                    "mediaType": root.media_type,
                    "digest": root.digest,
                    "size": root.size,
                    "report": report,
                })),
                Output::Text => {
                    println!(
                        "Copied {source} => {destination}\nDigest: {}\n{} manifests, {} blobs \
                         transferred ({} bytes), {} skipped, {} mounted",
                        root.digest,
                        report.manifests,
                        report.blobs_transferred,
                        report.bytes_transferred,
                        report.blobs_skipped,
                        report.blobs_mounted
                    );
                    Ok(())
                }
            }
        }
        .instrument(span),
    )
}
