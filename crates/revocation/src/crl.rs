//! Parsing a CRL and deciding whether it may be trusted for one certificate (RFC 5280 §5,
//! §6.3.3; Notary Project trust-store-trust-policy.md "Certificate Revocation Evaluation").
//!
//! A CRL is only used after every check below passed; each failure names the rule, and the
//! caller turns it into an `Unknown` status (fail closed). The checks follow
//! notation-core-go's CRL validation (signature by the issuer, `nextUpdate` present and not
//! passed, no unknown critical extension, no delta CRL) and add the ones RFC 5280 §6.3.3 asks
//! for that notation leaves out: the CRL issuer name, `thisUpdate` not in the future and the
//! scope an issuing distribution point declares.

use const_oid::ObjectIdentifier;
use const_oid::db::rfc5280;
use der::asn1::BitString;
use der::{Decode, Encode, Reader, SliceReader};
use time::OffsetDateTime;
use x509_cert::crl::{CertificateList, RevokedCert};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::IssuingDistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::signature::{self, SignatureError};

/// Why a downloaded CRL was not used for a certificate.
#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    /// The fetcher could not get the CRL.
    #[error("the CRL could not be downloaded")]
    Fetch(#[source] crate::fetch::FetchError),

    /// The bytes are not a DER `CertificateList`.
    #[error("the CRL is not a DER-encoded X.509 CertificateList")]
    Malformed(#[source] der::Error),

    /// `signatureAlgorithm` differs from `tbsCertList.signature` (RFC 5280 §5.1.1.2).
    #[error("the CRL's signatureAlgorithm differs from the algorithm inside tbsCertList")]
    AlgorithmMismatch,

    /// The issuer certificate is not a CA (RFC 5280 §6.3.3 (f)).
    #[error("the issuer certificate {issuer} is not a CA, so it cannot issue CRLs")]
    IssuerNotCa {
        /// Subject of the issuer certificate.
        issuer: String,
    },

    /// The issuer certificate's key usage lacks `cRLSign` (RFC 5280 §6.3.3 (f)).
    #[error("the issuer certificate {issuer} lacks the cRLSign key usage, so it cannot sign CRLs")]
    IssuerNotCrlSigner {
        /// Subject of the issuer certificate.
        issuer: String,
    },

    /// The issuer certificate could not be read far enough to check the CRL.
    #[error("the issuer certificate cannot be parsed")]
    IssuerUnreadable(#[source] der::Error),

    /// The CRL signature is not valid for the issuer's key.
    #[error("the CRL is not signed by the issuer certificate {issuer}")]
    Signature {
        /// Subject of the issuer certificate.
        issuer: String,
        /// What failed.
        #[source]
        source: SignatureError,
    },

    /// The CRL names another issuer than the certificate does (RFC 5280 §6.3.3 (b)(1)).
    #[error("the CRL is issued by {crl_issuer}, but the certificate's issuer is {cert_issuer}")]
    IssuerMismatch {
        /// Issuer name in the CRL.
        crl_issuer: String,
        /// Issuer name in the certificate.
        cert_issuer: String,
    },

    /// `thisUpdate` lies after the verification time: a wrong clock or a bad CRL.
    #[error(
        "the CRL is not valid yet: its thisUpdate {this_update} is after the current time \
             {now}; check the system clock"
    )]
    NotYetValid {
        /// The CRL's thisUpdate.
        this_update: OffsetDateTime,
        /// The verification time.
        now: OffsetDateTime,
    },

    /// `nextUpdate` is absent; notation refuses such CRLs since nothing says when it goes stale.
    #[error("the CRL has no nextUpdate, so its freshness cannot be judged")]
    NoNextUpdate,

    /// The CRL is past its `nextUpdate`.
    #[error(
        "the CRL expired: its nextUpdate {next_update} is not after the current time {now}; \
             the CA must publish a fresh CRL (or the cached copy must be refreshed)"
    )]
    Expired {
        /// The CRL's nextUpdate.
        next_update: OffsetDateTime,
        /// The verification time.
        now: OffsetDateTime,
    },

    /// The CRL is a delta CRL, or points to one (RFC 5280 §5.2.4, §5.2.6).
    #[error("delta CRLs are not supported by Hallmark yet; the CRL {what}")]
    DeltaCrl {
        /// Which extension announced the delta.
        what: &'static str,
    },

    /// Indirect CRLs (entries for other issuers) are not supported (RFC 5280 §5.2.5).
    #[error("indirect CRLs are not supported by Hallmark yet")]
    IndirectCrl,

    /// The issuing distribution point says the CRL does not cover this certificate, or covers
    /// only some revocation reasons (RFC 5280 §5.2.5, §6.3.3 (b)(2)).
    #[error("the CRL does not cover this certificate: {0}")]
    OutOfScope(&'static str),

    /// A critical CRL extension Hallmark does not implement (RFC 5280 §5.2).
    #[error("the CRL has the critical extension {oid}, which Hallmark does not support")]
    UnknownCriticalExtension {
        /// The extension OID.
        oid: ObjectIdentifier,
    },

    /// A critical extension on the certificate's CRL entry Hallmark does not implement
    /// (RFC 5280 §5.3; `certificateIssuer` of indirect CRLs lands here).
    #[error(
        "the CRL entry for this certificate has the critical extension {oid}, which \
             Hallmark does not support"
    )]
    UnknownCriticalEntryExtension {
        /// The extension OID.
        oid: ObjectIdentifier,
    },

    /// An extension Hallmark reads could not be decoded.
    #[error("the CRL extension {oid} is malformed")]
    MalformedExtension {
        /// The extension OID.
        oid: ObjectIdentifier,
        /// The decoding error.
        #[source]
        source: der::Error,
    },

    /// A time in the CRL is outside what can be represented.
    #[error("a time in the CRL is out of range")]
    TimeOutOfRange,
}

