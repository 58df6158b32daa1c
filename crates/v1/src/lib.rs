//! The bridge from Notary v1 (Docker Content Trust) to signatures stored next to the image.
//!
//! - [`source`]: where v1 trust data comes from: a Notary v1 server, fetched as the `notary`
//!   client fetches it (timestamp, snapshot and targets by checksum, delegations, `<n>.root.json`
//!   to rotate), or a trust directory left by `notary` or `docker trust`; and the state kept
//!   between runs (the trusted root and versions) so a server cannot roll a repository back.
//! - [`evidence`]: the verified v1 metadata that covered a tag, stored as a referrer of the
//!   image so an auditor can see it was signed under v1, by which keys and when.
//! - [`migrate`]: signed tags checked against the registry and signed again as Notary Project
//!   or cosign signatures, resumably, with a report of every tag.
//! - [`artifact`]: one artifact verified by v1 trust data, for `hallmark verify`.
//!
//! Verification of v1 data is `hallmark_tuf`'s; this crate fetches and writes.

pub mod artifact;
pub mod evidence;
pub mod migrate;
pub mod source;

impl Error {
    /// A verification failure of `gun`'s v1 data.
    pub fn tuf(gun: &hallmark_tuf::Gun, source: hallmark_tuf::Error) -> Error {
        Error::Tuf {
            gun: gun.to_string(),
            source: Box::new(source),
        }
    }
}

/// Why a bridge operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to the v1 server or the registry failed.
    #[error(transparent)]
    Client(#[from] hallmark_client::Error),
    /// The v1 metadata did not verify, or could not be read.
    #[error("Notary v1 trust data for {gun} did not verify")]
    Tuf {
        /// The repository.
        gun: String,
        /// The rule broken.
        #[source]
        source: Box<hallmark_tuf::Error>,
    },
    /// The server has no trust data for the repository.
    #[error("{server} has no Notary v1 trust data for {gun} (timestamp.json answered 404)")]
    NoTrustData {
        /// The server.
        server: String,
        /// The repository.
        gun: String,
    },
    /// The server made one update fetch more files than any repository has.
    #[error(
        "{server} made one update of {gun} fetch more than {limit} files of Notary v1 trust \
         data (a repository has a handful); refusing: check the server"
    )]
    TooManyFiles {
        /// The server.
        server: String,
        /// The repository.
        gun: String,
        /// The most files one update fetches.
        limit: u64,
    },
    /// The server sent more bytes in one update than any repository's trust data holds.
    #[error(
        "{server} sent more than {limit} bytes of Notary v1 trust data for {gun} in one \
         update (a repository's trust data is far smaller); refusing: check the server"
    )]
    TooMuchData {
        /// The server.
        server: String,
        /// The repository.
        gun: String,
        /// The most bytes one update fetches.
        limit: u64,
    },
    /// The trust directory has no data for the repository.
    #[error("{dir} holds no metadata for {gun}; expected {dir}/tuf/{gun}/metadata/root.json")]
    NoCachedData {
        /// The trust directory.
        dir: String,
        /// The repository.
        gun: String,
    },
    /// Signing or storing a signature failed.
    #[error(transparent)]
    Signature(#[from] hallmark_signature::Error),
    /// The state directory could not be read or written.
    #[error("{what} {path}: {source}")]
    State {
        /// What was being done.
        what: &'static str,
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file of the state directory is not what this program writes.
    #[error("the trusted state {path} is corrupt: {why}; remove it to trust the server anew")]
    CorruptState {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Encoding failed.
    #[error("cannot encode: {0}")]
    Encoding(String),
    /// The v1 metadata files of the evidence could not be stored.
    #[error("cannot store the evidence's v1 metadata files: {0}")]
    EvidenceBlobs(String),
}
