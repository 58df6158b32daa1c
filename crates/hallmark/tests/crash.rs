//! Crash safety: `kill -9` the server at random moments during many concurrent pushes, restart
//! it on the same root, and check that everything acknowledged survived intact and that
//! nothing partial is ever served.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use common::Server;
use hallmark_oci::{Algorithm, Digest};
use reqwest::blocking::Client;

const PUSHERS: usize = 6;
const ROUNDS: usize = 5;
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";

/// A small deterministic generator, seeded per thread and round.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// What the pushers attempted and what the server acknowledged.
#[derive(Default)]
struct Ledger {
    /// Blob digest -> content, for every blob attempted.
    attempted_blobs: HashMap<Digest, Vec<u8>>,
    /// Blobs answered 201, with their repository.
    acked_blobs: Vec<(String, Digest)>,
    /// Manifests answered 201: repository, tag, digest, bytes.
    acked_manifests: Vec<(String, String, Digest, Vec<u8>)>,
    /// Every manifest digest ever attempted for the shared tag of a repository.
    shared_candidates: HashMap<String, Vec<Digest>>,
}

/// Pushes one blob; `chunked` splits it into PATCHes. Returns whether it was acknowledged.
fn push_blob(c: &Client, base: &str, repo: &str, data: &[u8], chunked: bool) -> bool {
    let digest = Algorithm::Sha256.digest(data);
    if !chunked {
        let url = format!("{base}/v2/{repo}/blobs/uploads/?digest={digest}");
        return c
            .post(url)
            .body(data.to_vec())
            .send()
            .is_ok_and(|r| r.status() == 201);
    }
    let Ok(resp) = c.post(format!("{base}/v2/{repo}/blobs/uploads/")).send() else {
        return false;
    };
    let Some(mut location) = location(&resp) else {
        return false;
    };
    let half = data.len() / 2;
    for (start, chunk) in [(0, &data[..half]), (half, &data[half..])] {
        let end = start + chunk.len() - 1;
        let sent = c
            .patch(format!("{base}{location}"))
            .header("content-range", format!("{start}-{end}"))
            .body(chunk.to_vec())
            .send();
        match sent {
            Ok(r) if r.status() == 202 => match self::location(&r) {
                Some(l) => location = l,
                None => return false,
            },
            _ => return false,
        }
    }
    let sep = if location.contains('?') { '&' } else { '?' };
    let done = c
        .put(format!("{base}{location}{sep}digest={digest}"))
        .send();
    done.is_ok_and(|r| r.status() == 201)
}

fn location(resp: &reqwest::blocking::Response) -> Option<String> {
    resp.headers()
        .get("location")?
        .to_str()
        .ok()
        .map(str::to_owned)
}

fn manifest_for(config: &Digest, config_len: usize, layers: &[(Digest, usize)]) -> Vec<u8> {
    let layers: Vec<_> = layers
        .iter()
        .map(|(d, n)| {
            serde_json::json!({"mediaType": "application/octet-stream", "digest": d, "size": n})
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": config, "size": config_len},
        "layers": layers,
    }))
    .expect("serialize manifest")
}

/// One pusher: blobs, then a manifest under a unique tag and the shared tag, until stopped.
fn pusher(base: String, seed: u64, ledger: Arc<Mutex<Ledger>>, stop: Arc<AtomicBool>) {
    let c = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .expect("client");
    let mut rng = XorShift(seed | 1);
    let repo = format!("crash/p{}", seed % 5);
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        i += 1;
        let mut layers = Vec::new();
        let mut ok = true;
        for k in 0..2 {
            let len = 1 + (rng.next() % (256 * 1024)) as usize;
            let data = rng.bytes(len);
            let digest = Algorithm::Sha256.digest(&data);
            ledger
                .lock()
                .expect("ledger")
                .attempted_blobs
                .insert(digest.clone(), data.clone());
            if !push_blob(&c, &base, &repo, &data, k == 1) {
                ok = false;
                break;
            }
            ledger
                .lock()
                .expect("ledger")
                .acked_blobs
                .push((repo.clone(), digest.clone()));
            layers.push((digest, len));
        }
        let config = format!("{{\"seed\":{seed},\"i\":{i}}}").into_bytes();
        let config_digest = Algorithm::Sha256.digest(&config);
        ledger
            .lock()
            .expect("ledger")
            .attempted_blobs
            .insert(config_digest.clone(), config.clone());
        if !ok || !push_blob(&c, &base, &repo, &config, false) {
            continue;
        }
        let manifest = manifest_for(&config_digest, config.len(), &layers);
        let digest = Algorithm::Sha256.digest(&manifest);
        let tag = format!("t{seed}-{i}");
        ledger
            .lock()
            .expect("ledger")
            .shared_candidates
            .entry(repo.clone())
            .or_default()
            .push(digest.clone());
        for t in [tag.as_str(), "shared"] {
            let sent = c
                .put(format!("{base}/v2/{repo}/manifests/{t}"))
                .header("content-type", MANIFEST_TYPE)
                .body(manifest.clone())
                .send();
            if !sent.is_ok_and(|r| r.status() == 201) {
                break;
            }
            let acked = (repo.clone(), t.to_owned(), digest.clone(), manifest.clone());
            ledger.lock().expect("ledger").acked_manifests.push(acked);
        }
    }
}