/// A parsed CRL and the exact bytes its signature covers.
#[derive(Debug)]
pub(crate) struct Crl {
    pub(crate) list: CertificateList,
    tbs: Vec<u8>,
}

/// What [`Crl::validate`] needs to know about the certificate being checked.
pub(crate) struct Subject<'a> {
    pub(crate) certificate: &'a x509_cert::Certificate,
    /// The certificate's http(s) CRL distribution point URLs.
    pub(crate) distribution_points: &'a [String],
}

impl Crl {
    /// Parses DER bytes, keeping `tbsCertList` as received so the signature is checked over the
    /// signed bytes rather than a re-encoding.
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, CrlError> {
        let list = CertificateList::from_der(bytes).map_err(CrlError::Malformed)?;
        let mut reader = SliceReader::new(bytes).map_err(CrlError::Malformed)?;
        let tbs = reader
            .sequence(|outer| {
                let tbs = outer.tlv_bytes()?.to_vec();
                // signatureAlgorithm and signatureValue, already decoded above.
                outer.drain(outer.remaining_len())?;
                Ok(tbs)
            })
            .map_err(CrlError::Malformed)?;
        Ok(Self { list, tbs })
    }

    pub(crate) fn this_update(&self) -> Result<OffsetDateTime, CrlError> {
        to_offset(self.list.tbs_cert_list.this_update.to_unix_duration())
    }

    pub(crate) fn next_update(&self) -> Result<Option<OffsetDateTime>, CrlError> {
        self.list
            .tbs_cert_list
            .next_update
            .map(|t| to_offset(t.to_unix_duration()))
            .transpose()
    }

    pub(crate) fn entries(&self) -> &[RevokedCert] {
        self.list
            .tbs_cert_list
            .revoked_certificates
            .as_deref()
            .unwrap_or_default()
    }

