//! `hallmark manifest fetch|push|delete`: manifests as exact bytes. Fetched bytes are checked
//! against their digest before they are printed or written.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use bytes::Bytes;
use hallmark_client::manifest::sniff_media_type;
use hallmark_oci::{Algorithm, Reference, media_type};
use tracing::Instrument;

use crate::UsageError;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// `manifest` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print a manifest (its exact bytes) or its descriptor.
    Fetch(FetchArgs),
    /// Push a manifest file.
    Push(PushArgs),
    /// Delete a manifest (by digest) or a tag.
    Delete(DeleteArgs),
}

/// Flags of `manifest fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    /// Print the descriptor instead of the manifest.
    #[arg(long)]
    descriptor: bool,
    /// Write the manifest to this file instead of stdout.
    #[arg(long = "output-file", value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `manifest push`.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// `registry/repo[:tag]`; without a tag the manifest is pushed by digest.
    reference: String,
    /// The manifest file.
    file: PathBuf,
    /// Media type [default: the file's mediaType field].
    #[arg(long)]
    media_type: Option<String>,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `manifest delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// `registry/repo:tag|@digest`.
    reference: String,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fetch(a) => fetch(a),
        Command::Push(a) => push(a),
        Command::Delete(a) => delete(a),
    }
}

fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let source = RefArg::parse(&args.reference, args.oci_layout)?;
    let reference = source.require_reference("manifest fetch")?;
    let client = args.client.client(source.registry().as_slice())?;
    let target = source.target(&client, false)?;
    let span = tracing::info_span!("manifest_fetch", reference = %source);
    let (descriptor, bytes) =
        runtime()?.block_on(async { target.fetch_manifest(&reference).await }.instrument(span))?;
    if args.descriptor {
        return print_json(&descriptor);
    }
    match &args.output_file {
        Some(path) => {
            std::fs::write(path, &bytes).with_context(|| format!("cannot write {}", path.display()))
        }
        None => std::io::stdout()
            .write_all(&bytes)
            .context("cannot write to stdout"),
    }
}

fn push(args: PushArgs) -> anyhow::Result<()> {
    let dest = RefArg::parse(&args.reference, args.oci_layout)?;
    let bytes = Bytes::from(
        std::fs::read(&args.file)
            .with_context(|| format!("cannot read {}", args.file.display()))?,
    );
    let media_type = args
        .media_type
        .clone()
        .or_else(|| sniff_media_type(&bytes))
        .ok_or_else(|| {
            UsageError(format!(
                "{} has no mediaType field; pass --media-type",
                args.file.display()
            ))
        })?;
    if media_type::manifest_kind(&media_type).is_none() {
        return Err(UsageError(format!("{media_type} is not a manifest media type")).into());
    }
    let reference = dest
        .reference()
        .unwrap_or_else(|| Reference::Digest(Algorithm::Sha256.digest(&bytes)));
    let client = args.client.client(dest.registry().as_slice())?;
    let target = dest.target(&client, true)?;
    let span = tracing::info_span!("manifest_push", reference = %dest);
    let pushed = runtime()?.block_on(
        async {
            target
                .push_manifest(&reference, &media_type, bytes, true)
                .await
        }
        .instrument(span),
    )?;
    match args.output {
        Output::Json => print_json(&pushed),
        Output::Text => {
            println!("Pushed {dest}\nDigest: {}", pushed.digest);
            Ok(())
        }
    }
}

fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let dest = RefArg::parse(&args.reference, args.oci_layout)?;
    let reference = dest.require_reference("manifest delete")?;
    let client = args.client.client(dest.registry().as_slice())?;
    let target = dest.target(&client, false)?;
    let span = tracing::info_span!("manifest_delete", reference = %dest);
    runtime()?.block_on(async { target.delete_manifest(&reference).await }.instrument(span))?;
    println!("Deleted {dest}");
    Ok(())
}
