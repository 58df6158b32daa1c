//! Upload sessions (distribution spec, "Pushing blobs").
//!
//! A session is one file, `uploads/<uuid>.<repository key>`, created empty when the session
//! starts. Its bytes go there as they arrive and are hashed on the way, in batches handed to the
//! blocking pool so that receiving, hashing and writing overlap. Nothing is flushed until the
//! client completes the upload; then the digest is checked, the file is flushed and renamed
//! into `blobs/`, and only then linked into the repository. One file and no directory per
//! session keeps a push to the fewest metadata operations.
//!
//! The repository key (a hash of the repository name) binds the session to its repository
//! across restarts: looked up under another name, the file is not found. The running hash
//! lives in memory; a session whose hash was lost (a restart, a cancelled request) still
//! completes, its data file hashed again from disk.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bytes::Bytes;
use futures_util::StreamExt;
use hallmark_oci::{Algorithm, Digest, Digester, RepositoryName};
use tokio::task::JoinHandle;

use super::{Inner, atomic, blocking};
use crate::error::IoContext;
use crate::{BodyStream, Result, StorageError, UploadId};

/// Bytes gathered from the network before one hand-off to the blocking pool.
const WRITE_BATCH: usize = 1 << 20;

/// A session: fixed facts outside the lock, changing state inside it.
#[derive(Debug)]
pub(super) struct SessionHandle {
    repo: RepositoryName,
    /// The data file.
    data: PathBuf,
    pub(super) state: tokio::sync::Mutex<SessionState>,
}

#[derive(Debug)]
pub(super) struct SessionState {
    /// Bytes accepted so far; the data file may hold more after a cancelled write, never less.
    pub(super) size: u64,
    /// Hash of the first `size` bytes, when still known.
    digester: Option<Digester>,
    /// Open data file, positioned at `size`.
    file: Option<File>,
    /// Completed or cancelled: the id is no longer valid.
    pub(super) ended: bool,
}

impl Inner {
    /// The data file of session `id` of `repo`.
    fn upload_path(&self, repo: &RepositoryName, id: UploadId) -> PathBuf {
        let key = Algorithm::Sha256.digest(repo.as_str().as_bytes());
        let name = format!("{}.{}", id.simple(), &key.hex()[..16]);
        self.root.join("uploads").join(name)
    }

    pub(super) async fn start_session(
        &self,
        repo: &RepositoryName,
        algorithm: Algorithm,
    ) -> Result<UploadId> {
        let id = uuid::Uuid::new_v4();
        let data = self.upload_path(repo, id);
        let path = data.clone();
        // Not flushed: a session lost to a crash is simply unknown afterwards, and the client
        // starts again; only completed blobs promise durability.
        let file = blocking(move || {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(path)
        })
        .await
        .context("creating upload session")?;
        let handle = SessionHandle {
            repo: repo.clone(),
            data,
            state: tokio::sync::Mutex::new(SessionState {
                size: 0,
                digester: Some(algorithm.digester()),
                file: Some(file),
                ended: false,
            }),
        };
        self.sessions().insert(id, Arc::new(handle));
        Ok(id)
    }

