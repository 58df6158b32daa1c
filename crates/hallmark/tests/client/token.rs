//! The bearer token flow (Docker's token authentication specification) against a registry
//! that demands it: a small gate in front of `hallmark serve` answers `401` with a `Bearer`
//! challenge until a request carries a token its `/token` realm issued for user `alice`.
//! Checks: tokens are fetched with the credentials, cached per scope, refreshed after the
//! registry stops accepting them, and errors name what was tried.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hallmark_client::{Client, ClientConfig, Credential, CredentialStore, Error};
use hallmark_oci::{Algorithm, Reference, media_type};

use crate::common::Server;

/// `Basic base64("alice:pw")`.
const ALICE: &str = "Basic YWxpY2U6cHc=";

struct Gate {
    upstream: String,
    addr: String,
    valid: Mutex<HashSet<String>>,
    issued: AtomicU64,
    http: reqwest::Client,
}

async fn token(State(gate): State<Arc<Gate>>, headers: HeaderMap) -> Response {
    let n = gate.issued.fetch_add(1, Ordering::SeqCst);
    match headers
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes)
    {
        Some(auth) if auth == ALICE.as_bytes() => {
            let token = format!("tok-{n}");
            gate.valid.lock().expect("lock").insert(token.clone());
            axum::Json(serde_json::json!({"token": token, "expires_in": 300})).into_response()
        }
        // Anonymous callers get a token that opens nothing, as public registries do.
        None => axum::Json(serde_json::json!({"token": "anonymous"})).into_response(),
        Some(_) => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// The repository a `/v2/<name>/...` path names.
fn repository(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/v2/")?;
    ["/manifests/", "/blobs/", "/tags/", "/referrers/"]
        .iter()
        .filter_map(|m| rest.find(m))
        .min()
        .map(|i| &rest[..i])
}

async fn gate(State(gate): State<Arc<Gate>>, request: Request) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let allowed = token.is_some_and(|t| gate.valid.lock().expect("lock").contains(t));
    let path = request.uri().path().to_owned();
    if !allowed {
        let scope = repository(&path)
            .map(|r| format!(",scope=\"repository:{r}:pull,push\""))
            .unwrap_or_default();
        let challenge = format!(
            "Bearer realm=\"http://{}/token\",service=\"gate\"{scope}",
            gate.addr
        );
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
        )
            .into_response();
    }

    let method = request.method().clone();
    let target = format!(
        "http://{}{}",
        gate.upstream,
        request.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let mut headers = request.headers().clone();
    headers.remove(header::AUTHORIZATION);
    headers.remove(header::HOST);
    let body = axum::body::to_bytes(request.into_body(), 64 << 20)
        .await
        .expect("request body");
    let answer = gate
        .http
        .request(method, target)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("upstream answers");
    let mut out = Response::builder().status(answer.status());
    for (k, v) in answer.headers() {
        out = out.header(k, v);
    }
    let body = answer.bytes().await.expect("upstream body");
    out.body(axum::body::Body::from(body)).expect("response")
}

async fn start_gate(upstream: String) -> Arc<Gate> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let state = Arc::new(Gate {
        upstream,
        addr,
        valid: Mutex::new(HashSet::new()),
        issued: AtomicU64::new(0),
        http: reqwest::Client::new(),
    });
    let app = Router::new()
        .route("/token", axum::routing::get(token))
        .fallback(gate)
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    state
}

fn client(registry: &str, credential: Option<Credential>, dir: &std::path::Path) -> Client {
    let mut config = ClientConfig {
        credential_store: CredentialStore::with_file(dir.join("auth.json")),
        ..ClientConfig::default()
    };
    if let Some(c) = credential {
        config.credentials.insert(registry.to_owned(), c);
    }
    Client::new(config).expect("client")
}

