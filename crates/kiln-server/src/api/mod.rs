//! Routes, grouped by who uses them, and the OpenAPI document built from
//! their annotations.

pub mod bodies;
pub mod bulk;
pub mod catalog;
pub mod demand;
pub mod factory;
pub mod floor;
pub mod orders;
pub mod passports;
pub mod planning;
pub mod platform;
pub mod products;
pub mod profiles;
pub mod stores;
pub mod tracking;
pub mod webhooks;

use std::sync::{Arc, OnceLock};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiError, ApiResult};

#[derive(OpenApi)]
#[openapi(
    info(title = "Kiln", description = "Made-to-order manufacturing: configure, order, plan, make, ship."),
    modifiers(&BrandKey),
    tags((name = "catalog"), (name = "orders"), (name = "factory"), (name = "planning"), (name = "demand"), (name = "shipping"), (name = "keys"), (name = "webhooks"), (name = "platform"), (name = "passports"), (name = "profiles"), (name = "stores"), (name = "tracking"))
)]
struct ApiDoc;

struct BrandKey;

impl Modify for BrandKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        // A brand's key; each route lists the scope it needs (`admin` holds them all).
        components.add_security_scheme(
            "brand_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A brand's API key. Scopes: catalog:write, orders:read, orders:write, \
                         orders:online (a publishable key: online orders only), \
                         operations:write (start and complete operations only), \
                         factory:read, factory:write, planning:read, planning:write, \
                         webhooks:write, profiles:read, profiles:write, admin (all of them)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "write_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Basic)
                    .description(Some(
                        "A write key of the tracking API as the HTTP Basic user name, with an \
                         empty password (or `writeKey` in the body), as Segment's libraries send it",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("A platform admin key (`kiln admin key`)"))
                    .build(),
            ),
        );
    }
}

/// The generated document, kept for the route that serves it.
static OPENAPI: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();

pub fn router(state: Arc<AppState>) -> Router {
    let v1 = OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .merge(products::routes())
        .merge(orders::routes())
        .merge(bulk::routes())
        .merge(factory::routes())
        .merge(floor::routes())
        .merge(planning::routes())
        .merge(demand::routes())
        .merge(platform::routes())
        .merge(catalog::routes())
        .merge(webhooks::routes())
        .merge(passports::routes())
        .merge(profiles::routes())
        .merge(stores::routes());
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .merge(tracking::routes())
        .nest("/api/v1", v1)
        .split_for_parts();
    let _ = OPENAPI.set(openapi);
    // Problem documents for the API only; the web UI answers with pages.
    api.layer(middleware::from_fn(problems))
        .merge(crate::ui::routes().layer(middleware::from_fn_with_state(
            state.clone(),
            crate::ui::gate,
        )))
        .fallback(|| async { ApiError::not_found("no such route") })
        .layer(middleware::from_fn(track))
        .layer(middleware::from_fn(crate::guard::guard))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::forward::forward,
        ))
        .with_state(state)
}

/// This document: every route, generated from the handlers.
#[utoipa::path(get, path = "/openapi.json", tag = "platform",
    responses((status = 200, description = "OpenAPI 3.1 document", content_type = "application/json", body = Object)))]
async fn openapi_json() -> Response {
    match OPENAPI.get() {
        Some(doc) => Json(doc).into_response(),
        None => ApiError::App(kiln_app::Error::internal(
            "the OpenAPI document is not built yet",
        ))
        .into_response(),
    }
}

/// axum's own rejections (a query string or a path parameter that does not
/// parse, a method a route does not take) are plain text; they become
/// problem documents like every other error, naming the parameter at fault.
async fn problems(req: Request, next: Next) -> Response {
    use axum::http::{StatusCode, header};
    let route = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    let status = response.status();
    let problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if problem || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let allow = response.headers().get(header::ALLOW).cloned();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&body).trim().to_string();
    let mut out = match status {
        StatusCode::BAD_REQUEST => {
            let field = rejected_field(&text, route.as_ref().map(MatchedPath::as_str));
            let errors = field
                .map(|f| vec![kiln_app::FieldError::new(f, text.clone())])
                .unwrap_or_default();
            ApiError::BadRequest {
                detail: text,
                errors,
            }
            .into_response()
        }
        StatusCode::NOT_FOUND => ApiError::not_found(text).into_response(),
        _ => {
            let title = status.canonical_reason().unwrap_or("Error").to_string();
            let problem = crate::error::Problem {
                kind: format!("/problems/{}", status.as_u16()),
                detail: if text.is_empty() { title.clone() } else { text },
                title,
                status: status.as_u16(),
                errors: Vec::new(),
            };
            let mut r = (status, Json(problem)).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/problem+json"),
            );
            r
        }
    };
    if let Some(allow) = allow {
        out.headers_mut().insert(header::ALLOW, allow);
    }
    out
}

/// The query or path parameter an axum rejection message is about.
fn rejected_field(text: &str, route: Option<&str>) -> Option<String> {
    if let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") {
        let (field, _) = rest.split_once(": ")?;
        return (!field.contains(' ')).then(|| field.to_string());
    }
    // `Invalid URL: Cannot parse value at index 2 with value ...`
    let index: usize = text
        .split_once("at index ")?
        .1
        .split(' ')
        .next()?
        .parse()
        .ok()?;
    route?
        .split('/')
        .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
        .nth(index)
        .map(str::to_string)
}

/// Counts requests and their latency per route, for `/metrics`.
async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    let labels = [("method", method), ("route", route), ("status", status)];
    metrics::counter!("kiln_http_requests_total", &labels).increment(1);
    metrics::histogram!("kiln_http_request_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// Health: the server runs and its database answers.
#[utoipa::path(get, path = "/healthz", tag = "platform",
    responses((status = 200, description = "healthy", body = String), (status = 503, description = "the database does not answer")))]
async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<&'static str> {
    state.app.ping().await?;
    Ok("ok")
}

/// Prometheus metrics.
#[utoipa::path(get, path = "/metrics", tag = "platform",
    responses((status = 200, description = "Prometheus text format", body = String)))]
async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        state.metrics.render(),
    )
}
