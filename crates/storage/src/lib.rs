//! Where the registry keeps its content.
//!
//! [`Storage`] is the one interface the protocol layer uses. It speaks in the distribution
//! spec's terms (blobs linked into repositories, upload sessions, manifests, tags, referrers)
//! and never in HTTP. [`fs::FsStorage`] implements it on a local filesystem; an object-store
//! implementation sits beside it behind the same trait.
//!
//! Invariants every implementation keeps:
//! - content becomes visible only after its digest is verified and the bytes are durable;
//! - a method that returns `Ok` after a write has made that write durable;
//! - request bodies are streamed, never held whole in memory;
//! - a failed or interrupted write leaves what was stored before unchanged.

pub mod error;
pub mod fs;
mod stream;

use std::future::Future;
use std::io;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures_util::Stream;
use hallmark_oci::{Algorithm, Descriptor, Digest, Reference, RepositoryName, Tag};

pub use error::StorageError;
pub use stream::BlobStream;

/// Result of a storage operation.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A request body as the storage layer consumes it.
pub trait BodyStream: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static {}
impl<T: Stream<Item = io::Result<Bytes>> + Send + Unpin + 'static> BodyStream for T {}

/// The identifier of an upload session (a UUID, opaque to clients).
pub type UploadId = uuid::Uuid;

/// A manifest as stored: its exact bytes and the media type it was pushed with.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    /// Digest of `bytes`.
    pub digest: Digest,
    /// Media type the manifest was pushed with.
    pub media_type: String,
    /// The bytes exactly as pushed.
    pub bytes: Bytes,
}

/// Everything needed to store one manifest.
#[derive(Debug, Clone)]
pub struct ManifestWrite {
    /// Digest of `bytes`, computed by the caller.
    pub digest: Digest,
    /// Media type to serve it with.
    pub media_type: String,
    /// The bytes exactly as pushed.
    pub bytes: Bytes,
    /// Tags to point at this manifest.
    pub tags: Vec<Tag>,
    /// When the manifest has a `subject`: that digest and the descriptor the referrers API
    /// lists for this manifest.
    pub referrer: Option<(Digest, Descriptor)>,
}

/// The referrers of one subject, each with its descriptor pre-serialized to JSON so that
/// answering a query is concatenation.
#[derive(Debug, Default)]
pub struct Referrers {
    /// Entries in a stable order (by referrer digest).
    pub entries: Vec<ReferrerEntry>,
    /// Every entry's JSON joined with commas, made on first use. The value is shared and never
    /// changed (a change makes a new `Referrers`), so the common query, the whole list, is
    /// answered without copying it.
    joined: OnceLock<Bytes>,
}

impl Referrers {
    /// A list of referrers in the order given.
    pub fn new(entries: Vec<ReferrerEntry>) -> Referrers {
        Referrers {
            entries,
            joined: OnceLock::new(),
        }
    }

    /// Every entry's JSON, in order, separated by commas: the content of a JSON array.
    pub fn joined(&self) -> Bytes {
        self.joined
            .get_or_init(|| {
                let len = self.entries.iter().map(|e| e.json.len() + 1).sum();
                let mut out = Vec::with_capacity(len);
                for (i, e) in self.entries.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend_from_slice(&e.json);
                }
                Bytes::from(out)
            })
            .clone()
    }
}

/// One referrer of a subject.
#[derive(Debug, Clone)]
pub struct ReferrerEntry {
    /// The descriptor listed in the referrers index.
    pub descriptor: Descriptor,
    /// `descriptor` serialized as JSON.
    pub json: Bytes,
}

