//! The factory side: work orders, operators starting and completing
//! operations, purchase suggestions, stock, and shipping.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use kiln_app::factory::OperationResult;
use kiln_app::planning::{LatePurchase, MaterialView};
use kiln_app::shipping::ShipRequest;
use kiln_domain::{
    OperationAction, OrderId, PurchaseSuggestion, Shipment, ShipmentId, SuggestionId, Timestamp,
    TrackingEvent, TrackingStatus, WorkOrder, WorkOrderId,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, FactoryRead, FactoryWrite, OperationsWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, OptionalBody};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_work_orders))
        .routes(routes!(get_work_order))
        .routes(routes!(start_operation))
        .routes(routes!(complete_operation))
        .routes(routes!(list_suggestions))
        .routes(routes!(purchases_by_supplier))
        .routes(routes!(receive_purchase))
        .routes(routes!(delay_purchase))
        .routes(routes!(list_materials))
        .routes(routes!(create_shipment))
        .routes(routes!(deliver_shipment))
        .routes(routes!(track_shipment))
        .routes(routes!(get_shipment))
        .routes(routes!(shipment_label))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WorkOrderFilter {
    /// `open` (default) for work orders not done yet, or `all`.
    state: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WorkOrderList {
    pub work_orders: Vec<WorkOrder>,
}

/// Work orders, one per SKU batch, with their operations.
#[utoipa::path(get, path = "/brands/{brand}/work-orders", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), WorkOrderFilter),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = WorkOrderList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn list_work_orders(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
    Query(filter): Query<WorkOrderFilter>,
) -> ApiResult<Json<WorkOrderList>> {
    let open_only = match filter.state.as_deref() {
        None | Some("open") => true,
        Some("all") => false,
        Some(other) => {
            return Err(ApiError::invalid(
                "state",
                format!("`{other}` is not `open` or `all`"),
            ));
        }
    };
    let work_orders = state.app.work_orders(auth.slug(), open_only).await?;
    Ok(Json(WorkOrderList { work_orders }))
}

/// One work order.
#[utoipa::path(get, path = "/brands/{brand}/work-orders/{work_order}", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = WorkOrder), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_work_order(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
    Path((_, work_order)): Path<(String, String)>,
) -> ApiResult<Json<WorkOrder>> {
    let id = WorkOrderId::from(work_order);
    Ok(Json(state.app.work_order(auth.slug(), &id).await?))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// Units scrapped during the operation.
    #[serde(default)]
    pub scrap: u32,
}

/// Start an operation (an operator at its work centre).
#[utoipa::path(post, path = "/brands/{brand}/work-orders/{work_order}/operations/{seq}/start", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id"),
           ("seq" = i64, Path, description = "operation number, from 1")),
    security(("brand_key" = ["operations:write"])),
    responses((status = 200, body = OperationResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "already started, or an earlier operation is open")))]
async fn start_operation(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OperationsWrite>,
    Path((_, work_order, seq)): Path<(String, String, i64)>,
) -> ApiResult<Json<OperationResult>> {
    let id = WorkOrderId::from(work_order);
    let done = state
        .app
        .record_operation(auth.slug(), &id, seq, OperationAction::Start)
        .await?;
    Ok(Json(done))
}

/// Complete a started operation, recording scrap.
#[utoipa::path(post, path = "/brands/{brand}/work-orders/{work_order}/operations/{seq}/complete", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id"),
           ("seq" = i64, Path, description = "operation number, from 1")),
    request_body(content = Option<CompleteRequest>),
    security(("brand_key" = ["operations:write"])),
    responses((status = 200, body = OperationResult), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "not started")))]
async fn complete_operation(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OperationsWrite>,
    Path((_, work_order, seq)): Path<(String, String, i64)>,
    OptionalBody(req): OptionalBody<CompleteRequest>,
) -> ApiResult<Json<OperationResult>> {
    let action = OperationAction::Complete {
        scrap: i64::from(req.scrap),
    };
    let id = WorkOrderId::from(work_order);
    let done = state
        .app
        .record_operation(auth.slug(), &id, seq, action)
        .await?;
    Ok(Json(done))
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub purchase_suggestions: Vec<PurchaseSuggestion>,
}

