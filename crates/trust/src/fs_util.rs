//! Atomic file publication for the configuration directory.
//!
//! Policies, signing keys and trust store certificates are written to a temporary file in the
//! target's directory, flushed, then moved into place, so a reader (a concurrent `verify`)
//! sees the old file or the whole new one. The temporary file gets its final mode at
//! creation, so a private key is never readable by others, not even for an instant.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// What to do when the target exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WriteMode {
    /// Fail with `AlreadyExists`, even if another writer creates the file meanwhile.
    CreateNew,
    /// Replace the file.
    Replace,
}

/// Writes `bytes` to `path` atomically with permission bits `mode` (Unix), creating parent
/// directories (mode 0700 for new ones).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8], mode: u32, how: WriteMode) -> io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir_all(&dir)?;
    if how == WriteMode::CreateNew && fs::symlink_metadata(path).is_ok() {
        return Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"));
    }

    let tmp = temp_path(&dir, path);
    let result = write_temp(&tmp, bytes, mode).and_then(|()| match how {
        WriteMode::CreateNew => publish_new(&tmp, path),
        WriteMode::Replace => fs::rename(&tmp, path),
    });
    // After a rename the temporary name is gone already; after a link it must be removed.
    let _ = fs::remove_file(&tmp);
    result?;
    sync_dir(&dir);
    Ok(())
}

/// Moves `tmp` to `path` unless `path` exists. A hard link fails if the target appeared since
/// the caller's check; on file systems without hard links, a rename after a second check is
/// the closest substitute.
fn publish_new(tmp: &Path, path: &Path) -> io::Result<()> {
    match fs::hard_link(tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if fs::symlink_metadata(path).is_ok() => {
            Err(io::Error::new(io::ErrorKind::AlreadyExists, "file exists"))
        }
        Err(_) => fs::rename(tmp, path),
    }
}

fn temp_path(dir: &Path, target: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()))
}

fn write_temp(tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(tmp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Creates `dir` and missing parents; new directories are private (0700), like notation's.
pub(crate) fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Flushes a directory entry change. Best effort: not every platform can open a directory.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_new_refuses_existing_and_replace_overwrites() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/file.json");
        write_atomic(&path, b"one", 0o600, WriteMode::CreateNew).expect("first write");
        let err = write_atomic(&path, b"two", 0o600, WriteMode::CreateNew).expect_err("exists");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        write_atomic(&path, b"three", 0o600, WriteMode::Replace).expect("replace");
        assert_eq!(fs::read(&path).expect("read"), b"three");
        let leftovers = fs::read_dir(path.parent().expect("parent"))
            .expect("dir")
            .count();
        assert_eq!(leftovers, 1, "no temporary file left behind");

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
