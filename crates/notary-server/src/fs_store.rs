//! [`FsTrustStore`]: trust data on the local filesystem, crash-safe as the registry's store
//! is: every file is written to `tmp/`, flushed, renamed into place, and its directory
//! flushed.
//!
//! Layout under the store's root (`<registry root>/notary`):
//!
//! ```text
//! tmp/                                    writes in progress; emptied at start-up
//! changefeed.jsonl                        one change record per line, appended and flushed
//! repos/<gun>/_trust/current.json         {"root": 2, "targets": 4, ...}: the commit point
//! repos/<gun>/_trust/meta/<role>/<n>.json every version of every role
//! repos/<gun>/_trust/meta/<role>/<hex>.<sha256|sha384|sha512>   the version with that checksum
//! repos/<gun>/_trust/keys/                mode 0700, as is each <role>/ under it
//! repos/<gun>/_trust/keys/<role>/<keyid>.key   server private key, DER PKCS#8, unencrypted,
//!                                         mode 0600
//! repos/<gun>/_trust/keys/<role>/active   the ID of the key handed out
//! ```
//!
//! GUN components never start with `_` ([`ServerGun`]), and role names hold no `.`, so no
//! GUN, role, version or index file can take another's name. A publish writes its version
//! files first and `current.json` last: a crash leaves at worst unreferenced versions, which
//! the next publish overwrites. Until then they are not served: a version above the role's
//! current one is not found, by version or by checksum. Checksum lookups hash what they
//! return, so a stale index entry can never serve the wrong bytes.
//!
//! The change feed record of a commit or deletion is appended after its commit point, so a
//! failure to append it does not undo the change: it is logged and the change stands,
//! without a record. A failed append is cut off again, so the next record never joins a
//! half line; its ID is skipped while the server runs (a reader may have seen the line).
//! After a restart IDs continue from the last record in the file, so only an ID whose record
//! is in no file can come again.

use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use hallmark_storage::fs::atomic::{
    ensure_dir, read_optional, remove, sync_dir, temp_path, write_file_with_mode,
};
use hallmark_tuf::{KeyId, RoleName};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::route::{Checksum, ServerGun, ServerRole};
use crate::store::{
    ChangeQuery, ChangeRecord, CurrentVersions, NewChange, RoleFile, StoreError, TrustDataStore,
};

const CHECKSUMS: [&str; 3] = ["sha256", "sha384", "sha512"];

/// Trust data in a directory.
#[derive(Debug)]
pub struct FsTrustStore {
    root: PathBuf,
    tmp: PathBuf,
    /// Serializes every write; holds the change feed's state.
    writer: Mutex<Feed>,
}

/// The change feed's writing state, behind the write lock.
#[derive(Debug)]
struct Feed {
    /// The next record's ID.
    next_id: u64,
    /// Whether a failed append could not be cut off, so the file may end in a half line.
    torn: bool,
}

fn io_err(what: impl Into<String>) -> impl FnOnce(io::Error) -> StoreError {
    let what = what.into();
    move |source| StoreError::Io { what, source }
}

impl FsTrustStore {
    /// Opens (creating if needed) a store at `root`. The caller makes sure no other process
    /// uses it (`hallmark serve` holds the registry root's lock).
    pub fn open(root: impl Into<PathBuf>) -> Result<FsTrustStore, StoreError> {
        let root: PathBuf = root.into();
        let tmp = root.join("tmp");
        ensure_dir(&tmp).map_err(io_err(format!("creating {}", tmp.display())))?;
        // Leftovers of writes and deletions interrupted by a crash: never published.
        for entry in fs::read_dir(&tmp).map_err(io_err("listing tmp"))?.flatten() {
            let path = entry.path();
            let _ = fs::remove_file(&path).or_else(|_| fs::remove_dir_all(&path));
        }
        let next_id = repair_changefeed(&root.join("changefeed.jsonl"))
            .map_err(io_err("reading the change feed"))?;
        Ok(FsTrustStore {
            root,
            tmp,
            writer: Mutex::new(Feed {
                next_id,
                torn: false,
            }),
        })
    }

    fn repo(&self, gun: &ServerGun) -> PathBuf {
        let mut path = self.root.join("repos");
        path.extend(gun.components());
        path.join("_trust")
    }

