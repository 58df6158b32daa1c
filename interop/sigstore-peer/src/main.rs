//! `sigstore-peer`: an independent implementation of cosign's key-based formats, built on the
//! `sigstore` crate (sigstore-rs), for Hallmark's interoperability tests and benchmarks.
//!
//! Everything cryptographic and every cosign format decision goes through sigstore-rs: key
//! generation and key files (`SigStoreKeyPair`), the simple-signing payload (`SignatureLayer`,
//! `AnnotationMarker`, `PrivateKeySigner`), digest resolution (`Client::triangulate`), pushing
//! (`Client::push_signature`) and verification (`trusted_signature_layers`,
//! `verify_constraints`). The program only adds what the crate leaves to its caller: reading
//! the layers already under the `.sig` tag so that a signature is appended rather than
//! replacing the others.
//!
//! Exit codes: 0 success, 1 failure (one line per reason on stderr), 2 invalid command line.

mod keys;
mod registry;
mod sign;
mod verify;

use std::collections::BTreeMap;
use std::fmt;
use std::process::ExitCode;

const USAGE: &str = "\
usage: sigstore-peer generate-key-pair --output-key-prefix PREFIX
       sigstore-peer public-key --key KEY_FILE
       sigstore-peer sign --key KEY_FILE [-a KEY=VALUE]... [--plain-http] REF...
       sigstore-peer verify --key PUB_FILE [-a KEY=VALUE]... [--plain-http] REF...

Key files are cosign's: the private key is encrypted with $COSIGN_PASSWORD.
Registries on 127.0.0.1, localhost and [::1] are always reached over plain HTTP;
--plain-http extends that to every registry named on the command line.
SIGSTORE_PEER_LOG=warn (any tracing filter) shows why sigstore-rs skipped a layer.";

/// The environment variable holding a `tracing` filter for diagnostics on stderr.
const LOG_VAR: &str = "SIGSTORE_PEER_LOG";

/// Why a command did not succeed.
#[derive(Debug)]
pub enum Failure {
    /// The command line is invalid (exit code 2).
    Usage(String),
    /// The command ran and failed (exit code 1).
    Failed(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(reason) | Failure::Failed(reason) => f.write_str(reason),
        }
    }
}

/// Shorthand for a failure with a reason built from any displayable error.
pub fn failed(context: &str, error: impl fmt::Display) -> Failure {
    Failure::Failed(format!("{context}: {error}"))
}

/// Options shared by `sign` and `verify`.
pub struct ImageArgs {
    /// The key file: private for `sign`, public for `verify`.
    pub key: String,
    /// `-a KEY=VALUE` annotations, in the simple-signing payload's `optional` object.
    pub annotations: BTreeMap<String, String>,
    /// Use plain HTTP for every registry, not just loopback ones.
    pub plain_http: bool,
    /// The image references, in command-line order.
    pub references: Vec<String>,
}

/// Turns the per-reference failures of a multi-reference command into its result: one
/// failure is the reason itself; several are printed one per line, then summarised.
pub fn summarise(failures: Vec<String>, total: usize) -> Result<(), Failure> {
    match failures.len() {
        0 => Ok(()),
        1 => Err(Failure::Failed(failures.concat())),
        n => {
            for failure in &failures {
                eprintln!("sigstore-peer: {failure}");
            }
            Err(Failure::Failed(format!("{n} of {total} references failed")))
        }
    }
}

enum Command {
    Help,
    GenerateKeyPair { prefix: String },
    PublicKey { key: String },
    Sign(ImageArgs),
    Verify(ImageArgs),
}

/// Splits `--flag=value` and `--flag value`; returns the value of `flag` if `arg` is that flag.
fn flag_value(
    arg: &str,
    names: &[&str],
    rest: &mut impl Iterator<Item = String>,
) -> Result<Option<String>, Failure> {
    for name in names {
        if arg == *name {
            return rest
                .next()
                .map(Some)
                .ok_or_else(|| Failure::Usage(format!("{name} needs a value")));
        }
        if let Some(value) = arg.strip_prefix(name).and_then(|v| v.strip_prefix('=')) {
            return Ok(Some(value.to_owned()));
        }
    }
    Ok(None)
}

