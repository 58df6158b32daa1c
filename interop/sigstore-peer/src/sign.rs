//! `sign`: cosign simple signing through sigstore-rs, appended to the `.sig` tag.
//!
//! sigstore-rs builds and signs the payload (`SignatureLayer::new_unsigned`, then the
//! `AnnotationMarker` and `PrivateKeySigner` constraints) and pushes it
//! (`Client::push_signature`). `push_signature` writes a fresh manifest from the layers it is
//! given and re-serialises each layer's payload from its parsed form, keeping only the
//! signature annotation. So the layers already under the tag are read first and passed back
//! in, but only when that is lossless: when every existing layer re-serialises to the same
//! bytes and carries nothing but a signature. Otherwise (a certificate or Rekor bundle
//! annotation, a payload written with another key order or escaping) the existing manifest is
//! kept byte for byte and the new layer is appended to it with oci-client directly.

use std::collections::{BTreeMap, HashMap};

use oci_client::client::ImageLayer;
use oci_client::manifest::{OciDescriptor, OciImageManifest};
use serde_json::json;
use sigstore::cosign::constraint::{AnnotationMarker, PrivateKeySigner, SignConstraintVec};
use sigstore::cosign::payload::SimpleSigning;
use sigstore::cosign::{Client, CosignCapabilities, SignatureLayer, apply_constraints};
use sigstore::crypto::{CosignVerificationKey, Signature};
use sigstore::registry::{Auth, OciReference};

use crate::registry::{self, ExistingLayer, Targets};
use crate::{Failure, ImageArgs, failed, keys};

/// The media type of a simple-signing layer.
const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The layer annotation holding the base64 signature.
const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";

/// What `sign` did for one reference.
struct Outcome {
    digest: String,
    signature_tag: String,
    layers: usize,
    /// `push_signature`, `oci-client`, or `None` when the same layer was already there.
    pushed_with: Option<&'static str>,
}

/// `sign`: signs every reference with one key and one client, in order.
pub async fn sign(args: ImageArgs) -> Result<(), Failure> {
    let targets = Targets::parse(&args.references, args.plain_http)?;
    let key_pair = keys::load_key_pair(&args.key)?;
    let mut constraints: SignConstraintVec = Vec::new();
    if !args.annotations.is_empty() {
        let annotations: HashMap<String, String> = args.annotations.into_iter().collect();
        constraints.push(Box::new(AnnotationMarker::new(annotations)));
    }
    let signer = keys::signer(&key_pair)?;
    let key = signer
        .to_verification_key()
        .map_err(|e| failed("cannot derive the verification key", e))?;
    constraints.push(Box::new(PrivateKeySigner::new_with_signer(signer)));

    let mut cosign = targets.cosign_client()?;
    let oci = targets.oci_client();
    let mut failures = Vec::new();
    for (text, reference) in &targets.references {
        match sign_one(&mut cosign, &oci, &constraints, &key, reference).await {
            Ok(outcome) => {
                let line = json!({
                    "reference": text,
                    "digest": outcome.digest,
                    "signature_tag": outcome.signature_tag,
                    "layers": outcome.layers,
                    "pushed_with": outcome.pushed_with,
                });
                println!("{line}");
            }
            Err(failure) => failures.push(format!("{text}: {failure}")),
        }
    }
    crate::summarise(failures, targets.references.len())
}

