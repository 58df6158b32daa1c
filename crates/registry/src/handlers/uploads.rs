//! Blob upload endpoints: start (POST, also monolithic and mount), chunk (PATCH), status
//! (GET), complete (PUT) and cancel (DELETE). Spec section "Pushing blobs".

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hallmark_oci::{Algorithm, Digest, RepositoryName};
use hallmark_storage::{Storage, UploadId};

use super::{
    Handled, body_stream, content_length, header_str, header_value, parse_digest, query_pairs,
    query_value,
};
use crate::Registry;
use crate::error::{ErrorCode, RegistryError};

fn upload_location(name: &RepositoryName, id: UploadId) -> String {
    format!("/v2/{name}/blobs/uploads/{}", id.simple())
}

/// Headers describing a session: where it is and what it holds.
fn session_headers(name: &RepositoryName, id: UploadId, size: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(header::LOCATION, header_value(upload_location(name, id)));
    h.insert(
        header::RANGE,
        header_value(format!("0-{}", size.saturating_sub(1))),
    );
    h.insert(
        "docker-upload-uuid",
        header_value(id.hyphenated().to_string()),
    );
    h
}

fn blob_created(name: &RepositoryName, digest: &Digest) -> Response {
    let mut h = HeaderMap::new();
    h.insert(
        header::LOCATION,
        header_value(format!("/v2/{name}/blobs/{digest}")),
    );
    h.insert("docker-content-digest", header_value(digest.as_str()));
    h.insert(header::CONTENT_LENGTH, header_value("0"));
    (StatusCode::CREATED, h).into_response()
}

fn parse_id(id: &str) -> Result<UploadId, RegistryError> {
    UploadId::try_parse(id).map_err(|_| {
        RegistryError::new(
            ErrorCode::BlobUploadUnknown,
            format!("no upload session '{id}'"),
        )
    })
}

pub(super) async fn start<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    request: Request<Body>,
) -> Handled {
    let query = query_pairs(&request);
    if let Some(mount) = query_value(&query, "mount") {
        let digest = parse_digest(mount)?;
        if let Some(from) = query_value(&query, "from") {
            let from: RepositoryName = from.parse().map_err(|e: hallmark_oci::NameError| {
                RegistryError::new(ErrorCode::NameInvalid, e.to_string())
            })?;
            if registry
                .storage
                .blob_mount(&from, &name, &digest)
                .await?
                .is_some()
            {
                tracing::info!(repository = %name, %from, %digest, "blob mounted");
                return Ok(blob_created(&name, &digest));
            }
        }
        // Not mountable: the spec asks for an ordinary upload session instead.
    } else if let Some(digest) = query_value(&query, "digest") {
        let digest = parse_digest(digest)?;
        return monolithic(registry, name, digest, request).await;
    }

    let algorithm = match query_value(&query, "digest-algorithm") {
        None => Algorithm::Sha256,
        Some(a) => a.parse().map_err(|e: hallmark_oci::DigestError| {
            RegistryError::new(ErrorCode::DigestInvalid, e.to_string())
        })?,
    };
    let id = registry.storage.upload_start(&name, algorithm).await?;
    let mut headers = session_headers(&name, id, 0);
    if let Some(min) = registry.config.chunk_min_length {
        headers.insert("oci-chunk-min-length", header_value(min.to_string()));
    }
    Ok((StatusCode::ACCEPTED, headers).into_response())
}

/// POST with `?digest=`: the whole blob in one request.
async fn monolithic<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    digest: Digest,
    request: Request<Body>,
) -> Handled {
    let len = content_length(request.headers())?;
    let storage = &registry.storage;
    let id = storage.upload_start(&name, digest.algorithm()).await?;
    let stored = async {
        storage
            .upload_append(&name, id, Some(0), len, body_stream(request))
            .await?;
        storage.upload_complete(&name, id, &digest).await
    }
    .await;
    if let Err(e) = stored {
        // The session is this request's alone; drop what it received.
        let _ = storage.upload_cancel(&name, id).await;
        return Err(e.into());
    }
    tracing::info!(repository = %name, %digest, "blob stored");
    Ok(blob_created(&name, &digest))
}

