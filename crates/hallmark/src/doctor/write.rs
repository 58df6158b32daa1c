//! `doctor --write`: whether the registry takes what a signer pushes. Into a scratch
//! repository beside REPO (`<REPO>-hallmark-doctor`: the same namespace, so usually the same
//! permissions, and nothing lands in the user's own repository), the probe pushes a plain
//! image (see `image`: nothing in it needs OCI 1.1), then an artifact manifest with `subject`
//! and an `artifactType` no registry knows, both by digest, as signers push signatures. The
//! answers say whether the registry takes plain images at all, whether it rejects OCI 1.1
//! artifacts (400 or 415 on the artifact alone), stores them without indexing them (no
//! `OCI-Subject`), or indexes them as referrers (distribution spec "Pushing manifests with
//! subject"); the referrers of the pushed image, a subject that certainly exists, then say
//! conclusively whether the referrers API is there.
//!
//! Everything the probe may have stored is deleted again, best effort: every digest is known
//! before it is pushed, so a push that got no answer (a timeout after the registry stored
//! it) is deleted too, and a delete answered 404 means there is nothing to delete. Only
//! content unique to the probe is deleted: the image's blobs and both manifests carry its
//! nonce. The empty config blob `{}` of the artifact is shared by design (another client may
//! be pushing a manifest that needs it at this very moment) and is never deleted.

use std::future::Future;

use bytes::Bytes;
use hallmark_client::error::RegistryErrors;
use hallmark_client::manifest::Pushed;
use hallmark_client::{Error, NoProgress, Repository};
use hallmark_oci::{
    Algorithm, Descriptor, Digest, NameError, Reference, RepositoryName, media_type,
};
use serde_json::json;

use super::image::{self, Blob, Image};
use super::probes::{Failure, TAG_SCHEMA_HINT, short, timed};
use super::report::{Finding, Status};

/// The artifact type of the probe: unknown to every registry, as a new signature format is.
const ARTIFACT_TYPE: &str = "application/vnd.hallmark.doctor.probe.v1";

/// What the scratch repository's name adds to REPO's.
pub const SCRATCH_SUFFIX: &str = "-hallmark-doctor";

/// What a user whose registry refuses OCI 1.1 artifacts should know.
const NO_OCI_1_1_HINT: &str = "signatures stored as OCI 1.1 artifacts get the same 400 here: \
    `notation sign`, `hallmark sign` and cosign's new bundle format (`--new-bundle-format`). \
    Use a registry with OCI 1.1 artifact support (such as `hallmark serve`, or a newer release \
    of this one), or sign with cosign's legacy `.sig` tags (`cosign sign` or `hallmark cosign \
    sign` without --new-bundle-format), which every registry takes";

/// The repository `--write` pushes to: `<repo>-hallmark-doctor`.
pub fn scratch_repository(repo: &RepositoryName) -> Result<RepositoryName, NameError> {
    format!("{repo}{SCRATCH_SUFFIX}").parse()
}

/// The findings of the push probe, in the order they belong in the report.
pub struct Written {
    /// The referrers of the pushed image, when that answer is conclusive.
    pub referrers: Option<Finding>,
    /// `subject-push`.
    pub push: Finding,
    /// `cleanup`, when anything may have been stored.
    pub cleanup: Option<Finding>,
}

/// Which push failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Blob,
    Image,
    Artifact,
}

/// Something the probe may have stored, for the clean-up.
struct Item {
    what: &'static str,
    manifest: bool,
    digest: Digest,
    /// The registry confirmed it; otherwise the push got no answer it could be judged by.
    confirmed: bool,
}

/// Pushes into `repo` (the scratch repository), reports, cleans up.
pub async fn probe(repo: &Repository) -> Written {
    let image = Image::new(&nonce());
    let mut stored = Vec::new();
    let (push, referrers) = push(repo, &image, &mut stored).await;
    let cleanup = if stored.is_empty() {
        None
    } else {
        Some(clean_up(repo, stored).await)
    };
    Written {
        referrers,
        push,
        cleanup,
    }
}

