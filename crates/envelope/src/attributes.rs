//! Signed and unsigned attributes of a Notary Project signature.
//!
//! The signature specification ("Signature Envelope", "Signed Attributes") defines the same
//! attributes for both envelope formats; only their encoding differs. The JWS and COSE parsers
//! decode their headers into [`ProtectedFields`], and [`ProtectedFields::into_signed`] applies
//! the format-independent rules once: `crit` must list the signing scheme, the expiry and the
//! authentic signing time when present; every `crit` entry must be present; each signing scheme
//! requires its own time attribute and forbids the other's.

use std::fmt;

use hallmark_x509::SignatureAlgorithm;
use time::OffsetDateTime;

use crate::EnvelopeError;

/// `io.cncf.notary.signingScheme`.
pub const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
/// `io.cncf.notary.signingTime` (scheme `notary.x509`).
pub const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
/// `io.cncf.notary.authenticSigningTime` (scheme `notary.x509.signingAuthority`).
pub const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
/// `io.cncf.notary.expiry`.
pub const EXPIRY: &str = "io.cncf.notary.expiry";
/// `io.cncf.notary.verificationPlugin`.
pub const VERIFICATION_PLUGIN: &str = "io.cncf.notary.verificationPlugin";
/// `io.cncf.notary.verificationPluginMinVersion`.
pub const VERIFICATION_PLUGIN_MIN_VERSION: &str = "io.cncf.notary.verificationPluginMinVersion";
/// `io.cncf.notary.signingAgent` (unsigned).
pub const SIGNING_AGENT: &str = "io.cncf.notary.signingAgent";
/// `io.cncf.notary.timestampSignature` (unsigned RFC 3161 token).
pub const TIMESTAMP_SIGNATURE: &str = "io.cncf.notary.timestampSignature";

/// The signing scheme, which decides the time attribute and the trust store type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SigningScheme {
    /// `notary.x509`: signing time is the signer's claim; trust through a `ca` store.
    X509,
    /// `notary.x509.signingAuthority`: the authentic signing time is vouched by the authority.
    X509SigningAuthority,
}

impl SigningScheme {
    /// The value of the `io.cncf.notary.signingScheme` header.
    pub fn as_str(self) -> &'static str {
        match self {
            SigningScheme::X509 => "notary.x509",
            SigningScheme::X509SigningAuthority => "notary.x509.signingAuthority",
        }
    }

    /// Parses the header value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "notary.x509" => Some(SigningScheme::X509),
            "notary.x509.signingAuthority" => Some(SigningScheme::X509SigningAuthority),
            _ => None,
        }
    }
}

impl fmt::Display for SigningScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A protected header that is not one of the Notary Project's own ("extended attribute").
#[derive(Debug, Clone, PartialEq)]
pub struct ExtendedAttribute {
    /// The header name (COSE integer labels are written in decimal).
    pub key: String,
    /// The value; COSE values are converted to JSON (byte strings as standard base64).
    pub value: serde_json::Value,
    /// Whether `crit` lists it: a verifier that does not understand it must fail.
    pub critical: bool,
}

/// The attributes covered by the signature.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedAttributes {
    /// `cty` (JWS) / label 3 (COSE).
    pub content_type: String,
    /// `io.cncf.notary.signingScheme`.
    pub signing_scheme: SigningScheme,
    /// `io.cncf.notary.signingTime`, required for `notary.x509`.
    pub signing_time: Option<OffsetDateTime>,
    /// `io.cncf.notary.authenticSigningTime`, required for `notary.x509.signingAuthority`.
    pub authentic_signing_time: Option<OffsetDateTime>,
    /// `io.cncf.notary.expiry`.
    pub expiry: Option<OffsetDateTime>,
    /// `io.cncf.notary.verificationPlugin`.
    pub verification_plugin: Option<String>,
    /// `io.cncf.notary.verificationPluginMinVersion`.
    pub verification_plugin_min_version: Option<String>,
    /// Every other protected header, in the order received.
    pub extended: Vec<ExtendedAttribute>,
}

impl SignedAttributes {
    /// The time the signature claims to have been made: the signing time for `notary.x509`,
    /// the authentic signing time for the signing authority scheme.
    pub fn claimed_signing_time(&self) -> Option<OffsetDateTime> {
        match self.signing_scheme {
            SigningScheme::X509 => self.signing_time,
            SigningScheme::X509SigningAuthority => self.authentic_signing_time,
        }
    }

    /// The critical extended attributes, which only a verification plugin can process.
    pub fn critical_extended(&self) -> impl Iterator<Item = &ExtendedAttribute> {
        self.extended.iter().filter(|a| a.critical)
    }
}

/// The attributes outside the signature.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnsignedAttributes {
    /// `io.cncf.notary.signingAgent`: free text, not validated.
    pub signing_agent: Option<String>,
    /// `io.cncf.notary.timestampSignature`: an RFC 3161 TimeStampToken over the signature.
    pub timestamp_signature: Option<Vec<u8>>,
}

