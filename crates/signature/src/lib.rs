//! Signatures on OCI artifacts, over the network or an image layout. For Notary Project
//! signatures: the signature manifest, signing a manifest and storing its signature as a
//! referrer, finding the signatures of a manifest, and the network halves of verification
//! (RFC 3161 timestamping authorities and CRL downloads). For cosign: appending signatures and
//! attestations to their tags, and reading them back ([`cosign`]).
//!
//! Deciding whether a signature is trusted is [`hallmark_verifier`]'s job, which does no I/O;
//! this crate fetches what it needs and hands it over.

pub mod cosign;
pub mod crl;
pub mod find;
pub mod manifest;
pub mod sign;
pub mod tsa;

pub use find::FoundSignature;
pub use manifest::{SIGNATURE_ARTIFACT_TYPE, SignatureManifest};

/// Why a signature operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Talking to the registry or layout failed.
    #[error(transparent)]
    Client(#[from] hallmark_client::Error),
    /// Building the envelope failed.
    #[error(transparent)]
    Envelope(#[from] hallmark_envelope::EnvelopeError),
    /// A referrer claimed to be a signature and is not one.
    #[error("not a Notary Project signature manifest: {0}")]
    NotASignature(String),
    /// Encoding JSON or a time failed.
    #[error("cannot encode: {0}")]
    Encoding(String),
    /// The signing key or its certificates cannot be used.
    #[error("{0}")]
    SigningKey(String),
    /// A cosign attachment or bundle is malformed.
    #[error(transparent)]
    Cosign(#[from] hallmark_cosign::CosignError),
    /// Concurrent writers kept dropping our layer from a cosign attachment.
    #[error(
        "{repository}:{tag} kept losing our layer to concurrent writers after {attempts} \
         attempts; sign again"
    )]
    AttachmentConflict {
        /// The repository.
        repository: String,
        /// The attachment tag.
        tag: String,
        /// How many rounds were tried.
        attempts: u32,
    },
    /// An attachment is full.
    #[error("{tag} already holds {limit} layers, the most cosign accepts")]
    TooManyLayers {
        /// The attachment tag.
        tag: String,
        /// The limit.
        limit: usize,
    },
    /// A layer too large to be a signature or attestation.
    #[error("layer {digest} is {size} bytes, more than a signature or attestation can be")]
    LayerTooLarge {
        /// The layer's digest.
        digest: String,
        /// Its size.
        size: u64,
    },
    /// The timestamping authority did not give a usable token.
    #[error("timestamping with {url} failed: {reason}")]
    Timestamp {
        /// The TSA's URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
}
