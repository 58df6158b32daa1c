//! Where registry credentials live: Docker's `config.json` (`auths`, `credsStore`,
//! `credHelpers`) and the containers tools' `auth.json` (same format), so that an existing
//! `docker login` or `podman login` just works, and `hallmark login` writes the same way.
//!
//! Files searched, first match wins: `$REGISTRY_AUTH_FILE`, else
//! `$XDG_RUNTIME_DIR/containers/auth.json`; then `$XDG_CONFIG_HOME/containers/auth.json`
//! (default `~/.config`); then `$DOCKER_CONFIG/config.json` (default `~/.docker`). A file's
//! `credHelpers` entry for the host wins over its `auths` entry, which wins over its
//! `credsStore`. Helpers speak Docker's credential-helper protocol: the server on stdin,
//! `{"Username","Secret"}` on stdout, where the username `<token>` marks an identity token.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};

/// Docker Hub's key in credential files and helpers.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// A secret that authenticates to a registry.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A user name and password (or access token used as a password).
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// An OAuth2 refresh token from an earlier login, sent to the token server.
    IdentityToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// A credential and where it was found, for messages that say what was tried.
#[derive(Debug, Clone)]
pub struct Found {
    /// The credential.
    pub credential: Credential,
    /// Where it came from, e.g. `/root/.docker/config.json (auths)`.
    pub source: String,
}

impl Found {
    /// "user 'x' from <source>" or "an identity token from <source>".
    pub fn describe(&self) -> String {
        match &self.credential {
            Credential::Basic { username, .. } => format!("user '{username}' from {}", self.source),
            Credential::IdentityToken(_) => format!("an identity token from {}", self.source),
        }
    }
}

/// The credential files of this user, in search order.
#[derive(Debug, Clone)]
pub struct CredentialStore {
    files: Vec<PathBuf>,
    write_to: PathBuf,
}

/// The host part of a credentials key: no scheme, no path, Docker Hub's aliases folded.
fn normalize(key: &str) -> &str {
    let key = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = key.split('/').next().unwrap_or(key);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io",
        h => h,
    }
}

/// The key a helper or file uses for `registry`.
fn server_key(registry: &str) -> &str {
    if normalize(registry) == "docker.io" {
        DOCKER_HUB_KEY
    } else {
        registry
    }
}

