//! `hallmark discover`: the referrers graph of a manifest, through the registry's referrers
//! API or the referrers tag schema (the answer says which), or a layout's index.

use std::future::Future;
use std::pin::Pin;

use hallmark_client::{ReferrersSource, Target};
use hallmark_oci::{Descriptor, Digest};
use serde_json::{Value, json};
use tracing::Instrument;

use crate::target::{ClientArgs, RefArg, print_json, runtime};

/// How the graph is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// An indented tree.
    Tree,
    /// Nested JSON.
    Json,
}

/// Flags of `discover`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The subject: `registry/repo:tag|@digest`, or a layout reference with --oci-layout.
    reference: String,
    /// Only referrers of this artifact type (at every level of the graph).
    #[arg(long)]
    artifact_type: Option<String>,
    /// Levels of referrers to follow (1: direct referrers only).
    #[arg(long, default_value_t = 8)]
    depth: u32,
    /// The reference names an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Tree)]
    output: Format,
    #[command(flatten)]
    client: ClientArgs,
}

/// A referrer and its own referrers.
struct Node {
    descriptor: Descriptor,
    children: Vec<Node>,
}

type Walk<'a> = Pin<Box<dyn Future<Output = anyhow::Result<(Vec<Node>, ReferrersSource)>> + 'a>>;

fn walk<'a>(target: &'a Target, subject: &'a Digest, args: &'a Args, depth: u32) -> Walk<'a> {
    Box::pin(async move {
        let (list, source) = target
            .referrers(subject, args.artifact_type.as_deref())
            .await?;
        let mut nodes = Vec::new();
        for descriptor in list {
            let children = if depth > 1 {
                walk(target, &descriptor.digest, args, depth - 1).await?.0
            } else {
                Vec::new()
            };
            nodes.push(Node {
                descriptor,
                children,
            });
        }
        Ok((nodes, source))
    })
}

fn to_json(nodes: &[Node]) -> Vec<Value> {
    nodes
        .iter()
        .map(|n| {
            let mut v = serde_json::to_value(&n.descriptor).unwrap_or(Value::Null);
            v["referrers"] = Value::Array(to_json(&n.children));
            v
        })
        .collect()
}

fn print_tree(nodes: &[Node], indent: &str) {
    for (i, n) in nodes.iter().enumerate() {
        let last = i + 1 == nodes.len();
        let kind = n.descriptor.artifact_type.as_deref().unwrap_or("-");
        println!(
            "{indent}{} {kind} {}",
            if last { "└──" } else { "├──" },
            n.descriptor.digest
        );
        let deeper = format!("{indent}{}", if last { "    " } else { "│   " });
        print_tree(&n.children, &deeper);
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let subject = RefArg::parse(&args.reference, args.oci_layout)?;
    let reference = subject.require_reference("discover")?;
    let client = args.client.client(subject.registry().as_slice())?;
    let target = subject.target(&client, false)?;
    let span = tracing::info_span!("discover", reference = %subject);
    runtime()?.block_on(
        async {
            let root = target.resolve(&reference).await?;
            let (nodes, source) = walk(&target, &root.digest, &args, args.depth.max(1)).await?;
            let source = match source {
                ReferrersSource::Api => "api",
                ReferrersSource::TagSchema => "tag",
                ReferrersSource::Layout => "layout",
            };
            match args.output {
                Format::Json => print_json(&json!({
                    "reference": subject.to_string(),
                    "mediaType": root.media_type,
                    "digest": root.digest,
                    "size": root.size,
                    "referrersSource": source,
                    "referrers": to_json(&nodes),
                })),
                Format::Tree => {
                    println!("{subject} {} (referrers from: {source})", root.digest);
                    print_tree(&nodes, "");
                    Ok(())
                }
            }
        }
        .instrument(span),
    )
}
