//! The v1 evidence of a migrated tag: an OCI artifact whose `subject` is the image, holding
//! the Notary v1 metadata files that verified the tag (root, timestamp, snapshot, targets and
//! the delegation that signed it) exactly as they were served, with annotations that say which
//! repository, tag and role, which keys signed, when the role expires, how the v1 root was
//! trusted (pinned, kept from an earlier run, or on first use) and when it was verified. It
//! is found through the referrers API (or tag schema) by its artifact type.
//!
//! A tag's evidence is written after its new signature, so its presence, beside a signature
//! by the key that verifies, marks the tag as migrated to that signature format: a rerun
//! skips it, an interrupted run redoes only what has none (reusing a signature already
//! there), and migrating to the other format as well leaves evidence for each.

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
/// Annotation: the key IDs whose signatures on that role's file verified and counted toward
/// its threshold, comma-separated.
pub const SIGNED_BY_ANNOTATION: &str = "dev.hallmark.notary-v1.signed-by";
/// Annotation: when that role's metadata expires (RFC 3339).
pub const EXPIRES_ANNOTATION: &str = "dev.hallmark.notary-v1.expires";
/// Annotation: the root version trusted when verifying.
pub const ROOT_VERSION_ANNOTATION: &str = "dev.hallmark.notary-v1.root-version";
/// Annotation: how the v1 root was trusted ([`RootTrust`]: `pinned`, `saved-state`,
/// `first-use`).
pub const ROOT_TRUST_ANNOTATION: &str = "dev.hallmark.notary-v1.root-trust";
/// Annotation: when Hallmark verified the metadata (RFC 3339).
pub const VERIFIED_ANNOTATION: &str = "dev.hallmark.notary-v1.verified-at";

/// How the v1 root that verified the metadata was trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RootTrust {
    /// The user pinned a root key or certificate (`--root-key`, `--root-cert`).
    Pinned,
    /// The root an earlier run trusted, kept in the state directory (or one it rotated to).
    SavedState,
    /// Trusted on first use: the root as the source gave it, vouching for itself.
    FirstUse,
}

impl RootTrust {
    /// `pinned`, `saved-state` or `first-use`.
    pub fn as_str(self) -> &'static str {
        match self {
            RootTrust::Pinned => "pinned",
            RootTrust::SavedState => "saved-state",
            RootTrust::FirstUse => "first-use",
        }
    }
}

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

/// The evidence of `target` (from `verified`, for `gun`, under a root trusted as
/// `root_trust`) attached to `subject`, migrated to `format`.
pub fn build(
    verified: &Verified,
    gun: &Gun,
    target: &SignedTarget,
    subject: &Descriptor,
    format: &str,
    root_trust: RootTrust,
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
            ROOT_TRUST_ANNOTATION: root_trust.as_str(),
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

/// The key IDs whose signatures on `role`'s file verified and counted toward its threshold
/// (never a key named by a signature that failed), and when the file expires.
fn role_facts(verified: &Verified, role: &RoleName) -> (Vec<String>, String) {
    let expires = if role.is_delegation() {
        let Some(file) = verified.delegations.get(role) else {
            return (Vec::new(), String::new());
        };
        file.signed.expires
    } else {
        verified.targets.signed.expires
    };
    let mut signed_by = verified.signed_by(role).to_vec();
    signed_by.sort();
    (signed_by, rfc3339(expires))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly on broken fixtures

    use std::path::Path;

    use hallmark_tuf::signed::Signature;
    use hallmark_tuf::{RepositoryFiles, RootPin, SignatureMethod, TrustedState, Verifier};
    use serde_json::Value;

    use super::*;

    /// The vectors' client cache, verified, or `None` (with a notice) when it is absent.
    fn verified_vectors(gun: &Gun) -> Option<Verified> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/vectors/notary-v1/client-cache");
        if !dir.is_dir() {
            assert!(
                std::env::var_os("CI").is_none(),
                "the interop vectors must be present under CI"
            );
            println!("skipped: {} is absent", dir.display());
            return None;
        }
        let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
        let mut files = RepositoryFiles {
            root: read("root.json"),
            timestamp: read("timestamp.json"),
            snapshot: read("snapshot.json"),
            targets: read("targets.json"),
            ..RepositoryFiles::default()
        };
        for name in ["releases", "alice"] {
            let role = format!("targets/{name}").parse().unwrap();
            files
                .delegations
                .insert(role, read(&format!("targets/{name}.json")));
        }
        let trusted = TrustedState::default();
        let verifier = Verifier {
            gun,
            pin: &RootPin::TrustOnFirstUse,
            trusted: &trusted,
            now: time::macros::datetime!(2026-12-04 00:00:00 UTC),
        };
        Some(verifier.verify(&files).unwrap())
    }

    #[test]
    fn evidence_names_only_keys_whose_signatures_counted() {
        let gun: Gun = "example.com/demo".parse().unwrap();
        let Some(mut verified) = verified_vectors(&gun) else {
            return;
        };
        let signer = verified.signed_by(&RoleName::targets()).to_vec();
        assert_eq!(signer.len(), 1);
        // A second key the targets role trusts, named by a signature that never verified.
        let stranger = "ab".repeat(32);
        verified
            .root
            .signed
            .roles
            .targets
            .key_ids
            .push(stranger.clone());
        verified.targets.signatures.push(Signature {
            key_id: stranger,
            method: SignatureMethod::Ecdsa,
            sig: vec![0; 64],
        });
        let target = verified
            .signed_targets
            .iter()
            .find(|t| t.role == RoleName::targets())
            .unwrap()
            .clone();
        let empty = b"{}";
        let subject = Descriptor::new(media_type::OCI_MANIFEST, Algorithm::Sha256.digest(empty), 2);
        let now = time::macros::datetime!(2026-12-04 00:00:00 UTC);
        let trust = RootTrust::FirstUse;
        let evidence = build(&verified, &gun, &target, &subject, "notation", trust, now).unwrap();
        let manifest: Value = serde_json::from_slice(&evidence.manifest).unwrap();
        assert_eq!(manifest["annotations"][ROOT_TRUST_ANNOTATION], "first-use");
        let signed_by = manifest["annotations"][SIGNED_BY_ANNOTATION]
            .as_str()
            .unwrap();
        assert_eq!(signed_by, signer.join(","));
    }
}
