//! The hash algorithms a timestamp may use: SHA-256, SHA-384 and SHA-512 (RFC 5754).
//!
//! notation accepts only these for the message imprint and the CMS digest; SHA-1 appears
//! here solely to check the legacy ESSCertID hash (RFC 2634 §5.4), which is an identifier, not
//! a signature.

use aws_lc_rs::digest;
use const_oid::ObjectIdentifier;
use hallmark_x509::SignatureAlgorithm;

use crate::oid;

/// A hash algorithm accepted for message imprints and CMS digests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The hash of a Notary Project signature algorithm, which is also the timestamp imprint
    /// hash notation uses when signing (reference §4: "the key's hash").
    pub fn for_signature(algorithm: SignatureAlgorithm) -> Self {
        match algorithm {
            SignatureAlgorithm::Ps256 | SignatureAlgorithm::Es256 => Self::Sha256,
            SignatureAlgorithm::Ps384 | SignatureAlgorithm::Es384 => Self::Sha384,
            SignatureAlgorithm::Ps512 | SignatureAlgorithm::Es512 => Self::Sha512,
        }
    }

    /// The algorithm named by `oid`, if it is one of the three.
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        match *oid {
            oid::SHA256 => Some(Self::Sha256),
            oid::SHA384 => Some(Self::Sha384),
            oid::SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// The algorithm's object identifier.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => oid::SHA256,
            Self::Sha384 => oid::SHA384,
            Self::Sha512 => oid::SHA512,
        }
    }

    /// Hashes `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let algorithm = match self {
            Self::Sha256 => &digest::SHA256,
            Self::Sha384 => &digest::SHA384,
            Self::Sha512 => &digest::SHA512,
        };
        digest::digest(algorithm, data).as_ref().to_vec()
    }
}

impl std::fmt::Display for HashAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        })
    }
}

/// SHA-1, for the legacy ESSCertID certificate hash only (RFC 2634 §5.4).
pub(crate) fn sha1(data: &[u8]) -> Vec<u8> {
    digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, data)
        .as_ref()
        .to_vec()
}
