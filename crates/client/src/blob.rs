//! Blobs in a remote repository (distribution spec "Pulling blobs", "Pushing blobs",
//! "Mounting a blob from another repository", "Deleting blobs").
//!
//! Downloads stream through [`Verified`], which hashes every byte and fails the stream at its
//! end if the digest or size is wrong, so a consumer that publishes only after the stream ends
//! never publishes bad content. Uploads hash what they send and close the session only when
//! the hash matches. Blobs up to `monolithic_max` go in one `PUT`; larger ones in `PATCH`
//! chunks, and a chunk whose connection drops is resumed from the offset the session reports
//! (`GET` on the upload URL, `Range` header), re-sending only what the registry lacks.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use hallmark_oci::{Descriptor, Digest, Digester, RepositoryName};
use reqwest::{Method, Response, Url};

use crate::client::{Req, expect_status, header_length, lock, status_error};
use crate::error::{Error, Result};
use crate::registry::Repository;

/// Largest blob sent as the body of a single `POST`: a registry that does not take single
/// `POST` uploads leaves the body unread, which servers discard only when it is small.
const SINGLE_POST_MAX: usize = 256 << 10;

/// A stream of blob bytes.
pub type BlobStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// A future that opens a blob's content.
pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = Result<BlobStream>> + Send + 'a>>;

/// Where an upload reads a blob from; opened again when an upload must start over.
pub trait BlobSource: Send + Sync {
    /// The content from its first byte.
    fn open(&self) -> OpenFuture<'_>;

    /// Whether the opened stream checks size and digest itself and fails at its end on a
    /// mismatch (a [`Verified`] stream), so the upload need not hash it a second time.
    fn verifies(&self) -> bool {
        false
    }
}

impl BlobSource for Bytes {
    fn open(&self) -> OpenFuture<'_> {
        let bytes = self.clone();
        Box::pin(async move { Ok(bytes_stream(bytes)) })
    }
}

/// A blob in a local file.
#[derive(Debug, Clone)]
pub struct FileSource(pub std::path::PathBuf);

impl BlobSource for FileSource {
    fn open(&self) -> OpenFuture<'_> {
        Box::pin(file_stream(&self.0))
    }
}

/// Receives transfer progress; every method has a do-nothing default.
pub trait Progress: Send + Sync {
    /// A transfer of `descriptor` starts.
    fn start(&self, _descriptor: &Descriptor) {}
    /// `n` more bytes of `digest` moved.
    fn advance(&self, _digest: &Digest, _n: u64) {}
    /// The transfer of `descriptor` ended as `outcome`.
    fn finish(&self, _descriptor: &Descriptor, _outcome: Outcome) {}
}

/// Progress that reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// How a blob reached its destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Its bytes were sent.
    Transferred,
    /// The destination had it already.
    Skipped,
    /// The registry mounted it from another repository.
    Mounted,
}

/// A stream that checks the digest and size of everything that passes through it.
pub struct Verified {
    inner: BlobStream,
    digester: Option<Digester>,
    expected: Digest,
    size: u64,
    seen: u64,
    source_name: String,
}

impl Verified {
    /// Wraps `inner`, which should yield the content of `descriptor`.
    pub fn new(inner: BlobStream, descriptor: &Descriptor, source_name: String) -> Verified {
        Verified {
            inner,
            digester: Some(descriptor.digest.algorithm().digester()),
            expected: descriptor.digest.clone(),
            size: descriptor.size,
            seen: 0,
            source_name,
        }
    }
}

impl Stream for Verified {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let Some(digester) = this.digester.as_mut() else {
            return Poll::Ready(None);
        };
        match this.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => {
                this.seen += chunk.len() as u64;
                if this.seen > this.size {
                    this.digester = None;
                    return Poll::Ready(Some(Err(Error::SizeMismatch {
                        source_name: this.source_name.clone(),
                        expected: this.size,
                        actual: this.seen,
                    })));
                }
                digester.update(&chunk);
                Poll::Ready(Some(Ok(chunk)))
            }
            Poll::Ready(None) => {
                let Some(digester) = this.digester.take() else {
                    return Poll::Ready(None);
                };
                if this.seen != this.size {
                    return Poll::Ready(Some(Err(Error::SizeMismatch {
                        source_name: this.source_name.clone(),
                        expected: this.size,
                        actual: this.seen,
                    })));
                }
                let actual = digester.finish();
                if actual != this.expected {
                    return Poll::Ready(Some(Err(Error::DigestMismatch {
                        source_name: this.source_name.clone(),
                        expected: this.expected.clone(),
                        actual,
                    })));
                }
                Poll::Ready(None)
            }
            other => other,
        }
    }
}

