//! Registry authentication: anonymous, HTTP Basic, and the bearer token flow of Docker's
//! token authentication specification, which every large registry uses.
//!
//! A request goes out with whatever the client already holds for the registry. A `401`
//! carries a `WWW-Authenticate` challenge: `Basic realm=…` means the registry wants the
//! credentials on each request; `Bearer realm=…,service=…,scope=…` means a token from the
//! realm for that scope, fetched anonymously or with the credentials (HTTP Basic, or an
//! identity token through the OAuth2 refresh-token grant). Tokens are cached per scope until
//! they expire; a `401` with a cached token refreshes it once. Credentials are sent to a
//! plain-HTTP realm only on this machine or for a registry the user put on plain HTTP.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::HeaderValue;

use crate::credentials::{Credential, CredentialStore, Found};
use crate::error::{Error, Result};

/// What a registry asked for in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// HTTP Basic on every request.
    Basic,
    /// A bearer token from `realm`.
    Bearer {
        /// Token server URL.
        realm: String,
        /// `service` parameter to pass back.
        service: Option<String>,
        /// Scope the registry named, if any.
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value (RFC 9110 section 11.6.1, one challenge).
    pub fn parse(header: &str) -> Option<Challenge> {
        let header = header.trim();
        let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
        let params = parse_params(rest);
        let get = |k: &str| {
            params
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            })
        } else {
            None
        }
    }
}

/// `k=v, k="quoted, with commas"` pairs.
fn parse_params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        if name.is_empty() {
            return out;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| *c != ',') {
                value.push(c);
            }
        }
        out.push((name.trim().to_owned(), value.trim().to_owned()));
    }
}

/// Which registries the user reaches over plain HTTP.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlainHttp {
    /// Every registry.
    pub all: bool,
    /// These registries.
    pub registries: Vec<String>,
}

impl PlainHttp {
    fn allows(&self, registry: &str) -> bool {
        self.all || self.registries.iter().any(|r| r == registry)
    }
}

/// A cached bearer token.
#[derive(Debug, Clone)]
struct Token {
    header: HeaderValue,
    expires: Instant,
}

/// What the client knows about one registry's authentication.
#[derive(Debug, Default)]
struct RegistryAuth {
    /// `None` until looked up; then the credential found, if any.
    credential: Option<Option<Found>>,
    challenge: Option<Challenge>,
    tokens: HashMap<String, Token>,
}

/// Authentication state shared by all requests of a client.
#[derive(Debug)]
pub(crate) struct Auth {
    store: CredentialStore,
    explicit: HashMap<String, Credential>,
    /// Registries the user allowed plain HTTP for; their token realms may be plain too.
    plain_ok: PlainHttp,
    registries: Mutex<HashMap<String, RegistryAuth>>,
}

fn scope_key(scopes: &[String]) -> String {
    let mut s = scopes.to_vec();
    s.sort();
    s.dedup();
    s.join(" ")
}

fn basic_header(username: &str, password: &str) -> HeaderValue {
    let encoded = STANDARD.encode(format!("{username}:{password}"));
    // Base64 output is always a valid header value.
    HeaderValue::from_str(&format!("Basic {encoded}")).unwrap_or(HeaderValue::from_static(""))
}

impl Auth {
    pub(crate) fn new(
        store: CredentialStore,
        explicit: HashMap<String, Credential>,
        plain_ok: PlainHttp,
    ) -> Auth {
        Auth {
            store,
            explicit,
            plain_ok,
            registries: Mutex::new(HashMap::new()),
        }
    }

    fn with<T>(&self, registry: &str, f: impl FnOnce(&mut RegistryAuth) -> T) -> T {
        // A poisoned lock only means another request panicked; the map is still usable.
        let mut map = self.registries.lock().unwrap_or_else(|p| p.into_inner());
        f(map.entry(registry.to_owned()).or_default())
    }

    /// The credential for `registry`: from the command line, else from the credential files.
    async fn credential(&self, registry: &str) -> Result<Option<Found>> {
        if let Some(c) = self.explicit.get(registry) {
            return Ok(Some(Found {
                credential: c.clone(),
                source: "the command line".to_owned(),
            }));
        }
        if let Some(known) = self.with(registry, |r| r.credential.clone()) {
            return Ok(known);
        }
        let store = self.store.clone();
        let host = registry.to_owned();
        let found = tokio::task::spawn_blocking(move || store.get(&host))
            .await
            .unwrap_or(Ok(None))?;
        self.with(registry, |r| r.credential = Some(found.clone()));
        Ok(found)
    }

    /// What was tried, for an `Unauthorized` error.
    pub(crate) async fn tried(&self, registry: &str) -> String {
        match self.credential(registry).await {
            Ok(Some(found)) => found.describe(),
            Ok(None) => format!(
                "no credentials (anonymous); none found in {}",
                self.store.searched()
            ),
            Err(e) => format!("no credentials: {e}"),
        }
    }