    /// Every rule a CRL must meet before its entries say anything about `subject`, whose
    /// issuer certificate is `issuer`.
    pub(crate) fn validate(
        &self,
        subject: &Subject<'_>,
        issuer: &x509_cert::Certificate,
        now: OffsetDateTime,
    ) -> Result<(), CrlError> {
        // RFC 5280 §6.3.3 (f): the CRL is signed by the certificate's issuer, which must be
        // allowed to sign CRLs. Stops forged or substituted CRLs.
        self.verify_signature(issuer)?;

        // RFC 5280 §6.3.3 (b)(1): the CRL is about the certificate's issuer. Stops a CRL of
        // another CA signed with a shared key from answering for this one.
        let tbs = &self.list.tbs_cert_list;
        let cert_issuer = subject.certificate.tbs_certificate().issuer();
        if !same_name(&tbs.issuer, cert_issuer) {
            return Err(CrlError::IssuerMismatch {
                crl_issuer: tbs.issuer.to_string(),
                cert_issuer: cert_issuer.to_string(),
            });
        }

        // RFC 5280 §5.1.2.4-5 and notation's "nextUpdate must be set": a stale CRL cannot
        // vouch for a certificate (replay of an old CRL from before the revocation).
        self.check_freshness(now)?;

        // RFC 5280 §5.2: extensions change what the CRL means; unknown critical ones fail.
        self.check_extensions(subject)
    }

    fn verify_signature(&self, issuer: &x509_cert::Certificate) -> Result<(), CrlError> {
        let issuer_name = issuer.tbs_certificate().subject().to_string();
        if self.list.signature_algorithm != self.list.tbs_cert_list.signature {
            return Err(CrlError::AlgorithmMismatch);
        }
        check_crl_signer(issuer, &issuer_name)?;

        let key = issuer.tbs_certificate().subject_public_key_info();
        let algorithm: &AlgorithmIdentifierOwned = &self.list.signature_algorithm;
        let signature = signature_bytes(&self.list.signature).ok_or(CrlError::Signature {
            issuer: issuer_name.clone(),
            source: SignatureError::Invalid,
        })?;
        signature::verify(key, algorithm, &self.tbs, signature).map_err(|source| {
            CrlError::Signature {
                issuer: issuer_name,
                source,
            }
        })
    }

    fn check_freshness(&self, now: OffsetDateTime) -> Result<(), CrlError> {
        let this_update = self.this_update()?;
        if this_update > now {
            return Err(CrlError::NotYetValid { this_update, now });
        }
        match self.next_update()? {
            None => Err(CrlError::NoNextUpdate),
            Some(next_update) if next_update <= now => Err(CrlError::Expired { next_update, now }),
            Some(_) => Ok(()),
        }
    }

