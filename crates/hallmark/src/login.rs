//! `hallmark login` and `hallmark logout`: credentials checked against the registry, then
//! saved where Docker and the containers tools read them (see the client's `credentials`).

use anyhow::Context;
use hallmark_client::Credential;
use tracing::Instrument;

use crate::UsageError;
use crate::target::{ClientArgs, runtime};

/// Flags of `login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// Registry host, e.g. `ghcr.io` or `127.0.0.1:5000`.
    registry: String,
    #[command(flatten)]
    client: ClientArgs,
}

/// Flags of `logout`.
#[derive(Debug, clap::Args)]
pub struct LogoutArgs {
    /// Registry host.
    registry: String,
    /// Credentials file to edit instead of the default.
    #[arg(long, value_name = "FILE")]
    registry_config: Option<std::path::PathBuf>,
}

pub fn login(args: LoginArgs) -> anyhow::Result<()> {
    let registry = args.registry.as_str();
    let username = args
        .client
        .username
        .clone()
        .ok_or_else(|| UsageError("login needs --username".into()))?;
    let password = args
        .client
        .password()?
        .ok_or_else(|| UsageError("login needs --password or --password-stdin".into()))?;
    let client = args.client.client(&[registry])?;
    let span = tracing::info_span!("login", %registry);
    runtime()?
        .block_on(client.ping(registry).instrument(span))
        .with_context(|| format!("{registry} did not accept the credentials of '{username}'"))?;
    let credential = Credential::Basic { username, password };
    let saved = args.client.store().store(registry, &credential)?;
    println!("Login Succeeded (credentials saved to {saved})");
    Ok(())
}

pub fn logout(args: LogoutArgs) -> anyhow::Result<()> {
    let store = match args.registry_config {
        Some(f) => hallmark_client::CredentialStore::with_file(f),
        None => hallmark_client::CredentialStore::from_env(),
    };
    let _span = tracing::info_span!("logout", registry = %args.registry).entered();
    if store.erase(&args.registry)? {
        println!("Removed credentials for {}", args.registry);
    } else {
        println!(
            "Not logged in to {} in {}",
            args.registry,
            store.login_file().display()
        );
    }
    Ok(())
}
