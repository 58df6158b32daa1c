//! The transport: one HTTP client (reqwest over rustls with the platform's roots plus any
//! extra CA files), the choice of `https` or `http` per registry, and the authentication
//! retry around every request.
//!
//! Plain HTTP is used only where the user asked for it (`plain_http`, or the registry is in
//! `insecure_registries`), and for loopback hosts (`localhost`, `127.0.0.0/8`, `[::1]`),
//! which are probed over TLS first and fall back to HTTP when they do not speak it: traffic
//! that never leaves the machine has nothing to protect against on the wire.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use hallmark_oci::RepositoryName;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, Response, Url};

use crate::auth::{Auth, PlainHttp};
use crate::credentials::{Credential, CredentialStore};
use crate::error::{Error, Result};
use crate::http::Http;
use crate::referrers::ReferrersMode;
use crate::registry::Repository;

/// Retries of a read that met a 5xx or 429.
const TRANSIENT_RETRIES: u32 = 4;

/// Docker Hub's API host, which the reference `docker.io` stands for.
const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Use plain HTTP for every registry.
    pub plain_http: bool,
    /// Registries (`host[:port]`) reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// PEM files of extra trusted CA certificates.
    pub ca_files: Vec<PathBuf>,
    /// Credentials given directly, per registry; they win over the credential files.
    pub credentials: HashMap<String, Credential>,
    /// Where stored credentials are read from.
    pub credential_store: CredentialStore,
    /// How referrers are listed and recorded.
    pub referrers_mode: ReferrersMode,
    /// Blobs up to this size are uploaded in one request; larger ones in chunks.
    pub monolithic_max: u64,
    /// Size of each chunk of a chunked upload (raised to the registry's minimum).
    pub chunk_size: u64,
    /// Blobs transferred at once by a copy.
    pub concurrency: usize,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            plain_http: false,
            insecure_registries: Vec::new(),
            ca_files: Vec::new(),
            credentials: HashMap::new(),
            credential_store: CredentialStore::from_env(),
            referrers_mode: ReferrersMode::Auto,
            monolithic_max: 16 << 20,
            chunk_size: 16 << 20,
            concurrency: 4,
        }
    }
}

/// A request to send: everything needed to send it again after an authentication retry.
#[derive(Debug, Clone)]
pub(crate) struct Req {
    pub method: Method,
    pub url: Url,
    pub headers: HeaderMap,
    pub body: Option<Bytes>,
}

