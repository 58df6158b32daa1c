//! Copying a manifest graph between targets: an image with its config and layers, an index
//! with every manifest it lists (multi-platform images are copied whole), and with
//! `recursive`, every referrer of every copied manifest, recursively.
//!
//! Order keeps the destination valid at every moment: blobs before the manifest that names
//! them, children before their index, a subject before its referrers. Blobs the destination
//! has are skipped (`HEAD` first); within one registry they are mounted across repositories;
//! otherwise they stream from source to destination, at most `concurrency` at a time, and
//! are verified against their digests on the way.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use futures_util::future::try_join_all;
use hallmark_oci::media_type::{self, ManifestKind};
use hallmark_oci::{Descriptor, Digest, Manifest, Reference};
use tokio::sync::{OnceCell, Semaphore};

use crate::blob::{BlobSource, BlobStream, OpenFuture, Outcome, Progress};
use crate::client::lock;
use crate::error::{Error, Result};
use crate::target::Target;

/// How to copy.
#[derive(Debug, Clone, Copy)]
pub struct CopyOptions {
    /// Copy referrers too, recursively.
    pub recursive: bool,
    /// Blobs in flight at once.
    pub concurrency: usize,
}

/// What a copy did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CopyReport {
    /// Manifests copied (the root, children, referrers).
    pub manifests: u64,
    /// Blobs whose bytes were transferred.
    pub blobs_transferred: u64,
    /// Blobs the destination already had.
    pub blobs_skipped: u64,
    /// Blobs mounted from another repository of the same registry.
    pub blobs_mounted: u64,
    /// Bytes of transferred blobs.
    pub bytes_transferred: u64,
}

struct Copier<'a> {
    src: &'a Target,
    dst: &'a Target,
    options: CopyOptions,
    progress: &'a dyn Progress,
    blobs_in_flight: Semaphore,
    /// One cell per digest: concurrent copies of the same content wait for the first.
    done: std::sync::Mutex<HashMap<Digest, Arc<OnceCell<()>>>>,
    manifests: AtomicU64,
    transferred: AtomicU64,
    skipped: AtomicU64,
    mounted: AtomicU64,
    bytes: AtomicU64,
}

