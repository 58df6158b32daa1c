//! A small DER reader and writer (X.690 §8 and §10) that keeps the raw bytes of every element.
//!
//! CMS verification needs exact bytes: the signed attributes are re-tagged and hashed as they
//! were sent (RFC 5652 §5.4), certificates are hashed for the ESS attributes, and names are
//! compared byte for byte. Typed decoders re-encode and re-sort `SET OF`, so this reader hands
//! out slices of the input instead. Input reaches it only after [`crate::ber::to_der`].

use const_oid::ObjectIdentifier;

use crate::error::DecodeError;

/// Universal and context-specific tags used by the structures this crate reads.
pub(crate) mod tag {
    pub const BOOLEAN: u8 = 0x01;
    pub const INTEGER: u8 = 0x02;
    pub const BIT_STRING: u8 = 0x03;
    pub const OCTET_STRING: u8 = 0x04;
    pub const NULL: u8 = 0x05;
    pub const OID: u8 = 0x06;
    pub const UTF8_STRING: u8 = 0x0c;
    pub const GENERALIZED_TIME: u8 = 0x18;
    pub const SEQUENCE: u8 = 0x30;
    pub const SET: u8 = 0x31;
    /// `[n]` constructed, context-specific (EXPLICIT tags and IMPLICIT constructed types).
    pub const fn context(n: u8) -> u8 {
        0xa0 | n
    }
    /// `[n]` primitive, context-specific (IMPLICIT primitive types).
    pub const fn context_primitive(n: u8) -> u8 {
        0x80 | n
    }
}

/// Deepest nesting accepted, far above what CMS needs; it bounds recursion on hostile input.
pub(crate) const MAX_DEPTH: usize = 64;

/// One element: its tag, its content octets and its whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

/// A cursor over a sequence of DER elements.
#[derive(Clone, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

/// Reads an identifier and length at the start of `data`: (tag, header length, content length).
/// `None` as content length means the BER indefinite form.
pub(crate) fn read_header(data: &[u8]) -> Result<(u8, usize, Option<usize>), DecodeError> {
    let (&tag, rest) = data.split_first().ok_or(DecodeError::Truncated)?;
    if tag & 0x1f == 0x1f {
        return Err(DecodeError::HighTagNumber);
    }
    let (&first, rest) = rest.split_first().ok_or(DecodeError::Truncated)?;
    if first < 0x80 {
        return Ok((tag, 2, Some(usize::from(first))));
    }
    if first == 0x80 {
        return Ok((tag, 2, None));
    }
    let count = usize::from(first & 0x7f);
    if count > 4 {
        return Err(DecodeError::LengthTooLarge);
    }
    let bytes = rest.get(..count).ok_or(DecodeError::Truncated)?;
    let length = bytes
        .iter()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    Ok((tag, 2 + count, Some(length)))
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Self { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The tag of the next element, if any.
    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// Reads the next element whatever its tag (DER: definite lengths only).
    pub fn read_any(&mut self) -> Result<Tlv<'a>, DecodeError> {
        let (tag, header, length) = read_header(self.data)?;
        let length = length.ok_or(DecodeError::IndefiniteLength)?;
        let end = header
            .checked_add(length)
            .ok_or(DecodeError::LengthTooLarge)?;
        let raw = self.data.get(..end).ok_or(DecodeError::Truncated)?;
        self.data = &self.data[end..];
        Ok(Tlv {
            tag,
            value: &raw[header..],
            raw,
        })
    }

    /// Reads the next element, which must have `expected` as its tag.
    pub fn read(&mut self, expected: u8, what: &'static str) -> Result<Tlv<'a>, DecodeError> {
        match self.peek_tag() {
            None => Err(DecodeError::Missing(what)),
            Some(found) if found != expected => Err(DecodeError::UnexpectedTag {
                what,
                expected,
                found,
            }),
            Some(_) => self.read_any(),
        }
    }

    /// Reads the next element if it has the tag `expected`.
    pub fn read_optional(&mut self, expected: u8) -> Result<Option<Tlv<'a>>, DecodeError> {
        if self.peek_tag() == Some(expected) {
            self.read_any().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Fails when elements are left: every structure here is read to its end.
    pub fn finish(&self, what: &'static str) -> Result<(), DecodeError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::TrailingData(what))
        }
    }
}

impl<'a> Tlv<'a> {
    /// A reader over the elements inside this constructed element.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }

    pub fn oid(&self) -> Result<ObjectIdentifier, DecodeError> {
        ObjectIdentifier::from_bytes(self.value).map_err(|_| DecodeError::InvalidOid)
    }

    /// The magnitude of a non-negative INTEGER, without leading zero octets.
    pub fn unsigned_integer(&self) -> Result<&'a [u8], DecodeError> {
        let first = *self.value.first().ok_or(DecodeError::InvalidInteger)?;
        if first & 0x80 != 0 {
            return Err(DecodeError::NegativeInteger);
        }
        let start = self
            .value
            .iter()
            .position(|&b| b != 0)
            .unwrap_or(self.value.len());
        Ok(&self.value[start..])
    }

    /// A small INTEGER (versions, accuracy fields, status codes).
    pub fn small_integer(&self) -> Result<i64, DecodeError> {
        if self.value.is_empty() || self.value.len() > 8 {
            return Err(DecodeError::InvalidInteger);
        }
        let negative = self.value[0] & 0x80 != 0;
        let init: i64 = if negative { -1 } else { 0 };
        Ok(self
            .value
            .iter()
            .fold(init, |acc, &b| (acc << 8) | i64::from(b)))
    }

    pub fn boolean(&self) -> Result<bool, DecodeError> {
        match self.value {
            [0x00] => Ok(false),
            [_] => Ok(true),
            _ => Err(DecodeError::InvalidBoolean),
        }
    }
}

