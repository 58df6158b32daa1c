//! Starting each server the bench compares, every one on 127.0.0.1 with its own directory.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::procs::{Server, free_addr, locate};

/// Builds the release `hallmark` binary and returns its path.
pub fn build_hallmark() -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .context("xtask lives inside the workspace")?;
    let status = Command::new(cargo)
        .args(["build", "--release", "-p", "hallmark", "--bin", "hallmark"])
        .current_dir(workspace)
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building hallmark failed ({status})");
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace.join("target"));
    Ok(target.join("release").join("hallmark"))
}

/// `hallmark serve` on a fresh root under `dir`, with its default settings.
pub fn hallmark(bin: &Path, dir: &Path) -> Result<Server> {
    let root = dir.join("root");
    fs::create_dir_all(&root)?;
    let addr = free_addr()?;
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--addr", &addr.to_string(), "--root"])
        .arg(&root)
        .env_remove("HALLMARK_LOG");
    Server::start("hallmark", cmd, addr, "/v2/", &dir.join("log"))
}

/// Debian's `docker-registry` (distribution 2.8) with filesystem storage under `dir`. Its
/// request logging is off, so that it does no more per request than hallmark does.
pub fn distribution(dir: &Path) -> Result<Server> {
    let root = dir.join("root");
    fs::create_dir_all(&root)?;
    let addr = free_addr()?;
    let config = format!(
        "version: 0.1\n\
         log:\n  level: warn\n  accesslog:\n    disabled: true\n\
         storage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\n  \
         cache:\n    blobdescriptor: inmemory\n  maintenance:\n    uploadpurging:\n      \
         enabled: false\n\
         http:\n  addr: {addr}\n",
        root = root.display()
    );
    let config_path = dir.join("config.yml");
    fs::write(&config_path, config)?;
    let mut cmd = Command::new("docker-registry");
    cmd.arg("serve").arg(&config_path);
    Server::start("docker-registry", cmd, addr, "/v2/", &dir.join("log"))
}

/// The trivial server (this binary's `trivial-server`) answering with `body` everywhere.
pub fn trivial(dir: &Path, body: &[u8], media_type: &str) -> Result<Server> {
    fs::create_dir_all(dir)?;
    let body_path = dir.join("manifest.json");
    fs::write(&body_path, body)?;
    let addr = free_addr()?;
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        "trivial-server",
        "--addr",
        &addr.to_string(),
        "--media-type",
    ])
    .arg(media_type)
    .arg("--body")
    .arg(&body_path);
    Server::start("trivial server", cmd, addr, "/", &dir.join("log"))
}

/// nginx in the foreground, serving the files under `root` with `sendfile on`; its
/// configuration, pid file, logs and temporary directories all live in `dir`.
pub fn nginx(dir: &Path, root: &Path) -> Result<Server> {
    fs::create_dir_all(dir)?;
    let addr = free_addr()?;
    let d = dir.display();
    let config = format!(
        "daemon off;\n\
         master_process off;\n\
         worker_processes 1;\n\
         pid {d}/nginx.pid;\n\
         error_log {d}/error.log warn;\n\
         events {{ worker_connections 64; }}\n\
         http {{\n\
         \x20   access_log off;\n\
         \x20   sendfile on;\n\
         \x20   tcp_nopush on;\n\
         \x20   default_type application/octet-stream;\n\
         \x20   client_body_temp_path {d}/client_body;\n\
         \x20   server {{\n\
         \x20       listen {addr};\n\
         \x20       root {root};\n\
         \x20       location = /ready {{ return 200 \"ok\"; }}\n\
         \x20       location / {{ }}\n\
         \x20   }}\n\
         }}\n",
        root = root.display()
    );
    let config_path = dir.join("nginx.conf");
    fs::write(&config_path, config)?;
    let program = locate("nginx").context("nginx is not installed")?;
    let mut cmd = Command::new(program);
    cmd.arg("-p")
        .arg(dir)
        .arg("-e")
        .arg(dir.join("error.log"))
        .arg("-c")
        .arg(&config_path);
    Server::start("nginx", cmd, addr, "/ready", &dir.join("log"))
}