    fn role_dir(&self, gun: &ServerGun, role: &RoleName) -> PathBuf {
        let mut path = self.repo(gun).join("meta");
        path.extend(role.as_str().split('/'));
        path
    }

    fn key_dir(&self, gun: &ServerGun, role: ServerRole) -> PathBuf {
        self.repo(gun).join("keys").join(role.as_str())
    }

    /// Creates the key directory of `role` and `keys/` above it owner-only (0700 on Unix),
    /// tightening them if they exist with a wider mode.
    fn key_dir_private(&self, gun: &ServerGun, role: ServerRole) -> io::Result<PathBuf> {
        let keys = self.repo(gun).join("keys");
        let dir = self.key_dir(gun, role);
        ensure_dir(&self.repo(gun))?;
        for path in [&keys, &dir] {
            if !path.is_dir() {
                let mut builder = fs::DirBuilder::new();
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
                match builder.create(path) {
                    Ok(()) => sync_dir(path.parent().unwrap_or(Path::new(".")))?,
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(e) => return Err(e),
                }
            }
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
            }
        }
        Ok(dir)
    }

    fn lock(&self) -> MutexGuard<'_, Feed> {
        // A panic while holding the lock leaves no half-done state in memory: files are
        // written atomically and the feed state is updated before each append.
        self.writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write_current(&self, gun: &ServerGun, current: &CurrentVersions) -> Result<(), StoreError> {
        let map: serde_json::Map<String, serde_json::Value> = current
            .iter()
            .map(|(role, v)| (role.as_str().to_string(), (*v).into()))
            .collect();
        let bytes = serde_json::to_vec(&map).unwrap_or_default();
        let dest = self.repo(gun).join("current.json");
        write_file_with_mode(&self.tmp, &dest, &bytes, None).map_err(io_err("writing current.json"))
    }

    fn write_version(&self, gun: &ServerGun, file: &RoleFile) -> Result<(), StoreError> {
        let dir = self.role_dir(gun, &file.role);
        let what = format!("writing {} version {}", file.role, file.version);
        let dest = dir.join(format!("{}.json", file.version));
        write_file_with_mode(&self.tmp, &dest, &file.bytes, None).map_err(io_err(what.clone()))?;
        for algorithm in CHECKSUMS {
            let Some(sum) = Checksum::of(algorithm, &file.bytes) else {
                continue;
            };
            let index = dir.join(format!("{}.{algorithm}", sum.hex()));
            let version = file.version.to_string();
            write_file_with_mode(&self.tmp, &index, version.as_bytes(), None)
                .map_err(io_err(what.clone()))?;
        }
        Ok(())
    }

    /// Appends a record of `change` to the change feed. Its ID is used up even when the
    /// append fails: a reader may have seen the line before it was cut off again.
    fn append_change(&self, feed: &mut Feed, change: &NewChange) -> Result<(), StoreError> {
        let path = self.root.join("changefeed.jsonl");
        if feed.torn {
            let next_id = repair_changefeed(&path).map_err(io_err("repairing the change feed"))?;
            feed.next_id = feed.next_id.max(next_id);
            feed.torn = false;
        }
        let id = feed.next_id;
        feed.next_id += 1;
        let record = ChangeRecord {
            id: id.to_string(),
            created_at: OffsetDateTime::now_utc()
                .format(&Rfc3339)
                .unwrap_or_default(),
            gun: change.gun.clone(),
            version: change.version,
            sha256: change.sha256.clone(),
            category: change.category,
        };
        let mut line = serde_json::to_vec(&record).unwrap_or_default();
        line.push(b'\n');
        let what = "appending to the change feed";
        if let Err(failure) = append_line(&path, &line, |file, line| file.write_all(line)) {
            feed.torn = failure.torn;
            return Err(io_err(what)(failure.error));
        }
        sync_dir(&self.root).map_err(io_err(what))
    }

    /// Records `change` after a commit point: the change has happened, so a failure to
    /// record it is logged, not returned.
    fn record_change(&self, feed: &mut Feed, change: &NewChange) {
        if let Err(e) = self.append_change(feed, change) {
            let cause = std::error::Error::source(&e).map(ToString::to_string);
            tracing::error!(
                gun = %change.gun,
                error = %e,
                cause = cause.unwrap_or_default(),
                "change feed record not written: the change stands, but feed readers will \
                 not see it; check the disk holding the trust data"
            );
        }
    }

    /// A role's file of `version`, whether or not it is current.
    fn read_version(
        &self,
        gun: &ServerGun,
        role: &RoleName,
        version: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.role_dir(gun, role).join(format!("{version}.json"));
        read_optional(&path).map_err(io_err(format!("reading {role} version {version}")))
    }
}

