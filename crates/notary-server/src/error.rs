//! The error answers of the Notary v1 server API (`server/errors/errors.go`): each code
//! declared once with its status and message; the body is
//! `{"errors":[{"code","message","detail"}]}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

macro_rules! codes {
    ($($variant:ident => $code:literal, $status:ident, $message:literal;)*) => {
        /// An error code of the Notary server API.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $(
                #[doc = $message]
                $variant,
            )*
        }

        impl ErrorCode {
            /// The code as sent (`METADATA_NOT_FOUND`).
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)* }
            }

            /// The HTTP status it is sent with.
            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status,)* }
            }

            /// The fixed message that goes with the code.
            pub fn message(self) -> &'static str {
                match self { $(ErrorCode::$variant => $message,)* }
            }
        }
    };
}

codes! {
    MetadataNotFound => "METADATA_NOT_FOUND", NOT_FOUND,
        "You have requested metadata that does not exist.";
    Version => "VERSION", BAD_REQUEST,
        "A newer version of metadata is already available.";
    InvalidRole => "INVALID_ROLE", BAD_REQUEST,
        "The role you are attempting to operate on is invalid.";
    NoFilename => "NO_FILENAME", BAD_REQUEST,
        "No file name was provided to identify the role in this request.";
    MalformedUpload => "MALFORMED_UPLOAD", BAD_REQUEST,
        "The body of your request is malformed.";
    InvalidUpdate => "INVALID_UPDATE", BAD_REQUEST,
        "Update sent by the client is invalid.";
    InvalidGun => "INVALID_GUN", BAD_REQUEST,
        "The provided Globally Unique Name is invalid.";
    InvalidParameters => "INVALID_PARAMETERS", BAD_REQUEST,
        "The provided parameters are invalid.";
    Unknown => "UNKNOWN", INTERNAL_SERVER_ERROR,
        "Unknown error";
}

/// Which check an `INVALID_UPDATE` failed, named as Notary's validation errors are
/// (`ErrBadRoot`, `ErrBadTargets`, ...), so that clients see the detail they know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateProblem {
    /// The root (or its absence).
    BadRoot,
    /// The targets role or a delegation.
    BadTargets,
    /// The snapshot.
    BadSnapshot,
    /// The roles do not fit together (a server key the root does not name).
    BadHierarchy,
}

impl UpdateProblem {
    fn name(self) -> &'static str {
        match self {
            UpdateProblem::BadRoot => "ErrBadRoot",
            UpdateProblem::BadTargets => "ErrBadTargets",
            UpdateProblem::BadSnapshot => "ErrBadSnapshot",
            UpdateProblem::BadHierarchy => "ErrBadHierarchy",
        }
    }
}

/// An error answer: a code and its detail.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct NotaryError {
    code: ErrorCode,
    detail: Value,
}

impl NotaryError {
    /// `code` with a free-form reason as the detail.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        NotaryError {
            code,
            detail: Value::String(reason.into()),
        }
    }

    /// `code` with an empty detail, as notary-server sends `METADATA_NOT_FOUND`.
    pub fn bare(code: ErrorCode) -> Self {
        NotaryError {
            code,
            detail: json!({}),
        }
    }

    /// `METADATA_NOT_FOUND`.
    pub fn not_found() -> Self {
        Self::bare(ErrorCode::MetadataNotFound)
    }

    /// `INVALID_UPDATE` with Notary's `{"Name":"ErrBad...","Error":{"Msg":...}}` detail.
    pub fn invalid_update(problem: UpdateProblem, reason: impl Into<String>) -> Self {
        NotaryError {
            code: ErrorCode::InvalidUpdate,
            detail: json!({"Name": problem.name(), "Error": {"Msg": reason.into()}}),
        }
    }

    /// `UNKNOWN`, for failures of the server itself (storage, keys).
    pub fn internal(reason: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::Unknown, reason.to_string())
    }

    /// The code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The detail.
    pub fn detail(&self) -> &Value {
        &self.detail
    }
}

impl IntoResponse for NotaryError {
    fn into_response(self) -> Response {
        if self.code.status().is_server_error() {
            tracing::error!(code = self.code.as_str(), detail = %self.detail, "request failed");
        } else {
            tracing::info!(code = self.code.as_str(), detail = %self.detail, "request refused");
        }
        let body = json!({"errors": [{
            "code": self.code.as_str(),
            "message": self.code.message(),
            "detail": self.detail,
        }]});
        (self.code.status(), axum::Json(body)).into_response()
    }
}
