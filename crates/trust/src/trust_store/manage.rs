//! Changing the trust store (`cert add`, `cert list`, `cert delete`, and finding which stores
//! hold a certificate).
//!
//! A file is validated with the same rules verification applies before it is copied in, so
//! the store never holds something that would make later verifications fail to load it.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use hallmark_x509::Certificate;

use super::{
    StoreType, TrustStore, TrustStoreError, check_store_rules, has_certificate_extension,
    is_valid_store_name,
};
use crate::fs_util::{WriteMode, write_atomic};

/// One certificate file of the trust store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreEntry {
    /// Store type.
    pub store_type: StoreType,
    /// Store name.
    pub store: String,
    /// File name inside the store.
    pub file: String,
    /// Full path.
    pub path: PathBuf,
}

impl TrustStore {
    /// Adds a certificate file to a store (created if needed), keeping its file name. The file
    /// must be `.pem`, `.crt` or `.cer` and pass the store rules. An existing file of the same
    /// name is replaced only with `overwrite`. Returns the stored path.
    pub fn add(
        &self,
        ty: StoreType,
        name: &str,
        file: &Path,
        overwrite: bool,
    ) -> Result<PathBuf, TrustStoreError> {
        if !is_valid_store_name(name) {
            return Err(TrustStoreError::InvalidStoreName {
                name: name.to_owned(),
            });
        }
        let file_name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| has_certificate_extension(n))
            .ok_or_else(|| TrustStoreError::UnsupportedExtension {
                path: file.to_owned(),
            })?;

        let bytes = fs::read(file).map_err(|source| TrustStoreError::ReadFile {
            path: file.to_owned(),
            source,
        })?;
        let certificates =
            Certificate::parse_many(&bytes).map_err(|source| TrustStoreError::Parse {
                path: file.to_owned(),
                source,
            })?;
        check_store_rules(ty, file, &certificates)?;

        let target = self.store_dir(ty, name).join(&file_name);
        let mode = if overwrite {
            WriteMode::Replace
        } else {
            WriteMode::CreateNew
        };
        write_atomic(&target, &bytes, 0o644, mode).map_err(|source| {
            if source.kind() == io::ErrorKind::AlreadyExists {
                TrustStoreError::AlreadyExists {
                    store_type: ty,
                    name: name.to_owned(),
                    file: file_name.clone(),
                }
            } else {
                TrustStoreError::Write {
                    path: target.clone(),
                    source,
                }
            }
        })?;
        Ok(target)
    }

    /// The certificate files of every store, optionally of one type and/or one store name,
    /// sorted by type, store and file. Stores are read with the loading rules, so a symlink
    /// or subdirectory is reported here as it would be at verification.
    pub fn list(
        &self,
        ty: Option<StoreType>,
        store: Option<&str>,
    ) -> Result<Vec<StoreEntry>, TrustStoreError> {
        let mut entries = Vec::new();
        for store_type in StoreType::ALL
            .into_iter()
            .filter(|t| ty.is_none_or(|x| x == *t))
        {
            for name in self.store_names(store_type)? {
                if store.is_some_and(|s| s != name) {
                    continue;
                }
                for path in self.certificate_files(store_type, &name)? {
                    let file = path.file_name().map(|n| n.to_string_lossy().into_owned());
                    entries.push(StoreEntry {
                        store_type,
                        store: name.clone(),
                        file: file.unwrap_or_default(),
                        path,
                    });
                }
            }
        }
        Ok(entries)
    }

    /// Names of the existing stores of one type, sorted. Entries that are not valid store
    /// names are skipped: no policy can refer to them.
    pub fn store_names(&self, ty: StoreType) -> Result<Vec<String>, TrustStoreError> {
        let dir = self.root.join(ty.as_str());
        let read = match fs::read_dir(&dir) {
            Ok(read) => read,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(TrustStoreError::ReadDir { path: dir, source }),
        };
        let mut names = Vec::new();
        for entry in read {
            let entry = entry.map_err(|source| TrustStoreError::ReadDir {
                path: dir.clone(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if is_valid_store_name(&name) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Deletes one certificate file from a store.
    pub fn delete_file(
        &self,
        ty: StoreType,
        name: &str,
        file: &str,
    ) -> Result<PathBuf, TrustStoreError> {
        let files = self.certificate_files(ty, name)?;
        let path = files
            .into_iter()
            .find(|p| p.file_name().is_some_and(|n| n == file))
            .ok_or_else(|| TrustStoreError::FileNotFound {
                store_type: ty,
                name: name.to_owned(),
                file: file.to_owned(),
            })?;
        fs::remove_file(&path).map_err(|source| TrustStoreError::Write {
            path: path.clone(),
            source,
        })?;
        Ok(path)
    }

    /// Deletes a whole store with its certificates. Returns the files that were in it.
    pub fn delete_store(
        &self,
        ty: StoreType,
        name: &str,
    ) -> Result<Vec<StoreEntry>, TrustStoreError> {
        let entries = self.list(Some(ty), Some(name))?;
        // `list` of a missing store is empty; deleting it is an error the user should see.
        let dir = self.checked_store_dir(ty, name)?;
        fs::remove_dir_all(&dir).map_err(|source| TrustStoreError::Write { path: dir, source })?;
        Ok(entries)
    }

    /// Every store file holding a certificate byte-identical to `cert`.
    pub fn find(&self, cert: &Certificate) -> Result<Vec<StoreEntry>, TrustStoreError> {
        let mut found = Vec::new();
        for entry in self.list(None, None)? {
            let bytes = fs::read(&entry.path).map_err(|source| TrustStoreError::ReadFile {
                path: entry.path.clone(),
                source,
            })?;
            // A file that does not parse holds nothing to find; loading it reports the error.
            let Ok(certs) = Certificate::parse_many(&bytes) else {
                continue;
            };
            if certs.iter().any(|c| c.der() == cert.der()) {
                found.push(entry);
            }
        }
        Ok(found)
    }
}