impl CredentialStore {
    /// The files named by the environment, as described in the module docs.
    pub fn from_env() -> CredentialStore {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = env("HOME").unwrap_or_else(|| PathBuf::from("/"));
        let mut files = Vec::new();
        let auth_file = env("REGISTRY_AUTH_FILE");
        match &auth_file {
            Some(f) => files.push(f.clone()),
            None => {
                if let Some(run) = env("XDG_RUNTIME_DIR") {
                    files.push(run.join("containers/auth.json"));
                }
            }
        }
        let config_home = env("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
        files.push(config_home.join("containers/auth.json"));
        let docker = env("DOCKER_CONFIG").unwrap_or_else(|| home.join(".docker"));
        let docker_config = docker.join("config.json");
        files.push(docker_config.clone());
        CredentialStore {
            files,
            write_to: auth_file.unwrap_or(docker_config),
        }
    }

    /// A store that reads and writes only `file`.
    pub fn with_file(file: PathBuf) -> CredentialStore {
        CredentialStore {
            files: vec![file.clone()],
            write_to: file,
        }
    }

    /// The file `login` writes to.
    pub fn login_file(&self) -> &Path {
        &self.write_to
    }

    /// The files searched, for messages.
    pub fn searched(&self) -> String {
        let names: Vec<String> = self.files.iter().map(|p| p.display().to_string()).collect();
        names.join(", ")
    }

    /// The credential for `registry` (a `host[:port]`), if any file or helper has one.
    pub fn get(&self, registry: &str) -> Result<Option<Found>> {
        for file in &self.files {
            let Some(config) = read_config(file)? else {
                continue;
            };
            if let Some(found) = lookup(file, &config, registry)? {
                tracing::debug!(%registry, source = %found.source, "credentials found");
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Saves `credential` for `registry` the way Docker does: through the file's helper for
    /// that host or its `credsStore` if it names one, else base64 in `auths`. Returns where.
    pub fn store(&self, registry: &str, credential: &Credential) -> Result<String> {
        let file = &self.write_to;
        let mut config = read_config(file)?.unwrap_or_else(|| json!({}));
        let key = server_key(registry);
        if let Some(helper) = helper_for(&config, registry) {
            let (username, secret) = match credential {
                Credential::Basic { username, password } => (username.as_str(), password),
                Credential::IdentityToken(t) => ("<token>", t),
            };
            let input = json!({"ServerURL": key, "Username": username, "Secret": secret});
            run_helper(&helper, "store", key, &input.to_string())?;
            return Ok(format!("docker-credential-{helper}"));
        }
        let entry = match credential {
            Credential::Basic { username, password } => {
                json!({"auth": STANDARD.encode(format!("{username}:{password}"))})
            }
            Credential::IdentityToken(t) => json!({"auth": "", "identitytoken": t}),
        };
        let root = as_object(&mut config);
        let auths = root.entry("auths").or_insert_with(|| json!({}));
        as_object(auths).insert(key.to_owned(), entry);
        write_config(file, &config)?;
        Ok(file.display().to_string())
    }

    /// Removes the credential for `registry` from the login file (and its helper). Returns
    /// whether there was one.
    pub fn erase(&self, registry: &str) -> Result<bool> {
        let file = &self.write_to;
        let Some(mut config) = read_config(file)? else {
            return Ok(false);
        };
        let key = server_key(registry);
        let mut removed = false;
        if let Some(helper) = helper_for(&config, registry) {
            removed = run_helper(&helper, "erase", key, key)?.is_some();
        }
        if let Some(auths) = config.get_mut("auths").and_then(Value::as_object_mut) {
            let keys: Vec<String> = auths
                .keys()
                .filter(|k| normalize(k) == normalize(registry))
                .cloned()
                .collect();
            for k in keys {
                auths.remove(&k);
                removed = true;
            }
        }
        if removed {
            write_config(file, &config)?;
        }
        Ok(removed)
    }
}

fn as_object(v: &mut Value) -> &mut Map<String, Value> {
    if !v.is_object() {
        *v = json!({});
    }
    match v {
        Value::Object(m) => m,
        // Replaced by an object just above.
        _ => unreachable!("value was just made an object"),
    }
}

fn read_config(path: &Path) -> Result<Option<Value>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("cannot read", path)(e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| Error::Json {
            what: path.display().to_string(),
            source,
        })
}

/// Writes the file atomically, readable by its owner only.
fn write_config(path: &Path, config: &Value) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(Error::io("cannot create", dir))?;
    let tmp = dir.join(format!(".{}.tmp", uuid::Uuid::new_v4()));
    let mut text = serde_json::to_vec_pretty(config).map_err(|source| Error::Json {
        what: path.display().to_string(),
        source,
    })?;
    text.push(b'\n');
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(&tmp)
        .map_err(Error::io("cannot create", &tmp))?;
    f.write_all(&text)
        .and_then(|()| f.sync_all())
        .map_err(Error::io("cannot write", &tmp))?;
    std::fs::rename(&tmp, path).map_err(Error::io("cannot replace", path))
}

/// The helper that holds credentials for `registry` in this file, if any.
fn helper_for(config: &Value, registry: &str) -> Option<String> {
    let per_host = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|m| {
            m.iter()
                .find(|(k, _)| normalize(k) == normalize(registry))
                .and_then(|(_, v)| v.as_str())
        });
    per_host
        .or_else(|| config.get("credsStore").and_then(Value::as_str))
        .filter(|h| !h.is_empty())
        .map(str::to_owned)
}

fn lookup(file: &Path, config: &Value, registry: &str) -> Result<Option<Found>> {
    let source = |kind: &str| format!("{} ({kind})", file.display());
    let helpers = config.get("credHelpers").and_then(Value::as_object);
    if let Some(helper) = helpers.and_then(|m| {
        m.iter()
            .find(|(k, _)| normalize(k) == normalize(registry))
            .and_then(|(_, v)| v.as_str())
    }) {
        return from_helper(helper, registry, source(&format!("credHelpers: {helper}")));
    }

    let auths = config.get("auths").and_then(Value::as_object);
    let entry = auths.and_then(|m| {
        m.iter()
            .find(|(k, _)| normalize(k) == normalize(registry))
            .map(|(_, v)| v)
    });
    if let Some(entry) = entry {
        if let Some(token) = entry.get("identitytoken").and_then(Value::as_str)
            && !token.is_empty()
        {
            return Ok(Some(Found {
                credential: Credential::IdentityToken(token.to_owned()),
                source: source("auths"),
            }));
        }
        if let Some(auth) = entry.get("auth").and_then(Value::as_str)
            && !auth.is_empty()
        {
            let bad = || Error::BadAuthEntry {
                path: file.to_path_buf(),
                server: registry.to_owned(),
            };
            let decoded = base64::engine::general_purpose::GeneralPurpose::new(
                &base64::alphabet::STANDARD,
                base64::engine::general_purpose::GeneralPurposeConfig::new()
                    .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent),
            )
            .decode(auth.trim())
            .map_err(|_| bad())?;
            let text = String::from_utf8(decoded).map_err(|_| bad())?;
            let (username, password) = text.split_once(':').ok_or_else(bad)?;
            return Ok(Some(Found {
                credential: Credential::Basic {
                    username: username.to_owned(),
                    password: password.to_owned(),
                },
                source: source("auths"),
            }));
        }
    }

