//! The Notary Project certificate rules (signature specification, "Certificate
//! Requirements"), checked at signing and at verification time, before and independently of
//! any trust store.
//!
//! The rules follow the specification and notation-core-go's `ValidateCodeSigningCertChain` /
//! `ValidateTimestampingCertChain`:
//!
//! - The chain is ordered leaf first, each certificate issued (names and signature) by the
//!   next one, and ends with a self-signed root; only the root may be self-signed. A lone
//!   self-signed certificate is allowed and is held to the leaf rules.
//! - No certificate is signed with SHA-1.
//! - CA certificates: basicConstraints present, critical, cA = true, and its pathLen (when
//!   present) no smaller than the number of CAs below; keyUsage present with keyCertSign
//!   (critical for code signing). RSA keys of at least 2048 bits, EC keys of at least 256.
//! - Code-signing leaf: not a CA; keyUsage critical with digitalSignature and none of
//!   keyEncipherment, dataEncipherment, keyAgreement, keyCertSign, cRLSign, encipherOnly,
//!   decipherOnly; extendedKeyUsage (optional) without anyExtendedKeyUsage, serverAuth,
//!   clientAuth, emailProtection, timeStamping or OCSPSigning; key RSA 2048/3072/4096 or EC
//!   P-256/P-384/P-521.
//! - Timestamping leaf (RFC 3161 §2.3): as above, except keyUsage need not be critical and
//!   extendedKeyUsage must be present, critical, and hold timeStamping only.
//!
//! Validity periods are not checked here: whether a certificate must be valid now or at the
//! authentic timestamp is the verifier's decision.

use const_oid::ObjectIdentifier;

use crate::key::KeyAlgorithm;
use crate::{Certificate, Error};

const EKU_ANY: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.37.0");
const EKU_SERVER_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.1");
const EKU_CLIENT_AUTH: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.2");
const EKU_EMAIL_PROTECTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.4");
const EKU_TIME_STAMPING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.8");
const EKU_OCSP_SIGNING: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.9");

/// Extended key usages a code-signing leaf must not have.
const FORBIDDEN_CODE_SIGNING_EKUS: &[(ObjectIdentifier, &str)] = &[
    (EKU_ANY, "anyExtendedKeyUsage"),
    (EKU_SERVER_AUTH, "serverAuth"),
    (EKU_CLIENT_AUTH, "clientAuth"),
    (EKU_EMAIL_PROTECTION, "emailProtection"),
    (EKU_TIME_STAMPING, "timeStamping"),
    (EKU_OCSP_SIGNING, "OCSPSigning"),
];

