//! `cargo xtask bench`: hallmark beside distribution and the machine's ceiling, in one run.
//!
//! Phases, each measuring every contender in turn, for several rounds where runs are short,
//! so that background load touches all of them alike; the best round of each counts:
//! 1. manifest GET rates with `wrk`, HEAD rates with `rawload`, at 16 connections and at 1
//!    (hallmark, distribution, the trivial server);
//! 2. the referrers query on a subject with 1,000 referrers against a manifest GET, and
//!    against the trivial server sending the same bytes (hallmark only: distribution 2.8 has
//!    no referrers API);
//! 3. pushes of distinct random 1 MiB blobs at concurrency 1 and 4 (hallmark, distribution);
//! 4. one streamed 1 GiB push against `dd conv=fsync` on the same disk, each twice; hallmark
//!    runs fresh for this so that its peak RSS (`VmHWM`) belongs to the push;
//! 5. one 1 GiB pull of the same file against nginx's `sendfile`;
//! 6. `hallmark copy` against `skopeo copy` and a bare `curl` upload (see [`crate::copy`]);
//! 7. Notary Project verification and signing (see [`crate::signing`]);
//! 8. `hallmark cosign sign` and `verify` of 100 images against the `sigstore` crate (see
//!    [`crate::cosign`]);
//! 9. `hallmark v1 migrate` of 1,000 signed tags from `notary-server` (see [`crate::migrate`]).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use bytes::Bytes;
use serde_json::json;
use tokio::runtime::Runtime;

use crate::client::{OCI_MANIFEST, Registry, sha256_digest};
use crate::copy;
use crate::cosign;
use crate::migrate;
use crate::procs::{self, Server};
use crate::rawload;
use crate::report::{self, Row, Target};
use crate::servers;
use crate::signing;
use crate::transfer::{self, BigBlob, MIB, Noise};
use crate::wrk::{self, Load};

/// Flags of `bench`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Seconds of each request-rate run.
    #[arg(long, default_value_t = 2)]
    seconds: u64,
    /// Rounds of each request-rate, push-rate and download measurement; the best counts.
    #[arg(long, default_value_t = 3)]
    rounds: u32,
    /// Time budget of each push-rate run, in seconds.
    #[arg(long, default_value_t = 2)]
    push_seconds: u64,
    /// Run only these phases (comma-separated); all by default.
    #[arg(long, value_enum, value_delimiter = ',')]
    only: Vec<Phase>,
}

/// The parts of the bench.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// Manifest GET and HEAD rates.
    Requests,
    /// The referrers query against a manifest GET.
    Referrers,
    /// 1 MiB blob pushes per second.
    Pushes,
    /// The 1 GiB push and pull.
    Big,
    /// `hallmark copy` against `skopeo copy` and `curl`, between two hallmark servers.
    Copy,
    /// Notary Project verification against the raw signature rate; whole-process verify
    /// and sign against the process floor.
    Signing,
    /// `hallmark cosign sign` and `verify` of 100 images against the `sigstore` crate.
    Cosign,
    /// `hallmark v1 migrate` of 1,000 signed tags from `notary-server`.
    Migrate,
}

impl Phase {
    /// Whether the phase compares hallmark with distribution (and so needs it running).
    fn uses_distribution(self) -> bool {
        !matches!(
            self,
            Phase::Copy | Phase::Signing | Phase::Cosign | Phase::Migrate
        )
    }
}

const REPO: &str = "bench/app";
const TAG: &str = "v1";
const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const REFERRERS: usize = 1000;
/// Distinct blobs made for each push-rate run; more than any server pushes in the budget.
const PUSH_POOL: usize = 384;

/// The image every server holds for the request-rate phase.
struct Image {
    manifest: Bytes,
    digest: String,
}

