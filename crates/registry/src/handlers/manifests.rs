//! Manifest endpoints: pull (GET/HEAD), push (PUT) and delete.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use futures_util::future::try_join_all;
use hallmark_oci::media_type::ManifestKind;
use hallmark_oci::{Descriptor, Manifest, Reference, RepositoryName, Tag};
use hallmark_storage::{ManifestWrite, Storage};

use super::{Handled, header_str, header_value, query_pairs, unknown_in};
use crate::Registry;
use crate::error::{ErrorCode, RegistryError};

/// Parses a `<reference>`, answering with the code that fits what is wrong with it.
fn parse_reference(s: &str) -> Result<Reference, RegistryError> {
    s.parse().map_err(|e| match e {
        hallmark_oci::NameError::Digest(d) => RegistryError::new(
            ErrorCode::DigestInvalid,
            format!("invalid digest '{s}': {d}"),
        ),
        other => RegistryError::new(ErrorCode::ManifestInvalid, other.to_string()),
    })
}

pub(super) async fn get<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    reference: &str,
    with_body: bool,
) -> Handled {
    let reference = parse_reference(reference)?;
    let Some(m) = registry.storage.manifest_get(&name, &reference).await? else {
        let unknown = RegistryError::new(
            ErrorCode::ManifestUnknown,
            format!("manifest '{reference}' not found in '{name}'"),
        );
        return Err(unknown_in(registry, &name, unknown).await);
    };
    let headers = [
        (header::CONTENT_TYPE, header_value(&m.media_type)),
        (
            header::CONTENT_LENGTH,
            header_value(m.bytes.len().to_string()),
        ),
        (
            header::HeaderName::from_static("docker-content-digest"),
            header_value(m.digest.as_str()),
        ),
        (header::ETAG, header_value(format!("\"{}\"", m.digest))),
    ];
    let body = if with_body {
        Body::from(m.bytes.clone())
    } else {
        Body::empty()
    };
    Ok((headers, body).into_response())
}

/// Reads a manifest body, refusing more than `max` bytes with 413.
async fn read_limited(request: Request<Body>, max: usize) -> Result<Bytes, RegistryError> {
    let too_large = || {
        RegistryError::new(
            ErrorCode::SizeInvalid,
            format!("manifest is larger than the registry's limit of {max} bytes"),
        )
        .with_status(StatusCode::PAYLOAD_TOO_LARGE)
    };
    if super::content_length(request.headers())?.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let mut body = request.into_body().into_data_stream();
    let mut buf = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            RegistryError::new(
                ErrorCode::ManifestInvalid,
                format!("manifest body failed: {e}"),
            )
        })?;
        if buf.len() + chunk.len() > max {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

pub(super) async fn put<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    reference: &str,
    request: Request<Body>,
) -> Handled {
    let reference = parse_reference(reference)?;
    let extra_tags = tags_from_query(&request)?;
    let content_type = header_str(request.headers(), header::CONTENT_TYPE).map(str::to_owned);
    let bytes = read_limited(request, registry.config.manifest_max_bytes).await?;

    let digest = match &reference {
        Reference::Digest(d) => {
            let computed = d.algorithm().digest(&bytes);
            if &computed != d {
                return Err(RegistryError::new(
                    ErrorCode::DigestInvalid,
                    format!("manifest body has digest {computed}, not {d} as in the URL"),
                ));
            }
            computed
        }
        Reference::Tag(_) => hallmark_oci::Algorithm::Sha256.digest(&bytes),
    };
    let manifest = Manifest::parse(&bytes, content_type.as_deref())
        .map_err(|e| RegistryError::new(ErrorCode::ManifestInvalid, e.to_string()))?;
    check_references(registry, &name, &manifest).await?;

    let mut tags = extra_tags.clone();
    if let Reference::Tag(t) = &reference {
        tags.push(t.clone());
    }
    let referrer = manifest.subject.as_ref().map(|subject| {
        let descriptor = manifest.referrer_descriptor(digest.clone(), bytes.len() as u64);
        (subject.digest.clone(), descriptor)
    });
    let subject = referrer.as_ref().map(|(s, _)| s.clone());
    let write = ManifestWrite {
        digest: digest.clone(),
        media_type: manifest.media_type.clone(),
        bytes,
        tags,
        referrer,
    };
    registry.storage.manifest_put(&name, write).await?;
    tracing::info!(repository = %name, %digest, "manifest stored");

    let mut headers = HeaderMap::new();
    headers.insert(
        header::LOCATION,
        header_value(format!("/v2/{name}/manifests/{digest}")),
    );
    headers.insert("docker-content-digest", header_value(digest.as_str()));
    headers.insert(header::CONTENT_LENGTH, header_value("0"));
    if let Some(subject) = subject {
        headers.insert("oci-subject", header_value(subject.as_str()));
    }
    for t in &extra_tags {
        headers.append("oci-tag", header_value(t.as_str()));
    }
    Ok((StatusCode::CREATED, headers).into_response())
}

