//! The rest of a request body that a handler refused without reading it.
//!
//! Some refusals come before the body is read: a chunk that does not start where the upload
//! ends (416), an unknown upload session (404), a manifest whose `Content-Length` is over the
//! limit (413), an invalid name. The client is still sending when the answer is ready. If the
//! connection is then closed with body bytes unread, the kernel resets it, and the client,
//! busy writing, sees a broken connection instead of the answer: the 416 it could resume from
//! is lost. So the dispatcher reads and drops what the handler left, within bounds, before it
//! answers. A client that sent `Expect: 100-continue` and was refused before the body was
//! asked for is still waiting to send it: reading would invite the whole body, so it is left.
//!
//! Public for the Notary v1 API served beside the registry, whose refusals meet the same.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, BodyDataStream, HttpBody};
use axum::http::{Request, header};
use futures_util::{Stream, StreamExt};

/// Most bytes read and dropped after a refusal. Past this the client gets the reset: reading
/// a whole large layer just to refuse it would cost more than the client's retry.
const DRAIN_MAX_BYTES: u64 = 64 << 20;

/// Longest time spent reading a refused body, so a slow sender cannot hold the task.
const DRAIN_MAX_TIME: Duration = Duration::from_secs(10);

/// Where the unread rest of a request body ends up when the handler drops it.
#[derive(Debug, Default)]
pub struct Leftover {
    rest: Arc<Mutex<Option<Rest>>>,
    declared: Option<u64>,
    expects_continue: bool,
}

/// A body dropped before its end.
#[derive(Debug)]
struct Rest {
    stream: BodyDataStream,
    /// Whether the handler read from it at all (which sends a `100 Continue` if expected).
    started: bool,
}

/// Wraps the request's body so that its unread rest, if any, can be drained afterwards.
pub fn track(request: Request<Body>) -> (Request<Body>, Leftover) {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let expects_continue = request
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, body) = request.into_parts();
    let leftover = Leftover {
        rest: Arc::default(),
        declared,
        expects_continue,
    };
    if body.is_end_stream() {
        return (Request::from_parts(parts, body), leftover);
    }
    let tracked = Tracked {
        inner: Some(body.into_data_stream()),
        started: false,
        rest: leftover.rest.clone(),
    };
    (
        Request::from_parts(parts, Body::from_stream(tracked)),
        leftover,
    )
}

impl Leftover {
    /// Reads and drops what the handler left of the body, within the bounds.
    pub async fn drain(self) {
        let rest = self.rest.lock().unwrap_or_else(|p| p.into_inner()).take();
        let Some(Rest {
            stream: mut rest,
            started,
        }) = rest
        else {
            return;
        };
        if self.expects_continue && !started {
            tracing::debug!("refused before 100 Continue: the body was never sent");
            return;
        }
        if self.declared.is_some_and(|n| n > DRAIN_MAX_BYTES) {
            tracing::debug!(declared = self.declared, "refused body too large to drain");
            return;
        }
        let mut dropped = 0u64;
        let read = async {
            while dropped <= DRAIN_MAX_BYTES {
                match rest.next().await {
                    Some(Ok(chunk)) => dropped += chunk.len() as u64,
                    Some(Err(_)) | None => break,
                }
            }
        };
        let finished = tokio::time::timeout(DRAIN_MAX_TIME, read).await.is_ok();
        tracing::debug!(dropped, finished, "drained unread request body");
    }
}

/// A body stream that hands its rest to a [`Leftover`] when dropped before its end.
struct Tracked {
    /// `None` once the body ended or failed: nothing is left to drain.
    inner: Option<BodyDataStream>,
    /// Whether it was polled at all.
    started: bool,
    rest: Arc<Mutex<Option<Rest>>>,
}

impl Stream for Tracked {
    type Item = Result<bytes::Bytes, axum::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.started = true;
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = inner.poll_next_unpin(cx);
        if matches!(polled, Poll::Ready(None | Some(Err(_)))) {
            self.inner = None;
        }
        polled
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        if let Some(stream) = self.inner.take() {
            let rest = Rest {
                stream,
                started: self.started,
            };
            *self.rest.lock().unwrap_or_else(|p| p.into_inner()) = Some(rest);
        }
    }
}
