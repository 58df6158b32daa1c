//! The referrers API (spec section "Listing Referrers"): an image index of the manifests
//! whose `subject` is a digest, optionally filtered by `artifactType`, paged with `Link`.
//!
//! The list comes from the index storage keeps up to date at every push and delete; a query
//! never scans the repository. Each entry is stored pre-serialized, so an answer is built by
//! concatenation.

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use axum::response::IntoResponse;
use bytes::{BufMut, BytesMut};
use hallmark_oci::{RepositoryName, media_type};
use hallmark_storage::Storage;

use super::{Handled, header_value, parse_digest, query_pairs, query_value};
use crate::Registry;

pub(super) async fn list<S: Storage>(
    registry: &Registry<S>,
    name: RepositoryName,
    subject: &str,
    request: Request<Body>,
) -> Handled {
    let subject = parse_digest(subject)?;
    let query = query_pairs(&request);
    let filter = query_value(&query, "artifactType");
    let after = query_value(&query, "last")
        .map(super::parse_digest)
        .transpose()?;

    let referrers = registry.storage.referrers(&name, &subject).await?;
    let start = match &after {
        Some(last) => referrers
            .entries
            .partition_point(|e| &e.descriptor.digest <= last),
        None => 0,
    };
    let page_size = registry.config.referrers_page_size.max(1);
    let mut body = BytesMut::with_capacity(128 + referrers.entries.len().min(page_size) * 256);
    body.put_slice(b"{\"schemaVersion\":2,\"mediaType\":\"");
    body.put_slice(media_type::OCI_INDEX.as_bytes());
    body.put_slice(b"\",\"manifests\":[");
    let mut last_shown = None;
    let mut more = false;
    let matching = referrers.entries[start..]
        .iter()
        .filter(|e| filter.is_none_or(|f| e.descriptor.artifact_type.as_deref() == Some(f)));
    for (shown, entry) in matching.enumerate() {
        if shown == page_size {
            more = true;
            break;
        }
        if shown > 0 {
            body.put_u8(b',');
        }
        body.put_slice(&entry.json);
        last_shown = Some(&entry.descriptor.digest);
    }
    body.put_slice(b"]}");

    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header_value(media_type::OCI_INDEX));
    if filter.is_some() {
        headers.insert("oci-filters-applied", header_value("artifactType"));
    }
    if let Some(last) = last_shown.filter(|_| more) {
        // The next page starts after the last entry of this one.
        let mut link = format!("/v2/{name}/referrers/{subject}?last={last}");
        if let Some(f) = filter {
            let f: String = form_urlencoded::byte_serialize(f.as_bytes()).collect();
            link.push_str(&format!("&artifactType={f}"));
        }
        headers.insert(
            header::LINK,
            header_value(format!("<{link}>; rel=\"next\"")),
        );
    }
    Ok((headers, Body::from(body.freeze())).into_response())
}
