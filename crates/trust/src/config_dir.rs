//! The configuration directory, in notation's layout (reference §3, "Config directory"), so
//! that a notation directory can be used as it is and vice versa:
//!
//! ```text
//! <root>/
//!   config.json               registry settings
//!   signingkeys.json          signing keys (see `signing_keys`)
//!   localkeys/<name>.key|.crt keys and certificates made by `cert generate-test`
//!   trustpolicy.oci.json      OCI trust policy (notation falls back to trustpolicy.json)
//!   trustpolicy.blob.json     blob trust policy
//!   truststore/x509/{ca,signingAuthority,tsa}/<store>/
//! ```
//!
//! The root is chosen explicitly, else from `HALLMARK_CONFIG_DIR`, else
//! `$XDG_CONFIG_HOME/hallmark`, else `$HOME/.config/hallmark`. Hallmark does not read
//! notation's own directory implicitly: trust decisions come from one place the user chose.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::fs_util::{WriteMode, write_atomic};
use crate::policy::{
    BlobTrustPolicyDocument, OciTrustPolicyDocument, PolicyError, PolicyWriteError,
    QUICKSTART_LINK, write_policy,
};
use crate::trust_store::TrustStore;

/// Environment variable naming the configuration directory.
pub const ENV_CONFIG_DIR: &str = "HALLMARK_CONFIG_DIR";

/// OCI policy file name.
pub const OCI_POLICY_FILE: &str = "trustpolicy.oci.json";
/// Legacy OCI policy file name, read when [`OCI_POLICY_FILE`] is absent.
pub const LEGACY_OCI_POLICY_FILE: &str = "trustpolicy.json";
/// Blob policy file name.
pub const BLOB_POLICY_FILE: &str = "trustpolicy.blob.json";
/// Signing keys file name.
pub const SIGNING_KEYS_FILE: &str = "signingkeys.json";

/// A configuration directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigDir {
    /// The directory itself.
    pub root: PathBuf,
}

/// No configuration directory could be determined.
#[derive(Debug, Error)]
pub enum ConfigDirError {
    /// None of the explicit path, `HALLMARK_CONFIG_DIR`, `XDG_CONFIG_HOME` or `HOME` is set.
    #[error(
        "cannot determine the configuration directory: set HALLMARK_CONFIG_DIR or HOME, or \
         pass the directory explicitly"
    )]
    NoHome,
}

/// A policy file could not be read, validated or written.
#[derive(Debug, Error)]
pub enum PolicyFileError {
    /// There is no policy file.
    #[error(
        "trust policy is not present at {}; import one with `hallmark policy import FILE`. \
         To create a trust policy, see: {QUICKSTART_LINK}",
        path.display()
    )]
    NotPresent {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// The policy path is a directory or a symlink.
    #[error(
        "trust policy {} is not a regular file (symlinks are not supported)",
        path.display()
    )]
    NotARegularFile {
        /// The path.
        path: PathBuf,
    },
    /// The file could not be read.
    #[error("unable to read trust policy {}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not a valid policy.
    #[error("existing trust policy configuration {} is invalid", path.display())]
    Invalid {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: Box<PolicyError>,
    },
    /// The document to import is not a valid policy.
    #[error("the trust policy to import is invalid")]
    ImportInvalid {
        /// What is wrong.
        #[source]
        source: Box<PolicyError>,
    },
    /// Writing failed.
    #[error(transparent)]
    Write(#[from] PolicyWriteError),
}

/// Writing a key pair under `localkeys/` failed.
#[derive(Debug, Error)]
#[error("failed to write {}", path.display())]
pub struct KeyWriteError {
    /// The file.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: io::Error,
}

