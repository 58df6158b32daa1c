//! `hallmark cert add|list|show|delete|generate-test|cleanup-test`: the trust store
//! (`truststore/x509/{ca,signingAuthority,tsa}/NAME`), managed with notation's verbs and flags.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_trust::{ConfigDir, KeySuite, SigningKeys, StoreEntry, StoreType};
use hallmark_x509::{Certificate, KeySpec, generate_test_certificate};
use serde_json::{Value, json};

use crate::UsageError;
use crate::inspect::certificate_json;
use crate::notary::ConfigArgs;
use crate::target::{Output, print_json};

/// `cert` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Add certificates to a trust store (created if needed).
    Add(AddArgs),
    /// List the certificate files of the trust stores.
    #[command(alias = "ls")]
    List(ListArgs),
    /// Show the certificates of one trust store file.
    Show(ShowArgs),
    /// Delete a certificate file, or a whole store with --all.
    #[command(alias = "rm")]
    Delete(DeleteArgs),
    /// Make a self-signed test certificate and key, trust it, and register the key.
    GenerateTest(GenerateArgs),
    /// Remove everything `generate-test NAME` made.
    CleanupTest(CleanupArgs),
}

/// `-t TYPE -s STORE`.
#[derive(Debug, clap::Args)]
pub struct StoreArgs {
    /// Store type: ca, signingAuthority, tsa, or notaryV1 (Notary v1 root certificates).
    #[arg(short = 't', long = "type", value_parser = store_type)]
    store_type: StoreType,
    /// Store name.
    #[arg(short = 's', long = "store")]
    store: String,
}

fn store_type(text: &str) -> Result<StoreType, String> {
    text.parse()
        .map_err(|e: hallmark_trust::trust_store::UnknownStoreType| e.to_string())
}

/// Flags of `cert add`.
#[derive(Debug, clap::Args)]
pub struct AddArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Certificate files (`.pem`, `.crt` or `.cer`).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Replace a file of the same name already in the store.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `cert list`.
#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this store type.
    #[arg(short = 't', long = "type", value_parser = store_type)]
    store_type: Option<StoreType>,
    /// Only stores of this name.
    #[arg(short = 's', long = "store")]
    store: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `cert show`.
#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The file name in the store.
    file: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `cert delete`.
#[derive(Debug, clap::Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// The file name in the store.
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    file: Option<String>,
    /// Delete the whole store.
    #[arg(short = 'a', long)]
    all: bool,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Flags of `cert generate-test`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Common name of the certificate; also the key name and the `ca` store name.
    name: String,
    /// Key type and size: RSA-2048, RSA-3072, RSA-4096, EC-256, EC-384 or EC-521.
    #[arg(short = 'b', long, default_value = "RSA-2048", value_parser = key_spec)]
    key_spec: KeySpec,
    /// Make the key the default signing key.
    #[arg(long)]
    default: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

fn key_spec(text: &str) -> Result<KeySpec, String> {
    KeySpec::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = KeySpec::ALL.iter().map(|s| s.name()).collect();
        format!("unknown key spec {text:?}; use one of {}", names.join(", "))
    })
}

/// Flags of `cert cleanup-test`.
#[derive(Debug, clap::Args)]
pub struct CleanupArgs {
    /// The name given to `generate-test`.
    name: String,
    /// Do not ask for confirmation.
    #[arg(short = 'y', long)]
    yes: bool,
    #[command(flatten)]
    config: ConfigArgs,
}

/// Runs a `cert` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Add(args) => add(args),
        Command::List(args) => list(args),
        Command::Show(args) => show(args),
        Command::Delete(args) => delete(args),
        Command::GenerateTest(args) => generate(args),
        Command::CleanupTest(args) => cleanup(args),
    }
}

fn add(args: AddArgs) -> anyhow::Result<()> {
    let store = args.config.dir()?.trust_store();
    let StoreArgs {
        store_type,
        store: name,
    } = &args.store;
    for file in &args.files {
        let path = store
            .add(*store_type, name, file, args.force)
            .with_context(|| format!("cannot add {} to {store_type}:{name}", file.display()))?;
        println!(
            "Added {} to trust store {store_type}:{name}",
            path.display()
        );
    }
    Ok(())
}

fn entry_json(e: &StoreEntry) -> Value {
    json!({
        "storeType": e.store_type.as_str(),
        "store": e.store,
        "file": e.file,
        "path": e.path,
    })
}

fn list(args: ListArgs) -> anyhow::Result<()> {
    let store = args.config.dir()?.trust_store();
    let entries = store.list(args.store_type, args.store.as_deref())?;
    match args.output {
        Output::Json => {
            let list: Vec<Value> = entries.iter().map(entry_json).collect();
            print_json(&json!({ "certificates": list }))
        }
        Output::Text => {
            if entries.is_empty() {
                println!("The trust store is empty; add certificates with `hallmark cert add`");
            }
            for e in &entries {
                println!("{}", e.path.display());
            }
            Ok(())
        }
    }
}

fn show(args: ShowArgs) -> anyhow::Result<()> {
    let store = args.config.dir()?.trust_store();
    let StoreArgs {
        store_type,
        store: name,
    } = &args.store;
    let entry = store
        .list(Some(*store_type), Some(name))?
        .into_iter()
        .find(|e| e.file == args.file)
        .ok_or_else(|| {
            anyhow::anyhow!(
                "{:?} is not in trust store {store_type}:{name}; see `hallmark cert list`",
                args.file
            )
        })?;
    let certs = read_certificates(&entry.path)?;
    match args.output {
        Output::Json => {
            let list: Vec<Value> = certs.iter().map(certificate_json).collect();
            print_json(&json!({ "entry": entry_json(&entry), "certificates": list }))
        }
        Output::Text => {
            println!("Certificates in {}:", entry.path.display());
            for c in &certs {
                println!();
                println!("Issuer: {}", c.issuer());
                println!("Subject: {}", c.subject());
                println!("Valid from: {}", c.not_before());
                println!("Valid to: {}", c.not_after());
                println!("IsCA: {}", c.is_ca());
                println!("SHA256 Thumbprint: {}", c.sha256_fingerprint());
            }
            Ok(())
        }
    }
}

