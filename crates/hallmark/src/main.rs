//! `hallmark`: the command-line entry point. Each subcommand lives in its own module; this
//! file parses arguments, sets up logging and maps failures to exit codes.
//!
//! Exit codes: 0 success; 1 the command failed (the reason is printed on stderr); 2 the
//! command line or configuration file is invalid.

mod blob;
mod blob_signature;
mod cert;
mod config;
mod copy;
mod cosign;
mod discover;
mod doctor;
mod inspect;
mod key;
mod logging;
mod login;
mod manifest;
mod notary;
mod policy;
mod progress;
mod pull;
mod push;
mod repo;
mod serve;
mod sign;
mod tag;
mod target;
mod v1;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Registry, signing and Notary v1 bridge in one binary.
#[derive(Debug, Parser)]
#[command(name = "hallmark", version, about)]
struct Cli {
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, default_value_t = logging::Format::Text)]
    log_format: logging::Format,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the OCI Distribution v1.1 registry.
    Serve(serve::Args),
    /// Push files as an OCI artifact.
    Push(push::Args),
    /// Pull an artifact's files.
    Pull(pull::Args),
    /// Add tags to a manifest.
    Tag(tag::Args),
    /// Copy an image or artifact (with -r, and its referrers) between registries and layouts.
    Copy(copy::Args),
    /// Show the referrers graph of a manifest.
    Discover(discover::Args),
    /// Probe a server: which registry and signing protocols it speaks.
    Doctor(doctor::Args),
    /// Check and save credentials for a registry.
    Login(login::LoginArgs),
    /// Remove saved credentials for a registry.
    Logout(login::LogoutArgs),
    /// Fetch, push or delete manifests.
    #[command(subcommand)]
    Manifest(manifest::Command),
    /// Fetch, push or delete blobs; sign and verify local files.
    #[command(subcommand)]
    Blob(blob::Command),
    /// List repositories and tags.
    #[command(subcommand)]
    Repo(repo::Command),
    /// Sign an artifact with a Notary Project signature.
    Sign(sign::Args),
    /// Verify the Notary Project signatures of an artifact under the trust policy.
    Verify(verify::Args),
    /// List the signatures of an artifact.
    #[command(alias = "ls")]
    List(inspect::Args),
    /// Show the signatures of an artifact in detail.
    Inspect(inspect::Args),
    /// Manage signing keys (signingkeys.json).
    #[command(subcommand)]
    Key(key::Command),
    /// Manage the trust store and test certificates.
    #[command(subcommand)]
    Cert(cert::Command),
    /// Manage the OCI trust policy.
    #[command(subcommand)]
    Policy(policy::Command),
    /// cosign's key-based signing, attestation and verification.
    #[command(subcommand)]
    Cosign(cosign::Command),
    /// The bridge from Notary v1: verify v1 trust data and migrate signed tags.
    #[command(subcommand)]
    V1(v1::Command),
}

/// A failure whose exit code is 2: the user asked for something malformed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format);
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
        Command::Push(args) => push::run(args),
        Command::Pull(args) => pull::run(args),
        Command::Tag(args) => tag::run(args),
        Command::Copy(args) => copy::run(args),
        Command::Discover(args) => discover::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Login(args) => login::login(args),
        Command::Logout(args) => login::logout(args),
        Command::Manifest(command) => manifest::run(command),
        Command::Blob(command) => blob::run(command),
        Command::Repo(command) => repo::run(command),
        Command::Sign(args) => sign::run(args),
        Command::Verify(args) => verify::run(args),
        Command::List(args) => inspect::list(args),
        Command::Inspect(args) => inspect::inspect(args),
        Command::Key(command) => key::run(command),
        Command::Cert(command) => cert::run(command),
        Command::Policy(command) => policy::run(policy::Kind::Oci, command),
        Command::Cosign(command) => cosign::run(command),
        Command::V1(command) => v1::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            if e.downcast_ref::<UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
