//! Request handlers, one module per family of endpoints.

mod blobs;
mod listing;
mod manifests;
mod referrers;
mod uploads;

use std::io;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use hallmark_oci::{Digest, RepositoryName};
use hallmark_storage::Storage;

use crate::error::{ErrorCode, RegistryError};
use crate::route::Route;
use crate::{Registry, method_not_allowed};

/// The result of a handler.
type Handled = Result<Response, RegistryError>;

/// Calls the handler for a route and method.
pub(crate) async fn handle<S: Storage>(
    registry: &Registry<S>,
    route: Route,
    request: Request<Body>,
) -> Response {
    let method = request.method().clone();
    let allow = route.methods();
    let result = match (route, &method) {
        (Route::Base, &Method::GET | &Method::HEAD) => {
            Ok(axum::Json(serde_json::json!({})).into_response())
        }
        (Route::Catalog, &Method::GET) => listing::catalog(registry, request).await,
        (Route::Tags(name), &Method::GET) => listing::tags(registry, name, request).await,
        (Route::Manifest(name, r), &Method::GET) => manifests::get(registry, name, &r, true).await,
        (Route::Manifest(name, r), &Method::HEAD) => {
            manifests::get(registry, name, &r, false).await
        }
        (Route::Manifest(name, r), &Method::PUT) => {
            manifests::put(registry, name, &r, request).await
        }
        (Route::Manifest(name, r), &Method::DELETE) => manifests::delete(registry, name, &r).await,
        (Route::Blob(name, d), &Method::GET) => blobs::get(registry, name, &d, request, true).await,
        (Route::Blob(name, d), &Method::HEAD) => {
            blobs::get(registry, name, &d, request, false).await
        }
        (Route::Blob(name, d), &Method::DELETE) => blobs::delete(registry, name, &d).await,
        (Route::UploadStart(name), &Method::POST) => uploads::start(registry, name, request).await,
        (Route::Upload(name, id), &Method::GET) => uploads::status(registry, name, &id).await,
        (Route::Upload(name, id), &Method::PATCH) => {
            uploads::patch(registry, name, &id, request).await
        }
        (Route::Upload(name, id), &Method::PUT) => {
            uploads::finish(registry, name, &id, request).await
        }
        (Route::Upload(name, id), &Method::DELETE) => uploads::cancel(registry, name, &id).await,
        (Route::Referrers(name, d), &Method::GET) => {
            referrers::list(registry, name, &d, request).await
        }
        _ => Err(method_not_allowed(&method, allow)),
    };
    result.unwrap_or_else(IntoResponse::into_response)
}

/// Parses a digest from a path or query, answering `DIGEST_INVALID` when it is not one.
fn parse_digest(s: &str) -> Result<Digest, RegistryError> {
    s.parse().map_err(|e: hallmark_oci::DigestError| {
        RegistryError::new(
            ErrorCode::DigestInvalid,
            format!("invalid digest '{s}': {e}"),
        )
    })
}

/// The query string as key/value pairs, in order, repeated keys kept.
fn query_pairs(request: &Request<Body>) -> Vec<(String, String)> {
    let q = request.uri().query().unwrap_or_default();
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

/// The first value of a query key.
fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// A header value as text, if present and readable.
fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The declared `Content-Length`, if any.
fn content_length(headers: &HeaderMap) -> Result<Option<u64>, RegistryError> {
    match header_str(headers, header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            RegistryError::new(
                ErrorCode::SizeInvalid,
                format!("invalid Content-Length '{v}'"),
            )
        }),
    }
}

/// Builds a header value from text we produced ourselves (paths of valid names and digests,
/// numbers), falling back to an empty value rather than panicking.
fn header_value(s: impl AsRef<str>) -> HeaderValue {
    HeaderValue::from_str(s.as_ref()).unwrap_or(HeaderValue::from_static(""))
}

/// A request body as the storage layer's stream of chunks.
fn body_stream(request: Request<Body>) -> impl Stream<Item = io::Result<bytes::Bytes>> + Unpin {
    request
        .into_body()
        .into_data_stream()
        .map(|r| r.map_err(io::Error::other))
}

/// `NAME_UNKNOWN` when the repository does not exist, else the given error.
async fn unknown_in<S: Storage>(
    registry: &Registry<S>,
    name: &RepositoryName,
    otherwise: RegistryError,
) -> RegistryError {
    match registry.storage.repository_exists(name).await {
        Ok(false) => RegistryError::new(
            ErrorCode::NameUnknown,
            format!("repository '{name}' not known"),
        ),
        Ok(true) => otherwise,
        Err(e) => e.into(),
    }
}
