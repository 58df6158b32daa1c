//! `signingkeys.json`: the signing keys `sign` can use, in notation's exact format so either
//! tool can read the other's file (reference §3):
//!
//! ```json
//! {"default": "name", "keys": [{"name": "name", "keyPath": "...", "certPath": "..."}]}
//! ```
//!
//! Plugin keys carry `id`, `pluginName` and `pluginConfig` instead of paths; they are kept
//! as they are even though hallmark cannot use them. The file is replaced atomically with mode
//! 0600: it points at private keys.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::fs_util::{WriteMode, write_atomic};
use crate::policy::init::pretty_json;
use crate::policy::statement::nullable;

/// One entry of `keys`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySuite {
    /// Key name, unique in the file.
    #[serde(default, deserialize_with = "nullable")]
    pub name: String,
    /// Private key file (local keys).
    #[serde(rename = "keyPath", default, skip_serializing_if = "Option::is_none")]
    pub key_path: Option<String>,
    /// Certificate chain file (local keys).
    #[serde(rename = "certPath", default, skip_serializing_if = "Option::is_none")]
    pub cert_path: Option<String>,
    /// Key id given to the plugin (plugin keys).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Plugin name (plugin keys).
    #[serde(
        rename = "pluginName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub plugin_name: Option<String>,
    /// Plugin configuration (plugin keys).
    #[serde(
        rename = "pluginConfig",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub plugin_config: Option<BTreeMap<String, String>>,
}

impl KeySuite {
    /// A local key: private key and certificate files.
    pub fn local(
        name: impl Into<String>,
        key_path: impl Into<String>,
        cert_path: impl Into<String>,
    ) -> Self {
        KeySuite {
            name: name.into(),
            key_path: Some(key_path.into()),
            cert_path: Some(cert_path.into()),
            id: None,
            plugin_name: None,
            plugin_config: None,
        }
    }