fn location(response: &Response, base: &Url) -> Result<Url> {
    response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| base.join(v).ok())
        .ok_or_else(|| Error::MissingHeader {
            url: base.to_string(),
            header: "Location",
        })
}

/// Bytes the session holds, from its `Range` header.
fn committed(response: &Response) -> Option<u64> {
    range_held(response.headers().get("range")?.to_str().ok()?)
}

/// Bytes an upload session holds, from a `Range: 0-<last>` value (inclusive end); `None` when
/// the value is not of that form.
pub fn range_held(value: &str) -> Option<u64> {
    let value = value.trim().trim_start_matches("bytes=");
    let (start, end) = value.split_once('-')?;
    let (start, end): (u64, u64) = (start.parse().ok()?, end.parse().ok()?);
    if start != 0 {
        return None;
    }
    // distribution answers `0-0` for an empty session as well as for one byte.
    if end == 0 {
        return Some(0);
    }
    end.checked_add(1)
}

impl Repository {
    /// The size of a blob (`HEAD`), or `None` if the repository lacks it.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>> {
        let url = self.url(&format!("blobs/{digest}")).await?;
        let response = self
            .send(&self.pull_scope(), Req::new(Method::HEAD, url.clone()))
            .await?;
        if response.status() == 404 {
            return Ok(None);
        }
        let response = expect_status(response, Method::HEAD, &url, &[200]).await?;
        let size = header_length(&response).ok_or_else(|| Error::MissingHeader {
            url: url.to_string(),
            header: "Content-Length",
        })?;
        Ok(Some(size))
    }

    /// The blob's bytes as a stream that fails at its end unless they match `descriptor`.
    pub async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<Verified> {
        let digest = &descriptor.digest;
        let url = self.url(&format!("blobs/{digest}")).await?;
        let response = self
            .send(&self.pull_scope(), Req::new(Method::GET, url.clone()))
            .await?;
        if response.status() == 404 {
            return Err(Error::BlobUnknown {
                repository: self.describe(),
                digest: digest.clone(),
            });
        }
        let response = expect_status(response, Method::GET, &url, &[200]).await?;
        let on_error = url.to_string();
        let stream = response.bytes_stream().map(move |r| {
            r.map_err(|source| Error::Request {
                method: "GET".into(),
                url: on_error.clone(),
                source,
            })
        });
        Ok(Verified::new(Box::pin(stream), descriptor, url.to_string()))
    }

    /// Deletes a blob.
    pub async fn delete_blob(&self, digest: &Digest) -> Result<()> {
        let url = self.url(&format!("blobs/{digest}")).await?;
        let response = self
            .send(&self.delete_scope(), Req::new(Method::DELETE, url.clone()))
            .await?;
        if response.status() == 404 {
            return Err(Error::BlobUnknown {
                repository: self.describe(),
                digest: digest.clone(),
            });
        }
        expect_status(response, Method::DELETE, &url, &[202, 200])
            .await
            .map(drop)
    }

    /// Asks the registry to mount `digest` from repository `from`; true if it did.
    pub async fn mount_blob(&self, digest: &Digest, from: &RepositoryName) -> Result<bool> {
        let mut url = self.url("blobs/uploads/").await?;
        url.query_pairs_mut()
            .append_pair("mount", digest.as_str())
            .append_pair("from", from.as_str());
        let mut scopes = self.push_scope();
        scopes.push(format!("repository:{from}:pull"));
        let response = self
            .send(&scopes, Req::new(Method::POST, url.clone()))
            .await?;
        let response = expect_status(response, Method::POST, &url, &[201, 202]).await?;
        if response.status() == 201 {
            return Ok(true);
        }
        // 202: the registry opened an ordinary session instead; close it.
        if let Ok(session) = location(&response, &url) {
            let _ = self.send(&scopes, Req::new(Method::DELETE, session)).await;
        }
        Ok(false)
    }

    /// Uploads a blob from `source` unless the repository has it. The content is checked
    /// against `descriptor` before the session is closed.
    pub async fn push_blob(
        &self,
        descriptor: &Descriptor,
        source: &dyn BlobSource,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        if self.blob_exists(&descriptor.digest).await?.is_some() {
            return Ok(Outcome::Skipped);
        }
        match self.upload_blob(descriptor, source, progress).await {
            Ok(()) => Ok(Outcome::Transferred),
            // Another client pushing the same content at the same moment can make a registry
            // refuse ours (distribution may answer 5xx as both uploads commit): the content is
            // what counts, so a blob present now with the right size is stored.
            Err(e @ Error::Status { status, .. }) if status >= 500 => {
                match self.blob_exists(&descriptor.digest).await? {
                    Some(size) if size == descriptor.size => {
                        tracing::debug!(digest = %descriptor.digest, status,
                            "upload refused, but the blob is now present: pushed concurrently");
                        Ok(Outcome::Skipped)
                    }
                    _ => Err(e),
                }
            }
            Err(e) => Err(e),
        }
    }

    /// Uploads without checking for the blob first. A session the registry lost on the way
    /// (it could not resume after a dropped connection) is started over once.
    pub async fn upload_blob(
        &self,
        descriptor: &Descriptor,
        source: &dyn BlobSource,
        progress: &dyn Progress,
    ) -> Result<()> {
        let content = source.open().await?;
        let hash = !source.verifies();
        match self.upload_once(descriptor, content, hash, progress).await {
            Err(Error::UploadSessionLost { url }) => {
                tracing::info!(%url, digest = %descriptor.digest,
                    "registry lost the upload session; starting the upload over");
                let content = source.open().await?;
                self.upload_once(descriptor, content, hash, progress).await
            }
            other => other,
        }
    }

    /// One upload attempt. With `hash`, the bytes sent are hashed here; without, the stream
    /// is one that checks itself (see [`BlobSource::verifies`]).
    async fn upload_once(
        &self,
        descriptor: &Descriptor,
        mut content: BlobStream,
        hash: bool,
        progress: &dyn Progress,
    ) -> Result<()> {
        let config = self.client.config();
        let mut digester = hash.then(|| descriptor.digest.algorithm().digester());

        if descriptor.size <= config.monolithic_max {
            let body = collect(&mut content, descriptor.size).await?;
            if let Some(d) = digester.as_mut() {
                d.update(&body);
            }
            verify_sent(descriptor, digester, body.len() as u64)?;
            let n = body.len() as u64;
            self.monolithic(descriptor, body).await?;
            progress.advance(&descriptor.digest, n);
            return Ok(());
        }
        self.upload_chunked(descriptor, content, digester, progress)
            .await
    }

    /// Sends a large blob in `PATCH` chunks (see the module docs), then closes the session.
    async fn upload_chunked(
        &self,
        descriptor: &Descriptor,
        mut content: BlobStream,
        mut digester: Option<Digester>,
        progress: &dyn Progress,
    ) -> Result<()> {
        let config = self.client.config();
        let (mut session, min_chunk) = self.start_upload().await?;
        let chunk_size =
            usize::try_from(config.chunk_size.max(min_chunk).max(1)).unwrap_or(1 << 24);
        let mut carry = BytesMut::new();
        let mut offset = 0u64;
        let mut next = read_chunk(&mut content, &mut carry, chunk_size).await?;
        while !next.is_empty() {
            let chunk = next;
            let n = chunk.len() as u64;
            if offset + n > descriptor.size {
                offset += n;
                break;
            }
            // While this chunk is sent, the next is read and this one hashed on another
            // thread, so a copy runs at the pace of its slowest part, not their sum.
            let hashing = digester.take().map(|mut d| {
                let part = chunk.clone();
                tokio::task::spawn_blocking(move || {
                    d.update(&part);
                    d
                })
            });
            // The next chunk is read on its own task: a source that checks itself hashes as
            // it is read, and that must not share a thread with the upload.
            let reader = tokio::spawn(async move {
                let following = read_chunk(&mut content, &mut carry, chunk_size).await;
                (content, carry, following)
            });
            let sent = self.patch_resuming(session, offset, chunk).await;
            let (back, rest, following) = reader
                .await
                .map_err(|e| Error::io("cannot read the blob", "upload")(e.into()))?;
            content = back;
            carry = rest;
            if let Some(h) = hashing {
                // The closure cannot panic; a join error means the runtime is shutting down.
                digester = Some(
                    h.await
                        .map_err(|e| Error::io("cannot hash", "upload")(e.into()))?,
                );
            }
            session = sent?;
            next = following?;
            offset += n;
            progress.advance(&descriptor.digest, n);
        }
        if let Err(e) = verify_sent(descriptor, digester, offset) {
            let _ = self
                .send(&self.push_scope(), Req::new(Method::DELETE, session))
                .await;
            return Err(e);
        }
        self.finish_upload(session, &descriptor.digest, Bytes::new())
            .await
    }

    /// Uploads a small blob in one request where the registry accepts a single `POST` with
    /// the digest (201); a registry that opens a session instead (202) gets the body in the
    /// closing `PUT`, and is not offered a single `POST` again.
    async fn monolithic(&self, descriptor: &Descriptor, body: Bytes) -> Result<()> {
        let known = lock(&self.client.inner.single_post)
            .get(&self.registry)
            .copied();
        if body.len() > SINGLE_POST_MAX || known == Some(false) {
            let (session, _) = self.start_upload().await?;
            return self.finish_upload(session, &descriptor.digest, body).await;
        }
        let mut url = self.url("blobs/uploads/").await?;
        url.query_pairs_mut()
            .append_pair("digest", descriptor.digest.as_str());
        let req = Req::new(Method::POST, url.clone())
            .header("content-type", "application/octet-stream")
            .body(body.clone());
        let response = self.send(&self.push_scope(), req).await?;
        let response = expect_status(response, Method::POST, &url, &[201, 202]).await?;
        let single = response.status() == 201;
        lock(&self.client.inner.single_post).insert(self.registry.clone(), single);
        if single {
            return Ok(());
        }
        tracing::debug!(registry = %self.registry, "no single-POST uploads; using POST and PUT");
        let session = location(&response, &url)?;
        self.finish_upload(session, &descriptor.digest, body).await
    }

    /// Opens a session: its URL and the registry's minimum chunk size.
    async fn start_upload(&self) -> Result<(Url, u64)> {
        let url = self.url("blobs/uploads/").await?;
        let response = self
            .send(&self.push_scope(), Req::new(Method::POST, url.clone()))
            .await?;
        let response = expect_status(response, Method::POST, &url, &[202]).await?;
        let min = response
            .headers()
            .get("oci-chunk-min-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        Ok((location(&response, &url)?, min))
    }

    async fn finish_upload(&self, session: Url, digest: &Digest, body: Bytes) -> Result<()> {
        let mut url = session;
        url.query_pairs_mut().append_pair("digest", digest.as_str());
        let req = Req::new(Method::PUT, url.clone())
            .header("content-type", "application/octet-stream")
            .body(body);
        let response = self.send(&self.push_scope(), req).await?;
        expect_status(response, Method::PUT, &url, &[201])
            .await
            .map(drop)
    }

    /// Sends `chunk` at `offset`; after a dropped connection, asks the session where it
    /// stands and sends the rest. Returns the session URL for the next request.
    async fn patch_resuming(&self, session: Url, offset: u64, chunk: Bytes) -> Result<Url> {
        const ATTEMPTS: u32 = 4;
        let end = offset + chunk.len() as u64;
        let mut session = session;
        let mut from = offset;
        for attempt in 1..=ATTEMPTS {
            let part = chunk.slice(usize::try_from(from - offset).unwrap_or(0)..);
            let req = Req::new(Method::PATCH, session.clone())
                .header("content-type", "application/octet-stream")
                .header("content-range", &format!("{from}-{}", end - 1))
                .body(part);
            match self.send(&self.push_scope(), req).await {
                Ok(response) if response.status() == 202 => {
                    let next = location(&response, &session)?;
                    match committed(&response) {
                        Some(n) if n != end => {
                            return Err(Error::UploadOffset {
                                url: session.to_string(),
                                offset: n,
                                expected: end,
                            });
                        }
                        _ => return Ok(next),
                    }
                }
                Ok(response) if response.status() == 416 && attempt < ATTEMPTS => {
                    tracing::debug!(%session, from, "chunk refused as out of order; asking");
                }
                Ok(response) => {
                    return Err(status_error(response, Method::PATCH, &session).await);
                }
                Err(e @ Error::Request { .. }) if attempt < ATTEMPTS => {
                    tracing::debug!(%session, from, error = %e, "chunk failed; resuming");
                }
                Err(e) => return Err(e),
            }
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            let (url, have) = self.upload_status(&session).await?;
            session = url;
            if have == end {
                return Ok(session);
            }
            if have < offset || have > end {
                return Err(Error::UploadOffset {
                    url: session.to_string(),
                    offset: have,
                    expected: from,
                });
            }
            from = have;
        }
        Err(Error::UploadOffset {
            url: session.to_string(),
            offset: from,
            expected: end,
        })
    }

    /// `GET` on a session: its URL and how many bytes it holds.
    async fn upload_status(&self, session: &Url) -> Result<(Url, u64)> {
        let response = self
            .send(&self.push_scope(), Req::new(Method::GET, session.clone()))
            .await?;
        if matches!(response.status().as_u16(), 400 | 404) {
            return Err(Error::UploadSessionLost {
                url: session.to_string(),
            });
        }
        let response = expect_status(response, Method::GET, session, &[204, 200]).await?;
        let have = committed(&response).ok_or_else(|| Error::MissingHeader {
            url: session.to_string(),
            header: "Range",
        })?;
        let url = location(&response, session).unwrap_or_else(|_| session.clone());
        Ok((url, have))
    }
}

