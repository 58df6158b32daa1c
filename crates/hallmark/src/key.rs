//! `hallmark key add|list|update|delete`: the signing keys of `signingkeys.json`, with
//! notation's verbs. Only local keys (a PEM private key and its certificate chain) can sign;
//! plugin keys are listed and kept, but not used.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::notary::{self, ConfigArgs};
use crate::target::{Output, print_json};
use hallmark_trust::{KeySuite, SigningKeys};

/// `key` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Register an existing private key and its certificate chain.
    Add(AddArgs),
    /// List the signing keys.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Make a key the default.
    #[command(alias = "set")]
    Update(UpdateArgs),
    /// Remove keys from signingkeys.json (their files are left on disk).
    #[command(alias = "rm")]
    Delete(DeleteArgs),
}

/// Flags of `key add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// The key name.
    name: String,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// PEM certificate chain, leaf first.
    #[arg(long, value_name = "FILE")]
    cert_file: PathBuf,
    /// Make it the default signing key.
    #[arg(long)]
    default: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `key list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `key update`.
#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    /// The key name.
    name: String,
    /// Make it the default signing key.
    #[arg(long, required = true)]
    default: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `key delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    /// The key names.
    #[arg(required = true)]
    names: Vec<String>,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Runs a `key` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(args) => add(args),
        Command::List(args) => list(args),
        Command::Update(args) => update(args),
        Command::Delete(args) => delete(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    // The pair is checked before it is registered, so a key never signs under another
    // key's certificate.
    let (_, chain) = notary::key_pair(&args.key_file, &args.cert_file)?;
    hallmark_x509::chain::validate_code_signing_chain(&chain)?;
    let path = |p: &PathBuf| -> anyhow::Result<String> {
        let p = std::path::absolute(p)?;
        p.to_str()
            .map(str::to_owned)
            .ok_or_else(|| anyhow::anyhow!("{} is not valid UTF-8", p.display()))
    };
    let suite = KeySuite::local(&args.name, path(&args.key_file)?, path(&args.cert_file)?);

    let dir = args.config.dir()?;
    let keys_path = dir.signing_keys_path();
    let mut keys = SigningKeys::load(&keys_path)?;
    keys.add(suite, args.default)?;
    keys.save(&keys_path)?;
    println!("{}", args.name);
    Ok(())
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let keys = SigningKeys::load(&args.config.dir()?.signing_keys_path())?;
    match args.output {
        Output::Json => {
            let list: Vec<Value> = keys
                .keys
                .iter()
                .map(|k| {
                    json!({
                        "name": k.name,
                        "default": keys.default.as_deref() == Some(&k.name),
                        "keyPath": k.key_path,
                        "certPath": k.cert_path,
                        "pluginName": k.plugin_name,
                        "id": k.id,
                    })
                })
                .collect();
            print_json(&json!({ "default": keys.default, "keys": list }))
        }
        Output::Text => {
            println!("{:<2}{:<24}{:<50}CERTIFICATE PATH", "", "NAME", "KEY PATH");
            for k in &keys.keys {
                let mark = if keys.default.as_deref() == Some(&k.name) {
                    "* "
                } else {
                    "  "
                };
                let key = k
                    .key_path
                    .clone()
                    .or_else(|| k.plugin_name.as_ref().map(|p| format!("plugin {p}")))
                    .unwrap_or_default();
                let cert = k.cert_path.clone().unwrap_or_default();
                println!("{mark}{:<24}{key:<50}{cert}", k.name);
            }
            Ok(())
        }
    }
}

fn update(args: UpdateArgs) -> anyhow::Result<()> {
    let keys_path = args.config.dir()?.signing_keys_path();
    let mut keys = SigningKeys::load(&keys_path)?;
    keys.set_default(&args.name)?;
    keys.save(&keys_path)?;
    println!("{}: marked as the default signing key", args.name);
    Ok(())
}

fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let keys_path = args.config.dir()?.signing_keys_path();
    let mut keys = SigningKeys::load(&keys_path)?;
    for name in &args.names {
        keys.remove(name)?;
    }
    keys.save(&keys_path)?;
    for name in &args.names {
        println!("Removed {name} from the signing keys; its key files were left in place");
    }
    Ok(())
}
