//! An RFC 3161 client over HTTP (RFC 3161 §3.4): the request goes out as
//! `application/timestamp-query`, the answer comes back as `application/timestamp-reply`.
//! The token is checked against the user's TSA root before it is embedded, so a signature
//! never carries a timestamp that its verifiers would reject.

use std::io::Read;
use std::time::Duration;

use hallmark_timestamp::{HashAlgorithm, TimestampToken, build_request, parse_response};
use hallmark_x509::{Certificate, SignatureAlgorithm};

use crate::Error;

/// Notation's limits: five seconds, and at most 1 MiB of answer.
const TIMEOUT: Duration = Duration::from_secs(5);
const MAX_REPLY: u64 = 1 << 20;

/// A timestamping authority and the root its tokens must chain to.
#[derive(Debug, Clone)]
pub struct Tsa {
    /// The TSA's URL.
    pub url: String,
    /// `--timestamp-root-cert`: the tokens must verify to one of these.
    pub roots: Vec<Certificate>,
}

impl Tsa {
    /// Asks for a token over `signature` (the raw signature bytes of the envelope), hashed
    /// with the hash of `algorithm`, and checks it. Blocking: call it off the async runtime.
    pub fn timestamp(
        &self,
        signature: &[u8],
        algorithm: SignatureAlgorithm,
    ) -> Result<Vec<u8>, Error> {
        let fail = |reason: String| Error::Timestamp {
            url: self.url.clone(),
            reason,
        };
        let request = build_request(signature, HashAlgorithm::for_signature(algorithm))
            .map_err(|e| fail(e.to_string()))?;
        let client = reqwest::blocking::Client::builder()
            .timeout(TIMEOUT)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let response = client
            .post(&self.url)
            .header("content-type", "application/timestamp-query")
            .body(request.der().to_vec())
            .send()
            .map_err(|e| fail(format!("{e}; check --timestamp-url and the network")))?;
        if !response.status().is_success() {
            return Err(fail(format!("the TSA answered {}", response.status())));
        }
        let mut body = Vec::new();
        response
            .take(MAX_REPLY + 1)
            .read_to_end(&mut body)
            .map_err(|e| fail(e.to_string()))?;
        if body.len() as u64 > MAX_REPLY {
            return Err(fail(format!("the answer is larger than {MAX_REPLY} bytes")));
        }
        let token: TimestampToken =
            parse_response(&body, &request).map_err(|e| fail(e.to_string()))?;
        token
            .verify(signature, &self.roots)
            .map_err(|e| fail(format!("{e} (checked against --timestamp-root-cert)")))?;
        Ok(token.der().to_vec())
    }
}