pub fn run(args: Args) -> Result<()> {
    let phases: Vec<Phase> = if args.only.is_empty() {
        <Phase as clap::ValueEnum>::value_variants().to_vec()
    } else {
        args.only.clone()
    };
    let wanted = |p: Phase| phases.contains(&p);
    let mut programs = Vec::new();
    if phases.iter().any(|p| p.uses_distribution()) {
        programs.extend([
            "docker-registry",
            "wrk",
            "nginx",
            "curl",
            "dd",
            "sync",
            "kill",
        ]);
    }
    if wanted(Phase::Copy) {
        programs.extend(copy::PROGRAMS);
    }
    if wanted(Phase::Migrate) {
        programs.extend(migrate::PROGRAMS);
    }
    procs::require_programs(&programs)?;
    let bin = servers::build_hallmark()?;
    let work = tempfile::Builder::new()
        .prefix("hallmark-bench-")
        .tempdir()
        .context("creating the bench directory")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let facts = machine_facts();
    eprintln!("bench: {facts}; working in {}", work.path().display());
    let started = Instant::now();

    let mut rows = Vec::new();
    if phases.iter().any(|p| p.uses_distribution()) {
        rows.extend(against_distribution(
            &runtime,
            &bin,
            work.path(),
            &args,
            &wanted,
        )?);
    }
    if wanted(Phase::Copy) {
        rows.extend(copy::rows(&runtime, &bin, work.path(), args.rounds)?);
    }
    if wanted(Phase::Signing) {
        let dir = work.path().join("signing");
        rows.extend(signing::rows(&bin, &dir, args.seconds, args.rounds)?);
    }
    if wanted(Phase::Cosign) {
        let dir = work.path().join("cosign");
        std::fs::create_dir_all(&dir)?;
        rows.extend(cosign::rows(&bin, &dir, args.rounds)?);
    }
    if wanted(Phase::Migrate) {
        let dir = work.path().join("migrate");
        std::fs::create_dir_all(&dir)?;
        rows.extend(migrate::rows(&runtime, &bin, &dir)?);
    }

    let table = report::table(&rows);
    println!(
        "\n{facts}; bench took {:.0} s\n",
        started.elapsed().as_secs_f64()
    );
    println!("{table}");
    Ok(())
}

/// Phases 1 to 5, which share one distribution server.
fn against_distribution(
    runtime: &Runtime,
    bin: &Path,
    work: &Path,
    args: &Args,
    wanted: &dyn Fn(Phase) -> bool,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let distribution = servers::distribution(&work.join("distribution"))?;
    {
        let hallmark = servers::hallmark(bin, &work.join("hallmark"))?;
        let image = runtime.block_on(seed_image(&[&hallmark, &distribution]))?;
        let trivial = servers::trivial(&work.join("trivial"), &image.manifest, OCI_MANIFEST)?;
        let contenders = [&hallmark, &distribution, &trivial];
        runtime.block_on(check_same_manifest(&contenders, &image))?;
        if wanted(Phase::Requests) {
            rows.extend(request_rates(&contenders, args.seconds, args.rounds)?);
        }
        if wanted(Phase::Referrers) {
            let dir = work.join("trivial-referrers");
            rows.extend(referrers(runtime, &hallmark, &image, &dir, args)?);
        }
        if wanted(Phase::Pushes) {
            let budget = Duration::from_secs(args.push_seconds);
            let contenders = [&hallmark, &distribution];
            rows.extend(push_rates(runtime, contenders, budget, args.rounds)?);
        }
    }
    if wanted(Phase::Big) {
        rows.extend(big_blobs(runtime, bin, &distribution, work, args.rounds)?);
    }
    Ok(rows)
}

/// nproc, CPU, kernel, date and load: what a reader needs to weigh the numbers.
fn machine_facts() -> String {
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default();
    let text = |cmd: &str, args: &[&str]| {
        procs::run_output(std::process::Command::new(cmd).args(args))
            .map(|s| s.trim().to_owned())
            .unwrap_or_default()
    };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "nproc {nproc} ({cpu}), Linux {}, {}, load average {}",
        text("uname", &["-r"]),
        text("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        load.join(" ")
    )
}

