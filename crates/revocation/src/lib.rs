//! Certificate revocation checking for Notary Project signatures, by CRL, behind a fetcher the
//! caller supplies.
//!
//! Verification step 6 (Notary Project trust-store-trust-policy.md "Certificate Revocation
//! Evaluation") asks whether any certificate of the signing chain (and of the timestamping
//! chain) was revoked. [`check_chain`] answers with one [`Status`] per certificate; the
//! verifier applies the trust policy's `revocation` action (enforce, log, skip) to it.
//!
//! What is implemented, following notation-core-go:
//! - CRLs (RFC 5280 §5) from the certificates' http(s) distribution points, checked for the
//!   issuer's signature, issuer name, freshness and extensions ([`crl`]);
//! - the entry rules, including notation's signing-time/invalidity-date rule ([`entry`]);
//! - a file cache of CRLs keyed by URL ([`CachingFetcher`]).
//!
//! Not implemented, and failing closed (`Status::Unknown`) instead of passing: OCSP, delta
//! CRLs, indirect CRLs and partitioned-by-reason CRLs.
//!
//! Invariant: this crate does no network I/O; downloads go through [`CrlFetcher`].

mod cache;
mod check;
pub mod crl;
pub mod entry;
mod fetch;
mod signature;
mod status;

pub use cache::CachingFetcher;
pub use check::{CheckError, UrlFailure, check_certificate, check_chain};
pub use crl::CrlError;
pub use fetch::{CrlFetcher, FetchError, MAX_CRL_SIZE};
pub use signature::SignatureError;
pub use status::Status;
