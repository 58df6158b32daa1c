//! The order of the checks, and the registry probes, each turned into a finding.
//!
//! The transport, `GET /v2/` and the Notary v1 endpoints are probed with the raw client of
//! `transport`, anonymously: what matters there is the raw status and headers, which the registry
//! client hides behind its own handling. Credentials and the referrers API are probed through
//! the registry client itself (`hallmark_client`), so they meet the scheme choice,
//! authentication and credential lookup every other command meets.

use std::future::Future;
use std::time::Duration;

use hallmark_client::auth::Challenge;
use hallmark_client::client::is_loopback;
use hallmark_client::error::RegistryErrors;
use hallmark_client::{Client, ClientConfig, Error, ReferrersMode, Repository};
use hallmark_oci::{Algorithm, Digest, RepositoryName};
use reqwest::StatusCode;
use tracing::Instrument;

use super::ServerArg;
use super::notary::Notary;
use super::report::{Finding, Report, Status};
use super::transport::{Answer, Connection, Tls, connect, get};
use super::write;
use crate::target::ClientArgs;

/// The limit on each probe, from the first byte sent to the last byte read.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

/// The repository probed when the user named none.
const MADE_UP_REPO: &str = "hallmark-doctor/probe";

/// What to probe and with which client settings.
pub struct Setup<'a> {
    /// The server.
    pub server: &'a ServerArg,
    /// The repository (the GUN for Notary v1), if given.
    pub repo: Option<&'a RepositoryName>,
    /// With `--write`, the scratch repository the push probe writes to.
    pub scratch: Option<&'a RepositoryName>,
    /// The client flags, for the registry client the later probes use.
    pub args: &'a ClientArgs,
    /// The client settings those flags and the configuration file make.
    pub config: &'a ClientConfig,
}

/// Runs every check on `setup.server`.
pub async fn diagnose(setup: &Setup<'_>) -> anyhow::Result<Report> {
    let mut report = Report::new(&setup.server.registry);
    // The repository to probe, parsed before anything is sent.
    let name: RepositoryName = match setup.repo {
        Some(r) => r.clone(),
        None => MADE_UP_REPO.parse()?,
    };
    let Some(conn) = connect(setup, &mut report).await? else {
        report.reachable = false;
        return Ok(report);
    };
    let gun = setup.repo.map_or(MADE_UP_REPO, RepositoryName::as_str);
    let notary = Notary::probe(&conn, gun, setup.repo.is_none()).await;

    if distribution_api(&conn.ping, &notary, &mut report) {
        let auth_required = auth(&conn.ping, &mut report);
        if conn.tls == Tls::Untrusted {
            let hint = "pass --ca-file with the CA that issued the certificate: nothing is \
                sent with credentials, or pushed, to a server whose certificate is not trusted";
            not_checked(setup, "the certificate is not trusted", hint, &mut report);
        } else {
            match registry_client(setup, &conn) {
                Ok(client) => {
                    let repo = client.repository(&setup.server.registry, name);
                    registry_checks(setup, &conn, &repo, auth_required, &mut report).await;
                }
                Err(e) => {
                    let detail = format!("cannot set up the registry client: {e:#}");
                    report.push(Finding::new("registry-client", Status::Fail, detail).hint(
                        "fix the client settings it names (--ca-file, --registry-config, \
                         ~/.config/hallmark/client.toml) and run doctor again",
                    ));
                    let hint = "fix the registry client (see registry-client)";
                    not_checked(setup, "no registry client", hint, &mut report);
                }
            }
        }
    }
    report.push(notary.finding());
    Ok(report)
}

/// The checks made through the registry client: credentials, the referrers API and, with
/// `--write`, the push probe.
async fn registry_checks(
    setup: &Setup<'_>,
    conn: &Connection,
    repo: &Repository,
    auth_required: bool,
    report: &mut Report,
) {
    let client = repo.client();
    credentials(setup, client, auth_required, report).await;
    let mut referrers_found = referrers(conn, repo, setup.repo.is_none()).await;
    let written = match setup.scratch {
        Some(scratch) => {
            let scratch = client.repository(&setup.server.registry, scratch.clone());
            Some(write::probe(&scratch).await)
        }
        None => None,
    };
    // The referrers of the image the push probe pushed are the conclusive answer.
    if let Some(found) = written.as_ref().and_then(|w| w.referrers.clone()) {
        referrers_found = found;
    }
    report.push(referrers_found);
    if let Some(written) = written {
        report.push(written.push);
        if let Some(cleanup) = written.cleanup {
            report.push(cleanup);
        }
    }
}

/// The findings of the checks that need the registry client, when it cannot be used.
fn not_checked(setup: &Setup<'_>, why: &str, hint: &str, report: &mut Report) {
    let detail = format!("not checked: {why}");
    report.push(Finding::new("credentials", Status::Info, &detail));
    report.push(Finding::new("referrers-api", Status::Info, &detail));
    if setup.scratch.is_some() {
        let detail = format!("not checked, nothing was pushed: {why}");
        report.push(Finding::new("subject-push", Status::Info, detail).hint(hint));
    }
}

