//! The v1 evidence of a migrated tag: an OCI artifact whose `subject` is the image, holding
//! the Notary v1 metadata files that verified the tag (root, timestamp, snapshot, targets and
//! the delegation that signed it) exactly as they were served, with annotations that say which
//! repository, tag and role, which keys signed, when the role expires and when it was
//! verified. It is found through the referrers API (or tag schema) by its artifact type.
//!
//! A tag's evidence is written after its new signature, so its presence marks the tag as
//! migrated to that signature format: a rerun skips it, an interrupted run redoes only what
//! has none, and migrating to the other format as well leaves evidence for each.

use std::collections::BTreeMap;

use bytes::Bytes;
use hallmark_oci::{Algorithm, Descriptor, media_type};
use hallmark_tuf::signed::RoleName;
use hallmark_tuf::{Gun, SignedTarget, Verified};
use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::Error;

/// The artifact type of v1 evidence.
pub const ARTIFACT_TYPE: &str = "application/vnd.hallmark.notary-v1.evidence.v1+json";
/// The media type of each metadata file layer.
pub const METADATA_MEDIA_TYPE: &str = "application/vnd.hallmark.notary-v1.metadata.v1+json";
/// Annotation: the v1 repository (GUN).
pub const GUN_ANNOTATION: &str = "dev.hallmark.notary-v1.gun";
/// Annotation: the tag (the v1 target name).
pub const TAG_ANNOTATION: &str = "dev.hallmark.notary-v1.tag";
/// Annotation: the format of the signature the tag was migrated to (`notation`, `cosign`).
pub const FORMAT_ANNOTATION: &str = "dev.hallmark.notary-v1.migrated-to";
/// Annotation: the role whose metadata signed the tag.
pub const ROLE_ANNOTATION: &str = "dev.hallmark.notary-v1.role";
/// Annotation: the key IDs whose signatures are on that role's file, comma-separated.
pub const SIGNED_BY_ANNOTATION: &str = "dev.hallmark.notary-v1.signed-by";
/// Annotation: when that role's metadata expires (RFC 3339).
pub const EXPIRES_ANNOTATION: &str = "dev.hallmark.notary-v1.expires";
/// Annotation: the root version trusted when verifying.
pub const ROOT_VERSION_ANNOTATION: &str = "dev.hallmark.notary-v1.root-version";
/// Annotation: when Hallmark verified the metadata (RFC 3339).
pub const VERIFIED_ANNOTATION: &str = "dev.hallmark.notary-v1.verified-at";

/// An evidence artifact ready to push: its blobs, then its manifest.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// Config and layers, each with its bytes.
    pub blobs: Vec<(Descriptor, Bytes)>,
    /// The manifest bytes (push by digest).
    pub manifest: Bytes,
}

/// Whether a referrer descriptor is the evidence of `tag` in `gun` migrated to `format`.
pub fn is_evidence_of(descriptor: &Descriptor, gun: &Gun, tag: &str, format: &str) -> bool {
    let annotation = |k: &str| descriptor.annotations.as_ref().and_then(|a| a.get(k));
    descriptor.artifact_type.as_deref() == Some(ARTIFACT_TYPE)
        && annotation(GUN_ANNOTATION).map(String::as_str) == Some(gun.as_str())
        && annotation(TAG_ANNOTATION).map(String::as_str) == Some(tag)
        && annotation(FORMAT_ANNOTATION).map(String::as_str) == Some(format)
}

fn layer(title: &str, bytes: &[u8]) -> (Descriptor, Bytes) {
    let bytes = Bytes::copy_from_slice(bytes);
    let mut d = Descriptor::new(
        METADATA_MEDIA_TYPE,
        Algorithm::Sha256.digest(&bytes),
        bytes.len() as u64,
    );
    d.annotations = Some(BTreeMap::from([(
        "org.opencontainers.image.title".to_owned(),
        title.to_owned(),
    )]));
    (d, bytes)
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The evidence of `target` (from `verified`, for `gun`) attached to `subject`, migrated to
/// `format`.
pub fn build(
    verified: &Verified,
    gun: &Gun,
    target: &SignedTarget,
    subject: &Descriptor,
    format: &str,
    now: OffsetDateTime,
) -> Result<Evidence, Error> {
    let mut layers = vec![
        layer("root.json", verified.root.bytes()),
        layer("timestamp.json", verified.timestamp.bytes()),
        layer("snapshot.json", verified.snapshot.bytes()),
        layer("targets.json", verified.targets.bytes()),
    ];
    // The signing role's file, and those of the delegations between it and `targets`.
    let mut role = Some(target.role.clone());
    let mut chain = Vec::new();
    while let Some(r) = role.filter(RoleName::is_delegation) {
        if let Some(file) = verified.delegations.get(&r) {
            chain.push(layer(&format!("{}.json", r.as_str()), file.bytes()));
        }
        role = r.parent();
    }
    layers.extend(chain.into_iter().rev());

    let (signed_by, expires) = role_facts(verified, &target.role);
    let empty = Bytes::from_static(b"{}");
    let config = Descriptor::new(media_type::OCI_EMPTY, Algorithm::Sha256.digest(&empty), 2);
    let descriptors: Vec<&Descriptor> = layers.iter().map(|(d, _)| d).collect();
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": config,
        "layers": descriptors,
        "subject": subject,
        "annotations": {
            "org.opencontainers.image.created": rfc3339(now),
            GUN_ANNOTATION: gun.as_str(),
            TAG_ANNOTATION: target.name,
            FORMAT_ANNOTATION: format,
            ROLE_ANNOTATION: target.role.as_str(),
            SIGNED_BY_ANNOTATION: signed_by.join(","),
            EXPIRES_ANNOTATION: expires,
            ROOT_VERSION_ANNOTATION: verified.root.signed.version.to_string(),
            VERIFIED_ANNOTATION: rfc3339(now),
        },
    });
    let manifest = serde_json::to_vec(&manifest).map_err(|e| Error::Encoding(e.to_string()))?;
    let mut blobs = vec![(config, empty)];
    blobs.extend(layers);
    Ok(Evidence {
        blobs,
        manifest: Bytes::from(manifest),
    })
}

/// The key IDs whose signatures are on `role`'s file and that the role trusts, and when the
/// file expires.
fn role_facts(verified: &Verified, role: &RoleName) -> (Vec<String>, String) {
    let (signatures, trusted, expires) = if role.is_delegation() {
        let Some(file) = verified.delegations.get(role) else {
            return (Vec::new(), String::new());
        };
        let parent = role
            .parent()
            .and_then(|p| {
                if p.is_delegation() {
                    verified.delegations.get(&p).map(|f| &f.signed.delegations)
                } else {
                    Some(&verified.targets.signed.delegations)
                }
            })
            .and_then(|d| d.roles.iter().find(|r| &r.name == role))
            .map(|r| r.keys.key_ids.clone())
            .unwrap_or_default();
        (&file.signatures, parent, file.signed.expires)
    } else {
        let keys = verified.root.signed.roles.targets.key_ids.clone();
        (
            &verified.targets.signatures,
            keys,
            verified.targets.signed.expires,
        )
    };
    let mut signed_by: Vec<String> = signatures
        .iter()
        .filter(|s| trusted.contains(&s.key_id))
        .map(|s| s.key_id.clone())
        .collect();
    signed_by.sort();
    signed_by.dedup();
    (signed_by, rfc3339(expires))
}
