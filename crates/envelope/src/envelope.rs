//! A decoded envelope and its integrity check.
//!
//! Integrity (trust policy "integrity" step, notation-go `verifyIntegrity`) is everything
//! that can be decided from the envelope alone: the signature verifies with the leaf key over
//! the bytes as received, the algorithm is the one the leaf key requires, the content type is
//! the Notary Project payload's, the expiry comes after the signing time, the chain meets the
//! certificate rules, and the payload is a Notary Project payload. No trust store, no clock.

use hallmark_x509::chain::validate_code_signing_chain;
use hallmark_x509::{Certificate, SignatureAlgorithm};

use crate::attributes::alg_name;
use crate::{
    EnvelopeError, EnvelopeFormat, PAYLOAD_CONTENT_TYPE, Payload, SignedAttributes,
    UnsignedAttributes, cose, jws,
};

/// A signature envelope, decoded and checked against the header rules.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The envelope format.
    pub format: EnvelopeFormat,
    /// `alg` (JWS) / label 1 (COSE).
    pub algorithm: SignatureAlgorithm,
    /// The exact payload bytes that were signed.
    pub payload: Vec<u8>,
    /// The raw signature bytes (a timestamp's imprint is over these).
    pub signature: Vec<u8>,
    /// The protected attributes.
    pub signed: SignedAttributes,
    /// The unprotected attributes.
    pub unsigned: UnsignedAttributes,
    /// x5c / x5chain, leaf first.
    pub certificate_chain: Vec<Certificate>,
    /// What the signature covers, exactly as received: the JWS signing input or the COSE
    /// Sig_structure.
    pub(crate) signing_input: Vec<u8>,
}

impl Envelope {
    /// Structural parse with every header rule (crit lists, required headers, types, times).
    pub fn parse(format: EnvelopeFormat, bytes: &[u8]) -> Result<Self, EnvelopeError> {
        match format {
            EnvelopeFormat::Jws => jws::parse(bytes),
            EnvelopeFormat::Cose => cose::parse(bytes),
        }
    }

    /// Integrity: signature verifies with the leaf key, alg equals the key's algorithm,
    /// chain rules (x509::chain), cty, signing time before expiry. No trust store, no clock.
    ///
    /// Fails closed on critical extended attributes: see the crate documentation.
    pub fn verify_integrity(&self) -> Result<(), EnvelopeError> {
        self.verify_integrity_with_processed(&[])
    }

    /// [`Envelope::verify_integrity`] for a verifier that delegated the critical extended
    /// attributes named in `processed` to a verification plugin which processed them.
    pub fn verify_integrity_with_processed(&self, processed: &[&str]) -> Result<(), EnvelopeError> {
        // Spec "Signed Attributes" / RFC 7515 §4.1.11: a critical header nobody understood
        // invalidates the signature (stops a signer's restriction from being ignored).
        if let Some(unknown) = self
            .signed
            .critical_extended()
            .find(|a| !processed.contains(&a.key.as_str()))
        {
            return Err(EnvelopeError::UnknownCriticalHeader(unknown.key.clone()));
        }

        self.verify_signature()?;

        // Spec "Payload": only the Notary Project payload type is signed.
        if self.signed.content_type != PAYLOAD_CONTENT_TYPE {
            return Err(EnvelopeError::ContentTypeMismatch(
                self.signed.content_type.clone(),
            ));
        }

        // Spec "Signed Attributes": the expiry must come after the signing time.
        if let (Some(signed_at), Some(expiry)) =
            (self.signed.claimed_signing_time(), self.signed.expiry)
            && expiry <= signed_at
        {
            return Err(EnvelopeError::ExpiryBeforeSigningTime);
        }

        // Spec "Certificate Requirements": order, issuers, CA and leaf rules, key sizes.
        validate_code_signing_chain(&self.certificate_chain)?;

        self.payload().map(|_| ())
    }

    /// Algorithm/key agreement and the signature itself.
    fn verify_signature(&self) -> Result<(), EnvelopeError> {
        let leaf = self
            .certificate_chain
            .first()
            .ok_or(EnvelopeError::MissingCertificateChain)?;
        let key = leaf.public_key().map_err(EnvelopeError::UnsupportedKey)?;

        // Spec "Algorithm Selection": alg is derived from the leaf key; anything else lets an
        // attacker pick a weaker hash for the same key.
        let expected = SignatureAlgorithm::for_key(key.spec());
        if self.algorithm != expected {
            return Err(EnvelopeError::AlgorithmKeyMismatch {
                alg: alg_name(self.algorithm),
                key: key.spec().to_string(),
                expected: alg_name(expected),
            });
        }

        key.verify(self.algorithm, &self.signing_input, &self.signature)
            .map_err(|_| EnvelopeError::SignatureInvalid)
    }

    /// The signed payload, decoded.
    pub fn payload(&self) -> Result<Payload, EnvelopeError> {
        Payload::from_json(&self.payload)
    }

    /// The leaf (signing) certificate.
    pub fn signing_certificate(&self) -> Option<&Certificate> {
        self.certificate_chain.first()
    }
}
