//! cosign's key-based formats (sigstore/cosign; reference notes in `shared/reference/cosign.md`).
//!
//! - [`key_file`]: the encrypted private key file (`cosign.key`): PKCS#8 DER sealed with NaCl
//!   secretbox under a scrypt key, in a PEM block labelled `ENCRYPTED SIGSTORE PRIVATE KEY`
//!   (or, from older cosign, `ENCRYPTED COSIGN PRIVATE KEY`), and the public key file.
//! - [`simple_signing`]: the payload a `.sig` layer holds, byte for byte as cosign writes it.
//! - [`dsse`] and [`in_toto`]: attestations, a DSSE envelope around an in-toto statement.
//! - [`bundle`]: the sigstore bundle, stored as an OCI 1.1 referrer.
//! - [`attachment`]: the `.sig`, `.att` and `.sbom` manifests and their layer annotations.
//! - [`verify`]: key-based verification of all of the above.
//!
//! Signatures use sigstore's default algorithm for the key (ECDSA with the curve's hash and
//! an ASN.1 signature; RSA PKCS#1 v1.5 with SHA-256), through `hallmark-x509`. This crate
//! does no network I/O.

pub mod attachment;
pub mod bundle;
pub mod dsse;
pub mod error;
mod go_json;
pub mod in_toto;
pub mod key_file;
pub mod simple_signing;
pub mod verify;

pub use error::CosignError;
pub use key_file::{KeyFileError, ScryptCost};
