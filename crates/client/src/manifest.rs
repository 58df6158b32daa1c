//! Manifests in a remote repository (distribution spec "Pulling manifests", "Pushing
//! manifests", "Deleting manifests"): the exact bytes are kept, and a fetched manifest is
//! hashed and checked against the digest asked for (or the `Docker-Content-Digest` the
//! registry claims, when fetched by tag) before anything uses it.

use bytes::Bytes;
use hallmark_oci::{Algorithm, Descriptor, Digest, Manifest, Reference, media_type};
use reqwest::{Method, Response, Url};

use crate::client::{Req, expect_status, header_length};
use crate::error::{Error, RegistryErrors, Result};
use crate::registry::Repository;

/// Media types a client accepts when fetching a manifest.
pub const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
    application/vnd.oci.image.index.v1+json, \
    application/vnd.docker.distribution.manifest.v2+json, \
    application/vnd.docker.distribution.manifest.list.v2+json";

/// Largest manifest accepted, as registries cap them (4 MiB).
pub const MANIFEST_LIMIT: u64 = 4 << 20;

/// The descriptor of manifest bytes (sha256), with what the manifest says about itself.
pub fn describe(bytes: &[u8], media_type: &str) -> Descriptor {
    let mut d = Descriptor::new(
        media_type,
        Algorithm::Sha256.digest(bytes),
        bytes.len() as u64,
    );
    if let Ok(m) = Manifest::parse(bytes, Some(media_type)) {
        d.artifact_type = m.effective_artifact_type().map(str::to_owned);
        d.annotations = m.annotations;
    }
    d
}

/// The `mediaType` a manifest declares in its body, if any.
pub fn sniff_media_type(bytes: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        media_type: Option<String>,
    }
    serde_json::from_slice::<Head>(bytes).ok()?.media_type
}

/// What a registry answered to a manifest push.
#[derive(Debug, Clone)]
pub struct Pushed {
    /// The descriptor of the pushed bytes.
    pub descriptor: Descriptor,
    /// The registry answered `OCI-Subject`: it indexes referrers itself.
    pub subject_acknowledged: bool,
}

