//! `verify`: cosign key-based verification, entirely by sigstore-rs.
//!
//! For each reference: `Client::triangulate` for the digest, `trusted_signature_layers` for the
//! signature layers (the `.sig` tag, plus Sigstore bundles found as OCI referrers), then
//! `verify_constraints` with a `PublicKeyVerifier` and, given `-a`, an `AnnotationVerifier`.
//! `verify_constraints` accepts a set of layers when each constraint is met by *some* layer; it
//! is called on one layer at a time here so that a layer counts only if it meets them all (the
//! key and the annotations in the same signature, as cosign requires).

use std::slice;

use serde_json::json;
use sigstore::cosign::bundle_content::BundleContent;
use sigstore::cosign::verification_constraint::{
    AnnotationVerifier, PublicKeyVerifier, VerificationConstraintVec,
};
use sigstore::cosign::{Client, CosignCapabilities, SignatureLayer, verify_constraints};
use sigstore::registry::{Auth, OciReference};

use crate::registry::Targets;
use crate::{Failure, ImageArgs, failed};

/// What `verify` found for one reference.
struct Outcome {
    digest: String,
    /// Layers that satisfy every constraint.
    verified: usize,
    /// Layers sigstore-rs built from OCI referrer bundles (verified or not against the key).
    bundle: usize,
}

/// `verify`: checks every reference against one public key with one client.
pub async fn verify(args: ImageArgs) -> Result<(), Failure> {
    let targets = Targets::parse(&args.references, args.plain_http)?;
    let pem =
        std::fs::read(&args.key).map_err(|e| failed(&format!("cannot read {}", args.key), e))?;
    let key = PublicKeyVerifier::try_from(&pem)
        .map_err(|e| failed(&format!("cannot use the public key {}", args.key), e))?;
    let mut constraints: VerificationConstraintVec = vec![Box::new(key)];
    if !args.annotations.is_empty() {
        constraints.push(Box::new(AnnotationVerifier {
            annotations: args.annotations,
        }));
    }

    let mut cosign = targets.cosign_client()?;
    let mut failures = Vec::new();
    for (text, reference) in &targets.references {
        match verify_one(&mut cosign, &constraints, reference).await {
            Ok(outcome) => {
                let line = json!({
                    "reference": text,
                    "digest": outcome.digest,
                    "verified_layers": outcome.verified,
                    "bundle_layers": outcome.bundle,
                });
                println!("{line}");
                if outcome.verified == 0 {
                    failures.push(format!(
                        "{text}: no signature satisfies the key and annotations"
                    ));
                }
            }
            Err(failure) => failures.push(format!("{text}: {failure}")),
        }
    }
    crate::summarise(failures, targets.references.len())
}

async fn verify_one(
    cosign: &mut Client,
    constraints: &VerificationConstraintVec,
    reference: &OciReference,
) -> Result<Outcome, Failure> {
    let (_, digest) = cosign
        .triangulate(reference, &Auth::Anonymous)
        .await
        .map_err(|e| failed("cannot resolve the manifest digest", e))?;
    let layers = cosign
        .trusted_signature_layers(&Auth::Anonymous, reference)
        .await
        .map_err(|e| failed("cannot read the signatures", e))?;
    let verified = layers
        .iter()
        .filter(|layer| satisfies(layer, constraints))
        .count();
    let bundle = layers
        .iter()
        .filter(|layer| matches!(layer.bundle, Some(BundleContent::SigstoreBundle(_))))
        .count();
    Ok(Outcome {
        digest,
        verified,
        bundle,
    })
}

fn satisfies(layer: &SignatureLayer, constraints: &VerificationConstraintVec) -> bool {
    verify_constraints(slice::from_ref(layer), constraints.iter()).is_ok()
}
