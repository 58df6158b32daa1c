//! TSTInfo, the content a TSA signs (RFC 3161 §2.4.2).
//!
//! ```text
//! TSTInfo ::= SEQUENCE {
//!    version        INTEGER { v1(1) },
//!    policy         TSAPolicyId,
//!    messageImprint MessageImprint,
//!    serialNumber   INTEGER,
//!    genTime        GeneralizedTime,
//!    accuracy       Accuracy OPTIONAL,
//!    ordering       BOOLEAN DEFAULT FALSE,
//!    nonce          INTEGER OPTIONAL,
//!    tsa            [0] GeneralName OPTIONAL,
//!    extensions     [1] IMPLICIT Extensions OPTIONAL }
//! ```
//!
//! genTime may carry fractional seconds (RFC 3161 §2.4.2), which the GeneralizedTime type of
//! the `der` crate rejects, so it is parsed here from its characters.

use const_oid::ObjectIdentifier;
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use crate::asn1::{AlgorithmIdentifier, Reader, Tlv, tag};
use crate::error::{DecodeError, TimestampError};
use crate::oid;

/// The hash of the timestamped data (RFC 3161 §2.4.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageImprint {
    /// The hash algorithm's object identifier.
    pub hash_algorithm: ObjectIdentifier,
    /// The hash algorithm's raw parameters (absent or NULL for SHA-2).
    pub hash_parameters: Option<Vec<u8>>,
    /// The hash value.
    pub hashed_message: Vec<u8>,
}

/// The TSA's stated accuracy of genTime (RFC 3161 §2.4.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: u32,
    /// Milliseconds, 0 to 999.
    pub millis: u16,
    /// Microseconds, 0 to 999.
    pub micros: u16,
}

impl Accuracy {
    /// The accuracy as a duration.
    pub fn duration(&self) -> Duration {
        Duration::seconds(i64::from(self.seconds))
            + Duration::milliseconds(i64::from(self.millis))
            + Duration::microseconds(i64::from(self.micros))
    }
}

/// A decoded TSTInfo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TstInfo {
    /// The TSA policy under which the token was issued.
    pub policy: ObjectIdentifier,
    /// The hash of the timestamped data.
    pub message_imprint: MessageImprint,
    /// The token's serial number (big-endian magnitude).
    pub serial_number: Vec<u8>,
    /// The time the TSA created the token.
    pub gen_time: OffsetDateTime,
    /// The accuracy of `gen_time`, when stated.
    pub accuracy: Option<Accuracy>,
    /// Whether tokens from this TSA are ordered by genTime alone.
    pub ordering: bool,
    /// The request's nonce echoed back (big-endian magnitude).
    pub nonce: Option<Vec<u8>>,
    /// The TSA's name as a raw GeneralName, when present.
    pub tsa: Option<Vec<u8>>,
}

impl TstInfo {
    /// Decodes a DER TSTInfo and checks its version (RFC 3161 §2.4.2).
    pub fn decode(der: &[u8]) -> Result<Self, TimestampError> {
        let mut outer = Reader::new(der);
        let sequence = outer
            .read(tag::SEQUENCE, "TSTInfo")
            .map_err(TimestampError::InvalidTstInfo)?;
        outer
            .finish("TSTInfo")
            .map_err(TimestampError::InvalidTstInfo)?;
        let mut reader = sequence.reader();

        let version = reader
            .read(tag::INTEGER, "TSTInfo version")
            .and_then(|v| v.small_integer())
            .map_err(TimestampError::InvalidTstInfo)?;
        if version != 1 {
            return Err(TimestampError::UnsupportedTstInfoVersion(version));
        }
        Self::decode_fields(&mut reader).map_err(TimestampError::InvalidTstInfo)
    }

