//! Throw-away PKI servers for the signing tests: a one-route HTTP responder on loopback (CRL
//! distribution points, timestamping authorities), a CA made with rcgen, and an RFC 3161 TSA
//! made of `openssl ts -reply`.

/// What a [`Responder`] answers: content type and body.
pub type Handler = dyn Fn(&[u8]) -> (String, Vec<u8>) + Send + Sync;

/// A one-route HTTP/1.1 server on loopback: every request's body goes to the handler, whose
/// answer is sent back; stopped when dropped.
pub struct Responder {
    pub addr: std::net::SocketAddr,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Responder {
    pub fn start(handler: Box<Handler>) -> Responder {
        use std::io::{BufRead, BufReader, Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0usize;
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    if let Some((k, v)) = line.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0u8; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let (content_type, answer) = handler(&body);
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
                     connection: close\r\n\r\n",
                    answer.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&answer);
            }
        });
        Responder {
            addr,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Responder {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A CA made with rcgen that can sign CRLs.
pub fn test_root(name: &str) -> rcgen::CertifiedIssuer<'static, rcgen::KeyPair> {
    let mut params = rcgen::CertificateParams::default();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Hallmark Test");
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::CrlSign,
    ];
    rcgen::CertifiedIssuer::self_signed(params, rcgen::KeyPair::generate().expect("key"))
        .expect("root")
}

/// An RFC 3161 timestamping authority made of `openssl ts -reply`, an implementation that
/// shares nothing with ours, behind a loopback HTTP endpoint.
pub struct OpensslTsa {
    responder: Responder,
    pub root_pem: String,
    _dir: tempfile::TempDir,
}

impl OpensslTsa {
    pub fn start() -> OpensslTsa {
        use rcgen::{CertificateParams, CustomExtension, DnType, KeyPair, KeyUsagePurpose};
        let dir = tempfile::tempdir().expect("tsa dir");
        let root = test_root("Test TSA Root");
        let mut params = CertificateParams::default();
        params
            .distinguished_name
            .push(DnType::CommonName, "Test TSA");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Hallmark Test");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        // extendedKeyUsage, critical, timeStamping only (RFC 3161 §2.3).
        let mut eku = CustomExtension::from_oid_content(
            &[2, 5, 29, 37],
            vec![
                0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08,
            ],
        );
        eku.set_criticality(true);
        params.custom_extensions = vec![eku];
        let key = KeyPair::generate().expect("key");
        let cert = params.signed_by(&key, &root).expect("tsa cert");

        let path = |name: &str| dir.path().join(name);
        std::fs::write(path("tsa.crt"), cert.pem()).expect("write");
        std::fs::write(path("tsa.key"), key.serialize_pem()).expect("write");
        std::fs::write(path("chain.pem"), root.pem()).expect("write");
        std::fs::write(path("serial"), "01\n").expect("write");
        let config = format!(
            "[ tsa ]\ndefault_tsa = tsa_config\n[ tsa_config ]\ndir = {dir}\nserial = $dir/serial\n\
             crypto_device = builtin\nsigner_cert = $dir/tsa.crt\ncerts = $dir/chain.pem\n\
             signer_key = $dir/tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n\
             digests = sha256, sha384, sha512\naccuracy = secs:1\nordering = no\ntsa_name = no\n\
             ess_cert_id_chain = no\ness_cert_id_alg = sha256\n",
            dir = dir.path().display()
        );
        std::fs::write(path("tsa.cnf"), config).expect("write");

        let work = dir.path().to_path_buf();
        let responder = Responder::start(Box::new(move |query| {
            let query_file = work.join("query.tsq");
            let reply_file = work.join("reply.tsr");
            std::fs::write(&query_file, query).expect("query");
            let out = std::process::Command::new("openssl")
                .args(["ts", "-reply", "-config"])
                .arg(work.join("tsa.cnf"))
                .arg("-queryfile")
                .arg(&query_file)
                .arg("-out")
                .arg(&reply_file)
                .output()
                .expect("openssl ts");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let reply = std::fs::read(&reply_file).expect("reply");
            ("application/timestamp-reply".to_owned(), reply)
        }));
        OpensslTsa {
            responder,
            root_pem: root.pem(),
            _dir: dir,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/", self.responder.addr)
    }
}
