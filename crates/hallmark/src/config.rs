//! The `serve` configuration file (TOML). Every setting has a default, so the file and each
//! key in it are optional; command-line flags override the file.
//!
//! ```toml
//! addr = "127.0.0.1:5000"
//! root = "/var/lib/hallmark"
//!
//! [registry]
//! manifest_max_bytes = 4194304
//! chunk_min_length = 5242880
//! referrers_page_size = 1000
//!
//! [storage]
//! manifest_cache_bytes = 33554432
//! stale_upload_hours = 168
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_registry::RegistryConfig;
use serde::Deserialize;

use crate::UsageError;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on.
    pub addr: Option<SocketAddr>,
    /// Storage root directory.
    pub root: Option<PathBuf>,
    /// Protocol settings.
    pub registry: RegistryConfig,
    /// Filesystem store settings.
    pub storage: StorageConfig,
}

/// `[storage]`.
#[derive(Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Bytes of manifests cached in memory.
    pub manifest_cache_bytes: usize,
    /// Upload sessions idle this many hours are removed at start-up.
    pub stale_upload_hours: u64,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            manifest_cache_bytes: 32 << 20,
            stale_upload_hours: 7 * 24,
        }
    }
}

impl Config {
    /// Reads a configuration file.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file {}", path.display()))?;
        toml::from_str(&text).map_err(|e| {
            UsageError(format!(
                "configuration file {} is invalid: {e}",
                path.display()
            ))
            .into()
        })
    }
}

/// Where data lives when neither `--root` nor the file says: the user's data directory.
pub fn default_root() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("hallmark").join("registry")
}