impl Req {
    pub(crate) fn new(method: Method, url: Url) -> Req {
        Req {
            method,
            url,
            headers: HeaderMap::new(),
            body: None,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: &str) -> Req {
        if let Ok(v) = HeaderValue::from_str(value) {
            self.headers.insert(name, v);
        }
        self
    }

    pub(crate) fn body(mut self, body: Bytes) -> Req {
        self.body = Some(body);
        self
    }
}

/// A registry client; cheap to clone, shared by all repositories it opens.
#[derive(Debug, Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub http: Http,
    pub config: ClientConfig,
    pub auth: Auth,
    bases: Mutex<HashMap<String, Url>>,
    /// Registries known to have (true) or lack (false) the referrers API.
    pub referrers_api: Mutex<HashMap<String, bool>>,
    /// Registries known to take (true) or not (false) single-`POST` blob uploads.
    pub single_post: Mutex<HashMap<String, bool>>,
    /// One lock per referrers fallback tag, so writers in this process take turns.
    pub fallback_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Whether `registry` (`host[:port]`) is a loopback address.
pub fn is_loopback(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or(rest)
    } else {
        registry.rsplit_once(':').map_or(registry, |(h, _)| h)
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Client {
    /// Builds a client: TLS roots from the platform plus `config.ca_files`.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let mut certs = Vec::new();
        for path in &config.ca_files {
            let pem = std::fs::read(path).map_err(|e| Error::CaFile {
                path: path.clone(),
                source: Box::new(e),
            })?;
            let found = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| Error::CaFile {
                path: path.clone(),
                source: Box::new(e),
            })?;
            certs.extend(found);
        }
        let http = Http::new(certs)?;
        let plain = PlainHttp {
            all: config.plain_http,
            registries: config.insecure_registries.clone(),
        };
        let auth = Auth::new(
            config.credential_store.clone(),
            config.credentials.clone(),
            plain,
        );
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                auth,
                bases: Mutex::new(HashMap::new()),
                referrers_api: Mutex::new(HashMap::new()),
                single_post: Mutex::new(HashMap::new()),
                fallback_locks: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The settings.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// A handle on `repository` in `registry`.
    pub fn repository(&self, registry: &str, repository: RepositoryName) -> Repository {
        Repository::new(self.clone(), registry.to_owned(), repository)
    }

    /// `https://host/` or `http://host/` for `registry`, decided once.
    pub(crate) async fn base(&self, registry: &str) -> Result<Url> {
        if let Some(u) = lock(&self.inner.bases).get(registry) {
            return Ok(u.clone());
        }
        let host = if registry == "docker.io" {
            DOCKER_HUB_API
        } else {
            registry
        };
        let config = &self.inner.config;
        let plain = config.plain_http || config.insecure_registries.iter().any(|r| r == registry);
        let scheme = if plain {
            "http"
        } else if is_loopback(registry) {
            self.probe_tls(host).await
        } else {
            "https"
        };
        let url = Url::parse(&format!("{scheme}://{host}/")).map_err(|_| Error::Url {
            input: registry.to_owned(),
        })?;
        tracing::debug!(%registry, %scheme, "registry scheme chosen");
        lock(&self.inner.bases).insert(registry.to_owned(), url.clone());
        Ok(url)
    }

    /// `https` if the loopback host speaks TLS, else `http`. A handshake that reached the
    /// server's certificate or alerts counts as TLS spoken, so an untrusted certificate is
    /// reported as such instead of being sidestepped over plain HTTP.
    async fn probe_tls(&self, host: &str) -> &'static str {
        // A plain-HTTP registry answers `GET /v2/` with 200 or 401 at once, without the
        // TLS stack ever being set up. Servers that speak TLS answer plain HTTP with a 400
        // (nginx, Go), an alert or nothing, and go on to the TLS probe.
        if let Ok(url) = Url::parse(&format!("http://{host}/v2/")) {
            let plain = self
                .inner
                .http
                .for_url(&url)
                .map(|c| c.get(url.clone()).timeout(Duration::from_secs(5)).send());
            if let Ok(request) = plain
                && let Ok(response) = request.await
                && matches!(response.status().as_u16(), 200 | 401)
            {
                let status = response.status();
                tracing::debug!(%host, %status, "loopback registry speaks plain HTTP");
                return "http";
            }
        }
        let probe = match self.inner.http.tls() {
            Ok(client) => {
                client
                    .get(format!("https://{host}/v2/"))
                    .timeout(Duration::from_secs(5))
                    .send()
                    .await
            }
            Err(e) => {
                tracing::debug!(%host, error = %e, "no TLS client; using plain HTTP");
                return "http";
            }
        };
        match probe {
            Ok(_) => "https",
            Err(e) if speaks_tls(&e) => "https",
            Err(e) => {
                tracing::debug!(%host, error = %e, "loopback registry does not speak TLS");
                "http"
            }
        }
    }

    /// Sends `req`, answering authentication challenges for `scopes` once. Any status but
    /// a final 401 is returned to the caller.
    pub(crate) async fn send(
        &self,
        registry: &str,
        scopes: &[String],
        req: Req,
    ) -> Result<Response> {
        let inner = &self.inner;
        let mut auth = inner.auth.header(&inner.http, registry, scopes).await?;
        let mut retried = false;
        let mut transient = 0u32;
        loop {
            let mut headers = req.headers.clone();
            if let Some(h) = &auth {
                headers.insert(AUTHORIZATION, h.clone());
            }
            let mut builder = inner
                .http
                .for_url(&req.url)?
                .request(req.method.clone(), req.url.clone())
                .headers(headers.clone());
            if let Some(body) = &req.body {
                builder = builder.body(body.clone());
            }
            let response = builder
                .send()
                .await
                .map_err(|source| request_failed(&req.method, &req.url, source))?;
            let response = inner
                .http
                .follow_to_tls(response, &req.method, &headers, req.body.as_ref())
                .await?;
            // Reads are idempotent: a 5xx or 429 on one is retried after a pause, since
            // registries under concurrent writes answer errors for a moment (distribution
            // 2.8.2 answers 500 when a tag is read while another client rewrites it).
            let status = response.status().as_u16();
            let idempotent = req.method == Method::GET || req.method == Method::HEAD;
            if idempotent && (status == 429 || status >= 500) && transient < TRANSIENT_RETRIES {
                transient += 1;
                let pause = Duration::from_millis(100 << transient);
                tracing::debug!(url = %req.url, status, ?pause, "transient error; retrying");
                tokio::time::sleep(pause).await;
                continue;
            }
            if response.status() != reqwest::StatusCode::UNAUTHORIZED || retried {
                if response.status() == reqwest::StatusCode::UNAUTHORIZED {
                    return Err(Error::Unauthorized {
                        registry: registry.to_owned(),
                        tried: inner.auth.tried(registry).await,
                    });
                }
                return Ok(response);
            }
            let challenge = response
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let fresh = inner
                .auth
                .on_unauthorized(
                    &inner.http,
                    registry,
                    challenge.as_deref(),
                    scopes,
                    auth.as_ref(),
                )
                .await?;
            match fresh {
                Some(h) => auth = Some(h),
                None => {
                    return Err(Error::Unauthorized {
                        registry: registry.to_owned(),
                        tried: inner.auth.tried(registry).await,
                    });
                }
            }
            retried = true;
        }
    }

