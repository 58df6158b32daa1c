//! Trusted identities (`trustedIdentities`) and the distinguished names they pin.
//!
//! Trust store and trust policy specification, "Trusted Identities": a statement trusts `*`
//! (anyone the stores vouch for) or `x509.subject: <DN>` values. The DN is RFC 4514 text
//! that must name at least `C`, `ST` (or its synonym `S`) and `O`; notation-go also refuses
//! multi-valued RDNs, repeated attributes and `=#` hex values. A leaf matches an identity when
//! every attribute of the identity is present with an equal value in the leaf's subject;
//! extra attributes in the leaf are fine and order does not matter.

use std::collections::BTreeMap;
use std::fmt;

use hallmark_x509::DistinguishedName;

use super::error::{DnError, DnSyntax};

/// The prefix of X.509 subject identities.
pub const X509_SUBJECT: &str = "x509.subject";

/// One entry of `trustedIdentities`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrustedIdentity {
    /// `*`: any signer that chains to the statement's trust stores.
    Any,
    /// `x509.subject: <DN>`: the attributes (type, unescaped value) in the order written,
    /// `S` already renamed to `ST`.
    X509Subject(Vec<(String, String)>),
    /// An identity with another prefix. notation passes these to verification plugins; the
    /// built-in verifier never matches them.
    Other {
        /// Text before the first `:`.
        prefix: String,
        /// Text after it.
        value: String,
    },
}

impl TrustedIdentity {
    /// Whether a leaf certificate's subject satisfies this identity: every attribute of the
    /// identity must be present, with an equal value, in `subject` (`S` and `ST` are the
    /// same type).
    ///
    /// A subject that repeats an attribute the identity pins does not match: notation-go
    /// refuses such subjects, and choosing one of the values would be a guess.
    pub fn matches(&self, subject: &DistinguishedName) -> bool {
        let pinned = match self {
            TrustedIdentity::Any => return true,
            TrustedIdentity::Other { .. } => return false,
            TrustedIdentity::X509Subject(pinned) => pinned,
        };
        pinned.iter().all(|(ty, value)| {
            let mut found = subject.0.iter().filter(|(t, _)| canonical_type(t) == ty);
            matches!((found.next(), found.next()), (Some((_, v)), None) if v == value)
        })
    }

    /// Parses one `trustedIdentities` entry the way notation-go validates it. `*` handling and
    /// the empty string are the caller's (they are statement rules).
    pub(crate) fn parse(identity: &str) -> Result<Self, IdentityError> {
        if identity == "*" {
            return Ok(TrustedIdentity::Any);
        }
        let Some((prefix, value)) = identity.split_once(':') else {
            return Err(IdentityError::MissingSeparator);
        };
        if prefix != X509_SUBJECT {
            return Ok(TrustedIdentity::Other {
                prefix: prefix.to_owned(),
                value: value.to_owned(),
            });
        }
        if value.is_empty() {
            return Err(IdentityError::WithoutValue);
        }
        parse_subject(value)
            .map(TrustedIdentity::X509Subject)
            .map_err(IdentityError::Dn)
    }

    /// The pinned attributes as a map, for the subset test between identities.
    pub(crate) fn attribute_map(&self) -> Option<BTreeMap<&str, &str>> {
        match self {
            TrustedIdentity::X509Subject(attrs) => Some(
                attrs
                    .iter()
                    .map(|(t, v)| (t.as_str(), v.as_str()))
                    .collect(),
            ),
            _ => None,
        }
    }
}

impl fmt::Display for TrustedIdentity {
    /// The identity as a policy would list it; DN values are escaped (RFC 4514 §2.4).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrustedIdentity::Any => f.write_str("*"),
            TrustedIdentity::Other { prefix, value } => write!(f, "{prefix}:{value}"),
            TrustedIdentity::X509Subject(attrs) => {
                write!(f, "{X509_SUBJECT}: ")?;
                for (i, (ty, value)) in attrs.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{ty}={}", escape_value(value))?;
                }
                Ok(())
            }
        }
    }
}

fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        let edge_space = c == ' ' && (i == 0 || i == last);
        if matches!(c, ',' | ';' | '+' | '"' | '\\' | '<' | '>' | '=' | '#') || edge_space {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Why a single identity string was refused (wrapped into a statement error by the caller).
#[derive(Debug)]
pub(crate) enum IdentityError {
    MissingSeparator,
    WithoutValue,
    Dn(DnError),
}

/// `S` is a synonym of `ST` (stateOrProvinceName) in notation's DN rules.
fn canonical_type(ty: &str) -> &str {
    if ty == "S" { "ST" } else { ty }
}

/// Parses and checks the DN of an `x509.subject` identity.
pub(crate) fn parse_subject(dn: &str) -> Result<Vec<(String, String)>, DnError> {
    if dn.contains("=#") {
        return Err(DnError::HexValue { dn: dn.to_owned() });
    }
    let rdns = parse_rfc4514(dn).map_err(|reason| DnError::Syntax {
        dn: dn.to_owned(),
        reason,
    })?;

    let mut attributes: Vec<(String, String)> = Vec::with_capacity(rdns.len());
    for rdn in rdns {
        if rdn.len() > 1 {
            return Err(DnError::MultiValued { dn: dn.to_owned() });
        }
        for (ty, value) in rdn {
            let ty = canonical_type(&ty).to_owned();
            if attributes.iter().any(|(t, _)| *t == ty) {
                return Err(DnError::Duplicate {
                    dn: dn.to_owned(),
                    attribute: ty,
                });
            }
            attributes.push((ty, value));
        }
    }

    for mandatory in ["C", "ST", "O"] {
        if !attributes
            .iter()
            .any(|(t, v)| t == mandatory && !v.is_empty())
        {
            return Err(DnError::MissingMandatory {
                dn: dn.to_owned(),
                attribute: mandatory,
            });
        }
    }
    Ok(attributes)
}

/// Splits RFC 4514 text into RDNs of (type, unescaped value). `,` and `;` separate RDNs, `+`
/// attributes within one RDN; unescaped spaces around types and values are dropped; escapes
/// are `\` followed by a special character or by two hex digits (RFC 4514 §2.4, §3).
fn parse_rfc4514(dn: &str) -> Result<Vec<Vec<(String, String)>>, DnSyntax> {
    let mut rdns = Vec::new();
    if dn.trim().is_empty() {
        return Ok(rdns);
    }

    let bytes = dn.as_bytes();
    let mut rdn = Vec::new();
    let mut i = 0;
    loop {
        // Attribute type, up to '='.
        let eq = bytes[i..]
            .iter()
            .position(|b| *b == b'=')
            .ok_or(DnSyntax::IncompletePair)?;
        let ty = dn[i..i + eq].trim();
        if ty.is_empty()
            || !ty
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(DnSyntax::BadAttributeType);
        }
        i += eq + 1;

        let (value, next, separator) = parse_value(bytes, i)?;
        rdn.push((ty.to_owned(), value));
        i = next;
        match separator {
            Some(b'+') => {}
            Some(_) => rdns.push(std::mem::take(&mut rdn)),
            None => {
                rdns.push(rdn);
                return Ok(rdns);
            }
        }
        if i >= bytes.len() {
            return Err(DnSyntax::IncompletePair);
        }
    }
}

/// Reads one attribute value starting at `start`. Returns the unescaped value, the index after
/// the separator, and the separator (`None` at the end of input).
fn parse_value(bytes: &[u8], start: usize) -> Result<(String, usize, Option<u8>), DnSyntax> {
    // (byte, escaped): escaped spaces survive the trimming below.
    let mut out: Vec<(u8, bool)> = Vec::new();
    let mut i = start;
    let separator = loop {
        let Some(&b) = bytes.get(i) else { break None };
        match b {
            b',' | b';' | b'+' => {
                i += 1;
                break Some(b);
            }
            b'\\' => {
                let (decoded, used) = unescape(&bytes[i + 1..])?;
                out.push((decoded, true));
                i += 1 + used;
            }
            _ => {
                out.push((b, false));
                i += 1;
            }
        }
    };

    let first = out
        .iter()
        .position(|(b, esc)| *esc || *b != b' ')
        .unwrap_or(out.len());
    let last = out
        .iter()
        .rposition(|(b, esc)| *esc || *b != b' ')
        .map_or(first, |p| p + 1);
    let raw: Vec<u8> = out[first..last.max(first)]
        .iter()
        .map(|(b, _)| *b)
        .collect();
    let value = String::from_utf8(raw).map_err(|_| DnSyntax::NotUtf8)?;
    Ok((value, i, separator))
}

