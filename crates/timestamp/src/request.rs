//! TimeStampReq, what the signing side sends to a TSA (RFC 3161 §2.4.1).
//!
//! ```text
//! TimeStampReq ::= SEQUENCE {
//!    version        INTEGER { v1(1) },
//!    messageImprint MessageImprint,
//!    reqPolicy      TSAPolicyId OPTIONAL,
//!    nonce          INTEGER OPTIONAL,
//!    certReq        BOOLEAN DEFAULT FALSE,
//!    extensions     [0] IMPLICIT Extensions OPTIONAL }
//! ```
//!
//! Like notation, requests carry a random nonce (replay protection, checked by
//! [`crate::parse_response`]) and set certReq so that the token carries the TSA certificate
//! that verifiers need. The caller does the HTTP: POST [`REQUEST_MEDIA_TYPE`], expect
//! [`RESPONSE_MEDIA_TYPE`].

use crate::asn1::{encode, encode_oid, encode_unsigned_integer, tag};
use crate::digest::HashAlgorithm;
use crate::error::TimestampError;
use crate::tst_info::MessageImprint;

/// Content type of an HTTP timestamp request (RFC 3161 §3.4).
pub const REQUEST_MEDIA_TYPE: &str = "application/timestamp-query";
/// Content type of an HTTP timestamp response (RFC 3161 §3.4).
pub const RESPONSE_MEDIA_TYPE: &str = "application/timestamp-reply";

/// Bytes of randomness in a nonce: 159 bits once the top bit is cleared, as tspclient-go.
const NONCE_LEN: usize = 20;

/// A request nonce: a non-negative integer as its big-endian magnitude.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nonce(Vec<u8>);

impl Nonce {
    /// A nonce from an integer's big-endian magnitude (leading zeros are ignored).
    pub fn from_be_bytes(bytes: &[u8]) -> Self {
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        Self(bytes[start..].to_vec())
    }

    /// The big-endian magnitude, without leading zeros.
    pub fn as_be_bytes(&self) -> &[u8] {
        &self.0
    }

    fn random() -> Result<Self, TimestampError> {
        let mut bytes = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut bytes).map_err(|_| TimestampError::NonceGeneration)?;
        bytes[0] &= 0x7f;
        Ok(Self::from_be_bytes(&bytes))
    }
}

/// A DER TimeStampReq and what the response must echo.
#[derive(Clone, Debug)]
pub struct TimestampRequest {
    der: Vec<u8>,
    nonce: Nonce,
    message_imprint: MessageImprint,
}

impl TimestampRequest {
    /// The DER TimeStampReq, the HTTP request body.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The nonce the response's TSTInfo must carry.
    pub fn nonce(&self) -> &Nonce {
        &self.nonce
    }

    /// The imprint the response's TSTInfo must carry.
    pub fn message_imprint(&self) -> &MessageImprint {
        &self.message_imprint
    }
}

/// Builds a request to timestamp `signature` (the envelope's raw signature bytes) hashed with
/// `hash` (notation uses the signing key's hash, [`HashAlgorithm::for_signature`]), with a
/// fresh random nonce and certReq true.
pub fn build_request(
    signature: &[u8],
    hash: HashAlgorithm,
) -> Result<TimestampRequest, TimestampError> {
    Ok(TimestampRequest::with_nonce(
        signature,
        hash,
        Nonce::random()?,
    ))
}

impl TimestampRequest {
    /// A request with a caller-chosen nonce. Prefer [`build_request`], whose random nonce is
    /// what makes replayed responses detectable; this exists for tests and reproducible
    /// requests.
    pub fn with_nonce(signature: &[u8], hash: HashAlgorithm, nonce: Nonce) -> Self {
        let message_imprint = MessageImprint {
            hash_algorithm: hash.oid(),
            hash_parameters: Some(vec![tag::NULL, 0x00]),
            hashed_message: hash.digest(signature),
        };

        let algorithm = [encode_oid(&hash.oid()), vec![tag::NULL, 0x00]].concat();
        let imprint = [
            encode(tag::SEQUENCE, &algorithm),
            encode(tag::OCTET_STRING, &message_imprint.hashed_message),
        ]
        .concat();
        let body = [
            encode_unsigned_integer(&[1]),
            encode(tag::SEQUENCE, &imprint),
            encode_unsigned_integer(nonce.as_be_bytes()),
            encode(tag::BOOLEAN, &[0xff]),
        ]
        .concat();

        Self {
            der: encode(tag::SEQUENCE, &body),
            nonce,
            message_imprint,
        }
    }
}
