//! Project automation, run as `cargo xtask <command>` (the alias is in `.cargo/config.toml`).
//!
//! `bench` starts the release build of `hallmark serve` beside Debian's `docker-registry`
//! (distribution 2.8), drives both with the same load generators, measures what this machine
//! can do at best for the same requests (a trivial HTTP server, nginx's `sendfile`, `dd`), and
//! prints one table of ratios. Absolute numbers depend on the machine and on what else runs on
//! it; the ratios taken within one run are what the targets are about. BENCHMARKS.md holds a
//! measured table.
//!
//! Its `copy` phase times `hallmark copy` between two `hallmark serve` instances against
//! Debian's `skopeo copy`, and against `curl` uploading the same blob alone.
//!
//! Its `cosign` phase times `hallmark cosign sign` and `verify` of 100 images against the Rust
//! `sigstore` crate's cosign client doing the same.
//!
//! Its `migrate` phase times `hallmark v1 migrate` of a Notary v1 repository with 1,000 signed
//! tags from Debian's `notary-server`.
//!
//! `trivial-server` is the ceiling for small responses: an axum server that answers every
//! request with the same manifest bytes and headers. `bench` starts it as a child process.

mod bench;
mod client;
mod copy;
mod cosign;
mod migrate;
mod procs;
mod rawload;
mod report;
mod servers;
mod signing;
mod transfer;
mod trivial;
mod wrk;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Hallmark's project automation.
#[derive(Debug, Parser)]
#[command(name = "xtask")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Benchmark `hallmark serve` against distribution and the machine's ceiling.
    Bench(bench::Args),
    /// Serve one fixed manifest response on every path (the bench's request-rate ceiling).
    #[command(hide = true)]
    TrivialServer(trivial::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench(args) => bench::run(args),
        Command::TrivialServer(args) => trivial::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