/// Why appending a line failed, and whether the file may still hold part of it.
#[derive(Debug)]
struct AppendFailure {
    error: io::Error,
    /// The file could not be cut back to its length before the append.
    torn: bool,
}

/// Appends `line` to the file at `path` with `write`, then flushes it. When writing or
/// flushing fails, the file is cut back to its previous length, so that no half line is
/// left for the next append to join.
fn append_line(
    path: &Path,
    line: &[u8],
    write: impl FnOnce(&mut fs::File, &[u8]) -> io::Result<()>,
) -> Result<(), AppendFailure> {
    let untouched = |error| AppendFailure { error, torn: false };
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(untouched)?;
    let before = file.metadata().map_err(untouched)?.len();
    let Err(error) = write(&mut file, line).and_then(|()| file.sync_all()) else {
        return Ok(());
    };
    let cut = file.set_len(before).and_then(|()| file.sync_all());
    Err(AppendFailure {
        error,
        torn: cut.is_err(),
    })
}

impl TrustDataStore for FsTrustStore {
    fn current(&self, gun: &ServerGun) -> Result<CurrentVersions, StoreError> {
        let path = self.repo(gun).join("current.json");
        let Some(bytes) = read_optional(&path).map_err(io_err("reading current.json"))? else {
            return Ok(CurrentVersions::new());
        };
        let map: std::collections::BTreeMap<String, u64> = serde_json::from_slice(&bytes)
            .map_err(|e| io_err("reading current.json")(io::Error::other(e)))?;
        map.into_iter()
            .map(|(role, version)| {
                let role: RoleName = role.parse().map_err(|e| {
                    io_err("reading current.json")(io::Error::other(format!("{e}")))
                })?;
                Ok((role, version))
            })
            .collect()
    }

    fn by_version(
        &self,
        gun: &ServerGun,
        role: &RoleName,
        version: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        // A version above the current one is from a publish that failed or has not yet
        // reached its commit point: it was never published.
        let current = self.current(gun)?;
        if current.get(role).is_none_or(|stored| version > *stored) {
            return Ok(None);
        }
        self.read_version(gun, role, version)
    }

    fn by_checksum(
        &self,
        gun: &ServerGun,
        role: &RoleName,
        checksum: &Checksum,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let index = format!("{}.{}", checksum.hex(), checksum.algorithm());
        let path = self.role_dir(gun, role).join(index);
        let Some(version) = read_optional(&path).map_err(io_err("reading a checksum index"))?
        else {
            return Ok(None);
        };
        let Some(version) = std::str::from_utf8(&version)
            .ok()
            .and_then(|v| v.parse().ok())
        else {
            return Ok(None);
        };
        let Some(bytes) = self.by_version(gun, role, version)? else {
            return Ok(None);
        };
        let matches = Checksum::of(checksum.algorithm(), &bytes).as_ref() == Some(checksum);
        Ok(matches.then_some(bytes))
    }

    fn commit(
        &self,
        gun: &ServerGun,
        files: &[RoleFile],
        change: Option<&NewChange>,
    ) -> Result<(), StoreError> {
        let mut feed = self.lock();
        let mut current = self.current(gun)?;
        for file in files {
            let stored = current.get(&file.role).copied().unwrap_or(0);
            if file.version <= stored {
                return Err(StoreError::OldVersion {
                    role: file.role.clone(),
                    version: file.version,
                    stored,
                });
            }
        }
        for file in files {
            self.write_version(gun, file)?;
            current.insert(file.role.clone(), file.version);
        }
        self.write_current(gun, &current)?;
        // The commit point is passed: the files are published whatever happens next.
        if let Some(change) = change {
            self.record_change(&mut feed, change);
        }
        Ok(())
    }

