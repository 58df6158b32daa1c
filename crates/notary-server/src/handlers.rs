//! The endpoints: one function per route and method, each turning a request into store calls
//! on a blocking task (as is the parsing of a publish's multipart body). Writes (publish,
//! delete, key creation and rotation, re-signing) run one at a time under the server's write
//! lock, which the blocking task owns, so a client that disconnects cannot cut a write short
//! or let another start beside it. Reads take no lock: a read of the current timestamp or
//! snapshot takes it only when the server will re-sign one, and reads only the files it
//! serves.
//!
//! A handler takes the request body out of its slot only when it reads it; a body left there
//! is drained by the caller (`hallmark_registry::drain`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Method, StatusCode, header, request};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use time::OffsetDateTime;

use crate::NotaryServer;
use crate::error::{ErrorCode, NotaryError};
use crate::route::{MetadataRef, ServerGun, ServerRole, TrustRoute};
use crate::signer;
use crate::store::{self, ChangeCategory, ChangeQuery, NewChange, TrustDataStore};
use crate::{multipart, publish};

/// Largest publish body accepted.
const MAX_UPLOAD_BYTES: usize = 64 << 20;
/// Change feed records per page unless `records` says otherwise.
const DEFAULT_RECORDS: usize = 100;

type Store = Arc<dyn TrustDataStore>;

/// Answers one request for `route`; `body` is taken only by the endpoints that read it.
pub async fn handle(
    server: &NotaryServer,
    route: TrustRoute,
    request: &request::Parts,
    body: &mut Option<Body>,
) -> Response {
    let method = request.method.clone();
    let query = request.uri.query().unwrap_or_default().to_string();
    let result = match (route, &method) {
        (TrustRoute::Health, &Method::GET | &Method::HEAD) => {
            Ok(axum::Json(json!({})).into_response())
        }
        (TrustRoute::GlobalChangefeed, &Method::GET) => changefeed(server, None, &query).await,
        (TrustRoute::Changefeed(gun), &Method::GET) => changefeed(server, Some(gun), &query).await,
        (TrustRoute::Repository(gun), &Method::POST) => publish(server, gun, request, body).await,
        (TrustRoute::Repository(gun), &Method::DELETE) => delete(server, gun).await,
        (TrustRoute::Metadata(gun, reference), &Method::GET | &Method::HEAD) => {
            metadata(server, gun, reference).await
        }
        (TrustRoute::Key(gun, role), &Method::GET) => key(server, gun, role, false).await,
        (TrustRoute::Key(gun, role), &Method::POST) => key(server, gun, role, true).await,
        _ => Err(NotaryError::not_found()),
    };
    let mut response = result.unwrap_or_else(IntoResponse::into_response);
    if method == Method::HEAD {
        *response.body_mut() = Body::empty();
    }
    response
}

/// Runs `work` on a blocking task; with `exclusive`, under the write lock.
async fn blocking<T: Send + 'static>(
    server: &NotaryServer,
    exclusive: bool,
    work: impl FnOnce(&dyn TrustDataStore) -> Result<T, NotaryError> + Send + 'static,
) -> Result<T, NotaryError> {
    let guard = if exclusive {
        Some(server.writes.clone().lock_owned().await)
    } else {
        None
    };
    let store: Store = server.store.clone();
    tokio::task::spawn_blocking(move || {
        let result = work(store.as_ref());
        drop(guard);
        result
    })
    .await
    .map_err(|e| NotaryError::internal(format!("storage task failed: {e}")))?
}

