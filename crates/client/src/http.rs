//! The two HTTP clients behind [`crate::Client`]: one for plain HTTP and one for TLS.
//!
//! Building a TLS client reads and parses every system root certificate, and its first
//! handshake initialises the TLS stack: about 40 ms per process on these machines, against
//! 3 ms for the whole of a command that talks to a loopback registry over plain HTTP. So the
//! TLS client is built on first use only, and a process that speaks only plain HTTP never
//! pays for it.
//!
//! The plain client never verifies a certificate: it is given no roots at all (a TLS
//! connection through it would fail closed) and it does not follow redirects to `https`
//! URLs; [`Http::follow_to_tls`] hands those to the TLS client.

use std::sync::OnceLock;
use std::time::Duration;

use reqwest::header::{AUTHORIZATION, HeaderMap, LOCATION};
use reqwest::{Method, Response, StatusCode, Url};

use crate::error::{Error, Result};

const USER_AGENT: &str = concat!("hallmark/", env!("CARGO_PKG_VERSION"));
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The plain client, and the TLS client once something needed it.
#[derive(Debug)]
pub struct Http {
    plain: reqwest::Client,
    tls: OnceLock<reqwest::Client>,
    /// Extra roots (`--ca-file`, `ca_files`) for the TLS client, beside the system's.
    extra_roots: Vec<reqwest::Certificate>,
}

impl Http {
    /// The plain client now; the TLS client, with the system roots and `extra_roots`, later.
    pub fn new(extra_roots: Vec<reqwest::Certificate>) -> Result<Http> {
        let stop_at_tls = reqwest::redirect::Policy::custom(|attempt| {
            if attempt.url().scheme() == "https" || attempt.previous().len() >= 10 {
                attempt.stop()
            } else {
                attempt.follow()
            }
        });
        let plain = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_certs_only(Vec::new())
            .redirect(stop_at_tls)
            .build()
            .map_err(Error::ClientSetup)?;
        Ok(Http {
            plain,
            tls: OnceLock::new(),
            extra_roots,
        })
    }

    /// The TLS client, built at the first call.
    pub fn tls(&self) -> Result<&reqwest::Client> {
        if let Some(client) = self.tls.get() {
            return Ok(client);
        }
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_certs_merge(self.extra_roots.clone())
            .build()
            .map_err(Error::ClientSetup)?;
        // Another thread may have won the race; either client is as good.
        Ok(self.tls.get_or_init(move || client))
    }

    /// The client for `url`'s scheme.
    pub fn for_url(&self, url: &Url) -> Result<&reqwest::Client> {
        if url.scheme() == "https" {
            self.tls()
        } else {
            Ok(&self.plain)
        }
    }

    /// Follows a redirect from plain HTTP to `https` that the plain client stopped at. The
    /// request is repeated as reqwest itself would: 307 and 308 keep method and body, the
    /// others become a `GET` without body; credentials go along only to the same host and
    /// port. Any other response is returned as it is.
    pub async fn follow_to_tls(
        &self,
        response: Response,
        method: &Method,
        headers: &HeaderMap,
        body: Option<&bytes::Bytes>,
    ) -> Result<Response> {
        let status = response.status();
        if !status.is_redirection() {
            return Ok(response);
        }
        let Some(location) = response
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|l| response.url().join(l).ok())
        else {
            return Ok(response);
        };
        if location.scheme() != "https" {
            return Ok(response);
        }
        let keep = matches!(
            status,
            StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
        );
        let same_origin = location.host_str() == response.url().host_str()
            && location.port_or_known_default() == response.url().port_or_known_default();
        let mut headers = headers.clone();
        if !same_origin {
            headers.remove(AUTHORIZATION);
        }
        tracing::debug!(from = %response.url(), to = %location, "following a redirect to TLS");
        let mut builder = self
            .tls()?
            .request(
                if keep { method.clone() } else { Method::GET },
                location.clone(),
            )
            .headers(headers);
        if let (true, Some(body)) = (keep, body) {
            builder = builder.body(body.clone());
        }
        builder.send().await.map_err(|source| Error::Request {
            method: method.to_string(),
            url: location.to_string(),
            source,
        })
    }
}