/// Pushes the same small image, tagged, to every registry.
async fn seed_image(registries: &[&Server]) -> Result<Image> {
    let mut noise = Noise::new(1);
    let config = Bytes::from(
        json!({"architecture": "amd64", "os": "linux",
               "rootfs": {"type": "layers", "diff_ids": []}})
        .to_string(),
    );
    let layer = noise.bytes(4096);
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": descriptor("application/vnd.oci.image.config.v1+json", &config),
        "layers": [descriptor("application/vnd.oci.image.layer.v1.tar", &layer)],
        "annotations": {"org.opencontainers.image.title": "hallmark bench"},
    });
    let manifest = Bytes::from(serde_json::to_vec(&manifest)?);
    for server in registries {
        let r = Registry::new(server.base_url())?;
        for blob in [&config, &layer] {
            r.push_blob(REPO, &sha256_digest(blob), blob.clone())
                .await?;
        }
        r.put_manifest(REPO, TAG, OCI_MANIFEST, manifest.clone())
            .await?;
    }
    let digest = sha256_digest(&manifest);
    Ok(Image { manifest, digest })
}

fn descriptor(media_type: &str, content: &[u8]) -> serde_json::Value {
    json!({"mediaType": media_type, "digest": sha256_digest(content), "size": content.len()})
}

fn manifest_path() -> String {
    format!("/v2/{REPO}/manifests/{TAG}")
}

/// Every contender must answer the manifest GET with the same bytes, or the rates compare
/// different work.
async fn check_same_manifest(contenders: &[&Server], image: &Image) -> Result<()> {
    for s in contenders {
        let got = Registry::new(s.base_url())?
            .get(&manifest_path(), OCI_MANIFEST)
            .await?;
        ensure!(
            got == image.manifest,
            "{} answered different manifest bytes",
            s.base_url()
        );
    }
    Ok(())
}

/// Phase 1: manifest GET rates with wrk, HEAD rates with `rawload` (wrk cannot count HEADs).
fn request_rates(contenders: &[&Server; 3], seconds: u64, rounds: u32) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for (method, connections, target) in [
        ("GET", 16, 0.5),
        ("GET", 1, 0.6),
        ("HEAD", 16, 0.5),
        ("HEAD", 1, 0.6),
    ] {
        let [h, d, t] = best_of(rounds, |i| {
            let server = contenders[i];
            if method == "GET" {
                let url = format!("{}{}", server.base_url(), manifest_path());
                let load = Load {
                    connections,
                    seconds,
                    accept: OCI_MANIFEST,
                };
                wrk::rate(&url, load)
            } else {
                let path = manifest_path();
                rawload::rate(
                    server.addr,
                    method,
                    &path,
                    OCI_MANIFEST,
                    connections,
                    seconds,
                )
            }
        })?;
        eprintln!("bench: manifest {method} c={connections}: {h:.0} / {d:.0} / {t:.0} req/s");
        let tool = if method == "GET" { "wrk" } else { "rawload" };
        rows.push(Row {
            name: format!("manifest {method}, c={connections} (req/s, {tool})"),
            hallmark: Some(h),
            distribution: Some(d),
            ceiling: Some((t, "trivial")),
            ratio: Some((h / t, "h/trivial")),
            target: Target::AtLeast(target),
        });
    }
    Ok(rows)
}

/// The best of `rounds` measurements of each of `N` contenders, taken in turn so that a burst
/// of outside load hits one round of each rather than every round of one. Outside load only
/// ever slows a run down, so the best round is the nearest to what a contender can do.
fn best_of<const N: usize>(
    rounds: u32,
    mut measure: impl FnMut(usize) -> Result<f64>,
) -> Result<[f64; N]> {
    let mut best = [0.0f64; N];
    for _ in 0..rounds.max(1) {
        for (i, b) in best.iter_mut().enumerate() {
            *b = b.max(measure(i)?);
        }
    }
    Ok(best)
}

