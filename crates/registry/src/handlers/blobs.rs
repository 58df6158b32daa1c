//! Blob endpoints: pull (GET/HEAD, with `Range`) and delete.

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use axum::response::IntoResponse;
use hallmark_oci::RepositoryName;
use hallmark_storage::Storage;

use super::{Handled, header_str, header_value, parse_digest, unknown_in};
use crate::Registry;
use crate::error::{ErrorCode, RegistryError};

/// What a `Range` header asks of a blob of a given size (RFC 9110, section 14).
#[derive(Debug, PartialEq, Eq)]
enum RangeRequest {
    /// No usable range: send the whole blob with 200.
    Whole,
    /// Send bytes `start..start + len` with 206.
    Part { start: u64, len: u64 },
    /// No byte of the range exists: 416.
    Unsatisfiable,
}

fn parse_range(value: Option<&str>, size: u64) -> RangeRequest {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeRequest::Whole;
    };
    // Several ranges would need a multipart answer; RFC 9110 lets a server ignore the header.
    if spec.contains(',') {
        return RangeRequest::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return RangeRequest::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // Suffix range: the last N bytes.
        return match last.parse::<u64>() {
            Ok(0) => RangeRequest::Unsatisfiable,
            Ok(_) if size == 0 => RangeRequest::Unsatisfiable,
            Ok(n) => {
                let len = n.min(size);
                RangeRequest::Part {
                    start: size - len,
                    len,
                }
            }
            Err(_) => RangeRequest::Whole,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return RangeRequest::Whole;
    };
    let end = if last.is_empty() {
        size.saturating_sub(1)
    } else {
        match last.parse::<u64>() {
            Ok(e) if e >= start => e.min(size.saturating_sub(1)),
            _ => return RangeRequest::Whole,
        }
    };
    if start >= size {
        return RangeRequest::Unsatisfiable;
    }
    RangeRequest::Part {
        start,
        len: end - start + 1,
    }
}

pub(super) async fn get<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    digest: &str,
    request: Request<Body>,
    with_body: bool,
) -> Handled {
    let digest = parse_digest(digest)?;
    let Some(size) = registry.storage.blob_size(&name, &digest).await? else {
        let unknown = RegistryError::new(
            ErrorCode::BlobUnknown,
            format!("blob {digest} not found in '{name}'"),
        );
        return Err(unknown_in(registry, &name, unknown).await);
    };
    let range = parse_range(header_str(request.headers(), header::RANGE), size);
    let (status, start, len) = match range {
        RangeRequest::Whole => (StatusCode::OK, 0, size),
        RangeRequest::Part { start, len } => (StatusCode::PARTIAL_CONTENT, start, len),
        RangeRequest::Unsatisfiable => {
            return Err(RegistryError::new(
                ErrorCode::SizeInvalid,
                format!("requested range is outside the blob's {size} bytes"),
            )
            .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
            .with_header(
                header::CONTENT_RANGE,
                header_value(format!("bytes */{size}")),
            ));
        }
    };

    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        header_value("application/octet-stream"),
    );
    headers.insert(header::CONTENT_LENGTH, header_value(len.to_string()));
    headers.insert(header::ACCEPT_RANGES, header_value("bytes"));
    headers.insert("docker-content-digest", header_value(digest.as_str()));
    headers.insert(header::ETAG, header_value(format!("\"{digest}\"")));
    if status == StatusCode::PARTIAL_CONTENT {
        let end = start + len - 1;
        headers.insert(
            header::CONTENT_RANGE,
            header_value(format!("bytes {start}-{end}/{size}")),
        );
    }
    let body = if with_body && len > 0 {
        Body::from_stream(
            registry
                .storage
                .blob_read(&name, &digest, start, len)
                .await?,
        )
    } else {
        Body::empty()
    };
    Ok((status, headers, body).into_response())
}

pub(super) async fn delete<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    digest: &str,
) -> Handled {
    let digest = parse_digest(digest)?;
    if !registry.storage.blob_delete(&name, &digest).await? {
        let unknown = RegistryError::new(
            ErrorCode::BlobUnknown,
            format!("blob {digest} not found in '{name}'"),
        );
        return Err(unknown_in(registry, &name, unknown).await);
    }
    tracing::info!(repository = %name, %digest, "blob unlinked");
    Ok(StatusCode::ACCEPTED.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        use RangeRequest::*;
        let cases = [
            (None, 10, Whole),
            (Some("bytes=0-4"), 10, Part { start: 0, len: 5 }),
            (Some("bytes=5-"), 10, Part { start: 5, len: 5 }),
            (Some("bytes=5-100"), 10, Part { start: 5, len: 5 }),
            (Some("bytes=-3"), 10, Part { start: 7, len: 3 }),
            (Some("bytes=-30"), 10, Part { start: 0, len: 10 }),
            (Some("bytes=10-"), 10, Unsatisfiable),
            (Some("bytes=10-20"), 10, Unsatisfiable),
            (Some("bytes=-0"), 10, Unsatisfiable),
            (Some("bytes=0-0"), 0, Unsatisfiable),
            (Some("bytes=4-2"), 10, Whole),
            (Some("bytes=0-1,3-4"), 10, Whole),
            (Some("items=0-1"), 10, Whole),
            (Some("bytes=x-1"), 10, Whole),
        ];
        for (header, size, want) in cases {
            assert_eq!(parse_range(header, size), want, "{header:?} of {size}");
        }
    }
}
