//! Listing endpoints: tags of a repository and the catalog of repositories, both in lexical
//! order with `n`/`last` pagination and a `Link` header to the next page.

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use axum::response::IntoResponse;
use hallmark_oci::RepositoryName;
use hallmark_storage::Storage;

use super::{Handled, header_value, query_pairs, query_value};
use crate::Registry;
use crate::error::{ErrorCode, RegistryError};

/// A page of names, and the `n` and `last` of the next page when more remain.
type Page<'a> = (&'a [&'a str], Option<(usize, &'a str)>);

/// One page of a sorted list.
fn page<'a>(sorted: &'a [&'a str], request: &Request<Body>) -> Result<Page<'a>, RegistryError> {
    let query = query_pairs(request);
    let start = match query_value(&query, "last") {
        Some(last) => sorted.partition_point(|s| *s <= last),
        None => 0,
    };
    let rest = &sorted[start..];
    let n = match query_value(&query, "n") {
        None => return Ok((rest, None)),
        Some(n) => n.parse::<usize>().map_err(|_| {
            RegistryError::new(
                ErrorCode::Unsupported,
                format!("page size n='{n}' is not a non-negative integer"),
            )
            .with_status(axum::http::StatusCode::BAD_REQUEST)
        })?,
    };
    if n == 0 || rest.len() <= n {
        return Ok((&rest[..rest.len().min(n)], None));
    }
    let shown = &rest[..n];
    Ok((shown, Some((n, shown[n - 1]))))
}

fn next_link(path: &str, next: Option<(usize, &str)>) -> HeaderMap {
    let mut h = HeaderMap::new();
    if let Some((n, last)) = next {
        let last: String = form_urlencoded::byte_serialize(last.as_bytes()).collect();
        h.insert(
            header::LINK,
            header_value(format!("<{path}?n={n}&last={last}>; rel=\"next\"")),
        );
    }
    h
}

pub(super) async fn tags<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    request: Request<Body>,
) -> Handled {
    let Some(tags) = registry.storage.tags(&name).await? else {
        return Err(RegistryError::new(
            ErrorCode::NameUnknown,
            format!("repository '{name}' not known"),
        ));
    };
    let tags: Vec<&str> = tags.iter().map(|t| t.as_str()).collect();
    let (shown, next) = page(&tags, &request)?;
    let body = serde_json::json!({ "name": name.as_str(), "tags": shown });
    let headers = next_link(&format!("/v2/{name}/tags/list"), next);
    Ok((headers, axum::Json(body)).into_response())
}

pub(super) async fn catalog<S: Storage>(registry: &Registry<S>, request: Request<Body>) -> Handled {
    let repos = registry.storage.repositories().await?;
    let repos: Vec<&str> = repos.iter().map(|r| r.as_str()).collect();
    let (shown, next) = page(&repos, &request)?;
    let body = serde_json::json!({ "repositories": shown });
    Ok((next_link("/v2/_catalog", next), axum::Json(body)).into_response())
}