/// A broken certificate rule. Each variant names the certificate (its index in the chain,
/// leaf = 0, and its subject) and the rule.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// No certificate at all.
    #[error("certificate chain must contain at least one certificate")]
    EmptyChain,

    /// A certificate is not followed by its issuer (the issuer name differs).
    #[error(
        "certificate {index} ({subject}) is not issued by the next certificate \
         ({next_subject}): order the chain leaf first, each certificate followed by its \
         issuer, and leave out unrelated certificates"
    )]
    NotOrdered {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
        /// Subject of the certificate that follows it.
        next_subject: String,
    },

    /// The issuer name matches but the issuer's key does not verify the signature.
    #[error(
        "certificate {index} ({subject}) is not signed by the next certificate \
         ({next_subject}): {error}"
    )]
    IssuerSignatureInvalid {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
        /// Subject of the certificate that follows it.
        next_subject: String,
        /// Why the signature check failed.
        error: Error,
    },

    /// The last certificate is not self-signed.
    #[error(
        "certificate {index} ({subject}) ends the chain but is not a valid self-signed \
         certificate: the chain must end with its root certificate"
    )]
    NotSelfSignedRoot {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// A certificate other than the last one is self-signed.
    #[error(
        "certificate {index} ({subject}) is self-signed but is not the last certificate: \
         only the root may be self-signed; remove extra roots"
    )]
    UnexpectedSelfSigned {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// A certificate is signed with SHA-1.
    #[error(
        "certificate {index} ({subject}) is signed with SHA-1, which is forbidden: reissue \
         it with SHA-256 or stronger"
    )]
    Sha1Forbidden {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// The leaf is a CA certificate.
    #[error(
        "leaf certificate ({subject}) is a CA (basicConstraints cA=true): sign with an \
         end-entity certificate"
    )]
    LeafIsCa {
        /// The leaf's subject.
        subject: String,
    },

    /// keyUsage is absent.
    #[error(
        "certificate {index} ({subject}) has no keyUsage extension: the Notary Project \
         requires one (digitalSignature on the leaf, keyCertSign on CAs)"
    )]
    KeyUsageMissing {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// keyUsage is not marked critical (code-signing chains).
    #[error(
        "certificate {index} ({subject}) has a keyUsage extension that is not critical: \
         reissue it with keyUsage marked critical"
    )]
    KeyUsageNotCritical {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// The leaf's keyUsage lacks digitalSignature.
    #[error(
        "leaf certificate ({subject}) lacks the digitalSignature key usage, so it cannot \
         sign artifacts"
    )]
    LeafMissingDigitalSignature {
        /// The leaf's subject.
        subject: String,
    },

    /// The leaf's keyUsage has usages other than digitalSignature (and nonRepudiation).
    #[error(
        "leaf certificate ({subject}) has forbidden key usages {usages}: a signing \
         certificate may only have digitalSignature"
    )]
    LeafForbiddenKeyUsage {
        /// The leaf's subject.
        subject: String,
        /// The forbidden usages found, comma separated.
        usages: String,
    },

    /// The code-signing leaf's extendedKeyUsage has a forbidden purpose.
    #[error(
        "leaf certificate ({subject}) has the forbidden extended key usage {eku}: a \
         code-signing certificate may only have codeSigning"
    )]
    LeafForbiddenEku {
        /// The leaf's subject.
        subject: String,
        /// The forbidden purpose.
        eku: &'static str,
    },

    /// The timestamping leaf's extendedKeyUsage is not exactly timeStamping.
    #[error(
        "timestamping certificate ({subject}) must have timeStamping as its only extended \
         key usage"
    )]
    TsaEkuNotTimestampingOnly {
        /// The leaf's subject.
        subject: String,
    },

    /// The timestamping leaf's extendedKeyUsage is not critical (RFC 3161 §2.3).
    #[error(
        "timestamping certificate ({subject}) has an extendedKeyUsage that is not critical, \
         as RFC 3161 requires: use another timestamping authority"
    )]
    TsaEkuNotCritical {
        /// The leaf's subject.
        subject: String,
    },

    /// A CA certificate lacks basicConstraints with cA = true.
    #[error(
        "CA certificate {index} ({subject}) lacks basicConstraints with cA=true: only CA \
         certificates may issue others"
    )]
    CaMissingBasicConstraints {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// A CA certificate's basicConstraints is not critical.
    #[error(
        "CA certificate {index} ({subject}) has a basicConstraints extension that is not \
         critical: reissue it with basicConstraints marked critical"
    )]
    CaBasicConstraintsNotCritical {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// A CA certificate's keyUsage lacks keyCertSign.
    #[error(
        "CA certificate {index} ({subject}) lacks the keyCertSign key usage, so it may not \
         issue certificates"
    )]
    CaKeyUsageMissingKeyCertSign {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
    },

    /// A CA's pathLenConstraint is smaller than the number of CAs below it.
    #[error(
        "CA certificate {index} ({subject}) allows {path_len} intermediate CAs below it but \
         the chain has {below}"
    )]
    PathLenExceeded {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
        /// Its pathLenConstraint.
        path_len: u8,
        /// CA certificates between it and the leaf.
        below: usize,
    },

    /// The leaf key is not one of the six Notary Project key specs.
    #[error(
        "leaf certificate ({subject}) has an unsupported {key} key: use RSA 2048, 3072 or \
         4096 bits or EC P-256, P-384 or P-521"
    )]
    UnsupportedLeafKey {
        /// The leaf's subject.
        subject: String,
        /// The key found.
        key: String,
    },

    /// A CA key is weaker than allowed.
    #[error(
        "certificate {index} ({subject}) has a {key} key, which is too weak: RSA keys need \
         2048 bits or more and EC keys 256 bits or more"
    )]
    KeyTooSmall {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
        /// The key found.
        key: String,
    },

    /// No issuer path from the certificate to one of the given roots.
    #[error(
        "no certificate path from {subject} to a trusted root: the certificates given do not \
         lead to any root in the trust store"
    )]
    NoPathToRoot {
        /// The subject of the certificate the path starts from.
        subject: String,
    },

    /// A certificate's extension or key could not be decoded.
    #[error("certificate {index} ({subject}) is malformed: {error}")]
    Malformed {
        /// Index of the certificate.
        index: usize,
        /// Its subject.
        subject: String,
        /// What could not be decoded.
        error: Error,
    },
}

