//! The body of a request refused before it was read, drained before the answer goes out.
//!
//! A refusal can be ready while the client is still sending (a publish without a multipart
//! content type, a method an endpoint does not have, an invalid GUN). If the connection is
//! closed with body bytes unread, the kernel resets it and the client, busy writing, sees a
//! broken connection instead of the answer. So, as the registry does (its `drain` module is
//! private to it), the unread body is read and dropped, within bounds, before answering. A
//! client that sent `Expect: 100-continue` has sent nothing yet: reading would invite the
//! whole body, so it is left alone.

use std::pin::Pin;
use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::http::{HeaderMap, header};

/// Most bytes read and dropped after a refusal (the largest publish accepted); past this
/// the client gets the reset.
pub const DRAIN_MAX_BYTES: u64 = 64 << 20;

/// Longest time spent reading a refused body, so a slow sender cannot hold the task.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// Reads and drops `body`, the unread body of a request with `headers`, within the bounds;
/// returns how many bytes were dropped.
pub async fn drain(mut body: Body, headers: &HeaderMap) -> u64 {
    if body.is_end_stream() {
        return 0;
    }
    let expects_continue = headers
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if expects_continue {
        tracing::debug!("refused before 100 Continue: the body was never sent");
        return 0;
    }
    let declared: Option<u64> = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    if declared.is_some_and(|n| n > DRAIN_MAX_BYTES) {
        tracing::debug!(declared, "refused body too large to drain");
        return 0;
    }
    let mut dropped = 0_u64;
    let read = async {
        while dropped <= DRAIN_MAX_BYTES {
            match std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
                Some(Ok(frame)) => {
                    let len = frame.data_ref().map_or(0, |data| data.len());
                    dropped = dropped.saturating_add(len as u64);
                }
                Some(Err(_)) | None => break,
            }
        }
    };
    let finished = tokio::time::timeout(DRAIN_MAX_TIME, read).await.is_ok();
    tracing::debug!(dropped, finished, "drained unread request body");
    dropped
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // literals

    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), v.parse().unwrap()))
            .collect()
    }

    #[tokio::test]
    async fn unread_body_is_drained() {
        let body = Body::from(vec![7_u8; 300_000]);
        assert_eq!(drain(body, &HeaderMap::new()).await, 300_000);
        assert_eq!(drain(Body::empty(), &HeaderMap::new()).await, 0);
    }

    #[tokio::test]
    async fn body_over_the_cap_or_not_yet_sent_is_left() {
        let big = headers(&[(header::CONTENT_LENGTH, &(DRAIN_MAX_BYTES + 1).to_string())]);
        assert_eq!(drain(Body::from(vec![0_u8; 10]), &big).await, 0);
        let waiting = headers(&[(header::EXPECT, "100-continue")]);
        assert_eq!(drain(Body::from(vec![0_u8; 10]), &waiting).await, 0);
    }
}
