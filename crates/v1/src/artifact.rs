//! Verifying one artifact by Notary v1 trust data: what `hallmark verify` does for a trust
//! policy statement that lists `notaryV1` stores, so consumers can rely on v1 signatures
//! (published with `notary` or `docker trust`, to a Notary v1 server or to `hallmark serve`)
//! before the publishers move to Notary Project or cosign signatures.
//!
//! The repository's trust data is fetched and verified with each trusted root certificate in
//! turn as the pin (the first that verifies counts); then the artifact must be what a signed
//! tag names, with the same digest and size: the tag asked for, or with a digest reference,
//! any tag Docker would resolve to that digest.

use hallmark_oci::Descriptor;
use hallmark_tuf::{Gun, RootPin, SignedTarget};
use hallmark_x509::Certificate;
use time::OffsetDateTime;

use crate::source::{Source, StateDir, load_verified};

/// What v1 trust data proved about an artifact.
#[derive(Debug, Clone)]
pub struct V1Verified {
    /// The signed tag naming the artifact.
    pub tag: String,
    /// The role that signed it.
    pub role: String,
    /// The trusted root's version.
    pub root_version: u64,
    /// The subject of the root certificate that verified.
    pub root_subject: String,
}

/// Why an artifact is not covered by v1 trust data.
#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    /// The trust data did not verify under any trusted root.
    #[error("the Notary v1 trust data did not verify under any trusted root: {}", .0.join("; "))]
    Untrusted(Vec<String>),
    /// No trusted root certificate was given.
    #[error("no Notary v1 root certificate is trusted: the notaryV1 stores are empty")]
    NoRoots,
    /// The tag asked for is not signed.
    #[error("tag {0:?} is not signed in the Notary v1 trust data")]
    TagNotSigned(String),
    /// The tag is signed for other content.
    #[error("tag {tag:?} is signed for {signed} ({size} bytes), not for {actual}")]
    TagMismatch {
        /// The tag.
        tag: String,
        /// The digest v1 signed.
        signed: String,
        /// Its size.
        size: u64,
        /// The artifact's digest and size.
        actual: String,
    },
    /// No tag names the digest.
    #[error("no signed tag names {0}")]
    DigestNotSigned(String),
}

/// Verifies that `subject` (reached as `tag`, if by tag) is signed in `gun`'s v1 trust data
/// from `source`, under one of `roots`.
pub async fn verify_artifact(
    source: &Source,
    gun: &Gun,
    roots: &[Certificate],
    state: Option<&StateDir>,
    subject: &Descriptor,
    tag: Option<&str>,
    now: OffsetDateTime,
) -> Result<V1Verified, ArtifactError> {
    if roots.is_empty() {
        return Err(ArtifactError::NoRoots);
    }
    let mut refusals = Vec::new();
    let mut verified = None;
    for root in roots {
        let pin = RootPin::Certificate(root.clone());
        match load_verified(source, gun, &pin, state, now).await {
            Ok(v) => {
                verified = Some((v, root));
                break;
            }
            Err(e) => refusals.push(format!("{}: {}", root.subject(), chain(&e))),
        }
    }
    let Some((verified, root)) = verified else {
        return Err(ArtifactError::Untrusted(refusals));
    };
    let targets = verified.docker_targets();
    let matches = |t: &SignedTarget| {
        t.digest().as_deref() == Some(subject.digest.as_str()) && t.meta.length == subject.size
    };
    let found = match tag {
        Some(tag) => {
            let t = targets
                .get(tag)
                .ok_or_else(|| ArtifactError::TagNotSigned(tag.to_owned()))?;
            if !matches(t) {
                return Err(ArtifactError::TagMismatch {
                    tag: tag.to_owned(),
                    signed: t.digest().unwrap_or_default(),
                    size: t.meta.length,
                    actual: format!("{} ({} bytes)", subject.digest, subject.size),
                });
            }
            *t
        }
        None => targets
            .values()
            .find(|t| matches(t))
            .copied()
            .ok_or_else(|| ArtifactError::DigestNotSigned(subject.digest.to_string()))?,
    };
    Ok(V1Verified {
        tag: found.name.clone(),
        role: found.role.as_str().to_owned(),
        root_version: verified.root.signed.version,
        root_subject: root.subject().to_string(),
    })
}

/// An error and its sources, on one line.
fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