/// Orders certificates into a path `leaf -> ... -> root`, the root being one of `roots`
/// (matched byte for byte, or a root that issued the last certificate), picking issuers from
/// `candidates` by name and signature. For chains that arrive unordered, such as the
/// certificates of an RFC 3161 token. The result still has to pass
/// [`validate_timestamping_chain`] or [`validate_code_signing_chain`].
pub fn build_path(
    leaf: &Certificate,
    candidates: &[Certificate],
    roots: &[Certificate],
) -> Result<Vec<Certificate>, ChainError> {
    /// Longer paths than this are refused (and bound the work on hostile input).
    const MAX_DEPTH: usize = 8;

    let mut path = vec![leaf.clone()];
    while path.len() <= MAX_DEPTH {
        // Invariant: `path` is never empty.
        let Some(current) = path.last() else { break };
        if roots.contains(current) {
            return Ok(path);
        }
        if let Some(root) = roots.iter().find(|r| issued(current, r)) {
            path.push(root.clone());
            return Ok(path);
        }
        let next = candidates
            .iter()
            .filter(|c| !path.contains(c))
            .find(|c| issued(current, c) && !c.is_self_signed());
        match next {
            Some(next) => path.push(next.clone()),
            None => break,
        }
    }
    Err(ChainError::NoPathToRoot {
        subject: subject(leaf),
    })
}

fn issued(cert: &Certificate, issuer: &Certificate) -> bool {
    cert.issuer_der() == issuer.subject_der() && cert.verify_signed_by(issuer).is_ok()
}

/// Which chain is checked: the rules differ only for the leaf's usages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Purpose {
    CodeSigning,
    Timestamping,
}

/// Notary Project certificate rules for a code-signing chain (leaf first): order, issuance,
/// self-signed root, CA rules, code-signing leaf rules, key sizes, no SHA-1. No validity
/// period check.
pub fn validate_code_signing_chain(chain: &[Certificate]) -> Result<(), ChainError> {
    validate(chain, Purpose::CodeSigning)
}

/// Notary Project certificate rules for a timestamping (TSA) chain (leaf first): as for code
/// signing, with the TSA leaf rules (extendedKeyUsage critical, timeStamping only).
pub fn validate_timestamping_chain(chain: &[Certificate]) -> Result<(), ChainError> {
    validate(chain, Purpose::Timestamping)
}

