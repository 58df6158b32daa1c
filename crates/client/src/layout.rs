//! OCI image layouts on disk (image spec "OCI Image Layout Specification"): an `oci-layout`
//! file, content-addressed `blobs/<alg>/<hex>`, and `index.json`, whose entries carry tags in
//! the `org.opencontainers.image.ref.name` annotation.
//!
//! A layout has no referrers API; like oras and notation, referrer manifests are listed in
//! `index.json` (untagged) and found by reading the `subject` of every listed manifest.
//! Blobs are written to a temporary file, checked against their digest, then renamed into
//! place, so a reader never sees partial or wrong content. `index.json` is replaced
//! atomically, by one writer at a time: writers take an exclusive lock on the layout
//! directory (`flock`), so two processes adding to one layout do not lose each other's entries.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use hallmark_oci::{Descriptor, Digest, Manifest, Reference, Tag, media_type};
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use crate::blob::{BlobStream, Outcome, Progress, Verified, file_stream};
use crate::error::{Error, Result};
use crate::manifest::{MANIFEST_LIMIT, sniff_media_type};

/// The annotation that names an `index.json` entry.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// An OCI image layout directory.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    index_turn: Arc<tokio::sync::Mutex<()>>,
}

impl Layout {
    /// Opens an existing layout.
    pub fn open(root: &Path) -> Result<Layout> {
        let marker = std::fs::read(root.join("oci-layout")).map_err(|_| Error::NotALayout {
            path: root.to_path_buf(),
        })?;
        let version = serde_json::from_slice::<Value>(&marker)
            .ok()
            .and_then(|v| v.get("imageLayoutVersion")?.as_str().map(str::to_owned));
        if version.as_deref() != Some("1.0.0") {
            return Err(Error::NotALayout {
                path: root.to_path_buf(),
            });
        }
        Ok(Layout {
            root: root.to_path_buf(),
            index_turn: Arc::default(),
        })
    }

