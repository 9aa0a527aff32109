//! Webhooks: subscriptions, their delivery log, replays, and the brand's
//! events. Deliveries are signed as Standard Webhooks 1.0 says.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kiln_app::webhooks::{EndpointWithSecret, WebhookChange, WebhookInput};
use kiln_domain::{Delivery, DeliveryAttempt, DeliveryId, WebhookEndpoint, WebhookId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, WebhooksWrite};
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, OptionalBody};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(create_webhook, list_webhooks))
        .routes(routes!(get_webhook, update_webhook, delete_webhook))
        .routes(routes!(rotate_secret))
        .routes(routes!(replay))
        .routes(routes!(list_deliveries))
        .routes(routes!(list_attempts))
        .routes(routes!(list_events))
}

/// Subscribe a URL to event types. The answer holds the `whsec_` secret
/// every delivery is signed with. Private, link-local and loopback
/// addresses are refused unless the operator allows them.
#[utoipa::path(post, path = "/brands/{brand}/webhooks", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = WebhookInput,
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 201, body = EndpointWithSecret), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 409, body = Problem), (status = 422, body = Problem, description = "a URL refused, named at /url")))]
async fn create_webhook(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Body(req): Body<WebhookInput>,
) -> ApiResult<(StatusCode, Json<EndpointWithSecret>)> {
    let created = state
        .app
        .create_webhook(&auth.actor(), &auth.brand, req)
        .await?;
    Ok((StatusCode::CREATED, Json(created)))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookList {
    pub webhooks: Vec<WebhookEndpoint>,
}

/// The brand's webhook endpoints (never their secrets).
#[utoipa::path(get, path = "/brands/{brand}/webhooks", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = WebhookList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_webhooks(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
) -> ApiResult<Json<WebhookList>> {
    Ok(Json(WebhookList {
        webhooks: state.app.webhooks(&auth.brand).await?,
    }))
}

/// One webhook endpoint.
#[utoipa::path(get, path = "/brands/{brand}/webhooks/{webhook}", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id")),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = WebhookEndpoint), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_webhook(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let id = WebhookId::from(id);
    Ok(Json(state.app.webhook(&auth.brand, &id).await?))
}

/// Change a webhook's URL, events, description, or turn it on or off.
#[utoipa::path(patch, path = "/brands/{brand}/webhooks/{webhook}", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id")),
    request_body = WebhookChange,
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = WebhookEndpoint), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn update_webhook(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
    Body(req): Body<WebhookChange>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let id = WebhookId::from(id);
    Ok(Json(
        state
            .app
            .update_webhook(&auth.actor(), &auth.brand, &id, req)
            .await?,
    ))
}

/// Delete a webhook; its waiting deliveries go with it.
#[utoipa::path(delete, path = "/brands/{brand}/webhooks/{webhook}", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id")),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 204, description = "deleted"), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn delete_webhook(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let id = WebhookId::from(id);
    state
        .app
        .delete_webhook(&auth.actor(), &auth.brand, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SecretRotation {
    /// How long the old secret keeps signing beside the new one, in seconds
    /// (default a day, at most 30 days; 0 drops it now).
    pub overlap_seconds: Option<i64>,
}

/// Rotate the signing secret: the answer holds the new one; during the
/// overlap each delivery carries both signatures.
#[utoipa::path(post, path = "/brands/{brand}/webhooks/{webhook}/rotate-secret", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id")),
    request_body(content = Option<SecretRotation>),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = EndpointWithSecret), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn rotate_secret(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
    OptionalBody(req): OptionalBody<SecretRotation>,
) -> ApiResult<Json<EndpointWithSecret>> {
    let overlap = req
        .overlap_seconds
        .unwrap_or(kiln_app::keys::DEFAULT_OVERLAP_SECONDS);
    let id = WebhookId::from(id);
    Ok(Json(
        state
            .app
            .rotate_webhook_secret(&auth.actor(), &auth.brand, &id, overlap)
            .await?,
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    /// One delivery to send again; without it, every delivery whose last
    /// attempt failed, retries left or not.
    pub delivery: Option<DeliveryId>,
}

#[derive(Serialize, ToSchema)]
pub struct Replayed {
    /// Deliveries due now.
    pub deliveries: u64,
}

/// Send again now: one delivery, or every failed one.
#[utoipa::path(post, path = "/brands/{brand}/webhooks/{webhook}/replay", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id")),
    request_body(content = Option<ReplayRequest>),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 202, body = Replayed), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the endpoint is off")))]
async fn replay(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
    OptionalBody(req): OptionalBody<ReplayRequest>,
) -> ApiResult<(StatusCode, Json<Replayed>)> {
    let id = WebhookId::from(id);
    let deliveries = state
        .app
        .replay(&auth.actor(), &auth.brand, &id, req.delivery.as_ref())
        .await?;
    Ok((StatusCode::ACCEPTED, Json(Replayed { deliveries })))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Limit {
    /// At most this many, newest first (default 100, at most 500).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryList {
    pub deliveries: Vec<Delivery>,
}

/// The endpoint's delivery log, newest first.
#[utoipa::path(get, path = "/brands/{brand}/webhooks/{webhook}/deliveries", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id"), Limit),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = DeliveryList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_deliveries(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, id)): Path<(String, String)>,
    Query(q): Query<Limit>,
) -> ApiResult<Json<DeliveryList>> {
    let id = WebhookId::from(id);
    let deliveries = state
        .app
        .deliveries(&auth.brand, &id, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(DeliveryList { deliveries }))
}

#[derive(Serialize, ToSchema)]
pub struct AttemptList {
    pub attempts: Vec<DeliveryAttempt>,
}

/// Every attempt at one delivery: status, time, duration, the start of the answer.
#[utoipa::path(get, path = "/brands/{brand}/webhooks/{webhook}/deliveries/{delivery}/attempts", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), ("webhook" = String, Path, description = "webhook id"),
           ("delivery" = String, Path, description = "delivery id")),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = AttemptList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_attempts(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Path((_, _, delivery)): Path<(String, String, String)>,
) -> ApiResult<Json<AttemptList>> {
    let delivery = DeliveryId::from(delivery);
    let attempts = state.app.delivery_attempts(&auth.brand, &delivery).await?;
    Ok(Json(AttemptList { attempts }))
}

#[derive(Serialize, ToSchema)]
pub struct EventView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: kiln_domain::EventType,
    #[schema(value_type = String, format = DateTime)]
    pub timestamp: jiff::Timestamp,
    /// The object as the API returns it.
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    pub events: Vec<EventView>,
}

/// The brand's events, newest first: what webhooks deliver.
#[utoipa::path(get, path = "/brands/{brand}/events", tag = "webhooks",
    params(("brand" = String, Path, description = "brand slug"), Limit),
    security(("brand_key" = ["webhooks:write"])),
    responses((status = 200, body = EventList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_events(
    State(state): State<Arc<AppState>>,
    auth: Authorized<WebhooksWrite>,
    Query(q): Query<Limit>,
) -> ApiResult<Json<EventList>> {
    let events = state
        .app
        .events(&auth.brand, q.limit.unwrap_or(100))
        .await?
        .into_iter()
        .map(|e| {
            let body: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
            EventView {
                id: e.id.to_string(),
                kind: e.kind,
                timestamp: e.at,
                data: body.get("data").cloned().unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(EventList { events }))
}
