//! Signing a manifest: the payload names its descriptor, the envelope is made with the
//! user's key (and, if asked, countersigned by a timestamping authority), and envelope and
//! signature manifest are stored next to the artifact, where the referrers API or the
//! referrers tag schema finds them.

use std::collections::BTreeMap;

use bytes::Bytes;
use hallmark_client::{NoProgress, Target};
use hallmark_envelope::{EnvelopeFormat, Payload, SignRequest, sign};
use hallmark_oci::{Algorithm, Descriptor, Reference, media_type};
use hallmark_x509::{Certificate, SignatureAlgorithm, SigningKey};
use time::OffsetDateTime;

use crate::Error;
use crate::manifest::{self, EMPTY_CONFIG};
use crate::tsa::Tsa;

/// What identifies the signer in the envelope's unprotected header.
pub const SIGNING_AGENT: &str = concat!("hallmark/", env!("CARGO_PKG_VERSION"));

/// How to sign.
pub struct Signer<'a> {
    /// The private key.
    pub key: &'a SigningKey,
    /// Its certificate chain, leaf first.
    pub chain: &'a [Certificate],
    /// JWS or COSE.
    pub format: EnvelopeFormat,
    /// How long the signature stays valid, if limited.
    pub expiry: Option<time::Duration>,
    /// `-m KEY=VALUE`: annotations of the signed descriptor.
    pub user_metadata: &'a BTreeMap<String, String>,
    /// A timestamping authority to countersign with.
    pub tsa: Option<&'a Tsa>,
}

impl Signer<'_> {
    /// The payload that signs `subject`: its media type, digest and size, and the user's
    /// metadata as annotations.
    pub fn payload(&self, subject: &Descriptor) -> Payload {
        let mut target = Descriptor::new(&subject.media_type, subject.digest.clone(), subject.size);
        if !self.user_metadata.is_empty() {
            target.annotations = Some(self.user_metadata.clone());
        }
        Payload {
            target_artifact: target,
        }
    }

    /// The envelope bytes over `payload`, made at `now`. Blocking when a TSA is used.
    pub fn envelope(&self, payload: &Payload, now: OffsetDateTime) -> Result<Vec<u8>, Error> {
        let now = now.replace_nanosecond(0).unwrap_or(now);
        let algorithm = SignatureAlgorithm::for_key(self.key.spec());
        let stamp = |signature: &[u8]| -> Result<Vec<u8>, String> {
            match self.tsa {
                Some(tsa) => tsa
                    .timestamp(signature, algorithm)
                    .map_err(|e| e.to_string()),
                None => Err("no timestamping authority".to_owned()),
            }
        };
        let request = SignRequest {
            payload,
            signing_time: now,
            expiry: self.expiry.map(|d| now + d),
            signing_agent: SIGNING_AGENT,
            key: self.key,
            certificate_chain: self.chain,
            timestamper: if self.tsa.is_some() {
                Some(&stamp)
            } else {
                None
            },
        };
        Ok(sign(self.format, &request)?)
    }
}

/// Stores `envelope` as a signature of `subject` in `target`; returns the signature
/// manifest's descriptor.
pub async fn store(
    target: &Target,
    subject: &Descriptor,
    format: EnvelopeFormat,
    envelope: Vec<u8>,
    chain: &[Certificate],
    created: OffsetDateTime,
) -> Result<Descriptor, Error> {
    let envelope = Bytes::from(envelope);
    let layer = Descriptor::new(
        format.media_type(),
        Algorithm::Sha256.digest(&envelope),
        envelope.len() as u64,
    );
    let config = Bytes::from_static(EMPTY_CONFIG);
    target
        .push_blob(&manifest::empty_config(), &config, &NoProgress)
        .await?;
    target.push_blob(&layer, &envelope, &NoProgress).await?;

    let bytes = manifest::build(subject, &layer, chain, created)?;
    let digest = Algorithm::Sha256.digest(&bytes);
    let pushed = target
        .push_manifest(
            &Reference::Digest(digest),
            media_type::OCI_MANIFEST,
            Bytes::from(bytes),
            true,
        )
        .await?;
    Ok(pushed)
}