fn validate(chain: &[Certificate], purpose: Purpose) -> Result<(), ChainError> {
    if chain.is_empty() {
        return Err(ChainError::EmptyChain);
    }

    // SHA-1 and key strength first, so a weak issuer is reported as such rather than as a
    // signature that does not verify.
    for (index, cert) in chain.iter().enumerate() {
        check_no_sha1(index, cert)?;
        if index == 0 {
            check_leaf_key(cert)?;
        } else {
            check_ca_key(index, cert)?;
        }
    }

    // Issuance: each certificate is signed by the next; only the last is self-signed.
    let last = chain.len() - 1;
    for (index, cert) in chain.iter().enumerate() {
        if index == last {
            if !cert.is_self_signed() {
                return Err(ChainError::NotSelfSignedRoot {
                    index,
                    subject: subject(cert),
                });
            }
        } else {
            check_issued_by_next(index, cert, &chain[index + 1])?;
        }
    }

    // Per-certificate rules.
    check_leaf(&chain[0], purpose)?;
    for (index, cert) in chain.iter().enumerate().skip(1) {
        check_ca(index, cert, purpose)?;
    }
    Ok(())
}

fn subject(cert: &Certificate) -> String {
    cert.subject().to_string()
}

fn malformed(index: usize, cert: &Certificate) -> impl FnOnce(Error) -> ChainError + '_ {
    move |error| ChainError::Malformed {
        index,
        subject: subject(cert),
        error,
    }
}

fn check_no_sha1(index: usize, cert: &Certificate) -> Result<(), ChainError> {
    const SHA1_SIGNATURES: [ObjectIdentifier; 2] = [
        ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.5"),
        ObjectIdentifier::new_unwrap("1.2.840.10045.4.1"),
    ];
    if SHA1_SIGNATURES.contains(&cert.signature_algorithm_oid()) {
        return Err(ChainError::Sha1Forbidden {
            index,
            subject: subject(cert),
        });
    }
    Ok(())
}

/// The leaf must hold one of the six key specs (signature specification, "Algorithm
/// Selection"); Go's `validateSignatureAlgorithm`.
fn check_leaf_key(cert: &Certificate) -> Result<(), ChainError> {
    let key = cert.key_algorithm().map_err(malformed(0, cert))?;
    if key.spec().is_err() {
        return Err(ChainError::UnsupportedLeafKey {
            subject: subject(cert),
            key: key.to_string(),
        });
    }
    Ok(())
}

/// CA keys: RSA of at least 2048 bits, EC of at least 256 bits; other key types are left to
/// the signature check.
fn check_ca_key(index: usize, cert: &Certificate) -> Result<(), ChainError> {
    let key = cert.key_algorithm().map_err(malformed(index, cert))?;
    let too_small = match &key {
        KeyAlgorithm::Rsa { bits } => *bits < 2048,
        KeyAlgorithm::Ec { bits, .. } => *bits < 256,
        KeyAlgorithm::Other { .. } => false,
    };
    if too_small {
        return Err(ChainError::KeyTooSmall {
            index,
            subject: subject(cert),
            key: key.to_string(),
        });
    }
    Ok(())
}

fn check_issued_by_next(
    index: usize,
    cert: &Certificate,
    next: &Certificate,
) -> Result<(), ChainError> {
    // A self-signed certificate before the end means extra roots or a self-signed leaf
    // inside a chain, which Go rejects.
    if cert.is_self_signed() {
        return Err(ChainError::UnexpectedSelfSigned {
            index,
            subject: subject(cert),
        });
    }
    if cert.issuer_der() != next.subject_der() {
        return Err(ChainError::NotOrdered {
            index,
            subject: subject(cert),
            next_subject: subject(next),
        });
    }
    cert.verify_signed_by(next)
        .map_err(|error| ChainError::IssuerSignatureInvalid {
            index,
            subject: subject(cert),
            next_subject: subject(next),
            error,
        })
}

