//! The local trust directory of the notary and docker clients: the only file I/O of this
//! crate.
//!
//! Layout (Notary 0.7.0, observed): `<trust dir>/tuf/<gun>/metadata/<role>.json`, with
//! delegations under `metadata/targets/` (`targets/releases.json`), and older roots as
//! `<n>.root.json` when present. The trust directory is `~/.notary` for notary and
//! `~/.docker/trust` for docker. Private keys (`private/<key id>.key`) are never read.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use crate::client::RepositoryFiles;
use crate::error::Error;
use crate::gun::Gun;
use crate::signed::RoleName;

/// The largest metadata file read. Notary's server limits uploads far below this.
pub const MAX_METADATA_BYTES: u64 = 16 * 1024 * 1024;

/// A Notary or Docker trust directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustDir {
    path: PathBuf,
}

impl TrustDir {
    /// The trust directory at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TrustDir { path: path.into() }
    }

    /// The directory.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// notary's default, `~/.notary`, when the home directory is known.
    pub fn notary_default() -> Option<Self> {
        home().map(|home| TrustDir::new(home.join(".notary")))
    }

    /// docker's default, `~/.docker/trust`, when the home directory is known.
    pub fn docker_default() -> Option<Self> {
        home().map(|home| TrustDir::new(home.join(".docker").join("trust")))
    }

    /// The directory holding `gun`'s metadata.
    pub fn metadata_dir(&self, gun: &Gun) -> PathBuf {
        let mut dir = self.path.join("tuf");
        dir.extend(gun.as_str().split('/'));
        dir.join("metadata")
    }

    /// Reads every metadata file cached for `gun`.
    pub fn read(&self, gun: &Gun) -> Result<RepositoryFiles, Error> {
        let dir = self.metadata_dir(gun);
        let mut files = RepositoryFiles {
            root: read_limited(&dir.join("root.json"))?,
            timestamp: read_limited(&dir.join("timestamp.json"))?,
            snapshot: read_limited(&dir.join("snapshot.json"))?,
            targets: read_limited(&dir.join("targets.json"))?,
            ..RepositoryFiles::default()
        };
        files.versioned_roots = versioned_roots(&dir)?;
        let delegations = dir.join("targets");
        if delegations.is_dir() {
            read_delegations(&delegations, "targets", &mut files.delegations)?;
        }
        Ok(files)
    }
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

fn read_error(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Read {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a whole file of at most [`MAX_METADATA_BYTES`].
fn read_limited(path: &Path) -> Result<Vec<u8>, Error> {
    let file = fs::File::open(path).map_err(read_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_METADATA_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(read_error(path))?;
    if bytes.len() as u64 > MAX_METADATA_BYTES {
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_METADATA_BYTES,
        });
    }
    Ok(bytes)
}

/// `<n>.root.json` files beside `root.json`.
fn versioned_roots(dir: &Path) -> Result<BTreeMap<u64, Vec<u8>>, Error> {
    let mut roots = BTreeMap::new();
    for entry in fs::read_dir(dir).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let name = entry.file_name();
        let Some(version) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".root.json"))
            .and_then(|v| v.parse::<u64>().ok())
        else {
            continue;
        };
        roots.insert(version, read_limited(&entry.path())?);
    }
    Ok(roots)
}

/// Delegations under `dir`, named `<prefix>/<file stem>`, recursively. Files whose names
/// are not valid role names are not metadata and are left alone.
fn read_delegations(
    dir: &Path,
    prefix: &str,
    out: &mut BTreeMap<RoleName, Vec<u8>>,
) -> Result<(), Error> {
    for entry in fs::read_dir(dir).map_err(read_error(dir))? {
        let entry = entry.map_err(read_error(dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(read_error(&path))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        if file_type.is_dir() {
            read_delegations(&path, &format!("{prefix}/{name}"), out)?;
        } else if let Some(stem) = name.strip_suffix(".json")
            && let Ok(role) = format!("{prefix}/{stem}").parse::<RoleName>()
        {
            out.insert(role, read_limited(&path)?);
        }
    }
    Ok(())
}