#[test]
fn bearer_tokens_are_fetched_cached_and_refreshed() {
    let upstream = Server::start();
    let dir = tempfile::tempdir().expect("dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let gate = start_gate(upstream.host()).await;
        let alice = Credential::Basic {
            username: "alice".into(),
            password: "pw".into(),
        };
        let repo = client(&gate.addr, Some(alice), dir.path())
            .repository(&gate.addr, "secure/app".parse().expect("name"));

        let config = Bytes::from_static(b"{}");
        let config_d = hallmark_oci::Descriptor {
            media_type: media_type::OCI_EMPTY.into(),
            digest: Algorithm::Sha256.digest(&config),
            size: 2,
            urls: Vec::new(),
            annotations: None,
            artifact_type: None,
            platform: None,
            data: None,
        };
        repo.push_blob(&config_d, &config, &hallmark_client::NoProgress)
            .await
            .expect("blob push through the token flow");
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_type::OCI_MANIFEST,
            "config": config_d,
            "layers": [],
        });
        let bytes = Bytes::from(serde_json::to_vec(&manifest).expect("json"));
        let v1 = Reference::Tag("v1".parse().expect("tag"));
        repo.push_manifest(&v1, media_type::OCI_MANIFEST, bytes)
            .await
            .expect("manifest push");

        // Cached per scope: many reads, no new tokens.
        let before = gate.issued.load(Ordering::SeqCst);
        for _ in 0..10 {
            repo.fetch_manifest(&v1).await.expect("fetch");
        }
        let after = gate.issued.load(Ordering::SeqCst);
        assert!(
            after - before <= 1,
            "one token for the pull scope at most: {before} -> {after}"
        );

        // The registry forgets every token: the client gets a new one and carries on.
        gate.valid.lock().expect("lock").clear();
        repo.fetch_manifest(&v1)
            .await
            .expect("fetch after revocation");
        assert_eq!(
            gate.issued.load(Ordering::SeqCst),
            after + 1,
            "refreshed once"
        );

        // Wrong password: the token server refuses, and the error names the user tried.
        let wrong = Credential::Basic {
            username: "alice".into(),
            password: "nope".into(),
        };
        let err = client(&gate.addr, Some(wrong), dir.path())
            .repository(&gate.addr, "secure/app".parse().expect("name"))
            .fetch_manifest(&v1)
            .await
            .expect_err("wrong password");
        assert!(matches!(err, Error::Token { status: 401, .. }), "{err:?}");
        assert!(err.to_string().contains("user 'alice'"), "{err}");

        // Anonymous: a token that opens nothing, then a 401 that says how to log in.
        let err = client(&gate.addr, None, dir.path())
            .repository(&gate.addr, "secure/app".parse().expect("name"))
            .fetch_manifest(&v1)
            .await
            .expect_err("anonymous");
        assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
        assert!(err.to_string().contains("hallmark login"), "{err}");
    });
}

/// Notary v1 trust data behind the same token flow, as Docker Hub's notary server serves it:
/// `hallmark v1 list` answers the challenge with the user's credentials, and without them
/// says what it tried.
#[test]
fn notary_v1_trust_data_is_fetched_through_the_token_flow() {
    if !crate::v1_support::notary_installed() {
        return;
    }
    // hallmark serve answers the Notary v1 API; the real notary client publishes to it.
    let upstream = Server::start();
    let notary = crate::v1_support::NotaryClient::new(&format!("http://{}", upstream.host()));
    std::fs::write(notary.work().join("v1.json"), b"{\"image\":1}").expect("target file");
    notary.ok(&["init", "example.com/secure"]);
    notary.ok(&["add", "example.com/secure", "v1", "v1.json"]);
    notary.ok(&["publish", "example.com/secure"]);

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let gate = runtime.block_on(start_gate(upstream.host()));
    let server = format!("http://{}", gate.addr);
    let cli = crate::support::Cli::new();
    let state = tempfile::tempdir().expect("state");
    let state = state.path().to_str().expect("utf-8");

    let err = cli.fails(&[
        "v1",
        "list",
        &server,
        "example.com/secure",
        "--state-dir",
        state,
    ]);
    assert!(
        err.contains("401") || err.to_lowercase().contains("unauthorized"),
        "{err}"
    );
    let listed = cli.json(&[
        "v1",
        "list",
        &server,
        "example.com/secure",
        "--state-dir",
        state,
        "-u",
        "alice",
        "-p",
        "pw",
    ]);
    assert_eq!(listed["tags"][0]["tag"], "v1", "{listed}");
    assert!(
        gate.issued.load(Ordering::SeqCst) >= 1,
        "a token was issued"
    );
}