fn check_leaf(cert: &Certificate, purpose: Purpose) -> Result<(), ChainError> {
    let name = || subject(cert);

    // basicConstraints is optional for a leaf, but cA must not be true.
    if let Some((_, bc)) = cert.basic_constraints().map_err(malformed(0, cert))?
        && bc.ca
    {
        return Err(ChainError::LeafIsCa { subject: name() });
    }

    let Some((critical, ku)) = cert.key_usage().map_err(malformed(0, cert))? else {
        return Err(ChainError::KeyUsageMissing {
            index: 0,
            subject: name(),
        });
    };
    if purpose == Purpose::CodeSigning && !critical {
        return Err(ChainError::KeyUsageNotCritical {
            index: 0,
            subject: name(),
        });
    }
    if !ku.digital_signature() {
        return Err(ChainError::LeafMissingDigitalSignature { subject: name() });
    }
    let forbidden: Vec<&str> = [
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
        (ku.encipher_only(), "encipherOnly"),
        (ku.decipher_only(), "decipherOnly"),
    ]
    .into_iter()
    .filter_map(|(set, usage)| set.then_some(usage))
    .collect();
    if !forbidden.is_empty() {
        return Err(ChainError::LeafForbiddenKeyUsage {
            subject: name(),
            usages: forbidden.join(", "),
        });
    }

    let eku = cert.extended_key_usage().map_err(malformed(0, cert))?;
    match purpose {
        Purpose::CodeSigning => check_code_signing_eku(cert, eku),
        Purpose::Timestamping => check_timestamping_eku(cert, eku),
    }
}

fn check_code_signing_eku(
    cert: &Certificate,
    eku: Option<(bool, Vec<ObjectIdentifier>)>,
) -> Result<(), ChainError> {
    let Some((_, purposes)) = eku else {
        return Ok(());
    };
    for (oid, eku) in FORBIDDEN_CODE_SIGNING_EKUS {
        if purposes.contains(oid) {
            return Err(ChainError::LeafForbiddenEku {
                subject: subject(cert),
                eku,
            });
        }
    }
    Ok(())
}

/// RFC 3161 §2.3: the TSA certificate has exactly one extendedKeyUsage, critical, holding
/// only id-kp-timeStamping.
fn check_timestamping_eku(
    cert: &Certificate,
    eku: Option<(bool, Vec<ObjectIdentifier>)>,
) -> Result<(), ChainError> {
    let Some((critical, purposes)) = eku else {
        return Err(ChainError::TsaEkuNotTimestampingOnly {
            subject: subject(cert),
        });
    };
    if purposes != [EKU_TIME_STAMPING] {
        return Err(ChainError::TsaEkuNotTimestampingOnly {
            subject: subject(cert),
        });
    }
    if !critical {
        return Err(ChainError::TsaEkuNotCritical {
            subject: subject(cert),
        });
    }
    Ok(())
}

fn check_ca(index: usize, cert: &Certificate, purpose: Purpose) -> Result<(), ChainError> {
    let name = || subject(cert);

    let Some((bc_critical, bc)) = cert.basic_constraints().map_err(malformed(index, cert))? else {
        return Err(ChainError::CaMissingBasicConstraints {
            index,
            subject: name(),
        });
    };
    if !bc.ca {
        return Err(ChainError::CaMissingBasicConstraints {
            index,
            subject: name(),
        });
    }
    if !bc_critical {
        return Err(ChainError::CaBasicConstraintsNotCritical {
            index,
            subject: name(),
        });
    }
    // The CA at `index` has `index - 1` CA certificates between it and the leaf.
    let below = index - 1;
    if let Some(path_len) = bc.path_len_constraint
        && usize::from(path_len) < below
    {
        return Err(ChainError::PathLenExceeded {
            index,
            subject: name(),
            path_len,
            below,
        });
    }

    let Some((ku_critical, ku)) = cert.key_usage().map_err(malformed(index, cert))? else {
        return Err(ChainError::KeyUsageMissing {
            index,
            subject: name(),
        });
    };
    if purpose == Purpose::CodeSigning && !ku_critical {
        return Err(ChainError::KeyUsageNotCritical {
            index,
            subject: name(),
        });
    }
    if !ku.key_cert_sign() {
        return Err(ChainError::CaKeyUsageMissingKeyCertSign {
            index,
            subject: name(),
        });
    }
    Ok(())
}
