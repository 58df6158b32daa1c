//! `hallmark policy import|show|init` and `hallmark blob policy ...`: the OCI trust policy
//! (`trustpolicy.oci.json`, read with fallback to `trustpolicy.json`) and the blob trust
//! policy (`trustpolicy.blob.json`). A document is validated with notation's rules before it
//! replaces the installed one, so a bad import never loses a working policy.

use std::path::PathBuf;

use anyhow::Context;
use hallmark_trust::policy::write_policy;
use hallmark_trust::{BlobPolicyInit, ConfigDir, Level, OciPolicyInit};

use crate::notary::{self, ConfigArgs};

/// Which of the two policy documents a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Registry artifacts, chosen by `registryScopes`.
    Oci,
    /// Detached blob signatures, chosen by name or the global statement.
    Blob,
}

/// `policy` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Validate a trust policy file and install it.
    Import(ImportArgs),
    /// Print the installed trust policy.
    Show(ShowArgs),
    /// Write a trust policy with one statement.
    Init(InitArgs),
}

/// Flags of `policy import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The policy file.
    file: PathBuf,
    /// Replace an installed policy.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `policy show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `policy init`.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Statement name.
    #[arg(long)]
    name: String,
    /// Registry scope `host[:port]/repository`, or `*`; repeatable (OCI policy only).
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Trust store `type:name`, e.g. `ca:acme`; repeatable.
    #[arg(long = "trust-store", value_name = "TYPE:NAME")]
    trust_stores: Vec<String>,
    /// Trusted identity: `*` or `x509.subject: C=..., O=...`; repeatable.
    #[arg(long = "trusted-identity", value_name = "IDENTITY")]
    trusted_identities: Vec<String>,
    /// Verification level: strict, permissive, audit or skip.
    #[arg(long, default_value = "strict")]
    level: Level,
    /// Mark the statement as the global one (blob policy only).
    #[arg(long)]
    global: bool,
    /// Replace an installed policy.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Runs a `policy` subcommand on the document of `kind`.
pub fn run(kind: Kind, command: Command) -> anyhow::Result<()> {
    match command {
        Command::Import(args) => import(kind, args),
        Command::Show(args) => show(kind, args),
        Command::Init(args) => init(kind, args),
    }
}

fn import(kind: Kind, args: ImportArgs) -> anyhow::Result<()> {
    let dir = args.config.dir()?;
    let bytes = std::fs::read(&args.file)
        .with_context(|| format!("cannot read {}", args.file.display()))?;
    let path = match kind {
        Kind::Oci => dir.import_oci_policy(&bytes, args.force)?,
        Kind::Blob => dir.import_blob_policy(&bytes, args.force)?,
    };
    println!("Trust policy imported into {}", path.display());
    Ok(())
}

fn show(kind: Kind, args: ShowArgs) -> anyhow::Result<()> {
    let dir = args.config.dir()?;
    // Shown only once it parses: what is printed is a policy verification would use.
    let raw = match kind {
        Kind::Oci => notary::oci_policy(&dir)?.raw().to_vec(),
        Kind::Blob => notary::blob_policy(&dir)?.raw().to_vec(),
    };
    print!("{}", String::from_utf8_lossy(&raw));
    Ok(())
}

fn init(kind: Kind, args: InitArgs) -> anyhow::Result<()> {
    let dir: ConfigDir = args.config.dir()?;
    let (path, bytes) = match kind {
        Kind::Oci => {
            if args.global {
                return Err(crate::UsageError(
                    "--global applies to blob trust policies; OCI policies use --scope '*'".into(),
                )
                .into());
            }
            let doc = OciPolicyInit {
                name: args.name,
                registry_scopes: args.scopes,
                level: args.level,
                trust_stores: args.trust_stores,
                trusted_identities: args.trusted_identities,
            }
            .build()
            .context("the trust policy would be invalid")?;
            (dir.root.join("trustpolicy.oci.json"), doc.raw().to_vec())
        }
        Kind::Blob => {
            if !args.scopes.is_empty() {
                return Err(crate::UsageError(
                    "--scope applies to OCI trust policies; a blob policy is chosen by name \
                     (--policy-name) or is --global"
                        .into(),
                )
                .into());
            }
            let doc = BlobPolicyInit {
                name: args.name,
                level: args.level,
                trust_stores: args.trust_stores,
                trusted_identities: args.trusted_identities,
                global: args.global,
            }
            .build()
            .context("the blob trust policy would be invalid")?;
            (dir.blob_policy_path(), doc.raw().to_vec())
        }
    };
    write_policy(&path, &bytes, args.force)?;
    println!("Trust policy written to {}", path.display());
    Ok(())
}