/// The `GET /v2/` finding; true when the server looks like a registry.
fn distribution_api(ping: &Answer, notary: &Notary, report: &mut Report) -> bool {
    let status = ping.status.as_u16();
    let version = ping.header("docker-distribution-api-version");
    let (finding, registry) = match (status, version) {
        (200 | 401, Some(v)) => (
            Finding::new(
                "distribution-api",
                Status::Ok,
                format!("GET /v2/ answered {status}, Docker-Distribution-API-Version: {v}"),
            ),
            true,
        ),
        _ if notary.is_server() => (
            Finding::new(
                "distribution-api",
                Status::Fail,
                format!(
                    "this is a Notary v1 trust server, not a registry (GET /v2/ answered \
                     {status} without Docker-Distribution-API-Version)"
                ),
            )
            .hint(
                "Notary Project clients (notation, `hallmark sign`) and cosign store \
                 signatures in the registry that holds the images: point them at that registry",
            ),
            false,
        ),
        (200 | 401, None) => (
            Finding::new(
                "distribution-api",
                Status::Warn,
                format!(
                    "GET /v2/ answered {status} without Docker-Distribution-API-Version: a \
                     proxy may drop the header, or this is not a registry"
                ),
            ),
            true,
        ),
        (300..=399, _) => {
            let to = ping.header("location").unwrap_or("nowhere");
            let detail = format!("GET /v2/ answered {status}, a redirect to {to}");
            let finding = Finding::new("distribution-api", Status::Fail, detail)
                .hint("use the server it redirects to");
            (finding, false)
        }
        _ => (
            Finding::new(
                "distribution-api",
                Status::Fail,
                format!(
                    "GET /v2/ answered {status}: this server does not speak the OCI \
                     Distribution API"
                ),
            )
            .hint("check host and port: the API lives at /v2/ on the registry's own host"),
            false,
        ),
    };
    report.push(finding);
    registry
}

/// The `auth` finding from the `GET /v2/` answer; true when the registry wants credentials.
fn auth(ping: &Answer, report: &mut Report) -> bool {
    if ping.status != StatusCode::UNAUTHORIZED {
        let detail = "none: GET /v2/ answers without credentials";
        report.push(Finding::new("auth", Status::Ok, detail));
        return false;
    }
    let raw = ping.header("www-authenticate").unwrap_or_default();
    let finding = match Challenge::parse(raw) {
        Some(Challenge::Basic) => Finding::new("auth", Status::Ok, format!("HTTP Basic ({raw})")),
        Some(Challenge::Bearer { realm, service, .. }) => {
            let service = service.map_or_else(String::new, |s| format!(", service {s}"));
            let detail = format!("Bearer tokens from {realm}{service}");
            Finding::new("auth", Status::Ok, detail)
        }
        None if raw.is_empty() => Finding::new(
            "auth",
            Status::Fail,
            "GET /v2/ answered 401 without a challenge",
        )
        .hint("clients cannot tell how to authenticate; fix the server or its proxy"),
        None => Finding::new(
            "auth",
            Status::Fail,
            format!("GET /v2/ answered 401 with a challenge no client here answers: {raw}"),
        )
        .hint("Hallmark, docker and notation speak Basic and Bearer (Docker token) auth"),
    };
    report.push(finding);
    true
}

/// The registry client for the probes that go through it: the user's settings, the
/// referrers API only (so nothing writes a tag schema index), and plain HTTP where the
/// transport probe found no TLS.
fn registry_client(setup: &Setup<'_>, conn: &Connection) -> anyhow::Result<Client> {
    let mut args = setup.args.clone();
    args.referrers_mode = ReferrersMode::Api;
    if conn.tls == Tls::Plain && !is_loopback(&setup.server.registry) {
        args.plain_http = true;
    }
    args.client(&[&setup.server.registry])
}

/// Runs `f` under [`PROBE_TIMEOUT`] in a span named after `check`.
pub async fn timed<T>(
    check: &'static str,
    f: impl Future<Output = hallmark_client::Result<T>>,
) -> Result<T, Failure> {
    let span = tracing::info_span!("probe", check);
    match tokio::time::timeout(PROBE_TIMEOUT, f.instrument(span)).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Failure::Client(e)),
        Err(_) => Err(Failure::Timeout),
    }
}

/// Why a probe through the registry client failed.
#[derive(Debug)]
pub enum Failure {
    /// No answer within [`PROBE_TIMEOUT`].
    Timeout,
    /// The client's error.
    Client(hallmark_client::Error),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Timeout => write!(f, "no answer within {} s", PROBE_TIMEOUT.as_secs()),
            Failure::Client(e) => write!(f, "{e}"),
        }
    }
}

