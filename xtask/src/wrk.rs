//! Request rates measured with `wrk`, the same way for every server.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::procs::run_output;

/// One `wrk` run of `GET`s. (wrk cannot count `HEAD`s: see `rawload`.)
#[derive(Debug, Clone, Copy)]
pub struct Load<'a> {
    /// Connections, each on its own thread (`-t` = `-c`).
    pub connections: u32,
    /// Duration in seconds.
    pub seconds: u64,
    /// `Accept` header sent with every request.
    pub accept: &'a str,
}

/// Requests per second `wrk` completed on `url`. Fails if any answer was not 2xx/3xx, since
/// a rate of errors measures nothing.
pub fn rate(url: &str, load: Load<'_>) -> Result<f64> {
    let mut cmd = Command::new("wrk");
    let n = load.connections.to_string();
    cmd.args(["-t", &n, "-c", &n, "-d", &format!("{}s", load.seconds)])
        .args(["-H", &format!("Accept: {}", load.accept)]);
    cmd.arg(url);
    let out = run_output(&mut cmd)?;
    parse(&out).with_context(|| format!("wrk {url}"))
}

fn parse(out: &str) -> Result<f64> {
    let field = |name: &str| {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
    };
    if let Some(n) = field("Non-2xx or 3xx responses:") {
        bail!("{n} error responses:\n{out}");
    }
    if let Some(errors) = field("Socket errors:") {
        bail!("socket errors ({errors}):\n{out}");
    }
    let rate: f64 = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .with_context(|| format!("no Requests/sec in wrk's output:\n{out}"))?;
    if rate <= 0.0 {
        bail!("no request completed:\n{out}");
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rate_and_refuses_errors() {
        let ok = "  16 threads and 16 connections\nRequests/sec:  12345.67\nTransfer/sec: 1MB\n";
        assert!((parse(ok).expect("rate") - 12345.67).abs() < 1e-6);
        let bad = "  Non-2xx or 3xx responses: 12\nRequests/sec:  10.00\n";
        assert!(parse(bad).is_err());
    }
}
