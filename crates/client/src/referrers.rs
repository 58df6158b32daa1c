//! Referrers: the manifests whose `subject` is a given manifest (signatures, SBOMs,
//! attestations), through the distribution spec's referrers API ("Listing referrers") or,
//! where a registry lacks it, the referrers tag schema ("Unavailable referrers API"): an image
//! index tagged `<alg>-<hex>` of the subject, which clients maintain themselves.
//!
//! Writing the tag schema is a read-modify-write of one tag that other clients may be doing
//! at the same moment, and a registry offers no compare-and-swap on tags. The writer reads
//! the index, merges its change, writes, then re-reads twice, at once and after a settle
//! delay longer than its own read-to-write cycle, so that a concurrent writer that read the
//! old index has written by then; if its change is gone it starts again, with jittered
//! backoff. Writers in one process also take turns on a per-tag lock.

use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hallmark_oci::{Descriptor, Digest, Manifest, Reference, Tag, media_type};
use reqwest::Method;

use crate::client::{Req, expect_status, lock, next_page, read_json};
use crate::error::{Error, Result};
use crate::manifest::Pushed;
use crate::registry::Repository;

/// How referrers are listed and recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReferrersMode {
    /// The API where the registry has it, else the tag schema.
    #[default]
    Auto,
    /// Only the API.
    Api,
    /// Only the tag schema.
    Tag,
}

impl FromStr for ReferrersMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ReferrersMode::Auto),
            "api" => Ok(ReferrersMode::Api),
            "tag" => Ok(ReferrersMode::Tag),
            other => Err(format!("referrers mode '{other}' is not auto, api or tag")),
        }
    }
}

/// Where a list of referrers came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReferrersSource {
    /// The registry's referrers API.
    Api,
    /// The referrers tag schema's index.
    TagSchema,
    /// The manifests of an OCI image layout.
    Layout,
}

/// A change to a subject's referrers.
#[derive(Debug, Clone)]
pub(crate) enum Change {
    Add(Descriptor),
    Remove(Digest),
}

/// The descriptor a referrers list carries for a referrer manifest.
pub fn referrer_descriptor(bytes: &[u8], manifest: &Manifest, digest: &Digest) -> Descriptor {
    manifest.referrer_descriptor(digest.clone(), bytes.len() as u64)
}

/// An image index listing `manifests`, as the tag schema and the API return it.
pub fn index_bytes(manifests: &[Descriptor]) -> Bytes {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": manifests,
    });
    // Serializing a JSON value cannot fail.
    Bytes::from(serde_json::to_vec(&index).unwrap_or_default())
}

/// Keeps the descriptors of `artifact_type` only, when one is given.
pub fn filter(list: Vec<Descriptor>, artifact_type: Option<&str>) -> Vec<Descriptor> {
    match artifact_type {
        None => list,
        Some(t) => list
            .into_iter()
            .filter(|d| d.artifact_type.as_deref() == Some(t))
            .collect(),
    }
}

#[derive(serde::Deserialize)]
struct IndexBody {
    #[serde(default)]
    manifests: Vec<Descriptor>,
}

impl Repository {
    fn mode(&self) -> ReferrersMode {
        self.client.config().referrers_mode
    }

    fn api_known(&self) -> Option<bool> {
        lock(&self.client.inner.referrers_api)
            .get(&self.registry)
            .copied()
    }

    fn set_api_known(&self, has_api: bool) {
        lock(&self.client.inner.referrers_api).insert(self.registry.clone(), has_api);
    }

