//! Durable, atomic file operations, shared with the Notary v1 trust data store that lives in
//! the same root (the helpers it needs are public).
//!
//! Every file the store publishes is written to a temporary file under `tmp/` on the same
//! filesystem, flushed with `fsync`, and renamed into place; the directory that received it is
//! then flushed too, so that a rename that was reported done survives power loss. A reader
//! sees either the old file or the complete new one, never a partial write.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Flushes a directory's entries (new names, renames, removals) to disk.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Creates `dir` and any missing parents, flushing each parent that gained an entry.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut missing = Vec::new();
    let mut cur = dir;
    while !cur.is_dir() {
        missing.push(cur.to_path_buf());
        match cur.parent() {
            Some(p) => cur = p,
            None => break,
        }
    }
    fs::create_dir_all(dir)?;
    for created in missing.iter().rev() {
        if let Some(parent) = created.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// A fresh temporary path under `tmp_dir`.
pub fn temp_path(tmp_dir: &Path) -> PathBuf {
    tmp_dir.join(uuid::Uuid::new_v4().simple().to_string())
}

/// Moves an already-flushed file to `dest` and flushes the directory that received it.
pub(crate) fn publish(src: &Path, dest: &Path) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    ensure_dir(parent)?;
    fs::rename(src, dest)?;
    sync_dir(parent)
}

/// Writes `bytes` to `dest` atomically and durably.
pub(crate) fn write_file(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file_with_mode(tmp_dir, dest, bytes, None)
}

/// Writes `bytes` to `dest` atomically and durably, created with `mode` on Unix if given
/// (before any byte is written, so a private file is never readable by others).
pub fn write_file_with_mode(
    tmp_dir: &Path,
    dest: &Path,
    bytes: &[u8],
    mode: Option<u32>,
) -> io::Result<()> {
    let tmp = temp_path(tmp_dir);
    let result = (|| {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        if let Some(mode) = mode {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(mode);
        }
        #[cfg(not(unix))]
        let _ = mode;
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        publish(&tmp, dest)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `bytes` to `dest` unless it exists already. Used for content-addressed files, whose
/// existing content is by construction the same.
pub(crate) fn write_content(tmp_dir: &Path, dest: &Path, bytes: &[u8]) -> io::Result<()> {
    if dest.exists() {
        return Ok(());
    }
    write_file(tmp_dir, dest, bytes)
}

/// Creates an empty marker file (if missing) durably.
pub(crate) fn touch(dest: &Path) -> io::Result<()> {
    sync_dir(&create_marker(dest)?)
}

/// Creates an empty marker file (if missing) without flushing its directory, which the caller
/// does. Returns that directory.
pub(crate) fn create_marker(dest: &Path) -> io::Result<PathBuf> {
    let parent = dest.parent().unwrap_or(Path::new(".")).to_path_buf();
    ensure_dir(&parent)?;
    match OpenOptions::new().write(true).create_new(true).open(dest) {
        Ok(_) => Ok(parent),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(parent),
        Err(e) => Err(e),
    }
}

/// Removes a file durably. Returns whether it existed.
pub fn remove(path: &Path) -> io::Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => {
            if let Some(parent) = path.parent() {
                sync_dir(parent)?;
            }
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e),
    }
}

/// Reads a small file, or `None` when it does not exist.
pub fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}
