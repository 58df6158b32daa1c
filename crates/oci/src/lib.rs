//! Types from the OCI image and distribution specifications.
//!
//! Everything a registry or client receives from the outside (digests, repository names, tags,
//! manifests) is parsed here once, into types that cannot hold an invalid value. Code past the
//! edge never re-checks strings. This crate does no I/O.
//!
//! Specs: <https://github.com/opencontainers/distribution-spec/blob/main/spec.md> and
//! <https://github.com/opencontainers/image-spec>.

pub mod digest;
pub mod image_ref;
pub mod manifest;
pub mod media_type;
pub mod reference;

pub use digest::{Algorithm, Digest, DigestError, Digester};
pub use image_ref::{ImageRef, ImageRefError};
pub use manifest::{Descriptor, Manifest, ManifestError};
pub use reference::{NameError, Reference, RepositoryName, Tag, percent_decode};