async fn sign_one(
    cosign: &mut Client,
    oci: &oci_client::Client,
    constraints: &SignConstraintVec,
    key: &CosignVerificationKey,
    reference: &OciReference,
) -> Result<Outcome, Failure> {
    let (signature_ref, digest) = cosign
        .triangulate(reference, &Auth::Anonymous)
        .await
        .map_err(|e| failed("cannot resolve the manifest digest", e))?;

    let mut layer = SignatureLayer::new_unsigned(reference, &digest)
        .map_err(|e| failed("cannot build the payload", e))?;
    // cosign names the repository without tag or digest; `new_unsigned` takes the whole
    // reference.
    layer.simple_signing.critical.identity.docker_reference =
        format!("{}/{}", reference.registry(), reference.repository());
    apply_constraints(&mut layer, constraints.iter())
        .map_err(|_| Failure::Failed("cannot sign the payload".to_owned()))?;
    let signature = layer
        .signature
        .clone()
        .ok_or_else(|| Failure::Failed("the signer left no signature".to_owned()))?;

    let signature_oci = registry::oci_reference(&signature_ref)?;
    let existing = registry::read_manifest_with_layers(oci, &signature_oci).await?;
    let signature_tag = signature_ref.whole();
    let (manifest, existing) = match existing {
        None => {
            push_with_sigstore(cosign, &signature_ref, vec![layer]).await?;
            let pushed_with = Some("push_signature");
            return Ok(Outcome {
                digest,
                signature_tag,
                layers: 1,
                pushed_with,
            });
        }
        Some(found) => found,
    };

    let layers = existing.len() + 1;
    // cosign's duplicate rule: the same payload, already signed by this key. (The new
    // signature itself differs: sigstore-rs's ECDSA signatures are randomised.)
    let duplicate = existing.iter().any(|old| {
        old.descriptor.media_type == SIMPLE_SIGNING_MEDIA_TYPE
            && old.data == layer.raw_data
            && signature_of(&old.descriptor).is_some_and(|old_signature| {
                let old_signature = Signature::Base64Encoded(old_signature.as_bytes());
                key.verify_signature(old_signature, &old.data).is_ok()
            })
    });
    if duplicate {
        return Ok(Outcome {
            digest,
            signature_tag,
            layers: layers - 1,
            pushed_with: None,
        });
    }

    let pushed_with = match reusable_layers(&manifest, &existing) {
        Some(mut merged) => {
            merged.push(layer);
            push_with_sigstore(cosign, &signature_ref, merged).await?;
            "push_signature"
        }
        None => {
            append_with_oci_client(oci, &signature_oci, manifest, &layer.raw_data, signature)
                .await?;
            "oci-client"
        }
    };
    Ok(Outcome {
        digest,
        signature_tag,
        layers,
        pushed_with: Some(pushed_with),
    })
}

fn signature_of(descriptor: &OciDescriptor) -> Option<&String> {
    descriptor.annotations.as_ref()?.get(SIGNATURE_ANNOTATION)
}

/// The existing layers as sigstore-rs signature layers, if `push_signature` would write them
/// back unchanged; `None` if it would lose or alter anything.
fn reusable_layers(
    manifest: &OciImageManifest,
    existing: &[ExistingLayer],
) -> Option<Vec<SignatureLayer>> {
    if manifest.annotations.is_some() || manifest.subject.is_some() {
        return None;
    }
    existing
        .iter()
        .map(|old| {
            let annotations = old.descriptor.annotations.as_ref()?;
            let signature = annotations.get(SIGNATURE_ANNOTATION)?;
            if old.descriptor.media_type != SIMPLE_SIGNING_MEDIA_TYPE || annotations.len() != 1 {
                return None;
            }
            let simple_signing: SimpleSigning = serde_json::from_slice(&old.data).ok()?;
            let reencoded = serde_json::to_vec(&simple_signing).ok()?;
            (reencoded == old.data).then(|| SignatureLayer {
                simple_signing,
                oci_digest: old.descriptor.digest.clone(),
                certificate_signature: None,
                bundle: None,
                signature: Some(signature.clone()),
                raw_data: old.data.clone(),
            })
        })
        .collect()
}

async fn push_with_sigstore(
    cosign: &mut Client,
    signature_ref: &OciReference,
    layers: Vec<SignatureLayer>,
) -> Result<(), Failure> {
    cosign
        .push_signature(None, &Auth::Anonymous, signature_ref, layers)
        .await
        .map(drop)
        .map_err(|e| failed(&format!("cannot push {signature_ref}"), e))
}

/// Appends one simple-signing layer to `manifest`, keeping everything else as it was.
async fn append_with_oci_client(
    oci: &oci_client::Client,
    signature_ref: &oci_client::Reference,
    mut manifest: OciImageManifest,
    payload: &[u8],
    signature: String,
) -> Result<(), Failure> {
    let annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), signature)]);
    let layer = ImageLayer::new(
        payload.to_vec(),
        SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        Some(annotations.clone()),
    );
    let digest = layer.sha256_digest();
    oci.push_blob(signature_ref, layer.data, &digest)
        .await
        .map_err(|e| failed("cannot push the payload blob", e))?;
    let size = i64::try_from(payload.len())
        .map_err(|_| Failure::Failed("the payload is too large".to_owned()))?;
    manifest.layers.push(OciDescriptor {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE.to_owned(),
        digest,
        size,
        annotations: Some(annotations),
        ..OciDescriptor::default()
    });
    oci.push_manifest(signature_ref, &manifest.into())
        .await
        .map(drop)
        .map_err(|e| failed(&format!("cannot push {signature_ref}"), e))
}
