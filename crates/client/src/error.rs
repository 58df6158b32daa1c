//! What can go wrong talking to a registry or an image layout, grouped by who broke which rule:
//! the network, the registry's answers, the content's integrity, the user's credentials, the
//! local files.
//!
//! Messages say what happened and, where the user can act, what to do. They do not repeat
//! the source error, which travels in the chain.

use std::path::PathBuf;

use hallmark_oci::{Digest, ManifestError};
use thiserror::Error;

/// The `errors` array of a distribution-spec error body, as text (`CODE: message`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistryErrors(pub Vec<(String, String)>);

impl RegistryErrors {
    /// Parses a JSON error body; anything else yields no codes.
    pub fn parse(body: &[u8]) -> RegistryErrors {
        #[derive(serde::Deserialize)]
        struct Body {
            errors: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            code: String,
            #[serde(default)]
            message: String,
        }
        match serde_json::from_slice::<Body>(body) {
            Ok(b) => RegistryErrors(b.errors.into_iter().map(|e| (e.code, e.message)).collect()),
            Err(_) => RegistryErrors::default(),
        }
    }

    /// Whether one of the codes is `code`.
    pub fn has(&self, code: &str) -> bool {
        self.0.iter().any(|(c, _)| c == code)
    }
}

impl std::fmt::Display for RegistryErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return f.write_str("no error code in the body");
        }
        for (i, (code, message)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{code}: {message}")?;
        }
        Ok(())
    }
}

