//! DSSE, the Dead Simple Signing Envelope (secure-systems-lab/dsse, "protocol.md"): what
//! cosign's attestations (`.att` layers) and sigstore bundles carry. The signature covers the
//! pre-authentication encoding `PAE(type, body)`, never the JSON around it.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hallmark_x509::{PublicKey, SigningKey};
use serde::{Deserialize, Serialize};

use crate::error::CosignError;

/// The layer media type of a DSSE envelope in a `.att` manifest.
pub const MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The payload type of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// A DSSE envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// What the payload is (`application/vnd.in-toto+json`).
    pub payload_type: String,
    /// The payload bytes, as signed.
    pub payload: Vec<u8>,
    /// The signatures over `PAE(payload_type, payload)`.
    pub signatures: Vec<Signature>,
}

/// One signature of an envelope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key hint; cosign leaves it empty for key-based signatures.
    pub keyid: String,
    /// The signature bytes.
    pub sig: Vec<u8>,
}

/// The JSON form, field order as cosign (Go) writes it.
#[derive(Serialize, Deserialize)]
struct Wire {
    #[serde(rename = "payloadType")]
    payload_type: String,
    payload: String,
    #[serde(default)]
    signatures: Vec<WireSignature>,
}

#[derive(Serialize, Deserialize)]
struct WireSignature {
    #[serde(default)]
    keyid: String,
    sig: String,
}

/// `PAE(type, body)` = `"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body`.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

impl Envelope {
    /// Signs `payload` with `key` (sigstore's default algorithm for the key).
    pub fn sign(
        payload_type: &str,
        payload: Vec<u8>,
        key: &SigningKey,
    ) -> Result<Self, CosignError> {
        let sig = key
            .sign_sigstore(&pae(payload_type, &payload))
            .map_err(CosignError::Signing)?;
        Ok(Envelope {
            payload_type: payload_type.to_owned(),
            payload,
            signatures: vec![Signature {
                keyid: String::new(),
                sig,
            }],
        })
    }

    /// Parses the JSON form.
    pub fn parse(bytes: &[u8]) -> Result<Self, CosignError> {
        let wire: Wire = serde_json::from_slice(bytes)
            .map_err(|e| CosignError::MalformedEnvelope(e.to_string()))?;
        Self::from_wire(wire)
    }

    fn from_wire(wire: Wire) -> Result<Self, CosignError> {
        let decode = |what: &str, text: &str| {
            STANDARD
                .decode(text)
                .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(text))
                .map_err(|_| CosignError::MalformedEnvelope(format!("{what} is not base64")))
        };
        let payload = decode("payload", &wire.payload)?;
        let signatures = wire
            .signatures
            .into_iter()
            .map(|s| {
                Ok(Signature {
                    sig: decode("a signature", &s.sig)?,
                    keyid: s.keyid,
                })
            })
            .collect::<Result<_, CosignError>>()?;
        Ok(Envelope {
            payload_type: wire.payload_type,
            payload,
            signatures,
        })
    }

    /// Parses the protobuf-JSON form a sigstore bundle's `dsseEnvelope` holds (same fields).
    pub fn from_json_value(value: serde_json::Value) -> Result<Self, CosignError> {
        let wire: Wire = serde_json::from_value(value)
            .map_err(|e| CosignError::MalformedEnvelope(e.to_string()))?;
        Self::from_wire(wire)
    }

    /// The JSON form.
    pub fn to_bytes(&self) -> Vec<u8> {
        let wire = Wire {
            payload_type: self.payload_type.clone(),
            payload: STANDARD.encode(&self.payload),
            signatures: self
                .signatures
                .iter()
                .map(|s| WireSignature {
                    keyid: s.keyid.clone(),
                    sig: STANDARD.encode(&s.sig),
                })
                .collect(),
        };
        // Strings and a list of structs always serialize.
        serde_json::to_vec(&wire).unwrap_or_default()
    }

    /// Checks that some signature verifies under `key`; the payload may then be trusted.
    pub fn verify(&self, key: &PublicKey) -> Result<(), CosignError> {
        if self.signatures.is_empty() {
            return Err(CosignError::MalformedEnvelope(
                "it has no signatures".to_owned(),
            ));
        }
        let message = pae(&self.payload_type, &self.payload);
        if self
            .signatures
            .iter()
            .any(|s| key.verify_sigstore(&message, &s.sig).is_ok())
        {
            Ok(())
        } else {
            Err(CosignError::SignatureMismatch)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pae_matches_the_spec_example() {
        // protocol.md: PAE("http://example.com/HelloWorld", "hello world").
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn sign_parse_verify_round_trip() {
        let key = SigningKey::generate(hallmark_x509::KeySpec::EcP256).unwrap();
        let envelope = Envelope::sign(IN_TOTO_PAYLOAD_TYPE, b"{}".to_vec(), &key).unwrap();
        let parsed = Envelope::parse(&envelope.to_bytes()).unwrap();
        assert_eq!(parsed, envelope);
        parsed.verify(&key.public_key().unwrap()).unwrap();

        let mut tampered = parsed.clone();
        tampered.payload = b"{\"x\":1}".to_vec();
        assert!(matches!(
            tampered.verify(&key.public_key().unwrap()),
            Err(CosignError::SignatureMismatch)
        ));
        let mut retyped = parsed;
        retyped.payload_type = "text/plain".to_owned();
        assert!(retyped.verify(&key.public_key().unwrap()).is_err());
    }
}
