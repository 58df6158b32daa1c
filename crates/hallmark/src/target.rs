//! What the client commands share: the flags that say how to reach a registry (TLS, plain
//! HTTP, credentials, referrers mode), the client configuration file, and turning a
//! command-line reference into a [`Target`]: `registry/repo[:tag][@digest]`, or with
//! `--oci-layout`, `PATH[:tag][@digest]` naming an OCI image layout directory.
//!
//! The client configuration file is `$HALLMARK_CLIENT_CONFIG`, else
//! `$XDG_CONFIG_HOME/hallmark/client.toml` (default `~/.config`); every key is optional:
//!
//! ```toml
//! insecure_registries = ["registry.lan:5000"]   # reached over plain HTTP
//! ca_files = ["/etc/hallmark/lan-ca.pem"]       # trusted in addition to the system roots
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use hallmark_client::{
    Client, ClientConfig, Credential, CredentialStore, Layout, ReferrersMode, Target,
};
use hallmark_oci::{ImageRef, Reference};

use crate::UsageError;

/// How data is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Output {
    /// Lines for people.
    Text,
    /// One JSON document.
    Json,
}

/// Flags shared by every command that talks to a registry.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Use plain HTTP instead of HTTPS for every registry (cosign's `--allow-http-registry`).
    #[arg(long, alias = "allow-http-registry")]
    pub plain_http: bool,
    /// Extra CA certificate (PEM) to trust; repeatable.
    #[arg(long, value_name = "FILE")]
    pub ca_file: Vec<PathBuf>,
    /// Registry user name (with --password or --password-stdin).
    #[arg(short = 'u', long)]
    pub username: Option<String>,
    /// Registry password or token.
    #[arg(short = 'p', long)]
    pub password: Option<String>,
    /// Read the password from stdin.
    #[arg(long)]
    pub password_stdin: bool,
    /// Credentials file to use instead of the Docker and containers defaults.
    #[arg(long, value_name = "FILE")]
    pub registry_config: Option<PathBuf>,
    /// How referrers are listed and recorded: the API, the tag schema, or auto.
    #[arg(long, default_value = "auto", value_parser = parse_mode)]
    pub referrers_mode: ReferrersMode,
    /// Blobs transferred at once.
    #[arg(long, default_value_t = 6)]
    pub concurrency: usize,
    /// The password once read: stdin can be read only once.
    #[arg(skip)]
    password_read: std::sync::OnceLock<Option<String>>,
}

fn parse_mode(s: &str) -> Result<ReferrersMode, String> {
    s.parse()
}

/// The client configuration file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct FileConfig {
    insecure_registries: Vec<String>,
    ca_files: Vec<PathBuf>,
}

fn file_config() -> anyhow::Result<FileConfig> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let path = env("HALLMARK_CLIENT_CONFIG").or_else(|| {
        let base = env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))?;
        Some(base.join("hallmark/client.toml"))
    });
    let Some(path) = path.filter(|p| p.exists()) else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read client configuration {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        UsageError(format!(
            "client configuration {} is invalid: {e}",
            path.display()
        ))
        .into()
    })
}

impl ClientArgs {
    /// The password from `--password` or stdin, if any.
    pub fn password(&self) -> anyhow::Result<Option<String>> {
        if let Some(p) = self.password_read.get() {
            return Ok(p.clone());
        }
        let p = self.read_password()?;
        Ok(self.password_read.get_or_init(|| p).clone())
    }

    fn read_password(&self) -> anyhow::Result<Option<String>> {
        if self.password_stdin {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the password from stdin")?;
            return Ok(Some(text.trim_end_matches(['\n', '\r']).to_owned()));
        }
        Ok(self.password.clone())
    }

    /// The credential store: `--registry-config` or the defaults.
    pub fn store(&self) -> CredentialStore {
        match &self.registry_config {
            Some(f) => CredentialStore::with_file(f.clone()),
            None => CredentialStore::from_env(),
        }
    }

    /// A client; `--username`/`--password` apply to `registries`.
    pub fn client(&self, registries: &[&str]) -> anyhow::Result<Client> {
        self.client_with(registries, Vec::new())
    }

