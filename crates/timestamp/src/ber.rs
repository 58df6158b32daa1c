//! BER to DER conversion for timestamp tokens (X.690 §8 to §10).
//!
//! RFC 3161 tokens are CMS SignedData, which RFC 5652 allows in BER; some TSAs send indefinite
//! lengths and constructed OCTET STRINGs. notation (tspclient-go) converts every token to DER
//! before parsing, and so does this module, so that the DER reader and the signature over the
//! signed attributes see one canonical form. It rewrites lengths in their shortest definite
//! form and joins constructed string segments; element contents are copied unchanged.

use crate::asn1::{MAX_DEPTH, push_length, read_header};
use crate::error::DecodeError;

/// Universal string types that BER may send constructed (X.690 §8.21) and DER may not.
const STRING_TAGS: [u8; 10] = [0x04, 0x0c, 0x12, 0x13, 0x14, 0x16, 0x19, 0x1a, 0x1c, 0x1e];
const BIT_STRING: u8 = 0x03;
const CONSTRUCTED: u8 = 0x20;

/// Converts one BER element, which must span all of `input`, to DER.
pub(crate) fn to_der(input: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(input.len());
    let used = convert(input, &mut out, 0)?;
    if used != input.len() {
        return Err(DecodeError::TrailingData("timestamp token"));
    }
    Ok(out)
}

/// Converts the element at the start of `input` into `out`; returns the bytes consumed.
fn convert(input: &[u8], out: &mut Vec<u8>, depth: usize) -> Result<usize, DecodeError> {
    if depth > MAX_DEPTH {
        return Err(DecodeError::TooDeep);
    }
    let (tag, header, length) = read_header(input)?;
    let constructed = tag & CONSTRUCTED != 0;
    let body = &input[header..];

    if !constructed {
        let length = length.ok_or(DecodeError::IndefiniteLength)?;
        let value = body.get(..length).ok_or(DecodeError::Truncated)?;
        out.push(tag);
        push_length(out, value.len());
        out.extend_from_slice(value);
        return Ok(header + length);
    }

    // Children of a constructed element, converted into a scratch buffer first because the
    // final length is known only afterwards.
    let mut children = Vec::new();
    let consumed = match length {
        Some(length) => {
            let mut rest = body.get(..length).ok_or(DecodeError::Truncated)?;
            while !rest.is_empty() {
                let used = convert(rest, &mut children, depth + 1)?;
                rest = &rest[used..];
            }
            header + length
        }
        None => {
            let mut offset = 0;
            loop {
                let rest = &body[offset..];
                if rest.starts_with(&[0x00, 0x00]) {
                    break header + offset + 2;
                }
                if rest.is_empty() {
                    return Err(DecodeError::Truncated);
                }
                offset += convert(rest, &mut children, depth + 1)?;
            }
        }
    };

    let primitive_tag = tag & !CONSTRUCTED;
    if STRING_TAGS.contains(&primitive_tag) || primitive_tag == BIT_STRING {
        let joined = join_segments(primitive_tag, &children)?;
        out.push(primitive_tag);
        push_length(out, joined.len());
        out.extend_from_slice(&joined);
    } else {
        out.push(tag);
        push_length(out, children.len());
        out.extend_from_slice(&children);
    }
    Ok(consumed)
}

/// Joins the (already DER, so primitive) segments of a constructed string (X.690 §8.6, §8.7).
fn join_segments(tag: u8, mut segments: &[u8]) -> Result<Vec<u8>, DecodeError> {
    let mut joined = Vec::new();
    if tag == BIT_STRING {
        joined.push(0);
    }
    while !segments.is_empty() {
        let (segment_tag, header, length) = read_header(segments)?;
        let length = length.ok_or(DecodeError::IndefiniteLength)?;
        if segment_tag != tag {
            return Err(DecodeError::InvalidStringSegment);
        }
        let value = segments
            .get(header..header + length)
            .ok_or(DecodeError::Truncated)?;
        segments = &segments[header + length..];
        if tag == BIT_STRING {
            // Only the last segment may have unused bits (X.690 §8.6.4).
            let (&unused, bits) = value
                .split_first()
                .ok_or(DecodeError::InvalidStringSegment)?;
            if joined[0] != 0 || unused > 7 {
                return Err(DecodeError::InvalidStringSegment);
            }
            joined[0] = unused;
            joined.extend_from_slice(bits);
        } else {
            joined.extend_from_slice(value);
        }
    }
    Ok(joined)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failing step should fail the test loudly
mod tests {
    use super::*;

    #[test]
    fn der_input_is_returned_unchanged() {
        let der = [0x30, 0x08, 0x06, 0x03, 0x2a, 0x03, 0x04, 0x04, 0x01, 0xaa];
        assert_eq!(to_der(&der).unwrap(), der);
    }

    #[test]
    fn indefinite_lengths_become_definite() {
        // SEQUENCE (indefinite) { [0] (indefinite) { INTEGER 1 } }
        let ber = [
            0x30, 0x80, 0xa0, 0x80, 0x02, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00,
        ];
        assert_eq!(
            to_der(&ber).unwrap(),
            [0x30, 0x05, 0xa0, 0x03, 0x02, 0x01, 0x01]
        );
    }

    #[test]
    fn constructed_octet_strings_are_joined() {
        // OCTET STRING (constructed, indefinite) { "ab", "c" }
        let ber = [
            0x24, 0x80, 0x04, 0x02, b'a', b'b', 0x04, 0x01, b'c', 0x00, 0x00,
        ];
        assert_eq!(to_der(&ber).unwrap(), [0x04, 0x03, b'a', b'b', b'c']);
    }

    #[test]
    fn non_minimal_lengths_are_shortened() {
        let ber = [0x04, 0x81, 0x01, 0xaa];
        assert_eq!(to_der(&ber).unwrap(), [0x04, 0x01, 0xaa]);
    }

    #[test]
    fn malformed_input_is_rejected() {
        for bad in [
            &[0x30, 0x80, 0x02, 0x01, 0x01][..], // no end-of-contents
            &[0x04, 0x80, 0x00, 0x00],           // indefinite primitive
            &[0x30, 0x03, 0x02, 0x01],           // truncated
            &[0x02, 0x01, 0x01, 0x00],           // trailing data
        ] {
            assert!(to_der(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let mut ber = Vec::new();
        for _ in 0..200 {
            ber.extend_from_slice(&[0x30, 0x80]);
        }
        for _ in 0..200 {
            ber.extend_from_slice(&[0x00, 0x00]);
        }
        assert!(matches!(to_der(&ber), Err(DecodeError::TooDeep)));
    }
}