/// After a restart: every acknowledged write is intact, nothing served is partial.
fn verify(server: &Server, ledger: &Ledger) {
    let c = Client::new();
    for (repo, digest) in &ledger.acked_blobs {
        let resp = c
            .get(server.url(&format!("/v2/{repo}/blobs/{digest}")))
            .send()
            .expect("GET");
        assert_eq!(
            resp.status(),
            200,
            "acknowledged blob {digest} in {repo} lost"
        );
        let body = resp.bytes().expect("body");
        assert_eq!(
            &body[..],
            &ledger.attempted_blobs[digest][..],
            "blob {digest} corrupted"
        );
    }
    for (repo, tag, digest, bytes) in &ledger.acked_manifests {
        let by_digest = c
            .get(server.url(&format!("/v2/{repo}/manifests/{digest}")))
            .send();
        let by_digest = by_digest.expect("GET manifest");
        assert_eq!(
            by_digest.status(),
            200,
            "acknowledged manifest {digest} lost"
        );
        assert_eq!(&by_digest.bytes().expect("body")[..], &bytes[..]);
        if tag == "shared" {
            continue;
        }
        let by_tag = c
            .get(server.url(&format!("/v2/{repo}/manifests/{tag}")))
            .send();
        assert_eq!(
            &by_tag.expect("GET").bytes().expect("body")[..],
            &bytes[..],
            "tag {tag}"
        );
    }
    // The shared tag, pushed concurrently and interrupted, points at one whole manifest that
    // some pusher sent.
    for (repo, candidates) in &ledger.shared_candidates {
        let resp = c
            .get(server.url(&format!("/v2/{repo}/manifests/shared")))
            .send()
            .expect("GET");
        if resp.status() == 404 {
            continue;
        }
        assert_eq!(resp.status(), 200);
        let body = resp.bytes().expect("body");
        let digest = Algorithm::Sha256.digest(&body);
        assert!(
            candidates.contains(&digest),
            "shared tag in {repo} points at unknown content"
        );
    }
    // Anything attempted, acknowledged or not, is either absent or whole.
    let repos: Vec<&String> = ledger.shared_candidates.keys().collect();
    for (digest, data) in &ledger.attempted_blobs {
        for repo in &repos {
            let resp = c
                .get(server.url(&format!("/v2/{repo}/blobs/{digest}")))
                .send();
            let resp = resp.expect("GET blob");
            if resp.status() == 200 {
                assert_eq!(
                    &resp.bytes().expect("body")[..],
                    &data[..],
                    "partial blob {digest}"
                );
            } else {
                assert_eq!(resp.status(), 404);
            }
        }
    }
}

#[test]
fn acknowledged_writes_survive_kill_9() {
    let root = tempfile::tempdir().expect("temp root");
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let clock = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("clock");
    let mut rng = XorShift(clock.as_nanos() as u64 | 1);
    eprintln!("crash test seed {}", rng.0);
    for round in 0..ROUNDS {
        let mut server = Server::start_at(root.path(), &[]);
        let base = server.url("");
        let stop = Arc::new(AtomicBool::new(false));
        let workers: Vec<_> = (0..PUSHERS)
            .map(|p| {
                let (base, ledger, stop) = (base.clone(), ledger.clone(), stop.clone());
                let seed = (round * PUSHERS + p) as u64 * 7919 + rng.next() % 1000;
                std::thread::spawn(move || pusher(base, seed, ledger, stop))
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + rng.next() % 700));
        server.kill();
        stop.store(true, Ordering::Relaxed);
        for w in workers {
            w.join().expect("pusher thread");
        }
        let restarted = Server::start_at(root.path(), &[]);
        verify(&restarted, &ledger.lock().expect("ledger"));
    }
    let ledger = ledger.lock().expect("ledger");
    assert!(
        !ledger.acked_manifests.is_empty(),
        "no push was acknowledged: the test tested nothing"
    );
    eprintln!(
        "verified {} blobs and {} manifest pushes across {ROUNDS} kills",
        ledger.acked_blobs.len(),
        ledger.acked_manifests.len()
    );
}
