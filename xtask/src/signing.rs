//! The `signing` phase: Notary Project verification and signing.
//!
//! 1. In one process, verification throughput of a JWS envelope signed by the leaf of a
//!    three-certificate chain (leaf, intermediate, root in a `ca` store loaded once), P-256 and
//!    RSA-3072, against the raw rate at which aws-lc-rs verifies one signature of the same key
//!    over a message of the same length: the cost of everything the verifier adds.
//! 2. Whole processes against `hallmark serve`: `hallmark verify` and `hallmark sign` of an
//!    artifact by digest, each against `hallmark --version` (the process floor), interleaved
//!    so that background load touches all three alike. The median of each counts.
//!
//! notation is not packaged where these benches run, so its side comes from the one
//! measurement on these machines that we have: notation 1.3.2 took a median 15 ms to verify
//! and 31 ms to sign such an image over loopback, against 5 ms for its own `version`. The
//! targets are half of those times (7.5 ms and 15.5 ms); the ratio to hallmark's own floor is
//! printed beside them, since absolute times move with the machine's load.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use hallmark_envelope::{EnvelopeFormat, Payload, SignRequest, sign};
use hallmark_oci::{Algorithm, Descriptor};
use hallmark_revocation::{CrlFetcher, FetchError};
use hallmark_trust::{OciPolicyInit, StoreType, TrustStore};
use hallmark_verifier::{CrlChecker, Request, Subject, Verifier};
use hallmark_x509::testing::TestChainBuilder;
use hallmark_x509::{KeySpec, SignatureAlgorithm};
use time::OffsetDateTime;

use crate::procs::{self, Server};
use crate::report::{Row, Target};
use crate::servers;

/// Whole-process runs of each command.
const PROCESS_RUNS: usize = 40;

/// Test chains carry no CRL distribution points, so the revocation step never downloads;
/// should it try, the bench fails rather than measure a network.
struct NoNetwork;

impl CrlFetcher for NoNetwork {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        Err(FetchError::UnsupportedScheme {
            url: url.to_owned(),
        })
    }
}

/// Both parts of the phase.
pub fn rows(bin: &Path, work: &Path, seconds: u64, rounds: u32) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for spec in [KeySpec::EcP256, KeySpec::Rsa3072] {
        rows.push(in_process(spec, &work.join(spec.name()), seconds, rounds)?);
    }
    rows.extend(whole_process(bin, &work.join("process"))?);
    Ok(rows)
}

/// Verifications per second against raw signature verifications per second.
fn in_process(spec: KeySpec, dir: &Path, seconds: u64, rounds: u32) -> Result<Row> {
    let chain = TestChainBuilder::code_signing()
        .with_intermediates(1)
        .key_spec(spec)
        .build()?;
    ensure!(
        chain.certificates().len() == 3,
        "expected leaf, intermediate and root"
    );

    let store_dir = dir.join("truststore/x509");
    let ca = store_dir.join("ca/bench");
    std::fs::create_dir_all(&ca)?;
    std::fs::write(ca.join("root.pem"), chain.root().to_pem())?;
    let store = TrustStore::new(&store_dir);
    let document = OciPolicyInit {
        name: "bench".into(),
        registry_scopes: vec!["*".into()],
        level: hallmark_trust::Level::Strict,
        trust_stores: vec!["ca:bench".into()],
        trusted_identities: vec!["*".into()],
    }
    .build()?;
    let policy = document.select("127.0.0.1:5000/bench")?;
    // Loaded once here, as a long-running verifier holds it.
    store.policy_certificates(policy, StoreType::Ca)?;

    let manifest = b"{\"schemaVersion\":2}";
    let descriptor = Descriptor::new(
        "application/vnd.oci.image.manifest.v1+json",
        Algorithm::Sha256.digest(manifest),
        manifest.len() as u64,
    );
    let payload = Payload {
        target_artifact: descriptor.clone(),
    };
    let now = OffsetDateTime::now_utc();
    let envelope = sign(
        EnvelopeFormat::Jws,
        &SignRequest {
            payload: &payload,
            signing_time: now,
            expiry: None,
            signing_agent: "xtask",
            key: chain.leaf_key(),
            certificate_chain: chain.certificates(),
            timestamper: None,
        },
    )?;
    let subject = Subject::Manifest(descriptor);
    let metadata = BTreeMap::new();
    let request = Request {
        format: EnvelopeFormat::Jws,
        envelope: &envelope,
        subject: &subject,
        user_metadata: &metadata,
        now,
    };
    let checker = CrlChecker(&NoNetwork);
    let verifier = Verifier::new(policy, &store, &checker);
    let outcome = verifier.verify(&request);
    if let Err(e) = &outcome.verdict {
        bail!("the bench envelope does not verify: {e}");
    }

    // The raw operation: one signature check with the leaf key over a JWS-sized message.
    let message = vec![b'x'; signing_input_len(&envelope)?];
    let raw_signature = chain.leaf_key().sign(&message)?;
    let public = chain.leaf().public_key()?;
    let algorithm = SignatureAlgorithm::for_key(spec);
    public.verify(algorithm, &message, &raw_signature)?;

    let budget = Duration::from_secs(seconds);
    let (mut best_verifier, mut best_raw) = (0.0f64, 0.0f64);
    for _ in 0..rounds {
        best_verifier =
            best_verifier.max(rate(budget, || verifier.verify(&request).verdict.is_ok()));
        best_raw = best_raw.max(rate(budget, || {
            public.verify(algorithm, &message, &raw_signature).is_ok()
        }));
    }
    Ok(Row {
        name: format!(
            "verify {}, 3-certificate chain, in process (verifications/s)",
            spec.name()
        ),
        hallmark: Some(best_verifier),
        distribution: None,
        ceiling: Some((best_raw, "raw verify")),
        ratio: Some((best_verifier / best_raw, "h/raw")),
        target: Target::AtLeast(0.7),
    })
}

