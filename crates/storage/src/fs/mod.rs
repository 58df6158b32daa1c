//! The filesystem store: the embedded default.
//!
//! Layout under the root directory:
//!
//! ```text
//! .lock                                   held by the one process serving this root
//! blobs/<alg>/<hex[0..2]>/<hex>           content, blobs and manifests alike, by digest
//! repositories/<name>/_layers/<alg>/<hex> empty marker: the blob is linked into <name>
//! repositories/<name>/_manifests/revisions/<alg>/<hex>   the manifest's media type
//! repositories/<name>/_manifests/tags/<tag>              the digest the tag points at
//! repositories/<name>/_referrers/<alg>/<subject hex>/<alg>-<hex>  a referrer's descriptor
//! uploads/<uuid>.<repository key>         an upload session's data, until completed
//! tmp/                                    temporary files, renamed into place when durable
//! ```
//!
//! Repository names cannot start a component with `_` (the spec's grammar), so the `_`
//! directories never collide with nested repositories.
//!
//! Only one process may serve a root: the `.lock` file is locked exclusively at open. That is
//! what makes the in-memory caches of tags, manifests and referrers coherent: every write
//! passes through this process and updates them.

pub mod atomic;
mod cache;
mod manifests;
mod uploads;

use std::collections::HashMap;
use std::fs::{self, File};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallmark_oci::{Algorithm, Digest, Reference, RepositoryName, Tag};
use thiserror::Error;

use crate::StorageError;
use crate::error::IoContext;
use crate::{
    BlobStream, BodyStream, ManifestWrite, Referrers, Result, Storage, StoredManifest, UploadId,
};

/// Settings of the filesystem store.
#[derive(Debug, Clone)]
pub struct FsOptions {
    /// Bytes of manifests kept in memory.
    pub manifest_cache_bytes: usize,
    /// Upload sessions untouched for this long are removed at start-up.
    pub stale_upload_age: Duration,
}

impl Default for FsOptions {
    fn default() -> Self {
        FsOptions {
            manifest_cache_bytes: 32 << 20,
            stale_upload_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// Why the store could not be opened.
#[derive(Debug, Error)]
pub enum OpenError {
    /// Another process holds the root.
    #[error(
        "another process is serving {0}: stop it, or pass a different --root (one server per \
         storage root keeps its caches coherent)"
    )]
    Locked(PathBuf),
    /// The root could not be created or read.
    #[error("cannot prepare storage root {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// Number of stripes in the repository lock table.
const LOCK_STRIPES: usize = 64;

/// A registry store on a local filesystem.
///
/// Cheap to clone: clones share one store. Writes run as their own tasks, so a client that
/// disconnects mid-request cannot leave files and caches half-updated.
#[derive(Debug, Clone)]
pub struct FsStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    root: PathBuf,
    tmp: PathBuf,
    /// Held for the life of the store; the OS releases the lock when the process dies.
    _lock: File,
    /// Serializes metadata writes (tags, revisions, referrers) per repository, so that the
    /// files and the caches change together.
    repo_locks: Box<[tokio::sync::Mutex<()>]>,
    cache: Mutex<cache::Cache>,
    sessions: Mutex<HashMap<UploadId, Arc<uploads::SessionHandle>>>,
}

impl FsStorage {
    /// Opens (creating if needed) a store at `root`.
    pub fn open(root: impl Into<PathBuf>, options: FsOptions) -> Result<FsStorage, OpenError> {
        let root: PathBuf = root.into();
        let io_err = |source| OpenError::Io {
            path: root.clone(),
            source,
        };
        for dir in ["blobs", "repositories", "uploads", "tmp"] {
            atomic::ensure_dir(&root.join(dir)).map_err(io_err)?;
        }
        let lock = File::create(root.join(".lock")).map_err(io_err)?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(OpenError::Locked(root)),
            Err(fs::TryLockError::Error(e)) => return Err(io_err(e)),
        }
        let tmp = root.join("tmp");
        // Leftovers of writes interrupted by a crash: never published, safe to drop.
        for entry in fs::read_dir(&tmp).map_err(io_err)?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let inner = Inner {
            tmp,
            _lock: lock,
            repo_locks: (0..LOCK_STRIPES)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
            cache: Mutex::new(cache::Cache::new(options.manifest_cache_bytes)),
            sessions: Mutex::new(HashMap::new()),
            root,
        };
        inner.purge_stale_uploads(options.stale_upload_age);
        Ok(FsStorage {
            inner: Arc::new(inner),
        })
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.inner.root
    }
}

