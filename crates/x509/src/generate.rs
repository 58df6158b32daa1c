//! `notation cert generate-test`: a self-signed code-signing certificate and its key.
//!
//! notation builds it with notation-core-go's `testhelper` template: subject
//! `C=US, ST=WA, L=Seattle, O=Notary, CN=<name>`, keyUsage critical digitalSignature,
//! extendedKeyUsage codeSigning, no basicConstraints and no key identifiers, valid from now
//! for one day, and a small random serial. We keep those choices so the result matches what
//! notation users know.

use time::{Duration, OffsetDateTime};

use crate::testing::CertTemplate;
use crate::{Certificate, Error, KeySpec, SigningKey};

/// `notation cert generate-test`: self-signed code-signing cert and key.
///
/// Valid from now for 24 hours, like notation's; serial a random number in 1..200 (notation
/// uses 0..200; 0 is left out because RFC 5280 §4.1.2.2 requires a positive serial).
pub fn generate_test_certificate(
    common_name: &str,
    spec: KeySpec,
) -> Result<(SigningKey, Certificate), Error> {
    let now = OffsetDateTime::now_utc();
    let mut template = CertTemplate::code_signing_leaf(common_name);
    template.key_spec = spec;
    template.not_before = now;
    template.not_after = now + Duration::days(1);
    template.serial = Some(vec![small_random_serial()?]);
    // Go adds key identifiers only to CA certificates.
    template.key_identifiers = false;
    template.self_signed()
}

fn small_random_serial() -> Result<u8, Error> {
    let mut byte = [0u8; 1];
    aws_lc_rs::rand::fill(&mut byte)
        .map_err(|_| Error::CertificateGeneration("no randomness for the serial".into()))?;
    Ok(1 + byte[0] % 199)
}