/// Purchase suggestions from material planning.
#[utoipa::path(get, path = "/brands/{brand}/purchase-suggestions", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = SuggestionList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_suggestions(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
) -> ApiResult<Json<SuggestionList>> {
    let purchase_suggestions = state.app.suggestions(auth.slug()).await?;
    Ok(Json(SuggestionList {
        purchase_suggestions,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct PurchaseGroupList {
    pub purchases: Vec<kiln_app::purchasing::PurchaseGroup>,
}

/// The open purchase suggestions as purchase orders to place: grouped by
/// supplier and arrival day, each material's quantity together and priced
/// at the supplier's price break for it.
#[utoipa::path(get, path = "/brands/{brand}/purchase-suggestions/by-supplier", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = PurchaseGroupList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn purchases_by_supplier(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
) -> ApiResult<Json<PurchaseGroupList>> {
    let purchases = state.app.purchases_by_supplier(auth.slug()).await?;
    Ok(Json(PurchaseGroupList { purchases }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelayRequest {
    /// The day the supplier now says it arrives, `YYYY-MM-DD`.
    pub arrives: String,
}

/// Record that a purchase on order arrives later (or earlier) than planned.
/// Orders whose production waited for it and that stock and the other
/// purchases no longer cover by their start are replanned from the day their
/// material is there; the answer names them and every order whose promise
/// moved, and each of those gets a timeline entry and an
/// `order.promise_moved` event.
#[utoipa::path(post, path = "/brands/{brand}/purchase-suggestions/{suggestion}/delay", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("suggestion" = String, Path, description = "purchase suggestion id")),
    request_body = DelayRequest,
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = LatePurchase), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn delay_purchase(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, suggestion)): Path<(String, String)>,
    Body(req): Body<DelayRequest>,
) -> ApiResult<Json<LatePurchase>> {
    let id = SuggestionId::from(suggestion);
    let arrives = req.arrives.parse().map_err(|_| {
        ApiError::invalid(
            "/arrives",
            format!("`{}` is not a date (YYYY-MM-DD)", req.arrives),
        )
    })?;
    Ok(Json(
        state.app.delay_purchase(auth.slug(), &id, arrives).await?,
    ))
}

/// Record a suggested purchase as received: its quantity moves into stock
/// and stops counting as on order.
#[utoipa::path(post, path = "/brands/{brand}/purchase-suggestions/{suggestion}/receive", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("suggestion" = String, Path, description = "purchase suggestion id")),
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = PurchaseSuggestion), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn receive_purchase(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, suggestion)): Path<(String, String)>,
) -> ApiResult<Json<PurchaseSuggestion>> {
    let id = SuggestionId::from(suggestion);
    Ok(Json(state.app.receive_purchase(auth.slug(), &id).await?))
}

#[derive(Serialize, ToSchema)]
pub struct MaterialList {
    pub materials: Vec<MaterialView>,
}

/// Stock positions of the brand's materials.
#[utoipa::path(get, path = "/brands/{brand}/materials", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = MaterialList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_materials(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
) -> ApiResult<Json<MaterialList>> {
    let materials = state.app.materials(auth.slug()).await?;
    Ok(Json(MaterialList { materials }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    /// Required for a brand without carriers. With carriers: left out, Kiln
    /// chooses the cheapest service that meets the lines' promise.
    #[serde(default)]
    pub carrier: Option<String>,
    /// Required for a brand without carriers, and for a carrier it does not
    /// declare. Left out: the built-in manual carrier numbers it.
    #[serde(default)]
    pub tracking_number: Option<String>,
    /// For an order that ships as ready: the lines in this shipment, each
    /// made and not yet shipped. Left out: every such line (or, for an order
    /// that ships complete, the whole order) going to one destination.
    #[serde(default)]
    pub lines: Vec<i64>,
}

/// Ship an order. A brand with carriers packs the lines' SKUs into parcels
/// and picks the cheapest service that meets their promise (the shipment's
/// `parcels`, `service` and `promised_date`); one without types the carrier
/// and tracking number. An order that ships complete goes once made; one
/// that ships as ready goes line by line as each is made. Lines going to
/// different recipients ship apart, one destination per request. The order
/// is `shipped` once every line is, and `delivered` once every shipment is.
#[utoipa::path(post, path = "/brands/{brand}/orders/{order}/shipments", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id")),
    request_body = ShipmentRequest,
    security(("brand_key" = ["factory:write"])),
    responses((status = 201, body = Shipment), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the order, or a line asked for, is not made yet or has shipped; no carrier reaches the address"), (status = 422, body = Problem)))]
async fn create_shipment(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, order)): Path<(String, String)>,
    Body(req): Body<ShipmentRequest>,
) -> ApiResult<(StatusCode, Json<Shipment>)> {
    let order = OrderId::from(order);
    let req = ShipRequest {
        carrier: req.carrier,
        tracking_number: req.tracking_number,
        lines: req.lines,
    };
    let shipment = state.app.ship(auth.slug(), &order, &req).await?;
    Ok((StatusCode::CREATED, Json(shipment)))
}

/// A carrier's tracking event.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingRequest {
    pub status: TrackingStatus,
    /// When it happened; left out: now.
    #[serde(default)]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<Timestamp>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub location: Option<String>,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub note: Option<String>,
}

