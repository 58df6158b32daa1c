//! Manifests, tags and the referrers index on the filesystem.
//!
//! A manifest push writes, in this order, each step durable before the next: the content
//! under `blobs/`, the revision link that puts it in the repository, the referrers entry, and
//! the tags. A crash between steps leaves at worst content nobody points at yet, never a tag
//! or referrer that points at nothing.

use std::fs;
use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use hallmark_oci::{Descriptor, Digest, Reference, RepositoryName, Tag};

use super::{Inner, atomic, blocking, is_repo_dir};
use crate::error::IoContext;
use crate::{ManifestWrite, ReferrerEntry, Referrers, Result, StorageError, StoredManifest};

impl Inner {
    fn manifests_dir(&self, repo: &RepositoryName) -> PathBuf {
        self.repo_dir(repo).join("_manifests")
    }

    fn revision_path(&self, repo: &RepositoryName, d: &Digest) -> PathBuf {
        self.manifests_dir(repo)
            .join("revisions")
            .join(d.algorithm().as_str())
            .join(d.hex())
    }

    fn tags_dir(&self, repo: &RepositoryName) -> PathBuf {
        self.manifests_dir(repo).join("tags")
    }

    fn referrers_dir(&self, repo: &RepositoryName, subject: &Digest) -> PathBuf {
        self.repo_dir(repo)
            .join("_referrers")
            .join(subject.algorithm().as_str())
            .join(subject.hex())
    }

    pub(super) async fn get_manifest(
        &self,
        repo: &RepositoryName,
        reference: &Reference,
    ) -> Result<Option<Arc<StoredManifest>>> {
        let generation = {
            let cache = self.cache();
            let digest = match reference {
                Reference::Digest(d) => Some(d),
                Reference::Tag(t) => cache.tag(repo, t),
            };
            if let Some(m) = digest.and_then(|d| cache.manifest(repo, d)) {
                return Ok(Some(m));
            }
            cache.generation()
        };

        let digest = match reference {
            Reference::Digest(d) => d.clone(),
            Reference::Tag(t) => match self.read_tag(repo, t).await? {
                Some(d) => d,
                None => return Ok(None),
            },
        };
        let Some(manifest) = self.read_manifest(repo, &digest).await? else {
            return Ok(None);
        };
        let manifest = Arc::new(manifest);
        let tag = match reference {
            Reference::Tag(t) => Some(t),
            Reference::Digest(_) => None,
        };
        self.cache().fill_manifest(generation, repo, tag, &manifest);
        Ok(Some(manifest))
    }