    match config.get("credsStore").and_then(Value::as_str) {
        Some(store) if !store.is_empty() => {
            from_helper(store, registry, source(&format!("credsStore: {store}")))
        }
        _ => Ok(None),
    }
}

fn from_helper(helper: &str, registry: &str, source: String) -> Result<Option<Found>> {
    let key = server_key(registry);
    let Some(out) = run_helper(helper, "get", key, key)? else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "Username")]
        username: String,
        #[serde(rename = "Secret")]
        secret: String,
    }
    let answer: Answer = serde_json::from_slice(&out).map_err(|e| Error::Helper {
        helper: helper.to_owned(),
        action: "get",
        server: key.to_owned(),
        source: Box::new(e),
    })?;
    let credential = if answer.username == "<token>" {
        Credential::IdentityToken(answer.secret)
    } else {
        Credential::Basic {
            username: answer.username,
            password: answer.secret,
        }
    };
    Ok(Some(Found { credential, source }))
}

/// Runs `docker-credential-<helper> <action>` with `input` on stdin. `Ok(None)` when a `get`
/// or `erase` finds nothing (the protocol's "credentials not found" answer).
fn run_helper(
    helper: &str,
    action: &'static str,
    key: &str,
    input: &str,
) -> Result<Option<Vec<u8>>> {
    let fail = |source: Box<dyn std::error::Error + Send + Sync>| Error::Helper {
        helper: helper.to_owned(),
        action,
        server: key.to_owned(),
        source,
    };
    let program = format!("docker-credential-{helper}");
    let mut child = Command::new(&program)
        .arg(action)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(Box::new(e)))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(input.as_bytes())
            .map_err(|e| fail(Box::new(e)))?;
    }
    let out = child.wait_with_output().map_err(|e| fail(Box::new(e)))?;
    if out.status.success() {
        return Ok(Some(out.stdout));
    }
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned()
        + String::from_utf8_lossy(&out.stderr).trim();
    if (action == "get" || action == "erase") && said.contains("credentials not found") {
        return Ok(None);
    }
    Err(fail(said.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_to_hosts() {
        for (key, host) in [
            ("https://index.docker.io/v1/", "docker.io"),
            ("registry-1.docker.io", "docker.io"),
            ("http://127.0.0.1:5000/v2/", "127.0.0.1:5000"),
            ("ghcr.io", "ghcr.io"),
            ("quay.io/org", "quay.io"),
        ] {
            assert_eq!(normalize(key), host, "{key}");
        }
    }

    #[test]
    fn login_writes_what_lookup_reads() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("config.json");
        std::fs::write(&file, r#"{"auths": {}, "other": 1}"#).expect("seed");
        let store = CredentialStore::with_file(file.clone());
        let cred = Credential::Basic {
            username: "u".into(),
            password: "p:w".into(),
        };
        store.store("reg.example:5000", &cred).expect("store");
        let found = store.get("reg.example:5000").expect("get").expect("found");
        assert_eq!(found.credential, cred);
        let kept: Value =
            serde_json::from_slice(&std::fs::read(&file).expect("read")).expect("json");
        assert_eq!(kept["other"], 1);
        assert!(store.erase("reg.example:5000").expect("erase"));
        assert!(store.get("reg.example:5000").expect("get").is_none());
    }

    #[test]
    fn identity_tokens_and_bad_entries() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("auth.json");
        std::fs::write(
            &file,
            r#"{"auths": {"https://index.docker.io/v1/": {"identitytoken": "t"},
                          "bad.io": {"auth": "!!!"}}}"#,
        )
        .expect("seed");
        let store = CredentialStore::with_file(file);
        let hub = store.get("docker.io").expect("get").expect("found");
        assert_eq!(hub.credential, Credential::IdentityToken("t".into()));
        assert!(matches!(
            store.get("bad.io"),
            Err(Error::BadAuthEntry { .. })
        ));
        assert!(store.get("other.io").expect("get").is_none());
    }
}
