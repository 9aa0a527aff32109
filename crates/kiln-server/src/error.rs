//! One error type for the whole API, rendered as RFC 9457
//! `application/problem+json`: the application's errors, and what only
//! HTTP can get wrong (a body that does not read, one too large). Each
//! offending field is named by its JSON path; a model file's errors by file,
//! line and column. Server faults are logged with their source chain.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiln_app::{Error as AppError, FieldError, ModelError};
use serde::Serialize;
use utoipa::ToSchema;

/// One entry of a problem's `errors`: a field of the request (`path`), or a
/// place in a model file (`file`, `line`, `column`).
#[derive(Debug, Clone, Serialize, ToSchema, PartialEq, Eq)]
pub struct ProblemError {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    pub message: String,
}

impl From<FieldError> for ProblemError {
    fn from(e: FieldError) -> ProblemError {
        ProblemError {
            path: Some(e.path),
            file: None,
            line: None,
            column: None,
            message: e.message,
        }
    }
}

impl From<ModelError> for ProblemError {
    fn from(e: ModelError) -> ProblemError {
        ProblemError {
            path: None,
            file: Some(e.file),
            line: Some(e.line),
            column: Some(e.column),
            message: e.message,
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemError>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    App(#[from] AppError),
    /// The request cannot be read: bad JSON, a wrong type, a missing field.
    #[error("{detail}")]
    BadRequest {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error(
        "the request body is larger than this route accepts (2 MB for JSON; 64 MB for a bulk CSV, 8 MB on the storefront)"
    )]
    TooLarge,
    /// A body that is not declared as JSON (`Content-Type: application/json`).
    #[error("send the body as JSON, with `Content-Type: application/json` (this one was {0})")]
    NotJson(String),
    /// An upload that is not declared as CSV (`Content-Type: text/csv`).
    #[error("send the file as CSV, with `Content-Type: text/csv` (this one was {0})")]
    NotCsv(String),
}

impl ApiError {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::App(AppError::invalid(path, message))
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::App(AppError::NotFound(message.into()))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotJson(_) | ApiError::NotCsv(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::App(e) => match e {
                AppError::Invalid { .. } | AppError::InvalidModel { .. } => {
                    StatusCode::UNPROCESSABLE_ENTITY
                }
                AppError::Unauthorized => StatusCode::UNAUTHORIZED,
                AppError::MissingScope(_) | AppError::Forbidden(_) => StatusCode::FORBIDDEN,
                AppError::NotFound(_) => StatusCode::NOT_FOUND,
                AppError::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
                AppError::Conflict(_) => StatusCode::CONFLICT,
                AppError::Unavailable { .. } | AppError::Elsewhere { .. } => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                AppError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            },
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest { .. } => ("bad-request", "The request could not be read"),
            ApiError::TooLarge => ("too-large", "The request is too large"),
            ApiError::NotJson(_) => ("not-json", "The body must be JSON"),
            ApiError::NotCsv(_) => ("not-csv", "The body must be CSV"),
            ApiError::App(e) => match e {
                AppError::Invalid { .. } => ("invalid", "The request breaks a rule"),
                AppError::InvalidModel { .. } => ("invalid-model", "The model files have errors"),
                AppError::Unauthorized => ("unauthorized", "An API key is required"),
                AppError::MissingScope(_) => ("missing-scope", "The key lacks a scope"),
                AppError::Forbidden(_) => ("forbidden", "Forbidden"),
                AppError::NotFound(_) => ("not-found", "Not found"),
                AppError::RateLimited(_) => ("rate-limited", "Too many attempts"),
                AppError::Conflict(_) => ("conflict", "Conflict"),
                AppError::Unavailable { .. } => ("unavailable", "Service unavailable"),
                AppError::Elsewhere { .. } => ("elsewhere", "Served by another server"),
                AppError::Internal { .. } => ("internal", "Internal server error"),
            },
        }
    }

    /// Where the request's brand is served, when another server plans it.
    pub(crate) fn forward_to(&self) -> Option<crate::forward::ForwardTo> {
        match self {
            ApiError::App(AppError::Elsewhere {
                address: Some(address),
            }) => Some(crate::forward::ForwardTo(address.clone())),
            _ => None,
        }
    }

    /// Logs a server fault with its whole source chain.
    pub fn log(&self) {
        if let ApiError::App(e) = self
            && e.is_server_fault()
        {
            tracing::error!(error = %e.chain(), "request failed");
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let forward_to = self.forward_to();
        let status = self.status();
        let (slug, title) = self.slug_and_title();
        let detail = match &self {
            ApiError::App(AppError::Internal { .. }) => {
                "internal error; it is logged on the server".to_string()
            }
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::BadRequest { errors, .. }
            | ApiError::App(AppError::Invalid { errors, .. }) => {
                errors.into_iter().map(ProblemError::from).collect()
            }
            ApiError::App(AppError::InvalidModel { errors, .. }) => {
                errors.into_iter().map(ProblemError::from).collect()
            }
            _ => Vec::new(),
        };
        let problem = Problem {
            kind: format!("/problems/{slug}"),
            title: title.to_string(),
            status: status.as_u16(),
            detail,
            errors,
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("900"));
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Some(to) = forward_to {
            response.extensions_mut().insert(to);
        }
        response
    }
}

impl From<kiln_store::StoreError> for ApiError {
    fn from(e: kiln_store::StoreError) -> ApiError {
        ApiError::App(e.into())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
