//! PEM (RFC 7468) reading and writing, lenient the way Go's `encoding/pem` is: text around
//! blocks is ignored, CRLF and odd line widths are accepted, and header lines such as
//! `Proc-Type:` are skipped (encrypted keys then fail to decode as keys).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Error;

const BEGIN: &str = "-----BEGIN ";
const END: &str = "-----END ";
const DASHES: &str = "-----";

/// Whether the input looks like PEM text.
pub fn is_pem(input: &[u8]) -> bool {
    input.windows(BEGIN.len()).any(|w| w == BEGIN.as_bytes())
}

/// Every PEM block in `input`, in order, as (label, decoded bytes).
pub fn blocks(input: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Error> {
    // Bytes outside the blocks may be anything; inside, only base64 survives decoding.
    let text = String::from_utf8_lossy(input);
    let mut out = Vec::new();
    let mut rest = text.as_ref();
    while let Some(start) = rest.find(BEGIN) {
        let after = &rest[start + BEGIN.len()..];
        let label_end = after
            .find(DASHES)
            .ok_or_else(|| Error::MalformedPem("unterminated BEGIN line".to_string()))?;
        let label = after[..label_end].to_string();
        let body_and_rest = &after[label_end + DASHES.len()..];
        let end_marker = format!("{END}{label}{DASHES}");
        let body_end = body_and_rest
            .find(&end_marker)
            .ok_or_else(|| Error::MalformedPem(format!("no END line for {label:?}")))?;
        let body = &body_and_rest[..body_end];
        out.push((label.clone(), decode_body(&label, body)?));
        rest = &body_and_rest[body_end + end_marker.len()..];
    }
    Ok(out)
}

fn decode_body(label: &str, body: &str) -> Result<Vec<u8>, Error> {
    let base64: String = body
        .lines()
        .filter(|line| !line.contains(':'))
        .flat_map(|line| line.chars().filter(|c| !c.is_ascii_whitespace()))
        .collect();
    STANDARD
        .decode(base64.as_bytes())
        .map_err(|e| Error::MalformedPem(format!("bad base64 in {label:?} block: {e}")))
}

/// One PEM block with 64-column lines and a trailing newline.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = STANDARD.encode(der);
    let mut s = format!("{BEGIN}{label}{DASHES}\n");
    for chunk in b64.as_bytes().chunks(64) {
        // Base64 output is ASCII, so every chunk is valid UTF-8.
        s.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        s.push('\n');
    }
    s.push_str(&format!("{END}{label}{DASHES}\n"));
    s
}