/// Phase 2: the referrers query of a subject with 1,000 referrers against a manifest GET, at
/// one connection; and against the trivial server sending the same bytes, which is as fast as
/// that much data crosses this machine's loopback.
fn referrers(
    runtime: &Runtime,
    hallmark: &Server,
    image: &Image,
    dir: &Path,
    args: &Args,
) -> Result<Vec<Row>> {
    runtime.block_on(push_referrers(hallmark, image))?;
    let path = format!("/v2/{REPO}/referrers/{}", image.digest);
    let index = runtime.block_on(async {
        Registry::new(hallmark.base_url())?
            .get(&path, OCI_INDEX)
            .await
    })?;
    let parsed: serde_json::Value = serde_json::from_slice(&index)?;
    let listed = parsed["manifests"].as_array().map_or(0, Vec::len);
    ensure!(
        listed == REFERRERS,
        "referrers query listed {listed}, not {REFERRERS}"
    );
    let trivial = servers::trivial(dir, &index, OCI_INDEX)?;

    let urls = [
        format!("{}{path}", hallmark.base_url()),
        format!("{}{}", hallmark.base_url(), manifest_path()),
        format!("{}{path}", trivial.base_url()),
    ];
    let [referrers_rate, manifest_rate, trivial_rate] = best_of(args.rounds, |i| {
        let load = Load {
            connections: 1,
            seconds: args.seconds,
            accept: if i == 1 { OCI_MANIFEST } else { OCI_INDEX },
        };
        wrk::rate(&urls[i], load)
    })?;
    let [referrers_ms, manifest_ms, trivial_ms] =
        [referrers_rate, manifest_rate, trivial_rate].map(|r| 1000.0 / r);
    eprintln!(
        "bench: referrers {referrers_ms:.3} ms ({} bytes), manifest GET {manifest_ms:.3} ms, \
         trivial with the referrers bytes {trivial_ms:.3} ms",
        index.len()
    );
    Ok(vec![
        Row {
            name: format!("referrers query, {REFERRERS} referrers, c=1 (ms/req)"),
            hallmark: Some(referrers_ms),
            distribution: None,
            ceiling: Some((manifest_ms, "manifest GET")),
            ratio: Some((referrers_ms / manifest_ms, "referrers/GET")),
            target: Target::AtMost(2.0),
        },
        Row {
            name: format!(
                "same, against {} KiB from trivial (ms/req)",
                index.len() / 1024
            ),
            hallmark: Some(referrers_ms),
            distribution: None,
            ceiling: Some((trivial_ms, "trivial")),
            ratio: Some((referrers_ms / trivial_ms, "h/trivial")),
            target: Target::Info,
        },
    ])
}

/// Pushes `REFERRERS` small artifact manifests whose subject is the bench image.
async fn push_referrers(hallmark: &Server, image: &Image) -> Result<()> {
    let r = Registry::new(hallmark.base_url())?;
    let empty = Bytes::from_static(b"{}");
    r.push_blob(REPO, &sha256_digest(&empty), empty.clone())
        .await?;
    let empty = descriptor(EMPTY_MEDIA_TYPE, &empty);
    let subject = json!({"mediaType": OCI_MANIFEST, "digest": image.digest,
                         "size": image.manifest.len()});
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let (r, empty, subject) = (r.clone(), empty.clone(), subject.clone());
        tasks.spawn(async move {
            for i in (worker..REFERRERS).step_by(8) {
                let manifest = json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_MANIFEST,
                    "artifactType": "application/vnd.example.signature.v1",
                    "config": empty,
                    "layers": [empty],
                    "subject": subject,
                    "annotations": {"org.opencontainers.image.created": created(i)},
                });
                let bytes = Bytes::from(serde_json::to_vec(&manifest)?);
                let digest = sha256_digest(&bytes);
                r.put_manifest(REPO, &digest, OCI_MANIFEST, bytes).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.context("referrer push task panicked")??;
    }
    Ok(())
}

/// A creation time unique to referrer `i`, which makes every referrer distinct the way
/// signatures of one image are.
fn created(i: usize) -> String {
    format!(
        "2026-12-03T{:02}:{:02}:{:02}Z",
        i / 3600,
        i / 60 % 60,
        i % 60
    )
}

/// Phase 3: pushes of distinct random 1 MiB blobs per second, hallmark against distribution,
/// both given the same blobs.
fn push_rates(
    runtime: &Runtime,
    contenders: [&Server; 2],
    budget: Duration,
    rounds: u32,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    for concurrency in [1, 4] {
        let mut best = [0.0f64; 2];
        for round in 0..rounds.max(1) {
            // Fresh blobs every round: a blob a registry holds already is cheaper to push.
            let seed = 100 + 10 * concurrency as u64 + u64::from(round);
            let pool = transfer::blob_pool(seed, PUSH_POOL, MIB);
            for (best, server) in best.iter_mut().zip(contenders) {
                let r = Registry::new(server.base_url())?;
                transfer::flush_dirty()?;
                let push = transfer::push_rate(&r, "bench/push", pool.clone(), concurrency, budget);
                *best = best.max(runtime.block_on(push)?);
            }
        }
        let [h, d] = best;
        eprintln!("bench: 1 MiB pushes c={concurrency}: {h:.1} / {d:.1} push/s");
        rows.push(Row {
            name: format!("1 MiB blob pushes, c={concurrency} (push/s)"),
            hallmark: Some(h),
            distribution: Some(d),
            ceiling: None,
            ratio: Some((h / d, "h/dist")),
            target: Target::AtLeast(5.0),
        });
    }
    Ok(rows)
}