/// A shipment with its tracking events.
#[derive(Serialize, ToSchema)]
pub struct ShipmentTracking {
    pub shipment: Shipment,
    pub events: Vec<TrackingEvent>,
}

/// Record a carrier's tracking event (the built-in manual carrier, or an
/// adapter relaying a carrier's webhook). The same status at the same time
/// twice is recorded once; `delivered` delivers the shipment at `at`, and
/// `late_days` says by how much it missed its promise.
#[utoipa::path(post, path = "/brands/{brand}/shipments/{shipment}/tracking", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("shipment" = String, Path, description = "shipment id")),
    request_body = TrackingRequest,
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = ShipmentTracking), (status = 400, body = Problem), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn track_shipment(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, shipment)): Path<(String, String)>,
    Body(req): Body<TrackingRequest>,
) -> ApiResult<Json<ShipmentTracking>> {
    let id = ShipmentId::from(shipment);
    let event = TrackingEvent {
        status: req.status,
        at: req.at.unwrap_or_else(kiln_app::time::now),
        location: req.location,
        note: req.note,
    };
    state.app.track_shipment(auth.slug(), &id, event).await?;
    let (shipment, events) = state.app.shipment(auth.slug(), &id).await?;
    Ok(Json(ShipmentTracking { shipment, events }))
}

/// A shipment's label as SVG (100 × 150 mm): the address, carrier and
/// service, the tracking number as a Code 128 barcode, and the packing list.
#[utoipa::path(get, path = "/brands/{brand}/shipments/{shipment}/label.svg", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("shipment" = String, Path, description = "shipment id")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the tracking number cannot be drawn as a barcode")))]
async fn shipment_label(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
    Path((_, shipment)): Path<(String, String)>,
) -> ApiResult<axum::response::Response> {
    let id = ShipmentId::from(shipment);
    let label = state.app.shipment_label(auth.slug(), &id).await?;
    Ok(crate::shipping_label::svg_response(&label)?)
}

/// A shipment with its parcels and tracking events.
#[utoipa::path(get, path = "/brands/{brand}/shipments/{shipment}", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("shipment" = String, Path, description = "shipment id")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = ShipmentTracking), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_shipment(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
    Path((_, shipment)): Path<(String, String)>,
) -> ApiResult<Json<ShipmentTracking>> {
    let id = ShipmentId::from(shipment);
    let (shipment, events) = state.app.shipment(auth.slug(), &id).await?;
    Ok(Json(ShipmentTracking { shipment, events }))
}

/// Mark a shipment delivered (a carrier's tracking event).
#[utoipa::path(post, path = "/brands/{brand}/shipments/{shipment}/delivered", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("shipment" = String, Path, description = "shipment id")),
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = Shipment), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn deliver_shipment(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Path((_, shipment)): Path<(String, String)>,
) -> ApiResult<Json<Shipment>> {
    let id = ShipmentId::from(shipment);
    Ok(Json(state.app.deliver(auth.slug(), &id).await?))
}
