//! Registry access: the clients (sigstore-rs's cosign client and a plain oci-client for what the
//! cosign client does not expose), and reading the manifest already under a `.sig` tag.

use oci_client::Reference;
use oci_client::client::{ClientConfig as OciConfig, ClientProtocol as OciProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{IMAGE_MANIFEST_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE, OciImageManifest};
use oci_client::secrets::RegistryAuth;
use sigstore::cosign::{Client, ClientBuilder};
use sigstore::registry::{ClientConfig, ClientProtocol, OciReference};

use crate::{Failure, failed};

/// Image references parsed from the command line, and the registries to reach over HTTP.
pub struct Targets {
    /// Each reference as given, with its parsed form.
    pub references: Vec<(String, OciReference)>,
    /// Registries (`host:port` as written in the references) that get plain HTTP.
    pub plain_http: Vec<String>,
}

/// Whether a registry's host is a loopback name or address.
fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or_default(),
        None => registry.split(':').next().unwrap_or_default(),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

impl Targets {
    /// Parses every reference; an invalid one is a command-line error.
    pub fn parse(references: &[String], all_plain_http: bool) -> Result<Self, Failure> {
        let mut parsed = Vec::with_capacity(references.len());
        let mut plain_http: Vec<String> = Vec::new();
        for text in references {
            let reference: OciReference = text
                .parse()
                .map_err(|_| Failure::Usage(format!("invalid image reference {text:?}")))?;
            let registry = reference.registry().to_owned();
            if (all_plain_http || is_loopback(&registry)) && !plain_http.contains(&registry) {
                plain_http.push(registry);
            }
            parsed.push((text.clone(), reference));
        }
        Ok(Targets {
            references: parsed,
            plain_http,
        })
    }

    /// sigstore-rs's cosign client, without Rekor or Fulcio trust material (key-based only).
    pub fn cosign_client(&self) -> Result<Client, Failure> {
        let config = ClientConfig {
            protocol: ClientProtocol::HttpsExcept(self.plain_http.clone()),
            ..ClientConfig::default()
        };
        ClientBuilder::default()
            .with_oci_client_config(config)
            .build()
            .map_err(|e| failed("cannot build the cosign client", e))
    }

    /// A plain oci-client with the same protocol choice.
    pub fn oci_client(&self) -> oci_client::Client {
        oci_client::Client::new(OciConfig {
            protocol: OciProtocol::HttpsExcept(self.plain_http.clone()),
            ..OciConfig::default()
        })
    }
}

/// The oci-client form of a sigstore reference.
pub fn oci_reference(reference: &OciReference) -> Result<Reference, Failure> {
    reference
        .whole()
        .parse()
        .map_err(|e| failed(&format!("cannot convert reference {reference}"), e))
}

/// A layer of an existing signature manifest: its descriptor and its bytes.
pub struct ExistingLayer {
    /// The descriptor exactly as the manifest has it (annotations included).
    pub descriptor: oci_client::manifest::OciDescriptor,
    /// The blob, checked against the descriptor's digest by oci-client.
    pub data: Vec<u8>,
}

/// Whether an error means "there is no such manifest".
fn is_not_found(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::ImageManifestNotFoundError(_) => true,
        OciDistributionError::ServerError { code, .. } => *code == 404,
        OciDistributionError::RegistryError { envelope, .. } => {
            !envelope.errors.is_empty()
                && envelope.errors.iter().all(|e| {
                    matches!(
                        e.code,
                        OciErrorCode::ManifestUnknown | OciErrorCode::NotFound
                    )
                })
        }
        _ => false,
    }
}

/// Reads the image manifest at `reference` and every layer it lists; `None` if the tag does
/// not exist.
pub async fn read_manifest_with_layers(
    client: &oci_client::Client,
    reference: &Reference,
) -> Result<Option<(OciImageManifest, Vec<ExistingLayer>)>, Failure> {
    let accepted = [OCI_IMAGE_MEDIA_TYPE, IMAGE_MANIFEST_MEDIA_TYPE];
    let body = match client
        .pull_manifest_raw(reference, &RegistryAuth::Anonymous, &accepted)
        .await
    {
        Ok((body, _digest)) => body,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(failed(&format!("cannot read {reference}"), e)),
    };
    let manifest: OciImageManifest = serde_json::from_slice(&body)
        .map_err(|e| failed(&format!("{reference} is not an image manifest"), e))?;
    let mut layers = Vec::with_capacity(manifest.layers.len());
    for descriptor in &manifest.layers {
        let mut data = Vec::new();
        client
            .pull_blob(reference, descriptor, &mut data)
            .await
            .map_err(|e| failed(&format!("cannot read layer {}", descriptor.digest), e))?;
        layers.push(ExistingLayer {
            descriptor: descriptor.clone(),
            data,
        });
    }
    Ok(Some((manifest, layers)))
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn loopback_registries() {
        for registry in [
            "127.0.0.1:5000",
            "127.9.9.9",
            "localhost:80",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in [
            "ghcr.io",
            "10.0.0.1:5000",
            "localhost.example:5000",
            "[::2]:1",
        ] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }
}