/// The chunk position a request declares: `Content-Range: <start>-<end>` (inclusive), with
/// its length checked against `Content-Length` when both are present.
fn declared_chunk(headers: &HeaderMap) -> Result<(Option<u64>, Option<u64>), RegistryError> {
    let length = content_length(headers)?;
    let Some(range) = header_str(headers, header::CONTENT_RANGE) else {
        return Ok((None, length));
    };
    let invalid = || {
        RegistryError::new(
            ErrorCode::BlobUploadInvalid,
            format!("Content-Range '{range}' is not of the form <start>-<end>"),
        )
        .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
    };
    // Some clients write the RFC 9110 form `bytes <start>-<end>/<size>`; accept it too.
    let spec = range
        .trim()
        .trim_start_matches("bytes ")
        .trim_start_matches("bytes=");
    let spec = spec.split('/').next().unwrap_or_default();
    let (start, end) = spec.split_once('-').ok_or_else(invalid)?;
    let start: u64 = start.parse().map_err(|_| invalid())?;
    let end: u64 = end.parse().map_err(|_| invalid())?;
    if end < start {
        return Err(invalid());
    }
    let len = end - start + 1;
    if let Some(l) = length
        && l != len
    {
        return Err(RegistryError::new(
            ErrorCode::SizeInvalid,
            format!("Content-Range covers {len} bytes but Content-Length is {l}"),
        ));
    }
    Ok((Some(start), Some(len)))
}

pub(super) async fn patch<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    id: &str,
    request: Request<Body>,
) -> Handled {
    let id = parse_id(id)?;
    let (start, len) = declared_chunk(request.headers())?;
    let size = registry
        .storage
        .upload_append(&name, id, start, len, body_stream(request))
        .await
        .map_err(|e| session_error(&name, id, e))?;
    Ok((StatusCode::ACCEPTED, session_headers(&name, id, size)).into_response())
}

/// A storage error, with the session's `Location` added to a 416 so the client can resume.
fn session_error(
    name: &RepositoryName,
    id: UploadId,
    e: hallmark_storage::StorageError,
) -> RegistryError {
    let e = RegistryError::from(e);
    if e.status() == StatusCode::RANGE_NOT_SATISFIABLE {
        e.with_header(header::LOCATION, header_value(upload_location(name, id)))
    } else {
        e
    }
}

pub(super) async fn finish<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    id: &str,
    request: Request<Body>,
) -> Handled {
    let id = parse_id(id)?;
    let query = query_pairs(&request);
    let Some(digest) = query_value(&query, "digest") else {
        return Err(RegistryError::new(
            ErrorCode::DigestInvalid,
            "completing an upload needs ?digest=<digest of the whole blob>",
        ));
    };
    let digest = parse_digest(digest)?;
    let (start, len) = declared_chunk(request.headers())?;
    // A final chunk may ride on the PUT; skip the append when the body is known to be empty.
    if len != Some(0) {
        registry
            .storage
            .upload_append(&name, id, start, len, body_stream(request))
            .await
            .map_err(|e| session_error(&name, id, e))?;
    }
    registry.storage.upload_complete(&name, id, &digest).await?;
    tracing::info!(repository = %name, %digest, "blob stored");
    Ok(blob_created(&name, &digest))
}

pub(super) async fn status<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    id: &str,
) -> Handled {
    let id = parse_id(id)?;
    let size = registry.storage.upload_size(&name, id).await?;
    Ok((StatusCode::NO_CONTENT, session_headers(&name, id, size)).into_response())
}

pub(super) async fn cancel<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    id: &str,
) -> Handled {
    let id = parse_id(id)?;
    registry.storage.upload_cancel(&name, id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
