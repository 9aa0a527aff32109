//! Forwarding a brand's requests to the server that plans it.
//!
//! Where several servers share one PostgreSQL database, one of them at a time
//! holds a brand's lease and plans its orders (see `kiln_store::lease`). Any
//! server takes any request: when the use case finds the brand is served
//! elsewhere ([`kiln_app::Error::Elsewhere`]), its error response carries the
//! holder's address ([`ForwardTo`]), and this layer sends the same request
//! there and answers with what the holder answered. The request body is kept
//! for that, so nothing is read twice from the client.
//!
//! A request is forwarded once: a forwarded request that finds the brand
//! elsewhere again (it changed hands meanwhile), or a holder that does not
//! answer (it died, and its lease has not expired yet), is answered with the
//! 503 problem and `Retry-After`: nothing was done, and the client retries.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Where the brand of a refused request is served: set on the error's
/// response, read by [`forward`].
#[derive(Debug, Clone)]
pub(crate) struct ForwardTo(pub String);

/// Marks a request one server forwarded to another.
const FORWARDED: HeaderName = HeaderName::from_static("x-kiln-forwarded");

/// The largest body kept for forwarding: the largest any route takes (a
/// bulk CSV upload).
const MAX_BODY: usize = 64 << 20;

/// Headers of one hop only (RFC 9110, section 7.6.1), never passed on; the
/// length is set again for the body as sent.
const HOP_BY_HOP: [HeaderName; 6] = [
    header::CONNECTION,
    HeaderName::from_static("keep-alive"),
    header::TE,
    header::TRAILER,
    header::TRANSFER_ENCODING,
    header::UPGRADE,
];

/// The layer: runs the request here, and forwards it where its answer says
/// the brand is served.
pub(crate) async fn forward(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if !state.app.shares_database() {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return ApiError::TooLarge.into_response();
    };
    let (method, uri, headers) = (
        parts.method.clone(),
        parts.uri.clone(),
        parts.headers.clone(),
    );
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    let Some(ForwardTo(address)) = response.extensions().get::<ForwardTo>().cloned() else {
        return response;
    };
    if headers.contains_key(&FORWARDED) {
        return response;
    }
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let mut sent = HeaderMap::new();
    for (name, value) in &headers {
        if !HOP_BY_HOP.contains(name) && name != header::HOST && name != header::CONTENT_LENGTH {
            sent.append(name.clone(), value.clone());
        }
    }
    sent.insert(FORWARDED, axum::http::HeaderValue::from_static("1"));
    let answer = state
        .forwarder
        .request(method, format!("{address}{path}"))
        .headers(sent)
        .body(bytes)
        .send()
        .await;
    let answer = match answer {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(error = %e, %address, "the brand's server does not answer; refused with 503");
            return response;
        }
    };
    let status = answer.status();
    let mut received = HeaderMap::new();
    for (name, value) in answer.headers() {
        if !HOP_BY_HOP.contains(name) && name != header::CONTENT_LENGTH {
            received.append(name.clone(), value.clone());
        }
    }
    match answer.bytes().await {
        Ok(body) => {
            let mut out = (status, body).into_response();
            *out.headers_mut() = received;
            out
        }
        Err(e) => {
            // The holder may have acted: the client's retry, with its
            // Idempotency-Key, tells.
            tracing::warn!(error = %e, %address, "the brand's server broke off its answer");
            response
        }
    }
}