    /// Checks that the registry speaks the distribution API (`GET /v2/`), authenticating if
    /// it asks to.
    pub async fn ping(&self, registry: &str) -> Result<()> {
        let url = self
            .base(registry)
            .await?
            .join("v2/")
            .map_err(|_| bad_url(registry))?;
        let response = self
            .send(registry, &[], Req::new(Method::GET, url.clone()))
            .await?;
        expect_status(response, Method::GET, &url, &[200])
            .await
            .map(drop)
    }

    /// `GET` of `path` on `registry`'s host, with the scheme, TLS settings and credentials
    /// the registry gets (tokens for `scopes`), for protocols served beside the distribution
    /// API such as Notary v1's `/v2/<gun>/_trust/tuf/`. `None` when the answer is 404; any
    /// other status but 200 is an error.
    pub async fn fetch_path(
        &self,
        registry: &str,
        path: &str,
        scopes: &[String],
        limit: u64,
    ) -> Result<Option<Bytes>> {
        let url = self
            .base(registry)
            .await?
            .join(path.trim_start_matches('/'))
            .map_err(|_| bad_url(path))?;
        let response = self
            .send(registry, scopes, Req::new(Method::GET, url.clone()))
            .await?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        let response = expect_status(response, Method::GET, &url, &[200]).await?;
        Ok(Some(read_body(response, &url, limit).await?))
    }

    /// Lists repositories (`GET /v2/_catalog`), following `Link` pages.
    pub async fn catalog(&self, registry: &str) -> Result<Vec<String>> {
        let base = self.base(registry).await?;
        let first = base.join("v2/_catalog").map_err(|_| bad_url(registry))?;
        let scopes = vec!["registry:catalog:*".to_owned()];
        #[derive(serde::Deserialize)]
        struct Page {
            #[serde(default)]
            repositories: Option<Vec<String>>,
        }
        let mut out = Vec::new();
        let (mut next, mut pages) = (Some(first), 0);
        while let Some(url) = next.take() {
            let response = self
                .send(registry, &scopes, Req::new(Method::GET, url.clone()))
                .await?;
            let response = expect_status(response, Method::GET, &url, &[200]).await?;
            next = next_page(&url, response.headers(), &mut pages)?;
            let page: Page = read_json(response, &url).await?;
            out.extend(page.repositories.unwrap_or_default());
        }
        Ok(out)
    }
}

/// The rustls error behind a failed request, if TLS is what failed.
pub fn tls_error(error: &reqwest::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = next {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        // rustls errors travel inside (nested) io::Errors, whose `source` skips what they wrap.
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(wrapped) => Some(wrapped),
            None => e.source(),
        };
    }
    None
}

/// Whether a failed request got far enough into a TLS handshake to show the peer speaks TLS.
fn speaks_tls(error: &reqwest::Error) -> bool {
    matches!(
        tls_error(error),
        Some(
            rustls::Error::InvalidCertificate(_)
                | rustls::Error::NoCertificatesPresented
                | rustls::Error::AlertReceived(_)
                | rustls::Error::PeerIncompatible(_)
        )
    )
}

/// The client's error for a request that could not be completed.
fn request_failed(method: &Method, url: &Url, source: reqwest::Error) -> Error {
    if let Some(rustls::Error::InvalidCertificate(_)) = tls_error(&source) {
        return Error::UntrustedCertificate {
            url: url.to_string(),
            source,
        };
    }
    Error::Request {
        method: method.to_string(),
        url: url.to_string(),
        source,
    }
}

/// Locks a std mutex, recovering from poisoning (the maps stay consistent per operation).
pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn bad_url(what: &str) -> Error {
    Error::Url {
        input: what.to_owned(),
    }
}

