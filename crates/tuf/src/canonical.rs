//! Canonical JSON as Notary v1 computes it before signing and verifying.
//!
//! Notary signs the output of `docker/go/canonical/json` (`MarshalCanonical`) and verifies by
//! decoding `signed` into a generic value and encoding it again (`tuf/signed/verify.go`). That
//! encoder sorts object keys byte-wise, writes no whitespace, escapes `"` and `\` in strings
//! and, as Go's `encoding/json` it is forked from, U+2028 and U+2029 as `\u2028` and `\u2029`
//! (every other character, control characters included, is written as it is), and accepts
//! only integral numbers. Go decodes numbers into `float64`, so integers beyond 2^53 cannot
//! round-trip; they are refused here rather than silently changed.
//!
//! The signatures of the vectors cover exactly these bytes (`tests/vectors.rs`).

use serde_json::Value;

/// The largest integer a `float64` holds exactly (2^53).
const MAX_EXACT_INTEGER: u64 = 1 << 53;

/// Why a JSON value has no canonical form.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CanonicalError {
    /// Canonical JSON has integers only (`docker/go` refuses non-integral floats).
    #[error("number {0} is not an integer; canonical JSON has integers only")]
    NotAnInteger(String),
    /// Notary decodes numbers into `float64`: this one would not survive the round trip.
    #[error("integer {0} is larger than 2^53 and cannot be encoded canonically")]
    IntegerTooLarge(String),
}

/// Encodes `value` canonically.
pub fn to_canonical(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::new();
    write_value(&mut out, value)?;
    Ok(out)
}

fn write_value(out: &mut Vec<u8>, value: &Value) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(number) => write_number(out, number)?,
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // Sorted here rather than trusting the map's order: serde_json keeps insertion
            // order when any crate in the build enables `preserve_order`.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(out, key);
                out.push(b':');
                write_value(out, item)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

fn write_number(out: &mut Vec<u8>, number: &serde_json::Number) -> Result<(), CanonicalError> {
    if let Some(n) = number.as_u64() {
        if n > MAX_EXACT_INTEGER {
            return Err(CanonicalError::IntegerTooLarge(number.to_string()));
        }
        out.extend_from_slice(n.to_string().as_bytes());
    } else if let Some(n) = number.as_i64() {
        if n.unsigned_abs() > MAX_EXACT_INTEGER {
            return Err(CanonicalError::IntegerTooLarge(number.to_string()));
        }
        out.extend_from_slice(n.to_string().as_bytes());
    } else {
        // `2.0` or `1e3`: Go's float64 is integral and printed as an integer.
        let f = number
            .as_f64()
            .ok_or_else(|| CanonicalError::NotAnInteger(number.to_string()))?;
        if !f.is_finite() || f.fract() != 0.0 {
            return Err(CanonicalError::NotAnInteger(number.to_string()));
        }
        if f.abs() > MAX_EXACT_INTEGER as f64 {
            return Err(CanonicalError::IntegerTooLarge(number.to_string()));
        }
        // Integral and within ±2^53, so the conversion is exact.
        out.extend_from_slice((f as i64).to_string().as_bytes());
    }
    Ok(())
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let mut buf = [0; 4];
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push(b'\\');
                out.push(c as u8);
            }
            // `encodeState.string` of docker/go escapes the two JavaScript line terminators.
            '\u{2028}' => out.extend_from_slice(b"\\u2028"),
            '\u{2029}' => out.extend_from_slice(b"\\u2029"),
            _ => out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes()),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test inputs are literals

    use super::*;
    use serde_json::json;

    fn canonical(value: Value) -> String {
        String::from_utf8(to_canonical(&value).unwrap()).unwrap()
    }

    #[test]
    fn keys_sorted_bytewise_without_whitespace() {
        let value = json!({"b": 1, "a": [true, null], "B": {"z": "", "_": -3}});
        assert_eq!(
            canonical(value),
            r#"{"B":{"_":-3,"z":""},"a":[true,null],"b":1}"#
        );
    }

    #[test]
    fn only_quote_backslash_and_line_separators_are_escaped() {
        let value = json!("a\"b\\c\nd\u{1}<&>é\u{2027}\u{202a}");
        assert_eq!(
            canonical(value),
            "\"a\\\"b\\\\c\nd\u{1}<&>é\u{2027}\u{202a}\""
        );
    }

    #[test]
    fn line_and_paragraph_separators_are_escaped_as_docker_go_does() {
        let value = json!({"a\u{2028}": "x\u{2029}y\u{2028}"});
        assert_eq!(canonical(value), r#"{"a\u2028":"x\u2029y\u2028"}"#);
    }

    #[test]
    fn integral_floats_become_integers() {
        let value: Value = serde_json::from_str("[2.0, 1e3, -0.0]").unwrap();
        assert_eq!(canonical(value), "[2,1000,0]");
    }

    #[test]
    fn fractions_and_huge_integers_are_refused() {
        let fraction: Value = serde_json::from_str("1.5").unwrap();
        assert!(matches!(
            to_canonical(&fraction),
            Err(CanonicalError::NotAnInteger(_))
        ));
        let huge: Value = serde_json::from_str("9007199254740993").unwrap();
        assert!(matches!(
            to_canonical(&huge),
            Err(CanonicalError::IntegerTooLarge(_))
        ));
    }
}
