//! Full image references as users type them: `registry/repository:tag@digest`.
//!
//! The grammar is the one Docker and the OCI tools share (distribution's `reference`
//! package): an optional registry host (it has a `.` or a `:`, or is `localhost`, or is a
//! bracketed IPv6 address), then a repository name, then an optional `:tag`, then an optional
//! `@digest`. Without a registry the reference names Docker Hub (`docker.io`), where a
//! one-component name lives under `library/`. The string is parsed once, here.

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

use crate::digest::Digest;
use crate::reference::{NameError, Reference, RepositoryName, Tag};

/// The registry a reference without a host names.
pub const DEFAULT_REGISTRY: &str = "docker.io";

/// Why a string is not an image reference.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ImageRefError {
    /// Nothing to parse.
    #[error("image reference is empty")]
    Empty,
    /// A registry host with characters a host name or port cannot have.
    #[error("registry '{0}' is not a valid host[:port]")]
    Registry(String),
    /// The repository, tag or digest part breaks its grammar.
    #[error("invalid image reference '{input}'")]
    Part {
        /// The whole reference.
        input: String,
        /// The part that failed.
        #[source]
        source: NameError,
    },
}

/// A parsed `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageRef {
    /// `host[:port]`, e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub registry: String,
    /// The repository inside the registry.
    pub repository: RepositoryName,
    /// The tag, if one was given.
    pub tag: Option<Tag>,
    /// The digest, if one was given; it wins over the tag when both are present.
    pub digest: Option<Digest>,
}

impl ImageRef {
    /// A reference to `repository` in `registry`, with no tag or digest.
    pub fn new(registry: impl Into<String>, repository: RepositoryName) -> ImageRef {
        ImageRef {
            registry: registry.into(),
            repository,
            tag: None,
            digest: None,
        }
    }

    /// The manifest reference to resolve: the digest if present, else the tag.
    pub fn reference(&self) -> Option<Reference> {
        match (&self.digest, &self.tag) {
            (Some(d), _) => Some(Reference::Digest(d.clone())),
            (None, Some(t)) => Some(Reference::Tag(t.clone())),
            (None, None) => None,
        }
    }

    /// The same repository at another reference.
    pub fn with_reference(&self, reference: Reference) -> ImageRef {
        let mut out = ImageRef::new(self.registry.clone(), self.repository.clone());
        match reference {
            Reference::Tag(t) => out.tag = Some(t),
            Reference::Digest(d) => out.digest = Some(d),
        }
        out
    }

    /// `registry/repository`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

/// Whether the first path component names a registry host rather than a repository.
fn looks_like_host(component: &str) -> bool {
    component.contains('.')
        || component.contains(':')
        || component == "localhost"
        || component.starts_with('[')
        || component.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_host(host: &str) -> bool {
    let (name, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, tail)) if v6.parse::<std::net::Ipv6Addr>().is_ok() => ("v6", tail),
            _ => return false,
        },
        None => match host.rsplit_once(':') {
            Some((n, _)) => (n, &host[n.len()..]),
            None => (host, ""),
        },
    };
    let port_ok = port.is_empty()
        || port
            .strip_prefix(':')
            .is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_ok());
    let name_ok = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    port_ok && name_ok
}

impl FromStr for ImageRef {
    type Err = ImageRefError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        if input.is_empty() {
            return Err(ImageRefError::Empty);
        }
        let part = |source: NameError| ImageRefError::Part {
            input: input.to_owned(),
            source,
        };

        let (rest, digest) = match input.split_once('@') {
            Some((r, d)) => (r, Some(d.parse::<Digest>().map_err(|e| part(e.into()))?)),
            None => (input, None),
        };

        // A tag follows the last `:` after the last `/`; an earlier `:` is a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (path, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (
                    &rest[..at],
                    Some(rest[at + 1..].parse::<Tag>().map_err(part)?),
                )
            }
            None => (rest, None),
        };

        let (registry, repository) = match path.split_once('/') {
            Some((first, tail)) if looks_like_host(first) => {
                if !valid_host(first) {
                    return Err(ImageRefError::Registry(first.to_owned()));
                }
                // Docker Hub keeps official images under `library/`, however they are named.
                let tail = if first == DEFAULT_REGISTRY && !tail.contains('/') {
                    format!("library/{tail}")
                } else {
                    tail.to_owned()
                };
                (first.to_owned(), tail)
            }
            _ if path.contains('/') => (DEFAULT_REGISTRY.to_owned(), path.to_owned()),
            _ => (DEFAULT_REGISTRY.to_owned(), format!("library/{path}")),
        };
        let repository = repository.parse::<RepositoryName>().map_err(part)?;
        Ok(ImageRef {
            registry,
            repository,
            tag,
            digest,
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn parses_the_usual_forms() {
        let cases: &[(&str, &str, &str, Option<&str>, bool)] = &[
            ("alpine", "docker.io", "library/alpine", None, false),
            (
                "docker.io/alpine",
                "docker.io",
                "library/alpine",
                None,
                false,
            ),
            ("user/app:v1", "docker.io", "user/app", Some("v1"), false),
            (
                "ghcr.io/o/r:latest",
                "ghcr.io",
                "o/r",
                Some("latest"),
                false,
            ),
            ("127.0.0.1:5000/a/b", "127.0.0.1:5000", "a/b", None, false),
            ("localhost/x:1", "localhost", "x", Some("1"), false),
            ("[::1]:5000/x:t", "[::1]:5000", "x", Some("t"), false),
        ];
        for (input, registry, repo, tag, digest) in cases {
            let r: ImageRef = input.parse().expect(input);
            assert_eq!(r.registry, *registry, "{input}");
            assert_eq!(r.repository.as_str(), *repo, "{input}");
            assert_eq!(r.tag.as_ref().map(Tag::as_str), *tag, "{input}");
            assert_eq!(r.digest.is_some(), *digest, "{input}");
        }
        let with_both: ImageRef = format!("reg.io:443/a:t@{D}").parse().expect("tag+digest");
        assert_eq!(
            with_both.reference(),
            Some(Reference::Digest(D.parse().expect("d")))
        );
        assert_eq!(with_both.to_string(), format!("reg.io:443/a:t@{D}"));
    }

    #[test]
    fn rejects_malformed_references() {
        for input in [
            "",
            "UPPER.io/",
            "reg.io/A",
            "reg.io/a:",
            "reg.io/a@sha256:1",
            "bad_host.io/a",
            "host:99999/a",
            "[zz]/a",
            "a/b:c:d",
        ] {
            assert!(
                input.parse::<ImageRef>().is_err(),
                "{input} should be invalid"
            );
        }
    }
}