    /// The `Authorization` header to send, from what is already known; may fetch a token
    /// when the registry is known to use bearer tokens and none is cached for `scopes`.
    pub(crate) async fn header(
        &self,
        http: &crate::http::Http,
        registry: &str,
        scopes: &[String],
    ) -> Result<Option<HeaderValue>> {
        let key = scope_key(scopes);
        let (challenge, cached) = self.with(registry, |r| {
            let token = r.tokens.get(&key).filter(|t| t.expires > Instant::now());
            (r.challenge.clone(), token.map(|t| t.header.clone()))
        });
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(self.basic(registry).await?),
            Some(Challenge::Bearer { .. }) if cached.is_some() => Ok(cached),
            Some(Challenge::Bearer { realm, service, .. }) => {
                let token = self
                    .fetch_token(http, registry, &realm, service, scopes)
                    .await?;
                Ok(Some(token))
            }
        }
    }

    async fn basic(&self, registry: &str) -> Result<Option<HeaderValue>> {
        Ok(match self.credential(registry).await? {
            Some(Found {
                credential: Credential::Basic { username, password },
                ..
            }) => Some(basic_header(&username, &password)),
            _ => None,
        })
    }

    /// Answers a `401`: returns a new header to retry with, or `None` when there is nothing
    /// new to try (the caller then reports `Unauthorized`).
    pub(crate) async fn on_unauthorized(
        &self,
        http: &crate::http::Http,
        registry: &str,
        www_authenticate: Option<&str>,
        scopes: &[String],
        used: Option<&HeaderValue>,
    ) -> Result<Option<HeaderValue>> {
        let Some(header) = www_authenticate else {
            return Ok(None);
        };
        let challenge = Challenge::parse(header).ok_or_else(|| Error::UnsupportedChallenge {
            registry: registry.to_owned(),
            challenge: header.to_owned(),
        })?;
        tracing::debug!(%registry, ?challenge, "registry asked for authentication");
        self.with(registry, |r| {
            r.challenge = Some(challenge.clone());
            r.tokens.remove(&scope_key(scopes));
        });
        let fresh = match challenge {
            Challenge::Basic => self.basic(registry).await?,
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut wanted = scopes.to_vec();
                wanted.extend(scope);
                Some(
                    self.fetch_token(http, registry, &realm, service, &wanted)
                        .await?,
                )
            }
        };
        Ok(fresh.filter(|h| Some(h) != used))
    }

    /// Gets a token from `realm` for `scopes` and caches it.
    async fn fetch_token(
        &self,
        http: &crate::http::Http,
        registry: &str,
        realm: &str,
        service: Option<String>,
        scopes: &[String],
    ) -> Result<HeaderValue> {
        let credential = self.credential(registry).await?;
        let scope_list = scope_key(scopes);
        let plain_ok = self.plain_ok.allows(registry);
        let request = token_request(
            http,
            realm,
            service.as_deref(),
            &scope_list,
            &credential,
            plain_ok,
        )?;
        let response = request.send().await.map_err(|source| Error::Request {
            method: "GET".into(),
            url: realm.to_owned(),
            source,
        })?;
        let status = response.status().as_u16();
        if status != 200 {
            return Err(Error::Token {
                realm: realm.to_owned(),
                scope: scope_list,
                status,
                tried: credential.map_or_else(|| "anonymous".to_owned(), |f| f.describe()),
            });
        }
        let body = response.bytes().await.map_err(|source| Error::Request {
            method: "GET".into(),
            url: realm.to_owned(),
            source,
        })?;
        let token = parse_token(realm, &body)?;
        let header = token.header.clone();
        tracing::debug!(%registry, scope = %scope_list, "bearer token obtained");
        self.with(registry, |r| r.tokens.insert(scope_key(scopes), token));
        Ok(header)
    }
}

/// The token request: anonymous, HTTP Basic, or the OAuth2 refresh-token grant.
fn token_request(
    http: &crate::http::Http,
    realm: &str,
    service: Option<&str>,
    scope_list: &str,
    credential: &Option<Found>,
    plain_ok: bool,
) -> Result<reqwest::RequestBuilder> {
    let url = token_url(realm, &[])?;
    // Credentials go to the token server only over TLS, to a server on this machine, or
    // where the user chose plain HTTP for the registry.
    let plain = url.scheme() != "https" && !url.host_str().is_some_and(crate::client::is_loopback);
    if plain && !plain_ok && credential.is_some() {
        return Err(Error::UnsupportedChallenge {
            registry: realm.to_owned(),
            challenge: "token realm is plain HTTP; refusing to send credentials to it".into(),
        });
    }

    let mut query: Vec<(&str, &str)> = Vec::new();
    if let Some(s) = service {
        query.push(("service", s));
    }
    for s in scope_list.split(' ').filter(|s| !s.is_empty()) {
        query.push(("scope", s));
    }
    Ok(match credential.as_ref().map(|f| &f.credential) {
        Some(Credential::IdentityToken(refresh)) => {
            let mut form = query.clone();
            form.extend([
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "hallmark"),
            ]);
            http.for_url(&url)?
                .post(realm)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form_urlencode(&form))
        }
        Some(Credential::Basic { username, password }) => http
            .for_url(&url)?
            .get(token_url(realm, &query)?)
            .basic_auth(username, Some(password)),
        None => http.for_url(&url)?.get(token_url(realm, &query)?),
    })
}

