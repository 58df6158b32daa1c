//! Notary Project signature envelopes: JWS and COSE_Sign1, signing and integrity.
//!
//! A Notary Project signature is a signed [`Payload`] (the descriptor of the signed artifact)
//! in one of two envelope formats (signature specification, "Signature Envelope"): a JWS in
//! flattened JSON serialization (module `jws`) or a COSE_Sign1_Tagged message (module `cose`). Both
//! carry the same [`SignedAttributes`] and [`UnsignedAttributes`] and an X.509 chain.
//!
//! This crate decodes an envelope ([`Envelope::parse`], which applies every header rule),
//! checks its integrity ([`Envelope::verify_integrity`]: signature, algorithm, content type,
//! times, certificate rules) and makes new ones ([`sign()`]). It knows no trust store and no
//! clock: authenticity, expiry against "now", timestamps and revocation are the verifier's.
//!
//! Unknown critical headers: the specification says a verifier must fail on a critical header
//! it does not understand; notation-go enforces this only when a verification plugin is named
//! (the plugin must report each one as processed). Hallmark runs no plugins, so
//! [`Envelope::verify_integrity`] always fails closed with
//! [`EnvelopeError::UnknownCriticalHeader`]; a verifier that hands the envelope to a plugin
//! uses [`Envelope::verify_integrity_with_processed`] with the attributes the plugin processed.

mod attributes;
mod cose;
mod envelope;
mod error;
mod jws;
mod payload;
mod sign;

pub use attributes::{
    AUTHENTIC_SIGNING_TIME, EXPIRY, ExtendedAttribute, SIGNING_AGENT, SIGNING_SCHEME, SIGNING_TIME,
    SignedAttributes, SigningScheme, TIMESTAMP_SIGNATURE, UnsignedAttributes, VERIFICATION_PLUGIN,
    VERIFICATION_PLUGIN_MIN_VERSION,
};
pub use envelope::Envelope;
pub use error::EnvelopeError;
pub use payload::Payload;
pub use sign::{SignRequest, Timestamper, sign};

/// The content type of a Notary Project payload (`cty` / COSE label 3).
pub const PAYLOAD_CONTENT_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";

/// The two envelope formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvelopeFormat {
    /// JWS, flattened JSON serialization.
    Jws,
    /// COSE_Sign1_Tagged.
    Cose,
}

impl EnvelopeFormat {
    /// The media type of the signature manifest's layer.
    pub fn media_type(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "application/jose+json",
            EnvelopeFormat::Cose => "application/cose",
        }
    }

    /// The format of a layer media type; `None` for anything else.
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        match media_type {
            "application/jose+json" => Some(EnvelopeFormat::Jws),
            "application/cose" => Some(EnvelopeFormat::Cose),
            _ => None,
        }
    }

    /// The blob signature file extension (`<file>.<ext>.sig`).
    pub fn extension(self) -> &'static str {
        match self {
            EnvelopeFormat::Jws => "jws",
            EnvelopeFormat::Cose => "cose",
        }
    }
}

impl std::fmt::Display for EnvelopeFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.extension())
    }
}
