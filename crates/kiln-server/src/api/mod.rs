//! Routes, grouped by who uses them, and the OpenAPI document built from
//! their annotations.

pub mod factory;
pub mod orders;
pub mod products;

use std::sync::Arc;
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
    tags((name = "catalog"), (name = "orders"), (name = "factory"), (name = "shipping"), (name = "platform"))
)]
struct ApiDoc;

struct BrandKey;

impl Modify for BrandKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "brand_key",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn router(state: Arc<AppState>) -> Router {
    let v1 = OpenApiRouter::new()
        .merge(products::routes())
        .merge(orders::routes())
        .merge(factory::routes());
    let (router, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(metrics))
        .nest("/api/v1", v1)
        .split_for_parts();
    let openapi = Arc::new(openapi);
    router
        .route(
            "/api/v1/openapi.json",
            axum::routing::get(move || {
                let doc = openapi.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .layer(middleware::from_fn(track))
        .with_state(state)
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
    responses((status = 200, description = "healthy", body = String), (status = 500, description = "the database does not answer")))]
async fn healthz(State(state): State<Arc<AppState>>) -> ApiResult<&'static str> {
    state.store.ping().await?;
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
