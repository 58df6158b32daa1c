//! cosign's attachments in a registry: signatures appended to the `sha256-<hex>.sig` tag,
//! attestations to `.att`, and sigstore bundles stored as OCI 1.1 referrers.
//!
//! Appending to a tag is a read-merge-write that other signers may be doing at the same
//! moment, and registries offer no compare-and-swap on tags (cosign itself lets the last
//! writer win). Here each writer reads the manifest, skips the layer if an equivalent one is
//! there, pushes the layer and a manifest with every layer it read plus its own, and, once all
//! its writes are done, waits a settle delay longer than four of its read-to-write cycles and
//! re-reads: a concurrent writer that read the old manifest has written by then, and a layer
//! that it dropped is appended again (with jittered backoff, up to ten rounds). Signing many
//! images settles once for all of them.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use hallmark_client::{NoProgress, Target};
use hallmark_cosign::attachment::{self, Attachment, Layer, MAX_LAYERS};
use hallmark_oci::{Descriptor, Digest, Reference, Tag};

use crate::Error;

/// The largest layer read from an attachment (payloads and envelopes are small).
pub const MAX_LAYER_BYTES: u64 = 16 << 20;
const ATTEMPTS: u32 = 10;

/// One layer to append to an image's attachment tag.
pub struct Append {
    /// The repository holding the attachment (the image's, or `COSIGN_REPOSITORY`).
    pub target: Target,
    /// The image the attachment belongs to.
    pub image: Digest,
    /// `.sig` or `.att`.
    pub kind: Attachment,
    /// The layer to add.
    pub layer: Layer,
    /// Whether a layer already attached makes this one redundant (cosign's duplicate
    /// detection: the same payload, signed by the same key, with the same annotations).
    pub duplicate: Box<dyn Fn(&Descriptor) -> bool + Send + Sync>,
    /// The attachment's tag, named once: only sha256 images have one.
    tag: Tag,
}

impl Append {
    /// An append of `layer` to `image`'s `kind` attachment in `target`; refused for images
    /// whose digest cosign cannot name in a tag.
    pub fn new(
        target: Target,
        image: Digest,
        kind: Attachment,
        layer: Layer,
        duplicate: Box<dyn Fn(&Descriptor) -> bool + Send + Sync>,
    ) -> Result<Append, Error> {
        let tag = kind.tag(&image)?;
        Ok(Append {
            target,
            image,
            kind,
            layer,
            duplicate,
            tag,
        })
    }

    /// The tag the layer is appended to.
    pub fn tag(&self) -> &Tag {
        &self.tag
    }
}

/// What became of an [`Append`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The layer was added and is still there after the settle delay.
    Added,
    /// An equivalent layer was attached already; nothing was written.
    AlreadyPresent,
}

enum Round {
    Present,
    Written(Duration),
}

