//! Getting CRL bytes: the caller's job.
//!
//! This crate does no network I/O (so it can be used offline, in tests and behind any HTTP
//! stack); the caller passes a [`CrlFetcher`]. A fetcher returns the raw DER body of the CRL at
//! a URL. notation downloads with a 5 s timeout and caps a CRL at 32 MiB ([`MAX_CRL_SIZE`]);
//! HTTP fetchers should do the same. [`crate::CachingFetcher`] adds notation's file cache in
//! front of any fetcher.

/// Largest CRL a fetcher should accept, as notation-core-go does (32 MiB).
pub const MAX_CRL_SIZE: u64 = 32 * 1024 * 1024;

/// Downloads the CRL published at a distribution point URL.
pub trait CrlFetcher {
    /// Returns the CRL bytes (DER `CertificateList`) found at `url` (an `http` or `https` URL
    /// taken from a certificate's CRL distribution points).
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError>;

    /// Forgets any stored copy of the CRL at `url`, after the revocation check found that
    /// copy unusable (bad signature, expired, ...). Returns true when the last answer for `url`
    /// came from such a copy, so fetching again may give a different one; the check then
    /// fetches once more. Fetchers without a cache keep the default, which returns false.
    fn evict(&self, url: &str) -> bool {
        let _ = url;
        false
    }
}

impl<T: CrlFetcher + ?Sized> CrlFetcher for &T {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url)
    }

    fn evict(&self, url: &str) -> bool {
        (**self).evict(url)
    }
}

impl<T: CrlFetcher + ?Sized> CrlFetcher for Box<T> {
    fn fetch(&self, url: &str) -> Result<Vec<u8>, FetchError> {
        (**self).fetch(url)
    }

    fn evict(&self, url: &str) -> bool {
        (**self).evict(url)
    }
}

/// Why a CRL could not be downloaded. The revocation check then tries the certificate's next
/// distribution point, and reports the status as unknown when none worked.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The server answered with a status other than 2xx.
    #[error(
        "the CRL server answered HTTP {status} for {url}; check that the URL still serves \
             the CRL or try again later"
    )]
    Status {
        /// The CRL URL.
        url: String,
        /// The HTTP status code.
        status: u16,
    },

    /// The server could not be reached or the transfer broke off (DNS, TLS, timeout, reset).
    #[error("cannot download the CRL from {url}; check the network, proxy and firewall settings")]
    Transport {
        /// The CRL URL.
        url: String,
        /// What the HTTP stack reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// The response was larger than [`MAX_CRL_SIZE`] (or the fetcher's own limit).
    #[error("the CRL at {url} is larger than the {limit} byte limit")]
    TooLarge {
        /// The CRL URL.
        url: String,
        /// The limit that was hit, in bytes.
        limit: u64,
    },

    /// The URL's scheme is not one the fetcher handles (only `http` and `https` are used).
    #[error("the CRL URL {url} does not use http or https, which is all Hallmark fetches")]
    UnsupportedScheme {
        /// The CRL URL.
        url: String,
    },

    /// The fetcher is configured not to use the network and has no copy of this CRL.
    #[error("no network access is allowed and no cached CRL exists for {url}")]
    Offline {
        /// The CRL URL.
        url: String,
    },
}
