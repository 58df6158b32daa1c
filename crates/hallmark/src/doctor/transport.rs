//! How the server is reached, and the raw probes: `GET /v2/` over TLS with the client's
//! roots (the system's and `--ca-file`), over TLS without verification only to tell an
//! untrusted certificate from no TLS at all, or over plain HTTP, as `--plain-http`,
//! `insecure_registries` or the loopback fallback of the registry client would. Probes here
//! are anonymous and follow no redirect: they report what the server answers.

use bytes::Bytes;
use hallmark_client::ClientConfig;
use hallmark_client::client::{is_loopback, tls_error};
use reqwest::header::HeaderMap;
use reqwest::{StatusCode, Url};
use tracing::Instrument;

use super::probes::{PROBE_TIMEOUT, Setup};
use super::report::{Finding, Report, Status};
use crate::UsageError;

/// Bodies are read up to this size: probes only look at error codes and small documents.
const BODY_LIMIT: usize = 64 << 10;

/// One answer to a probe.
pub struct Answer {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, up to [`BODY_LIMIT`].
    pub body: Bytes,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// How the server was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tls {
    /// TLS, the certificate verified.
    Verified,
    /// TLS, the certificate not trusted: only anonymous probes go on.
    Untrusted,
    /// Plain HTTP.
    Plain,
}

/// A server that answered, and its answer to `GET /v2/`.
pub struct Connection {
    /// The client that reached it.
    pub http: reqwest::Client,
    /// `scheme://host[:port]/`.
    pub base: Url,
    /// How.
    pub tls: Tls,
    /// Its answer to `GET /v2/`.
    pub ping: Answer,
}

/// Finds how the server answers `GET /v2/`: over TLS with a verified certificate, over TLS
/// with an untrusted one, or over plain HTTP. `None` when nothing answered.
pub async fn connect(setup: &Setup<'_>, report: &mut Report) -> anyhow::Result<Option<Connection>> {
    let registry = &setup.server.registry;
    let config = setup.config;
    let configured_plain =
        config.plain_http || config.insecure_registries.iter().any(|r| r == registry);
    let asked_plain = match setup.server.scheme {
        Some(scheme) => scheme == "http",
        None => configured_plain,
    };
    let roots = ca_roots(config)?;

    let mut tls_failure = None;
    if !asked_plain {
        match try_tls(registry, &roots).await? {
            Ok((conn, finding)) => {
                report.push(finding);
                return Ok(Some(conn));
            }
            Err(why) => tls_failure = Some(why),
        }
    }

    // No TLS (or none asked for): a plain-HTTP server still answers.
    let base = base_url("http", registry)?;
    let plain = http_client(Tls::Plain, &roots)?;
    match get(&plain, &base, "v2/", "transport").await {
        Ok(ping) => {
            report.push(plain_finding(setup, tls_failure.as_deref()));
            Ok(Some(Connection {
                http: plain,
                base,
                tls: Tls::Plain,
                ping,
            }))
        }
        Err(e) => {
            let plain_failure = reason(&e);
            let detail = match tls_failure {
                Some(tls) if !tls.ends_with(&plain_failure) => {
                    format!("nothing answers: {tls}; plain HTTP: {plain_failure}")
                }
                _ => format!("nothing answers: {plain_failure}"),
            };
            report.push(
                Finding::new("transport", Status::Fail, detail)
                    .hint("check the host and port, and that the server is running"),
            );
            Ok(None)
        }
    }
}

/// `GET /v2/` over TLS: the connection and its finding, or why TLS failed. An untrusted
/// certificate is told apart from no TLS at all by asking again without verification.
async fn try_tls(
    registry: &str,
    roots: &[reqwest::Certificate],
) -> anyhow::Result<Result<(Connection, Finding), String>> {
    let base = base_url("https", registry)?;
    let verified = http_client(Tls::Verified, roots)?;
    let e = match get(&verified, &base, "v2/", "transport").await {
        Ok(ping) => {
            let finding = Finding::new("transport", Status::Ok, "TLS; the certificate verifies");
            let conn = Connection {
                http: verified,
                base,
                tls: Tls::Verified,
                ping,
            };
            return Ok(Ok((conn, finding)));
        }
        Err(e) => e,
    };
    if let Some(problem) = certificate_problem(&e) {
        let danger = http_client(Tls::Untrusted, roots)?;
        if let Ok(ping) = get(&danger, &base, "v2/", "transport").await {
            let conn = Connection {
                http: danger,
                base,
                tls: Tls::Untrusted,
                ping,
            };
            return Ok(Ok((conn, untrusted_finding(&problem))));
        }
    }
    Ok(Err(match tls_error(&e) {
        Some(rustls::Error::InvalidMessage(_)) => "the port does not speak TLS".into(),
        _ => format!("HTTPS failed: {}", reason(&e)),
    }))
}

