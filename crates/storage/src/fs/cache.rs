//! In-memory caches of tags, manifests and referrers lists.
//!
//! Reads fill the caches; writes (made under the repository lock) update them. A read that
//! raced with a write must not put back what the write replaced, so every write bumps
//! `generation`, and a fill is dropped when the generation moved since its read began.

use std::collections::HashMap;
use std::sync::Arc;

use hallmark_oci::{Digest, RepositoryName, Tag};

use crate::{Referrers, StoredManifest};

/// Referrers lists kept at most; past this the referrers cache starts over.
const MAX_REFERRER_SUBJECTS: usize = 4096;

#[derive(Debug, Default)]
struct RepoCache {
    tags: HashMap<Tag, Digest>,
    manifests: HashMap<Digest, Arc<StoredManifest>>,
    referrers: HashMap<Digest, Arc<Referrers>>,
}

#[derive(Debug)]
pub(crate) struct Cache {
    repos: HashMap<RepositoryName, RepoCache>,
    manifest_bytes: usize,
    manifest_budget: usize,
    referrer_subjects: usize,
    generation: u64,
}

impl Cache {
    pub(crate) fn new(manifest_budget: usize) -> Cache {
        Cache {
            repos: HashMap::new(),
            manifest_bytes: 0,
            manifest_budget,
            referrer_subjects: 0,
            generation: 0,
        }
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation
    }

    pub(crate) fn tag(&self, repo: &RepositoryName, tag: &Tag) -> Option<&Digest> {
        self.repos.get(repo)?.tags.get(tag)
    }

    pub(crate) fn manifest(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> Option<Arc<StoredManifest>> {
        self.repos.get(repo)?.manifests.get(digest).cloned()
    }

    pub(crate) fn referrers(
        &self,
        repo: &RepositoryName,
        subject: &Digest,
    ) -> Option<Arc<Referrers>> {
        self.repos.get(repo)?.referrers.get(subject).cloned()
    }

    /// Records what a read found, unless a write happened since `generation` was taken.
    pub(crate) fn fill_manifest(
        &mut self,
        generation: u64,
        repo: &RepositoryName,
        tag: Option<&Tag>,
        manifest: &Arc<StoredManifest>,
    ) {
        if generation != self.generation {
            return;
        }
        self.insert_manifest(repo, manifest);
        if let Some(tag) = tag {
            self.repo(repo)
                .tags
                .insert(tag.clone(), manifest.digest.clone());
        }
    }

    /// Records a referrers list read from storage, unless a write happened since.
    pub(crate) fn fill_referrers(
        &mut self,
        generation: u64,
        repo: &RepositoryName,
        subject: &Digest,
        referrers: &Arc<Referrers>,
    ) {
        if generation != self.generation {
            return;
        }
        if self.referrer_subjects >= MAX_REFERRER_SUBJECTS {
            for r in self.repos.values_mut() {
                r.referrers.clear();
            }
            self.referrer_subjects = 0;
        }
        let old = self
            .repo(repo)
            .referrers
            .insert(subject.clone(), referrers.clone());
        if old.is_none() {
            self.referrer_subjects += 1;
        }
    }

    /// A manifest was written with these tags.
    pub(crate) fn put_manifest(
        &mut self,
        repo: &RepositoryName,
        manifest: &Arc<StoredManifest>,
        tags: &[Tag],
    ) {
        self.generation += 1;
        self.insert_manifest(repo, manifest);
        let r = self.repo(repo);
        for t in tags {
            r.tags.insert(t.clone(), manifest.digest.clone());
        }
    }

    /// A manifest and every tag on it were deleted.
    pub(crate) fn remove_manifest(&mut self, repo: &RepositoryName, digest: &Digest) {
        self.generation += 1;
        let Some(r) = self.repos.get_mut(repo) else {
            return;
        };
        if let Some(m) = r.manifests.remove(digest) {
            self.manifest_bytes -= m.bytes.len();
        }
        r.tags.retain(|_, d| d != digest);
    }

    /// A tag was deleted.
    pub(crate) fn remove_tag(&mut self, repo: &RepositoryName, tag: &Tag) {
        self.generation += 1;
        if let Some(r) = self.repos.get_mut(repo) {
            r.tags.remove(tag);
        }
    }

    /// A subject's referrers changed: `change` maps the cached list to the new one. A list
    /// that is not cached is left to be read from storage.
    pub(crate) fn change_referrers(
        &mut self,
        repo: &RepositoryName,
        subject: &Digest,
        change: impl FnOnce(&Referrers) -> Referrers,
    ) {
        self.generation += 1;
        let Some(r) = self.repos.get_mut(repo) else {
            return;
        };
        if let Some(list) = r.referrers.get_mut(subject) {
            *list = Arc::new(change(list));
        }
    }

    fn repo(&mut self, repo: &RepositoryName) -> &mut RepoCache {
        self.repos.entry(repo.clone()).or_default()
    }

    fn insert_manifest(&mut self, repo: &RepositoryName, manifest: &Arc<StoredManifest>) {
        let size = manifest.bytes.len();
        if size > self.manifest_budget {
            return;
        }
        if self.manifest_bytes + size > self.manifest_budget {
            // Start over rather than track recency: manifests are small and re-read cheaply,
            // and this keeps the hit path to one hash lookup.
            for r in self.repos.values_mut() {
                r.manifests.clear();
            }
            self.manifest_bytes = 0;
        }
        let old = self
            .repo(repo)
            .manifests
            .insert(manifest.digest.clone(), manifest.clone());
        self.manifest_bytes += size;
        if let Some(old) = old {
            self.manifest_bytes -= old.bytes.len();
        }
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use hallmark_oci::Algorithm;

    use super::*;

    fn manifest(content: &'static [u8]) -> Arc<StoredManifest> {
        Arc::new(StoredManifest {
            digest: Algorithm::Sha256.digest(content),
            media_type: "m".into(),
            bytes: Bytes::from_static(content),
        })
    }

    #[test]
    fn stale_fill_after_write_is_dropped() {
        let repo: RepositoryName = "r".parse().expect("valid");
        let tag: Tag = "t".parse().expect("valid");
        let mut c = Cache::new(1024);
        let before = c.generation();
        let new = manifest(b"new");
        c.put_manifest(&repo, &new, std::slice::from_ref(&tag));
        c.fill_manifest(before, &repo, Some(&tag), &manifest(b"old"));
        assert_eq!(c.tag(&repo, &tag), Some(&new.digest));
    }

    #[test]
    fn budget_is_respected() {
        let repo: RepositoryName = "r".parse().expect("valid");
        let mut c = Cache::new(5);
        c.put_manifest(&repo, &manifest(b"abc"), &[]);
        c.put_manifest(&repo, &manifest(b"def"), &[]);
        assert!(c.manifest_bytes <= 5);
        c.put_manifest(&repo, &manifest(b"too large"), &[]);
        assert!(c.manifest_bytes <= 5);
    }
}