/// Whether the user's credentials (flags, credential files, helpers) are accepted.
async fn credentials(setup: &Setup<'_>, client: &Client, required: bool, report: &mut Report) {
    let registry = &setup.server.registry;
    let store = setup.args.store();
    let found = match (&setup.args.username, store.get(registry)) {
        (Some(user), _) => Some(format!("user '{user}' from the command line")),
        (None, Ok(found)) => found.map(|f| f.describe()),
        (None, Err(e)) => {
            let detail = format!("cannot read the credentials for {registry}: {e}");
            report.push(Finding::new("credentials", Status::Fail, detail));
            return;
        }
    };
    let login =
        format!("run `hallmark login {registry}`, or pass --username with --password-stdin");
    let finding = match (required, found) {
        (false, None) => Finding::new("credentials", Status::Info, "none found; none needed"),
        (false, Some(found)) => {
            let detail = format!("{found}; GET /v2/ needs none");
            Finding::new("credentials", Status::Info, detail)
        }
        (true, None) => match timed("credentials", client.ping(registry)).await {
            Ok(()) => {
                let detail = "none found; the registry accepts anonymous tokens";
                Finding::new("credentials", Status::Info, detail)
            }
            Err(_) => Finding::new(
                "credentials",
                Status::Warn,
                format!("none found for {registry} (searched {})", store.searched()),
            )
            .hint(login),
        },
        (true, Some(found)) => match timed("credentials", client.ping(registry)).await {
            Ok(()) => Finding::new("credentials", Status::Ok, format!("{found}: accepted")),
            Err(Failure::Client(Error::Unauthorized { .. })) => {
                let detail = format!("{found}: refused (401)");
                Finding::new("credentials", Status::Fail, detail).hint(login)
            }
            Err(e) => Finding::new("credentials", Status::Fail, format!("{found}: {e}")),
        },
    };
    report.push(finding);
}

/// What a user without the referrers API should know.
pub const TAG_SCHEMA_HINT: &str = "signatures and other referrers go to the referrers tag \
    schema (a `sha256-<hex>` tag beside the image): Hallmark does it by itself, notation needs \
    `--force-referrers-tag`, cosign 2.x falls back to it";

/// `GET /v2/<repo>/referrers/<digest>` of a digest no one pushed: a registry with the API
/// answers 200 with an (empty) image index, one without it 404. A 404 that is about the
/// repository (`NAME_UNKNOWN`: it does not exist) tells nothing about the API.
async fn referrers(conn: &Connection, repo: &Repository, made_up: bool) -> Finding {
    let subject = Algorithm::Sha256.digest(b"hallmark doctor: a subject no one pushed");
    let asked = format!(
        "GET /v2/{}/referrers/{}",
        repo.name(),
        short(subject.as_str())
    );
    let note = if made_up {
        " (a made-up repository: pass REPO for a conclusive answer)"
    } else {
        ""
    };
    match timed("referrers-api", repo.referrers(&subject, None)).await {
        Ok(_) => Finding::new(
            "referrers-api",
            Status::Ok,
            format!("{asked} answered 200 with an image index: the referrers API is there"),
        ),
        Err(Failure::Client(Error::NoReferrersApi { .. })) => {
            match repository_unknown(conn, repo, &subject).await {
                Some(why) => Finding::new(
                    "referrers-api",
                    Status::Warn,
                    format!(
                        "{asked} answered {why}, so this cannot tell whether the referrers \
                         API is there"
                    ),
                )
                .hint(
                    "pass an existing repository as REPO, or add --write to push a \
                     throwaway image beside REPO and ask for its referrers",
                ),
                None => Finding::new(
                    "referrers-api",
                    Status::Warn,
                    format!("{asked} answered 404: no referrers API{note}"),
                )
                .hint(TAG_SCHEMA_HINT),
            }
        }
        Err(e) => Finding::new(
            "referrers-api",
            Status::Warn,
            format!("{asked}: cannot tell: {e}{note}"),
        ),
    }
}

/// Why a 404 from the referrers API may be about the repository rather than the API: its
/// body says `NAME_UNKNOWN`. The registry client hides the body, so the probe is sent again
/// anonymously; where that meets a challenge instead, `tags/list` through the client says
/// whether the repository exists.
async fn repository_unknown(
    conn: &Connection,
    repo: &Repository,
    subject: &Digest,
) -> Option<String> {
    let path = format!("v2/{}/referrers/{subject}", repo.name());
    let unknown = || format!("repository {} does not exist", repo.describe());
    if let Ok(answer) = get(&conn.http, &conn.base, &path, "referrers-api").await
        && answer.status == StatusCode::NOT_FOUND
    {
        let errors = RegistryErrors::parse(&answer.body);
        return errors
            .has("NAME_UNKNOWN")
            .then(|| format!("404 NAME_UNKNOWN: {}", unknown()));
    }
    match timed("referrers-api", repo.tags(Some(1))).await {
        Err(Failure::Client(Error::Status {
            status: 404,
            errors,
            ..
        })) => Some(format!("404, and tags/list 404 ({errors}): {}", unknown())),
        _ => None,
    }
}

/// `sha256:0123456789ab…` for messages.
pub fn short(digest: &str) -> String {
    match digest.char_indices().nth(19) {
        Some((i, _)) => format!("{}…", &digest[..i]),
        None => digest.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_digests() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(short(d), "sha256:e3b0c44298fc…");
        assert_eq!(short("sha256:ab"), "sha256:ab");
    }
}
