//! CRL downloads for revocation checks: plain HTTP(S) GETs with notation's time limit, behind
//! [`hallmark_revocation::CrlFetcher`], and cached on disk by the revocation crate.

use std::io::Read;
use std::time::Duration;

use hallmark_revocation::{CrlFetcher, FetchError, MAX_CRL_SIZE};

/// Notation gives a CRL download five seconds.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Fetches CRLs over HTTP. Blocking: use it off the async runtime.
#[derive(Debug, Default)]
pub struct HttpCrlFetcher {
    client: std::sync::OnceLock<Result<reqwest::blocking::Client, String>>,
}

impl HttpCrlFetcher {
    /// A fetcher with notation's timeout; the HTTP client is built at the first download.
    pub fn new() -> Self {
        Self::default()
    }

    fn client(&self) -> Result<&reqwest::blocking::Client, String> {
        self.client
            .get_or_init(|| {
                reqwest::blocking::Client::builder()
                    .timeout(TIMEOUT)
                    .build()
                    .map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

impl CrlFetcher for HttpCrlFetcher {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        let transport = |source: Box<dyn std::error::Error + Send + Sync>| FetchError::Transport {
            url: url.to_owned(),
            source,
        };
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(FetchError::UnsupportedScheme {
                url: url.to_owned(),
            });
        }
        let client = self.client().map_err(|e| transport(e.into()))?;
        let response = client.get(url).send().map_err(|e| transport(e.into()))?;
        if !response.status().is_success() {
            return Err(FetchError::Status {
                url: url.to_owned(),
                status: response.status().as_u16(),
            });
        }
        let mut body = Vec::new();
        response
            .take(MAX_CRL_SIZE + 1)
            .read_to_end(&mut body)
            .map_err(|e| transport(e.into()))?;
        if body.len() as u64 > MAX_CRL_SIZE {
            return Err(FetchError::TooLarge {
                url: url.to_owned(),
                limit: MAX_CRL_SIZE,
            });
        }
        Ok(body)
    }
}