    fn check_extensions(&self, subject: &Subject<'_>) -> Result<(), CrlError> {
        let extensions = self
            .list
            .tbs_cert_list
            .crl_extensions
            .as_deref()
            .unwrap_or_default();
        for extension in extensions {
            match extension.extn_id {
                rfc5280::ID_CE_DELTA_CRL_INDICATOR => {
                    return Err(CrlError::DeltaCrl {
                        what: "is a delta CRL (deltaCRLIndicator)",
                    });
                }
                rfc5280::ID_CE_FRESHEST_CRL => {
                    return Err(CrlError::DeltaCrl {
                        what: "has delta CRLs that must be merged with it (freshestCRL)",
                    });
                }
                rfc5280::ID_CE_ISSUING_DISTRIBUTION_POINT => check_scope(extension, subject)?,
                rfc5280::ID_CE_CRL_NUMBER
                | rfc5280::ID_CE_AUTHORITY_KEY_IDENTIFIER
                | rfc5280::ID_CE_ISSUER_ALT_NAME => {}
                oid if extension.critical => {
                    return Err(CrlError::UnknownCriticalExtension { oid });
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Go's `RevocationList.CheckSignatureFrom` rules: a v3 issuer needs basicConstraints with
/// cA set, and when key usage is present it must include `cRLSign`.
fn check_crl_signer(issuer: &x509_cert::Certificate, name: &str) -> Result<(), CrlError> {
    let tbs = issuer.tbs_certificate();
    let is_ca = tbs
        .get_extension::<BasicConstraints>()
        .map_err(CrlError::IssuerUnreadable)?
        .is_some_and(|(_, bc)| bc.ca);
    if !is_ca {
        return Err(CrlError::IssuerNotCa {
            issuer: name.to_owned(),
        });
    }
    let key_usage = tbs
        .get_extension::<KeyUsage>()
        .map_err(CrlError::IssuerUnreadable)?;
    if key_usage.is_some_and(|(_, ku)| !ku.crl_sign()) {
        return Err(CrlError::IssuerNotCrlSigner {
            issuer: name.to_owned(),
        });
    }
    Ok(())
}

/// RFC 5280 §5.2.5 and §6.3.3 (b)(2): an issuing distribution point narrows what the CRL
/// lists. Hallmark accepts a CRL only when it covers every reason for this kind of
/// certificate and, when it names its distribution point, that name is one of the
/// certificate's. This stops a validly signed CRL of another partition (which cannot list
/// this certificate) from being served in place of the right one.
fn check_scope(extension: &Extension, subject: &Subject<'_>) -> Result<(), CrlError> {
    let idp =
        IssuingDistributionPoint::from_der(extension.extn_value.as_bytes()).map_err(|source| {
            CrlError::MalformedExtension {
                oid: extension.extn_id,
                source,
            }
        })?;

    if idp.indirect_crl {
        return Err(CrlError::IndirectCrl);
    }
    if idp.only_some_reasons.is_some() {
        return Err(CrlError::OutOfScope(
            "it lists only some revocation reasons (onlySomeReasons), which Hallmark does not \
             combine",
        ));
    }
    if idp.only_contains_attribute_certs {
        return Err(CrlError::OutOfScope("it lists only attribute certificates"));
    }
    let is_ca = subject
        .certificate
        .tbs_certificate()
        .get_extension::<BasicConstraints>()
        .ok()
        .flatten()
        .is_some_and(|(_, bc)| bc.ca);
    if idp.only_contains_user_certs && is_ca {
        return Err(CrlError::OutOfScope(
            "it lists only end-entity certificates",
        ));
    }
    if idp.only_contains_ca_certs && !is_ca {
        return Err(CrlError::OutOfScope("it lists only CA certificates"));
    }

    match &idp.distribution_point {
        None => Ok(()),
        Some(DistributionPointName::FullName(names)) => {
            let matches = names.iter().any(|name| match name {
                GeneralName::UniformResourceIdentifier(uri) => subject
                    .distribution_points
                    .iter()
                    .any(|dp| dp == uri.as_str()),
                _ => false,
            });
            if matches {
                Ok(())
            } else {
                Err(CrlError::OutOfScope(
                    "its issuing distribution point names none of the certificate's CRL \
                     distribution points",
                ))
            }
        }
        Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => Err(CrlError::OutOfScope(
            "its issuing distribution point is relative to the issuer name, which Hallmark \
             does not match",
        )),
    }
}

/// Names compare by their DER encoding, as Go and most PKIX libraries do.
fn same_name(a: &x509_cert::name::Name, b: &x509_cert::name::Name) -> bool {
    match (a.to_der(), b.to_der()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Signatures are whole octets; a BIT STRING with unused bits cannot be one.
fn signature_bytes(bits: &BitString) -> Option<&[u8]> {
    bits.as_bytes()
}

pub(crate) fn to_offset(since_epoch: std::time::Duration) -> Result<OffsetDateTime, CrlError> {
    let seconds = i64::try_from(since_epoch.as_secs()).map_err(|_| CrlError::TimeOutOfRange)?;
    OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| CrlError::TimeOutOfRange)
}
