//! `multipart/form-data` bodies (RFC 7578 over RFC 2046 §5.1), as far as a Notary publish
//! needs them: the parts with their `Content-Disposition` `name` and `filename`. The notary
//! client writes one part per role with Go's `mime/multipart` (`CreateFormFile("files",
//! role)`).
//!
//! The whole body is in memory (the caller bounds it); parsing only slices it.

/// One part of the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    /// The `name` parameter of `Content-Disposition`.
    pub name: Option<String>,
    /// The `filename` parameter of `Content-Disposition`.
    pub filename: Option<String>,
    /// The part's content.
    pub body: Vec<u8>,
}

/// Why a body is not a multipart form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    /// The `Content-Type` is not `multipart/form-data` with a boundary.
    #[error("content type is not multipart/form-data with a boundary")]
    NotMultipart,
    /// The body does not start with a delimiter line.
    #[error("no opening boundary")]
    NoOpeningBoundary,
    /// A part's headers do not end with an empty line.
    #[error("part headers are not terminated")]
    UnterminatedHeaders,
    /// A part is not followed by a delimiter, or the closing delimiter is missing.
    #[error("body ends inside a part")]
    Truncated,
    /// More parts than a publish can have.
    #[error("more than {0} parts")]
    TooManyParts(usize),
}

/// Most parts accepted in one body.
pub const MAX_PARTS: usize = 1024;

/// The boundary of a `multipart/form-data` content type.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = content_type.split(';');
    let essence = params.next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return Err(MultipartError::NotMultipart);
    }
    params
        .filter_map(|param| param.split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| unquote(value.trim()))
        .filter(|b| !b.is_empty() && b.len() <= 70)
        .ok_or(MultipartError::NotMultipart)
}

/// Splits `body` into its parts.
pub fn parse(body: &[u8], boundary: &str) -> Result<Vec<Part>, MultipartError> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // The preamble before the first delimiter is ignored (RFC 2046 §5.1.1).
    let start = find(body, delimiter).ok_or(MultipartError::NoOpeningBoundary)?;
    let mut rest = &body[start + delimiter.len()..];
    let inner_delimiter = [b"\r\n".as_slice(), delimiter].concat();
    let mut parts = Vec::new();
    loop {
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        let line_end = find(rest, b"\r\n").ok_or(MultipartError::Truncated)?;
        // Transport padding after a delimiter is allowed; anything else is not.
        if rest[..line_end].iter().any(|b| !matches!(b, b' ' | b'\t')) {
            return Err(MultipartError::Truncated);
        }
        rest = &rest[line_end + 2..];
        if parts.len() == MAX_PARTS {
            return Err(MultipartError::TooManyParts(MAX_PARTS));
        }
        let (headers, content) = match rest.strip_prefix(b"\r\n") {
            Some(content) => (&rest[..0], content),
            None => {
                let end = find(rest, b"\r\n\r\n").ok_or(MultipartError::UnterminatedHeaders)?;
                (&rest[..end], &rest[end + 4..])
            }
        };
        let end = find(content, &inner_delimiter).ok_or(MultipartError::Truncated)?;
        let (name, filename) = disposition(headers);
        parts.push(Part {
            name,
            filename,
            body: content[..end].to_vec(),
        });
        rest = &content[end + inner_delimiter.len()..];
    }
}

/// `name` and `filename` of the `Content-Disposition` header among `headers`.
fn disposition(headers: &[u8]) -> (Option<String>, Option<String>) {
    let text = String::from_utf8_lossy(headers);
    let Some(value) = text.split("\r\n").find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case("content-disposition")
            .then_some(value)
    }) else {
        return (None, None);
    };
    let (mut name, mut filename) = (None, None);
    for param in split_params(value).into_iter().skip(1) {
        let Some((key, value)) = param.split_once('=') else {
            continue;
        };
        match key.trim().to_ascii_lowercase().as_str() {
            "name" => name = Some(unquote(value.trim())),
            "filename" => filename = Some(unquote(value.trim())),
            _ => {}
        }
    }
    (name, filename)
}

/// Splits a header value at the `;` outside quoted strings.
fn split_params(value: &str) -> Vec<String> {
    let (mut out, mut current) = (Vec::new(), String::new());
    let (mut quoted, mut escaped) = (false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    out.push(current);
    out
}

/// A quoted string's content (with `\` escapes undone), or a token as it is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) else {
        return value.to_string();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            other => out.push(other),
        }
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // literals

    use super::*;

    /// A body as Go's `mime/multipart` writes it.
    fn go_body(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        for (filename, content) in parts {
            out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            out.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"files\"; filename=\"{filename}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            );
            out.extend_from_slice(content);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        out
    }

    #[test]
    fn reads_parts_as_the_notary_client_writes_them() {
        let b = "8f1e0c6a";
        let body = go_body(
            b,
            &[("root", b"{\"a\":1}\r\n--8f1"), ("targets/releases", b"")],
        );
        let ct = format!("multipart/form-data; boundary={b}");
        let parts = parse(&body, &boundary(&ct).unwrap()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name.as_deref(), Some("files"));
        assert_eq!(parts[0].filename.as_deref(), Some("root"));
        assert_eq!(parts[0].body, b"{\"a\":1}\r\n--8f1");
        assert_eq!(parts[1].filename.as_deref(), Some("targets/releases"));
        assert!(parts[1].body.is_empty());
    }

    #[test]
    fn quoted_boundary_and_escaped_filename() {
        let ct = "Multipart/Form-Data; charset=x; boundary=\"a b\"";
        assert_eq!(boundary(ct).unwrap(), "a b");
        let headers = b"content-disposition: form-data; filename=\"x\\\"; y\"; name=files";
        let (name, filename) = disposition(headers);
        assert_eq!(name.as_deref(), Some("files"));
        assert_eq!(filename.as_deref(), Some("x\"; y"));
    }

    #[test]
    fn refuses_what_is_not_a_form() {
        assert_eq!(
            boundary("application/json"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(
            boundary("multipart/form-data"),
            Err(MultipartError::NotMultipart)
        );
        assert_eq!(
            parse(b"no delimiter", "b"),
            Err(MultipartError::NoOpeningBoundary)
        );
        let truncated = b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\ndata";
        assert_eq!(parse(truncated, "b"), Err(MultipartError::Truncated));
        assert_eq!(parse(b"--bjunk\r\n", "b"), Err(MultipartError::Truncated));
        let unterminated = b"--b\r\nContent-Disposition: form-data";
        assert_eq!(
            parse(unterminated, "b"),
            Err(MultipartError::UnterminatedHeaders)
        );
        let headers = b"--b\r\nContent-Disposition: form-data\r\n";
        assert_eq!(
            parse(headers, "b"),
            Err(MultipartError::UnterminatedHeaders)
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut state = 0x1234_5678_u32;
        for _ in 0..2000 {
            let len = (state % 64) as usize;
            let body: Vec<u8> = (0..len)
                .map(|_| {
                    state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    let alphabet = b"-\r\nb:;\"=x";
                    alphabet[(state >> 16) as usize % alphabet.len()]
                })
                .collect();
            let _ = parse(&body, "b");
        }
    }
}
