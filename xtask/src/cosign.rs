//! The `cosign` phase: `hallmark cosign sign` and `verify` of 100 images, each in one
//! command, against the same work done by the Rust `sigstore` crate's cosign client
//! (`interop/sigstore-peer`, built by `scripts/install-peers.sh`), in the same run against the
//! same `hallmark serve`.
//!
//! Each contender has its own 100 images, so neither reads layers the other appended. Every
//! round signs with a fresh key (so each round appends a layer, as a first signing does) and
//! then verifies with that key; the rounds interleave the two contenders so that background
//! load touches both alike, and each one's best round counts. The ratio is the peer's time
//! over hallmark's: at least 1 means hallmark is at least as fast. Hallmark's signing time
//! includes its settle delay (about 0.3 s per command), which makes concurrent signers safe;
//! the crate's client writes once and does not check.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::procs;
use crate::report::{Row, Target};
use crate::servers;

/// Images signed and verified by each command.
const IMAGES: usize = 100;
const PASSWORD: &str = "bench";

/// The peer program built by install-peers.sh.
fn peer() -> Result<PathBuf> {
    let peers = std::env::var_os("HALLMARK_PEERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.peers"));
    let path = peers.join("bin/sigstore-peer");
    anyhow::ensure!(
        path.is_file(),
        "{} is missing: run scripts/install-peers.sh",
        path.display()
    );
    Ok(path)
}

/// Times of both contenders.
pub fn rows(bin: &Path, work: &Path, rounds: u32) -> Result<Vec<Row>> {
    let peer = peer()?;
    let server = servers::hallmark(bin, &work.join("server"))?;
    let host = server
        .base_url()
        .strip_prefix("http://")
        .map(|h| h.trim_end_matches('/').to_owned())
        .context("the server URL is not http://")?;
    let home = work.join("home");
    std::fs::create_dir_all(&home)?;
    let run = |program: &Path, args: &[String]| -> Result<f64> {
        let start = Instant::now();
        procs::run_output(
            Command::new(program)
                .args(args)
                .current_dir(work)
                .env("HOME", &home)
                .env("COSIGN_PASSWORD", PASSWORD)
                .env_remove("COSIGN_REPOSITORY")
                .env_remove("HALLMARK_LOG"),
        )?;
        Ok(start.elapsed().as_secs_f64() * 1000.0)
    };

    let file = work.join("image.txt");
    let mut images: [Vec<String>; 2] = Default::default();
    for (side, list) in images.iter_mut().enumerate() {
        for i in 0..IMAGES {
            std::fs::write(&file, format!("image {i} of side {side}\n"))?;
            let image = format!("{host}/cosign-bench/s{side}-{i}:v1");
            let file_arg = file.to_str().context("UTF-8 path")?.to_owned();
            run(bin, &["push".into(), image.clone(), file_arg])?;
            list.push(image);
        }
    }

    let mut best = [[f64::MAX; 2]; 2];
    for round in 0..rounds {
        let h = format!("h{round}");
        let s = format!("s{round}");
        run(
            bin,
            &words(&["cosign", "generate-key-pair", "--output-key-prefix", &h]),
        )?;
        run(
            &peer,
            &words(&["generate-key-pair", "--output-key-prefix", &s]),
        )?;

        let with = |head: &[&str], list: &[String]| -> Vec<String> {
            words(head)
                .into_iter()
                .chain(list.iter().cloned())
                .collect()
        };
        let sign_h = run(
            bin,
            &with(
                &["cosign", "sign", "--key", &format!("{h}.key")],
                &images[0],
            ),
        )?;
        let sign_s = run(
            &peer,
            &with(&["sign", "--key", &format!("{s}.key")], &images[1]),
        )?;
        let verify_h = run(
            bin,
            &with(
                &["cosign", "verify", "--key", &format!("{h}.pub")],
                &images[0],
            ),
        )?;
        let verify_s = run(
            &peer,
            &with(&["verify", "--key", &format!("{s}.pub")], &images[1]),
        )?;
        best[0] = [best[0][0].min(sign_h), best[0][1].min(sign_s)];
        best[1] = [best[1][0].min(verify_h), best[1][1].min(verify_s)];
    }
    drop(server);

    let row = |what: &str, [hallmark, peer]: [f64; 2]| Row {
        name: format!("cosign {what} of {IMAGES} images, one command (ms; peer: sigstore crate)"),
        hallmark: Some(hallmark),
        distribution: Some(peer),
        ceiling: None,
        ratio: Some((peer / hallmark, "peer/h")),
        target: Target::AtLeast(1.0),
    };
    Ok(vec![row("sign", best[0]), row("verify", best[1])])
}

fn words(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}