async fn push(
    repo: &Repository,
    image: &Image,
    stored: &mut Vec<Item>,
) -> (Finding, Option<Finding>) {
    for (what, blob) in [("config blob", &image.config), ("layer blob", &image.layer)] {
        let digest = blob.descriptor.digest.clone();
        if let Err(e) = attempt(stored, what, false, digest, push_blob(repo, blob)).await {
            return (
                failed(repo, &format!("the image's {what}"), Step::Blob, &e),
                None,
            );
        }
    }
    let subject_digest = Algorithm::Sha256.digest(&image.manifest);
    let subject_push = push_by_digest(repo, image.manifest.clone());
    let subject = match attempt(stored, "subject", true, subject_digest, subject_push).await {
        Ok(p) => p.descriptor,
        Err(e) => return (failed(repo, "a plain image", Step::Image, &e), None),
    };

    let empty = Blob::empty();
    let artifact = match push_blob(repo, &empty).await {
        Err(e) => Err(("the empty config blob", Step::Blob, e)),
        Ok(()) => {
            let subject_ref = Descriptor::new(
                media_type::OCI_MANIFEST,
                subject.digest.clone(),
                subject.size,
            );
            let bytes = artifact_bytes(&empty.descriptor, &subject_ref);
            let digest = Algorithm::Sha256.digest(&bytes);
            let push = push_by_digest(repo, bytes);
            attempt(stored, "artifact", true, digest, push)
                .await
                .map_err(|e| ("an artifact with a subject", Step::Artifact, e))
        }
    };
    let listed = artifact.as_ref().ok().map(|p| &p.descriptor.digest);
    let referrers = subject_referrers(repo, &subject.digest, listed).await;
    let finding = match artifact {
        Ok(p) => accepted(repo, &p),
        Err((what, step, e)) => failed(repo, what, step, &e),
    };
    (finding, referrers)
}

/// Runs one push, recording in `stored` what it may have left in the registry: everything
/// but what the registry definitely refused.
async fn attempt<T>(
    stored: &mut Vec<Item>,
    what: &'static str,
    manifest: bool,
    digest: Digest,
    push: impl Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    let result = push.await;
    let confirmed = match &result {
        Ok(_) => true,
        Err(e) if refused(e) => return result,
        Err(_) => false,
    };
    stored.push(Item {
        what,
        manifest,
        digest,
        confirmed,
    });
    result
}

/// Whether the registry answered a push with a refusal, so that nothing was stored.
fn refused(failure: &Failure) -> bool {
    let Failure::Client(e) = failure else {
        return false;
    };
    match e {
        Error::Status { status, .. } => (400..500).contains(status),
        Error::ManifestRejected { .. }
        | Error::Unauthorized { .. }
        | Error::Token { .. }
        | Error::TokenAnswer { .. }
        | Error::UnsupportedChallenge { .. } => true,
        _ => false,
    }
}

/// Why a push failed, as far as the answer tells.
enum Cause<'a> {
    /// No right to push: 401 or 403.
    Rights,
    /// The repository does not exist and pushing does not create it.
    NoRepository,
    /// The registry refused the manifest itself (400 or 415).
    Refused(u16, &'a RegistryErrors),
    /// Anything else.
    Other,
}

fn cause(step: Step, failure: &Failure) -> Cause<'_> {
    let Failure::Client(e) = failure else {
        return Cause::Other;
    };
    let manifest = step != Step::Blob;
    match e {
        Error::Unauthorized { .. } => Cause::Rights,
        Error::Token { status, .. } if *status == 401 || *status == 403 => Cause::Rights,
        Error::Status { status, .. } if *status == 401 || *status == 403 => Cause::Rights,
        Error::Status { errors, .. } | Error::ManifestRejected { errors, .. }
            if errors.has("NAME_UNKNOWN") =>
        {
            Cause::NoRepository
        }
        Error::Status { errors, .. } if errors.has("DENIED") || errors.has("UNAUTHORIZED") => {
            Cause::Rights
        }
        Error::ManifestRejected { status, errors, .. } if manifest => {
            Cause::Refused(*status, errors)
        }
        Error::Status { status, errors, .. } if manifest && (*status == 400 || *status == 415) => {
            Cause::Refused(*status, errors)
        }
        _ => Cause::Other,
    }
}

/// The `subject-push` finding of a failed push, its hint derived from the answer.
fn failed(repo: &Repository, what: &str, step: Step, e: &Failure) -> Finding {
    let where_ = repo.describe();
    let registry = repo.registry();
    let fail = |detail: String| Finding::new("subject-push", Status::Fail, detail);
    match cause(step, e) {
        Cause::Rights => fail(format!("cannot push {what} to {where_}: {e}")).hint(format!(
            "pushing signatures needs push rights to this namespace: run `hallmark login \
             {registry}` (or pass --username with --password-stdin) with an account that may \
             push to {where_}"
        )),
        Cause::NoRepository => fail(format!(
            "cannot push {what}: {where_} does not exist and the registry does not create \
             repositories on push ({e})"
        ))
        .hint(format!(
            "create the repository {} (the probe's scratch repository beside REPO) and run \
             `hallmark doctor --write` again",
            repo.name()
        )),
        Cause::Refused(status, errors) if step == Step::Image => fail(format!(
            "{where_} refused a plain OCI image manifest ({status}: {errors}): this registry \
             takes no OCI image manifests, so no OCI 1.1 artifacts either"
        ))
        .hint(NO_OCI_1_1_HINT),
        Cause::Refused(status, errors) => fail(format!(
            "{where_} took a plain image but refused a manifest with subject and artifactType \
             ({status}: {errors}): the registry lacks OCI 1.1 artifact support"
        ))
        .hint(NO_OCI_1_1_HINT),
        Cause::Other => fail(format!("cannot push {what} to {where_}: {e}")),
    }
}