    /// The referrers of `subject`, optionally only those of `artifact_type`.
    pub async fn referrers(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<(Vec<Descriptor>, ReferrersSource)> {
        let use_api = match self.mode() {
            ReferrersMode::Tag => false,
            ReferrersMode::Api => true,
            ReferrersMode::Auto => self.api_known() != Some(false),
        };
        if use_api {
            match self.referrers_api(subject, artifact_type).await? {
                Ok(list) => {
                    self.set_api_known(true);
                    return Ok((list, ReferrersSource::Api));
                }
                Err(url) if self.mode() == ReferrersMode::Api => {
                    return Err(Error::NoReferrersApi {
                        registry: self.registry.clone(),
                        url,
                    });
                }
                Err(url) => {
                    tracing::info!(registry = %self.registry, %url,
                        "referrers API answered 404; using the referrers tag schema");
                    self.set_api_known(false);
                }
            }
        }
        let list = self.fallback_index(subject).await?;
        Ok((filter(list, artifact_type), ReferrersSource::TagSchema))
    }

    /// `GET /v2/<name>/referrers/<digest>` with pagination; `Err(url)` on 404.
    async fn referrers_api(
        &self,
        subject: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Result<Vec<Descriptor>, String>> {
        let mut first = self.url(&format!("referrers/{subject}")).await?;
        if let Some(t) = artifact_type {
            first.query_pairs_mut().append_pair("artifactType", t);
        }
        let mut out = Vec::new();
        let mut filtered = true;
        let (mut next, mut pages) = (Some(first), 0);
        while let Some(url) = next.take() {
            let req = Req::new(Method::GET, url.clone()).header("accept", media_type::OCI_INDEX);
            let response = self.send(&self.pull_scope(), req).await?;
            if response.status() == 404 {
                return Ok(Err(url.to_string()));
            }
            let response = expect_status(response, Method::GET, &url, &[200]).await?;
            filtered &= response
                .headers()
                .get("oci-filters-applied")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.split(',').any(|f| f.trim() == "artifactType"));
            next = next_page(&url, response.headers(), &mut pages)?;
            let page: IndexBody = read_json(response, &url).await?;
            out.extend(page.manifests);
        }
        // A registry that ignored the filter says so by omitting OCI-Filters-Applied.
        if !filtered {
            out = filter(out, artifact_type);
        }
        Ok(Ok(out))
    }

    /// The entries of the tag schema index of `subject`; none if the tag does not exist.
    async fn fallback_index(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        let tag = fallback_tag(subject);
        match self.fetch_manifest(&Reference::Tag(tag)).await {
            Ok((_, bytes)) => {
                let index: IndexBody =
                    serde_json::from_slice(&bytes).map_err(|source| Error::Json {
                        what: format!("referrers tag index of {subject}"),
                        source,
                    })?;
                Ok(index.manifests)
            }
            Err(Error::ManifestUnknown { .. }) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Pushes a manifest; if it has a `subject` and the registry does not index referrers
    /// itself (no `OCI-Subject` in the answer), records it in the tag schema index.
    pub async fn push_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Pushed> {
        let pushed = self
            .put_manifest(reference, media_type, bytes.clone())
            .await?;
        let Ok(manifest) = Manifest::parse(&bytes, Some(media_type)) else {
            return Ok(pushed);
        };
        let Some(subject) = &manifest.subject else {
            return Ok(pushed);
        };
        let fallback = match self.mode() {
            ReferrersMode::Api => false,
            ReferrersMode::Tag => true,
            ReferrersMode::Auto => !pushed.subject_acknowledged,
        };
        if fallback {
            if self.mode() == ReferrersMode::Auto {
                tracing::info!(registry = %self.registry,
                    "no OCI-Subject in the answer; recording the referrer in the tag schema");
                self.set_api_known(false);
            }
            let entry = referrer_descriptor(&bytes, &manifest, &pushed.descriptor.digest);
            self.update_fallback(&subject.digest, Change::Add(entry))
                .await?;
        }
        Ok(pushed)
    }

    /// Deletes a manifest or tag; deleting a referrer by digest also removes it from its
    /// subject's tag schema index when that index is in use.
    pub async fn delete_manifest(&self, reference: &Reference) -> Result<()> {
        let subject = match (reference, self.mode()) {
            (Reference::Digest(_), ReferrersMode::Tag | ReferrersMode::Auto) => {
                let (d, bytes) = self.fetch_manifest(reference).await?;
                Manifest::parse(&bytes, Some(&d.media_type))
                    .ok()
                    .and_then(|m| m.subject)
            }
            _ => None,
        };
        self.delete_manifest_raw(reference).await?;
        if let (Some(subject), Reference::Digest(d)) = (subject, reference) {
            let tag = fallback_tag(&subject.digest);
            let has_index = self.head_manifest(&Reference::Tag(tag)).await?.is_some();
            if has_index {
                self.update_fallback(&subject.digest, Change::Remove(d.clone()))
                    .await?;
            }
        }
        Ok(())
    }

    /// Applies `change` to the tag schema index of `subject`, as the module docs describe.
    // FIXME: a writer whose read-to-write cycle outlasts another writer's settle delay can
    // still drop that writer's entry; registries offer no conditional tag write to close it.
    pub(crate) async fn update_fallback(&self, subject: &Digest, change: Change) -> Result<()> {
        const ATTEMPTS: u32 = 10;
        let tag = fallback_tag(subject);
        let key = format!("{}/{}:{tag}", self.registry, self.name);
        let turn = {
            let mut locks = lock(&self.client.inner.fallback_locks);
            Arc::clone(locks.entry(key).or_default())
        };
        let _turn = turn.lock().await;

        for attempt in 1..=ATTEMPTS {
            if self.fallback_round(subject, &tag, &change, attempt).await? {
                tracing::debug!(repository = %self.describe(), %tag, attempt,
                    "referrers tag index updated and confirmed");
                return Ok(());
            }
            let backoff = jitter(Duration::from_millis(100 << attempt.min(5)));
            tracing::debug!(repository = %self.describe(), %tag, attempt, ?backoff,
                "referrers tag index lost our change or the write failed; retrying");
            tokio::time::sleep(backoff).await;
        }
        Err(Error::FallbackConflict {
            repository: self.describe(),
            tag: tag.to_string(),
            attempts: ATTEMPTS,
        })
    }
}

impl Repository {
    /// One read-merge-write-confirm round; true when the change is in place and stayed.
    async fn fallback_round(
        &self,
        subject: &Digest,
        tag: &Tag,
        change: &Change,
        attempt: u32,
    ) -> Result<bool> {
        let started = Instant::now();
        let current = self.fallback_index(subject).await?;
        if attempt == 1 && holds(&current, change) {
            // Nothing to write: whoever wrote this entry confirms it.
            return Ok(true);
        }
        if let Some(merged) = apply(&current, change) {
            let reference = Reference::Tag(tag.clone());
            let put = self
                .put_manifest(&reference, media_type::OCI_INDEX, index_bytes(&merged))
                .await;
            match put {
                Ok(_) => {}
                // A registry may fail a write that races another; the next round re-reads.
                Err(Error::Status { status, .. }) if status >= 500 => {
                    tracing::debug!(%tag, status, attempt, "referrers tag write failed");
                    return Ok(false);
                }
                Err(e) => return Err(e),
            }
        }
        let cycle = started.elapsed();

        // Confirm at once, and again once any writer that read the old index has written.
        let settle = (cycle * 4 + Duration::from_millis(300)).min(Duration::from_secs(10));
        if !holds(&self.fallback_index(subject).await?, change) {
            return Ok(false);
        }
        tokio::time::sleep(settle).await;
        Ok(holds(&self.fallback_index(subject).await?, change))
    }
}

/// The referrers tag of `subject`.
fn fallback_tag(subject: &Digest) -> Tag {
    Tag::for_referrers_of(subject)
}

/// The index after `change`, or `None` when it already reflects it.
fn apply(current: &[Descriptor], change: &Change) -> Option<Vec<Descriptor>> {
    if holds(current, change) {
        return None;
    }
    let mut out: Vec<Descriptor> = current.to_vec();
    match change {
        Change::Add(d) => out.push(d.clone()),
        Change::Remove(digest) => out.retain(|d| &d.digest != digest),
    }
    Some(out)
}

fn holds(list: &[Descriptor], change: &Change) -> bool {
    match change {
        Change::Add(d) => list.iter().any(|e| e.digest == d.digest),
        Change::Remove(digest) => list.iter().all(|e| &e.digest != digest),
    }
}

/// `base` scaled by a random factor in [0.5, 1.5).
fn jitter(base: Duration) -> Duration {
    use std::hash::BuildHasher;
    let r = std::collections::hash_map::RandomState::new().hash_one(Instant::now());
    let factor = 0.5 + (r % 1000) as f64 / 1000.0;
    base.mul_f64(factor)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallmark_oci::Algorithm;

    fn desc(n: u8) -> Descriptor {
        Descriptor {
            artifact_type: Some(format!("t/{n}")),
            ..Descriptor::new(media_type::OCI_MANIFEST, Algorithm::Sha256.digest(&[n]), 1)
        }
    }

    #[test]
    fn merging_keeps_other_entries() {
        let current = vec![desc(1), desc(2)];
        let added = apply(&current, &Change::Add(desc(3))).expect("changed");
        assert_eq!(added.len(), 3);
        assert!(apply(&added, &Change::Add(desc(3))).is_none());
        let removed = apply(&added, &Change::Remove(desc(1).digest)).expect("changed");
        assert_eq!(removed, vec![desc(2), desc(3)]);
        assert!(apply(&removed, &Change::Remove(desc(1).digest)).is_none());
    }

    #[test]
    fn filters_by_artifact_type() {
        let list = vec![desc(1), desc(2)];
        assert_eq!(filter(list.clone(), Some("t/2")), vec![desc(2)]);
        assert_eq!(filter(list.clone(), None), list);
    }
}