fn header_digest(response: &Response) -> Option<Digest> {
    response
        .headers()
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

impl Repository {
    fn manifest_url(&self, reference: &Reference) -> impl Future<Output = Result<Url>> + '_ {
        let path = format!("manifests/{reference}");
        async move { self.url(&path).await }
    }

    /// The descriptor of a manifest (`HEAD`), or `None` if there is none.
    pub async fn head_manifest(&self, reference: &Reference) -> Result<Option<Descriptor>> {
        let url = self.manifest_url(reference).await?;
        let req = Req::new(Method::HEAD, url.clone()).header("accept", ACCEPT);
        let response = self.send(&self.pull_scope(), req).await?;
        if response.status() == 404 {
            return Ok(None);
        }
        let response = expect_status(response, Method::HEAD, &url, &[200]).await?;
        let digest = match (reference, header_digest(&response)) {
            (Reference::Digest(d), _) => d.clone(),
            (_, Some(d)) => d,
            // Without the header only a GET can tell the digest.
            (Reference::Tag(_), None) => {
                return self.fetch_manifest(reference).await.map(|m| Some(m.0));
            }
        };
        let media_type =
            content_type(&response).unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned());
        let Some(size) = header_length(&response) else {
            // Without the length only a GET can tell the size.
            return self.fetch_manifest(reference).await.map(|m| Some(m.0));
        };
        Ok(Some(Descriptor::new(media_type, digest, size)))
    }

    /// The manifest's exact bytes and descriptor, verified against the digest.
    pub async fn fetch_manifest(&self, reference: &Reference) -> Result<(Descriptor, Bytes)> {
        let url = self.manifest_url(reference).await?;
        let req = Req::new(Method::GET, url.clone()).header("accept", ACCEPT);
        let response = self.send(&self.pull_scope(), req).await?;
        if response.status() == 404 {
            return Err(Error::ManifestUnknown {
                repository: self.describe(),
                reference: reference.to_string(),
            });
        }
        let response = expect_status(response, Method::GET, &url, &[200]).await?;
        if response
            .content_length()
            .is_some_and(|n| n > MANIFEST_LIMIT)
        {
            return Err(Error::ManifestTooLarge {
                url: url.to_string(),
                limit: MANIFEST_LIMIT,
            });
        }
        let claimed = header_digest(&response);
        let ct = content_type(&response);
        let bytes = read_limited(response, &url).await?;

        // The digest asked for wins; by tag, the registry's claim is checked, else sha256.
        let expected = match reference {
            Reference::Digest(d) => Some(d.clone()),
            Reference::Tag(_) => claimed,
        };
        let actual = expected
            .as_ref()
            .map_or(Algorithm::Sha256, Digest::algorithm)
            .digest(&bytes);
        if let Some(expected) = expected
            && expected != actual
        {
            return Err(Error::DigestMismatch {
                source_name: url.to_string(),
                expected,
                actual,
            });
        }
        let media_type = ct
            .or_else(|| sniff_media_type(&bytes))
            .unwrap_or_else(|| media_type::OCI_MANIFEST.to_owned());
        let mut descriptor = describe(&bytes, &media_type);
        descriptor.digest = actual;
        tracing::debug!(repository = %self.describe(), %reference, digest = %descriptor.digest,
            "manifest fetched and verified");
        Ok((descriptor, bytes))
    }

    /// Pushes manifest bytes under `reference` without touching referrers indexes.
    pub(crate) async fn put_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Pushed> {
        let descriptor = describe(&bytes, media_type);
        let url = self.manifest_url(reference).await?;
        let req = Req::new(Method::PUT, url.clone())
            .header("content-type", media_type)
            .body(bytes);
        let response = self.send(&self.push_scope(), req).await?;
        let status = response.status().as_u16();
        if status == 415 || status == 400 {
            let body = response.bytes().await.unwrap_or_default();
            let errors = RegistryErrors::parse(&body);
            if status == 415 || errors.has("MANIFEST_INVALID") || errors.has("UNSUPPORTED") {
                return Err(Error::ManifestRejected {
                    registry: self.registry.clone(),
                    media_type: media_type.to_owned(),
                    status,
                    errors,
                });
            }
            return Err(Error::Status {
                method: "PUT".into(),
                url: url.to_string(),
                status,
                errors,
            });
        }
        let response = expect_status(response, Method::PUT, &url, &[201]).await?;
        if let Some(claimed) = header_digest(&response)
            && claimed.algorithm() == Algorithm::Sha256
            && claimed != descriptor.digest
        {
            return Err(Error::DigestMismatch {
                source_name: format!("{url} (Docker-Content-Digest)"),
                expected: descriptor.digest,
                actual: claimed,
            });
        }
        let subject_acknowledged = response.headers().contains_key("oci-subject");
        Ok(Pushed {
            descriptor,
            subject_acknowledged,
        })
    }

    /// Deletes a manifest (by digest) or a tag, without touching referrers indexes.
    pub(crate) async fn delete_manifest_raw(&self, reference: &Reference) -> Result<()> {
        let url = self.manifest_url(reference).await?;
        let response = self
            .send(&self.delete_scope(), Req::new(Method::DELETE, url.clone()))
            .await?;
        if response.status() == 404 {
            return Err(Error::ManifestUnknown {
                repository: self.describe(),
                reference: reference.to_string(),
            });
        }
        let status = response.status().as_u16();
        if let Reference::Tag(tag) = reference
            && (status == 400 || status == 405)
        {
            return Err(Error::TagDeleteUnsupported {
                registry: self.registry.clone(),
                tag: tag.to_string(),
                status,
            });
        }
        expect_status(response, Method::DELETE, &url, &[202, 200])
            .await
            .map(drop)
    }
}

fn content_type(response: &Response) -> Option<String> {
    response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .map(|v| media_type::essence(v).to_owned())
        .filter(|v| media_type::manifest_kind(v).is_some())
}

async fn read_limited(mut response: Response, url: &Url) -> Result<Bytes> {
    let mut out = Vec::new();
    loop {
        let chunk = response.chunk().await.map_err(|source| Error::Request {
            method: "GET".into(),
            url: url.to_string(),
            source,
        })?;
        let Some(chunk) = chunk else { break };
        out.extend_from_slice(&chunk);
        if out.len() as u64 > MANIFEST_LIMIT {
            return Err(Error::ManifestTooLarge {
                url: url.to_string(),
                limit: MANIFEST_LIMIT,
            });
        }
    }
    Ok(out.into())
}
