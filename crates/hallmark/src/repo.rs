//! `hallmark repo ls|tags`: repositories of a registry (`_catalog`) and tags of a repository,
//! following `Link` pagination to the end.

use hallmark_client::Target;
use serde_json::json;
use tracing::Instrument;

use crate::target::{ClientArgs, Output, RefArg, print_json, runtime};

/// `repo` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// List the repositories of a registry.
    Ls(LsArgs),
    /// List the tags of a repository.
    Tags(TagsArgs),
}

/// Flags of `repo ls`.
#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Registry host.
    registry: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `repo tags`.
#[derive(Debug, clap::Args)]
pub struct TagsArgs {
    /// Repository: `registry/repo`, or a layout directory with --oci-layout.
    repository: String,
    /// The repository is an OCI image layout directory.
    #[arg(long)]
    oci_layout: bool,
    /// Tags per page requested from the registry.
    #[arg(long)]
    page_size: Option<u32>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

fn print_list(output: Output, key: &str, items: &[String]) -> anyhow::Result<()> {
    match output {
        Output::Json => print_json(&json!({ key: items })),
        Output::Text => {
            for i in items {
                println!("{i}");
            }
            Ok(())
        }
    }
}

pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Ls(args) => {
            let client = args.client.client(&[&args.registry])?;
            let span = tracing::info_span!("repo_ls", registry = %args.registry);
            let repos = runtime()?.block_on(client.catalog(&args.registry).instrument(span))?;
            print_list(args.output, "repositories", &repos)
        }
        Command::Tags(args) => {
            let repo = RefArg::parse(&args.repository, args.oci_layout)?;
            let client = args.client.client(repo.registry().as_slice())?;
            let target = repo.target(&client, false)?;
            let span = tracing::info_span!("repo_tags", repository = %repo);
            let tags = runtime()?.block_on(
                async {
                    match &target {
                        Target::Remote(r) => r.tags(args.page_size).await,
                        Target::Layout(l) => l.tags().await,
                    }
                }
                .instrument(span),
            )?;
            let tags: Vec<String> = tags.iter().map(ToString::to_string).collect();
            print_list(args.output, "tags", &tags)
        }
    }
}