/// Reads a token server's answer (`token` or `access_token`, `expires_in`).
fn parse_token(realm: &str, body: &[u8]) -> Result<Token> {
    #[derive(serde::Deserialize)]
    struct TokenAnswer {
        #[serde(default)]
        token: Option<String>,
        #[serde(default)]
        access_token: Option<String>,
        #[serde(default)]
        expires_in: Option<u64>,
    }
    let unusable = || Error::TokenAnswer {
        realm: realm.to_owned(),
    };
    let answer: TokenAnswer = serde_json::from_slice(body).map_err(|source| Error::Json {
        what: format!("token from {realm}"),
        source,
    })?;
    let value = answer
        .token
        .or(answer.access_token)
        .filter(|t| !t.is_empty())
        .ok_or_else(unusable)?;
    let header = HeaderValue::from_str(&format!("Bearer {value}")).map_err(|_| unusable())?;
    // Refresh a little before the server's deadline; the spec's default life is 60 s.
    // Bounded: a token server's number must not overflow the clock.
    let life = Duration::from_secs(answer.expires_in.unwrap_or(60).clamp(10, 86_400) - 5);
    Ok(Token {
        header,
        expires: Instant::now() + life,
    })
}

/// The realm URL with the query parameters of a token request.
fn token_url(realm: &str, query: &[(&str, &str)]) -> Result<reqwest::Url> {
    let mut url = reqwest::Url::parse(realm).map_err(|_| Error::UnsupportedChallenge {
        registry: realm.to_owned(),
        challenge: format!("realm '{realm}' is not a URL"),
    })?;
    url.query_pairs_mut().extend_pairs(query);
    Ok(url)
}

fn form_urlencode(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        for (i, part) in [k, v].into_iter().enumerate() {
            if i == 1 {
                out.push('=');
            }
            for b in part.bytes() {
                if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_challenges() {
        let cases = [
            (r#"Basic realm="Registry Realm""#, Some(Challenge::Basic)),
            (
                concat!(
                    r#"Bearer realm="https://auth.docker.io/token","#,
                    r#"service="registry.docker.io",scope="repository:a/b:pull,push""#
                ),
                Some(Challenge::Bearer {
                    realm: "https://auth.docker.io/token".into(),
                    service: Some("registry.docker.io".into()),
                    scope: Some("repository:a/b:pull,push".into()),
                }),
            ),
            (
                "bearer realm=https://r.io/t, service=r.io",
                Some(Challenge::Bearer {
                    realm: "https://r.io/t".into(),
                    service: Some("r.io".into()),
                    scope: None,
                }),
            ),
            ("Bearer service=x", None),
            ("Negotiate abc", None),
        ];
        for (header, want) in cases {
            assert_eq!(Challenge::parse(header), want, "{header}");
        }
    }

    #[test]
    fn token_answers() {
        let t = parse_token("r", br#"{"access_token":"abc","expires_in":1e99}"#);
        assert!(
            matches!(t, Err(Error::Json { .. })),
            "a float is not a lifetime"
        );
        let t = parse_token("r", br#"{"token":"abc","expires_in":18446744073709551615}"#);
        assert_eq!(t.expect("token").header, "Bearer abc");
        assert!(matches!(
            parse_token("r", br#"{"token":""}"#),
            Err(Error::TokenAnswer { .. })
        ));
        assert!(matches!(
            parse_token("r", b"{\"token\":\"a\\nb\"}"),
            Err(Error::TokenAnswer { .. })
        ));
    }

    #[test]
    fn credentials_never_go_to_a_plain_http_realm() {
        let http = crate::http::Http::new(Vec::new()).expect("client");
        let found = Some(Found {
            credential: Credential::Basic {
                username: "u".into(),
                password: "p".into(),
            },
            source: "test".into(),
        });
        let try_realm = |realm: &str, credential: &Option<Found>, plain_ok: bool| {
            token_request(&http, realm, None, "", credential, plain_ok).is_ok()
        };
        assert!(!try_realm("http://auth.example/token", &found, false));
        assert!(try_realm("http://auth.example/token", &found, true));
        assert!(try_realm("http://auth.example/token", &None, false));
        assert!(try_realm("https://auth.example/token", &found, false));
        assert!(try_realm("http://127.0.0.1:1/token", &found, false));
        assert!(try_realm("http://[::1]:1/token", &found, false));
    }

    #[test]
    fn form_encoding_escapes_reserved_bytes() {
        assert_eq!(
            form_urlencode(&[("scope", "repository:a/b:pull,push"), ("x", "a b")]),
            "scope=repository%3Aa%2Fb%3Apull%2Cpush&x=a%20b"
        );
    }
}
