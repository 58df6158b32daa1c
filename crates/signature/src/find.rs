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

/// The signature manifests referring to `subject`, at most `max` of them, in the order the
/// registry lists them. A referrer of the signature type that is not a valid signature
/// manifest is listed with the reason, so that verification reports it.
pub async fn signatures(
    target: &Target,
    subject: &Digest,
    max: usize,
) -> Result<Vec<FoundSignature>, Error> {
    let mut out = Vec::new();
    for descriptor in signature_descriptors(target, subject, max).await? {
        out.push(load(target, &descriptor).await?);
    }
    Ok(out)
}

/// The descriptors of the signature manifests referring to `subject`, at most `max` of
/// them, without fetching any: a verifier that stops at the first good signature loads them
/// one at a time with [`load`].
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

/// Fetches one signature manifest and its envelope.
pub async fn load(target: &Target, descriptor: &Descriptor) -> Result<FoundSignature, Error> {
    let (fetched, bytes) = target
        .fetch_manifest(&Reference::Digest(descriptor.digest.clone()))
        .await?;
    let signature =
        SignatureManifest::parse(&bytes, &fetched.media_type).map_err(|e| e.to_string());
    let envelope = match &signature {
        Ok(s) => fetch_blob(target, &s.envelope)
            .await
            .map_err(|e| e.to_string()),
        Err(e) => Err(e.clone()),
    };
    Ok(FoundSignature {
        manifest: fetched,
        signature,
        envelope,
    })
}

/// A whole blob, verified against its descriptor by the client while it streams
/// (envelopes are at most 32 MiB, so holding one in memory is fine).
async fn fetch_blob(target: &Target, descriptor: &Descriptor) -> Result<Bytes, Error> {
    let mut stream = target.fetch_blob(descriptor).await?;
    let mut out = BytesMut::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk?);
    }
    Ok(out.freeze())
}
