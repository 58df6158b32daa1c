//! The X.509 trust store: named collections of trusted certificates
//! (trust store and trust policy specification, "Trust Store"; reference §3).
//!
//! Layout, as notation writes it: `truststore/x509/{ca|signingAuthority|tsa}/<store>/` holding
//! `.pem`, `.crt` or `.cer` files, each with one or more PEM or DER certificates. Loading
//! follows notation-go's `GetCertificates` where the specification is looser: a symlinked store
//! or file and a subdirectory are errors (a store is a flat set of regular files the user put
//! there), every certificate must be a CA or self-signed, and a `tsa` store holds self-signed
//! root CAs only (the timestamp chain is built up to them).
//!
//! [`TrustStore::certificates`] is what verification uses; [`manage`] adds, lists, deletes
//! and finds certificates for the `cert` commands.

pub mod manage;

use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use hallmark_x509::Certificate;
use thiserror::Error;

use crate::policy::TrustPolicy;

pub use manage::StoreEntry;

/// The kinds of named stores: notation's three and Hallmark's `notaryV1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StoreType {
    /// Roots (or self-signed signers) for the `notary.x509` signing scheme.
    Ca,
    /// Roots for the `notary.x509.signingAuthority` signing scheme.
    SigningAuthority,
    /// Roots of timestamping authorities.
    Tsa,
    /// Hallmark's extension: Notary v1 root certificates (`ecdsa-x509`/`rsa-x509` root keys)
    /// whose repositories' v1 trust data `hallmark verify` accepts. notation knows no such
    /// type and refuses policies that name one.
    NotaryV1,
}

impl StoreType {
    /// All store types, in notation's order.
    pub const ALL: [StoreType; 4] = [
        StoreType::Ca,
        StoreType::SigningAuthority,
        StoreType::Tsa,
        StoreType::NotaryV1,
    ];

    /// The directory and policy name of the type.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreType::Ca => "ca",
            StoreType::SigningAuthority => "signingAuthority",
            StoreType::Tsa => "tsa",
            StoreType::NotaryV1 => "notaryV1",
        }
    }
}

impl fmt::Display for StoreType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The store type is not `ca`, `signingAuthority`, `tsa` or `notaryV1`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "unsupported trust store type {0:?}, supported types are ca, signingAuthority, tsa and \
     notaryV1"
)]
pub struct UnknownStoreType(pub String);

impl FromStr for StoreType {
    type Err = UnknownStoreType;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        StoreType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownStoreType(s.to_owned()))
    }
}

/// Store names are portable file names: `[a-zA-Z0-9_.-]+` (and never `.` or `..`, which the
/// pattern would allow but which name no store directory).
pub fn is_valid_store_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// File extensions of certificate files (specification: "Files with extension .pem, .crt
/// and .cer").
pub const CERTIFICATE_EXTENSIONS: [&str; 3] = ["pem", "crt", "cer"];

pub(crate) fn has_certificate_extension(file_name: &str) -> bool {
    Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| {
            CERTIFICATE_EXTENSIONS
                .iter()
                .any(|c| e.eq_ignore_ascii_case(c))
        })
}