/// An AlgorithmIdentifier (RFC 5280 §4.1.1.2): the OID and the raw parameters, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AlgorithmIdentifier {
    pub oid: ObjectIdentifier,
    pub parameters: Option<Vec<u8>>,
}

impl AlgorithmIdentifier {
    pub fn decode(tlv: &Tlv<'_>) -> Result<Self, DecodeError> {
        let mut reader = tlv.reader();
        let oid = reader.read(tag::OID, "algorithm OID")?.oid()?;
        let parameters = if reader.is_empty() {
            None
        } else {
            Some(reader.read_any()?.raw.to_vec())
        };
        reader.finish("AlgorithmIdentifier")?;
        Ok(Self { oid, parameters })
    }
}

/// Encodes one element with a definite, minimal length.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    push_length(&mut out, content.len());
    out.extend_from_slice(content);
    out
}

/// Appends a DER length (X.690 §10.1: the shortest form).
pub(crate) fn push_length(out: &mut Vec<u8>, length: usize) {
    if length < 0x80 {
        // Fits the short form by the check above.
        out.push(length as u8);
        return;
    }
    let bytes = length.to_be_bytes();
    let skip = bytes.iter().take_while(|&&b| b == 0).count();
    out.push(0x80 | (bytes.len() - skip) as u8);
    out.extend_from_slice(&bytes[skip..]);
}

/// Encodes a non-negative INTEGER from its big-endian magnitude.
pub(crate) fn encode_unsigned_integer(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let trimmed = &magnitude[start..];
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|&b| b & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(trimmed);
    encode(tag::INTEGER, &content)
}

/// Encodes an OBJECT IDENTIFIER.
pub(crate) fn encode_oid(oid: &ObjectIdentifier) -> Vec<u8> {
    encode(tag::OID, oid.as_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failing step should fail the test loudly
mod tests {
    use super::*;

    #[test]
    fn reads_nested_elements_and_keeps_raw_bytes() {
        let data = [0x30, 0x06, 0x02, 0x01, 0x05, 0x01, 0x01, 0xff];
        let mut reader = Reader::new(&data);
        let seq = reader.read(tag::SEQUENCE, "test").unwrap();
        assert_eq!(seq.raw, &data[..]);
        let mut inner = seq.reader();
        assert_eq!(
            inner
                .read(tag::INTEGER, "n")
                .unwrap()
                .small_integer()
                .unwrap(),
            5
        );
        assert!(inner.read(tag::BOOLEAN, "b").unwrap().boolean().unwrap());
        inner.finish("test").unwrap();
        reader.finish("test").unwrap();
    }

    #[test]
    fn truncated_input_is_an_error_not_a_panic() {
        for data in [&[0x30][..], &[0x30, 0x05, 0x02], &[0x30, 0x84, 0xff, 0xff]] {
            assert!(Reader::new(data).read_any().is_err());
        }
    }

    #[test]
    fn encodes_minimal_integers_and_lengths() {
        assert_eq!(encode_unsigned_integer(&[0x00, 0x7f]), [0x02, 0x01, 0x7f]);
        assert_eq!(encode_unsigned_integer(&[0x80]), [0x02, 0x02, 0x00, 0x80]);
        assert_eq!(encode_unsigned_integer(&[]), [0x02, 0x01, 0x00]);
        let long = encode(tag::OCTET_STRING, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
    }
}
