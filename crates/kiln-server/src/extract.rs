//! A JSON body extractor whose errors name the offending field's path.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};

use kiln_app::FieldError;

use crate::error::ApiError;

/// Like `axum::Json`, but a body that does not deserialize gives a
/// problem document pointing at the field (`/lines/0/quantity`).
pub struct Body<T>(pub T);

impl<S, T> FromRequest<S> for Body<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        json_declared(req.headers())?;
        let bytes = Bytes::from_request(req, state).await.map_err(unread)?;
        parse_json(&bytes).map(Body)
    }
}

/// Refuses a body not declared as JSON (`application/json`, or a
/// `+json` type), so that no plain HTML form on another site can send one:
/// browsers send only form and text types across sites without asking.
pub fn json_declared(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let (essence, declared) = content_type(headers);
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::NotJson(declared))
    }
}

/// The request's media type without parameters, lowercase (`text/csv`),
/// and the header as sent, for a message (`none`, or quoted and cut).
pub fn content_type(headers: &axum::http::HeaderMap) -> (String, String) {
    let declared = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = declared
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let shown = if declared.is_empty() {
        "none".to_string()
    } else {
        format!("`{}`", declared.chars().take(80).collect::<String>())
    };
    (essence, shown)
}

/// The `Idempotency-Key` header, checked (1 to 255 visible characters);
/// none if not sent.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let text = headers
        .get("idempotency-key")
        .map(|v| v.to_str())
        .transpose()
        .map_err(|_| {
            ApiError::invalid(
                "Idempotency-Key",
                "the Idempotency-Key must be visible ASCII",
            )
        })?;
    Ok(kiln_app::orders::idempotency_key(text)?)
}

/// A body that could not be read at all.
fn unread(e: axum::extract::rejection::BytesRejection) -> ApiError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge
    } else {
        ApiError::BadRequest {
            detail: e.body_text(),
            errors: Vec::new(),
        }
    }
}

/// A JSON body that may be left out: an empty body is `T::default()`
/// (`POST .../complete` with no body completes with no scrap).
pub struct OptionalBody<T>(pub T);

impl<S, T> FromRequest<S> for OptionalBody<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned + Default,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let declared = json_declared(req.headers());
        let bytes = Bytes::from_request(req, state).await.map_err(unread)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalBody(T::default()));
        }
        declared?;
        parse_json(&bytes).map(OptionalBody)
    }
}

pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut path = json_pointer(e.path());
        let message = e.inner().to_string();
        // serde reports a missing field at its parent; point at the field itself.
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
        {
            path.push('/');
            path.push_str(&escape(field));
        }
        ApiError::BadRequest {
            detail: format!("the body is not valid: {message}"),
            errors: vec![FieldError::new(path, message)],
        }
    })
}

fn json_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

pub use kiln_app::orders::escape;

/// Like `axum::extract::Query`, but parameters that do not parse give a
/// problem document naming them, not a plain-text refusal.
pub struct Query<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|e| {
                let text = e.body_text();
                let detail = text
                    .strip_prefix("Failed to deserialize query string: ")
                    .unwrap_or(&text);
                // serde_urlencoded names the parameter first: `weeks: invalid digit`.
                let field = detail.split(':').next().unwrap_or("query").trim();
                let field = if field.contains(' ') { "query" } else { field };
                ApiError::App(kiln_app::Error::invalid(field, detail.to_string()))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Order {
        lines: Vec<Line>,
    }

    fn path_of(body: &str) -> String {
        match parse_json::<Order>(body.as_bytes()) {
            Err(ApiError::BadRequest { errors, .. }) => errors[0].path.clone(),
            other => panic!("expected a bad request, got {other:?}"),
        }
    }

    #[test]
    fn errors_point_at_the_field() {
        assert_eq!(
            path_of(r#"{"lines":[{"quantity":"x"}]}"#),
            "/lines/0/quantity"
        );
        assert_eq!(path_of(r#"{"lines":[{}]}"#), "/lines/0/quantity");
        assert_eq!(path_of(r#"{}"#), "/lines");
    }
}
