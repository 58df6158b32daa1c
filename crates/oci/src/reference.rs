//! Repository names, tags and the `<reference>` path parameter of the distribution spec.
//!
//! The grammars come from the distribution spec's "Pulling manifests" section:
//! a name is `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*` and a
//! tag is `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`. Both grammars exclude `..`, empty components
//! and leading separators, so a parsed name or tag is safe to use as a relative path.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::digest::{Digest, DigestError};

/// Longest repository name accepted; clients commonly cap `host/name` at 255 characters.
pub const MAX_NAME_LEN: usize = 255;

/// Why a string is not a valid name or tag.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum NameError {
    /// The repository name breaks the spec's grammar.
    #[error("repository name '{0}' does not match the distribution-spec grammar")]
    Name(String),
    /// The repository name is longer than [`MAX_NAME_LEN`].
    #[error("repository name is {0} characters long; the limit is {MAX_NAME_LEN}")]
    NameTooLong(usize),
    /// The tag breaks the spec's grammar.
    #[error("tag '{0}' does not match [a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}")]
    Tag(String),
    /// The reference looked like a digest but is not a valid one.
    #[error("invalid digest: {0}")]
    Digest(#[from] DigestError),
}

/// A repository name such as `library/alpine`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName(Box<str>);

impl RepositoryName {
    /// The name as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The `/`-separated path components.
    pub fn components(&self) -> impl Iterator<Item = &str> {
        self.0.split('/')
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// Checks one path component: alphanumeric runs joined by `.`, `_`, `__` or one or more `-`.
fn valid_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|s| s == b'-');
        if !ok {
            return false;
        }
    }
    true
}

impl FromStr for RepositoryName {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.len() > MAX_NAME_LEN {
            return Err(NameError::NameTooLong(s.len()));
        }
        if s.split('/').all(valid_component) {
            Ok(RepositoryName(s.into()))
        } else {
            Err(NameError::Name(s.to_owned()))
        }
    }
}

impl fmt::Display for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RepositoryName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A tag such as `latest` or `v1.2.3`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(Box<str>);

impl Tag {
    /// The tag as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Tag {
    /// The referrers tag schema's tag for `digest` (see [`Digest::fallback_tag`]).
    pub fn for_referrers_of(digest: &Digest) -> Tag {
        // Lowercase algorithm, `-`, lowercase hex: always inside the tag grammar.
        Tag(digest.fallback_tag().into())
    }
}

impl FromStr for Tag {
    type Err = NameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let b = s.as_bytes();
        let first_ok = b
            .first()
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_');
        let rest_ok = b
            .iter()
            .skip(1)
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'));
        if first_ok && rest_ok && b.len() <= 128 {
            Ok(Tag(s.into()))
        } else {
            Err(NameError::Tag(s.to_owned()))
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The `<reference>` of a manifest path: a tag or a digest, nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reference {
    /// A tag.
    Tag(Tag),
    /// A digest.
    Digest(Digest),
}

impl FromStr for Reference {
    type Err = NameError;

    /// A string with a `:` is a digest (tags cannot contain one); anything else is a tag.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains(':') {
            Ok(Reference::Digest(s.parse()?))
        } else {
            Ok(Reference::Tag(s.parse()?))
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Tag(t) => t.fmt(f),
            Reference::Digest(d) => d.fmt(f),
        }
    }
}

/// Decodes the `%XX` escapes of a URL path; `None` for a malformed escape or a result that is
/// not UTF-8. Names, tags and digests arrive in request paths and are parsed after this.
pub fn percent_decode(s: &str) -> Option<String> {
    if !s.contains('%') {
        return Some(s.to_owned());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_the_grammar() {
        let good = [
            "a",
            "library/alpine",
            "my-app",
            "my--app",
            "my__app",
            "a.b_c/d-e/f",
            "0/1/2",
        ];
        for n in good {
            assert!(n.parse::<RepositoryName>().is_ok(), "{n} should be valid");
        }
        let bad = [
            "", "A", "a/", "/a", "a//b", "..", "a/../b", "a/.b", "a___b", "a.-b", "-a", "a-",
            "a b", "a/b/", "_a", "a..b",
        ];
        for n in bad {
            assert!(
                n.parse::<RepositoryName>().is_err(),
                "{n} should be invalid"
            );
        }
        let long = "a".repeat(256);
        assert_eq!(
            long.parse::<RepositoryName>(),
            Err(NameError::NameTooLong(256))
        );
    }

    #[test]
    fn tags_follow_the_grammar() {
        for t in ["latest", "v1.2.3", "_x", "A-b_c.d", &"a".repeat(128)] {
            assert!(t.parse::<Tag>().is_ok(), "{t} should be valid");
        }
        for t in ["", ".x", "-x", "a/b", "a:b", "..", &"a".repeat(129)] {
            assert!(t.parse::<Tag>().is_err(), "{t} should be invalid");
        }
    }

    #[test]
    fn referrers_tags_are_valid_tags() {
        let d: Digest = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
            .parse()
            .expect("digest");
        let tag = Tag::for_referrers_of(&d);
        assert_eq!(tag.as_str().parse::<Tag>().as_ref(), Ok(&tag));
    }

    #[test]
    fn references_split_on_colon() {
        assert!(matches!("v1".parse::<Reference>(), Ok(Reference::Tag(_))));
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert!(matches!(d.parse::<Reference>(), Ok(Reference::Digest(_))));
        assert!("sha256:zz".parse::<Reference>().is_err());
    }
}
