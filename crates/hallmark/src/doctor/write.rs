//! `doctor --write`: whether the registry takes what a signer pushes. A throwaway subject
//! (an empty-config image) and an artifact manifest with `subject` and an `artifactType` no
//! registry knows are pushed by digest, as signatures are; the answer says whether the
//! registry rejects OCI 1.1 artifacts (400 `MANIFEST_INVALID`), stores them without indexing
//! them (no `OCI-Subject`), or indexes them as referrers (distribution spec "Pushing
//! manifests with subject"). Everything pushed is deleted again, best effort.
//!
//! Both manifests carry a unique annotation, so their digests are theirs alone: deleting
//! them by digest cannot remove anyone else's content. The empty config blob is shared by
//! design, so it is deleted only if this probe was the one to upload it.

use bytes::Bytes;
use hallmark_client::manifest::Pushed;
use hallmark_client::{Error, NoProgress, Outcome, Repository};
use hallmark_oci::{Algorithm, Descriptor, Digest, Reference, media_type};
use serde_json::json;

use super::probes::{Failure, short, timed};
use super::report::{Finding, Report, Status};

/// The artifact type of the probe: unknown to every registry, as a new signature format is.
const ARTIFACT_TYPE: &str = "application/vnd.hallmark.doctor.probe.v1";

/// What the probe put in the repository, for the clean-up.
enum Item {
    Manifest(&'static str, Digest),
    Blob(Digest),
}

/// Pushes, reports, cleans up.
pub async fn probe(repo: &Repository, report: &mut Report) {
    let mut pushed = Vec::new();
    let finding = push(repo, &mut pushed).await;
    report.push(finding);
    if !pushed.is_empty() {
        report.push(clean_up(repo, pushed).await);
    }
}

async fn push(repo: &Repository, pushed: &mut Vec<Item>) -> Finding {
    let where_ = repo.describe();
    let cannot_push = |what: &str, e: Failure| {
        Finding::new(
            "subject-push",
            Status::Fail,
            format!("cannot push {what} to {where_}: {e}"),
        )
        .hint(format!(
            "push rights are needed: run `hallmark login {}`",
            repo.registry()
        ))
    };

    let empty = Bytes::from_static(b"{}");
    let config = Descriptor::new(
        media_type::OCI_EMPTY,
        Algorithm::Sha256.digest(&empty),
        empty.len() as u64,
    );
    match timed("subject-push", repo.push_blob(&config, &empty, &NoProgress)).await {
        Ok(Outcome::Transferred) => pushed.push(Item::Blob(config.digest.clone())),
        Ok(_) => {}
        Err(e) => return cannot_push("the empty config blob", e),
    }

    let nonce = nonce();
    let subject_bytes = manifest_bytes(&config, None, &nonce);
    let subject = match push_by_digest(repo, subject_bytes).await {
        Ok(p) => p.descriptor,
        Err(e) => return cannot_push("a throwaway image", e),
    };
    pushed.push(Item::Manifest("subject", subject.digest.clone()));

    let subject_ref = Descriptor::new(media_type::OCI_MANIFEST, subject.digest, subject.size);
    let artifact_bytes = manifest_bytes(&config, Some(&subject_ref), &nonce);
    match push_by_digest(repo, artifact_bytes).await {
        Ok(p) => {
            pushed.push(Item::Manifest("artifact", p.descriptor.digest.clone()));
            accepted(&p)
        }
        Err(Failure::Client(Error::ManifestRejected { status, errors, .. })) => Finding::new(
            "subject-push",
            Status::Fail,
            format!(
                "registry without OCI 1.1 artifact support rejects signatures ({status}: \
                 {errors})"
            ),
        )
        .hint(
            "Notary Project and cosign bundle signatures need a registry with OCI 1.1 \
             artifacts (subject, artifactType); cosign's `.sig` tags still work here",
        ),
        Err(e) => cannot_push("an artifact with a subject", e),
    }
}

fn accepted(pushed: &Pushed) -> Finding {
    let digest = &pushed.descriptor.digest;
    if pushed.subject_acknowledged {
        return Finding::new(
            "subject-push",
            Status::Ok,
            format!(
                "accepted a manifest with subject and artifactType ({}) and answered \
                 OCI-Subject: it indexes referrers",
                short(digest.as_str())
            ),
        );
    }
    Finding::new(
        "subject-push",
        Status::Warn,
        format!(
            "accepted a manifest with subject and artifactType ({}) but answered without \
             OCI-Subject: it stores the manifest without indexing it as a referrer",
            short(digest.as_str())
        ),
    )
    .hint(
        "clients must record each referrer in the `sha256-<hex>` tag index themselves (see \
         referrers-api)",
    )
}

async fn push_by_digest(repo: &Repository, bytes: Bytes) -> Result<Pushed, Failure> {
    let digest = Algorithm::Sha256.digest(&bytes);
    let reference = Reference::Digest(digest);
    let push = repo.push_manifest(&reference, media_type::OCI_MANIFEST, bytes);
    timed("subject-push", push).await
}

/// An image manifest with the empty config as its config and only layer (the OCI 1.1 way
/// of carrying no content), `subject` if given, and the probe's unique annotations.
fn manifest_bytes(config: &Descriptor, subject: Option<&Descriptor>, nonce: &str) -> Bytes {
    let mut manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "config": config,
        "layers": [config],
        "annotations": {
            "org.opencontainers.image.description": "hallmark doctor probe; safe to delete",
            "io.hallmark.doctor.nonce": nonce,
        },
    });
    if let Some(subject) = subject {
        manifest["artifactType"] = json!(ARTIFACT_TYPE);
        manifest["subject"] = json!(subject);
    }
    // Serializing a JSON value cannot fail.
    Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default())
}

/// A value no other push carries: this process, and the time to the nanosecond.
fn nonce() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}-{}", std::process::id(), now.as_nanos())
}

/// Deletes what was pushed, newest first (the referrer before its subject).
async fn clean_up(repo: &Repository, pushed: Vec<Item>) -> Finding {
    let mut deleted = Vec::new();
    let mut refused = Vec::new();
    for item in pushed.into_iter().rev() {
        let (what, digest, result) = match item {
            Item::Manifest(what, d) => {
                let reference = Reference::Digest(d.clone());
                let r = timed("cleanup", repo.delete_manifest(&reference)).await;
                (what, d, r)
            }
            Item::Blob(d) => {
                let r = timed("cleanup", repo.delete_blob(&d)).await;
                ("config blob", d, r)
            }
        };
        match result {
            Ok(()) => deleted.push(format!("{what} {digest}")),
            Err(e) => refused.push((format!("{what} {digest}"), e)),
        }
    }
    if refused.is_empty() {
        let detail = format!("deleted what the probe pushed: {}", deleted.join(", "));
        return Finding::new("cleanup", Status::Ok, detail);
    }
    let left: Vec<&str> = refused.iter().map(|(what, _)| what.as_str()).collect();
    let first = refused
        .first()
        .map_or_else(String::new, |(_, e)| e.to_string());
    Finding::new(
        "cleanup",
        Status::Warn,
        format!(
            "the registry refused deletes ({first}); left in {}: {}",
            repo.describe(),
            left.join(", ")
        ),
    )
    .hint(format!(
        "delete them with `hallmark manifest delete {}@DIGEST` (and `hallmark blob delete`) \
         once the registry allows deletes (distribution: storage.delete.enabled)",
        repo.describe()
    ))
}