/// The `?tag=` parameters of a push by digest.
fn tags_from_query(request: &Request<Body>) -> Result<Vec<Tag>, RegistryError> {
    query_pairs(request)
        .into_iter()
        .filter(|(k, _)| k == "tag")
        .map(|(_, v)| {
            v.parse::<Tag>()
                .map_err(|e| RegistryError::new(ErrorCode::ManifestInvalid, e.to_string()))
        })
        .collect()
}

/// Every blob and manifest the new manifest names must already be in the repository, with
/// the size the descriptor claims. The `subject` is exempt: it may be pushed later.
async fn check_references<S: Storage>(
    registry: &Registry<S>,
    name: &RepositoryName,
    manifest: &Manifest,
) -> Result<(), RegistryError> {
    let storage = &registry.storage;
    match manifest.kind {
        ManifestKind::Image => {
            try_join_all(manifest.required_blobs().map(|d| async move {
                let size = storage.blob_size(name, &d.digest).await?;
                check_size(d, size, "blob")
            }))
            .await?;
        }
        ManifestKind::Index => {
            try_join_all(manifest.manifests.iter().map(|d| async move {
                let found = storage
                    .manifest_get(name, &Reference::Digest(d.digest.clone()))
                    .await?;
                check_size(d, found.map(|m| m.bytes.len() as u64), "manifest")
            }))
            .await?;
        }
    }
    Ok(())
}

fn check_size(d: &Descriptor, found: Option<u64>, what: &str) -> Result<(), RegistryError> {
    match found {
        None => Err(RegistryError::new(
            ErrorCode::ManifestBlobUnknown,
            format!(
                "{what} {} is not in this repository: push it before the manifest",
                d.digest
            ),
        )),
        Some(size) if size != d.size => Err(RegistryError::new(
            ErrorCode::ManifestInvalid,
            format!(
                "descriptor of {} says {} bytes, the {what} has {size}",
                d.digest, d.size
            ),
        )),
        Some(_) => Ok(()),
    }
}

pub(super) async fn delete<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    reference: &str,
) -> Handled {
    let reference = parse_reference(reference)?;
    let unknown = || {
        RegistryError::new(
            ErrorCode::ManifestUnknown,
            format!("manifest '{reference}' not found in '{name}'"),
        )
    };
    let deleted = match &reference {
        Reference::Tag(tag) => registry.storage.tag_delete(&name, tag).await?,
        Reference::Digest(digest) => {
            match registry.storage.manifest_get(&name, &reference).await? {
                None => false,
                Some(stored) => {
                    // The subject decides which referrers list loses this manifest. Stored
                    // manifests were parsed at push, so a parse failure means corruption.
                    let subject = Manifest::parse(&stored.bytes, Some(&stored.media_type))
                        .ok()
                        .and_then(|m| m.subject)
                        .map(|s| s.digest);
                    registry
                        .storage
                        .manifest_delete(&name, digest, subject.as_ref())
                        .await?
                }
            }
        }
    };
    if !deleted {
        return Err(unknown_in(registry, &name, unknown()).await);
    }
    tracing::info!(repository = %name, %reference, "manifest deleted");
    Ok(StatusCode::ACCEPTED.into_response())
}