/// The protected header as decoded by a format parser, before the shared rules.
#[derive(Debug, Default)]
pub(crate) struct ProtectedFields {
    pub crit: Option<Vec<String>>,
    pub content_type: Option<String>,
    pub signing_scheme: Option<String>,
    pub signing_time: Option<OffsetDateTime>,
    pub authentic_signing_time: Option<OffsetDateTime>,
    pub expiry: Option<OffsetDateTime>,
    pub verification_plugin: Option<String>,
    pub verification_plugin_min_version: Option<String>,
    /// Extended attributes, still without their critical flag.
    pub extended: Vec<(String, serde_json::Value)>,
    /// Names of the format's own headers that are present (`alg`, `cty`, `1`, `33`, ...).
    pub format_headers: Vec<String>,
}

impl ProtectedFields {
    fn is_present(&self, name: &str) -> bool {
        match name {
            SIGNING_SCHEME => self.signing_scheme.is_some(),
            SIGNING_TIME => self.signing_time.is_some(),
            AUTHENTIC_SIGNING_TIME => self.authentic_signing_time.is_some(),
            EXPIRY => self.expiry.is_some(),
            VERIFICATION_PLUGIN => self.verification_plugin.is_some(),
            VERIFICATION_PLUGIN_MIN_VERSION => self.verification_plugin_min_version.is_some(),
            _ => {
                self.format_headers.iter().any(|h| h == name)
                    || self.extended.iter().any(|(k, _)| k == name)
            }
        }
    }

    /// Applies the specification's header rules and yields the signed attributes.
    pub fn into_signed(self) -> Result<SignedAttributes, EnvelopeError> {
        // Spec "Signed Attributes": crit is required and lists at least the signing scheme.
        let crit = self
            .crit
            .clone()
            .ok_or(EnvelopeError::MissingProtectedHeader("crit"))?;

        // RFC 7515 §4.1.11 / RFC 9052 §3.1: every crit entry must name a present header.
        if let Some(absent) = crit.iter().find(|name| !self.is_present(name)) {
            return Err(EnvelopeError::CriticalHeaderAbsent(absent.clone()));
        }

        let scheme_name = self
            .signing_scheme
            .as_deref()
            .ok_or(EnvelopeError::MissingProtectedHeader(SIGNING_SCHEME))?;
        let scheme = SigningScheme::from_name(scheme_name)
            .ok_or_else(|| EnvelopeError::UnsupportedSigningScheme(scheme_name.to_owned()))?;
        let content_type = self
            .content_type
            .clone()
            .ok_or(EnvelopeError::MissingProtectedHeader("cty"))?;

        // The headers a verifier must not ignore are marked critical by the signer.
        for name in [SIGNING_SCHEME, EXPIRY, AUTHENTIC_SIGNING_TIME] {
            if self.is_present(name) && !crit.iter().any(|c| c == name) {
                return Err(EnvelopeError::MissingCritEntry(name.to_owned()));
            }
        }

        check_scheme_times(scheme, &self)?;

        let extended = self
            .extended
            .into_iter()
            .map(|(key, value)| {
                let critical = crit.contains(&key);
                ExtendedAttribute {
                    key,
                    value,
                    critical,
                }
            })
            .collect();
        Ok(SignedAttributes {
            content_type,
            signing_scheme: scheme,
            signing_time: self.signing_time,
            authentic_signing_time: self.authentic_signing_time,
            expiry: self.expiry,
            verification_plugin: self.verification_plugin,
            verification_plugin_min_version: self.verification_plugin_min_version,
            extended,
        })
    }
}

/// Spec "Signing Scheme": `notary.x509` carries signingTime and never authenticSigningTime;
/// `notary.x509.signingAuthority` carries authenticSigningTime and never signingTime.
fn check_scheme_times(
    scheme: SigningScheme,
    fields: &ProtectedFields,
) -> Result<(), EnvelopeError> {
    let (required, forbidden) = match scheme {
        SigningScheme::X509 => (
            (SIGNING_TIME, fields.signing_time.is_some()),
            (
                AUTHENTIC_SIGNING_TIME,
                fields.authentic_signing_time.is_some(),
            ),
        ),
        SigningScheme::X509SigningAuthority => (
            (
                AUTHENTIC_SIGNING_TIME,
                fields.authentic_signing_time.is_some(),
            ),
            (SIGNING_TIME, fields.signing_time.is_some()),
        ),
    };
    if forbidden.1 {
        return Err(EnvelopeError::HeaderNotAllowedForScheme {
            header: forbidden.0,
            scheme: scheme.as_str(),
        });
    }
    if !required.1 {
        return Err(EnvelopeError::MissingProtectedHeader(required.0));
    }
    Ok(())
}

/// Maps an algorithm to its name for error messages.
pub(crate) fn alg_name(alg: SignatureAlgorithm) -> String {
    alg.jws_name().to_owned()
}
