//! `hallmark cosign`: cosign's key-based commands with cosign's verbs, flags and formats.
//!
//! - `generate-key-pair`, `import-key-pair`, `public-key`: key files ([`keys`]).
//! - `sign`, `attest`: simple signatures appended to the `.sig` tag, DSSE attestations to
//!   `.att`, or with `--new-bundle-format` sigstore bundles stored as referrers ([`sign`]).
//! - `verify`, `verify-attestation`: offline verification with a public key ([`verify`]).
//! - `tree`: what is attached to an image ([`tree`]).
//!
//! `COSIGN_REPOSITORY` names another repository for signatures and attestations, as in
//! cosign. Hallmark signs and verifies offline: nothing is uploaded to or checked against a
//! transparency log, and flags that ask for keyless or transparency-log verification are
//! refused as unsupported.

mod keys;
mod sign;
mod tree;
mod verify;

use std::collections::BTreeMap;

use hallmark_client::{Client, Target};
use hallmark_oci::{Descriptor, ImageRef, Reference};

use crate::UsageError;

/// `cosign` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Make a key pair: an encrypted `cosign.key` and `cosign.pub`.
    GenerateKeyPair(keys::GenerateArgs),
    /// Encrypt an existing PEM private key into cosign's format.
    ImportKeyPair(keys::ImportArgs),
    /// Print (or write) the public key of a `cosign.key`.
    PublicKey(keys::PublicKeyArgs),
    /// Sign images with a cosign key.
    Sign(sign::SignArgs),
    /// Attach a signed in-toto attestation to images.
    Attest(sign::AttestArgs),
    /// Verify images' cosign signatures with a public key.
    Verify(verify::VerifyArgs),
    /// Verify images' attestations with a public key.
    VerifyAttestation(verify::VerifyAttestationArgs),
    /// Show the signatures, attestations, SBOMs and referrers attached to an image.
    Tree(tree::Args),
}

/// Runs a `cosign` subcommand.
pub fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::GenerateKeyPair(args) => keys::generate(args),
        Command::ImportKeyPair(args) => keys::import(args),
        Command::PublicKey(args) => keys::public_key(args),
        Command::Sign(args) => sign::sign(args),
        Command::Attest(args) => sign::attest(args),
        Command::Verify(args) => verify::verify(args),
        Command::VerifyAttestation(args) => verify::verify_attestation(args),
        Command::Tree(args) => tree::run(args),
    }
}

/// Opens a cosign key file, asking for its password as cosign does.
pub fn load_key(path: &std::path::Path) -> anyhow::Result<hallmark_x509::SigningKey> {
    use anyhow::Context as _;
    let pem =
        std::fs::read(path).with_context(|| format!("cannot read --key {}", path.display()))?;
    let password = keys::password(&format!(
        "Enter password for private key {}: ",
        path.display()
    ))?;
    hallmark_cosign::key_file::load_signing_key(&pem, password.as_bytes())
        .with_context(|| format!("cannot open {}", path.display()))
}

/// `KEY=VALUE` flags as a map.
fn annotations(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
            _ => Err(UsageError(format!("annotation {pair:?} is not KEY=VALUE")).into()),
        })
        .collect()
}

/// Parses image references; a tag is allowed (resolved once, with a warning).
fn image_refs(texts: &[String]) -> anyhow::Result<Vec<ImageRef>> {
    texts
        .iter()
        .map(|t| {
            t.parse::<ImageRef>()
                .map_err(|e| UsageError(format!("{e}: {t}")).into())
        })
        .collect()
}

/// The repository name cosign writes and compares (`docker-reference`, statement subject):
/// Docker Hub's canonical host is `index.docker.io`.
fn repository_name(image: &ImageRef) -> String {
    if image.registry == hallmark_oci::image_ref::DEFAULT_REGISTRY {
        format!("index.docker.io/{}", image.repository)
    } else {
        image.name()
    }
}

/// Where an image's signatures and attestations live: its own repository, or the one
/// `COSIGN_REPOSITORY` names.
fn attachment_target(client: &Client, image: &ImageRef) -> anyhow::Result<Target> {
    let Some(other) = std::env::var("COSIGN_REPOSITORY")
        .ok()
        .filter(|v| !v.is_empty())
    else {
        return Ok(Target::Remote(
            client.repository(&image.registry, image.repository.clone()),
        ));
    };
    let parsed: ImageRef = other
        .parse()
        .map_err(|e| UsageError(format!("COSIGN_REPOSITORY={other:?} is invalid: {e}")))?;
    if parsed.tag.is_some() || parsed.digest.is_some() {
        return Err(UsageError(format!(
            "COSIGN_REPOSITORY={other:?} must name a repository, without a tag or digest"
        ))
        .into());
    }
    Ok(Target::Remote(
        client.repository(&parsed.registry, parsed.repository),
    ))
}

/// The registries a command talks to, for `--username`.
fn registries(images: &[ImageRef]) -> Vec<String> {
    let mut out: Vec<String> = images.iter().map(|i| i.registry.clone()).collect();
    if let Some(other) = std::env::var("COSIGN_REPOSITORY")
        .ok()
        .and_then(|v| v.parse::<ImageRef>().ok())
    {
        out.push(other.registry);
    }
    out.sort();
    out.dedup();
    out
}

/// The image's manifest descriptor: by its digest, or resolved from its tag (`latest` when
/// none is given); signing commands warn about tags, as cosign does.
async fn resolve(
    client: &Client,
    image: &ImageRef,
    warn_on_tag: bool,
) -> anyhow::Result<Descriptor> {
    let target = Target::Remote(client.repository(&image.registry, image.repository.clone()));
    let reference = match image.reference() {
        Some(r) => r,
        None => Reference::Tag("latest".parse()?),
    };
    let descriptor = target.resolve(&reference).await?;
    if warn_on_tag && image.digest.is_none() {
        eprintln!(
            "WARNING: Image reference {image} uses a tag, not a digest, to identify the image \
             to sign; it resolved to {}",
            descriptor.digest
        );
    }
    Ok(descriptor)
}