/// Copies what `src_ref` names in `src` to `dst`, tagged `dst_tag` if given. Returns the
/// root's descriptor and what was done.
pub async fn copy(
    src: &Target,
    src_ref: &Reference,
    dst: &Target,
    dst_ref: Option<&Reference>,
    options: CopyOptions,
    progress: &dyn Progress,
) -> Result<(Descriptor, CopyReport)> {
    let copier = Copier {
        src,
        dst,
        options,
        progress,
        blobs_in_flight: Semaphore::new(options.concurrency.max(1)),
        done: std::sync::Mutex::new(HashMap::new()),
        manifests: AtomicU64::new(0),
        transferred: AtomicU64::new(0),
        skipped: AtomicU64::new(0),
        mounted: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
    };
    let (root, bytes) = src.fetch_manifest(src_ref).await?;
    let reference = match dst_ref {
        Some(Reference::Tag(t)) => Reference::Tag(t.clone()),
        Some(Reference::Digest(d)) if d != &root.digest => {
            return Err(Error::DigestMismatch {
                source_name: src.describe(),
                expected: d.clone(),
                actual: root.digest,
            });
        }
        _ => Reference::Digest(root.digest.clone()),
    };
    copier.node(root.clone(), bytes, reference, true).await?;
    let report = CopyReport {
        manifests: copier.manifests.load(Ordering::Relaxed),
        blobs_transferred: copier.transferred.load(Ordering::Relaxed),
        blobs_skipped: copier.skipped.load(Ordering::Relaxed),
        blobs_mounted: copier.mounted.load(Ordering::Relaxed),
        bytes_transferred: copier.bytes.load(Ordering::Relaxed),
    };
    Ok((root, report))
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

impl<'a> Copier<'a> {
    /// Copies one manifest and everything below it, then (recursive) its referrers.
    fn node(
        &'a self,
        descriptor: Descriptor,
        bytes: Bytes,
        reference: Reference,
        listed: bool,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let cell = self.cell(&descriptor.digest);
            cell.get_or_try_init(|| self.node_once(descriptor, bytes, reference, listed))
                .await
                .map(drop)
        })
    }

    fn cell(&self, digest: &Digest) -> Arc<OnceCell<()>> {
        Arc::clone(lock(&self.done).entry(digest.clone()).or_default())
    }

    async fn node_once(
        &'a self,
        descriptor: Descriptor,
        bytes: Bytes,
        reference: Reference,
        listed: bool,
    ) -> Result<()> {
        // A manifest the destination has comes with everything it names: registries check
        // that on push, and layouts (ours) store children first.
        if self.dst.manifest_exists(&descriptor.digest).await? {
            tracing::debug!(digest = %descriptor.digest, "manifest present; content skipped");
        } else {
            self.content(&descriptor, &bytes).await?;
        }
        self.dst
            .push_manifest(&reference, &descriptor.media_type, bytes, listed)
            .await?;
        self.manifests.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(digest = %descriptor.digest, %reference, "manifest copied");

        if self.options.recursive {
            self.referrers_of(&descriptor.digest).await?;
        }
        Ok(())
    }

    /// What a manifest names: an index's manifests, an image's config and layers.
    async fn content(&'a self, descriptor: &Descriptor, bytes: &[u8]) -> Result<()> {
        let manifest = Manifest::parse(bytes, Some(&descriptor.media_type)).map_err(|source| {
            Error::Manifest {
                digest: descriptor.digest.clone(),
                source,
            }
        })?;
        match manifest.kind {
            ManifestKind::Index => {
                let children = manifest
                    .manifests
                    .iter()
                    .filter(|d| media_type::manifest_kind(&d.media_type).is_some())
                    .map(|child| self.child(child));
                try_join_all(children).await?;
            }
            ManifestKind::Image => {
                try_join_all(manifest.required_blobs().map(|b| self.blob(b))).await?;
            }
        }
        Ok(())
    }

    /// Copies the referrers of `subject`, each with its own graph and referrers.
    async fn referrers_of(&'a self, subject: &Digest) -> Result<()> {
        let (referrers, source) = self.src.referrers(subject, None).await?;
        tracing::debug!(%subject, count = referrers.len(), ?source, "copying referrers");
        let copies = referrers.iter().map(|r| async move {
            let reference = Reference::Digest(r.digest.clone());
            let (d, b) = self.src.fetch_manifest(&reference).await?;
            self.node(d, b, reference, true).await
        });
        try_join_all(copies).await.map(drop)
    }

    async fn child(&'a self, child: &Descriptor) -> Result<()> {
        let reference = Reference::Digest(child.digest.clone());
        let (d, b) = self.src.fetch_manifest(&reference).await?;
        self.node(d, b, reference, false).await
    }

    async fn blob(&self, descriptor: &Descriptor) -> Result<()> {
        let cell = self.cell(&descriptor.digest);
        cell.get_or_try_init(|| self.blob_once(descriptor))
            .await
            .map(drop)
    }

    async fn blob_once(&self, descriptor: &Descriptor) -> Result<()> {
        // Closed only when the copier is dropped, which cannot happen while it runs.
        let Ok(_permit) = self.blobs_in_flight.acquire().await else {
            return Ok(());
        };
        self.progress.start(descriptor);
        let outcome = self.transfer(descriptor).await?;
        match outcome {
            Outcome::Transferred => {
                self.transferred.fetch_add(1, Ordering::Relaxed);
                self.bytes.fetch_add(descriptor.size, Ordering::Relaxed);
            }
            Outcome::Skipped => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Mounted => {
                self.mounted.fetch_add(1, Ordering::Relaxed);
            }
        }
        tracing::debug!(digest = %descriptor.digest, ?outcome, "blob copied");
        self.progress.finish(descriptor, outcome);
        Ok(())
    }

    async fn transfer(&self, descriptor: &Descriptor) -> Result<Outcome> {
        if self.dst.blob_exists(&descriptor.digest).await? {
            return Ok(Outcome::Skipped);
        }
        if let (Target::Remote(s), Target::Remote(d)) = (self.src, self.dst)
            && s.registry() == d.registry()
            && s.name() != d.name()
            && d.mount_blob(&descriptor.digest, s.name()).await?
        {
            return Ok(Outcome::Mounted);
        }
        let source = TargetBlob {
            target: self.src,
            descriptor,
        };
        self.dst
            .upload_blob(descriptor, &source, self.progress)
            .await
    }
}

/// A blob read from a target, opened anew if an upload starts over.
struct TargetBlob<'a> {
    target: &'a Target,
    descriptor: &'a Descriptor,
}

impl BlobSource for TargetBlob<'_> {
    fn open(&self) -> OpenFuture<'_> {
        Box::pin(async move {
            let stream: BlobStream = Box::pin(self.target.fetch_blob(self.descriptor).await?);
            Ok(stream)
        })
    }

    /// Targets hand out [`crate::blob::Verified`] streams.
    fn verifies(&self) -> bool {
        true
    }
}

/// Shared progress for callers that hold it in an `Arc`.
impl<P: Progress + ?Sized> Progress for Arc<P> {
    fn start(&self, descriptor: &Descriptor) {
        (**self).start(descriptor);
    }
    fn advance(&self, digest: &Digest, n: u64) {
        (**self).advance(digest, n);
    }
    fn finish(&self, descriptor: &Descriptor, outcome: Outcome) {
        (**self).finish(descriptor, outcome);
    }
}
