//! Why a timestamp token, request or response was rejected.
//!
//! Each variant names one rule of RFC 3161, RFC 5652, RFC 5035 or the Notary Project's
//! timestamping rules. Texts follow notation (tspclient-go) where it has one, so that users
//! can search for the same message, and say what to do where the user can do something.

use time::OffsetDateTime;

/// Why a timestamp token, request or response was rejected.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TimestampError {
    /// The token is not well-formed BER/DER for the structure named (RFC 5652 §3, §5).
    #[error("malformed timestamp token: invalid {structure}")]
    MalformedToken {
        /// The ASN.1 structure that could not be read.
        structure: &'static str,
        /// What was wrong with the encoding.
        #[source]
        source: DecodeError,
    },

    /// The ContentInfo does not hold SignedData (RFC 3161 §2.4.2: a token is a SignedData).
    #[error(
        "timestamp token content type is {0}, expected id-signedData (1.2.840.113549.1.7.2); \
         this is not an RFC 3161 timestamp token"
    )]
    NotSignedData(String),

    /// The encapsulated content is not a TSTInfo (RFC 3161 §2.4.2).
    #[error(
        "unexpected content type: {0}. Expected to be id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4)"
    )]
    UnexpectedContentType(String),

    /// The SignedData carries no eContent, so there is no TSTInfo (RFC 3161 §2.4.2).
    #[error("invalid timestamp token: the encapsulated TSTInfo (eContent) is missing")]
    MissingTstInfo,

    /// The TSTInfo cannot be decoded (RFC 3161 §2.4.2).
    #[error("invalid TSTInfo: cannot parse the TSTInfo of the timestamp token")]
    InvalidTstInfo(#[source] DecodeError),

    /// The TSTInfo version is not v1 (RFC 3161 §2.4.2).
    #[error("invalid TSTInfo: timestamp token info version must be 1, but got {0}")]
    UnsupportedTstInfoVersion(i64),

    /// A token must have exactly one signer, the TSA (RFC 3161 §2.4.2).
    #[error("invalid timestamp token: expected exactly one SignerInfo, found {0}")]
    SignerInfoCount(usize),

    /// A certificate in the token's certificate set cannot be parsed.
    #[error("invalid timestamp token: certificate {index} in the token cannot be parsed")]
    InvalidCertificate {
        /// Position in the token's certificate set.
        index: usize,
        /// The parser's reason.
        #[source]
        source: hallmark_x509::Error,
    },

    /// No certificate in the token matches the SignerInfo's signer identifier (RFC 5652 §5.3).
    #[error(
        "signing certificate not found in the timestamp token; request timestamps with the \
         TSA certificate included (certReq true)"
    )]
    SigningCertificateNotFound,

    /// The SignerInfo has no signed attributes (RFC 5652 §5.3: required unless id-data).
    #[error("invalid timestamp token: missing signed attributes")]
    MissingSignedAttributes,

    /// A signed attribute that RFC 5652 §5.3 or RFC 3161 §2.4.2 requires is absent.
    #[error("invalid timestamp token: the {0} signed attribute is missing")]
    MissingSignedAttribute(&'static str),

    /// A signed attribute occurs twice, or does not have exactly one value (RFC 5652 §5.3).
    #[error("invalid timestamp token: the {0} signed attribute must occur once with one value")]
    AmbiguousSignedAttribute(String),

    /// The content-type attribute differs from the eContentType (RFC 5652 §11.1).
    #[error(
        "mismatch content type: found {0} in signer info, and \
         id-ct-TSTInfo (1.2.840.113549.1.9.16.1.4) in signed data"
    )]
    ContentTypeAttributeMismatch(String),

    /// The message-digest attribute is not the hash of the TSTInfo (RFC 5652 §5.4, §11.2).
    #[error("mismatch message digest: the signed message-digest does not match the TSTInfo")]
    MessageDigestMismatch,

    /// The CMSAlgorithmProtection attribute names other algorithms than the SignerInfo
    /// (RFC 6211 §2: an algorithm substitution attempt).
    #[error(
        "invalid timestamp token: the CMSAlgorithmProtection attribute does not match the \
         SignerInfo's digest and signature algorithms"
    )]
    AlgorithmProtectionMismatch,

    /// A digest algorithm other than SHA-256/384/512.
    #[error("unsupported digest algorithm {0}: only SHA-256, SHA-384 and SHA-512 are accepted")]
    UnsupportedDigestAlgorithm(String),

    /// Neither signing-certificate nor signing-certificate-v2 is present (RFC 3161 §2.4.1,
    /// RFC 5816 §2.2).
    #[error(
        "invalid timestamp token: both signingCertificate and signingCertificateV2 fields \
         are missing"
    )]
    MissingSigningCertificateAttribute,

    /// The ESS attribute lists no certificate (RFC 5035 §3).
    #[error("invalid timestamp token: the signing certificate attribute lists no certificate")]
    EmptySigningCertificateAttribute,

    /// The ESS certHash is not the hash of the signer certificate (RFC 5035 §4).
    #[error("signing certificate hash does not match CertHash in signed attribute")]
    SigningCertificateHashMismatch,

    /// The ESS issuerSerial names another certificate than the SignerInfo (RFC 5035 §4).
    #[error(
        "invalid timestamp token: the signing certificate attribute's issuerSerial does not \
         name the signer certificate"
    )]
    SigningCertificateIssuerSerialMismatch,

    /// The CMS signature algorithm is not one this crate verifies.
    #[error(
        "unsupported signature algorithm {0} in the timestamp token: expected RSA PKCS#1 v1.5, \
         RSASSA-PSS or ECDSA with SHA-256, SHA-384 or SHA-512"
    )]
    UnsupportedSignatureAlgorithm(String),

    /// The signer certificate's key cannot be used to verify the token.
    #[error("unsupported TSA public key: {0}")]
    UnsupportedPublicKey(String),

    /// The CMS signature over the signed attributes does not verify (RFC 5652 §5.6).
    #[error(
        "cms verification failure: the timestamp token signature does not verify with the TSA \
         certificate's key"
    )]
    InvalidSignature,

    /// The TSA certificate does not chain to any certificate of the `tsa` trust store.
    #[error(
        "cms verification failure: x509: certificate signed by unknown authority: the TSA \
         certificate {subject:?} does not chain to a certificate of the tsa trust store; add the \
         TSA's root certificate with `hallmark cert add -t tsa -s NAME FILE` and list that store \
         in the trust policy"
    )]
    UntrustedTsa {
        /// Subject of the TSA signing certificate.
        subject: String,
    },

    /// A TSA chain certificate was not valid at genTime (RFC 3161 §2.4.2: the TSA's
    /// certificate must be valid when the token was generated).
    #[error(
        "cms verification failure: x509: TSA certificate {subject:?} is not valid at the \
         timestamp's genTime {gen_time} (valid from {not_before} to {not_after})"
    )]
    CertificateNotValidAtGenTime {
        /// Subject of the certificate.
        subject: String,
        /// Its notBefore.
        not_before: OffsetDateTime,
        /// Its notAfter.
        not_after: OffsetDateTime,
        /// The token's genTime.
        gen_time: OffsetDateTime,
    },

    /// The TSA chain breaks the Notary Project certificate rules for timestamping.
    #[error("the TSA certificate chain does not meet the Notary Project timestamping rules")]
    TsaChainRules(#[source] hallmark_x509::chain::ChainError),

    /// The imprint's hash algorithm is not SHA-256/384/512 (notation rejects others).
    #[error("invalid TSTInfo: unrecognized hash algorithm: {0}")]
    UnsupportedImprintAlgorithm(String),

    /// The token timestamps other bytes than the signature (RFC 3161 §2.4.2).
    #[error("invalid TSTInfo: mismatched message")]
    MismatchedImprint,

    /// The random number generator failed while making a nonce.
    #[error("malformed timestamping request: the system random number generator failed")]
    NonceGeneration,

    /// The response is not a well-formed TimeStampResp (RFC 3161 §2.4.2).
    #[error("invalid timestamping response: invalid {structure}")]
    MalformedResponse {
        /// The structure that could not be read.
        structure: &'static str,
        /// What was wrong with the encoding.
        #[source]
        source: DecodeError,
    },

    /// The TSA refused the request (RFC 3161 §2.4.2 PKIStatusInfo).
    #[error(
        "invalid response with status code {code}: {status}{}{}",
        status_text.as_deref().map(|t| format!(" ({t})")).unwrap_or_default(),
        if fail_info.is_empty() { String::new() } else {
            format!(". Failure info: {}", fail_info.join(", "))
        }
    )]
    Rejected {
        /// The PKIStatus number.
        code: i64,
        /// The PKIStatus name, e.g. "rejection".
        status: &'static str,
        /// The TSA's free text, if it sent one.
        status_text: Option<String>,
        /// The PKIFailureInfo bits that were set, by name.
        fail_info: Vec<&'static str>,
    },

    /// A granted response without a token (RFC 3161 §2.4.2).
    #[error("invalid timestamping response: status is granted but the timeStampToken is missing")]
    MissingToken,

    /// The token's nonce differs from the request's (RFC 3161 §2.4.2: replay protection).
    #[error(
        "invalid timestamping response: the nonce in the TSTInfo does not match the request's \
         nonce; the response may be a replay"
    )]
    NonceMismatch,

    /// The token's imprint differs from the request's (RFC 3161 §2.4.2).
    #[error(
        "invalid timestamping response: the TSTInfo messageImprint differs from the request's; \
         the TSA timestamped other data"
    )]
    ResponseImprintMismatch,
}

