//! `hallmark pull`: the files of an artifact, named by their layers' title annotations, into a
//! directory. Each file appears only once its content matched its digest.

use std::path::{Path, PathBuf};

use futures_util::{StreamExt, TryStreamExt};
use hallmark_client::{Error as ClientError, Target};
use hallmark_oci::Manifest;
use hallmark_oci::media_type::ManifestKind;
use serde_json::json;
use tracing::Instrument;

use crate::UsageError;
use crate::push::TITLE;
use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// Flags of `pull`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Source: `registry/repo:tag|@digest`, or a layout `PATH:tag|@digest` with --oci-layout.
    reference: String,
    /// Directory to write the files to.
    #[arg(short = 'o', long = "output", default_value = ".")]
    output: PathBuf,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format of the list of files written.
    #[arg(long, value_enum, default_value_t = Output::Text)]
    format: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// A title that is a plain file name: no separators, not `.` or `..`.
fn safe_title(title: &str) -> bool {
    !title.is_empty() && title != "." && title != ".." && !title.contains(['/', '\\', '\0'])
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let source = RefArg::parse(&args.reference, args.oci_layout)?;
    let reference = source.require_reference("pull")?;
    let client = args.client.client(source.registry().as_slice())?;
    let target = source.target(&client, false)?;
    let span = tracing::info_span!("pull", reference = %source);
    runtime()?.block_on(
        async move {
            let (descriptor, bytes) = target.fetch_manifest(&reference).await?;
            let manifest = Manifest::parse(&bytes, Some(&descriptor.media_type))?;
            if manifest.kind == ManifestKind::Index {
                return Err(UsageError(format!(
                    "{source} is an index; pull one of its manifests by digest \
                     (see `hallmark manifest fetch {source}`)"
                ))
                .into());
            }
            std::fs::create_dir_all(&args.output)?;
            let files =
                pull_layers(&target, &manifest, &args.output, args.client.concurrency).await?;
            match args.format {
                Output::Json => print_json(&json!({
                    "reference": source.to_string(),
                    "digest": descriptor.digest,
                    "files": files,
                })),
                Output::Text => {
                    for f in &files {
                        println!("Downloaded {}", f.display());
                    }
                    println!("Pulled {source}\nDigest: {}", descriptor.digest);
                    Ok(())
                }
            }
        }
        .instrument(span),
    )
}

async fn pull_layers(
    target: &Target,
    manifest: &Manifest,
    dir: &Path,
    concurrency: usize,
) -> anyhow::Result<Vec<PathBuf>> {
    let mut titled = Vec::new();
    for layer in &manifest.layers {
        let Some(title) = layer.annotations.as_ref().and_then(|a| a.get(TITLE)) else {
            tracing::info!(digest = %layer.digest, "layer has no title; not written");
            continue;
        };
        // A title is untrusted input: it must not name a path outside the directory.
        if !safe_title(title) {
            return Err(ClientError::UnsafeTitle {
                title: title.clone(),
            }
            .into());
        }
        titled.push((layer, dir.join(title)));
    }
    let downloads = titled.into_iter().map(|(layer, dest)| async move {
        let content = target.fetch_blob(layer).await?;
        hallmark_client::layout::write_verified(dir, &dest, Box::pin(content), |_| {}).await?;
        anyhow::Ok(dest)
    });
    futures_util::stream::iter(downloads)
        .buffered(concurrency.max(1))
        .try_collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::safe_title;

    #[test]
    fn titles_cannot_escape() {
        for t in ["a.txt", "..a", "a..", "x y"] {
            assert!(safe_title(t), "{t}");
        }
        for t in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\\b"] {
            assert!(!safe_title(t), "{t}");
        }
    }
}