/// Checks what was sent before the session is closed: the registry would refuse a wrong
/// digest, but the client must not even ask it to publish content it knows is wrong.
fn verify_sent(descriptor: &Descriptor, digester: Option<Digester>, sent: u64) -> Result<()> {
    if sent != descriptor.size {
        return Err(Error::SizeMismatch {
            source_name: "upload source".into(),
            expected: descriptor.size,
            actual: sent,
        });
    }
    // Without a digester the stream verified itself: it would have failed before here.
    let Some(digester) = digester else {
        return Ok(());
    };
    let actual = digester.finish();
    if actual != descriptor.digest {
        return Err(Error::DigestMismatch {
            source_name: "upload source".into(),
            expected: descriptor.digest.clone(),
            actual,
        });
    }
    Ok(())
}

/// The next `size` bytes of `content` (fewer at its end, none after it), keeping any excess
/// of the stream's last item in `carry`.
async fn read_chunk(content: &mut BlobStream, carry: &mut BytesMut, size: usize) -> Result<Bytes> {
    while carry.len() < size {
        match content.next().await {
            Some(item) => carry.extend_from_slice(&item?),
            None => break,
        }
    }
    Ok(carry.split_to(carry.len().min(size)).freeze())
}

/// Reads a whole stream of at most `limit` bytes (one more is an error).
async fn collect(content: &mut BlobStream, limit: u64) -> Result<Bytes> {
    let mut buf = BytesMut::new();
    while let Some(chunk) = content.next().await {
        buf.extend_from_slice(&chunk?);
        if buf.len() as u64 > limit {
            return Err(Error::SizeMismatch {
                source_name: "upload source".into(),
                expected: limit,
                actual: buf.len() as u64,
            });
        }
    }
    Ok(buf.freeze())
}

