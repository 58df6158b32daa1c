//! A registry that serves wrong bytes: a proxy in front of `hallmark serve` flips a byte of
//! every blob and pads every manifest it serves. The client must notice before it writes
//! anything: no pulled file, no layout blob, no manifest printed.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::common::Server;
use crate::support::Cli;

async fn tamper(State(upstream): State<String>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let target = format!(
        "http://{upstream}{}",
        request.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let method = request.method().clone();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 64 << 20)
        .await
        .expect("request body");
    let answer = reqwest::Client::new()
        .request(method.clone(), target)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("upstream answers");
    let status = answer.status();
    let mut out = Response::builder().status(status);
    for (k, v) in answer.headers() {
        // The body is rewritten below; its length is recomputed, except for HEAD.
        if k != "content-length" || method == "HEAD" {
            out = out.header(k, v);
        }
    }
    let mut bytes = answer.bytes().await.expect("upstream body").to_vec();
    if method == "GET" && status == StatusCode::OK {
        if path.contains("/blobs/") && !bytes.is_empty() {
            let last = bytes.len() - 1;
            bytes[last] ^= 0x01;
        } else if path.contains("/manifests/") {
            bytes.push(b'\n');
        }
    }
    out.body(axum::body::Body::from(bytes))
        .expect("response")
        .into_response()
}

#[test]
fn a_registry_serving_wrong_bytes_is_caught_before_anything_is_written() {
    let upstream = Server::start();
    let cli = Cli::new();
    let work = tempfile::tempdir().expect("work");
    let file = work.path().join("payload.txt");
    std::fs::write(&file, "the real content").expect("file");
    let real = format!("{}/t/app:v1", upstream.host());
    let pushed = cli.json(&["push", &real, file.to_str().expect("utf-8")]);
    let digest = pushed["digest"].as_str().expect("digest").to_owned();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let proxy = runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let app = Router::new().fallback(tamper).with_state(upstream.host());
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    });

    // By tag: the manifest does not hash to the Docker-Content-Digest the registry claims.
    let err = cli.fails(&["manifest", "fetch", &format!("{proxy}/t/app:v1")]);
    assert!(err.contains("hashes to"), "{err}");
    // By digest: the manifest does not hash to the digest asked for.
    let err = cli.fails(&["pull", &format!("{proxy}/t/app@{digest}"), "-o", "x"]);
    assert!(err.contains("hashes to"), "{err}");

    // A blob with a flipped byte: fetched through the real manifest, refused, not written.
    let manifest: serde_json::Value =
        serde_json::from_str(&cli.ok(&["manifest", "fetch", &real])).expect("manifest");
    let layer = manifest["layers"][0]["digest"].as_str().expect("layer");
    let out = work.path().join("blob.out");
    let err = cli.fails(&[
        "blob",
        "fetch",
        &format!("{proxy}/t/app@{layer}"),
        "--output-file",
        out.to_str().expect("utf-8"),
    ]);
    assert!(err.contains("hashes to"), "{err}");
    assert!(!out.exists(), "nothing written");
    let leftovers = std::fs::read_dir(work.path())
        .expect("dir")
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .count();
    assert_eq!(leftovers, 0, "no temporary file left");
    drop(runtime);
}
