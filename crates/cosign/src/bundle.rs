//! The sigstore bundle (sigstore/protobuf-specs, `sigstore_bundle.proto`) in its JSON form,
//! as cosign stores it since v2.5 (`--new-bundle-format`, the default in v3): one layer of an
//! OCI 1.1 referrer manifest whose `artifactType` is the bundle media type.
//!
//! Hallmark writes v0.3 bundles with a DSSE envelope and a public key hint, and no
//! transparency log entries (it signs offline). It reads v0.1 to v0.3; what a bundle holds
//! beyond the envelope (certificates, log entries, timestamps) is reported so that the caller
//! can refuse what it cannot verify.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_x509::PublicKey;
use serde_json::{Value, json};

use crate::dsse::Envelope;
use crate::error::CosignError;

/// The bundle media type Hallmark writes.
pub const MEDIA_TYPE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// Earlier bundle media types, still read.
const OLDER_MEDIA_TYPES: [&str; 2] = [
    "application/vnd.dev.sigstore.bundle+json;version=0.1",
    "application/vnd.dev.sigstore.bundle+json;version=0.2",
];
/// The predicate type of the statement `cosign sign --new-bundle-format` signs.
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
/// Manifest annotation: what the bundle holds (`dsse-envelope` or `message-signature`).
pub const CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
/// Manifest annotation: the predicate type of a DSSE bundle's statement.
pub const PREDICATE_TYPE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// What a bundle signs.
#[derive(Debug, Clone)]
pub enum Content {
    /// A DSSE envelope (statements; what cosign writes for images).
    Dsse(Envelope),
    /// A signature over a message digest (`cosign sign-blob`); not used for images.
    MessageSignature,
}

/// A parsed bundle.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `mediaType`.
    pub media_type: String,
    /// `verificationMaterial.publicKey.hint`, if the signer used a key.
    pub public_key_hint: Option<String>,
    /// The signing certificate (DER), if the signer used one (keyless or a PKI).
    pub certificate: Option<Vec<u8>>,
    /// How many transparency log entries it carries.
    pub tlog_entries: usize,
    /// How many RFC 3161 timestamps it carries.
    pub rfc3161_timestamps: usize,
    /// The signed content.
    pub content: Content,
}

/// The key hint cosign writes: base64 of the SHA-256 of the PKIX public key.
pub fn public_key_hint(key: &PublicKey) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.spki_der());
    STANDARD.encode(digest.as_ref())
}

/// The JSON bundle for a DSSE envelope signed with `key`.
pub fn dsse_bundle(envelope: &Envelope, key: &PublicKey) -> Vec<u8> {
    let signatures: Vec<Value> = envelope
        .signatures
        .iter()
        .map(|s| json!({ "sig": STANDARD.encode(&s.sig), "keyid": s.keyid }))
        .collect();
    let bundle = json!({
        "mediaType": MEDIA_TYPE_V03,
        "verificationMaterial": { "publicKey": { "hint": public_key_hint(key) } },
        "dsseEnvelope": {
            "payload": STANDARD.encode(&envelope.payload),
            "payloadType": envelope.payload_type,
            "signatures": signatures,
        },
    });
    // A JSON value always serializes.
    serde_json::to_vec(&bundle).unwrap_or_default()
}

impl Bundle {
    /// Parses a bundle's JSON.
    pub fn parse(bytes: &[u8]) -> Result<Bundle, CosignError> {
        let malformed = |why: &str| CosignError::MalformedBundle(why.to_owned());
        let value: Value =
            serde_json::from_slice(bytes).map_err(|e| malformed(&format!("not JSON: {e}")))?;
        let media_type = value
            .get("mediaType")
            .and_then(Value::as_str)
            .ok_or_else(|| malformed("no mediaType"))?
            .to_owned();
        if media_type != MEDIA_TYPE_V03 && !OLDER_MEDIA_TYPES.contains(&media_type.as_str()) {
            return Err(malformed(&format!("unknown mediaType {media_type:?}")));
        }
        let material = value
            .get("verificationMaterial")
            .ok_or_else(|| malformed("no verificationMaterial"))?;
        let public_key_hint = material
            .pointer("/publicKey/hint")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let raw = material
            .pointer("/certificate/rawBytes")
            .or_else(|| material.pointer("/x509CertificateChain/certificates/0/rawBytes"))
            .and_then(Value::as_str);
        let certificate = raw
            .map(|b64| STANDARD.decode(b64))
            .transpose()
            .map_err(|_| malformed("certificate rawBytes are not base64"))?;
        let count = |pointer: &str| {
            material
                .pointer(pointer)
                .and_then(Value::as_array)
                .map_or(0, Vec::len)
        };
        let content = if let Some(dsse) = value.get("dsseEnvelope") {
            Content::Dsse(Envelope::from_json_value(dsse.clone())?)
        } else if value.get("messageSignature").is_some() {
            Content::MessageSignature
        } else {
            return Err(malformed("neither dsseEnvelope nor messageSignature"));
        };
        Ok(Bundle {
            media_type,
            public_key_hint,
            certificate,
            tlog_entries: count("/tlogEntries"),
            rfc3161_timestamps: count("/timestampVerificationData/rfc3161Timestamps"),
            content,
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::dsse::IN_TOTO_PAYLOAD_TYPE;

    #[test]
    fn written_bundles_read_back() {
        let key = hallmark_x509::SigningKey::generate(hallmark_x509::KeySpec::EcP256).unwrap();
        let public = key.public_key().unwrap();
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &key).unwrap();
        let bundle = Bundle::parse(&dsse_bundle(&envelope, &public)).unwrap();
        assert_eq!(bundle.media_type, MEDIA_TYPE_V03);
        assert_eq!(bundle.public_key_hint, Some(public_key_hint(&public)));
        assert_eq!(bundle.tlog_entries, 0);
        let Content::Dsse(read) = bundle.content else {
            panic!("not DSSE")
        };
        read.verify(&public).unwrap();
    }

    #[test]
    fn unknown_media_types_are_refused() {
        let text = br#"{"mediaType":"application/json","verificationMaterial":{}}"#;
        assert!(matches!(
            Bundle::parse(text),
            Err(CosignError::MalformedBundle(_))
        ));
    }
}