/// Phases 4 and 5: the 1 GiB push and pull.
fn big_blobs(
    runtime: &Runtime,
    bin: &Path,
    distribution: &Server,
    work: &Path,
    rounds: u32,
) -> Result<Vec<Row>> {
    const GIB_CHUNKS: u64 = 1024;
    let mib = |bytes_per_s: f64| bytes_per_s / MIB as f64;
    let hallmark = servers::hallmark(bin, &work.join("hallmark-big"))?;
    let (h, d) = (
        Registry::new(hallmark.base_url())?,
        Registry::new(distribution.base_url())?,
    );

    let blobs: Vec<BigBlob> = (0..3).map(|i| BigBlob::new(1000 + i, GIB_CHUNKS)).collect();
    let digests: Vec<String> = blobs.iter().map(BigBlob::digest).collect();
    let size = blobs[0].len();
    let mut dd_best: f64 = 0.0;
    let mut push_best: f64 = 0.0;
    for (blob, digest) in blobs.iter().zip(&digests).take(2) {
        dd_best = dd_best.max(transfer::dd_rate(work)?);
        transfer::flush_dirty()?;
        let secs = runtime.block_on(transfer::push_big(&h, "bench/big", blob, digest))?;
        push_best = push_best.max(size as f64 / secs);
    }
    let peak_rss = hallmark.peak_rss()? as f64 / MIB as f64;
    transfer::flush_dirty()?;
    let secs = runtime.block_on(transfer::push_big(&d, "bench/big", &blobs[2], &digests[2]))?;
    let dist_push = size as f64 / secs;
    eprintln!(
        "bench: 1 GiB push: {:.0} / {:.0} MiB/s, dd {:.0} MiB/s, hallmark VmHWM {peak_rss:.1} MiB",
        mib(push_best),
        mib(dist_push),
        mib(dd_best)
    );

    let hex = &digests[0]["sha256:".len()..];
    let nginx = servers::nginx(&work.join("nginx"), &hallmark_blobs(work))?;
    let urls = [
        format!("{}/sha256/{}/{hex}", nginx.base_url(), &hex[..2]),
        format!("{}/v2/bench/big/blobs/{}", hallmark.base_url(), digests[0]),
        format!(
            "{}/v2/bench/big/blobs/{}",
            distribution.base_url(),
            digests[2]
        ),
    ];
    let [ng, hp, dp] = best_of(rounds, |i| transfer::download_rate(&urls[i], size))?.map(mib);
    eprintln!("bench: 1 GiB pull: {hp:.0} / {dp:.0} MiB/s, nginx {ng:.0} MiB/s");

    Ok(vec![
        Row {
            name: "1 GiB blob push, streamed (MiB/s)".into(),
            hallmark: Some(mib(push_best)),
            distribution: Some(mib(dist_push)),
            ceiling: Some((mib(dd_best), "dd fsync")),
            ratio: Some((push_best / dd_best, "h/dd")),
            target: Target::AtLeast(0.8),
        },
        Row {
            name: "hallmark peak RSS, 1 GiB push (MiB)".into(),
            hallmark: Some(peak_rss),
            distribution: None,
            ceiling: None,
            ratio: None,
            target: Target::HallmarkBelow(64.0),
        },
        Row {
            name: "1 GiB blob pull (MiB/s)".into(),
            hallmark: Some(hp),
            distribution: Some(dp),
            ceiling: Some((ng, "nginx sendfile")),
            ratio: Some((hp / ng, "h/nginx")),
            target: Target::AtLeast(0.9),
        },
    ])
}

fn hallmark_blobs(work: &Path) -> std::path::PathBuf {
    work.join("hallmark-big").join("root").join("blobs")
}