    async fn read_tag(&self, repo: &RepositoryName, tag: &Tag) -> Result<Option<Digest>> {
        let path = self.tags_dir(repo).join(tag.as_str());
        let Some(bytes) = blocking({
            let path = path.clone();
            move || atomic::read_optional(&path)
        })
        .await
        .context("reading tag")?
        else {
            return Ok(None);
        };
        let text = String::from_utf8_lossy(&bytes);
        let digest = text
            .trim()
            .parse()
            .map_err(|e: hallmark_oci::DigestError| StorageError::Corrupt {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
        Ok(Some(digest))
    }

    async fn read_manifest(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
    ) -> Result<Option<StoredManifest>> {
        let revision = self.revision_path(repo, digest);
        let content = self.blob_path(digest);
        let read = blocking(move || -> io::Result<Option<(Vec<u8>, Vec<u8>)>> {
            let Some(media_type) = atomic::read_optional(&revision)? else {
                return Ok(None);
            };
            let Some(bytes) = atomic::read_optional(&content)? else {
                return Ok(None);
            };
            Ok(Some((media_type, bytes)))
        })
        .await
        .context("reading manifest")?;
        Ok(read.map(|(media_type, bytes)| StoredManifest {
            digest: digest.clone(),
            media_type: String::from_utf8_lossy(&media_type).into_owned(),
            bytes: Bytes::from(bytes),
        }))
    }

    pub(super) async fn put_manifest(
        &self,
        repo: &RepositoryName,
        write: ManifestWrite,
    ) -> Result<()> {
        let content = self.blob_path(&write.digest);
        let revision = self.revision_path(repo, &write.digest);
        let tmp = self.tmp.clone();
        let (bytes, media_type) = (write.bytes.clone(), write.media_type.clone());
        blocking(move || {
            atomic::write_content(&tmp, &content, &bytes)?;
            atomic::write_file(&tmp, &revision, media_type.as_bytes())
        })
        .await
        .context("writing manifest")?;

        let _guard = self.repo_lock(repo).lock().await;
        let referrer = match &write.referrer {
            Some((subject, descriptor)) => {
                let entry = entry_for(descriptor)?;
                let path = self
                    .referrers_dir(repo, subject)
                    .join(entry_name(&write.digest));
                let (tmp, json) = (self.tmp.clone(), entry.json.clone());
                blocking(move || atomic::write_file(&tmp, &path, &json))
                    .await
                    .context("writing referrers entry")?;
                Some((subject, entry))
            }
            None => None,
        };
        let tags_dir = self.tags_dir(repo);
        let (tmp, tags, text) = (
            self.tmp.clone(),
            write.tags.clone(),
            write.digest.to_string(),
        );
        blocking(move || {
            tags.iter().try_for_each(|t| {
                atomic::write_file(&tmp, &tags_dir.join(t.as_str()), text.as_bytes())
            })
        })
        .await
        .context("writing tag")?;

        let manifest = Arc::new(StoredManifest {
            digest: write.digest.clone(),
            media_type: write.media_type,
            bytes: write.bytes,
        });
        let mut cache = self.cache();
        cache.put_manifest(repo, &manifest, &write.tags);
        if let Some((subject, entry)) = referrer {
            cache.change_referrers(repo, subject, |old| {
                with_entry(old, Some(entry), &write.digest)
            });
        }
        Ok(())
    }

    pub(super) async fn delete_manifest(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        subject: Option<&Digest>,
    ) -> Result<bool> {
        let _guard = self.repo_lock(repo).lock().await;
        let revision = self.revision_path(repo, digest);
        let tags_dir = self.tags_dir(repo);
        let referrer = subject.map(|s| self.referrers_dir(repo, s).join(entry_name(digest)));
        let text = digest.to_string();
        let existed = blocking(move || -> io::Result<bool> {
            if !revision.exists() {
                return Ok(false);
            }
            // Tags first: a crash part way leaves the manifest, never a tag pointing at nothing.
            for entry in read_dir_optional(&tags_dir)? {
                let path = entry?.path();
                if atomic::read_optional(&path)?.is_some_and(|b| b.trim_ascii() == text.as_bytes())
                {
                    atomic::remove(&path)?;
                }
            }
            if let Some(referrer) = referrer {
                atomic::remove(&referrer)?;
            }
            atomic::remove(&revision)
        })
        .await
        .context("deleting manifest")?;

        let mut cache = self.cache();
        cache.remove_manifest(repo, digest);
        if let Some(subject) = subject {
            cache.change_referrers(repo, subject, |old| with_entry(old, None, digest));
        }
        Ok(existed)
    }

    pub(super) async fn delete_tag(&self, repo: &RepositoryName, tag: &Tag) -> Result<bool> {
        let _guard = self.repo_lock(repo).lock().await;
        let path = self.tags_dir(repo).join(tag.as_str());
        let existed = blocking(move || atomic::remove(&path))
            .await
            .context("deleting tag")?;
        self.cache().remove_tag(repo, tag);
        Ok(existed)
    }

    pub(super) async fn list_tags(&self, repo: &RepositoryName) -> Result<Option<Vec<Tag>>> {
        let repo_dir = self.repo_dir(repo);
        let tags_dir = self.tags_dir(repo);
        blocking(move || -> io::Result<Option<Vec<Tag>>> {
            if !is_repo_dir(&repo_dir) {
                return Ok(None);
            }
            let mut tags = Vec::new();
            for entry in read_dir_optional(&tags_dir)? {
                if let Some(tag) = entry?.file_name().to_str().and_then(|n| n.parse().ok()) {
                    tags.push(tag);
                }
            }
            tags.sort_unstable_by(|a: &Tag, b| a.as_str().cmp(b.as_str()));
            Ok(Some(tags))
        })
        .await
        .context("listing tags")
    }

    pub(super) async fn list_referrers(
        &self,
        repo: &RepositoryName,
        subject: &Digest,
    ) -> Result<Arc<Referrers>> {
        let generation = {
            let cache = self.cache();
            if let Some(r) = cache.referrers(repo, subject) {
                return Ok(r);
            }
            cache.generation()
        };
        let dir = self.referrers_dir(repo, subject);
        let entries = blocking(move || -> Result<Vec<ReferrerEntry>> {
            let mut out = Vec::new();
            for entry in read_dir_optional(&dir).context("listing referrers")? {
                let path = entry.context("listing referrers")?.path();
                let bytes = fs::read(&path).context("reading referrers entry")?;
                let descriptor: Descriptor =
                    serde_json::from_slice(&bytes).map_err(|e| StorageError::Corrupt {
                        path: path.display().to_string(),
                        reason: e.to_string(),
                    })?;
                out.push(ReferrerEntry {
                    descriptor,
                    json: Bytes::from(bytes),
                });
            }
            out.sort_unstable_by(|a, b| a.descriptor.digest.cmp(&b.descriptor.digest));
            Ok(out)
        })
        .await?;
        let referrers = Arc::new(Referrers::new(entries));
        self.cache()
            .fill_referrers(generation, repo, subject, &referrers);
        Ok(referrers)
    }
}

/// File name of a referrer's entry: its digest with `-` for `:`.
fn entry_name(d: &Digest) -> String {
    format!("{}-{}", d.algorithm(), d.hex())
}

fn entry_for(descriptor: &Descriptor) -> Result<ReferrerEntry> {
    let json = serde_json::to_vec(descriptor).map_err(|e| StorageError::Io {
        action: "encoding referrers entry",
        source: io::Error::other(e),
    })?;
    Ok(ReferrerEntry {
        descriptor: descriptor.clone(),
        json: Bytes::from(json),
    })
}

/// `old` with the entry for `digest` replaced by `entry` (or removed when `None`).
fn with_entry(old: &Referrers, entry: Option<ReferrerEntry>, digest: &Digest) -> Referrers {
    let mut entries: Vec<ReferrerEntry> = old
        .entries
        .iter()
        .filter(|e| &e.descriptor.digest != digest)
        .cloned()
        .collect();
    if let Some(entry) = entry {
        let at = entries.partition_point(|e| e.descriptor.digest < entry.descriptor.digest);
        entries.insert(at, entry);
    }
    Referrers::new(entries)
}

fn read_dir_optional(
    dir: &std::path::Path,
) -> io::Result<Box<dyn Iterator<Item = io::Result<fs::DirEntry>>>> {
    match fs::read_dir(dir) {
        Ok(rd) => Ok(Box::new(rd)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Box::new(std::iter::empty())),
        Err(e) => Err(e),
    }
}
