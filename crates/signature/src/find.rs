//! Finding the signatures of a manifest: its referrers of the signature artifact type (through
//! the referrers API, the tag schema or a layout's index), each read as a signature manifest
//! and its envelope fetched and checked against its descriptor.

use bytes::{Bytes, BytesMut};
use futures_util::StreamExt;
use hallmark_client::Target;
use hallmark_oci::{Descriptor, Digest, Reference};

use crate::Error;
use crate::manifest::{MAX_MANIFEST_SIZE, SIGNATURE_ARTIFACT_TYPE, SignatureManifest};

/// A signature found next to an artifact.
#[derive(Debug, Clone)]
pub struct FoundSignature {
    /// The signature manifest's descriptor.
    pub manifest: Descriptor,
    /// The manifest, read; `Err` says why it is not a usable signature manifest (a layer of
    /// the wrong media type, say), which fails its integrity.
    pub signature: Result<SignatureManifest, String>,
    /// The envelope bytes, checked against the layer's digest and size; `Err` says why the
    /// envelope could not be had (the signature is then reported, not verified).
    pub envelope: Result<Bytes, String>,
}

/// The descriptors of the signature manifests referring to `subject`, at most `max` of
/// them, in the registry's order, without fetching any: callers load them one at a time with
/// [`load`] (manifest and envelope) or [`load_manifest`], so a verifier that stops at the
/// first good signature fetches no more.
pub async fn signature_descriptors(
    target: &Target,
    subject: &Digest,
    max: usize,
) -> Result<Vec<Descriptor>, Error> {
    let (list, source) = target
        .referrers(subject, Some(SIGNATURE_ARTIFACT_TYPE))
        .await?;
    tracing::debug!(count = list.len(), source = ?source, "signature referrers listed");
    let mut out = Vec::new();
    for descriptor in list.into_iter().take(max) {
        if descriptor.size > MAX_MANIFEST_SIZE {
            tracing::warn!(digest = %descriptor.digest, size = descriptor.size,
                "skipping a signature manifest over notation's 4 MiB limit");
            continue;
        }
        out.push(descriptor);
    }
    Ok(out)
}

/// A signature manifest read, its envelope not fetched: what `list` shows.
#[derive(Debug, Clone)]
pub struct ListedSignature {
    /// The signature manifest's descriptor.
    pub manifest: Descriptor,
    /// The manifest, read; `Err` says why it is not a usable signature manifest.
    pub signature: Result<SignatureManifest, String>,
}

/// Fetches one signature manifest, without its envelope.
pub async fn load_manifest(
    target: &Target,
    descriptor: &Descriptor,
) -> Result<ListedSignature, Error> {
    let (fetched, bytes) = target
        .fetch_manifest(&Reference::Digest(descriptor.digest.clone()))
        .await?;
    let signature =
        SignatureManifest::parse(&bytes, &fetched.media_type).map_err(|e| e.to_string());
    Ok(ListedSignature {
        manifest: fetched,
        signature,
    })
}

/// Fetches one signature manifest and its envelope.
pub async fn load(target: &Target, descriptor: &Descriptor) -> Result<FoundSignature, Error> {
    let ListedSignature {
        manifest,
        signature,
    } = load_manifest(target, descriptor).await?;
    let envelope = match &signature {
        Ok(s) => fetch_blob(target, &s.envelope)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    Ok(FoundSignature {
        manifest,
        signature,
        envelope,
    })
}

/// A whole blob, verified against its descriptor by the client while it streams
/// (envelopes are at most 32 MiB, so holding one in memory is fine).
pub(crate) async fn fetch_blob(target: &Target, descriptor: &Descriptor) -> Result<Bytes, Error> {
    let mut stream = target.fetch_blob(descriptor).await?;
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out.freeze())
}

/// A signature of `subject` by the leaf certificate of `chain` that is already stored, for a
/// resumed signing run to use instead of signing again. The thumbprint annotation only
/// narrows the candidates; a candidate counts when its envelope verifies, its signer is that
/// very certificate and its payload names `subject` (digest and size), so an annotation
/// pushed by anyone else never stands for a signature.
pub async fn signed_by(
    target: &Target,
    subject: &Descriptor,
    chain: &[hallmark_x509::Certificate],
) -> Result<Option<Digest>, Error> {
    let Some(leaf) = chain.first() else {
        return Ok(None);
    };
    let ours = crate::manifest::thumbprints(chain);
    for descriptor in signature_descriptors(target, &subject.digest, 100).await? {
        let listed = descriptor
            .annotations
            .as_ref()
            .and_then(|a| a.get(crate::manifest::THUMBPRINT_ANNOTATION));
        if listed != Some(&ours) {
            continue;
        }
        let found = load(target, &descriptor).await?;
        let (Ok(signature), Ok(bytes)) = (&found.signature, &found.envelope) else {
            continue;
        };
        let Ok(envelope) = hallmark_envelope::Envelope::parse(signature.format, bytes) else {
            continue;
        };
        let ours = envelope.verify_integrity().is_ok()
            && envelope.signing_certificate().map(|c| c.der()) == Some(leaf.der())
            && envelope.payload().is_ok_and(|p| {
                p.target_artifact.digest == subject.digest && p.target_artifact.size == subject.size
            });
        if ours {
            return Ok(Some(descriptor.digest));
        }
    }
    Ok(None)
}