/// Returns the response if its status is one of `ok`, else the registry's error.
pub(crate) async fn expect_status(
    response: Response,
    method: Method,
    url: &Url,
    ok: &[u16],
) -> Result<Response> {
    if ok.contains(&response.status().as_u16()) {
        return Ok(response);
    }
    Err(status_error(response, method, url).await)
}

/// The registry's error for an unexpected answer, with the spec error codes from its body.
pub(crate) async fn status_error(response: Response, method: Method, url: &Url) -> Error {
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap_or_default();
    Error::Status {
        method: method.to_string(),
        url: url.to_string(),
        status,
        errors: crate::error::RegistryErrors::parse(&body),
    }
}

/// The `Content-Length` header as sent. (`Response::content_length` reports the body's size,
/// which for a `HEAD` is zero whatever the header says.)
pub(crate) fn header_length(response: &Response) -> Option<u64> {
    response
        .headers()
        .get(reqwest::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// The largest JSON document (a page of tags, repositories or referrers) read.
pub(crate) const JSON_LIMIT: u64 = 16 << 20;
/// Pages of one listing followed at most: a registry that links on forever is cut off.
pub(crate) const MAX_PAGES: usize = 10_000;

/// Reads a body of at most `limit` bytes, chunk by chunk: a server that sends more (with or
/// without a `Content-Length`) is cut off at the limit, never buffered whole.
pub(crate) async fn read_body(mut response: Response, url: &Url, limit: u64) -> Result<Bytes> {
    let too_large = || Error::TooLarge {
        url: url.to_string(),
        limit,
    };
    if header_length(&response).is_some_and(|n| n > limit) {
        return Err(too_large());
    }
    let mut out = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|source| request_failed(&Method::GET, url, source))?
    {
        if (out.len() + chunk.len()) as u64 > limit {
            return Err(too_large());
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out.into())
}

/// Reads a JSON body of at most [`JSON_LIMIT`] bytes.
pub(crate) async fn read_json<T: serde::de::DeserializeOwned>(
    response: Response,
    url: &Url,
) -> Result<T> {
    let body = read_body(response, url, JSON_LIMIT).await?;
    serde_json::from_slice(&body).map_err(|source| Error::Json {
        what: url.to_string(),
        source,
    })
}

/// The next page of a listing, counting `followed`: [`MAX_PAGES`] at most.
pub(crate) fn next_page(
    url: &Url,
    headers: &HeaderMap,
    followed: &mut usize,
) -> Result<Option<Url>> {
    let next = next_link(url, headers);
    if next.is_some() {
        *followed += 1;
        if *followed >= MAX_PAGES {
            return Err(Error::TooManyPages {
                url: url.to_string(),
                limit: MAX_PAGES,
            });
        }
    }
    Ok(next)
}

/// The `rel="next"` target of an RFC 8288 `Link` header, resolved against `url`.
pub(crate) fn next_link(url: &Url, headers: &HeaderMap) -> Option<Url> {
    headers
        .get_all("link")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(link_next)
        .find_map(|target| url.join(target).ok())
}

/// The target of the `rel="next"` link in one `Link` header value, if it has one.
pub fn link_next(value: &str) -> Option<&str> {
    value.split(',').find_map(|link| {
        let (target, params) = link.split_once(';')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        is_next.then_some(target)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for (r, want) in [
            ("localhost:5000", true),
            ("127.0.0.1:5000", true),
            ("127.1.2.3", true),
            ("[::1]:5000", true),
            ("localhost.example.com", false),
            ("10.0.0.1:5000", false),
            ("ghcr.io", false),
        ] {
            assert_eq!(is_loopback(r), want, "{r}");
        }
    }

    #[test]
    fn follows_link_headers() {
        let url = Url::parse("http://r.io/v2/a/tags/list?n=2").expect("url");
        let mut headers = HeaderMap::new();
        headers.insert(
            "link",
            HeaderValue::from_static("</v2/a/tags/list?n=2&last=b>; rel=\"next\""),
        );
        let next = next_link(&url, &headers).expect("next");
        assert_eq!(next.as_str(), "http://r.io/v2/a/tags/list?n=2&last=b");
        assert!(next_link(&url, &HeaderMap::new()).is_none());
        assert_eq!(link_next("<a>; rel=prev, <b>; rel=\"next\""), Some("b"));
        assert_eq!(link_next("b; rel=next"), None);
    }
}