/// Why bytes could not be decoded as the ASN.1 structure expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The input ends inside an element.
    #[error("the encoding is truncated")]
    Truncated,
    /// A length does not fit the supported range.
    #[error("an element length is too large")]
    LengthTooLarge,
    /// An indefinite length where it is not allowed.
    #[error("an indefinite length is not allowed here")]
    IndefiniteLength,
    /// Tag numbers of 31 and above, which no RFC 3161 structure uses.
    #[error("high tag numbers are not supported")]
    HighTagNumber,
    /// Nesting deeper than any CMS structure needs.
    #[error("the encoding is nested too deeply")]
    TooDeep,
    /// A constructed string segment is malformed.
    #[error("a constructed string has an invalid segment")]
    InvalidStringSegment,
    /// A required element is absent.
    #[error("{0} is missing")]
    Missing(&'static str),
    /// An element has an unexpected tag.
    #[error("{what}: expected tag 0x{expected:02x}, found 0x{found:02x}")]
    UnexpectedTag {
        /// The element being read.
        what: &'static str,
        /// The tag expected.
        expected: u8,
        /// The tag found.
        found: u8,
    },
    /// Bytes follow the end of a structure.
    #[error("unexpected data after the {0}")]
    TrailingData(&'static str),
    /// An OBJECT IDENTIFIER is malformed.
    #[error("an object identifier is malformed")]
    InvalidOid,
    /// An INTEGER is empty or too large.
    #[error("an integer is malformed or out of range")]
    InvalidInteger,
    /// An INTEGER that must be non-negative is negative.
    #[error("an integer that must not be negative is negative")]
    NegativeInteger,
    /// A BOOLEAN is not one octet.
    #[error("a boolean is malformed")]
    InvalidBoolean,
    /// A field's value is outside what the RFC allows.
    #[error("{0}")]
    InvalidValue(&'static str),
    /// A GeneralizedTime does not follow RFC 3161 §2.4.2 / RFC 5280 §4.1.2.5.2.
    #[error("invalid GeneralizedTime {0:?}")]
    InvalidTime(String),
}
