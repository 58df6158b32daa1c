//! Where content lives: a repository in a registry, or an OCI image layout on disk. Commands
//! and [`crate::copy`] work on a [`Target`] so that every source and destination may be
//! either.

use bytes::Bytes;
use hallmark_oci::{Descriptor, Digest, Reference, Tag};

use crate::blob::{BlobSource, Outcome, Progress, Verified};
use crate::error::Result;
use crate::layout::Layout;
use crate::referrers::{ReferrersSource, filter};
use crate::registry::Repository;

/// A registry repository or an image layout.
#[derive(Debug, Clone)]
pub enum Target {
    /// A repository in a registry.
    Remote(Repository),
    /// An OCI image layout directory.
    Layout(Layout),
}

impl Target {
    /// `registry/repository` or the layout's path, for messages.
    pub fn describe(&self) -> String {
        match self {
            Target::Remote(r) => r.describe(),
            Target::Layout(l) => l.root().display().to_string(),
        }
    }

    /// The descriptor a reference names.
    pub async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        match self {
            Target::Remote(r) => match r.head_manifest(reference).await? {
                Some(d) => Ok(d),
                None => Err(crate::Error::ManifestUnknown {
                    repository: r.describe(),
                    reference: reference.to_string(),
                }),
            },
            Target::Layout(l) => l.resolve(reference).await,
        }
    }

    /// A manifest's verified bytes and descriptor.
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<(Descriptor, Bytes)> {
        match self {
            Target::Remote(r) => r.fetch_manifest(reference).await,
            Target::Layout(l) => l.fetch_manifest(reference).await,
        }
    }

    /// Stores a manifest under `reference` (a tag, or its digest). `listed` matters to
    /// layouts only: list it in `index.json` even untagged.
    pub async fn push_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: Bytes,
        listed: bool,
    ) -> Result<Descriptor> {
        match self {
            Target::Remote(r) => Ok(r
                .push_manifest(reference, media_type, bytes)
                .await?
                .descriptor),
            Target::Layout(l) => {
                let tag = match reference {
                    Reference::Tag(t) => Some(t),
                    Reference::Digest(_) => None,
                };
                l.push_manifest(media_type, bytes, tag, listed).await
            }
        }
    }

    /// Points `tag` at the manifest `descriptor` names.
    pub async fn tag(&self, descriptor: &Descriptor, tag: &Tag) -> Result<()> {
        match self {
            Target::Remote(r) => {
                let by_digest = Reference::Digest(descriptor.digest.clone());
                let (d, bytes) = r.fetch_manifest(&by_digest).await?;
                r.put_manifest(&Reference::Tag(tag.clone()), &d.media_type, bytes)
                    .await
                    .map(drop)
            }
            Target::Layout(l) => l.list(descriptor, Some(tag)).await,
        }
    }

    /// Whether the manifest with `digest` is present.
    pub async fn manifest_exists(&self, digest: &Digest) -> Result<bool> {
        Ok(match self {
            Target::Remote(r) => r
                .head_manifest(&Reference::Digest(digest.clone()))
                .await?
                .is_some(),
            Target::Layout(l) => l.blob_exists(digest).await?.is_some(),
        })
    }

    /// Whether the blob is present.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<bool> {
        Ok(match self {
            Target::Remote(r) => r.blob_exists(digest).await?.is_some(),
            Target::Layout(l) => l.blob_exists(digest).await?.is_some(),
        })
    }

    /// A blob's bytes, checked against `descriptor` by the end of the stream.
    pub async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<Verified> {
        match self {
            Target::Remote(r) => r.fetch_blob(descriptor).await,
            Target::Layout(l) => l.fetch_blob(descriptor).await,
        }
    }

    /// The size of a blob, if present.
    pub async fn blob_size(&self, digest: &Digest) -> Result<Option<u64>> {
        match self {
            Target::Remote(r) => r.blob_exists(digest).await,
            Target::Layout(l) => l.blob_exists(digest).await,
        }
    }

    /// Deletes a manifest (by digest) or a tag (the manifest stays).
    pub async fn delete_manifest(&self, reference: &Reference) -> Result<()> {
        match (self, reference) {
            (Target::Remote(r), _) => r.delete_manifest(reference).await,
            (Target::Layout(l), Reference::Digest(d)) => l.delete_manifest(d).await,
            (Target::Layout(l), Reference::Tag(t)) => {
                if l.untag(t).await? {
                    Ok(())
                } else {
                    Err(crate::Error::ManifestUnknown {
                        repository: l.root().display().to_string(),
                        reference: t.to_string(),
                    })
                }
            }
        }
    }

    /// Stores a blob without checking whether it is present first.
    pub async fn upload_blob(
        &self,
        descriptor: &Descriptor,
        source: &dyn BlobSource,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        match self {
            Target::Remote(r) => {
                r.upload_blob(descriptor, source, progress).await?;
                Ok(Outcome::Transferred)
            }
            Target::Layout(l) => store_in_layout(l, descriptor, source, progress).await,
        }
    }

    /// Stores a blob unless present.
    pub async fn push_blob(
        &self,
        descriptor: &Descriptor,
        source: &dyn BlobSource,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        match self {
            Target::Remote(r) => r.push_blob(descriptor, source, progress).await,
            Target::Layout(l) => store_in_layout(l, descriptor, source, progress).await,
        }
    }

    /// The referrers of `subject`, optionally of one artifact type only.
    pub async fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, ReferrersSource)> {
        match self {
            Target::Remote(r) => r.referrers(subject, artifact_type).await,
            Target::Layout(l) => Ok((
                filter(l.referrers(subject).await?, artifact_type),
                ReferrersSource::Layout,
            )),
        }
    }
}

/// Stores a blob in a layout, hashing it unless the source's stream checks itself.
async fn store_in_layout(
    layout: &Layout,
    descriptor: &Descriptor,
    source: &dyn BlobSource,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let content = source.open().await?;
    if source.verifies() {
        layout
            .push_verified_blob(descriptor, content, progress)
            .await
    } else {
        layout.push_blob(descriptor, content, progress).await
    }
}
