//! What every conformance test shares: a client for the registry under test, digests
//! computed independently of the server's code, manifest builders, and the check that an
//! error answer has the shape the spec's "Error Codes" section requires.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::Path;
use std::time::Duration;

use reqwest::blocking::{Body, Client};
use reqwest::header::HeaderMap;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::common::Server;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
pub const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The error codes the spec allows in a 4xx body.
const SPEC_CODES: &[&str] = &[
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_INVALID",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "UNAUTHORIZED",
    "DENIED",
    "UNSUPPORTED",
    "TOOMANYREQUESTS",
];

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>` of `data`.
pub fn sha256(data: &[u8]) -> String {
    format!("sha256:{}", hex(&sha2::Sha256::digest(data)))
}

/// `sha512:<hex>` of `data`.
pub fn sha512(data: &[u8]) -> String {
    format!("sha512:{}", hex(&sha2::Sha512::digest(data)))
}

/// A full answer: status, headers and the whole body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    /// A header's value as text; `None` when absent.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|v| v.to_str().expect("ASCII header"))
    }

    /// Every value of a repeated header, in order.
    pub fn header_all(&self, name: &str) -> Vec<&str> {
        self.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().expect("ASCII header"))
            .collect()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// Asserts the status, with the body in the message when it differs.
    #[track_caller]
    pub fn expect(&self, status: u16, what: &str) -> &Reply {
        assert_eq!(
            self.status,
            status,
            "{what}: body {}",
            String::from_utf8_lossy(&self.body)
        );
        self
    }

    /// Asserts an error answer: the status, a JSON body of the spec's shape
    /// `{"errors":[{"code","message","detail"}]}` with only spec codes, the first being `code`.
    #[track_caller]
    pub fn expect_error(&self, status: u16, code: &str, what: &str) {
        self.expect(status, what);
        let ct = self.header("content-type").unwrap_or_default();
        assert!(
            ct.starts_with("application/json"),
            "{what}: content-type {ct}"
        );
        let body = self.json();
        let errors = body["errors"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no errors array in {body}"));
        assert!(!errors.is_empty(), "{what}: empty errors array");
        for e in errors {
            let c = e["code"].as_str().unwrap_or_default();
            assert!(
                SPEC_CODES.contains(&c),
                "{what}: code {c} is not a spec code"
            );
            assert!(e["message"].is_string(), "{what}: message missing in {e}");
            assert!(e.get("detail").is_some(), "{what}: detail missing in {e}");
        }
        assert_eq!(errors[0]["code"], code, "{what}: {body}");
    }
}

/// A running registry with an HTTP client for it.
pub struct Registry {
    pub server: Server,
    client: Client,
    _config: Option<tempfile::TempDir>,
}

impl Registry {
    /// A registry on a fresh root with the default settings.
    pub fn start() -> Registry {
        Registry::wrap(Server::start(), None)
    }

    /// A registry reading `toml` as its configuration file.
    pub fn with_config(toml: &str) -> Registry {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("hallmark.toml");
        std::fs::write(&path, toml).expect("write config");
        let path = path.to_str().expect("UTF-8 temp path");
        Registry::wrap(Server::start_with_args(&["--config", path]), Some(dir))
    }

    /// A registry on `root`, which outlives it.
    pub fn at(root: &Path) -> Registry {
        Registry::at_with(root, &[])
    }

    /// A registry on `root` with extra `serve` flags.
    pub fn at_with(root: &Path, args: &[&str]) -> Registry {
        Registry::wrap(Server::start_at(root, args), None)
    }

    fn wrap(server: Server, config: Option<tempfile::TempDir>) -> Registry {
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(60))
            .build()
            .expect("HTTP client");
        Registry {
            server,
            client,
            _config: config,
        }
    }

    /// A path (`/v2/...`) or an absolute URL as the server wrote it in a `Location`.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http://") {
            path_or_url.to_owned()
        } else {
            self.server.url(path_or_url)
        }
    }

    /// Sends a request and reads the whole answer.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<Body>,
    ) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path)).body(body);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let resp = req
            .send()
            .unwrap_or_else(|e| panic!("request to {path} failed: {e}"));
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = resp.bytes().expect("response body").to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        self.send("GET", path, &[], Vec::new())
    }

    pub fn head(&self, path: &str) -> Reply {
        self.send("HEAD", path, &[], Vec::new())
    }

    pub fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, &[], Vec::new())
    }

    /// Pushes a blob with one POST carrying `?digest=`; returns its digest.
    pub fn push_blob(&self, repo: &str, data: &[u8]) -> String {
        let digest = sha256(data);
        self.send(
            "POST",
            &format!("/v2/{repo}/blobs/uploads/?digest={digest}"),
            &[],
            data.to_vec(),
        )
        .expect(201, "push blob");
        digest
    }

    /// Pushes a blob and returns its descriptor with `media_type`.
    pub fn push_descriptor(&self, repo: &str, media_type: &str, data: &[u8]) -> Value {
        self.push_blob(repo, data);
        descriptor(media_type, data)
    }

    /// Sends a manifest PUT with `Content-Type: media_type` (none when empty).
    pub fn put_manifest(
        &self,
        repo: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Reply {
        let headers: &[(&str, &str)] = if media_type.is_empty() {
            &[]
        } else {
            &[("content-type", media_type)]
        };
        let path = format!("/v2/{repo}/manifests/{reference}");
        self.send("PUT", &path, headers, bytes.to_vec())
    }

    /// Pushes a manifest that must be accepted; returns what was stored.
    pub fn push_manifest(&self, repo: &str, reference: &str, manifest: &Value) -> Pushed {
        let bytes = serde_json::to_vec(manifest).expect("serialize manifest");
        let media_type = manifest["mediaType"]
            .as_str()
            .expect("mediaType in manifest");
        let reply = self.put_manifest(repo, reference, media_type, &bytes);
        reply.expect(201, "push manifest");
        let digest = sha256(&bytes);
        assert_eq!(reply.header("docker-content-digest"), Some(digest.as_str()));
        Pushed {
            digest,
            media_type: media_type.to_owned(),
            bytes,
        }
    }

    /// Pushes a small image (config and one layer, both made from `seed`) under `reference`.
    pub fn push_image(&self, repo: &str, reference: &str, seed: &str) -> Pushed {
        let manifest = self.image_manifest(repo, seed);
        self.push_manifest(repo, reference, &manifest)
    }

    /// Pushes the blobs of a small image and returns its manifest, not yet pushed.
    pub fn image_manifest(&self, repo: &str, seed: &str) -> Value {
        let config = json!({ "architecture": "amd64", "os": "linux", "seed": seed });
        let config = serde_json::to_vec(&config).expect("serialize config");
        let config = self.push_descriptor(repo, OCI_CONFIG, &config);
        let layer = self.push_descriptor(repo, OCI_LAYER, format!("layer {seed}").as_bytes());
        json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": config,
            "layers": [layer],
        })
    }

    /// Sends raw bytes on a fresh connection and parses the answer; used where a client
    /// library would normalize the path or fix up the framing.
    pub fn raw(&self, head: &str, body: &[u8], close_write: bool) -> Option<Reply> {
        raw_exchange(self.server.addr, head, body, close_write)
    }

    /// A raw request with `Connection: close` and an exact `Content-Length`.
    pub fn raw_request(&self, method: &str, target: &str, body: &[u8]) -> Reply {
        let head = format!(
            "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Length: {}\r\n\r\n",
            self.server.addr,
            body.len()
        );
        self.raw(&head, body, false)
            .unwrap_or_else(|| panic!("no answer to raw {method} {target}"))
    }
}

/// A request that must be refused, and how.
pub struct Refusal {
    pub name: &'static str,
    method: &'static str,
    path: String,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    status: u16,
    code: &'static str,
}

/// Starts describing a refused request; `answer` says how it must be refused.
pub fn refusal(name: &'static str, method: &'static str, path: impl Into<String>) -> Refusal {
    Refusal {
        name,
        method,
        path: path.into(),
        headers: Vec::new(),
        body: Vec::new(),
        status: 0,
        code: "",
    }
}

impl Refusal {
    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Refusal {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Refusal {
        self.body = body.into();
        self
    }

    pub fn answer(mut self, status: u16, code: &'static str) -> Refusal {
        self.status = status;
        self.code = code;
        self
    }

    /// Sends the request and checks the refusal; returns the answer for further checks.
    #[track_caller]
    pub fn check(&self, reg: &Registry) -> Reply {
        let headers: Vec<(&str, &str)> =
            self.headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let reply = reg.send(self.method, &self.path, &headers, self.body.clone());
        reply.expect_error(self.status, self.code, self.name);
        reply
    }
}

/// A manifest the registry accepted.
#[derive(Debug, Clone)]
pub struct Pushed {
    pub digest: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Pushed {
    /// The descriptor of this manifest, as an index or `subject` names it.
    pub fn descriptor(&self) -> Value {
        json!({
            "mediaType": self.media_type,
            "digest": self.digest,
            "size": self.bytes.len(),
        })
    }
}

/// A descriptor of `data` with `media_type`.
pub fn descriptor(media_type: &str, data: &[u8]) -> Value {
    json!({ "mediaType": media_type, "digest": sha256(data), "size": data.len() })
}

/// Reads a raw HTTP/1.1 answer; `None` when the server closed without answering.
fn raw_exchange(addr: SocketAddr, head: &str, body: &[u8], close_write: bool) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    s.write_all(head.as_bytes()).expect("write head");
    s.write_all(body).expect("write body");
    if close_write {
        s.shutdown(Shutdown::Write).expect("half close");
    }
    let mut raw = Vec::new();
    // A reset after a half close is an answer of its own: none.
    let _ = s.read_to_end(&mut raw);
    if raw.is_empty() {
        return None;
    }
    Some(parse_raw(&raw))
}

fn parse_raw(raw: &[u8]) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("end of headers");
    let head = std::str::from_utf8(&raw[..split]).expect("ASCII head");
    let mut lines = head.split("\r\n");
    let status_line = lines.next().expect("status line");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    let mut headers = HeaderMap::new();
    for line in lines {
        let (k, v) = line.split_once(':').expect("header line");
        headers.append(
            reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()).expect("header name"),
            v.trim().parse().expect("header value"),
        );
    }
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"));
    if chunked {
        body = dechunk(&body);
    }
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = data.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = std::str::from_utf8(&data[..eol])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok())
            .expect("chunk size");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
}

/// The `<url>` of a `Link: <url>; rel="next"` header.
pub fn next_link(reply: &Reply) -> Option<String> {
    let link = reply.header("link")?;
    assert!(
        link.contains("rel=\"next\""),
        "Link without rel=next: {link}"
    );
    let start = link.find('<').expect("Link has <") + 1;
    let end = link.find('>').expect("Link has >");
    Some(link[start..end].to_owned())
}

/// `url` with `key=value` added to its query.
pub fn with_query(url: &str, key: &str, value: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{key}={value}")
}

/// Starts an upload session in `repo`; returns its `Location`.
pub fn start_upload(reg: &Registry, repo: &str) -> String {
    let reply = reg.send(
        "POST",
        &format!("/v2/{repo}/blobs/uploads/"),
        &[],
        Vec::new(),
    );
    reply.expect(202, "start upload");
    reply
        .header("location")
        .expect("Location of the session")
        .to_owned()
}

/// Bytes `0..n` cycling through 0..=250, so every offset is recognisable.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}
