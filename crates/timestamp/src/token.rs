//! TimeStampToken parsing and verification (RFC 3161 §2.4.2) with notation's rules
//! (Notary Project trust store and trust policy specification, "Authentic timestamp").
//!
//! A token is a CMS SignedData over a TSTInfo. Verification answers one question: did a TSA
//! that the `tsa` trust store trusts state that these exact signature bytes existed at
//! genTime (± accuracy)? Each step below closes one way to forge that statement.

use hallmark_x509::Certificate;
use hallmark_x509::chain::validate_timestamping_chain;
use time::{Duration, OffsetDateTime};

use crate::asn1::{Reader, tag};
use crate::cert_id::CertIdentity;
use crate::digest::HashAlgorithm;
use crate::error::{DecodeError, TimestampError};
use crate::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use crate::tst_info::TstInfo;
use crate::{ber, cms_signature, ess, oid, tsa_chain};

/// A parsed RFC 3161 TimeStampToken; nothing in it is trusted until [`Self::verify`] passes.
#[derive(Clone, Debug)]
pub struct TimestampToken {
    der: Vec<u8>,
    /// The eContent octets: the DER TSTInfo exactly as the TSA signed it.
    tst_info_der: Vec<u8>,
    info: TstInfo,
    signer_info: SignerInfo,
    certificates: Vec<Certificate>,
}

/// What a verified token proves: the signature existed within `[earliest, latest]`
/// (genTime ∓ accuracy), as stated by the TSA whose chain is `tsa_chain`.
#[derive(Clone, Debug)]
pub struct TimestampRange {
    /// genTime minus the accuracy.
    pub earliest: OffsetDateTime,
    /// genTime plus the accuracy.
    pub latest: OffsetDateTime,
    /// The TSA chain, signing certificate first, trust-store root last.
    pub tsa_chain: Vec<Certificate>,
}

