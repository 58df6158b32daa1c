//! TimeStampResp, the TSA's answer (RFC 3161 §2.4.2).
//!
//! ```text
//! TimeStampResp ::= SEQUENCE { status PKIStatusInfo, timeStampToken TimeStampToken OPTIONAL }
//! PKIStatusInfo ::= SEQUENCE {
//!    status       PKIStatus,
//!    statusString PKIFreeText OPTIONAL,
//!    failInfo     PKIFailureInfo OPTIONAL }
//! ```
//!
//! A response is accepted only when granted (with or without modifications), when it
//! carries a token, and when the token echoes the request's nonce and imprint: a replayed or
//! misdirected token is refused here. The token's signature and trust are checked separately
//! by [`TimestampToken::verify`], as notation validates a new token against
//! `--timestamp-root-cert` before embedding it.

use crate::asn1::{Reader, Tlv, tag};
use crate::ber;
use crate::error::{DecodeError, TimestampError};
use crate::request::{Nonce, TimestampRequest};
use crate::token::TimestampToken;

/// PKIStatus names by value (RFC 3161 §2.4.2).
const STATUS_NAMES: [&str; 6] = [
    "granted",
    "grantedWithMods",
    "rejection",
    "waiting",
    "revocationWarning",
    "revocationNotification",
];

/// PKIFailureInfo bits by number (RFC 3161 §2.4.2).
const FAILURE_NAMES: [(usize, &str); 8] = [
    (0, "badAlg"),
    (2, "badRequest"),
    (5, "badDataFormat"),
    (14, "timeNotAvailable"),
    (15, "unacceptedPolicy"),
    (16, "unacceptedExtension"),
    (17, "addInfoNotAvailable"),
    (25, "systemFailure"),
];

fn malformed(structure: &'static str) -> impl Fn(DecodeError) -> TimestampError {
    move |source| TimestampError::MalformedResponse { structure, source }
}

/// Parses a TSA response to `request` and returns its token, unverified.
pub fn parse_response(
    bytes: &[u8],
    request: &TimestampRequest,
) -> Result<TimestampToken, TimestampError> {
    let der = ber::to_der(bytes).map_err(malformed("BER encoding"))?;
    let mut outer = Reader::new(&der);
    let response = outer
        .read(tag::SEQUENCE, "TimeStampResp")
        .map_err(malformed("TimeStampResp"))?;
    outer
        .finish("TimeStampResp")
        .map_err(malformed("TimeStampResp"))?;

    let mut reader = response.reader();
    let status_info = reader
        .read(tag::SEQUENCE, "PKIStatusInfo")
        .map_err(malformed("PKIStatusInfo"))?;
    check_status(&status_info)?;

    let token = reader
        .read_optional(tag::SEQUENCE)
        .map_err(malformed("timeStampToken"))?
        .ok_or(TimestampError::MissingToken)?;
    reader
        .finish("TimeStampResp")
        .map_err(malformed("TimeStampResp"))?;
    let token = TimestampToken::parse(token.raw)?;

    // RFC 3161 §2.4.2: the nonce MUST be the request's when the request had one.
    let info = token.tst_info();
    let echoed = info.nonce.as_deref().map(Nonce::from_be_bytes);
    if echoed.as_ref() != Some(request.nonce()) {
        return Err(TimestampError::NonceMismatch);
    }
    // RFC 3161 §2.4.2: the messageImprint MUST be the request's.
    let expected = request.message_imprint();
    if info.message_imprint.hash_algorithm != expected.hash_algorithm
        || info.message_imprint.hashed_message != expected.hashed_message
    {
        return Err(TimestampError::ResponseImprintMismatch);
    }
    Ok(token)
}

/// Fails unless the status is granted or grantedWithMods.
fn check_status(status_info: &Tlv<'_>) -> Result<(), TimestampError> {
    let mut reader = status_info.reader();
    let code = reader
        .read(tag::INTEGER, "status")
        .and_then(|t| t.small_integer())
        .map_err(malformed("PKIStatusInfo"))?;
    if code == 0 || code == 1 {
        return Ok(());
    }

    // PKIFreeText ::= SEQUENCE SIZE (1..MAX) OF UTF8String
    let status_text = reader
        .read_optional(tag::SEQUENCE)
        .map_err(malformed("PKIStatusInfo"))?
        .map(|texts| {
            let mut texts = texts.reader();
            let mut parts = Vec::new();
            while let Ok(text) = texts.read(tag::UTF8_STRING, "PKIFreeText") {
                parts.push(String::from_utf8_lossy(text.value).into_owned());
            }
            parts.join("; ")
        });
    let fail_info = reader
        .read_optional(tag::BIT_STRING)
        .map_err(malformed("PKIStatusInfo"))?
        .map(|bits| failure_names(bits.value))
        .unwrap_or_default();

    let status = usize::try_from(code)
        .ok()
        .and_then(|i| STATUS_NAMES.get(i).copied())
        .unwrap_or("unknown status");
    Err(TimestampError::Rejected {
        code,
        status,
        status_text,
        fail_info,
    })
}

/// Names of the bits set in a PKIFailureInfo BIT STRING (content octets).
fn failure_names(value: &[u8]) -> Vec<&'static str> {
    let bits = value.get(1..).unwrap_or_default();
    FAILURE_NAMES
        .iter()
        .filter(|(bit, _)| {
            bits.get(bit / 8)
                .is_some_and(|byte| byte & (0x80 >> (bit % 8)) != 0)
        })
        .map(|(_, name)| *name)
        .collect()
}
