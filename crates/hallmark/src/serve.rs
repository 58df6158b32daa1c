//! `hallmark serve`: the registry on the embedded filesystem store, with the Notary v1 server
//! API beside it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use axum::serve::ListenerExt;
use hallmark_notary_server::{FsTrustStore, NotaryServer};
use hallmark_registry::Registry;
use hallmark_storage::fs::{FsOptions, FsStorage, OpenError};

use crate::UsageError;
use crate::config::{self, Config};

/// Flags of `serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Storage root directory [default: $XDG_DATA_HOME/hallmark/registry]
    #[arg(long)]
    root: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:5000]
    #[arg(long)]
    addr: Option<SocketAddr>,
    /// TOML configuration file; flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    let root = args
        .root
        .or(config.root)
        .unwrap_or_else(config::default_root);
    let addr = args
        .addr
        .or(config.addr)
        .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 5000)));
    let options = FsOptions {
        manifest_cache_bytes: config.storage.manifest_cache_bytes,
        stale_upload_age: Duration::from_secs(config.storage.stale_upload_hours * 3600),
    };

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let storage = FsStorage::open(&root, options).map_err(|e| match e {
            OpenError::Locked(_) => anyhow::Error::new(UsageError(e.to_string())),
            other => anyhow::Error::new(other),
        })?;
        // Notary v1 trust data beside the registry's, under the same root and lock.
        let trust = FsTrustStore::open(root.join("notary"))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}: is another server using it?"))?;
        let local = listener
            .local_addr()
            .context("cannot read the bound address")?;
        tracing::info!(addr = %local, root = %root.display(), "listening");

        let app = hallmark_registry::router(Registry::new(storage, config.registry));
        let app = hallmark_notary_server::mount(app, NotaryServer::new(trust));
        let listener = listener.tap_io(|tcp| {
            // Small request/response pairs: send them without Nagle's delay.
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app)
            .with_graceful_shutdown(shutdown_signal())
            .await
            .context("server failed")?;
        tracing::info!("stopped");
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