    /// A client as [`ClientArgs::client`], plus credentials for particular registries (they
    /// win over `--username`).
    pub fn client_with(
        &self,
        registries: &[&str],
        extra: Vec<(String, Credential)>,
    ) -> anyhow::Result<Client> {
        let file = file_config()?;
        let mut config = ClientConfig {
            plain_http: self.plain_http,
            insecure_registries: file.insecure_registries,
            credential_store: self.store(),
            referrers_mode: self.referrers_mode,
            concurrency: self.concurrency.max(1),
            ..ClientConfig::default()
        };
        config.ca_files = file.ca_files;
        config.ca_files.extend(self.ca_file.iter().cloned());
        if let Some(username) = &self.username {
            let password = self.password()?.ok_or_else(|| {
                UsageError("--username needs --password or --password-stdin".into())
            })?;
            for r in registries {
                let credential = Credential::Basic {
                    username: username.clone(),
                    password: password.clone(),
                };
                config.credentials.insert((*r).to_owned(), credential);
            }
        }
        config.credentials.extend(extra);
        Ok(Client::new(config)?)
    }
}

/// A parsed command-line reference.
#[derive(Debug, Clone)]
pub enum RefArg {
    /// `registry/repo[:tag][@digest]`.
    Remote(ImageRef),
    /// `PATH[:tag][@digest]` of an image layout.
    Layout(PathBuf, Option<Reference>),
}

impl RefArg {
    /// Parses `text`, as a layout reference when `layout` is set.
    pub fn parse(text: &str, layout: bool) -> anyhow::Result<RefArg> {
        if !layout {
            let r: ImageRef = text
                .parse()
                .map_err(|e| UsageError(format!("{e:#}: {text}")))?;
            return Ok(RefArg::Remote(r));
        }
        let bad = |e: &dyn std::fmt::Display| UsageError(format!("layout reference {text}: {e}"));
        if let Some((path, digest)) = text.rsplit_once('@') {
            let d = digest.parse().map_err(|e| bad(&e))?;
            return Ok(RefArg::Layout(
                PathBuf::from(path),
                Some(Reference::Digest(d)),
            ));
        }
        match text.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') && !path.is_empty() => {
                let t = tag.parse().map_err(|e| bad(&e))?;
                Ok(RefArg::Layout(PathBuf::from(path), Some(Reference::Tag(t))))
            }
            _ => Ok(RefArg::Layout(PathBuf::from(text), None)),
        }
    }

    /// The registry host of a remote reference.
    pub fn registry(&self) -> Option<&str> {
        match self {
            RefArg::Remote(r) => Some(&r.registry),
            RefArg::Layout(..) => None,
        }
    }

    /// The tag or digest, if given.
    pub fn reference(&self) -> Option<Reference> {
        match self {
            RefArg::Remote(r) => r.reference(),
            RefArg::Layout(_, r) => r.clone(),
        }
    }

    /// The tag or digest, or a usage error naming `what` needs one.
    pub fn require_reference(&self, what: &str) -> anyhow::Result<Reference> {
        self.reference()
            .ok_or_else(|| UsageError(format!("{what} needs a tag or digest in {self}")).into())
    }

    /// Opens the target; a layout is created when `create` is set.
    pub fn target(&self, client: &Client, create: bool) -> anyhow::Result<Target> {
        Ok(match self {
            RefArg::Remote(r) => {
                Target::Remote(client.repository(&r.registry, r.repository.clone()))
            }
            RefArg::Layout(path, _) => Target::Layout(open_layout(path, create)?),
        })
    }
}

fn open_layout(path: &Path, create: bool) -> anyhow::Result<Layout> {
    Ok(if create {
        Layout::open_or_create(path)?
    } else {
        Layout::open(path)?
    })
}

impl std::fmt::Display for RefArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RefArg::Remote(r) => r.fmt(f),
            RefArg::Layout(p, None) => write!(f, "{}", p.display()),
            RefArg::Layout(p, Some(Reference::Tag(t))) => write!(f, "{}:{t}", p.display()),
            RefArg::Layout(p, Some(Reference::Digest(d))) => write!(f, "{}@{d}", p.display()),
        }
    }
}

/// A multi-threaded runtime for one command.
/// The runtime for commands that move blobs: a worker per core, so hashing and transfers of
/// several blobs overlap.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The runtime for commands that make a few small requests (sign, verify, list, inspect):
/// one thread, so the process does not start workers it would leave idle.
pub fn small_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value).context("cannot encode the output")?;
    println!("{text}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_references() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let cases = [
            ("dir", "dir", None),
            ("a/b:v1", "a/b", Some("v1".to_owned())),
            ("./x:1/y", "./x:1/y", None),
            (&*format!("dir@{d}"), "dir", Some(d.to_owned())),
        ];
        for (text, path, reference) in cases {
            let RefArg::Layout(p, r) = RefArg::parse(text, true).expect(text) else {
                panic!("{text} should be a layout reference");
            };
            assert_eq!(p, PathBuf::from(path), "{text}");
            assert_eq!(r.map(|r| r.to_string()), reference, "{text}");
        }
    }
}