/// A stream over bytes in memory.
pub fn bytes_stream(bytes: Bytes) -> BlobStream {
    Box::pin(futures_util::stream::iter([Ok(bytes)]))
}

/// A stream over a file, in 1 MiB reads.
pub async fn file_stream(path: &std::path::Path) -> Result<BlobStream> {
    use tokio::io::AsyncReadExt;
    let file = tokio::fs::File::open(path)
        .await
        .map_err(Error::io("cannot open", path))?;
    let path = path.to_path_buf();
    let stream = futures_util::stream::unfold(Some(file), move |state| {
        let path = path.clone();
        async move {
            let mut file = state?;
            let mut buf = vec![0u8; 1 << 20];
            match file.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok(Bytes::from(buf)), Some(file)))
                }
                Err(e) => Some((Err(Error::io("cannot read", path)(e)), None)),
            }
        }
    });
    Ok(Box::pin(stream))
}

#[cfg(test)]
mod tests {
    use super::range_held;

    #[test]
    fn range_headers() {
        let cases = [
            ("0-0", Some(0)),
            ("0-99", Some(100)),
            ("bytes=0-9", Some(10)),
            ("5-9", None),
            ("0-", None),
            ("0-18446744073709551615", None),
            ("junk", None),
        ];
        for (value, want) in cases {
            assert_eq!(range_held(value), want, "{value}");
        }
    }
}
