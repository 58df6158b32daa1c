//! Registry errors: the distribution spec's error codes, each declared once with its HTTP
//! status, and the JSON body every 4xx carries (spec section "Error Codes").

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hallmark_storage::StorageError;

macro_rules! error_codes {
    ($($variant:ident => $code:literal, $status:ident, $meaning:literal;)*) => {
        /// An error code from the distribution spec.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $(#[doc = $meaning] $variant,)*
        }

        impl ErrorCode {
            /// The code as it appears in the JSON body.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// What the code means, as the spec words it.
            pub fn meaning(self) -> &'static str {
                match self { $(ErrorCode::$variant => $meaning,)* }
            }

            /// The HTTP status the code is normally sent with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }
        }
    };
}

error_codes! {
    BlobUnknown => "BLOB_UNKNOWN", NOT_FOUND, "blob unknown to registry";
    BlobUploadInvalid => "BLOB_UPLOAD_INVALID", BAD_REQUEST, "blob upload invalid";
    BlobUploadUnknown => "BLOB_UPLOAD_UNKNOWN", NOT_FOUND, "blob upload unknown to registry";
    DigestInvalid => "DIGEST_INVALID", BAD_REQUEST, "provided digest did not match content";
    ManifestBlobUnknown => "MANIFEST_BLOB_UNKNOWN", BAD_REQUEST,
        "manifest references a manifest or blob unknown to registry";
    ManifestInvalid => "MANIFEST_INVALID", BAD_REQUEST, "manifest invalid";
    ManifestUnknown => "MANIFEST_UNKNOWN", NOT_FOUND, "manifest unknown to registry";
    NameInvalid => "NAME_INVALID", BAD_REQUEST, "invalid repository name";
    NameUnknown => "NAME_UNKNOWN", NOT_FOUND, "repository name not known to registry";
    SizeInvalid => "SIZE_INVALID", BAD_REQUEST, "provided length did not match content length";
    Unauthorized => "UNAUTHORIZED", UNAUTHORIZED, "authentication required";
    Denied => "DENIED", FORBIDDEN, "requested access to the resource is denied";
    Unsupported => "UNSUPPORTED", METHOD_NOT_ALLOWED, "the operation is unsupported";
    TooManyRequests => "TOOMANYREQUESTS", TOO_MANY_REQUESTS, "too many requests";
    Unknown => "UNKNOWN", INTERNAL_SERVER_ERROR, "unknown error";
}

/// An error answered to a client.
#[derive(Debug)]
pub struct RegistryError {
    code: ErrorCode,
    status: StatusCode,
    message: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    /// The full cause, logged for server errors.
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl RegistryError {
    /// An error with the code's usual status.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> RegistryError {
        RegistryError {
            code,
            status: code.status(),
            message: message.into(),
            headers: Vec::new(),
            source: None,
        }
    }

    /// Overrides the status, where the spec asks for another one (413, 416).
    pub fn with_status(mut self, status: StatusCode) -> RegistryError {
        self.status = status;
        self
    }

    /// Adds a response header.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> RegistryError {
        self.headers.push((name, value));
        self
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<StorageError> for RegistryError {
    fn from(e: StorageError) -> RegistryError {
        let message = e.to_string();
        match e {
            StorageError::UploadUnknown => {
                RegistryError::new(ErrorCode::BlobUploadUnknown, message)
            }
            StorageError::RangeMismatch { size, .. } => {
                let end = size.saturating_sub(1);
                RegistryError::new(ErrorCode::BlobUploadInvalid, message)
                    .with_status(StatusCode::RANGE_NOT_SATISFIABLE)
                    .with_header(
                        axum::http::header::RANGE,
                        HeaderValue::from_str(&format!("0-{end}"))
                            .unwrap_or(HeaderValue::from_static("0-0")),
                    )
            }
            StorageError::LengthMismatch { .. } | StorageError::Body(_) => {
                RegistryError::new(ErrorCode::BlobUploadInvalid, message)
            }
            StorageError::DigestMismatch { .. } => {
                RegistryError::new(ErrorCode::DigestInvalid, message)
            }
            StorageError::Missing(_) | StorageError::Corrupt { .. } | StorageError::Io { .. } => {
                RegistryError {
                    source: Some(Box::new(e)),
                    ..RegistryError::new(ErrorCode::Unknown, "internal storage error")
                }
            }
        }
    }
}

/// Writes an error and its causes on one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        out.push_str(": ");
        out.push_str(&s.to_string());
        cur = s.source();
    }
    out
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        // The one place a failed request is logged.
        if self.status.is_server_error() {
            let cause = self.source.as_deref().map(|e| chain(e)).unwrap_or_default();
            tracing::error!(code = self.code.as_str(), cause, "{}", self.message);
        } else {
            tracing::debug!(
                code = self.code.as_str(),
                status = self.status.as_u16(),
                "{}",
                self.message
            );
        }
        let body = serde_json::json!({
            "errors": [{
                "code": self.code.as_str(),
                "message": self.message,
                "detail": self.code.meaning(),
            }]
        });
        let mut resp = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            resp.headers_mut().append(name, value);
        }
        resp
    }
}
