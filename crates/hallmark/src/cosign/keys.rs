//! `hallmark cosign generate-key-pair|import-key-pair|public-key`, and loading keys for the
//! other `cosign` commands: cosign's key files, with
//! cosign's verbs, flags, file names and modes (`cosign.key` 0600, `cosign.pub` 0644).
//!
//! The password comes from `COSIGN_PASSWORD` when it is set (an empty value is a valid
//! password), else from a prompt on the terminal, else from standard input up to its end.

use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_cosign::ScryptCost;
use hallmark_cosign::key_file;
use hallmark_x509::{KeySpec, SigningKey};

use crate::UsageError;

/// Flags of `cosign generate-key-pair`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, default_value = "cosign", value_name = "PREFIX")]
    pub output_key_prefix: String,
    /// Key type: EC-256 (cosign's default), EC-384, EC-521, RSA-2048, RSA-3072 or RSA-4096.
    #[arg(long, default_value = "EC-256", value_parser = key_spec)]
    key_spec: KeySpec,
}

/// Flags of `cosign import-key-pair`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[arg(short = 'k', long)]
    key: PathBuf,
    /// Write PREFIX.key and PREFIX.pub.
    #[arg(long, default_value = "import-cosign", value_name = "PREFIX")]
    pub output_key_prefix: String,
}

/// Flags of `cosign public-key`.
#[derive(Debug, clap::Args)]
pub struct PublicKeyArgs {
    /// The `cosign.key` file.
    #[arg(long)]
    key: PathBuf,
    /// Write the public key here instead of standard output.
    #[arg(long)]
    outfile: Option<PathBuf>,
}

fn key_spec(text: &str) -> Result<KeySpec, String> {
    KeySpec::from_name(text).ok_or_else(|| {
        let names: Vec<&str> = KeySpec::ALL.iter().map(|s| s.name()).collect();
        format!("unknown key spec {text:?}; use one of {}", names.join(", "))
    })
}

pub fn generate(args: GenerateArgs) -> anyhow::Result<()> {
    let (key_path, pub_path) = output_paths(&args.output_key_prefix)?;
    let key = SigningKey::generate(args.key_spec)?;
    let password = new_password()?;
    write_pair(&key, &password, &key_path, &pub_path)
}

pub fn import(args: ImportArgs) -> anyhow::Result<()> {
    let (key_path, pub_path) = output_paths(&args.output_key_prefix)?;
    let pem =
        std::fs::read(&args.key).with_context(|| format!("cannot read {}", args.key.display()))?;
    let key = SigningKey::from_pem(&pem).with_context(|| {
        format!(
            "{} is not a private key Hallmark can use",
            args.key.display()
        )
    })?;
    let password = new_password()?;
    write_pair(&key, &password, &key_path, &pub_path)
}

pub fn public_key(args: PublicKeyArgs) -> anyhow::Result<()> {
    let pem =
        std::fs::read(&args.key).with_context(|| format!("cannot read {}", args.key.display()))?;
    let password = password(&format!(
        "Enter password for private key {}: ",
        args.key.display()
    ))?;
    let key = key_file::load_signing_key(&pem, password.as_bytes())
        .with_context(|| format!("cannot open {}", args.key.display()))?;
    let public = key_file::public_key_pem(&key)?;
    match &args.outfile {
        Some(path) => write_new(path, public.as_bytes(), 0o644)?,
        None => print!("{public}"),
    }
    Ok(())
}

/// `PREFIX.key` and `PREFIX.pub`, neither of which may exist yet.
fn output_paths(prefix: &str) -> anyhow::Result<(PathBuf, PathBuf)> {
    let key = PathBuf::from(format!("{prefix}.key"));
    let public = PathBuf::from(format!("{prefix}.pub"));
    for path in [&key, &public] {
        if path.exists() {
            return Err(UsageError(format!(
                "{} already exists; move it away or choose another --output-key-prefix",
                path.display()
            ))
            .into());
        }
    }
    Ok((key, public))
}

fn write_pair(
    key: &SigningKey,
    password: &str,
    key_path: &Path,
    pub_path: &Path,
) -> anyhow::Result<()> {
    let der = key.to_pkcs8_der()?;
    let sealed = key_file::encrypt(&der, password.as_bytes(), ScryptCost::N65536)?;
    let public = key_file::public_key_pem(key)?;
    write_new(key_path, sealed.as_bytes(), 0o600)?;
    if let Err(e) = write_new(pub_path, public.as_bytes(), 0o644) {
        // Half a pair is worse than none: the private key goes too.
        let _ = std::fs::remove_file(key_path);
        return Err(e);
    }
    eprintln!("Private key written to {}", key_path.display());
    eprintln!("Public key written to {}", pub_path.display());
    Ok(())
}

/// Creates `path` (never replacing a file) with `mode`, writes and flushes it; a failed write
/// leaves no file behind.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let written = file.write_all(bytes).and_then(|()| file.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(path);
        return Err(e).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}

/// The password for a new key: `COSIGN_PASSWORD`, else asked twice on the terminal, else
/// standard input.
fn new_password() -> anyhow::Result<String> {
    if let Some(p) = env_password()? {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Enter password for private key: ")?;
        let again = rpassword::prompt_password("Enter password for private key again: ")?;
        if first != again {
            return Err(UsageError("the passwords do not match".into()).into());
        }
        return Ok(first);
    }
    read_stdin()
}

/// The password of an existing key: `COSIGN_PASSWORD`, else the terminal, else stdin.
pub fn password(prompt: &str) -> anyhow::Result<String> {
    if let Some(p) = env_password()? {
        return Ok(p);
    }
    if std::io::stdin().is_terminal() {
        return Ok(rpassword::prompt_password(prompt)?);
    }
    read_stdin()
}

/// `COSIGN_PASSWORD`, when it is set (an empty value is a password too).
fn env_password() -> anyhow::Result<Option<String>> {
    std::env::var_os("COSIGN_PASSWORD")
        .map(|p| {
            p.into_string()
                .map_err(|_| UsageError("COSIGN_PASSWORD is not valid UTF-8".into()).into())
        })
        .transpose()
}

fn read_stdin() -> anyhow::Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .read_to_string(&mut text)
        .context("cannot read the password from standard input")?;
    Ok(text)
}