impl TimestampToken {
    /// Parses a BER or DER TimeStampToken (RFC 3161 §2.4.2): a ContentInfo holding
    /// SignedData whose content is an id-ct-TSTInfo, with exactly one SignerInfo.
    pub fn parse(bytes: &[u8]) -> Result<Self, TimestampError> {
        let der = ber::to_der(bytes).map_err(|source| TimestampError::MalformedToken {
            structure: "BER encoding",
            source,
        })?;
        let signed_data = SignedData::decode_content_info(&der)?;

        if signed_data.econtent_type != oid::TST_INFO {
            return Err(TimestampError::UnexpectedContentType(
                signed_data.econtent_type.to_string(),
            ));
        }
        let tst_info_der = signed_data
            .econtent
            .clone()
            .ok_or(TimestampError::MissingTstInfo)?;
        let info = TstInfo::decode(&tst_info_der)?;

        let certificates = signed_data
            .certificates
            .iter()
            .enumerate()
            .map(|(index, der)| {
                Certificate::from_der(der)
                    .map_err(|source| TimestampError::InvalidCertificate { index, source })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let SignedData {
            mut signer_infos, ..
        } = signed_data;
        if signer_infos.len() != 1 {
            return Err(TimestampError::SignerInfoCount(signer_infos.len()));
        }
        let signer_info = signer_infos.remove(0);

        Ok(Self {
            der,
            tst_info_der,
            info,
            signer_info,
            certificates,
        })
    }

    /// The token as DER (BER input is converted).
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The decoded TSTInfo.
    pub fn tst_info(&self) -> &TstInfo {
        &self.info
    }

    /// When the TSA says it created the token (TSTInfo genTime).
    pub fn gen_time(&self) -> OffsetDateTime {
        self.info.gen_time
    }

    /// The accuracy the TSA stated, if any. [`Self::verify`] applies notation's default when
    /// it is absent.
    pub fn accuracy(&self) -> Option<Duration> {
        self.info.accuracy.map(|a| a.duration())
    }

    /// The certificates the token carries, in token order.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    /// Verifies the token as the timestamp of `signature` (the envelope's raw signature
    /// bytes) against the `tsa` trust-store certificates `roots`.
    ///
    /// Steps: the signer certificate is in the token; the signed attributes bind the content
    /// type, the TSTInfo digest and the signer certificate; the CMS signature verifies; the
    /// signer chains to a root, every certificate valid at genTime; the chain meets the
    /// Notary Project timestamping rules; the imprint is the hash of `signature`. Revocation
    /// of the TSA chain is the caller's (hallmark-revocation) job.
    pub fn verify(
        &self,
        signature: &[u8],
        roots: &[Certificate],
    ) -> Result<TimestampRange, TimestampError> {
        // Step 1 (RFC 5652 §5.3): find the certificate the SignerInfo names. Without it
        // nothing can be verified.
        let (signer, identity) = self.signer_certificate()?;

        // Step 2 (RFC 5652 §5.4, §11; RFC 5035): the signed attributes bind the TSTInfo and
        // the signer certificate, so neither can be swapped under a valid signature.
        self.check_signed_attributes(signer, &identity)?;

        // Step 3 (RFC 5652 §5.6): the TSA's key signed those attributes.
        let message = self
            .signer_info
            .signed_message()
            .ok_or(TimestampError::MissingSignedAttributes)?;
        cms_signature::verify(
            &identity,
            &self.signer_info.digest_algorithm,
            &self.signer_info.signature_algorithm,
            &message,
            &self.signer_info.signature,
        )?;

        // Step 4 (RFC 3161 §2.4.2, notation "chain evaluated at genTime"): the TSA is trusted
        // through the tsa trust store, and its certificates were valid when it signed.
        let tsa_chain = tsa_chain::build(signer, &self.certificates, roots).ok_or_else(|| {
            TimestampError::UntrustedTsa {
                subject: signer.subject().to_string(),
            }
        })?;
        let gen_time = self.info.gen_time;
        if let Some(invalid) = tsa_chain.iter().find(|c| !c.is_valid_at(gen_time)) {
            return Err(TimestampError::CertificateNotValidAtGenTime {
                subject: invalid.subject().to_string(),
                not_before: invalid.not_before(),
                not_after: invalid.not_after(),
                gen_time,
            });
        }

        // Step 5 (RFC 3161 §2.3, Notary Project certificate rules): the leaf is a TSA
        // certificate (EKU critical, timeStamping only) and the CAs are CAs.
        validate_timestamping_chain(&tsa_chain).map_err(TimestampError::TsaChainRules)?;

        // Step 6 (RFC 3161 §2.4.2): the token timestamps these signature bytes, not others.
        self.check_imprint(signature)?;

        let accuracy = self.info.effective_accuracy();
        Ok(TimestampRange {
            earliest: gen_time - accuracy,
            latest: gen_time + accuracy,
            tsa_chain,
        })
    }

    /// Checks that the message imprint is the hash of `data` under the imprint's own hash
    /// algorithm (SHA-256/384/512).
    pub fn check_imprint(&self, data: &[u8]) -> Result<(), TimestampError> {
        let imprint = &self.info.message_imprint;
        let hash = HashAlgorithm::from_oid(&imprint.hash_algorithm).ok_or_else(|| {
            TimestampError::UnsupportedImprintAlgorithm(imprint.hash_algorithm.to_string())
        })?;
        if hash.digest(data) != imprint.hashed_message {
            return Err(TimestampError::MismatchedImprint);
        }
        Ok(())
    }

    fn signer_certificate(&self) -> Result<(&Certificate, CertIdentity), TimestampError> {
        for cert in &self.certificates {
            let Ok(identity) = CertIdentity::from_der(cert.der()) else {
                continue;
            };
            let matches = match &self.signer_info.sid {
                SignerIdentifier::IssuerAndSerialNumber { issuer, serial } => {
                    *issuer == identity.issuer && *serial == identity.serial
                }
                SignerIdentifier::SubjectKeyIdentifier(key_id) => {
                    identity.subject_key_id.as_ref() == Some(key_id)
                }
            };
            if matches {
                return Ok((cert, identity));
            }
        }
        Err(TimestampError::SigningCertificateNotFound)
    }

    fn check_signed_attributes(
        &self,
        signer: &Certificate,
        identity: &CertIdentity,
    ) -> Result<(), TimestampError> {
        let signer_info = &self.signer_info;
        if signer_info.signed_attrs_raw.is_none() {
            return Err(TimestampError::MissingSignedAttributes);
        }

        // content-type must repeat eContentType (RFC 5652 §11.1).
        let content_type = signer_info
            .single_attribute(&oid::CONTENT_TYPE)?
            .ok_or(TimestampError::MissingSignedAttribute("content-type"))?;
        let content_type = Reader::new(content_type)
            .read(tag::OID, "content-type")
            .and_then(|t| t.oid())
            .map_err(attribute_error("content-type attribute"))?;
        if content_type != oid::TST_INFO {
            return Err(TimestampError::ContentTypeAttributeMismatch(
                content_type.to_string(),
            ));
        }

        // message-digest must be the hash of the eContent octets (RFC 5652 §5.4, §11.2).
        let digest = signer_info
            .single_attribute(&oid::MESSAGE_DIGEST)?
            .ok_or(TimestampError::MissingSignedAttribute("message-digest"))?;
        let digest = Reader::new(digest)
            .read(tag::OCTET_STRING, "message-digest")
            .map_err(attribute_error("message-digest attribute"))?;
        let algorithm = &signer_info.digest_algorithm.oid;
        let hash = HashAlgorithm::from_oid(algorithm)
            .ok_or_else(|| TimestampError::UnsupportedDigestAlgorithm(algorithm.to_string()))?;
        if hash.digest(&self.tst_info_der) != digest.value {
            return Err(TimestampError::MessageDigestMismatch);
        }

        // CMSAlgorithmProtection, when present, must name the algorithms used (RFC 6211 §2).
        if let Some(protection) = signer_info.single_attribute(&oid::CMS_ALGORITHM_PROTECTION)? {
            check_algorithm_protection(signer_info, protection)?;
        }

        // signing-certificate(-v2) must name the signer certificate (RFC 3161 §2.4.1).
        ess::check_signing_certificate(signer_info, signer.der(), identity)
    }
}

fn attribute_error(structure: &'static str) -> impl Fn(DecodeError) -> TimestampError {
    move |source| TimestampError::MalformedToken { structure, source }
}

/// ```text
/// CMSAlgorithmProtection ::= SEQUENCE {
///    digestAlgorithm    DigestAlgorithmIdentifier,
///    signatureAlgorithm [1] SignatureAlgorithmIdentifier OPTIONAL,
///    macAlgorithm       [2] MessageAuthenticationCodeAlgorithm OPTIONAL }
/// ```
fn check_algorithm_protection(
    signer_info: &SignerInfo,
    value: &[u8],
) -> Result<(), TimestampError> {
    type Protected = (
        const_oid::ObjectIdentifier,
        Option<const_oid::ObjectIdentifier>,
    );
    let decode = || -> Result<Protected, DecodeError> {
        let sequence = Reader::new(value).read(tag::SEQUENCE, "CMSAlgorithmProtection")?;
        let mut reader = sequence.reader();
        let digest = crate::asn1::AlgorithmIdentifier::decode(
            &reader.read(tag::SEQUENCE, "digestAlgorithm")?,
        )?;
        // [1] IMPLICIT: the tagged element is the AlgorithmIdentifier SEQUENCE itself.
        let signature = reader
            .read_optional(tag::context(1))?
            .map(|t| crate::asn1::AlgorithmIdentifier::decode(&t))
            .transpose()?;
        Ok((digest.oid, signature.map(|s| s.oid)))
    };
    let (digest, signature) =
        decode().map_err(attribute_error("CMSAlgorithmProtection attribute"))?;
    if digest != signer_info.digest_algorithm.oid
        || signature.is_some_and(|s| s != signer_info.signature_algorithm.oid)
    {
        return Err(TimestampError::AlgorithmProtectionMismatch);
    }
    Ok(())
}
