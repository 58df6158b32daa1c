//! RFC 3161 time-stamp tokens: requests, parsing and verification against a TSA trust store.
//!
//! A Notary Project signature can carry a timestamp countersignature: an RFC 3161
//! TimeStampToken over the envelope's raw signature bytes. A verified token proves the
//! signature existed at the TSA's genTime, which lets verification accept a signature whose
//! certificates have since expired (reference §4 "Timestamping"; Notary Project trust store
//! and trust policy specification, authentic timestamp).
//!
//! - [`TimestampToken::parse`] reads a token (BER tolerated, as notation converts BER to DER)
//!   and [`TimestampToken::verify`] checks it against the `tsa` trust store, returning the
//!   [`TimestampRange`] the signing certificate's validity must contain.
//! - [`build_request`] and [`parse_response`] are the two halves of a TSA exchange; the
//!   caller does the HTTP.
//!
//! Module map: `ber` converts BER to DER; `asn1` reads DER keeping raw bytes;
//! `signed_data` is the CMS envelope (RFC 5652), `tst_info` the signed content (RFC 3161),
//! `ess` the signing-certificate binding (RFC 5035), `cms_signature` the signature check,
//! `tsa_chain` path building to the trust store, `token` the verification steps.

mod asn1;
mod ber;
mod cert_id;
mod cms_signature;
mod digest;
mod error;
mod ess;
mod oid;
mod request;
mod response;
mod signed_data;
mod token;
mod tsa_chain;
mod tst_info;

pub use digest::HashAlgorithm;
pub use error::{DecodeError, TimestampError};
pub use request::{
    Nonce, REQUEST_MEDIA_TYPE, RESPONSE_MEDIA_TYPE, TimestampRequest, build_request,
};
pub use response::parse_response;
pub use token::{TimestampRange, TimestampToken};
pub use tst_info::{Accuracy, MessageImprint, TstInfo};
