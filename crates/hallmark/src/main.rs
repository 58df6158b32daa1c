//! `hallmark`: the command-line entry point. Each subcommand lives in its own module; this
//! file parses arguments, sets up logging and maps failures to exit codes.
//!
//! Exit codes: 0 success; 1 the command failed (the reason is printed on stderr); 2 the
//! command line or configuration file is invalid.

mod config;
mod logging;
mod serve;

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