/// The length of the JWS signing input, `protected.payload`, of a flattened JWS.
fn signing_input_len(envelope: &[u8]) -> Result<usize> {
    let value: serde_json::Value = serde_json::from_slice(envelope)?;
    let part = |k: &str| {
        value[k]
            .as_str()
            .map(str::len)
            .context("JWS member missing")
    };
    Ok(part("protected")? + 1 + part("payload")?)
}

/// Calls `op` in a loop for `budget`; operations per second. Every call must succeed.
fn rate(budget: Duration, mut op: impl FnMut() -> bool) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            assert!(op(), "an operation failed during the bench");
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// `hallmark verify` and `hallmark sign` of one artifact against `hallmark --version`.
fn whole_process(bin: &Path, dir: &Path) -> Result<Vec<Row>> {
    let server = servers::hallmark(bin, &dir.join("server"))?;
    let home = dir.join("home");
    std::fs::create_dir_all(&home)?;
    let run = |args: &[&str]| -> Result<String> {
        procs::run_output(
            Command::new(bin)
                .args(args)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env_remove("HALLMARK_CONFIG_DIR")
                .env_remove("HALLMARK_LOG"),
        )
    };
    let host = server_host(&server)?;
    let repo = format!("{host}/bench/signed");
    let file = dir.join("artifact.txt");
    std::fs::write(&file, "signed by the bench\n")?;
    let file_arg = file.to_str().context("UTF-8 path")?;
    let pushed: serde_json::Value = serde_json::from_str(&run(&[
        "push",
        &format!("{repo}:v1"),
        file_arg,
        "-o",
        "json",
    ])?)?;
    let digest = pushed["digest"]
        .as_str()
        .context("push printed no digest")?;
    let reference = format!("{repo}@{digest}");
    run(&[
        "cert",
        "generate-test",
        "bench",
        "--key-spec",
        "EC-256",
        "--default",
    ])?;
    run(&[
        "policy",
        "init",
        "--name",
        "bench",
        "--scope",
        &repo,
        "--trust-store",
        "ca:bench",
        "--trusted-identity",
        "*",
    ])?;
    run(&["sign", &reference])?;
    run(&["verify", &reference])?;

    let commands: [(&str, Vec<&str>); 3] = [
        ("--version", vec!["--version"]),
        ("verify", vec!["verify", &reference]),
        ("sign", vec!["sign", &reference]),
    ];
    let mut times: [Vec<f64>; 3] = Default::default();
    for _ in 0..PROCESS_RUNS {
        for (i, (_, args)) in commands.iter().enumerate() {
            let start = Instant::now();
            run(args)?;
            times[i].push(start.elapsed().as_secs_f64() * 1000.0);
        }
    }
    let [floor, verify, sign] = times.map(median);
    drop(server);
    Ok(vec![
        Row {
            name: "`hallmark --version`, whole process (ms, median)".into(),
            hallmark: Some(floor),
            distribution: None,
            ceiling: None,
            ratio: None,
            target: Target::Info,
        },
        Row {
            name: "`hallmark verify` by digest, whole process (ms, median)".into(),
            hallmark: Some(verify),
            distribution: None,
            ceiling: Some((floor, "--version")),
            ratio: Some((verify / floor, "h/floor")),
            target: Target::HallmarkBelow(7.5),
        },
        Row {
            name: "`hallmark sign` by digest, whole process (ms, median)".into(),
            hallmark: Some(sign),
            distribution: None,
            ceiling: Some((floor, "--version")),
            ratio: Some((sign / floor, "h/floor")),
            target: Target::HallmarkBelow(15.5),
        },
    ])
}

fn server_host(server: &Server) -> Result<String> {
    let url = server.base_url();
    url.strip_prefix("http://")
        .map(|h| h.trim_end_matches('/').to_owned())
        .context("the server URL is not http://")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}