    fn decode_fields(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let policy = reader.read(tag::OID, "TSTInfo policy")?.oid()?;
        let message_imprint =
            decode_message_imprint(&reader.read(tag::SEQUENCE, "messageImprint")?)?;
        let serial_number = reader
            .read(tag::INTEGER, "TSTInfo serialNumber")?
            .unsigned_integer()?
            .to_vec();
        let gen_time =
            parse_generalized_time(reader.read(tag::GENERALIZED_TIME, "TSTInfo genTime")?.value)?;
        let accuracy = reader
            .read_optional(tag::SEQUENCE)?
            .map(|a| decode_accuracy(&a))
            .transpose()?;
        let ordering = reader
            .read_optional(tag::BOOLEAN)?
            .map(|b| b.boolean())
            .transpose()?
            .unwrap_or(false);
        let nonce = reader
            .read_optional(tag::INTEGER)?
            .map(|n| n.unsigned_integer().map(<[u8]>::to_vec))
            .transpose()?;
        let tsa = reader
            .read_optional(tag::context(0))?
            .map(|t| t.raw.to_vec());
        // Extensions are not interpreted; RFC 3161 defines none that a verifier must process.
        reader.read_optional(tag::context(1))?;
        reader.finish("TSTInfo")?;

        Ok(Self {
            policy,
            message_imprint,
            serial_number,
            gen_time,
            accuracy,
            ordering,
            nonce,
            tsa,
        })
    }

    /// The accuracy used for the timestamp range: the stated one, or one second under the
    /// RFC 3628 baseline policy when none is stated (notation's rule, tspclient-go
    /// `TSTInfo.Validate`), else zero.
    pub fn effective_accuracy(&self) -> Duration {
        let stated = self.accuracy.unwrap_or_default().duration();
        if stated.is_zero() && self.policy == oid::BASELINE_TIMESTAMP_POLICY {
            Duration::SECOND
        } else {
            stated
        }
    }
}

/// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`
pub(crate) fn decode_message_imprint(tlv: &Tlv<'_>) -> Result<MessageImprint, DecodeError> {
    let mut reader = tlv.reader();
    let algorithm = AlgorithmIdentifier::decode(&reader.read(tag::SEQUENCE, "hashAlgorithm")?)?;
    let hashed_message = reader
        .read(tag::OCTET_STRING, "hashedMessage")?
        .value
        .to_vec();
    reader.finish("messageImprint")?;
    Ok(MessageImprint {
        hash_algorithm: algorithm.oid,
        hash_parameters: algorithm.parameters,
        hashed_message,
    })
}

/// `Accuracy ::= SEQUENCE { seconds INTEGER OPTIONAL, millis [0] INTEGER (1..999) OPTIONAL,
/// micros [1] INTEGER (1..999) OPTIONAL }`
fn decode_accuracy(tlv: &Tlv<'_>) -> Result<Accuracy, DecodeError> {
    let mut reader = tlv.reader();
    let field = |t: Option<Tlv<'_>>, max: i64| -> Result<i64, DecodeError> {
        match t {
            None => Ok(0),
            Some(t) => {
                let n = t.small_integer()?;
                if (0..=max).contains(&n) {
                    Ok(n)
                } else {
                    Err(DecodeError::InvalidValue("accuracy field out of range"))
                }
            }
        }
    };
    let seconds = field(reader.read_optional(tag::INTEGER)?, i64::from(u32::MAX))?;
    let millis = field(reader.read_optional(tag::context_primitive(0))?, 999)?;
    let micros = field(reader.read_optional(tag::context_primitive(1))?, 999)?;
    reader.finish("accuracy")?;
    // The ranges were checked above, so the conversions cannot fail.
    Ok(Accuracy {
        seconds: u32::try_from(seconds).unwrap_or(u32::MAX),
        millis: u16::try_from(millis).unwrap_or(999),
        micros: u16::try_from(micros).unwrap_or(999),
    })
}