fn read_certificates(path: &Path) -> anyhow::Result<Vec<Certificate>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Certificate::parse_many(&bytes).with_context(|| format!("{} is invalid", path.display()))
}

fn delete(args: DeleteArgs) -> anyhow::Result<()> {
    let store = args.config.dir()?.trust_store();
    let StoreArgs {
        store_type,
        store: name,
    } = &args.store;
    match &args.file {
        Some(file) => {
            let what = format!("certificate {file:?} from trust store {store_type}:{name}");
            if !confirm(&what, args.yes)? {
                return Ok(());
            }
            let path = store.delete_file(*store_type, name, file)?;
            println!("Deleted {}", path.display());
        }
        None => {
            let what = format!("every certificate of trust store {store_type}:{name}");
            if !confirm(&what, args.yes)? {
                return Ok(());
            }
            let removed = store.delete_store(*store_type, name)?;
            println!(
                "Deleted trust store {store_type}:{name} ({} certificate files)",
                removed.len()
            );
        }
    }
    Ok(())
}

/// Asks on the terminal unless `yes`; without a terminal, refuses rather than guess.
fn confirm(what: &str, yes: bool) -> anyhow::Result<bool> {
    if yes {
        return Ok(true);
    }
    if !std::io::stdin().is_terminal() {
        return Err(UsageError(format!(
            "deleting {what} needs confirmation; pass -y to confirm without a terminal"
        ))
        .into());
    }
    eprint!("Are you sure you want to delete {what}? [y/N] ");
    std::io::stderr().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    let yes = matches!(answer.trim(), "y" | "Y" | "yes");
    if !yes {
        eprintln!("Operation cancelled.");
    }
    Ok(yes)
}

fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let dir = args.config.dir()?;
    let name = &args.name;
    if !hallmark_trust::trust_store::is_valid_store_name(name) {
        return Err(UsageError(format!(
            "{name:?} cannot name a key and trust store; use letters, digits, '_', '.' and '-'"
        ))
        .into());
    }
    let keys_path = dir.signing_keys_path();
    let mut keys = SigningKeys::load(&keys_path)?;
    if keys.get(name).is_some() {
        return Err(UsageError(format!(
            "signing key {name:?} already exists; remove it with `hallmark cert cleanup-test \
             {name}` first"
        ))
        .into());
    }

    let (key, cert) = generate_test_certificate(name, args.key_spec)?;
    let key_pem = key.to_pkcs8_pem()?;
    let (key_path, cert_path) =
        dir.write_local_key_pair(name, key_pem.as_bytes(), cert.to_pem().as_bytes(), false)?;
    println!("generated certificate expiring on {}", cert.not_after());
    println!("wrote key: {}", key_path.display());
    println!("wrote certificate: {}", cert_path.display());

    dir.trust_store()
        .add(StoreType::Ca, name, &cert_path, false)
        .with_context(|| format!("cannot add the certificate to trust store ca:{name}"))?;
    println!("added certificate {name}.crt to trust store ca:{name}");

    let suite = KeySuite::local(name, absolute(&key_path)?, absolute(&cert_path)?);
    let make_default = args.default || keys.default.is_none();
    keys.add(suite, make_default)?;
    keys.save(&keys_path)?;
    if make_default {
        println!("{name}: marked as the default signing key");
    }
    Ok(())
}

fn absolute(path: &Path) -> anyhow::Result<String> {
    let path = std::path::absolute(path)
        .with_context(|| format!("cannot make {} absolute", path.display()))?;
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("{} is not valid UTF-8", path.display()))
}

fn cleanup(args: CleanupArgs) -> anyhow::Result<()> {
    let dir = args.config.dir()?;
    let name = &args.name;
    let what = format!("test key {name:?}, its certificate and trust store ca:{name}");
    if !confirm(&what, args.yes)? {
        return Ok(());
    }
    remove_test_material(&dir, name)
}

/// Removes the trust store entry, the signing key entry and the local key files of a test
/// key; what is already gone is skipped.
fn remove_test_material(dir: &ConfigDir, name: &str) -> anyhow::Result<()> {
    let store = dir.trust_store();
    let file = format!("{name}.crt");
    match store.delete_file(StoreType::Ca, name, &file) {
        Ok(path) => println!("deleted {}", path.display()),
        Err(e) => println!("skipped the trust store: {e}"),
    }
    if store.list(Some(StoreType::Ca), Some(name))?.is_empty()
        && store.store_names(StoreType::Ca)?.iter().any(|n| n == name)
    {
        store.delete_store(StoreType::Ca, name)?;
    }

    let keys_path = dir.signing_keys_path();
    let mut keys = SigningKeys::load(&keys_path)?;
    if keys.remove(name).is_ok() {
        keys.save(&keys_path)?;
        println!("removed signing key {name:?} from {}", keys_path.display());
    }
    for ext in ["key", "crt"] {
        let path = dir.localkeys_dir().join(format!("{name}.{ext}"));
        match std::fs::remove_file(&path) {
            Ok(()) => println!("deleted {}", path.display()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("cannot delete {}", path.display())),
        }
    }
    Ok(())
}
