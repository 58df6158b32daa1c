//! JSON text as Go's `encoding/json` writes it, for the documents whose exact bytes are
//! signed (the simple-signing payload, in-toto statements). serde_json differs from Go in
//! string escaping only: Go also escapes `<`, `>` and `&` (as `\u003c`, `\u003e`,
//! `\u0026`) and U+2028 / U+2029, and writes `\b` and `\f` in their short forms. Object keys
//! of maps are sorted by both.
//!
//! Two differences remain, both in predicates the user supplies, never in what Hallmark itself
//! builds: numbers keep the text of the predicate file (cosign decodes them into `float64`, so
//! `1.0` becomes `1` and integers above 2^53 lose precision), and typed predicates (SLSA,
//! link, vuln) keep the file's members, where cosign re-encodes them through its Go structs in
//! their field order. Verification is unaffected: it works on the signed bytes as fetched.

use std::fmt::Write as _;

use serde_json::Value;

/// Appends `text` as a JSON string literal, escaped as Go escapes it.
pub fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `value` as compact JSON, objects with sorted keys, strings escaped as Go does.
pub fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // Numbers keep serde_json's text, which is what was parsed.
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, &map[key]);
            }
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_go() {
        let mut out = String::new();
        write_string(&mut out, "a<b>&\"\\\n\u{1}\u{8}\u{c}\u{2028}é");
        assert_eq!(out, r#""a\u003cb\u003e\u0026\"\\\n\u0001\b\f\u2028é""#);
    }

    #[test]
    fn sorts_object_keys() {
        let value: Value =
            serde_json::from_str(r#"{"b":1,"a":[true,null,"x"]}"#).unwrap_or_default();
        let mut out = String::new();
        write_value(&mut out, &value);
        assert_eq!(out, r#"{"a":[true,null,"x"],"b":1}"#);
    }
}