impl Inner {
    fn blob_path(&self, d: &Digest) -> PathBuf {
        let hex = d.hex();
        self.root
            .join("blobs")
            .join(d.algorithm().as_str())
            .join(&hex[..2])
            .join(hex)
    }

    fn repo_dir(&self, repo: &RepositoryName) -> PathBuf {
        let mut p = self.root.join("repositories");
        p.extend(repo.components());
        p
    }

    fn layer_link(&self, repo: &RepositoryName, d: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_layers")
            .join(d.algorithm().as_str())
            .join(d.hex())
    }

    fn repo_lock(&self, repo: &RepositoryName) -> &tokio::sync::Mutex<()> {
        let mut h = DefaultHasher::new();
        repo.hash(&mut h);
        // The modulo keeps the index below LOCK_STRIPES, which fits in usize.
        let i = (h.finish() % LOCK_STRIPES as u64) as usize;
        &self.repo_locks[i]
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, cache::Cache> {
        // A panic while holding the lock cannot leave the maps half-updated in a way that
        // matters: every entry is a complete value. Recover rather than propagate poison.
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs blocking filesystem work off the async threads.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}

fn is_repo_dir(dir: &Path) -> bool {
    dir.join("_manifests").is_dir() || dir.join("_layers").is_dir()
}

fn walk_repositories(dir: &Path, prefix: &str, out: &mut Vec<RepositoryName>) -> io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with('_') || !entry.file_type()?.is_dir() {
            continue;
        }
        let full = if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}/{name}")
        };
        let path = entry.path();
        if is_repo_dir(&path)
            && let Ok(repo) = full.parse()
        {
            out.push(repo);
        }
        walk_repositories(&path, &full, out)?;
    }
    Ok(())
}

impl Inner {
    async fn linked_blob_size(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<u64>> {
        let link = self.layer_link(repo, digest);
        let blob = self.blob_path(digest);
        blocking(move || {
            if !link.exists() {
                return Ok(None);
            }
            match fs::metadata(&blob) {
                Ok(m) => Ok(Some(m.len())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e),
            }
        })
        .await
        .context("reading blob metadata")
    }
}

impl Storage for FsStorage {
    async fn repository_exists(&self, repo: &RepositoryName) -> Result<bool> {
        let dir = self.inner.repo_dir(repo);
        Ok(blocking(move || is_repo_dir(&dir)).await)
    }

    async fn repositories(&self) -> Result<Vec<RepositoryName>> {
        let dir = self.inner.root.join("repositories");
        let mut repos = blocking(move || {
            let mut out = Vec::new();
            walk_repositories(&dir, "", &mut out).map(|()| out)
        })
        .await
        .context("listing repositories")?;
        repos.sort_unstable_by(|a, b| a.as_str().cmp(b.as_str()));
        Ok(repos)
    }

    async fn blob_size(&self, repo: &RepositoryName, digest: &Digest) -> Result<Option<u64>> {
        self.inner.linked_blob_size(repo, digest).await
    }

    async fn blob_read(
        &self,
        _repo: &RepositoryName,
        digest: &Digest,
        offset: u64,
        len: u64,
    ) -> Result<BlobStream> {
        let path = self.inner.blob_path(digest);
        let file = blocking(move || File::open(path))
            .await
            .context("opening blob")?;
        Ok(BlobStream::from_file(file, offset, len))
    }

