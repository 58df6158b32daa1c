//! `hallmark doctor URL [REPO]`: probes a server and says which registry and signing
//! protocols it speaks, each finding mapped to the failure a user would otherwise meet and to
//! what fixes it.
//!
//! The checks, in order: the transport (TLS with a verified certificate, or plain HTTP), the
//! OCI Distribution API (`GET /v2/`, its `Docker-Distribution-API-Version` header and
//! `WWW-Authenticate` challenge), whether the user's credentials work, the referrers API
//! (distribution spec "Listing referrers"), with `--write` whether the registry takes a
//! manifest with `subject` and `artifactType` and answers `OCI-Subject` ("Pushing manifests
//! with subject"; pushed to the scratch repository `<REPO>-hallmark-doctor`, then deleted),
//! and whether the server is a Notary v1 trust server (`/_notary_server/health`,
//! `/v2/<gun>/_trust/tuf/root.json`).
//!
//! Every probe has its own tracing span and a 5 s limit, and is sent once: a diagnosis must
//! show what the server answers, not what a retry eventually got.
//!
//! Exit codes: 0 when the server answered (whatever the findings), 1 when nothing answered,
//! 2 for an invalid command line or client configuration (a CA file that cannot be used, an
//! invalid client.toml).

mod image;
mod notary;
mod probes;
mod report;
mod transport;
mod write;

use anyhow::Context;
use hallmark_oci::RepositoryName;
use reqwest::Url;
use tracing::Instrument;

use crate::UsageError;
use crate::target::{ClientArgs, Output, small_runtime};

/// Flags of `doctor`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The server: `host[:port]`, `https://host[:port]` or `http://host[:port]`.
    url: String,
    /// A repository to probe; for a Notary v1 server, the GUN (`docker.io/library/alpine`).
    repo: Option<String>,
    /// Also push a throwaway image and an artifact with a subject, then delete them: to the
    /// scratch repository REPO-hallmark-doctor, beside REPO.
    #[arg(long)]
    write: bool,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Output::Text)]
    output: Output,
    #[command(flatten)]
    client: ClientArgs,
}

/// The server named on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerArg {
    /// `host[:port]`, as registry references and credential files name it.
    pub registry: String,
    /// The scheme, when the URL named one.
    pub scheme: Option<&'static str>,
}

impl ServerArg {
    /// Parses `host[:port]` or `http(s)://host[:port][/]`.
    pub fn parse(text: &str) -> anyhow::Result<ServerArg> {
        let bad = |why: &str| UsageError(format!("server '{text}': {why}"));
        let (scheme, rest) = match text.split_once("://") {
            Some(("https", rest)) => (Some("https"), rest),
            Some(("http", rest)) => (Some("http"), rest),
            Some((other, _)) => {
                return Err(bad(&format!("scheme {other} is not http or https")).into());
            }
            None => (None, text),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains('/') {
            return Err(bad("registries serve their API at the root; give no path").into());
        }
        let url = Url::parse(&format!("https://{rest}/")).map_err(|e| bad(&e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?;
        let registry = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        };
        Ok(ServerArg { registry, scheme })
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let server = ServerArg::parse(&args.url)?;
    let repo = args
        .repo
        .as_deref()
        .map(|r| {
            r.parse::<RepositoryName>()
                .map_err(|e| UsageError(format!("repository '{r}': {e}")))
        })
        .transpose()?;
    let scratch = match (&repo, args.write) {
        (_, false) => None,
        (None, true) => {
            let why = "--write needs REPO: the probe pushes to a scratch repository beside it";
            return Err(UsageError(why.into()).into());
        }
        (Some(repo), true) => Some(write::scratch_repository(repo).map_err(|e| {
            UsageError(format!(
                "--write pushes to {repo}{}, which is no repository name ({e}); pass a \
                 shorter REPO",
                write::SCRATCH_SUFFIX
            ))
        })?),
    };
    // The user's client settings (CA files, insecure registries, credentials) as every
    // client command reads them. They come from the command line and the configuration
    // file: what is wrong with them is a usage error, not a finding about the server.
    let client = args.client.client(&[&server.registry]).map_err(|e| {
        let fix = match e.downcast_ref::<hallmark_client::Error>() {
            Some(hallmark_client::Error::CaFile { .. }) => {
                "; pass a readable PEM file of CA certificates with --ca-file (or in ca_files \
                 of ~/.config/hallmark/client.toml)"
            }
            _ => "",
        };
        UsageError(format!("{e:#}{fix}"))
    })?;

    let span = tracing::info_span!("doctor", registry = %server.registry);
    let setup = probes::Setup {
        server: &server,
        repo: repo.as_ref(),
        scratch: scratch.as_ref(),
        args: &args.client,
        config: client.config(),
    };
    let report = small_runtime()?
        .block_on(probes::diagnose(&setup).instrument(span))
        .context("cannot run the probes")?;
    report.print(args.output)?;
    if !report.reachable {
        let why = report
            .findings
            .first()
            .map_or_else(String::new, |f| format!(": {}", f.detail));
        anyhow::bail!("{} is not reachable{why}", server.registry);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_arguments() {
        let cases = [
            ("r.io", "r.io", None),
            ("r.io:5000", "r.io:5000", None),
            ("https://r.io/", "r.io", Some("https")),
            ("http://127.0.0.1:5000", "127.0.0.1:5000", Some("http")),
            ("[::1]:5000", "[::1]:5000", None),
        ];
        for (text, registry, scheme) in cases {
            let s = ServerArg::parse(text).expect(text);
            assert_eq!(s.registry, registry, "{text}");
            assert_eq!(s.scheme, scheme, "{text}");
        }
        for bad in ["ftp://r.io", "r.io/v2/", "https://", "r.io:port"] {
            assert!(ServerArg::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
