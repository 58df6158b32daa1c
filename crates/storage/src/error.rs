//! Errors of storage operations.

use std::io;

use hallmark_oci::Digest;
use thiserror::Error;

/// What went wrong in storage. Variants name the rule broken, so the protocol layer can map
/// each to the distribution spec's error code.
#[derive(Debug, Error)]
pub enum StorageError {
    /// No upload session with that id in that repository.
    #[error("upload session not found in this repository")]
    UploadUnknown,
    /// A chunk did not start where the session's data ends.
    #[error("chunk starts at byte {start} but the upload holds {size} bytes")]
    RangeMismatch {
        /// Bytes held by the session.
        size: u64,
        /// Where the chunk claimed to start.
        start: u64,
    },
    /// A chunk's length differs from what its headers declared.
    #[error("chunk declared {declared} bytes but carried {received}")]
    LengthMismatch {
        /// Declared by `Content-Range`/`Content-Length`.
        declared: u64,
        /// Actually received.
        received: u64,
    },
    /// The uploaded content does not hash to the digest the client named.
    #[error("uploaded content has digest {computed}, not {expected}")]
    DigestMismatch {
        /// Named by the client.
        expected: Digest,
        /// Computed over the received bytes.
        computed: Digest,
    },
    /// The request body failed before it ended (client gone, connection reset).
    #[error("request body ended early: {0}")]
    Body(#[source] io::Error),
    /// A manifest or blob expected in the store was not there.
    #[error("content {0} is missing from the store")]
    Missing(Digest),
    /// Stored metadata could not be read back.
    #[error("stored metadata at {path} is corrupt: {reason}")]
    Corrupt {
        /// Where.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// The filesystem or object store failed.
    #[error("storage failed while {action}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Attaches a description of the action to an I/O error.
pub(crate) trait IoContext<T> {
    fn context(self, action: &'static str) -> Result<T, StorageError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn context(self, action: &'static str) -> Result<T, StorageError> {
        self.map_err(|source| StorageError::Io { action, source })
    }
}
