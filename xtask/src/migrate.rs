//! The `migrate` phase: `hallmark v1 migrate` of a Notary v1 repository with 1,000 signed
//! tags, end to end on loopback: Debian's `notary-server` holds the v1 trust data (published
//! by the real `notary` client), `hallmark serve` the images. Reported: the time per tag of
//! the whole command (target under 20 ms), and where it goes (fetching and verifying the v1
//! data, checking each tag against the registry, signing, attaching the evidence), for
//! Notary Project and for cosign signatures.
//!
//! Setting up is not timed: 1,000 small images pushed over the distribution API, and 1,000
//! `notary add` runs (one process each; the client has no batch add) before one publish.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::client::{OCI_MANIFEST, Registry, sha256_digest};
use crate::procs::{self, Server, free_addr};
use crate::report::{Row, Target};
use crate::servers;

/// Tags in the v1 repository.
const TAGS: usize = 1000;
const GUN: &str = "example.com/bench";
const REPO: &str = "bench/migrated";

/// The programs the phase runs besides hallmark.
pub const PROGRAMS: &[&str] = &["notary", "notary-server"];

/// Both formats' rows.
pub fn rows(runtime: &tokio::runtime::Runtime, bin: &Path, work: &Path) -> Result<Vec<Row>> {
    let server = servers::hallmark(bin, &work.join("registry"))?;
    let notary = notary_server(&work.join("notary"))?;
    let manifests = runtime.block_on(push_images(&server.base_url()))?;
    eprintln!("migrate: {TAGS} images pushed; publishing them with the notary client");
    publish(&notary.base_url(), &work.join("client"), &manifests)?;

    let home = work.join("home");
    std::fs::create_dir_all(&home)?;
    let host = server.addr.to_string();
    let hallmark = |args: &[&str]| -> Result<String> {
        procs::run_output(
            Command::new(bin)
                .args(args)
                .current_dir(&home)
                .env("HOME", &home)
                .env("XDG_CONFIG_HOME", home.join(".config"))
                .env("XDG_DATA_HOME", home.join(".local/share"))
                .env("COSIGN_PASSWORD", "bench")
                .env_remove("HALLMARK_LOG"),
        )
    };
    hallmark(&["cert", "generate-test", "bench", "--default"])?;
    hallmark(&["cosign", "generate-key-pair"])?;

    let mut rows = Vec::new();
    for (format, key, repo) in [
        ("notation", "bench", format!("{host}/{REPO}")),
        ("cosign", "cosign.key", format!("{host}/{REPO}")),
    ] {
        let started = Instant::now();
        let out = hallmark(&[
            "v1",
            "migrate",
            "--from",
            &notary.base_url(),
            "--gun",
            GUN,
            "--to",
            &repo,
            "--format",
            format,
            "--key",
            key,
            "-o",
            "json",
        ])?;
        let total = started.elapsed().as_secs_f64() * 1000.0;
        let report: Value = serde_json::from_str(&out).context("migrate printed no JSON")?;
        let signed = report["tags"]
            .as_array()
            .map_or(0, |t| t.iter().filter(|t| t["outcome"] == "signed").count());
        anyhow::ensure!(signed == TAGS, "{format}: {signed} of {TAGS} tags signed");
        let t = &report["timings"];
        let ms = |k: &str| t[k].as_f64().unwrap_or_default();
        rows.push(Row {
            name: format!(
                "v1 migrate {TAGS} tags, {format} (ms per tag; verify {:.0} ms, check {:.0}, \
                 sign {:.0}, evidence {:.0} in all)",
                ms("verifyMs"),
                ms("checkMs"),
                ms("signMs"),
                ms("evidenceMs")
            ),
            hallmark: Some(total / TAGS as f64),
            distribution: None,
            ceiling: None,
            ratio: None,
            target: Target::HallmarkBelow(20.0),
        });
    }
    drop(notary);
    drop(server);
    Ok(rows)
}

/// Debian's `notary-server`, plain HTTP, in-memory storage, local signing keys.
fn notary_server(dir: &Path) -> Result<Server> {
    std::fs::create_dir_all(dir)?;
    let addr = free_addr()?;
    let config = json!({
        "server": { "http_addr": addr.to_string() },
        "trust_service": { "type": "local" },
        "logging": { "level": "error" },
        "storage": { "backend": "memory" },
    });
    let path = dir.join("config.json");
    std::fs::write(&path, serde_json::to_vec(&config)?)?;
    let mut cmd = Command::new("notary-server");
    cmd.arg("-config").arg(&path);
    Server::start(
        "notary-server",
        cmd,
        addr,
        "/_notary_server/health",
        &dir.join("log"),
    )
}

/// One small image per tag; returns each manifest's bytes.
async fn push_images(base: &str) -> Result<Vec<Bytes>> {
    let registry = Registry::new(base.to_owned())?;
    let config = Bytes::from_static(b"{}");
    let config_digest = sha256_digest(&config);
    registry.push_blob(REPO, &config_digest, config).await?;
    let mut manifests = Vec::with_capacity(TAGS);
    for i in 0..TAGS {
        let layer = Bytes::from(format!("layer of image {i}\n"));
        let layer_digest = sha256_digest(&layer);
        registry
            .push_blob(REPO, &layer_digest, layer.clone())
            .await?;
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.empty.v1+json",
                "digest": config_digest, "size": 2 },
            "layers": [{ "mediaType": "application/octet-stream",
                "digest": layer_digest, "size": layer.len() }],
        });
        let bytes = Bytes::from(serde_json::to_vec(&manifest)?);
        registry
            .put_manifest(REPO, &format!("t{i}"), OCI_MANIFEST, bytes.clone())
            .await?;
        manifests.push(bytes);
    }
    Ok(manifests)
}

/// `notary init`, one `notary add` per tag, one `publish`.
fn publish(server: &str, dir: &Path, manifests: &[Bytes]) -> Result<()> {
    std::fs::create_dir_all(dir)?;
    let notary = |args: &[&str]| -> Result<String> {
        procs::run_output(
            Command::new("notary")
                .arg("-s")
                .arg(server)
                .arg("-d")
                .arg(dir.join("trust"))
                .args(args)
                .current_dir(dir)
                .env("HOME", dir)
                .env("NOTARY_ROOT_PASSPHRASE", "bench-root")
                .env("NOTARY_TARGETS_PASSPHRASE", "bench-targets")
                .env("NOTARY_SNAPSHOT_PASSPHRASE", "bench-snapshot"),
        )
    };
    notary(&["init", GUN])?;
    for (i, bytes) in manifests.iter().enumerate() {
        let file = dir.join(format!("t{i}.json"));
        std::fs::write(&file, bytes)?;
        notary(&[
            "add",
            GUN,
            &format!("t{i}"),
            file.to_str().context("UTF-8 path")?,
        ])?;
    }
    notary(&["publish", GUN])?;
    Ok(())
}