    fn sessions(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<UploadId, Arc<SessionHandle>>> {
        // Entries are whole values; a poisoned map is still consistent.
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Finds a session of `repo`, in memory or (after a restart) on disk.
    pub(super) async fn session(
        &self,
        repo: &RepositoryName,
        id: UploadId,
    ) -> Result<Arc<SessionHandle>> {
        let found = self.sessions().get(&id).cloned();
        let handle = match found {
            Some(h) => h,
            None => {
                let data = self.upload_path(repo, id);
                let repo = repo.clone();
                let loaded = blocking(move || load_session(repo, data)).await?;
                let Some(handle) = loaded else {
                    return Err(StorageError::UploadUnknown);
                };
                self.sessions()
                    .entry(id)
                    .or_insert(Arc::new(handle))
                    .clone()
            }
        };
        if &handle.repo != repo {
            return Err(StorageError::UploadUnknown);
        }
        Ok(handle)
    }

    pub(super) async fn complete_session(
        &self,
        repo: &RepositoryName,
        id: UploadId,
        digest: &Digest,
    ) -> Result<u64> {
        let handle = self.session(repo, id).await?;
        let mut state = handle.state.lock().await;
        if state.ended {
            return Err(StorageError::UploadUnknown);
        }
        state.ended = true;
        let size = state.size;
        let file = state.file.take();
        let digester = state.digester.take();
        let data = handle.data.clone();
        let blob = self.blob_path(digest);
        let link = self.layer_link(repo, digest);
        let digest = digest.clone();
        let result = blocking(move || {
            let result = finish_upload(&data, file, digester, size, &digest, &blob, &link);
            // Gone already when it was published; otherwise no longer wanted.
            let _ = fs::remove_file(&data);
            result
        })
        .await;
        drop(state);
        self.sessions().remove(&id);
        result.map(|()| size)
    }

    pub(super) async fn cancel_session(&self, repo: &RepositoryName, id: UploadId) -> Result<()> {
        let handle = self.session(repo, id).await?;
        let mut state = handle.state.lock().await;
        if state.ended {
            return Err(StorageError::UploadUnknown);
        }
        state.ended = true;
        state.file = None;
        let data = handle.data.clone();
        blocking(move || fs::remove_file(data))
            .await
            .context("removing upload session")?;
        drop(state);
        self.sessions().remove(&id);
        Ok(())
    }

    /// Removes sessions nobody touched for `max_age`, at start-up.
    pub(super) fn purge_stale_uploads(&self, max_age: Duration) {
        let Ok(entries) = fs::read_dir(self.root.join("uploads")) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let path = entry.path();
            let touched = entry.metadata().and_then(|m| m.modified()).ok();
            let stale = touched
                .and_then(|t| now.duration_since(t).ok())
                .is_none_or(|age| age > max_age);
            if stale {
                tracing::info!(path = %path.display(), "removing stale upload session");
                let _ = fs::remove_file(&path);
            }
        }
    }
}

fn load_session(repo: RepositoryName, data: PathBuf) -> Result<Option<SessionHandle>> {
    let size = match fs::metadata(&data) {
        Ok(m) => m.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(StorageError::Io {
                action: "reading upload session",
                source: e,
            });
        }
    };
    Ok(Some(SessionHandle {
        repo,
        data,
        state: tokio::sync::Mutex::new(SessionState {
            size,
            digester: None,
            file: None,
            ended: false,
        }),
    }))
}

/// Verifies, flushes, publishes and links a finished upload.
fn finish_upload(
    data: &Path,
    file: Option<File>,
    digester: Option<Digester>,
    size: u64,
    digest: &Digest,
    blob: &Path,
    link: &Path,
) -> Result<()> {
    let file = match file {
        Some(f) => f,
        None => open_data(data, size).context("opening upload data")?,
    };
    let computed = match digester {
        Some(d) if d.algorithm() == digest.algorithm() => d.finish(),
        _ => rehash(data, size, digest.algorithm()).context("hashing upload data")?,
    };
    if &computed != digest {
        return Err(StorageError::DigestMismatch {
            expected: digest.clone(),
            computed,
        });
    }
    // Three things must be durable before the 201: the data, its name under blobs/, and the
    // repository's link. The two directory flushes come last, together: on a journaling
    // filesystem the first commits both entries, and the second finds nothing left to do.
    let blob_dir = blob.parent().unwrap_or(Path::new("."));
    if !blob.exists() {
        file.sync_data().context("flushing upload data")?;
        drop(file);
        atomic::ensure_dir(blob_dir).context("publishing blob")?;
        fs::rename(data, blob).context("publishing blob")?;
    }
    // When the blob existed already, its name may come from a concurrent upload that has not
    // flushed its directory yet: the flush below covers it too.
    let link_dir = atomic::create_marker(link).context("linking blob into repository")?;
    atomic::sync_dir(blob_dir).context("flushing blob directory")?;
    atomic::sync_dir(&link_dir).context("flushing repository link")?;
    Ok(())
}

/// Opens (creating) a session's data file, cut back to the `size` bytes that were accepted.
fn open_data(path: &Path, size: u64) -> io::Result<File> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)?;
    f.set_len(size)?;
    f.seek(SeekFrom::Start(size))?;
    Ok(f)
}

fn rehash(path: &Path, size: u64, algorithm: Algorithm) -> io::Result<Digest> {
    let mut d = algorithm.digester();
    let mut f = File::open(path)?.take(size);
    let mut buf = vec![0u8; WRITE_BATCH];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        d.update(&buf[..n]);
    }
    Ok(d.finish())
}