/// Appends each layer to its attachment, `concurrency` images at a time; one result per
/// append, in order.
pub async fn append_all(appends: &[Append], concurrency: usize) -> Vec<Result<Appended, Error>> {
    let mut results: Vec<Option<Result<Appended, Error>>> = appends.iter().map(|_| None).collect();
    let mut pending: Vec<usize> = (0..appends.len()).collect();
    for attempt in 1..=ATTEMPTS {
        let rounds: Vec<(usize, Result<Round, Error>)> = stream::iter(pending.iter().copied())
            .map(|i| async move { (i, write_round(&appends[i], attempt).await) })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        let mut written = Vec::new();
        let mut longest = Duration::ZERO;
        for (i, round) in rounds {
            match round {
                Ok(Round::Present) => results[i] = Some(Ok(Appended::AlreadyPresent)),
                Ok(Round::Written(cycle)) => {
                    longest = longest.max(cycle);
                    written.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if written.is_empty() {
            pending.clear();
            break;
        }

        let settle = (longest * 4 + Duration::from_millis(300)).min(Duration::from_secs(10));
        tokio::time::sleep(settle).await;
        let checks: Vec<(usize, Result<bool, Error>)> = stream::iter(written)
            .map(|i| async move { (i, holds(&appends[i]).await) })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
        pending.clear();
        for (i, check) in checks {
            match check {
                Ok(true) => results[i] = Some(Ok(Appended::Added)),
                Ok(false) => {
                    tracing::debug!(image = %appends[i].image, attempt,
                        "attachment lost our layer to a concurrent writer; appending again");
                    pending.push(i);
                }
                Err(e) => results[i] = Some(Err(e)),
            }
        }
        if pending.is_empty() {
            break;
        }
        tokio::time::sleep(jitter(Duration::from_millis(100 << attempt.min(5)))).await;
    }
    for i in pending {
        let a = &appends[i];
        results[i] = Some(Err(Error::AttachmentConflict {
            repository: a.target.describe(),
            tag: a.tag.to_string(),
            attempts: ATTEMPTS,
        }));
    }
    results
        .into_iter()
        .map(|r| r.unwrap_or(Ok(Appended::AlreadyPresent)))
        .collect()
}

/// The layers of an image's attachment; empty when the tag does not exist.
pub async fn attached_layers(
    target: &Target,
    image: &Digest,
    kind: Attachment,
) -> Result<Vec<Descriptor>, Error> {
    let tag = Reference::Tag(kind.tag(image)?);
    match target.fetch_manifest(&tag).await {
        Ok((descriptor, bytes)) => Ok(attachment::layers(&bytes, &descriptor.media_type)?),
        Err(hallmark_client::Error::ManifestUnknown { .. }) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// A layer's bytes, refused above [`MAX_LAYER_BYTES`].
pub async fn layer_content(target: &Target, layer: &Descriptor) -> Result<Bytes, Error> {
    if layer.size > MAX_LAYER_BYTES {
        return Err(Error::LayerTooLarge {
            digest: layer.digest.to_string(),
            size: layer.size,
        });
    }
    crate::find::fetch_blob(target, layer).await
}

/// Reads, merges and writes once; `Present` when nothing needs writing.
async fn write_round(append: &Append, attempt: u32) -> Result<Round, Error> {
    let started = Instant::now();
    let current = attached_layers(&append.target, &append.image, append.kind).await?;
    let ours = &append.layer.descriptor;
    if current.iter().any(|d| d == ours) {
        // Ours from an earlier round (or an identical layer): confirm it after the settle.
        return Ok(if attempt == 1 {
            Round::Present
        } else {
            Round::Written(Duration::ZERO)
        });
    }
    if current.iter().any(|d| (append.duplicate)(d)) {
        return Ok(Round::Present);
    }
    if current.len() >= MAX_LAYERS {
        return Err(Error::TooManyLayers {
            tag: append.tag.to_string(),
            limit: MAX_LAYERS,
        });
    }

    let target = &append.target;
    target
        .push_blob(ours, &append.layer.content, &NoProgress)
        .await?;
    let mut layers = current;
    layers.push(ours.clone());
    let (config, manifest) = attachment::build(&layers);
    let config_descriptor = Descriptor::new(
        attachment::CONFIG_MEDIA_TYPE,
        hallmark_oci::Algorithm::Sha256.digest(&config),
        config.len() as u64,
    );
    target
        .push_blob(&config_descriptor, &Bytes::from(config), &NoProgress)
        .await?;
    let tag = Reference::Tag(append.tag.clone());
    target
        .push_manifest(
            &tag,
            hallmark_oci::media_type::OCI_MANIFEST,
            Bytes::from(manifest),
            true,
        )
        .await?;
    Ok(Round::Written(started.elapsed()))
}

async fn holds(append: &Append) -> Result<bool, Error> {
    let layers = attached_layers(&append.target, &append.image, append.kind).await?;
    Ok(layers.contains(&append.layer.descriptor))
}

/// `base` scaled by a random factor in [0.5, 1.5).
fn jitter(base: Duration) -> Duration {
    use std::hash::BuildHasher;
    let r = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    base.mul_f64(0.5 + (r % 1000) as f64 / 1000.0)
}

/// The `.sig` layer cosign writes for `image` in `repository` with `annotations`, signed with
/// `key`, ready to append; an equal payload already signed by the same key counts as a
/// duplicate.
pub fn signature_append(
    target: &Target,
    repository: &str,
    image: &Digest,
    annotations: &std::collections::BTreeMap<String, String>,
    key: &hallmark_x509::SigningKey,
    public: &hallmark_x509::PublicKey,
) -> Result<Append, Error> {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use hallmark_cosign::simple_signing::{self, Payload};

    let payload = Payload::new(repository, image.clone(), annotations).to_bytes();
    let signature = key
        .sign_sigstore(&payload)
        .map_err(|e| Error::SigningKey(format!("cosign signing failed: {e}")))?;
    let layer_annotations = std::collections::BTreeMap::from([(
        attachment::SIGNATURE_ANNOTATION.to_owned(),
        STANDARD.encode(&signature),
    )]);
    let layer = Layer::new(
        simple_signing::MEDIA_TYPE,
        payload.clone(),
        layer_annotations,
    );
    let payload_digest = layer.descriptor.digest.clone();
    let public = public.clone();
    let duplicate = move |d: &Descriptor| {
        d.digest == payload_digest
            && attachment::annotation(d, attachment::SIGNATURE_ANNOTATION)
                .and_then(|s| STANDARD.decode(s.trim()).ok())
                .is_some_and(|sig| public.verify_sigstore(&payload, &sig).is_ok())
    };
    Append::new(
        target.clone(),
        image.clone(),
        Attachment::Signatures,
        layer,
        Box::new(duplicate),
    )
}

/// Whether `image`'s `.sig` already holds the signature [`signature_append`] would add: a
/// layer with the same payload whose signature verifies with `public`.
pub async fn has_signature(append: &Append) -> Result<bool, Error> {
    let layers = attached_layers(&append.target, &append.image, append.kind).await?;
    Ok(layers.iter().any(|d| (append.duplicate)(d)))
}