    /// Opens a layout, creating it (and the directory) if there is none.
    pub fn open_or_create(root: &Path) -> Result<Layout> {
        if root.join("oci-layout").exists() {
            return Layout::open(root);
        }
        std::fs::create_dir_all(root.join("blobs")).map_err(Error::io("cannot create", root))?;
        let write = |name: &str, text: &str| {
            let path = root.join(name);
            std::fs::write(&path, text).map_err(Error::io("cannot write", path))
        };
        write("oci-layout", r#"{"imageLayoutVersion":"1.0.0"}"#)?;
        if !root.join("index.json").exists() {
            write("index.json", &index_json(&[]))?;
        }
        Layout::open(root)
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(digest.algorithm().as_str())
            .join(digest.hex())
    }

    /// The entries of `index.json`.
    pub async fn index(&self) -> Result<Vec<Descriptor>> {
        let path = self.root.join("index.json");
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(Error::io("cannot read", &path))?;
        #[derive(serde::Deserialize)]
        struct Index {
            #[serde(default)]
            manifests: Vec<Descriptor>,
        }
        let index: Index = serde_json::from_slice(&bytes).map_err(|source| Error::Json {
            what: path.display().to_string(),
            source,
        })?;
        Ok(index.manifests)
    }

    async fn write_index(&self, entries: &[Descriptor]) -> Result<()> {
        let tmp = self
            .root
            .join(format!(".index-{}.tmp", uuid::Uuid::new_v4()));
        let path = self.root.join("index.json");
        tokio::fs::write(&tmp, index_json(entries))
            .await
            .map_err(Error::io("cannot write", &tmp))?;
        tokio::fs::rename(&tmp, &path)
            .await
            .map_err(Error::io("cannot replace", &path))
    }

    /// Tags in `index.json`.
    pub async fn tags(&self) -> Result<Vec<Tag>> {
        let mut out: Vec<Tag> = self
            .index()
            .await?
            .iter()
            .filter_map(|d| d.annotations.as_ref()?.get(REF_NAME)?.parse().ok())
            .collect();
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// The descriptor `reference` names: a tag in `index.json`, or a stored manifest.
    pub async fn resolve(&self, reference: &Reference) -> Result<Descriptor> {
        let index = self.index().await?;
        let unknown = || Error::ManifestUnknown {
            repository: self.root.display().to_string(),
            reference: reference.to_string(),
        };
        match reference {
            Reference::Tag(t) => index
                .into_iter()
                .rev()
                .find(|d| ref_name(d) == Some(t.as_str()))
                .ok_or_else(unknown),
            Reference::Digest(digest) => {
                if let Some(d) = index.into_iter().find(|d| &d.digest == digest) {
                    return Ok(d);
                }
                let bytes = self.read_manifest_blob(digest).await?.ok_or_else(unknown)?;
                let media_type =
                    sniff_media_type(&bytes).unwrap_or_else(|| media_type::OCI_MANIFEST.into());
                let mut d = crate::manifest::describe(&bytes, &media_type);
                d.digest = digest.clone();
                Ok(d)
            }
        }
    }

    async fn read_manifest_blob(&self, digest: &Digest) -> Result<Option<Bytes>> {
        let path = self.blob_path(digest);
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.len() > MANIFEST_LIMIT => {
                return Err(Error::ManifestTooLarge {
                    url: path.display().to_string(),
                    limit: MANIFEST_LIMIT,
                });
            }
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(Error::io("cannot read", &path))?;
        let actual = digest.algorithm().digest(&bytes);
        if &actual != digest {
            return Err(Error::DigestMismatch {
                source_name: path.display().to_string(),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(Some(Bytes::from(bytes)))
    }

    /// A manifest's verified bytes and its descriptor.
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<(Descriptor, Bytes)> {
        let descriptor = self.resolve(reference).await?;
        let bytes = self
            .read_manifest_blob(&descriptor.digest)
            .await?
            .ok_or_else(|| Error::ManifestUnknown {
                repository: self.root.display().to_string(),
                reference: reference.to_string(),
            })?;
        Ok((descriptor, bytes))
    }

    /// The size of a stored blob, if present.
    pub async fn blob_exists(&self, digest: &Digest) -> Result<Option<u64>> {
        Ok(tokio::fs::metadata(self.blob_path(digest))
            .await
            .ok()
            .map(|m| m.len()))
    }

    /// A blob as a stream that fails at its end unless it matches `descriptor`.
    pub async fn fetch_blob(&self, descriptor: &Descriptor) -> Result<Verified> {
        let path = self.blob_path(&descriptor.digest);
        if !path.exists() {
            return Err(Error::BlobUnknown {
                repository: self.root.display().to_string(),
                digest: descriptor.digest.clone(),
            });
        }
        let stream = file_stream(&path).await?;
        Ok(Verified::new(
            stream,
            descriptor,
            path.display().to_string(),
        ))
    }

    /// Stores a blob unless present; the content is verified before it becomes visible.
    pub async fn push_blob(
        &self,
        descriptor: &Descriptor,
        content: BlobStream,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        let verified = Verified::new(content, descriptor, "blob source".into());
        self.push_verified_blob(descriptor, Box::pin(verified), progress)
            .await
    }

    /// Stores a blob unless present, from a stream that checks itself and fails at its end
    /// unless the content matches `descriptor` (a [`Verified`] stream).
    pub async fn push_verified_blob(
        &self,
        descriptor: &Descriptor,
        content: BlobStream,
        progress: &dyn Progress,
    ) -> Result<Outcome> {
        if self.blob_exists(&descriptor.digest).await?.is_some() {
            return Ok(Outcome::Skipped);
        }
        let dest = self.blob_path(&descriptor.digest);
        write_verified(&self.root, &dest, content, |n| {
            progress.advance(&descriptor.digest, n)
        })
        .await?;
        Ok(Outcome::Transferred)
    }

    /// Stores a manifest; `tag` names it in `index.json`, and `listed` lists it there even
    /// untagged (roots and referrers, so they can be found again).
    pub async fn push_manifest(
        &self,
        media_type: &str,
        bytes: Bytes,
        tag: Option<&Tag>,
        listed: bool,
    ) -> Result<Descriptor> {
        let mut descriptor = crate::manifest::describe(&bytes, media_type);
        descriptor.annotations = None;
        let stream = crate::blob::bytes_stream(bytes);
        self.push_blob(&descriptor, stream, &crate::blob::NoProgress)
            .await?;
        if tag.is_some() || listed {
            self.list(&descriptor, tag).await?;
        }
        Ok(descriptor)
    }

    /// An exclusive lock on the layout directory, held while `index.json` is rewritten;
    /// released when the returned handle is dropped.
    async fn lock_index(&self) -> Result<std::fs::File> {
        let root = self.root.clone();
        let locked = tokio::task::spawn_blocking(move || {
            let dir = std::fs::File::open(&root).map_err(Error::io("cannot open", &root))?;
            dir.lock().map_err(Error::io("cannot lock", &root))?;
            Ok(dir)
        })
        .await;
        locked.unwrap_or_else(|e| Err(Error::io("cannot lock", &self.root)(e.into())))
    }

    /// Adds `descriptor` to `index.json`, tagged `tag` if given (moving the tag).
    pub async fn list(&self, descriptor: &Descriptor, tag: Option<&Tag>) -> Result<()> {
        let _turn = self.index_turn.lock().await;
        let _locked = self.lock_index().await?;
        let mut entries = self.index().await?;
        let mut entry = Descriptor {
            annotations: None,
            ..descriptor.clone()
        };
        match tag {
            Some(t) => {
                entries.retain(|d| ref_name(d) != Some(t.as_str()));
                entry.annotations = Some([(REF_NAME.to_owned(), t.to_string())].into());
            }
            None => {
                if entries.iter().any(|d| d.digest == descriptor.digest) {
                    return Ok(());
                }
            }
        }
        entries.push(entry);
        self.write_index(&entries).await
    }

    /// Removes `tag` from `index.json`; the manifest stays. Returns whether the tag existed.
    pub async fn untag(&self, tag: &Tag) -> Result<bool> {
        let _turn = self.index_turn.lock().await;
        let _locked = self.lock_index().await?;
        let mut entries = self.index().await?;
        let before = entries.len();
        entries.retain(|d| ref_name(d) != Some(tag.as_str()));
        if entries.len() == before {
            return Ok(false);
        }
        self.write_index(&entries).await?;
        Ok(true)
    }

    /// Removes a manifest from `index.json` (every entry with its digest) and deletes its blob.
    pub async fn delete_manifest(&self, digest: &Digest) -> Result<()> {
        let _turn = self.index_turn.lock().await;
        let _locked = self.lock_index().await?;
        let mut entries = self.index().await?;
        entries.retain(|d| &d.digest != digest);
        self.write_index(&entries).await?;
        let path = self.blob_path(digest);
        match tokio::fs::remove_file(&path).await {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::ManifestUnknown {
                repository: self.root.display().to_string(),
                reference: digest.to_string(),
            }),
            other => other.map_err(Error::io("cannot remove", &path)),
        }
    }

    /// Manifests listed in `index.json` whose `subject` is `subject`.
    pub async fn referrers(&self, subject: &Digest) -> Result<Vec<Descriptor>> {
        let mut out: Vec<Descriptor> = Vec::new();
        for entry in self.index().await? {
            if media_type::manifest_kind(&entry.media_type).is_none()
                || out.iter().any(|d| d.digest == entry.digest)
            {
                continue;
            }
            let Some(bytes) = self.read_manifest_blob(&entry.digest).await? else {
                continue;
            };
            let Ok(m) = Manifest::parse(&bytes, Some(&entry.media_type)) else {
                continue;
            };
            if m.subject.as_ref().is_some_and(|s| &s.digest == subject) {
                out.push(crate::referrers::referrer_descriptor(
                    &bytes,
                    &m,
                    &entry.digest,
                ));
            }
        }
        Ok(out)
    }
}

fn ref_name(d: &Descriptor) -> Option<&str> {
    d.annotations.as_ref()?.get(REF_NAME).map(String::as_str)
}

fn index_json(entries: &[Descriptor]) -> String {
    json!({
        "schemaVersion": 2,
        "mediaType": media_type::OCI_INDEX,
        "manifests": entries,
    })
    .to_string()
}

/// Writes a stream that checks itself (a [`Verified`] stream) to `dest` through a temporary
/// file in `tmp_dir`: `dest` appears only once the stream ended without error, that is, once
/// its digest was checked.
pub async fn write_verified(
    tmp_dir: &Path,
    dest: &Path,
    mut content: BlobStream,
    mut on_bytes: impl FnMut(u64),
) -> Result<()> {
    let tmp = tmp_dir.join(format!(".hallmark-{}.tmp", uuid::Uuid::new_v4()));
    // Removes the temporary file however this ends, including when the caller drops the
    // future because another transfer failed.
    let mut guard = TempFile(Some(tmp.clone()));
    let mut file = tokio::fs::File::create(&tmp)
        .await
        .map_err(Error::io("cannot create", &tmp))?;
    while let Some(chunk) = content.next().await {
        let chunk = chunk?;
        file.write_all(&chunk)
            .await
            .map_err(Error::io("cannot write", &tmp))?;
        on_bytes(chunk.len() as u64);
    }
    file.sync_all()
        .await
        .map_err(Error::io("cannot flush", &tmp))?;
    if let Some(dir) = dest.parent() {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(Error::io("cannot create", dir))?;
    }
    tokio::fs::rename(&tmp, dest)
        .await
        .map_err(Error::io("cannot rename into", dest))?;
    guard.0 = None;
    Ok(())
}

/// A temporary file deleted on drop unless taken out.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_keep_every_index_entry() {
        let dir = tempfile::tempdir().expect("temp dir");
        Layout::open_or_create(dir.path()).expect("layout");
        let mut tasks = Vec::new();
        for i in 0..32u8 {
            // Separate handles: only the directory lock keeps them apart, as across processes.
            let layout = Layout::open(dir.path()).expect("open");
            tasks.push(tokio::spawn(async move {
                let bytes = Bytes::from(format!(
                    r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[],"n":{i}}}"#,
                    media_type::OCI_INDEX
                ));
                layout
                    .push_manifest(media_type::OCI_INDEX, bytes, None, true)
                    .await
                    .expect("push")
            }));
        }
        let mut want = Vec::new();
        for t in tasks {
            want.push(t.await.expect("task").digest);
        }
        let listed = Layout::open(dir.path())
            .expect("open")
            .index()
            .await
            .expect("index");
        for d in &want {
            assert!(listed.iter().any(|e| &e.digest == d), "{d} lost");
        }
        let tagged = Layout::open(dir.path()).expect("open");
        let first = tagged
            .resolve(&Reference::Digest(want[0].clone()))
            .await
            .expect("resolve");
        tagged
            .list(&first, Some(&"v1".parse().expect("tag")))
            .await
            .expect("tag");
        let by_tag = tagged
            .resolve(&Reference::Tag("v1".parse().expect("tag")))
            .await;
        assert_eq!(by_tag.expect("tag resolves").digest, want[0]);
    }
}