impl ConfigDir {
    /// A configuration directory at `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ConfigDir { root: root.into() }
    }

    /// Chooses the directory from `explicit`, then the process environment.
    pub fn locate(explicit: Option<PathBuf>) -> Result<Self, ConfigDirError> {
        Self::locate_with(explicit, |key| std::env::var_os(key))
    }

    /// [`ConfigDir::locate`] with the environment supplied by the caller (for tests and for
    /// callers that sanitise their environment).
    pub fn locate_with(
        explicit: Option<PathBuf>,
        env: impl Fn(&str) -> Option<OsString>,
    ) -> Result<Self, ConfigDirError> {
        if let Some(root) = explicit {
            return Ok(ConfigDir::new(root));
        }
        if let Some(dir) = non_empty(env(ENV_CONFIG_DIR)) {
            return Ok(ConfigDir::new(dir));
        }
        user_config_dir(&env)
            .map(|d| ConfigDir::new(d.join("hallmark")))
            .ok_or(ConfigDirError::NoHome)
    }

    /// notation's own default directory (Go's `os.UserConfigDir()/notation`), for messages
    /// that tell users where their notation configuration lives.
    pub fn notation_default() -> Option<PathBuf> {
        user_config_dir(&|key: &str| std::env::var_os(key)).map(|d| d.join("notation"))
    }

    /// `truststore/x509`.
    pub fn truststore_dir(&self) -> PathBuf {
        self.root.join("truststore").join("x509")
    }

    /// The trust store of this directory.
    pub fn trust_store(&self) -> TrustStore {
        TrustStore::new(self.truststore_dir())
    }

    /// `localkeys/`.
    pub fn localkeys_dir(&self) -> PathBuf {
        self.root.join("localkeys")
    }

    /// `signingkeys.json`.
    pub fn signing_keys_path(&self) -> PathBuf {
        self.root.join(SIGNING_KEYS_FILE)
    }

    /// `config.json`.
    pub fn config_json_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    /// `trustpolicy.blob.json`.
    pub fn blob_policy_path(&self) -> PathBuf {
        self.root.join(BLOB_POLICY_FILE)
    }

    /// The OCI policy file to read: `trustpolicy.oci.json`, else `trustpolicy.json` when only
    /// that exists (notation's fallback), else `trustpolicy.oci.json`.
    pub fn oci_policy_path(&self) -> PathBuf {
        let current = self.root.join(OCI_POLICY_FILE);
        let legacy = self.root.join(LEGACY_OCI_POLICY_FILE);
        if fs::symlink_metadata(&current).is_err() && fs::symlink_metadata(&legacy).is_ok() {
            legacy
        } else {
            current
        }
    }

    /// The OCI policy file's bytes, as stored (for `policy show`, even when invalid).
    pub fn read_oci_policy(&self) -> Result<(PathBuf, Vec<u8>), PolicyFileError> {
        let path = self.oci_policy_path();
        read_policy_file(&path).map(|bytes| (path, bytes))
    }

    /// The OCI policy, validated.
    pub fn load_oci_policy(&self) -> Result<OciTrustPolicyDocument, PolicyFileError> {
        let (path, bytes) = self.read_oci_policy()?;
        OciTrustPolicyDocument::parse(&bytes).map_err(|source| PolicyFileError::Invalid {
            path,
            source: Box::new(source),
        })
    }

    /// The blob policy file's bytes, as stored.
    pub fn read_blob_policy(&self) -> Result<(PathBuf, Vec<u8>), PolicyFileError> {
        let path = self.blob_policy_path();
        read_policy_file(&path).map(|bytes| (path, bytes))
    }

    /// The blob policy, validated.
    pub fn load_blob_policy(&self) -> Result<BlobTrustPolicyDocument, PolicyFileError> {
        let (path, bytes) = self.read_blob_policy()?;
        BlobTrustPolicyDocument::parse(&bytes).map_err(|source| PolicyFileError::Invalid {
            path,
            source: Box::new(source),
        })
    }

    /// Validates `bytes` as an OCI policy and stores them unchanged as `trustpolicy.oci.json`
    /// (replacing an existing file only with `force`).
    pub fn import_oci_policy(&self, bytes: &[u8], force: bool) -> Result<PathBuf, PolicyFileError> {
        OciTrustPolicyDocument::parse(bytes).map_err(|source| PolicyFileError::ImportInvalid {
            source: Box::new(source),
        })?;
        let path = self.root.join(OCI_POLICY_FILE);
        write_policy(&path, bytes, force)?;
        Ok(path)
    }

    /// Validates `bytes` as a blob policy and stores them unchanged.
    pub fn import_blob_policy(
        &self,
        bytes: &[u8],
        force: bool,
    ) -> Result<PathBuf, PolicyFileError> {
        BlobTrustPolicyDocument::parse(bytes).map_err(|source| PolicyFileError::ImportInvalid {
            source: Box::new(source),
        })?;
        let path = self.blob_policy_path();
        write_policy(&path, bytes, force)?;
        Ok(path)
    }

    /// Writes `localkeys/<name>.key` (mode 0600) and `localkeys/<name>.crt` (0644), as
    /// `cert generate-test` does. Existing files are kept unless `overwrite`.
    pub fn write_local_key_pair(
        &self,
        name: &str,
        key_pem: &[u8],
        cert_pem: &[u8],
        overwrite: bool,
    ) -> Result<(PathBuf, PathBuf), KeyWriteError> {
        let dir = self.localkeys_dir();
        let key_path = dir.join(format!("{name}.key"));
        let cert_path = dir.join(format!("{name}.crt"));
        let how = if overwrite {
            WriteMode::Replace
        } else {
            WriteMode::CreateNew
        };
        write_atomic(&key_path, key_pem, 0o600, how).map_err(|source| KeyWriteError {
            path: key_path.clone(),
            source,
        })?;
        write_atomic(&cert_path, cert_pem, 0o644, how).map_err(|source| KeyWriteError {
            path: cert_path.clone(),
            source,
        })?;
        Ok((key_path, cert_path))
    }
}