    async fn blob_mount(
        &self,
        from: &RepositoryName,
        to: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<u64>> {
        let Some(size) = self.inner.linked_blob_size(from, digest).await? else {
            return Ok(None);
        };
        let link = self.inner.layer_link(to, digest);
        blocking(move || atomic::touch(&link))
            .await
            .context("linking mounted blob")?;
        Ok(Some(size))
    }

    async fn blob_delete(&self, repo: &RepositoryName, digest: &Digest) -> Result<bool> {
        let link = self.inner.layer_link(repo, digest);
        blocking(move || atomic::remove(&link))
            .await
            .context("unlinking blob")
    }

    async fn upload_start(&self, repo: &RepositoryName, algorithm: Algorithm) -> Result<UploadId> {
        self.inner.start_session(repo, algorithm).await
    }

    async fn upload_size(&self, repo: &RepositoryName, id: UploadId) -> Result<u64> {
        let session = self.inner.session(repo, id).await?;
        let state = session.state.lock().await;
        if state.ended {
            return Err(StorageError::UploadUnknown);
        }
        Ok(state.size)
    }

    async fn upload_append(
        &self,
        repo: &RepositoryName,
        id: UploadId,
        start: Option<u64>,
        len: Option<u64>,
        body: impl BodyStream,
    ) -> Result<u64> {
        let session = self.inner.session(repo, id).await?;
        // Its own task: a client that disconnects cancels the request, never this write half
        // way, so the rollback on a failed body always runs.
        detached(async move { session.append(start, len, body).await }).await
    }

    async fn upload_complete(
        &self,
        repo: &RepositoryName,
        id: UploadId,
        digest: &Digest,
    ) -> Result<u64> {
        let inner = self.inner.clone();
        let (repo, digest) = (repo.clone(), digest.clone());
        detached(async move { inner.complete_session(&repo, id, &digest).await }).await
    }

    async fn upload_cancel(&self, repo: &RepositoryName, id: UploadId) -> Result<()> {
        let inner = self.inner.clone();
        let repo = repo.clone();
        detached(async move { inner.cancel_session(&repo, id).await }).await
    }

    async fn manifest_get(
        &self,
        repo: &RepositoryName,
        reference: &Reference,
    ) -> Result<Option<Arc<StoredManifest>>> {
        self.inner.get_manifest(repo, reference).await
    }

    async fn manifest_put(&self, repo: &RepositoryName, write: ManifestWrite) -> Result<()> {
        let inner = self.inner.clone();
        let repo = repo.clone();
        detached(async move { inner.put_manifest(&repo, write).await }).await
    }

    async fn manifest_delete(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        subject: Option<&Digest>,
    ) -> Result<bool> {
        let inner = self.inner.clone();
        let (repo, digest, subject) = (repo.clone(), digest.clone(), subject.cloned());
        detached(async move {
            inner
                .delete_manifest(&repo, &digest, subject.as_ref())
                .await
        })
        .await
    }

    async fn tag_delete(&self, repo: &RepositoryName, tag: &Tag) -> Result<bool> {
        let inner = self.inner.clone();
        let (repo, tag) = (repo.clone(), tag.clone());
        detached(async move { inner.delete_tag(&repo, &tag).await }).await
    }

    async fn tags(&self, repo: &RepositoryName) -> Result<Option<Vec<Tag>>> {
        self.inner.list_tags(repo).await
    }

    async fn referrers(&self, repo: &RepositoryName, subject: &Digest) -> Result<Arc<Referrers>> {
        self.inner.list_referrers(repo, subject).await
    }
}

/// Runs a write to completion on its own task, whatever happens to the caller.
async fn detached<T: Send + 'static>(f: impl Future<Output = T> + Send + 'static) -> T {
    match tokio::spawn(f).await {
        Ok(v) => v,
        Err(e) => std::panic::resume_unwind(e.into_panic()),
    }
}
