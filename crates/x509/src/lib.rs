//! X.509 certificates, keys and the Notary Project certificate chain rules.
//!
//! Every other Notary Project crate in Hallmark passes certificates around as
//! [`Certificate`], which keeps the DER exactly as received (thumbprints, trust-store matching
//! and signatures are all computed over those bytes) next to its parsed form.
//!
//! - [`certificate`]: parsing, names, extensions and issuer signature checks.
//! - [`key`]: the six Notary Project key specs and signature algorithms, signing and
//!   verification through aws-lc-rs.
//! - [`chain`]: the certificate rules of the Notary Project signature specification
//!   ("Certificate Requirements"), for code-signing and timestamping chains.
//! - [`generate_test_certificate`]: what `notation cert generate-test` makes.
//! - [`testing`]: builders of certificate chains for tests, including broken ones.

pub mod certificate;
pub mod chain;
mod error;
mod generate;
pub mod key;
mod memo;
pub mod name;
pub mod pem;
mod signature;
pub mod testing;

pub use certificate::Certificate;
pub use error::Error;
pub use generate::generate_test_certificate;
pub use key::{KeyAlgorithm, KeySpec, PublicKey, SignatureAlgorithm, SigningKey};
pub use name::DistinguishedName;