fn untrusted_finding(problem: &str) -> Finding {
    Finding::new(
        "transport",
        Status::Fail,
        format!("TLS, but the certificate is not trusted: {problem}"),
    )
    .hint(
        "pass --ca-file with the CA that issued it, or list that file in ca_files in \
         ~/.config/hallmark/client.toml",
    )
}

fn plain_finding(setup: &Setup<'_>, tls_failure: Option<&str>) -> Finding {
    let registry = &setup.server.registry;
    if tls_failure.is_none() {
        return Finding::new("transport", Status::Ok, "plain HTTP, as asked");
    }
    let tls = tls_failure.unwrap_or_default();
    if setup.server.scheme.is_none() && is_loopback(registry) {
        let detail =
            format!("plain HTTP ({tls}); on loopback the client falls back to it by itself");
        return Finding::new("transport", Status::Ok, detail);
    }
    Finding::new(
        "transport",
        Status::Warn,
        format!("plain HTTP only ({tls}); client commands use HTTPS for this server"),
    )
    .hint(format!(
        "pass --plain-http, or add \"{registry}\" to insecure_registries in \
         ~/.config/hallmark/client.toml"
    ))
}

/// The extra CA certificates the client trusts. A file that cannot be used is a mistake in
/// the command line or the client configuration, not a finding about the server.
fn ca_roots(config: &ClientConfig) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let mut roots = Vec::new();
    let bad = |path: &std::path::Path, why: String| {
        UsageError(format!(
            "CA file {}: {why}; pass a PEM file of CA certificates with --ca-file or in \
             ca_files",
            path.display()
        ))
    };
    for path in &config.ca_files {
        let pem = std::fs::read(path).map_err(|e| bad(path, format!("cannot read it: {e}")))?;
        let found = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| bad(path, format!("not PEM certificates: {e}")))?;
        roots.extend(found);
    }
    Ok(roots)
}

fn http_client(tls: Tls, roots: &[reqwest::Certificate]) -> anyhow::Result<reqwest::Client> {
    let builder = reqwest::Client::builder()
        .user_agent(concat!("hallmark-doctor/", env!("CARGO_PKG_VERSION")))
        .timeout(PROBE_TIMEOUT)
        // A redirect is a finding in itself; nothing is followed.
        .redirect(reqwest::redirect::Policy::none());
    let builder = match tls {
        Tls::Verified => builder.tls_certs_merge(roots.iter().cloned()),
        // Only to tell an untrusted certificate from no TLS at all, and for anonymous
        // reads: no credential is ever sent through this client.
        Tls::Untrusted => builder.tls_danger_accept_invalid_certs(true),
        Tls::Plain => builder,
    };
    Ok(builder.build()?)
}

fn base_url(scheme: &str, registry: &str) -> anyhow::Result<Url> {
    Ok(Url::parse(&format!("{scheme}://{registry}/"))?)
}

/// Sends one `GET`, in its own span, and reads up to [`BODY_LIMIT`] of the body.
pub async fn get(
    http: &reqwest::Client,
    base: &Url,
    path: &str,
    check: &'static str,
) -> Result<Answer, reqwest::Error> {
    let url = base.join(path).unwrap_or_else(|_| base.clone());
    let span = tracing::info_span!("probe", check, %url);
    async {
        let mut response = http.get(url.clone()).send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            let room = BODY_LIMIT - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() == BODY_LIMIT {
                break;
            }
        }
        tracing::debug!(%status, "probe answered");
        Ok(Answer {
            status,
            headers,
            body: body.into(),
        })
    }
    .instrument(span)
    .await
}

/// Why the certificate was refused, if that is why the request failed.
fn certificate_problem(error: &reqwest::Error) -> Option<String> {
    use rustls::CertificateError as C;
    let rustls::Error::InvalidCertificate(e) = tls_error(error)? else {
        return None;
    };
    Some(match e {
        C::UnknownIssuer => "issued by a CA this machine does not trust".to_owned(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "not valid for this host name".to_owned()
        }
        C::Expired | C::ExpiredContext { .. } => "expired".to_owned(),
        other => format!("{other:?}"),
    })
}

/// The innermost cause of a failed request, in words.
fn reason(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", PROBE_TIMEOUT.as_secs());
    }
    let mut last: &(dyn std::error::Error + 'static) = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}
