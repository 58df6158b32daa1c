//! The request-rate ceiling: the same stack as `hallmark serve` (tokio's multi-threaded
//! runtime, axum, hyper, `TCP_NODELAY`) answering every request with one fixed manifest
//! response, so what it serves per second is what a registry could serve if looking up a
//! manifest cost nothing.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use axum::http::{HeaderName, HeaderValue, header};
use axum::serve::ListenerExt;
use bytes::Bytes;

use crate::client::sha256_digest;

/// Flags of `trivial-server`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on.
    #[arg(long)]
    addr: SocketAddr,
    /// File whose bytes every response carries.
    #[arg(long)]
    body: PathBuf,
    /// `Content-Type` of every response.
    #[arg(long)]
    media_type: String,
}

pub fn run(args: Args) -> Result<()> {
    let body = Bytes::from(std::fs::read(&args.body).context("reading the response body")?);
    let digest = sha256_digest(&body);
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_str(&args.media_type)?,
        ),
        (
            HeaderName::from_static("docker-content-digest"),
            HeaderValue::from_str(&digest)?,
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&format!("\"{digest}\""))?,
        ),
        (
            HeaderName::from_static("docker-distribution-api-version"),
            HeaderValue::from_static("registry/2.0"),
        ),
    ];
    let app = axum::Router::new().fallback(move || {
        let response = (headers.clone(), body.clone());
        async move { response }
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| format!("listening on {}", args.addr))?;
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.context("serving")
    })
}