fn parse_image_args(args: impl Iterator<Item = String>) -> Result<ImageArgs, Failure> {
    let mut args = args;
    let mut key = None;
    let mut annotations = BTreeMap::new();
    let mut plain_http = false;
    let mut references = Vec::new();
    while let Some(arg) = args.next() {
        if let Some(value) = flag_value(&arg, &["--key"], &mut args)? {
            key = Some(value);
        } else if let Some(value) = flag_value(&arg, &["-a", "--annotations"], &mut args)? {
            let (k, v) = value
                .split_once('=')
                .ok_or_else(|| Failure::Usage(format!("annotation {value:?} is not KEY=VALUE")))?;
            if k.is_empty() {
                return Err(Failure::Usage(format!(
                    "annotation {value:?} has an empty key"
                )));
            }
            annotations.insert(k.to_owned(), v.to_owned());
        } else if arg == "--plain-http" {
            plain_http = true;
        } else if arg == "--" {
            references.extend(args.by_ref());
        } else if arg.starts_with('-') {
            return Err(Failure::Usage(format!("unknown option {arg}")));
        } else {
            references.push(arg);
        }
    }
    let key = key.ok_or_else(|| Failure::Usage("--key is required".to_owned()))?;
    if references.is_empty() {
        return Err(Failure::Usage("no image reference given".to_owned()));
    }
    Ok(ImageArgs {
        key,
        annotations,
        plain_http,
        references,
    })
}

/// Parses a command taking exactly one flag with a value.
fn parse_single_flag(args: impl Iterator<Item = String>, flag: &str) -> Result<String, Failure> {
    let mut args = args;
    let mut value = None;
    while let Some(arg) = args.next() {
        match flag_value(&arg, &[flag], &mut args)? {
            Some(v) => value = Some(v),
            None => return Err(Failure::Usage(format!("unexpected argument {arg}"))),
        }
    }
    value.ok_or_else(|| Failure::Usage(format!("{flag} is required")))
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Command, Failure> {
    let command = args
        .next()
        .ok_or_else(|| Failure::Usage("no command given".to_owned()))?;
    let args: Vec<String> = args.collect();
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let args = args.into_iter();
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "generate-key-pair" => Ok(Command::GenerateKeyPair {
            prefix: parse_single_flag(args, "--output-key-prefix")?,
        }),
        "public-key" => Ok(Command::PublicKey {
            key: parse_single_flag(args, "--key")?,
        }),
        "sign" => Ok(Command::Sign(parse_image_args(args)?)),
        "verify" => Ok(Command::Verify(parse_image_args(args)?)),
        other => Err(Failure::Usage(format!("unknown command {other}"))),
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Help => {
            println!("{USAGE}");
            Ok(())
        }
        Command::GenerateKeyPair { prefix } => keys::generate_key_pair(&prefix),
        Command::PublicKey { key } => keys::print_public_key(&key),
        Command::Sign(args) => block_on(sign::sign(args)),
        Command::Verify(args) => block_on(verify::verify(args)),
    }
}

fn block_on<F: Future<Output = Result<(), Failure>>>(future: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| failed("cannot start the async runtime", e))?
        .block_on(future)
}

/// Sends sigstore-rs's and oci-client's `tracing` events to stderr when `SIGSTORE_PEER_LOG`
/// holds a filter such as `warn` or `sigstore=debug`; they are the only place the crate says
/// why it skipped a signature layer.
fn init_logging() {
    let Ok(filter) = std::env::var(LOG_VAR) else {
        return;
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
}

fn main() -> ExitCode {
    init_logging();
    let result = parse(std::env::args().skip(1)).and_then(run);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(reason)) => {
            eprintln!("sigstore-peer: {reason}\n{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(reason)) => {
            eprintln!("sigstore-peer: {reason}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, Failure> {
        parse(line.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn parses_sign_with_annotations() {
        let Ok(Command::Sign(args)) =
            parse_str("sign --key k.key -a a=1 --annotations=b=x=y r1 r2")
        else {
            panic!("not a sign command");
        };
        assert_eq!(args.key, "k.key");
        assert_eq!(args.annotations.get("a").map(String::as_str), Some("1"));
        assert_eq!(args.annotations.get("b").map(String::as_str), Some("x=y"));
        assert_eq!(args.references, ["r1", "r2"]);
    }

    #[test]
    fn rejects_bad_command_lines() {
        for line in [
            "",
            "sign r1",
            "sign --key k",
            "verify --key k -a noequals r",
            "verify --key k --bogus r",
            "public-key",
            "public-key --key",
            "generate-key-pair --output-key-prefix p extra",
            "frobnicate",
        ] {
            assert!(matches!(parse_str(line), Err(Failure::Usage(_))), "{line}");
        }
    }
}