    fn delete(&self, gun: &ServerGun, change: &NewChange) -> Result<bool, StoreError> {
        let mut feed = self.lock();
        let repo = self.repo(gun);
        if !remove(&repo.join("current.json")).map_err(io_err("removing current.json"))? {
            return Ok(false);
        }
        // The GUN is gone once current.json is; the versions go out of sight in one rename.
        let meta = repo.join("meta");
        let parked = temp_path(&self.tmp);
        match fs::rename(&meta, &parked) {
            Ok(()) => {
                let _ = sync_dir(&repo);
                let _ = fs::remove_dir_all(&parked);
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err("removing old versions")(e)),
        }
        self.record_change(&mut feed, change);
        Ok(true)
    }

    fn active_key(&self, gun: &ServerGun, role: ServerRole) -> Result<Option<KeyId>, StoreError> {
        let path = self.key_dir(gun, role).join("active");
        let Some(bytes) = read_optional(&path).map_err(io_err("reading the active key"))? else {
            return Ok(None);
        };
        Ok(std::str::from_utf8(&bytes)
            .ok()
            .and_then(|s| s.trim().parse().ok()))
    }

    fn private_key(
        &self,
        gun: &ServerGun,
        role: ServerRole,
        id: &KeyId,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let path = self.key_dir(gun, role).join(format!("{id}.key"));
        read_optional(&path).map_err(io_err("reading a server key"))
    }

    fn add_key(
        &self,
        gun: &ServerGun,
        role: ServerRole,
        id: &KeyId,
        pkcs8: &[u8],
    ) -> Result<(), StoreError> {
        let _guard = self.lock();
        let dir = self
            .key_dir_private(gun, role)
            .map_err(io_err("creating the server key directory"))?;
        // The key before the pointer to it, so `active` never names a missing key.
        write_file_with_mode(
            &self.tmp,
            &dir.join(format!("{id}.key")),
            pkcs8,
            Some(0o600),
        )
        .map_err(io_err("writing a server key"))?;
        write_file_with_mode(&self.tmp, &dir.join("active"), id.as_str().as_bytes(), None)
            .map_err(io_err("writing the active key"))
    }

    fn changes(
        &self,
        gun: Option<&ServerGun>,
        query: ChangeQuery,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        // FIXME: the feed is read whole for each query; a large feed needs an index by ID.
        let path = self.root.join("changefeed.jsonl");
        let Some(bytes) = read_optional(&path).map_err(io_err("reading the change feed"))? else {
            return Ok(Vec::new());
        };
        let all = bytes
            .lines()
            .map_while(Result::ok)
            .filter_map(|line| serde_json::from_str::<ChangeRecord>(&line).ok())
            .filter(|r| gun.is_none_or(|g| r.gun == g.gun().as_str()));
        Ok(select(all, query))
    }
}

/// The page of `records` (in ID order) that `query` asks for, in ID order.
fn select(records: impl Iterator<Item = ChangeRecord>, query: ChangeQuery) -> Vec<ChangeRecord> {
    if query.backwards {
        // Backwards from 0 is from the newest, as notary-server's `GetChanges` reads it.
        let before = query.change_id.filter(|id| *id > 0).unwrap_or(u64::MAX);
        let mut page: Vec<ChangeRecord> = records.filter(|r| r.number() < before).collect();
        let skip = page.len().saturating_sub(query.records);
        page.drain(..skip);
        page
    } else {
        let Some(after) = query.change_id else {
            return Vec::new();
        };
        records
            .filter(|r| r.number() > after)
            .take(query.records)
            .collect()
    }
}

/// Drops a torn last line (a crash during an append) and returns the next record ID.
fn repair_changefeed(path: &Path) -> io::Result<u64> {
    let Some(bytes) = read_optional(path)? else {
        return Ok(1);
    };
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    if complete < bytes.len() {
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(complete as u64)?;
        file.sync_all()?;
    }
    let last = bytes[..complete]
        .lines()
        .map_while(Result::ok)
        .filter_map(|line| serde_json::from_str::<ChangeRecord>(&line).ok())
        .map(|r| r.number())
        .max()
        .unwrap_or(0);
    Ok(last + 1)
}

#[cfg(test)]
#[path = "fs_store_tests.rs"]
mod tests;
