//! Segment's HTTP tracking API at Segment's own paths from the server's root
//! (`/v1/identify`, `/v1/track`, `/v1/page`, `/v1/screen`, `/v1/group`,
//! `/v1/alias`, `/v1/batch`), so Segment's libraries given this server as
//! their host work unchanged. The write key is the HTTP Basic user name (an
//! empty password), or `writeKey` in the body.

use std::io::Read as _;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use kiln_app::profiles::{RequestError, TrackError, Tracked};
use kiln_domain::CallType;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, Problem};

/// Most bytes a gzipped body may inflate to.
const MAX_INFLATED: u64 = 1 << 20;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(batch))
        .routes(routes!(identify))
        .routes(routes!(track))
        .routes(routes!(page))
        .routes(routes!(screen))
        .routes(routes!(group))
        .routes(routes!(alias))
}

/// The write key of `Authorization: Basic base64(key:)`.
fn basic_user(headers: &HeaderMap) -> Option<String> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v
        .strip_prefix("Basic ")
        .or_else(|| v.strip_prefix("basic "))?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    Some(text.split(':').next().unwrap_or_default().to_string())
}

/// The body, inflated when it came gzipped.
fn body_of(headers: &HeaderMap, body: &Bytes) -> Result<Vec<u8>, ApiError> {
    let gzipped = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    if !gzipped {
        return Ok(body.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&body[..])
        .take(MAX_INFLATED + 1)
        .read_to_end(&mut out)
        .map_err(|e| ApiError::BadRequest {
            detail: format!("the body is not gzip: {e}"),
            errors: Vec::new(),
        })?;
    if out.len() as u64 > MAX_INFLATED {
        return Err(ApiError::TooLarge);
    }
    Ok(out)
}

async fn call(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
    kind: Option<CallType>,
) -> Response {
    let result = match body_of(headers, body) {
        Ok(bytes) => state
            .app
            .track(basic_user(headers).as_deref(), kind, &bytes)
            .await
            .map_err(|e| match e {
                TrackError::App(e) => ApiError::App(e),
                TrackError::Request(RequestError::TooLarge(_)) => ApiError::TooLarge,
                TrackError::Request(RequestError::Malformed(m)) => ApiError::BadRequest {
                    detail: m.clone(),
                    errors: vec![kiln_app::FieldError::new("body", m)],
                },
            }),
        Err(e) => Err(e),
    };
    match result {
        Ok(tracked) => (StatusCode::OK, Json(tracked)).into_response(),
        Err(e) => {
            let mut r = e.into_response();
            if r.status() == StatusCode::UNAUTHORIZED {
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"write key\""),
                );
            }
            r
        }
    }
}

/// Many calls at once, each with its `type`: Segment's libraries send this.
/// Up to 500 KB, each call up to 32 KB; a bad call is refused by its index
/// in `rejected` and the others are kept. `messageId` deduplicates.
#[utoipa::path(post, path = "/v1/batch", tag = "tracking",
    request_body(content = Object, description = "`{\"batch\": [calls], \"sentAt\": ..., \"writeKey\"?: ...}`"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 413, body = Problem)))]
async fn batch(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, None).await
}

/// Who someone is: `userId` and/or `anonymousId`, and `traits` (an `email`,
/// a `phone` and a `member_card` among them identify the person).
#[utoipa::path(post, path = "/v1/identify", tag = "tracking",
    request_body(content = Object, description = "a Segment identify call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn identify(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Identify)).await
}

/// Something someone did: `event` and its `properties`.
#[utoipa::path(post, path = "/v1/track", tag = "tracking",
    request_body(content = Object, description = "a Segment track call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn track(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Track)).await
}

/// A page someone saw.
#[utoipa::path(post, path = "/v1/page", tag = "tracking",
    request_body(content = Object, description = "a Segment page call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn page(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Page)).await
}

/// A screen of an app someone saw.
#[utoipa::path(post, path = "/v1/screen", tag = "tracking",
    request_body(content = Object, description = "a Segment screen call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn screen(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Screen)).await
}

/// The company or group someone belongs to (`groupId`).
#[utoipa::path(post, path = "/v1/group", tag = "tracking",
    request_body(content = Object, description = "a Segment group call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn group(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Group)).await
}

/// Two ids of one person: `previousId` (an anonymous id) and `userId`.
#[utoipa::path(post, path = "/v1/alias", tag = "tracking",
    request_body(content = Object, description = "a Segment alias call"),
    security(("write_key" = [])),
    responses((status = 200, body = Tracked), (status = 400, body = Problem), (status = 401, body = Problem), (status = 413, body = Problem)))]
async fn alias(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    call(&state, &headers, &body, Some(CallType::Alias)).await
}
