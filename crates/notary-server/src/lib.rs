//! The Notary v1 server API (notary-server 0.7.0, `server/server.go`), served beside the
//! registry so that `notary` and `docker trust` keep working against Hallmark.
//!
//! Reference notes: `shared/reference/notary-v1.md` §1. The API lives under
//! `/v2/<gun>/_trust/` (plus `/v2/_trust/changefeed` and `/_notary_server/health`), paths the
//! OCI registry never uses, so [`mount`] puts it in front of the registry's router: a request
//! for a trust path is answered here, any other goes on to the registry.
//!
//! - [`route`]: paths to endpoints; GUNs, roles, checksums parsed at the edge.
//! - [`publish`]: the validated, atomic publish.
//! - [`signer`]: the server's snapshot and timestamp keys and what it signs with them.
//! - [`store`]: the [`TrustDataStore`] trait; [`fs_store`]: its filesystem implementation.
//! - [`multipart`]: the form the client uploads; [`error`]: the error answers.
//!
//! The body of a request refused before it was read is drained (within bounds) by the
//! registry's [`hallmark_registry::drain`], so the client gets the answer, not a reset.
//!
//! Metadata is parsed and verified by `hallmark-tuf`, with the rules its client applies.
//! There is no authentication of its own: the registry has none either, so both are open.

pub mod error;
pub mod fs_store;
mod handlers;
pub mod multipart;
pub mod publish;
pub mod route;
pub mod signer;
pub mod store;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

pub use error::{ErrorCode, NotaryError};
pub use fs_store::FsTrustStore;
pub use route::ServerGun;
pub use store::TrustDataStore;

/// What every trust request shares: the store and the write lock.
pub struct NotaryServer {
    store: Arc<dyn TrustDataStore>,
    writes: Arc<tokio::sync::Mutex<()>>,
}

impl std::fmt::Debug for NotaryServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NotaryServer").finish_non_exhaustive()
    }
}

impl NotaryServer {
    /// A server over `store`.
    pub fn new(store: impl TrustDataStore) -> Arc<NotaryServer> {
        Arc::new(NotaryServer {
            store: Arc::new(store),
            writes: Arc::new(tokio::sync::Mutex::new(())),
        })
    }
}

/// `app` with the Notary API in front of it: trust paths are answered by `server`, every
/// other request goes to `app` unchanged.
pub fn mount(app: axum::Router, server: Arc<NotaryServer>) -> axum::Router {
    app.layer(axum::middleware::from_fn_with_state(server, intercept))
}

async fn intercept(
    State(server): State<Arc<NotaryServer>>,
    request: Request<Body>,
    next: Next,
) -> Response {
    if !route::is_trust_path(request.uri().path()) {
        return next.run(request).await;
    }
    let span = tracing::info_span!(
        "request",
        api = "notary",
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let started = Instant::now();
        let (request, leftover) = hallmark_registry::drain::track(request);
        let (parts, body) = request.into_parts();
        let mut body = Some(body);
        let response = match route::parse(parts.uri.path()) {
            Ok(route) => handlers::handle(&server, route, &parts, &mut body).await,
            Err(e) => e.into_response(),
        };
        // A body the endpoint did not read: a refusal sent while the client is still writing
        // must not end in a reset.
        drop(body);
        leftover.drain().await;
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
