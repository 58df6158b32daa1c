//! Chunked uploads survive a dropped connection: a proxy between the client and the registry
//! cuts the connection in the middle of a `PATCH`, and the client resumes from the offset the
//! upload session reports instead of starting again.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use bytes::Bytes;
use hallmark_client::blob::NoProgress;
use hallmark_client::{Client, ClientConfig, CredentialStore};
use hallmark_oci::{Algorithm, Descriptor};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::common::Server;
use crate::peers_layout::pseudo_random;
use crate::support::Distribution;

/// Forwards connections to `upstream`, counting bytes sent upstream; the connection that
/// carries the count past `cut_at` is closed at that byte, once.
struct CuttingProxy {
    addr: String,
    sent: Arc<AtomicU64>,
    cut: Arc<AtomicBool>,
}

impl CuttingProxy {
    async fn start(upstream: String, cut_at: u64) -> CuttingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let addr = listener.local_addr().expect("proxy addr").to_string();
        let sent = Arc::new(AtomicU64::new(0));
        let cut = Arc::new(AtomicBool::new(false));
        let (s, c) = (sent.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (s, c, upstream) = (s.clone(), c.clone(), upstream.clone());
                tokio::spawn(async move {
                    let Ok(server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    relay(client, server, s, c, cut_at).await;
                });
            }
        });
        CuttingProxy { addr, sent, cut }
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    sent: Arc<AtomicU64>,
    cut: Arc<AtomicBool>,
    cut_at: u64,
) {
    let (mut cr, mut cw) = client.into_split();
    let (mut sr, mut sw) = server.into_split();
    let up = async {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            let before = sent.fetch_add(n as u64, Ordering::SeqCst);
            if before + n as u64 > cut_at && !cut.swap(true, Ordering::SeqCst) {
                let keep = usize::try_from(cut_at.saturating_sub(before)).unwrap_or(0);
                let _ = sw.write_all(&buf[..keep.min(n)]).await;
                return;
            }
            if sw.write_all(&buf[..n]).await.is_err() {
                return;
            }
        }
    };
    let down = async {
        let _ = tokio::io::copy(&mut sr, &mut cw).await;
    };
    // Whichever direction ends first ends the connection, as a dropped link would.
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

fn descriptor(bytes: &[u8]) -> Descriptor {
    Descriptor {
        media_type: "application/octet-stream".into(),
        digest: Algorithm::Sha256.digest(bytes),
        size: bytes.len() as u64,
        urls: Vec::new(),
        annotations: None,
        artifact_type: None,
        platform: None,
        data: None,
    }
}

#[test]
fn chunked_upload_resumes_after_the_connection_drops() {
    const SIZE: usize = 6 << 20;
    const CHUNK: u64 = 2 << 20;
    let ours = Server::start();
    let distribution = Distribution::start();
    let credentials = tempfile::tempdir().expect("credentials dir");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");

    for (name, upstream) in [
        ("hallmark", ours.host()),
        ("distribution", distribution.host.clone()),
    ] {
        runtime.block_on(async {
            let proxy = CuttingProxy::start(upstream.clone(), 3 << 20).await;
            let client = Client::new(ClientConfig {
                plain_http: true,
                monolithic_max: 1 << 20,
                chunk_size: CHUNK,
                credential_store: CredentialStore::with_file(credentials.path().join("none")),
                ..ClientConfig::default()
            })
            .expect("client");
            let repo = client.repository(&proxy.addr, "resume/blob".parse().expect("name"));
            let content = Bytes::from(pseudo_random(42, SIZE));
            let d = descriptor(&content);

            repo.upload_blob(&d, &content, &NoProgress)
                .await
                .unwrap_or_else(|e| panic!("{name}: upload failed: {e:?}"));

            assert!(
                proxy.cut.load(Ordering::SeqCst),
                "{name}: the proxy cut a connection"
            );
            let direct = Client::new(ClientConfig {
                plain_http: true,
                credential_store: CredentialStore::with_file(credentials.path().join("none")),
                ..ClientConfig::default()
            })
            .expect("client")
            .repository(&upstream, "resume/blob".parse().expect("name"));
            assert_eq!(
                direct.blob_exists(&d.digest).await.expect("HEAD"),
                Some(SIZE as u64)
            );
            // Hallmark keeps what a cut chunk delivered, so the client resumes: at most one
            // chunk (plus headers) is sent twice. distribution 2.8.2 cannot resume a session
            // whose chunk arrived in part, so the client starts that upload over.
            let sent = proxy.sent.load(Ordering::SeqCst);
            let limit = if name == "hallmark" { CHUNK } else { 3 << 20 };
            assert!(
                sent < SIZE as u64 + limit + (64 << 10),
                "{name}: sent {sent} bytes"
            );
        });
    }
}