fn read_policy_file(path: &Path) -> Result<Vec<u8>, PolicyFileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => {
            return Err(PolicyFileError::NotARegularFile {
                path: path.to_owned(),
            });
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(PolicyFileError::NotPresent {
                path: path.to_owned(),
            });
        }
        Err(source) => {
            return Err(PolicyFileError::Read {
                path: path.to_owned(),
                source,
            });
        }
    }
    fs::read(path).map_err(|source| PolicyFileError::Read {
        path: path.to_owned(),
        source,
    })
}

fn non_empty(value: Option<OsString>) -> Option<PathBuf> {
    value.filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Go's `os.UserConfigDir()`: `$XDG_CONFIG_HOME` (absolute only) or `$HOME/.config` on Unix,
/// `$HOME/Library/Application Support` on macOS, `%AppData%` on Windows.
fn user_config_dir(env: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if cfg!(windows) {
        return non_empty(env("AppData"));
    }
    if cfg!(target_os = "macos") {
        return non_empty(env("HOME")).map(|h| h.join("Library").join("Application Support"));
    }
    if let Some(xdg) = non_empty(env("XDG_CONFIG_HOME")).filter(|p| p.is_absolute()) {
        return Some(xdg);
    }
    non_empty(env("HOME")).map(|h| h.join(".config"))
}

#[cfg(all(test, unix, not(target_os = "macos")))]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<OsString> + 'a {
        move |key| {
            vars.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn locate_order() {
        let all = [
            ("HALLMARK_CONFIG_DIR", "/h"),
            ("XDG_CONFIG_HOME", "/x"),
            ("HOME", "/home/u"),
        ];
        let explicit = ConfigDir::locate_with(Some("/e".into()), env(&all)).expect("explicit");
        assert_eq!(explicit.root, PathBuf::from("/e"));
        assert_eq!(
            ConfigDir::locate_with(None, env(&all)).expect("env").root,
            PathBuf::from("/h")
        );
        let xdg = ConfigDir::locate_with(None, env(&all[1..])).expect("xdg");
        assert_eq!(xdg.root, PathBuf::from("/x/hallmark"));
        let home = ConfigDir::locate_with(None, env(&all[2..])).expect("home");
        assert_eq!(home.root, PathBuf::from("/home/u/.config/hallmark"));
        let relative_xdg = [("XDG_CONFIG_HOME", "rel"), ("HOME", "/home/u")];
        let home = ConfigDir::locate_with(None, env(&relative_xdg)).expect("home");
        assert_eq!(home.root, PathBuf::from("/home/u/.config/hallmark"));
        assert!(ConfigDir::locate_with(None, env(&[])).is_err());
    }

    #[test]
    fn oci_policy_falls_back_to_legacy_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ConfigDir::new(dir.path());
        assert!(matches!(
            config.read_oci_policy(),
            Err(PolicyFileError::NotPresent { .. })
        ));
        fs::write(dir.path().join(LEGACY_OCI_POLICY_FILE), b"{}").expect("write");
        assert_eq!(
            config.oci_policy_path(),
            dir.path().join(LEGACY_OCI_POLICY_FILE)
        );
        fs::write(dir.path().join(OCI_POLICY_FILE), b"{}").expect("write");
        assert_eq!(config.oci_policy_path(), dir.path().join(OCI_POLICY_FILE));
    }
}