/// Parses `YYYYMMDDHHMMSS[.fraction](Z|±HHMM)` the way notation does: fractions without
/// trailing zeros (X.690 §11.7), up to nanoseconds.
pub(crate) fn parse_generalized_time(value: &[u8]) -> Result<OffsetDateTime, DecodeError> {
    let text = std::str::from_utf8(value)
        .map_err(|_| DecodeError::InvalidTime(String::from_utf8_lossy(value).into_owned()))?;
    let invalid = || DecodeError::InvalidTime(text.to_owned());
    let digits = |range: std::ops::Range<usize>| -> Result<u32, DecodeError> {
        let part = text.get(range).ok_or_else(invalid)?;
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        part.parse().map_err(|_| invalid())
    };

    let year = i32::try_from(digits(0..4)?).map_err(|_| invalid())?;
    let month = Month::try_from(u8::try_from(digits(4..6)?).map_err(|_| invalid())?)
        .map_err(|_| invalid())?;
    let small = |v: u32| u8::try_from(v).map_err(|_| invalid());
    let day = small(digits(6..8)?)?;
    let hour = small(digits(8..10)?)?;
    let minute = small(digits(10..12)?)?;
    let second = small(digits(12..14)?)?;

    let mut rest = text.get(14..).ok_or_else(invalid)?;
    let mut nanos = 0u32;
    if let Some(after_dot) = rest.strip_prefix('.') {
        let len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
        let fraction = &after_dot[..len];
        if fraction.is_empty() || fraction.len() > 9 || fraction.ends_with('0') {
            return Err(invalid());
        }
        let padded = format!("{fraction:0<9}");
        nanos = padded.parse().map_err(|_| invalid())?;
        rest = &after_dot[len..];
    }

    let offset = match rest {
        "Z" => UtcOffset::UTC,
        _ if rest.len() == 5 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let hours =
                i8::try_from(digits(text.len() - 4..text.len() - 2)?).map_err(|_| invalid())?;
            let minutes =
                i8::try_from(digits(text.len() - 2..text.len())?).map_err(|_| invalid())?;
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            UtcOffset::from_hms(sign * hours, sign * minutes, 0).map_err(|_| invalid())?
        }
        _ => return Err(invalid()),
    };

    let date = Date::from_calendar_date(year, month, day).map_err(|_| invalid())?;
    let time = Time::from_hms_nano(hour, minute, second, nanos).map_err(|_| invalid())?;
    Ok(PrimitiveDateTime::new(date, time)
        .assume_offset(offset)
        .to_offset(UtcOffset::UTC))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failing step should fail the test loudly
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn generalized_time_with_and_without_fractions() {
        let cases: [(&str, OffsetDateTime); 4] = [
            ("20240618062937Z", datetime!(2024-06-18 06:29:37 UTC)),
            ("20240618062937.5Z", datetime!(2024-06-18 06:29:37.5 UTC)),
            (
                "20240618062937.123456789Z",
                datetime!(2024-06-18 06:29:37.123456789 UTC),
            ),
            ("20240618142937+0800", datetime!(2024-06-18 06:29:37 UTC)),
        ];
        for (text, expected) in cases {
            assert_eq!(
                parse_generalized_time(text.as_bytes()).unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_generalized_times_are_rejected() {
        for text in [
            "",
            "2024061806293Z",
            "20240618062937",
            "20240618062937.Z",
            "20240618062937.50Z",
            "20241318062937Z",
            "20240618062937.1234567891Z",
            "2024061806293aZ",
            "20240618062937+08",
        ] {
            assert!(parse_generalized_time(text.as_bytes()).is_err(), "{text}");
        }
    }

    #[test]
    fn baseline_policy_without_accuracy_counts_one_second() {
        let mut info = TstInfo {
            policy: oid::BASELINE_TIMESTAMP_POLICY,
            message_imprint: MessageImprint {
                hash_algorithm: oid::SHA256,
                hash_parameters: None,
                hashed_message: vec![0; 32],
            },
            serial_number: vec![1],
            gen_time: datetime!(2024-06-18 06:29:37 UTC),
            accuracy: None,
            ordering: false,
            nonce: None,
            tsa: None,
        };
        assert_eq!(info.effective_accuracy(), Duration::SECOND);
        info.policy = oid::SHA256; // any other policy
        assert_eq!(info.effective_accuracy(), Duration::ZERO);
        info.accuracy = Some(Accuracy {
            seconds: 0,
            millis: 500,
            micros: 1,
        });
        assert_eq!(info.effective_accuracy(), Duration::microseconds(500_001));
    }
}
