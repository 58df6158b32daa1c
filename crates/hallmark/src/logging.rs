//! Logging: `tracing` events on stderr, as text for people or JSON for machines. The level
//! comes from `HALLMARK_LOG` (an `EnvFilter` directive), `info` by default. The default
//! silences the TLS certificate verifier's own error lines: the client reports a failed
//! verification once, in its error, with what to do about it.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber.
pub fn init(format: Format) {
    let filter = EnvFilter::try_from_env("HALLMARK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,rustls_platform_verifier=off"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        Format::Text => builder.init(),
        Format::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .init(),
    }
}
