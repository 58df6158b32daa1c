//! Making a `notary.x509` signature (notation `sign`, `blob sign`).
//!
//! The envelope is written byte-compatibly with notation-core-go: JWS protected keys sorted,
//! COSE protected keys in canonical length-first order, payload JSON as notation writes it for
//! each format. Before anything is emitted, the request is checked the way notation checks
//! it: the chain meets the certificate rules, the key belongs to the leaf, the expiry comes
//! after the signing time. The signature is verified with the leaf key before it is returned.

use hallmark_x509::chain::validate_code_signing_chain;
use hallmark_x509::{Certificate, SignatureAlgorithm, SigningKey};
use time::OffsetDateTime;

use crate::{
    EnvelopeError, EnvelopeFormat, PAYLOAD_CONTENT_TYPE, Payload, SignedAttributes, SigningScheme,
    UnsignedAttributes, cose, jws,
};

/// Called with the raw signature bytes; returns an RFC 3161 token to embed, or why not.
pub type Timestamper<'a> = dyn Fn(&[u8]) -> Result<Vec<u8>, String> + 'a;

/// What to sign, and with what.
pub struct SignRequest<'a> {
    /// The payload (target artifact descriptor).
    pub payload: &'a Payload,
    /// The signing time; written without fractional seconds.
    pub signing_time: OffsetDateTime,
    /// The optional expiry.
    pub expiry: Option<OffsetDateTime>,
    /// `io.cncf.notary.signingAgent`.
    pub signing_agent: &'a str,
    /// The signing key; the algorithm follows from it.
    pub key: &'a SigningKey,
    /// The chain, leaf first; the leaf must hold the key's public half.
    pub certificate_chain: &'a [Certificate],
    /// Called with the raw signature bytes; returns an RFC 3161 token to embed.
    pub timestamper: Option<&'a Timestamper<'a>>,
}

/// Signs with scheme notary.x509 and returns the envelope bytes (JWS flattened JSON or
/// COSE_Sign1_Tagged).
pub fn sign(format: EnvelopeFormat, request: &SignRequest) -> Result<Vec<u8>, EnvelopeError> {
    check_request(request)?;
    let algorithm = SignatureAlgorithm::for_key(request.key.spec());
    let signing_time = whole_seconds(request.signing_time)?;
    let expiry = request.expiry.map(whole_seconds).transpose()?;
    let attrs = SignedAttributes {
        content_type: PAYLOAD_CONTENT_TYPE.to_owned(),
        signing_scheme: SigningScheme::X509,
        signing_time: Some(signing_time),
        authentic_signing_time: None,
        expiry,
        verification_plugin: None,
        verification_plugin_min_version: None,
        extended: Vec::new(),
    };
    let mut unsigned = UnsignedAttributes {
        signing_agent: Some(request.signing_agent.to_owned()),
        timestamp_signature: None,
    };

    match format {
        EnvelopeFormat::Jws => {
            let protected = jws::encode_protected(algorithm, &attrs)?;
            let payload = request.payload.to_sorted_json()?;
            let input = jws::signing_input(&protected, &payload);
            let signature = sign_checked(request, algorithm, input.as_bytes())?;
            unsigned.timestamp_signature = timestamp(request, &signature)?;
            jws::assemble(&input, &signature, request.certificate_chain, &unsigned)
        }
        EnvelopeFormat::Cose => {
            let protected = cose::encode_protected(algorithm, &attrs)?;
            let payload = request.payload.to_struct_json()?;
            let message = cose::message(protected, &payload)?;
            let tbs = cose::to_be_signed(&message);
            let signature = sign_checked(request, algorithm, &tbs)?;
            unsigned.timestamp_signature = timestamp(request, &signature)?;
            cose::assemble(message, signature, request.certificate_chain, &unsigned)
        }
    }
}

fn check_request(request: &SignRequest) -> Result<(), EnvelopeError> {
    let leaf = request
        .certificate_chain
        .first()
        .ok_or(EnvelopeError::InvalidSignRequest(
            "the certificate chain is empty",
        ))?;
    if let Some(expiry) = request.expiry
        && expiry <= request.signing_time
    {
        return Err(EnvelopeError::ExpiryBeforeSigningTime);
    }

    // notation validates the chain at sign time too, so it never emits an unverifiable
    // signature.
    validate_code_signing_chain(request.certificate_chain)?;

    let leaf_key = leaf.public_key().map_err(EnvelopeError::UnsupportedKey)?;
    let own_key = request.key.public_key().map_err(EnvelopeError::Signing)?;
    if leaf_key.spki_der() != own_key.spki_der() {
        return Err(EnvelopeError::InvalidSignRequest(
            "the signing key does not belong to the leaf certificate",
        ));
    }
    Ok(())
}

fn sign_checked(
    request: &SignRequest,
    algorithm: SignatureAlgorithm,
    message: &[u8],
) -> Result<Vec<u8>, EnvelopeError> {
    let signature = request.key.sign(message).map_err(EnvelopeError::Signing)?;
    let own_key = request.key.public_key().map_err(EnvelopeError::Signing)?;
    own_key
        .verify(algorithm, message, &signature)
        .map_err(|_| EnvelopeError::SignatureInvalid)?;
    Ok(signature)
}

fn timestamp(request: &SignRequest, signature: &[u8]) -> Result<Option<Vec<u8>>, EnvelopeError> {
    request
        .timestamper
        .map(|stamp| stamp(signature).map_err(EnvelopeError::Timestamp))
        .transpose()
}

fn whole_seconds(time: OffsetDateTime) -> Result<OffsetDateTime, EnvelopeError> {
    time.replace_nanosecond(0)
        .map_err(|e| EnvelopeError::Encoding(e.to_string()))
}