/// A failure of the client.
#[derive(Debug, Error)]
pub enum Error {
    // The network.
    /// The request could not be sent or its answer not read.
    #[error("{method} {url}: request failed")]
    Request {
        /// HTTP method.
        method: String,
        /// Target URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The server's TLS certificate does not chain to a trusted root.
    #[error(
        "{url}: the server's TLS certificate is not trusted; pass --ca-file with the CA that \
         issued it"
    )]
    UntrustedCertificate {
        /// Target URL.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// The HTTP client could not be built (TLS configuration).
    #[error("cannot set up the HTTP client")]
    ClientSetup(#[source] reqwest::Error),
    /// A CA file given for TLS could not be read or parsed.
    #[error("cannot use CA file {path}")]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    // The registry's answers.
    /// The registry answered with a status the operation does not expect.
    #[error("{method} {url} answered {status} ({errors})")]
    Status {
        /// HTTP method.
        method: String,
        /// Target URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// The spec error codes from the body.
        errors: RegistryErrors,
    },
    /// No manifest under that reference.
    #[error("manifest {reference} not found in {repository}")]
    ManifestUnknown {
        /// `registry/repository` or the layout path.
        repository: String,
        /// Tag or digest.
        reference: String,
    },
    /// No blob with that digest.
    #[error("blob {digest} not found in {repository}")]
    BlobUnknown {
        /// `registry/repository` or the layout path.
        repository: String,
        /// The digest asked for.
        digest: Digest,
    },
    /// The registry refused a manifest's media type or shape (400/415).
    #[error(
        "{registry} refused a manifest of type {media_type} ({status}: {errors}); \
         the registry probably lacks OCI 1.1 artifact support"
    )]
    ManifestRejected {
        /// The registry host.
        registry: String,
        /// The manifest media type sent.
        media_type: String,
        /// HTTP status.
        status: u16,
        /// The spec error codes from the body.
        errors: RegistryErrors,
    },
    /// A response lacks a header the spec requires for this operation.
    #[error("{url}: response lacks a valid {header} header")]
    MissingHeader {
        /// Target URL.
        url: String,
        /// The header.
        header: &'static str,
    },
    /// `--referrers-mode api` on a registry without the referrers API.
    #[error(
        "{registry} has no referrers API (404 on {url}); use --referrers-mode auto or tag to \
         use the referrers tag schema"
    )]
    NoReferrersApi {
        /// The registry host.
        registry: String,
        /// The referrers URL that answered 404.
        url: String,
    },
    /// The referrers tag index kept losing our entry to concurrent writers.
    #[error("referrers tag {tag} in {repository} lost our entry {attempts} times; giving up")]
    FallbackConflict {
        /// `registry/repository`.
        repository: String,
        /// The fallback tag.
        tag: String,
        /// Attempts made.
        attempts: u32,
    },
    /// An upload session ended at an offset the client did not send.
    #[error("upload session at {url} reports offset {offset}, expected {expected}")]
    UploadOffset {
        /// Session URL.
        url: String,
        /// Offset the registry reports.
        offset: u64,
        /// Offset the client expected.
        expected: u64,
    },
    /// The registry refused to delete a tag (400/405): it deletes manifests by digest only.
    #[error(
        "{registry} refused to delete tag {tag} ({status}); it can only delete manifests by \
         digest, which removes every tag on them"
    )]
    TagDeleteUnsupported {
        /// The registry host.
        registry: String,
        /// The tag.
        tag: String,
        /// HTTP status.
        status: u16,
    },
    /// The registry lost an upload session (after a dropped connection, distribution 2.x
    /// cannot resume one whose last chunk arrived in part).
    #[error("upload session {url} is gone")]
    UploadSessionLost {
        /// Session URL.
        url: String,
    },
    /// A manifest larger than the client accepts.
    #[error("manifest from {url} exceeds {limit} bytes")]
    ManifestTooLarge {
        /// Where it came from.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// A document larger than the caller accepts.
    #[error("the answer from {url} exceeds {limit} bytes")]
    TooLarge {
        /// Where it came from.
        url: String,
        /// The limit.
        limit: u64,
    },
    /// A listing that links to more pages than the client follows.
    #[error(
        "the listing at {url} links on past {limit} pages; the registry's pagination is \
         broken (a Link header that never ends)"
    )]
    TooManyPages {
        /// The last page read.
        url: String,
        /// The limit.
        limit: usize,
    },

    // Integrity.
    /// Content does not hash to the digest it was fetched or pushed under.
    #[error("content from {source_name} hashes to {actual}, expected {expected}")]
    DigestMismatch {
        /// Where the content came from.
        source_name: String,
        /// The digest it should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// Content is not the size its descriptor claims.
    #[error("content from {source_name} is {actual} bytes, its descriptor says {expected}")]
    SizeMismatch {
        /// Where the content came from.
        source_name: String,
        /// Size in the descriptor.
        expected: u64,
        /// Size received.
        actual: u64,
    },
    /// Manifest bytes that are not a manifest.
    #[error("invalid manifest {digest}")]
    Manifest {
        /// Its digest.
        digest: Digest,
        /// Why.
        #[source]
        source: ManifestError,
    },
    /// JSON from a registry or layout that does not have the expected shape.
    #[error("{what} is not valid JSON of the expected shape")]
    Json {
        /// What was being parsed.
        what: String,
        /// Why.
        #[source]
        source: serde_json::Error,
    },

    // Credentials.
    /// The registry wants credentials and none we tried were accepted.
    #[error(
        "{registry} answered 401 Unauthorized; tried {tried}; run `hallmark login {registry}` \
         or pass --username/--password"
    )]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The credentials tried, with where they came from.
        tried: String,
    },
    /// The token server refused or answered nonsense.
    #[error("token server {realm} refused a token for {scope} ({status}); tried {tried}")]
    Token {
        /// The realm URL.
        realm: String,
        /// Scope asked for.
        scope: String,
        /// HTTP status.
        status: u16,
        /// The credentials tried.
        tried: String,
    },
    /// The token server answered 200 without a usable token.
    #[error("token server {realm} answered without a usable token")]
    TokenAnswer {
        /// The realm URL.
        realm: String,
    },
    /// A `WWW-Authenticate` challenge we cannot answer.
    #[error("{registry} asks for unsupported authentication: {challenge}")]
    UnsupportedChallenge {
        /// The registry host.
        registry: String,
        /// The header value.
        challenge: String,
    },
    /// A credential helper failed.
    #[error("credential helper docker-credential-{helper} failed to {action} for {server}")]
    Helper {
        /// Helper name.
        helper: String,
        /// get, store or erase.
        action: &'static str,
        /// Server key.
        server: String,
        /// What it said or why it could not run.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A credentials file holds an `auth` value that is not base64 `user:password`.
    #[error("{path}: auth entry for {server} is not base64 of user:password")]
    BadAuthEntry {
        /// The file.
        path: PathBuf,
        /// The server key.
        server: String,
    },

    // Local files.
    /// Reading or writing a local file failed.
    #[error("{action} {path}")]
    Io {
        /// What was being done, e.g. "cannot write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A directory is not an OCI image layout.
    #[error("{path} is not an OCI image layout (no oci-layout file with version 1.0.0)")]
    NotALayout {
        /// The directory.
        path: PathBuf,
    },
    /// A file name from an annotation that would escape the output directory.
    #[error("refusing to write layer titled '{title}': not a plain file name")]
    UnsafeTitle {
        /// The title annotation.
        title: String,
    },
    /// A registry host or `Location` that does not make a URL.
    #[error("cannot form a URL from '{input}'")]
    Url {
        /// What was joined or parsed.
        input: String,
    },
}

impl Error {
    /// Wraps an I/O error with what was being done to which file.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io {
            action,
            path,
            source,
        }
    }
}

/// Result with the client's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