impl SessionHandle {
    /// Appends one chunk; see [`crate::Storage::upload_append`].
    pub(super) async fn append(
        &self,
        start: Option<u64>,
        len: Option<u64>,
        body: impl BodyStream,
    ) -> Result<u64> {
        let mut state = self.state.lock().await;
        if state.ended {
            return Err(StorageError::UploadUnknown);
        }
        if let Some(start) = start
            && start != state.size
        {
            return Err(StorageError::RangeMismatch {
                size: state.size,
                start,
            });
        }
        let before = state.size;
        let file = match state.file.take() {
            Some(f) => f,
            None => {
                let path = self.data.clone();
                blocking(move || open_data(&path, before))
                    .await
                    .context("opening upload data")?
            }
        };
        let digester = state.digester.clone();
        let mut writer = Writer {
            idle: Some((file, digester)),
            pending: None,
        };
        let result = receive(&mut writer, len, body).await;
        let settled = writer.settle().await;
        let Some((file, digester)) = writer.idle.take() else {
            // The blocking write task panicked; its state is gone. Drop the file handle so the
            // next append reopens and truncates, and rehash at completion.
            state.digester = None;
            return Err(result.err().unwrap_or(StorageError::Io {
                action: "writing upload data",
                source: io::Error::other("write task failed"),
            }));
        };
        match result.and_then(|received| settled.map(|()| received)) {
            Ok(received) => {
                state.size = before + received;
                state.file = Some(file);
                state.digester = digester;
                Ok(state.size)
            }
            Err(e) => {
                // Roll back: the session keeps exactly what it had before this chunk.
                let truncated = blocking(move || file.set_len(before).map(|()| file)).await;
                if let Ok(mut f) = truncated
                    && f.seek(SeekFrom::Start(before)).is_ok()
                {
                    state.file = Some(f);
                }
                Err(e)
            }
        }
    }
}

/// Reads the body into the writer, checking its length against `len`.
async fn receive(writer: &mut Writer, len: Option<u64>, mut body: impl BodyStream) -> Result<u64> {
    let mut received = 0u64;
    let mut batch = Vec::new();
    let mut batch_len = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(StorageError::Body)?;
        received += chunk.len() as u64;
        if let Some(declared) = len
            && received > declared
        {
            return Err(StorageError::LengthMismatch { declared, received });
        }
        batch_len += chunk.len();
        batch.push(chunk);
        if batch_len >= WRITE_BATCH {
            writer.submit(std::mem::take(&mut batch)).await?;
            batch_len = 0;
        }
    }
    if !batch.is_empty() {
        writer.submit(batch).await?;
    }
    if let Some(declared) = len
        && received != declared
    {
        return Err(StorageError::LengthMismatch { declared, received });
    }
    Ok(received)
}

type WriteState = (File, Option<Digester>);

/// A batch in flight: one blocking task writes it while another hashes it, since each takes
/// about as long as the other.
struct Pending {
    write: JoinHandle<(File, io::Result<()>)>,
    hash: Option<JoinHandle<Digester>>,
}

/// Hands batches to the blocking pool, one in flight at a time, so the next batch is received
/// while the previous one is hashed and written.
struct Writer {
    idle: Option<WriteState>,
    pending: Option<Pending>,
}

impl Writer {
    /// Waits for the batch in flight, if any, and returns the state to `idle`.
    async fn settle(&mut self) -> Result<()> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        // A hashing task that panicked loses the running hash; completion rehashes from disk.
        let digester = match pending.hash {
            Some(h) => h.await.ok(),
            None => None,
        };
        match pending.write.await {
            Ok((file, result)) => {
                self.idle = Some((file, digester));
                result.context("writing upload data")
            }
            Err(e) => Err(StorageError::Io {
                action: "writing upload data",
                source: io::Error::other(e.to_string()),
            }),
        }
    }

    async fn submit(&mut self, batch: Vec<Bytes>) -> Result<()> {
        self.settle().await?;
        let Some((mut file, digester)) = self.idle.take() else {
            return Err(StorageError::Io {
                action: "writing upload data",
                source: io::Error::other("write task failed"),
            });
        };
        let batch = Arc::new(batch);
        let hash = digester.map(|mut d| {
            let batch = batch.clone();
            tokio::task::spawn_blocking(move || {
                batch.iter().for_each(|b| d.update(b));
                d
            })
        });
        let write = tokio::task::spawn_blocking(move || {
            let result = batch.iter().try_for_each(|b| file.write_all(b));
            (file, result)
        });
        self.pending = Some(Pending { write, hash });
        Ok(())
    }
}