fn accepted(repo: &Repository, pushed: &Pushed) -> Finding {
    let where_ = repo.describe();
    let digest = short(pushed.descriptor.digest.as_str());
    if pushed.subject_acknowledged {
        return Finding::new(
            "subject-push",
            Status::Ok,
            format!(
                "{where_} accepted a manifest with subject and artifactType ({digest}) and \
                 answered OCI-Subject: it indexes referrers"
            ),
        );
    }
    Finding::new(
        "subject-push",
        Status::Warn,
        format!(
            "{where_} accepted a manifest with subject and artifactType ({digest}) but \
             answered without OCI-Subject: it stores the manifest without indexing it as a \
             referrer"
        ),
    )
    .hint(
        "clients must record each referrer in the `sha256-<hex>` tag index themselves (see \
         referrers-api)",
    )
}

/// `GET /v2/<scratch>/referrers/<subject>` of the image just pushed: unlike a made-up
/// subject in a repository that may not exist, a 404 here can only mean there is no API.
/// `None` when the answer tells nothing.
async fn subject_referrers(
    repo: &Repository,
    subject: &Digest,
    artifact: Option<&Digest>,
) -> Option<Finding> {
    let asked = format!(
        "GET /v2/{}/referrers/{} (the image the probe pushed)",
        repo.name(),
        short(subject.as_str())
    );
    let finding = match timed("referrers-api", repo.referrers(subject, None)).await {
        Ok((list, _)) => match artifact {
            Some(a) if list.iter().any(|d| &d.digest == a) => Finding::new(
                "referrers-api",
                Status::Ok,
                format!(
                    "{asked} answered 200 listing the artifact pushed with it: the referrers \
                     API is there and indexes pushes"
                ),
            ),
            Some(a) => Finding::new(
                "referrers-api",
                Status::Warn,
                format!(
                    "{asked} answered 200 without the artifact {} pushed a moment before: the \
                     referrers API is there but does not list it",
                    short(a.as_str())
                ),
            )
            .hint(
                "verifiers that list referrers (`notation verify`, `hallmark verify`) may not \
                 find a new signature at once; if it never appears, the registry does not \
                 index `subject`",
            ),
            None => Finding::new(
                "referrers-api",
                Status::Ok,
                format!("{asked} answered 200 with an image index: the referrers API is there"),
            ),
        },
        Err(Failure::Client(Error::NoReferrersApi { .. })) => Finding::new(
            "referrers-api",
            Status::Warn,
            format!("{asked} answered 404: no referrers API"),
        )
        .hint(TAG_SCHEMA_HINT),
        Err(e) => {
            tracing::debug!(error = %e, "referrers of the pushed image: no conclusive answer");
            return None;
        }
    };
    Some(finding)
}

async fn push_blob(repo: &Repository, blob: &Blob) -> Result<(), Failure> {
    let push = repo.push_blob(&blob.descriptor, &blob.bytes, &NoProgress);
    timed("subject-push", push).await.map(drop)
}

async fn push_by_digest(repo: &Repository, bytes: Bytes) -> Result<Pushed, Failure> {
    let digest = Algorithm::Sha256.digest(&bytes);
    let reference = Reference::Digest(digest);
    let push = repo.push_manifest(&reference, media_type::OCI_MANIFEST, bytes);
    timed("subject-push", push).await
}

/// The artifact: an image manifest with the empty config as its config and only layer (the
/// OCI 1.1 way of carrying no content), `artifactType`, `subject`, and a description.
fn artifact_bytes(empty: &Descriptor, subject: &Descriptor) -> Bytes {
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_MANIFEST,
        "artifactType": ARTIFACT_TYPE,
        "config": empty,
        "layers": [empty],
        "subject": subject,
        "annotations": {"org.opencontainers.image.description": image::DESCRIPTION},
    });
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