/// Storage for one registry.
///
/// Repository names, digests and tags arrive parsed; implementations may use them as path
/// components without further checks.
pub trait Storage: Send + Sync + 'static {
    /// Whether a repository holds anything (blobs or manifests).
    fn repository_exists(&self, repo: &RepositoryName)
    -> impl Future<Output = Result<bool>> + Send;

    /// Every repository, in lexical order.
    fn repositories(&self) -> impl Future<Output = Result<Vec<RepositoryName>>> + Send;

    /// Size of a blob linked into `repo`, or `None` when it is not.
    fn blob_size(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// Streams `len` bytes of a blob from `offset`. The range must lie within the blob.
    fn blob_read(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        offset: u64,
        len: u64,
    ) -> impl Future<Output = Result<BlobStream>> + Send;

    /// Links a blob that `from` holds into `to`. Returns its size, or `None` when `from`
    /// does not hold it.
    fn blob_mount(
        &self,
        from: &RepositoryName,
        to: &RepositoryName,
        digest: &Digest,
    ) -> impl Future<Output = Result<Option<u64>>> + Send;

    /// Unlinks a blob from a repository. Returns whether it was linked.
    fn blob_delete(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Opens an upload session that will hash with `algorithm`.
    fn upload_start(
        &self,
        repo: &RepositoryName,
        algorithm: Algorithm,
    ) -> impl Future<Output = Result<UploadId>> + Send;

    /// Bytes received so far by a session.
    fn upload_size(
        &self,
        repo: &RepositoryName,
        id: UploadId,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Appends a chunk. `start`, when given, must equal the bytes received so far; `len`,
    /// when given, must equal the chunk's length. On any failure the session is left as it
    /// was before the call. Returns the new size.
    fn upload_append(
        &self,
        repo: &RepositoryName,
        id: UploadId,
        start: Option<u64>,
        len: Option<u64>,
        body: impl BodyStream,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Verifies the session's content against `digest`, makes it durable and links it into
    /// the repository. The session ends, whether this succeeds or the digest mismatches.
    fn upload_complete(
        &self,
        repo: &RepositoryName,
        id: UploadId,
        digest: &Digest,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Discards a session and its data.
    fn upload_cancel(
        &self,
        repo: &RepositoryName,
        id: UploadId,
    ) -> impl Future<Output = Result<()>> + Send;

    /// A manifest by tag or digest, when `repo` holds it.
    fn manifest_get(
        &self,
        repo: &RepositoryName,
        reference: &Reference,
    ) -> impl Future<Output = Result<Option<Arc<StoredManifest>>>> + Send;

    /// Stores a manifest, its tags and its referrers entry, all durably.
    fn manifest_put(
        &self,
        repo: &RepositoryName,
        write: ManifestWrite,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Deletes a manifest, every tag on it and, given its subject, its referrers entry.
    /// Returns whether the repository held it.
    fn manifest_delete(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        subject: Option<&Digest>,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// Removes a tag, leaving the manifest. Returns whether the tag existed.
    fn tag_delete(
        &self,
        repo: &RepositoryName,
        tag: &Tag,
    ) -> impl Future<Output = Result<bool>> + Send;

    /// The repository's tags in lexical order, or `None` when the repository does not exist.
    fn tags(&self, repo: &RepositoryName) -> impl Future<Output = Result<Option<Vec<Tag>>>> + Send;

    /// The manifests in `repo` whose subject is `subject`.
    fn referrers(
        &self,
        repo: &RepositoryName,
        subject: &Digest,
    ) -> impl Future<Output = Result<Arc<Referrers>>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = concat!(
        r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":3,"digest":"#,
        r#""sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}"#
    );
    const B: &str = concat!(
        r#"{"mediaType":"application/vnd.oci.image.manifest.v1+json","size":3,"digest":"#,
        r#""sha256:fcde2b2edba56bf408601fb721fe9b5c338d10ee429ea04fae5511b68fbf8fb9"}"#
    );

    fn entry(json: &'static str) -> ReferrerEntry {
        ReferrerEntry {
            descriptor: serde_json::from_str(json).expect("valid descriptor"),
            json: Bytes::from_static(json.as_bytes()),
        }
    }

    #[test]
    fn joined_is_the_content_of_a_json_array() {
        let cases = [
            (vec![], String::new()),
            (vec![A], A.to_owned()),
            (vec![A, B], format!("{A},{B}")),
        ];
        for (entries, want) in cases {
            let referrers = Referrers::new(entries.into_iter().map(entry).collect());
            assert_eq!(referrers.joined(), want.as_bytes());
            // Made once: the second call shares the first one's bytes.
            assert_eq!(referrers.joined().as_ptr(), referrers.joined().as_ptr());
        }
    }
}