    /// Whether the key lives in a plugin rather than in local files.
    pub fn is_plugin(&self) -> bool {
        self.plugin_name.is_some()
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningKeys {
    /// Name of the key used when none is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// The keys, in the order they were added.
    #[serde(default, deserialize_with = "nullable")]
    pub keys: Vec<KeySuite>,
}

/// Reading, changing or writing `signingkeys.json` failed.
#[derive(Debug, Error)]
pub enum SigningKeysError {
    /// The file could not be read.
    #[error("failed to read {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("malformed signing keys file {}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// The file could not be written.
    #[error("failed to write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A key needs a name.
    #[error("signing key name cannot be empty")]
    EmptyName,
    /// A local key needs both paths; a plugin key needs an id.
    #[error("signing key {name:?} needs keyPath and certPath, or id and pluginName")]
    Incomplete {
        /// The key name.
        name: String,
    },
    /// The name is taken.
    #[error("signing key {name:?} already exists")]
    AlreadyExists {
        /// The key name.
        name: String,
    },
    /// No key has this name.
    #[error("signing key {name:?} not found; list keys with `hallmark key list`")]
    NotFound {
        /// The key name.
        name: String,
    },
    /// No name given and no default set.
    #[error("no signing key given and no default key set; pass --key or set a default")]
    NoDefault,
}

impl SigningKeys {
    /// Reads the file; a missing file is an empty set of keys.
    pub fn load(path: &Path) -> Result<Self, SigningKeysError> {
        let bytes = match fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(SigningKeys::default()),
            Err(source) => {
                return Err(SigningKeysError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        serde_json::from_slice(&bytes).map_err(|source| SigningKeysError::Malformed {
            path: path.to_owned(),
            source,
        })
    }

    /// The file's content: notation's JSON with four-space indentation.
    pub fn to_json(&self) -> Vec<u8> {
        pretty_json(self)
    }

    /// Replaces the file atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), SigningKeysError> {
        write_atomic(path, &self.to_json(), 0o600, WriteMode::Replace).map_err(|source| {
            SigningKeysError::Write {
                path: path.to_owned(),
                source,
            }
        })
    }

    /// Adds a key; with `make_default` it also becomes the default.
    pub fn add(&mut self, key: KeySuite, make_default: bool) -> Result<(), SigningKeysError> {
        if key.name.trim().is_empty() {
            return Err(SigningKeysError::EmptyName);
        }
        let local = key.key_path.as_deref().is_some_and(|p| !p.is_empty())
            && key.cert_path.as_deref().is_some_and(|p| !p.is_empty());
        let plugin = key.id.is_some() && key.plugin_name.is_some();
        if !local && !plugin {
            return Err(SigningKeysError::Incomplete { name: key.name });
        }
        if self.get(&key.name).is_some() {
            return Err(SigningKeysError::AlreadyExists { name: key.name });
        }
        if make_default {
            self.default = Some(key.name.clone());
        }
        self.keys.push(key);
        Ok(())
    }

    /// Makes an existing key the default.
    pub fn set_default(&mut self, name: &str) -> Result<(), SigningKeysError> {
        if self.get(name).is_none() {
            return Err(SigningKeysError::NotFound {
                name: name.to_owned(),
            });
        }
        self.default = Some(name.to_owned());
        Ok(())
    }

    /// Removes a key (and the default mark if it was the default). Returns the entry; the
    /// key files themselves are left on disk.
    pub fn remove(&mut self, name: &str) -> Result<KeySuite, SigningKeysError> {
        let index = self
            .keys
            .iter()
            .position(|k| k.name == name)
            .ok_or_else(|| SigningKeysError::NotFound {
                name: name.to_owned(),
            })?;
        if self.default.as_deref() == Some(name) {
            self.default = None;
        }
        Ok(self.keys.remove(index))
    }

    /// The key of that name.
    pub fn get(&self, name: &str) -> Option<&KeySuite> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The default key, if one is set and exists.
    pub fn default_key(&self) -> Option<&KeySuite> {
        self.default.as_deref().and_then(|d| self.get(d))
    }

    /// The key to sign with: the named one, else the default.
    pub fn resolve(&self, name: Option<&str>) -> Result<&KeySuite, SigningKeysError> {
        match name {
            Some(name) => self.get(name).ok_or_else(|| SigningKeysError::NotFound {
                name: name.to_owned(),
            }),
            None => match self.default.as_deref() {
                Some(d) => self
                    .get(d)
                    .ok_or_else(|| SigningKeysError::NotFound { name: d.to_owned() }),
                None => Err(SigningKeysError::NoDefault),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTATION_FILE: &str = r#"{
    "default": "wabbit-networks",
    "keys": [
        {
            "name": "wabbit-networks",
            "keyPath": "/home/demo/.config/notation/localkeys/wabbit-networks.key",
            "certPath": "/home/demo/.config/notation/localkeys/wabbit-networks.crt"
        },
        {
            "name": "kms",
            "id": "arn:aws:kms:us-east-1:1:key/x",
            "pluginName": "com.example.kms",
            "pluginConfig": {
                "region": "us-east-1"
            }
        }
    ]
}
"#;

    #[test]
    fn notation_file_round_trips_byte_for_byte() {
        let keys: SigningKeys = serde_json::from_str(NOTATION_FILE).expect("parse");
        assert_eq!(
            keys.default_key().map(|k| k.name.as_str()),
            Some("wabbit-networks")
        );
        assert!(keys.get("kms").expect("kms").is_plugin());
        assert_eq!(
            String::from_utf8(keys.to_json()).expect("utf8"),
            NOTATION_FILE
        );
    }

    #[test]
    fn add_update_delete_and_save() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("signingkeys.json");
        let mut keys = SigningKeys::load(&path).expect("missing file is empty");
        assert!(keys.keys.is_empty());

        keys.add(KeySuite::local("a", "/k/a.key", "/k/a.crt"), false)
            .expect("add a");
        keys.add(KeySuite::local("b", "/k/b.key", "/k/b.crt"), true)
            .expect("add b");
        assert!(matches!(
            keys.add(KeySuite::local("a", "/x", "/y"), false),
            Err(SigningKeysError::AlreadyExists { .. })
        ));
        assert!(matches!(
            keys.add(KeySuite::local("", "/x", "/y"), false),
            Err(SigningKeysError::EmptyName)
        ));
        assert_eq!(keys.resolve(None).expect("default").name, "b");
        keys.set_default("a").expect("set default");
        assert!(keys.set_default("zzz").is_err());
        keys.save(&path).expect("save");

        let mut reloaded = SigningKeys::load(&path).expect("reload");
        assert_eq!(reloaded, keys);
        reloaded.remove("a").expect("remove");
        assert_eq!(reloaded.default, None);
        assert!(matches!(
            reloaded.resolve(None),
            Err(SigningKeysError::NoDefault)
        ));
        assert!(reloaded.remove("a").is_err());

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
