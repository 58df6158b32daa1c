//! `hallmark blob fetch|push|delete`: single blobs by digest (`sign`, `verify`, `inspect` and
//! `policy` are in `blob_signature` and `policy`). A fetched blob is written only
//! once its bytes matched the digest, even when the destination is stdout.

use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_client::Target;
use hallmark_client::blob::{FileSource, file_stream};
use hallmark_client::layout::write_verified;
use hallmark_oci::{Algorithm, Descriptor, Digest, Reference};
use tracing::Instrument;

use crate::UsageError;
use crate::progress;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// `blob` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Download a blob.
    Fetch(FetchArgs),
    /// Upload a file as a blob.
    Push(PushArgs),
    /// Delete a blob.
    Delete(DeleteArgs),
    /// Sign a local file with a detached Notary Project signature.
    Sign(crate::blob_signature::SignArgs),
    /// Verify a local file against its detached signature under the blob trust policy.
    Verify(crate::blob_signature::VerifyArgs),
    /// Show what a detached signature holds.
    Inspect(crate::blob_signature::InspectArgs),
    /// Manage the blob trust policy.
    #[command(subcommand)]
    Policy(crate::policy::Command),
}

/// Flags of `blob fetch`.
#[derive(Debug, clap::Args)]
pub struct FetchArgs {
    /// `registry/repo@digest`, or a layout `PATH@digest` with --oci-layout.
    reference: String,
    /// File to write; `-` for stdout (after verification).
    #[arg(long = "output-file", value_name = "FILE")]
    output_file: PathBuf,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `blob push`.
#[derive(Debug, clap::Args)]
pub struct PushArgs {
    /// `registry/repo`, or a layout directory with --oci-layout.
    reference: String,
    /// The file.
    file: PathBuf,
    /// Media type reported in the descriptor printed.
    #[arg(long, default_value = "application/octet-stream")]
    media_type: String,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `blob delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// `registry/repo@digest`.
    reference: String,
    #[command(flatten)]
    client: ClientArgs,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fetch(a) => fetch(a),
        Command::Push(a) => push(a),
        Command::Delete(a) => delete(a),
        Command::Sign(a) => crate::blob_signature::sign(a),
        Command::Verify(a) => crate::blob_signature::verify(a),
        Command::Inspect(a) => crate::blob_signature::inspect(a),
        Command::Policy(c) => crate::policy::run(crate::policy::Kind::Blob, c),
    }
}

fn digest_of(r: &RefArg) -> anyhow::Result<Digest> {
    match r.reference() {
        Some(Reference::Digest(d)) => Ok(d),
        _ => Err(UsageError(format!("{r} must name the blob by @digest")).into()),
    }
}

fn fetch(args: FetchArgs) -> anyhow::Result<()> {
    let source = RefArg::parse(&args.reference, args.oci_layout)?;
    let digest = digest_of(&source)?;
    let client = args.client.client(source.registry().as_slice())?;
    let target = source.target(&client, false)?;
    let to_stdout = args.output_file == Path::new("-");
    let staging = tempfile_dir(to_stdout, &args.output_file)?;
    let dest = if to_stdout {
        staging.join("blob")
    } else {
        args.output_file.clone()
    };
    let span = tracing::info_span!("blob_fetch", reference = %source);
    runtime()?.block_on(
        async {
            let size = target.blob_size(&digest).await?.ok_or_else(|| {
                hallmark_client::Error::BlobUnknown {
                    repository: target.describe(),
                    digest: digest.clone(),
                }
            })?;
            let d = Descriptor::new("application/octet-stream", digest.clone(), size);
            let content = target.fetch_blob(&d).await?;
            write_verified(&staging, &dest, Box::pin(content), |_| {}).await?;
            anyhow::Ok(())
        }
        .instrument(span),
    )?;
    if to_stdout {
        let mut file = std::fs::File::open(&dest)?;
        std::io::copy(&mut file, &mut std::io::stdout()).context("cannot write to stdout")?;
        std::fs::remove_dir_all(&staging).ok();
    }
    Ok(())
}

/// Where a download is staged: next to the output file, or a private directory for stdout.
fn tempfile_dir(to_stdout: bool, output: &Path) -> anyhow::Result<PathBuf> {
    if to_stdout {
        let dir = std::env::temp_dir().join(format!("hallmark-blob-{}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        return Ok(dir);
    }
    Ok(match output.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    })
}

fn push(args: PushArgs) -> anyhow::Result<()> {
    let dest = RefArg::parse(&args.reference, args.oci_layout)?;
    let client = args.client.client(dest.registry().as_slice())?;
    let target = dest.target(&client, true)?;
    let bytes_len = std::fs::metadata(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?
        .len();
    let file = args.file.clone();
    let span = tracing::info_span!("blob_push", reference = %dest);
    let (d, outcome) = runtime()?.block_on(
        async {
            let digest = hash_file(&file).await?;
            let d = Descriptor::new(&args.media_type, digest, bytes_len);
            let progress = progress::for_terminal();
            progress.start(&d);
            let outcome = upload(&target, &d, &file, &*progress).await?;
            progress.finish(&d, outcome);
            anyhow::Ok((d, outcome))
        }
        .instrument(span),
    )?;
    tracing::debug!(?outcome, "blob pushed");
    match args.output {
        Output::Json => print_json(&d),
        Output::Text => {
            println!("Pushed {}\nDigest: {}", dest, d.digest);
            Ok(())
        }
    }
}

async fn upload(
    target: &Target,
    d: &Descriptor,
    file: &Path,
    progress: &dyn hallmark_client::Progress,
) -> anyhow::Result<hallmark_client::Outcome> {
    let source = FileSource(file.to_path_buf());
    Ok(target.push_blob(d, &source, progress).await?)
}

async fn hash_file(path: &Path) -> anyhow::Result<Digest> {
    use futures_util::StreamExt;
    let mut stream = file_stream(path).await?;
    let mut digester = Algorithm::Sha256.digester();
    while let Some(chunk) = stream.next().await {
        digester.update(&chunk?);
    }
    Ok(digester.finish())
}

fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let dest = RefArg::parse(&args.reference, false)?;
    let digest = digest_of(&dest)?;
    let client = args.client.client(dest.registry().as_slice())?;
    let Target::Remote(repo) = dest.target(&client, false)? else {
        return Err(UsageError("blob delete works on registries only".into()).into());
    };
    let span = tracing::info_span!("blob_delete", reference = %dest);
    runtime()?.block_on(async { repo.delete_blob(&digest).await }.instrument(span))?;
    println!("Deleted {dest}");
    Ok(())
}