async fn publish(
    server: &NotaryServer,
    gun: ServerGun,
    request: &request::Parts,
    body: &mut Option<Body>,
) -> Result<Response, NotaryError> {
    let malformed = |reason: String| NotaryError::new(ErrorCode::MalformedUpload, reason);
    let content_type = request
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let boundary = multipart::boundary(content_type).map_err(|e| malformed(e.to_string()))?;
    let body = axum::body::to_bytes(body.take().unwrap_or_default(), MAX_UPLOAD_BYTES)
        .await
        .map_err(|e| malformed(format!("cannot read the body: {e}")))?;
    // Parsing scans the whole body (up to MAX_UPLOAD_BYTES): not on an async worker.
    let upload = tokio::task::spawn_blocking(move || {
        let parts = multipart::parse(&body, &boundary).map_err(|e| malformed(e.to_string()))?;
        publish::roles_from_parts(parts)
    })
    .await
    .map_err(|e| NotaryError::internal(format!("parsing task failed: {e}")))??;
    let now = OffsetDateTime::now_utc();
    blocking(server, true, move |store| {
        publish::publish(store, &gun, upload, now)
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn delete(server: &NotaryServer, gun: ServerGun) -> Result<Response, NotaryError> {
    blocking(server, true, move |store| {
        let change = NewChange {
            gun: gun.to_string(),
            version: 0,
            sha256: String::new(),
            category: ChangeCategory::Deletion,
        };
        let existed = store.delete(&gun, &change)?;
        tracing::info!(%gun, existed, "trust data deleted");
        Ok(())
    })
    .await?;
    Ok(StatusCode::OK.into_response())
}

async fn metadata(
    server: &NotaryServer,
    gun: ServerGun,
    reference: MetadataRef,
) -> Result<Response, NotaryError> {
    let now = OffsetDateTime::now_utc();
    let role = reference.role();
    let server_signed =
        *role == hallmark_tuf::RoleName::timestamp() || *role == hallmark_tuf::RoleName::snapshot();
    if server_signed && matches!(reference, MetadataRef::Current(_)) {
        let check = gun.clone();
        if blocking(server, false, move |store| {
            signer::needs_refresh(store, &check, now)
        })
        .await?
        {
            let fresh = gun.clone();
            blocking(server, true, move |store| {
                signer::refresh(store, &fresh, now)
            })
            .await?;
        }
    }
    let cache = match reference {
        MetadataRef::Current(_) => "public, max-age=300, s-maxage=300, must-revalidate",
        _ => "public, max-age=2592000",
    };
    let bytes = blocking(server, false, move |store| {
        read_metadata(store, &gun, &reference)
    })
    .await?;
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
        (header::CACHE_CONTROL, HeaderValue::from_static(cache)),
    ];
    Ok((headers, bytes).into_response())
}

/// The file `reference` names. A current file that is gone by the time it is read (a
/// `DELETE` in between) is not found, as it would be a moment later.
fn read_metadata(
    store: &dyn TrustDataStore,
    gun: &ServerGun,
    reference: &MetadataRef,
) -> Result<Vec<u8>, NotaryError> {
    let found = match reference {
        MetadataRef::Current(role) => {
            let current = store.current(gun)?;
            store::current_file(store, gun, &current, role)?
        }
        MetadataRef::Checksum(role, sum) => store.by_checksum(gun, role, sum)?,
        MetadataRef::Version(role, version) => store.by_version(gun, role, *version)?,
    };
    found.ok_or_else(NotaryError::not_found)
}

async fn key(
    server: &NotaryServer,
    gun: ServerGun,
    role: ServerRole,
    rotate: bool,
) -> Result<Response, NotaryError> {
    let key = blocking(server, true, move |store| {
        if rotate {
            signer::rotate_key(store, &gun, role)
        } else {
            signer::get_or_create_key(store, &gun, role)
        }
    })
    .await?;
    Ok(axum::Json(key.key_object()).into_response())
}

async fn changefeed(
    server: &NotaryServer,
    gun: Option<ServerGun>,
    query: &str,
) -> Result<Response, NotaryError> {
    let query = change_query(query)?;
    let records = blocking(server, false, move |store| {
        Ok(store.changes(gun.as_ref(), query)?)
    })
    .await?;
    let count = records.len();
    Ok(axum::Json(Feed { count, records }).into_response())
}

/// A change feed page, members in notary-server's order.
#[derive(serde::Serialize)]
struct Feed {
    count: usize,
    records: Vec<crate::store::ChangeRecord>,
}

/// `change_id` (0 = from the oldest, -1 = from the newest) and `records` (negative pages
/// backwards), as notary-server's `GetChanges` reads them: any negative `change_id` pages
/// backwards from the newest, and so does `change_id` 0 with negative `records`.
fn change_query(query: &str) -> Result<ChangeQuery, NotaryError> {
    let invalid = |what: &str| NotaryError::new(ErrorCode::InvalidParameters, what.to_string());
    let (mut change_id, mut records) = (0_i64, DEFAULT_RECORDS as i64);
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match key.as_ref() {
            "change_id" if !value.is_empty() => {
                change_id = value
                    .parse()
                    .map_err(|_| invalid("change_id is not a number"))?;
            }
            "records" if !value.is_empty() => {
                records = value
                    .parse()
                    .map_err(|_| invalid("records is not a number"))?;
            }
            _ => {}
        }
    }
    let count = match records.unsigned_abs() {
        0 => DEFAULT_RECORDS,
        n => usize::try_from(n).unwrap_or(usize::MAX),
    };
    let backwards = records < 0 || change_id < 0;
    let change_id = if backwards && change_id <= 0 {
        None
    } else {
        u64::try_from(change_id).ok()
    };
    Ok(ChangeQuery {
        change_id,
        records: count,
        backwards,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // literals

    use super::*;

    #[test]
    fn change_queries_as_notary_reads_them() {
        let q = change_query("").unwrap();
        assert_eq!((q.change_id, q.records, q.backwards), (Some(0), 100, false));
        let q = change_query("change_id=-1&records=5").unwrap();
        assert_eq!((q.change_id, q.records, q.backwards), (None, 5, true));
        let q = change_query("change_id=7&records=-3").unwrap();
        assert_eq!((q.change_id, q.records, q.backwards), (Some(7), 3, true));
        for bad in ["change_id=x", "records=1.5"] {
            let err = change_query(bad).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidParameters, "{bad}");
        }
    }

    #[test]
    fn negative_records_from_change_id_zero_start_at_the_newest() {
        for query in ["change_id=0&records=-5", "records=-5"] {
            let q = change_query(query).unwrap();
            assert_eq!(
                (q.change_id, q.records, q.backwards),
                (None, 5, true),
                "{query}"
            );
        }
    }

    #[test]
    fn any_negative_change_id_pages_back_from_the_newest() {
        let q = change_query("change_id=-2").unwrap();
        assert_eq!((q.change_id, q.records, q.backwards), (None, 100, true));
        let q = change_query("change_id=-9&records=-2").unwrap();
        assert_eq!((q.change_id, q.records, q.backwards), (None, 2, true));
    }

    #[test]
    fn current_file_gone_mid_delete_is_not_found() {
        use crate::store::RoleFile;
        let dir = tempfile::tempdir().unwrap();
        let store = crate::FsTrustStore::open(dir.path()).unwrap();
        let gun: ServerGun = "example.com/demo".parse().unwrap();
        let role: hallmark_tuf::RoleName = "targets".parse().unwrap();
        let file = RoleFile {
            role: role.clone(),
            version: 1,
            bytes: b"t1".to_vec(),
        };
        store.commit(&gun, &[file], None).unwrap();
        let current = MetadataRef::Current(role);
        assert_eq!(read_metadata(&store, &gun, &current).unwrap(), b"t1");
        // A DELETE between reading current.json and reading the file it names.
        let meta = dir
            .path()
            .join("repos/example.com/demo/_trust/meta/targets/1.json");
        std::fs::remove_file(meta).unwrap();
        let err = read_metadata(&store, &gun, &current).unwrap_err();
        assert_eq!(err.code(), ErrorCode::MetadataNotFound, "{err}");
    }
}
