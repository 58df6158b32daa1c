//! The OCI Distribution v1.1 registry: every endpoint of the distribution spec, including the
//! referrers API, served over any [`Storage`].
//!
//! Requests are matched by [`route`], answered by the modules under `handlers`, and fail with
//! a [`RegistryError`] that carries the spec's error code. This crate knows HTTP and the
//! protocol; where bytes live is the storage crate's business.
//!
//! Spec: <https://github.com/opencontainers/distribution-spec/blob/main/spec.md>

pub mod drain;
pub mod error;
mod handlers;
pub mod route;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, Method, Request};
use axum::response::{IntoResponse, Response};
use hallmark_storage::Storage;
use serde::Deserialize;
use tracing::Instrument;

pub use error::{ErrorCode, RegistryError};

/// Protocol settings of the registry.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Largest manifest accepted, in bytes; larger pushes get 413.
    pub manifest_max_bytes: usize,
    /// Minimum chunk size advertised as `OCI-Chunk-Min-Length`, if any.
    pub chunk_min_length: Option<u64>,
    /// Most descriptors in one page of a referrers response.
    pub referrers_page_size: usize,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        RegistryConfig {
            manifest_max_bytes: 4 << 20,
            chunk_min_length: None,
            referrers_page_size: 1000,
        }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct Registry<S> {
    storage: S,
    config: RegistryConfig,
}

impl<S: Storage> Registry<S> {
    /// A registry over `storage`.
    pub fn new(storage: S, config: RegistryConfig) -> Arc<Registry<S>> {
        Arc::new(Registry { storage, config })
    }
}

/// The axum application serving the `/v2/` API.
pub fn router<S: Storage>(registry: Arc<Registry<S>>) -> axum::Router {
    axum::Router::new()
        .fallback(dispatch::<S>)
        .with_state(registry)
}

/// Every request passes here: one span, one routing decision, one log line when done.
async fn dispatch<S: Storage>(
    State(registry): State<Arc<Registry<S>>>,
    request: Request<Body>,
) -> Response {
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let started = Instant::now();
        let (request, leftover) = drain::track(request);
        let route = route::parse(request.uri().path());
        let mut response = match route {
            Ok(Some(route)) => handlers::handle(&registry, route, request).await,
            Ok(None) => {
                drop(request);
                RegistryError::new(ErrorCode::NameUnknown, "no such endpoint")
                    .with_status(axum::http::StatusCode::NOT_FOUND)
                    .into_response()
            }
            Err(e) => {
                drop(request);
                e.into_response()
            }
        };
        // The request is gone by now, and with it the handler's hold on the body. A refusal
        // sent while the client is still writing must not end in a reset.
        leftover.drain().await;
        response.headers_mut().insert(
            "docker-distribution-api-version",
            HeaderValue::from_static("registry/2.0"),
        );
        tracing::debug!(
            status = response.status().as_u16(),
            micros = started.elapsed().as_micros() as u64,
            "done"
        );
        response
    }
    .instrument(span)
    .await
}

/// The 405 answer for a method an endpoint does not have, with the `Allow` header RFC 9110
/// (section 15.5.6) requires: the methods the endpoint does have.
fn method_not_allowed(method: &Method, allow: &'static str) -> RegistryError {
    RegistryError::new(
        ErrorCode::Unsupported,
        format!("method {method} not allowed here (allowed: {allow})"),
    )
    .with_header(axum::http::header::ALLOW, HeaderValue::from_static(allow))
}