/// Decodes the escape after a `\`: a special character or two hex digits. Returns the byte and
/// how many input bytes it used.
fn unescape(rest: &[u8]) -> Result<(u8, usize), DnSyntax> {
    const SPECIALS: &[u8] = b" \"#+,;<=>\\";
    match rest {
        [a, b, ..] if a.is_ascii_hexdigit() && b.is_ascii_hexdigit() => {
            let hex = [*a, *b];
            let text = std::str::from_utf8(&hex).map_err(|_| DnSyntax::BadEscape)?;
            let byte = u8::from_str_radix(text, 16).map_err(|_| DnSyntax::BadEscape)?;
            Ok((byte, 2))
        }
        [c, ..] if SPECIALS.contains(c) => Ok((*c, 1)),
        _ => Err(DnSyntax::BadEscape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dn(attrs: &[(&str, &str)]) -> DistinguishedName {
        DistinguishedName(
            attrs
                .iter()
                .map(|(t, v)| (t.to_string(), v.to_string()))
                .collect(),
        )
    }

    fn identity(s: &str) -> TrustedIdentity {
        TrustedIdentity::parse(s).unwrap_or_else(|_| panic!("identity {s} should parse"))
    }

    #[test]
    fn matching_is_order_independent_and_allows_extra_leaf_attributes() {
        let id = identity("x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
        let leaf = dn(&[
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary"),
            ("CN", "e2e"),
        ]);
        assert!(id.matches(&leaf));

        let extra = dn(&[
            ("C", "US"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary"),
            ("OU", "Build"),
            ("CN", "e2e"),
        ]);
        assert!(id.matches(&extra));

        let short = identity("x509.subject: O=Notary,C=US,S=WA");
        assert!(short.matches(&leaf), "S is ST");
    }

    #[test]
    fn missing_or_different_attribute_fails() {
        let id = identity("x509.subject: CN=e2e,O=Notary,L=Seattle,ST=WA,C=US");
        let no_locality = dn(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("CN", "e2e")]);
        assert!(!id.matches(&no_locality));
        let other_country = dn(&[
            ("C", "USB"),
            ("ST", "WA"),
            ("L", "Seattle"),
            ("O", "Notary"),
        ]);
        assert!(!id.matches(&other_country));
        let repeated = dn(&[("C", "US"), ("ST", "WA"), ("O", "Notary"), ("O", "Other")]);
        assert!(!identity("x509.subject: C=US,ST=WA,O=Notary").matches(&repeated));
        assert!(TrustedIdentity::Any.matches(&no_locality));
        assert!(!identity("kms.arn: abc").matches(&no_locality));
    }

    #[test]
    fn escapes_and_spaces() {
        let attrs = parse_subject(r" C=US, ST=WA, O=Acme\, Inc\; Ltd\\ , CN=\ x\20").expect("ok");
        assert_eq!(attrs[2], ("O".into(), r"Acme, Inc; Ltd\".into()));
        assert_eq!(attrs[3], ("CN".into(), " x ".into()));
    }

    #[test]
    fn display_round_trips() {
        let id = identity(r"x509.subject: C=US, S=WA, O=Acme\, Inc, CN=\ x\#");
        assert_eq!(
            id.to_string(),
            r"x509.subject: C=US, ST=WA, O=Acme\, Inc, CN=\ x\#"
        );
        assert_eq!(identity(&id.to_string()), id);
        assert_eq!(TrustedIdentity::Any.to_string(), "*");
    }

    #[test]
    fn dn_rules() {
        let cases = [
            ("C=US,ST=WA,O=A+OU=B", "multi-valued RDN"),
            ("C=US,ST=WA,O=A,O=B", "duplicate RDN attribute for \"O\""),
            ("C=US,S=WA,ST=WA,O=A", "duplicate RDN attribute for \"ST\""),
            ("C=US,ST=WA,O=#0101", "containing \"=#\""),
            ("C=US,ST=WA,O", "DN ended with incomplete type, value pair"),
            (
                "C=US,ST=WA,O=A,",
                "DN ended with incomplete type, value pair",
            ),
            ("C=US,ST=WA,O=A\\q", "invalid escape"),
            ("CN=e2e,ST=WA,C=US", "no mandatory RDN attribute for \"O\""),
            ("C=US,O=x,CN=y", "no mandatory RDN attribute for \"ST\""),
            ("C=US,ST=WA,O=", "no mandatory RDN attribute for \"O\""),
        ];
        for (text, fragment) in cases {
            let err = parse_subject(text).expect_err(text);
            assert!(err.to_string().contains(fragment), "{text}: {err}");
        }
    }
}