/// Deletes what the probe may have stored, newest first (the referrer before its subject,
/// manifests before their blobs). A 404 means there is nothing left to delete.
async fn clean_up(repo: &Repository, stored: Vec<Item>) -> Finding {
    let mut deleted = Vec::new();
    let mut left = Vec::new();
    let mut first_refusal = None;
    for item in stored.into_iter().rev() {
        let digest = &item.digest;
        let result = if item.manifest {
            let reference = Reference::Digest(digest.clone());
            timed("cleanup", repo.delete_manifest(&reference)).await
        } else {
            timed("cleanup", repo.delete_blob(digest)).await
        };
        let name = format!("{} {digest}", item.what);
        match result {
            Ok(()) => deleted.push(name),
            Err(Failure::Client(Error::ManifestUnknown { .. } | Error::BlobUnknown { .. })) => {
                if item.confirmed {
                    deleted.push(format!("{name} (already gone)"));
                }
            }
            Err(e) => {
                first_refusal.get_or_insert_with(|| e.to_string());
                let name = if item.confirmed {
                    name
                } else {
                    format!("{name} (if its unanswered push stored it)")
                };
                left.push((item.manifest, name));
            }
        }
    }
    let where_ = repo.describe();
    let deleted = if deleted.is_empty() {
        "nothing was there".to_owned()
    } else {
        deleted.join(", ")
    };
    let Some(refusal) = first_refusal else {
        let detail = format!("deleted what the probe pushed to {where_}: {deleted}");
        return Finding::new("cleanup", Status::Ok, detail);
    };
    let manifests_left = left.iter().any(|(manifest, _)| *manifest);
    let names: Vec<&str> = left.iter().map(|(_, name)| name.as_str()).collect();
    if !manifests_left {
        // Blobs no manifest references are the registry's garbage to collect.
        let detail = format!(
            "deleted from {where_}: {deleted}; the registry refused to delete the blobs \
             ({refusal}), which no manifest references now: {}",
            names.join(", ")
        );
        return Finding::new("cleanup", Status::Info, detail)
            .hint("its garbage collection removes unreferenced blobs; nothing else needs doing");
    }
    Finding::new(
        "cleanup",
        Status::Warn,
        format!(
            "the registry refused deletes ({refusal}); left in {where_}: {}",
            names.join(", ")
        ),
    )
    .hint(format!(
        "delete them with `hallmark manifest delete {where_}@DIGEST` (and `hallmark blob \
         delete`) once the registry allows deletes (distribution: storage.delete.enabled)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scratch_repository_is_beside_repo() {
        let repo: RepositoryName = "team/app".parse().expect("name");
        let scratch = scratch_repository(&repo).expect("scratch name");
        assert_eq!(scratch.as_str(), "team/app-hallmark-doctor");
        let long: RepositoryName = "a".repeat(250).parse().expect("name");
        assert!(scratch_repository(&long).is_err());
    }

    #[test]
    fn hints_follow_the_answer() {
        let errors = |code: &str| RegistryErrors(vec![(code.to_owned(), String::new())]);
        let status = |status: u16, code: &str| {
            Failure::Client(Error::Status {
                method: "PUT".into(),
                url: "http://r.io/v2/a/manifests/x".into(),
                status,
                errors: errors(code),
            })
        };
        let rejected = Failure::Client(Error::ManifestRejected {
            registry: "r.io".into(),
            media_type: media_type::OCI_MANIFEST.into(),
            status: 400,
            errors: errors("MANIFEST_INVALID"),
        });
        assert!(matches!(
            cause(Step::Artifact, &rejected),
            Cause::Refused(400, _)
        ));
        assert!(matches!(
            cause(Step::Image, &rejected),
            Cause::Refused(400, _)
        ));
        // Any 400 on a manifest is a refusal of the manifest, not of the user.
        let other_400 = status(400, "MANIFEST_BLOB_UNKNOWN");
        assert!(matches!(
            cause(Step::Artifact, &other_400),
            Cause::Refused(400, _)
        ));
        assert!(matches!(cause(Step::Blob, &other_400), Cause::Other));
        assert!(matches!(
            cause(Step::Image, &status(403, "DENIED")),
            Cause::Rights
        ));
        assert!(matches!(cause(Step::Blob, &status(401, "")), Cause::Rights));
        let unknown = status(404, "NAME_UNKNOWN");
        assert!(matches!(cause(Step::Blob, &unknown), Cause::NoRepository));
        assert!(matches!(
            cause(Step::Image, &Failure::Timeout),
            Cause::Other
        ));

        assert!(refused(&rejected) && refused(&unknown));
        assert!(!refused(&Failure::Timeout));
        assert!(!refused(&status(503, "")));
    }
}