/// Reading or changing the trust store failed.
#[derive(Debug, Error)]
pub enum TrustStoreError {
    /// The store name is not `[a-zA-Z0-9_.-]+`.
    #[error("trust store name needs to follow [a-zA-Z0-9_.-]+ format, {name:?} is invalid")]
    InvalidStoreName {
        /// The name.
        name: String,
    },
    /// The store directory does not exist.
    #[error(
        "the trust store {name:?} of type \"{store_type}\" does not exist; add a certificate to \
         it with `hallmark cert add -t {store_type} -s {name} FILE`"
    )]
    StoreNotFound {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
    },
    /// The store path is a symlink or not a directory.
    #[error(
        "the trust store {name} of type {store_type} with path {} is not a regular directory \
         (symlinks are not supported)",
        path.display()
    )]
    NotADirectory {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// The path.
        path: PathBuf,
    },
    /// The store directory could not be read.
    #[error("failed to access the trust store {name:?} of type \"{store_type}\"")]
    Access {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A store entry is a directory or a symlink.
    #[error(
        "trusted certificate {file} in trust store {name} of type {store_type} is not a \
         regular file (directories or symlinks are not supported)"
    )]
    NotARegularFile {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// The entry's file name.
        file: String,
    },
    /// A certificate file could not be read.
    #[error("failed to read the trusted certificate {}", path.display())]
    ReadFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A certificate file holds no parsable certificate.
    #[error("failed to parse the certificates in {}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parse error.
        #[source]
        source: hallmark_x509::Error,
    },
    /// A certificate is neither a CA nor self-signed: trusting a leaf issued by someone else
    /// would make the store's meaning depend on that issuer.
    #[error(
        "certificate with subject {subject:?} in {} is not a CA certificate or self-signed \
         signing certificate",
        path.display()
    )]
    NotCaOrSelfSigned {
        /// The file.
        path: PathBuf,
        /// The certificate's subject.
        subject: String,
    },
    /// A `tsa` store certificate is not a self-signed root CA.
    #[error(
        "certificate with subject {subject:?} in {} is not a root CA certificate; tsa trust \
         stores take self-signed root CA certificates only",
        path.display()
    )]
    TsaNotRoot {
        /// The file.
        path: PathBuf,
        /// The certificate's subject.
        subject: String,
    },
    /// A `notaryV1` store certificate is not a self-signed leaf, which Notary v1 root keys are.
    #[error(
        "certificate with subject {subject:?} in {} is not a Notary v1 root certificate; \
         notaryV1 trust stores take the self-signed, non-CA certificates of v1 root keys \
         (`hallmark v1 list -o json` prints them under rootKeys)",
        path.display()
    )]
    NotaryV1NotRootKey {
        /// The file.
        path: PathBuf,
        /// The certificate's subject.
        subject: String,
    },
    /// The store holds no certificate.
    #[error("no x509 certificates were found in trust store {name:?} of type \"{store_type}\"")]
    Empty {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
    },
    /// A file to add does not end in `.pem`, `.crt` or `.cer`.
    #[error(
        "certificate file {} must have the extension .pem, .crt or .cer",
        path.display()
    )]
    UnsupportedExtension {
        /// The file.
        path: PathBuf,
    },
    /// A file with the same name is already in the store.
    #[error(
        "certificate {file} already exists in trust store {name} of type {store_type}; delete \
         it first or ask to overwrite it"
    )]
    AlreadyExists {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// The file name.
        file: String,
    },
    /// A file to delete is not in the store.
    #[error("certificate {file} does not exist in trust store {name} of type {store_type}")]
    FileNotFound {
        /// Store type.
        store_type: StoreType,
        /// Store name.
        name: String,
        /// The file name.
        file: String,
    },
    /// A type directory could not be listed.
    #[error("failed to list {}", path.display())]
    ReadDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// Writing or deleting failed.
    #[error("failed to update {}", path.display())]
    Write {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// The stores read so far, by type and name.
type LoadedStores = HashMap<(StoreType, String), Vec<Certificate>>;

/// The X.509 trust store rooted at `truststore/x509`.
///
/// Each named store is read from disk once per `TrustStore` value (and its clones) by
/// [`TrustStore::certificates`], so that verifying many signatures does not reread and
/// reparse the same files; a store changed on disk afterwards is seen by a new value.
#[derive(Debug, Clone)]
pub struct TrustStore {
    root: PathBuf,
    loaded: Arc<Mutex<LoadedStores>>,
}

impl TrustStore {
    /// A trust store whose type directories (`ca`, ...) are under `x509_root`.
    pub fn new(x509_root: impl Into<PathBuf>) -> Self {
        TrustStore {
            root: x509_root.into(),
            loaded: Arc::default(),
        }
    }

    /// The `truststore/x509` directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory of one named store (not checked).
    pub fn store_dir(&self, ty: StoreType, name: &str) -> PathBuf {
        self.root.join(ty.as_str()).join(name)
    }

    /// Every certificate of a named store, file by file in name order, checked with notation's
    /// rules. An empty or missing store is an error: verification against it cannot succeed.
    pub fn certificates(
        &self,
        ty: StoreType,
        name: &str,
    ) -> Result<Vec<Certificate>, TrustStoreError> {
        let key = (ty, name.to_owned());
        // A poisoned lock means a panic mid-insert elsewhere; entries are whole either way.
        if let Some(certs) = self
            .loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(certs.clone());
        }
        let certificates = self.load(ty, name)?;
        self.loaded
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, certificates.clone());
        Ok(certificates)
    }

    fn load(&self, ty: StoreType, name: &str) -> Result<Vec<Certificate>, TrustStoreError> {
        let files = self.certificate_files(ty, name)?;
        let mut certificates = Vec::new();
        for path in files {
            certificates.extend(load_certificate_file(ty, &path)?);
        }
        if certificates.is_empty() {
            return Err(TrustStoreError::Empty {
                store_type: ty,
                name: name.to_owned(),
            });
        }
        Ok(certificates)
    }

    /// The certificates of every store of type `ty` that `policy` lists, in the policy's
    /// order. Any listed store that cannot be loaded is an error: a policy that names a store
    /// must not silently trust less (or more) than the user wrote.
    pub fn policy_certificates(
        &self,
        policy: &TrustPolicy,
        ty: StoreType,
    ) -> Result<Vec<Certificate>, TrustStoreError> {
        let mut certificates = Vec::new();
        for name in policy.stores_of_type(ty) {
            certificates.extend(self.certificates(ty, name)?);
        }
        Ok(certificates)
    }

    /// The certificate files of a store (regular files with a certificate extension), sorted;
    /// symlinks and subdirectories are errors.
    pub(crate) fn certificate_files(
        &self,
        ty: StoreType,
        name: &str,
    ) -> Result<Vec<PathBuf>, TrustStoreError> {
        let dir = self.checked_store_dir(ty, name)?;
        let access = |source| TrustStoreError::Access {
            store_type: ty,
            name: name.to_owned(),
            source,
        };
        let mut files = Vec::new();
        for entry in fs::read_dir(&dir).map_err(access)? {
            let entry = entry.map_err(access)?;
            let file_type = entry.file_type().map_err(access)?;
            let file = entry.file_name().to_string_lossy().into_owned();
            if !file_type.is_file() {
                return Err(TrustStoreError::NotARegularFile {
                    store_type: ty,
                    name: name.to_owned(),
                    file,
                });
            }
            // Other files (a README, editor backups) are not certificates per the
            // specification; ignoring them adds no trust.
            if has_certificate_extension(&file) {
                files.push(entry.path());
            }
        }
        files.sort();
        Ok(files)
    }

    /// Validates the name and checks that the store is a real directory.
    fn checked_store_dir(&self, ty: StoreType, name: &str) -> Result<PathBuf, TrustStoreError> {
        if !is_valid_store_name(name) {
            return Err(TrustStoreError::InvalidStoreName {
                name: name.to_owned(),
            });
        }
        let dir = self.store_dir(ty, name);
        match fs::symlink_metadata(&dir) {
            Ok(meta) if meta.is_dir() => Ok(dir),
            Ok(_) => Err(TrustStoreError::NotADirectory {
                store_type: ty,
                name: name.to_owned(),
                path: dir,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(TrustStoreError::StoreNotFound {
                store_type: ty,
                name: name.to_owned(),
            }),
            Err(source) => Err(TrustStoreError::Access {
                store_type: ty,
                name: name.to_owned(),
                source,
            }),
        }
    }
}

/// Reads one certificate file and applies the store rules to each certificate in it.
pub(crate) fn load_certificate_file(
    ty: StoreType,
    path: &Path,
) -> Result<Vec<Certificate>, TrustStoreError> {
    let bytes = fs::read(path).map_err(|source| TrustStoreError::ReadFile {
        path: path.to_owned(),
        source,
    })?;
    let certificates =
        Certificate::parse_many(&bytes).map_err(|source| TrustStoreError::Parse {
            path: path.to_owned(),
            source,
        })?;
    check_store_rules(ty, path, &certificates)?;
    Ok(certificates)
}

/// Specification and notation-go: every certificate is a CA or self-signed; `tsa` stores hold
/// self-signed CA roots only.
pub(crate) fn check_store_rules(
    ty: StoreType,
    path: &Path,
    certificates: &[Certificate],
) -> Result<(), TrustStoreError> {
    for cert in certificates {
        let subject = || cert.subject().to_string();
        if !cert.is_ca() && !cert.is_self_signed() {
            return Err(TrustStoreError::NotCaOrSelfSigned {
                path: path.to_owned(),
                subject: subject(),
            });
        }
        if ty == StoreType::NotaryV1 && (cert.is_ca() || !cert.is_self_signed()) {
            return Err(TrustStoreError::NotaryV1NotRootKey {
                path: path.to_owned(),
                subject: subject(),
            });
        }
        if ty == StoreType::Tsa && !(cert.is_ca() && cert.is_self_signed()) {
            return Err(TrustStoreError::TsaNotRoot {
                path: path.to_owned(),
                subject: subject(),
            });
        }
    }
    Ok(())
}
