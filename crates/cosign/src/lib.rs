//! cosign's key-based formats (sigstore/cosign; reference notes in `shared/reference/cosign.md`).
//!
//! - [`key_file`]: the encrypted private key file (`cosign.key`): PKCS#8 DER sealed with NaCl
//!   secretbox under a scrypt key, in a PEM block labelled `ENCRYPTED SIGSTORE PRIVATE KEY`
//!   (or, from older cosign, `ENCRYPTED COSIGN PRIVATE KEY`), and the public key file.
//!
//! This crate does no network I/O.

pub mod key_file;

pub use key_file::{KeyFileError, ScryptCost};
