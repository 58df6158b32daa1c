//! The referrers API (spec section "Listing Referrers"): an image index of the manifests
//! whose `subject` is a digest, optionally filtered by `artifactType`, paged with `Link`.
//!
//! The list comes from the index storage keeps up to date at every push and delete; a query
//! never scans the repository. Each entry is stored pre-serialized, so an answer is built by
//! concatenation, and the whole list, joined once, is sent as it is.

use axum::body::Body;
use axum::http::{HeaderMap, Request, header};
use axum::response::IntoResponse;
use bytes::{BufMut, Bytes, BytesMut};
use hallmark_oci::{Digest, RepositoryName, media_type};
use hallmark_storage::{Referrers, Storage};

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
    let (list, next_after) = page(&referrers, start, filter, page_size);
    let head = Bytes::from(format!(
        "{{\"schemaVersion\":2,\"mediaType\":\"{}\",\"manifests\":[",
        media_type::OCI_INDEX
    ));
    let tail = Bytes::from_static(b"]}");
    let length = head.len() + list.len() + tail.len();
    let body = Body::from_stream(futures_util::stream::iter(
        [head, list, tail].map(Ok::<_, std::convert::Infallible>),
    ));

    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, header_value(media_type::OCI_INDEX));
    headers.insert(header::CONTENT_LENGTH, header_value(length.to_string()));
    if filter.is_some() {
        headers.insert("oci-filters-applied", header_value("artifactType"));
    }
    if let Some(last) = next_after {
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
    Ok((headers, body).into_response())
}

/// One page of the list from `start`: the matching entries' JSON joined with commas, and the
/// digest of the last one shown when more match after it.
fn page<'a>(
    referrers: &'a Referrers,
    start: usize,
    filter: Option<&str>,
    page_size: usize,
) -> (Bytes, Option<&'a Digest>) {
    if filter.is_none() && start == 0 && referrers.entries.len() <= page_size {
        // The whole list in one page, the usual query: bytes shared with storage, not copied.
        return (referrers.joined(), None);
    }
    let mut list = BytesMut::with_capacity(referrers.entries.len().min(page_size) * 256);
    let mut last_shown = None;
    let matching = referrers.entries[start..]
        .iter()
        .filter(|e| filter.is_none_or(|f| e.descriptor.artifact_type.as_deref() == Some(f)));
    for (shown, entry) in matching.enumerate() {
        if shown == page_size {
            return (list.freeze(), last_shown);
        }
        if shown > 0 {
            list.put_u8(b',');
        }
        list.put_slice(&entry.json);
        last_shown = Some(&entry.descriptor.digest);
    }
    (list.freeze(), None)
}
