//! A minimal registry client for the bench: the requests of the distribution spec it needs,
//! written against the spec rather than against either server.

use std::io;

use anyhow::{Context, Result, bail, ensure};
use bytes::Bytes;
use futures_util::Stream;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, LOCATION};
use sha2::{Digest as _, Sha256};

/// OCI image manifest media type.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// `sha256:<hex>` of some bytes.
pub fn sha256_digest(bytes: &[u8]) -> String {
    digest_string(&Sha256::digest(bytes))
}

/// `sha256:<hex>` of a finished hash.
pub fn digest_string(hash: &[u8]) -> String {
    let mut s = String::with_capacity(7 + 2 * hash.len());
    s.push_str("sha256:");
    for b in hash {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// One registry, reached over one connection pool.
#[derive(Debug, Clone)]
pub struct Registry {
    client: reqwest::Client,
    base: String,
}

impl Registry {
    /// A client for the registry at `base` (`http://host:port`).
    pub fn new(base: String) -> Result<Registry> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .tcp_nodelay(true)
            .build()?;
        Ok(Registry { client, base })
    }

    /// `POST .../blobs/uploads/`, returning the session's URL.
    pub async fn start_upload(&self, repo: &str) -> Result<String> {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let r = self.client.post(url).send().await?;
        ensure!(
            r.status() == StatusCode::ACCEPTED,
            "starting an upload answered {}",
            r.status()
        );
        let location = r
            .headers()
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .context("upload start without Location")?;
        // distribution answers an absolute URL, hallmark a path.
        Ok(if location.starts_with("http") {
            location.to_owned()
        } else {
            format!("{}{location}", self.base)
        })
    }

    /// Pushes a blob held in memory: `POST`, then `PUT ?digest=` with the whole body.
    pub async fn push_blob(&self, repo: &str, digest: &str, data: Bytes) -> Result<()> {
        let session = self.start_upload(repo).await?;
        let len = data.len();
        self.finish_upload(&session, digest, len as u64, reqwest::Body::from(data))
            .await
    }

    /// Pushes a blob of `len` bytes produced by `body`: `POST`, then `PUT ?digest=` with the
    /// stream as the body, so neither side needs the blob in memory.
    pub async fn push_blob_stream<S>(
        &self,
        repo: &str,
        digest: &str,
        len: u64,
        body: S,
    ) -> Result<()>
    where
        S: Stream<Item = io::Result<Bytes>> + Send + 'static,
    {
        let session = self.start_upload(repo).await?;
        self.finish_upload(&session, digest, len, reqwest::Body::wrap_stream(body))
            .await
    }

    async fn finish_upload(
        &self,
        session: &str,
        digest: &str,
        len: u64,
        body: reqwest::Body,
    ) -> Result<()> {
        let sep = if session.contains('?') { '&' } else { '?' };
        let r = self
            .client
            .put(format!("{session}{sep}digest={digest}"))
            .header(CONTENT_TYPE, "application/octet-stream")
            .header(CONTENT_LENGTH, len)
            .body(body)
            .send()
            .await?;
        if r.status() != StatusCode::CREATED {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            bail!("completing the upload of {digest} answered {status}: {text}");
        }
        Ok(())
    }

    /// `PUT .../manifests/<reference>`.
    pub async fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<()> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let r = self
            .client
            .put(url)
            .header(CONTENT_TYPE, media_type)
            .body(bytes)
            .send()
            .await?;
        if r.status() != StatusCode::CREATED {
            let status = r.status();
            let text = r.text().await.unwrap_or_default();
            bail!("pushing manifest {reference} answered {status}: {text}");
        }
        Ok(())
    }

    /// The status of `HEAD <path>` with an `Accept` header.
    pub async fn head_status(&self, path: &str, accept: &str) -> Result<StatusCode> {
        let r = self
            .client
            .head(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await?;
        Ok(r.status())
    }

    /// `GET <path>` with an `Accept` header, returning the body when the status is 200.
    pub async fn get(&self, path: &str, accept: &str) -> Result<Bytes> {
        let r = self
            .client
            .get(format!("{}{path}", self.base))
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await?;
        ensure!(
            r.status() == StatusCode::OK,
            "GET {path} answered {}",
            r.status()
        );
        Ok(r.bytes().await?)
    }
}
