//! `hallmark tag`: more tags on a manifest that already exists.

use hallmark_oci::Tag;
use serde_json::json;
use tracing::Instrument;

use crate::UsageError;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// Flags of `tag`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The manifest: `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    /// Tags to add.
    #[arg(required = true)]
    tags: Vec<String>,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let source = RefArg::parse(&args.reference, args.oci_layout)?;
    let reference = source.require_reference("tag")?;
    let tags = args
        .tags
        .iter()
        .map(|t| t.parse::<Tag>().map_err(|e| UsageError(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let client = args.client.client(source.registry().as_slice())?;
    let target = source.target(&client, false)?;
    let span = tracing::info_span!("tag", reference = %source);
    runtime()?.block_on(
        async move {
            let descriptor = target.resolve(&reference).await?;
            for tag in &tags {
                target.tag(&descriptor, tag).await?;
                if args.output == Output::Text {
                    println!("Tagged {tag}");
                }
            }
            if args.output == Output::Json {
                print_json(&json!({"digest": descriptor.digest, "tags": tags
                    .iter().map(Tag::as_str).collect::<Vec<_>>()}))?;
            }
            Ok(())
        }
        .instrument(span),
    )
}
