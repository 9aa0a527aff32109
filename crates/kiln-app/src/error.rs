//! One error type for every use case. The shell maps it to its medium: an
//! RFC 9457 problem for the API, a page for the web UI, a message and an exit
//! code for the CLI. Errors keep their source, and are logged with its chain.

use kiln_domain::Scope;
use serde::Serialize;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One offending field of a request: `path` is a JSON pointer into it
/// (`/lines/0/quantity`), or a header or query parameter's name.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct FieldError {
    pub path: String,
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// One error of a model file, as `kiln model check` prints it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema, PartialEq, Eq)]
pub struct ModelError {
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request reads fine but breaks the domain's rules; every field at fault.
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    /// Model files with errors: each at its file, line and column.
    #[error("{detail}")]
    InvalidModel {
        detail: String,
        errors: Vec<ModelError>,
    },
    #[error("an API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    /// The key is valid but lacks the scope the action needs.
    #[error("this key lacks the scope `{0}`")]
    MissingScope(Scope),
    /// Only a platform admin key may do this.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// Too many attempts (sign-ins) in a short time: refused for a while.
    #[error("{0}")]
    RateLimited(String),
    /// The request clashes with the state: start an operation twice, ship an
    /// order not made, a taken slug.
    #[error("{0}")]
    Conflict(String),
    /// Something the request needs is down (the database, the order writer):
    /// it was not done, and may succeed later.
    #[error("{what} is unavailable; nothing was changed, and it is safe to retry")]
    Unavailable {
        what: &'static str,
        #[source]
        source: Option<BoxError>,
    },
    /// Another server holds the brand's lease and plans it (see
    /// `kiln_store::lease`): the request belongs there. The HTTP shell
    /// forwards it to `address`; where that is unknown or does not answer,
    /// it is refused as unavailable, with nothing done.
    #[error("another server serves this brand now; nothing was changed, and it is safe to retry")]
    Elsewhere { address: Option<String> },
    /// A bug or corrupt data: logged with its source, shown without it.
    #[error("internal error: {context}")]
    Internal {
        context: String,
        #[source]
        source: Option<BoxError>,
    },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn invalid(path: impl Into<String>, message: impl Into<String>) -> Error {
        let message = message.into();
        Error::Invalid {
            detail: message.clone(),
            errors: vec![FieldError::new(path, message)],
        }
    }

    pub fn invalid_fields(errors: Vec<FieldError>) -> Error {
        let detail = match errors.as_slice() {
            [one] => one.message.clone(),
            many => format!("{} fields are invalid", many.len()),
        };
        Error::Invalid { detail, errors }
    }

    pub fn internal(context: impl Into<String>) -> Error {
        Error::Internal {
            context: context.into(),
            source: None,
        }
    }

    pub fn internal_from(context: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Internal {
            context: context.into(),
            source: Some(source.into()),
        }
    }

    /// The error and every source under it, for the log.
    pub fn chain(&self) -> String {
        let mut out = self.to_string();
        let mut source = std::error::Error::source(self);
        while let Some(s) = source {
            out.push_str(": ");
            out.push_str(&s.to_string());
            source = s.source();
        }
        out
    }

    /// Whether the server is at fault (logged as an error).
    pub fn is_server_fault(&self) -> bool {
        matches!(self, Error::Internal { .. } | Error::Unavailable { .. })
    }
}

impl From<crate::writer::WriteError> for Error {
    fn from(e: crate::writer::WriteError) -> Error {
        match e {
            crate::writer::WriteError::Store(e) => Error::from(e),
            crate::writer::WriteError::Stopped => Error::Unavailable {
                what: "the order writer",
                source: None,
            },
        }
    }
}

impl From<kiln_store::StoreError> for Error {
    fn from(e: kiln_store::StoreError) -> Error {
        use kiln_store::StoreError;
        match e {
            StoreError::NotFound => Error::NotFound("not found".into()),
            StoreError::Conflict(m) => Error::Conflict(m),
            StoreError::NotOwner => Error::Elsewhere { address: None },
            StoreError::Unavailable(_) => Error::Unavailable {
                what: "the database",
                source: Some(Box::new(e)),
            },
            StoreError::Busy(_) => Error::Unavailable {
                what: "the brand's records (another server is changing them)",
                source: Some(Box::new(e)),
            },
            other => Error::Internal {
                context: "the store failed".into(),
                source: Some(Box::new(other)),
            },
        }
    }
}

/// A store lookup that found nothing becomes a not-found naming it.
pub trait Found<T> {
    fn found(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> Found<T> for Result<Option<T>, kiln_store::StoreError> {
    fn found(self, what: impl FnOnce() -> String) -> Result<T> {
        self?.ok_or_else(|| Error::NotFound(what()))
    }
}

/// A store write whose target does not exist becomes a not-found naming it.
pub trait NamedNotFound<T> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> NamedNotFound<T> for Result<T, kiln_store::StoreError> {
    fn or_not_found(self, what: impl FnOnce() -> String) -> Result<T> {
        match self {
            Err(kiln_store::StoreError::NotFound) => Err(Error::NotFound(what())),
            other => Ok(other?),
        }
    }
}
