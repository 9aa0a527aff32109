//! The factory side: work orders, operators starting and completing
//! operations, purchase suggestions, stock, and shipping.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use kiln_store::{OperationAction, PurchaseSuggestion, Shipment, WorkOrder};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::api::orders::{ShipmentView, shipment_view};
use crate::auth::brand_admin;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Body;
use crate::ids::{new_id, now_ms};
use crate::runtime::{BrandRuntime, decimal};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_work_orders))
        .routes(routes!(get_work_order))
        .routes(routes!(start_operation))
        .routes(routes!(complete_operation))
        .routes(routes!(list_suggestions))
        .routes(routes!(receive_purchase))
        .routes(routes!(list_materials))
        .routes(routes!(create_shipment))
        .routes(routes!(deliver_shipment))
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
    security(("brand_key" = [])),
    responses((status = 200, body = WorkOrderList), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn list_work_orders(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    Query(filter): Query<WorkOrderFilter>,
    headers: HeaderMap,
) -> ApiResult<Json<WorkOrderList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
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
    let work_orders = state.store.work_orders(&rt.brand.id, open_only).await?;
    Ok(Json(WorkOrderList { work_orders }))
}

/// One work order.
#[utoipa::path(get, path = "/brands/{brand}/work-orders/{work_order}", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id")),
    security(("brand_key" = [])),
    responses((status = 200, body = WorkOrder), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_work_order(
    State(state): State<Arc<AppState>>,
    Path((brand, work_order)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<WorkOrder>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    state
        .store
        .work_order(&rt.brand.id, &work_order)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no work order `{work_order}`")))
}

#[derive(Serialize, ToSchema)]
pub struct OperationResult {
    pub work_order: WorkOrder,
    /// Orders whose status moved, as `[order id, new status]`.
    pub orders: Vec<(String, String)>,
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// Units scrapped during the operation.
    #[serde(default)]
    pub scrap: u32,
}

async fn record(
    state: &AppState,
    headers: &HeaderMap,
    brand: &str,
    work_order: &str,
    seq: i64,
    action: OperationAction,
) -> ApiResult<Json<OperationResult>> {
    let rt = brand_admin(state, headers, brand).await?;
    record_operation(state, &rt, work_order, seq, action)
        .await
        .map(Json)
}

/// Starts or completes an operation; the API and the console both use it.
pub async fn record_operation(
    state: &AppState,
    rt: &BrandRuntime,
    work_order: &str,
    seq: i64,
    action: OperationAction,
) -> ApiResult<OperationResult> {
    // Read first: once the store has recorded the step, the schedule must follow.
    let lines = state.store.order_line_ids(&rt.brand.id, work_order).await?;
    let mut ids = std::iter::repeat_with(|| new_id("evt"));
    let change = state
        .store
        .record_operation(&rt.brand.id, work_order, seq, action, now_ms(), &mut ids)
        .await
        .map_err(|e| match e {
            kiln_store::StoreError::NotFound => {
                ApiError::NotFound(format!("no operation {seq} in work order `{work_order}`"))
            }
            other => other.into(),
        })?;
    // The live schedule fixes started work where it is, and frees what a
    // finished operation no longer needs.
    {
        let mut plan = rt.plan.lock().await;
        plan.tick();
        // The store's times, so a rebuilt schedule places the bar the same way.
        let step = change.work_order.operations.iter().find(|o| o.seq == seq);
        let at = |ms: Option<i64>| ms.map_or_else(|| plan.clock.now(), |ms| plan.clock.at_ms(ms));
        let done_at = at(step.and_then(|o| o.completed_at));
        let started_at = at(step.and_then(|o| o.started_at));
        let k = usize::try_from(seq - 1).unwrap_or(usize::MAX);
        let mut moved = Vec::new();
        for (order_id, line_no) in lines {
            let id = crate::live::line_id(&order_id, line_no);
            let booked = |plan: &crate::runtime::PlanState| {
                plan.schedule
                    .order(&id)
                    .and_then(|p| p.bookings.get(k).cloned().flatten())
            };
            let before = booked(&plan);
            let result = match action {
                OperationAction::Start => plan.schedule.start_operation_at(&id, k, started_at),
                OperationAction::Complete { .. } => {
                    plan.schedule.complete_operation_at(&id, k, done_at)
                }
            };
            if let Err(e) = result {
                // The store is the record; the schedule only plans around it.
                tracing::warn!("schedule of {}: {id} operation {seq}: {e}", rt.brand.slug);
            }
            // Work started ahead of plan moved to when it began.
            if action == OperationAction::Start
                && before != booked(&plan)
                && let Some(placed) = plan.schedule.order(&id)
            {
                moved.extend(
                    crate::live::booking_rows(&plan.clock, &placed)
                        .into_iter()
                        .filter(|r| r.seq == seq),
                );
            }
        }
        if !moved.is_empty() {
            // Orders queued before may carry rows for the same operation.
            state.orders.flush().await;
            if let Err(e) = state.store.rebook(&rt.brand.id, &moved).await {
                tracing::warn!(
                    "{}: a started operation's new times not stored: {e}",
                    rt.brand.slug
                );
            }
        }
    }
    if action == OperationAction::Start || !change.consumed.is_empty() {
        let mut plan = rt.plan.lock().await;
        // A started work order no longer takes new lines.
        if plan.planned.get(&change.work_order.sku) == Some(&change.work_order.id) {
            plan.planned.remove(&change.work_order.sku);
        }
        // A made order's materials leave stock and stop being allocated.
        for (material, qty) in &change.consumed {
            let qty = decimal(qty)?;
            let position = plan.position(material);
            position.on_hand -= qty;
            position.allocated -= qty;
        }
    }
    Ok(OperationResult {
        work_order: change.work_order,
        orders: change.orders,
    })
}

/// Start an operation (an operator at its work centre).
#[utoipa::path(post, path = "/brands/{brand}/work-orders/{work_order}/operations/{seq}/start", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id"),
           ("seq" = i64, Path, description = "operation number, from 1")),
    security(("brand_key" = [])),
    responses((status = 200, body = OperationResult), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "already started, or an earlier operation is open")))]
async fn start_operation(
    State(state): State<Arc<AppState>>,
    Path((brand, work_order, seq)): Path<(String, String, i64)>,
    headers: HeaderMap,
) -> ApiResult<Json<OperationResult>> {
    record(
        &state,
        &headers,
        &brand,
        &work_order,
        seq,
        OperationAction::Start,
    )
    .await
}

/// Complete a started operation, recording scrap.
#[utoipa::path(post, path = "/brands/{brand}/work-orders/{work_order}/operations/{seq}/complete", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("work_order" = String, Path, description = "work order id"),
           ("seq" = i64, Path, description = "operation number, from 1")),
    request_body(content = Option<CompleteRequest>),
    security(("brand_key" = [])),
    responses((status = 200, body = OperationResult), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "not started")))]
async fn complete_operation(
    State(state): State<Arc<AppState>>,
    Path((brand, work_order, seq)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<OperationResult>> {
    let req: CompleteRequest = if body.is_empty() {
        CompleteRequest::default()
    } else {
        crate::extract::parse_json(&body)?
    };
    let action = OperationAction::Complete {
        scrap: i64::from(req.scrap),
    };
    record(&state, &headers, &brand, &work_order, seq, action).await
}

#[derive(Serialize, ToSchema)]
pub struct SuggestionList {
    pub purchase_suggestions: Vec<PurchaseSuggestion>,
}

/// Purchase suggestions from material planning.
#[utoipa::path(get, path = "/brands/{brand}/purchase-suggestions", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 200, body = SuggestionList), (status = 401, body = Problem)))]
async fn list_suggestions(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<SuggestionList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let purchase_suggestions = state.store.suggestions(&rt.brand.id).await?;
    Ok(Json(SuggestionList {
        purchase_suggestions,
    }))
}

/// Record a suggested purchase as received: its quantity moves into stock
/// and stops counting as on order.
#[utoipa::path(post, path = "/brands/{brand}/purchase-suggestions/{suggestion}/receive", tag = "factory",
    params(("brand" = String, Path, description = "brand slug"), ("suggestion" = String, Path, description = "purchase suggestion id")),
    security(("brand_key" = [])),
    responses((status = 200, body = PurchaseSuggestion), (status = 401, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn receive_purchase(
    State(state): State<Arc<AppState>>,
    Path((brand, suggestion)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<PurchaseSuggestion>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    receive(&state, &rt, &suggestion).await.map(Json)
}

/// Receives a purchase into stock; the API and the console both use it.
pub async fn receive(
    state: &AppState,
    rt: &BrandRuntime,
    suggestion: &str,
) -> ApiResult<PurchaseSuggestion> {
    let received = state
        .store
        .receive_purchase(&rt.brand.id, suggestion, &new_id("mov"), now_ms())
        .await
        .map_err(|e| match e {
            kiln_store::StoreError::NotFound => {
                ApiError::NotFound(format!("no purchase suggestion `{suggestion}`"))
            }
            other => other.into(),
        })?;
    let qty = decimal(&received.qty)?;
    let mut plan = rt.plan.lock().await;
    let position = plan.position(&received.material);
    position.on_hand += qty;
    position.on_order -= qty;
    Ok(received)
}

#[derive(Serialize, ToSchema)]
pub struct MaterialView {
    pub id: String,
    pub name: String,
    pub unit: String,
    pub on_hand: String,
    pub allocated: String,
    pub on_order: String,
    /// on hand + on order - allocated; negative means short.
    pub available: String,
}

#[derive(Serialize, ToSchema)]
pub struct MaterialList {
    pub materials: Vec<MaterialView>,
}

/// Stock positions of the brand's materials.
#[utoipa::path(get, path = "/brands/{brand}/materials", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 200, body = MaterialList), (status = 401, body = Problem)))]
async fn list_materials(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<MaterialList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let plan = rt.plan.lock().await;
    let materials = plan
        .positions(&rt.catalog.factory)
        .map(|(m, p)| MaterialView {
            id: m.id.clone(),
            name: m.name.clone(),
            unit: m.unit.clone(),
            on_hand: p.on_hand.normalize().to_string(),
            allocated: p.allocated.normalize().to_string(),
            on_order: p.on_order.normalize().to_string(),
            available: p.available().normalize().to_string(),
        })
        .collect();
    Ok(Json(MaterialList { materials }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipmentRequest {
    pub carrier: String,
    pub tracking_number: String,
}

/// Ship a made order: carrier and tracking number.
#[utoipa::path(post, path = "/brands/{brand}/orders/{order}/shipments", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id")),
    request_body = ShipmentRequest,
    security(("brand_key" = [])),
    responses((status = 201, body = ShipmentView), (status = 401, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the order is not made yet"), (status = 422, body = Problem)))]
async fn create_shipment(
    State(state): State<Arc<AppState>>,
    Path((brand, order)): Path<(String, String)>,
    headers: HeaderMap,
    Body(req): Body<ShipmentRequest>,
) -> ApiResult<(StatusCode, Json<ShipmentView>)> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let mut errors = Vec::new();
    if req.carrier.trim().is_empty() {
        errors.push(FieldError::new("/carrier", "a carrier is required"));
    }
    if req.tracking_number.trim().is_empty() {
        errors.push(FieldError::new(
            "/tracking_number",
            "a tracking number is required",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let shipment = Shipment {
        id: new_id("shp"),
        order_id: order.clone(),
        carrier: req.carrier.trim().to_string(),
        tracking_number: req.tracking_number.trim().to_string(),
        status: "in_transit".into(),
        created_at: now_ms(),
        delivered_at: None,
    };
    let stored = state
        .store
        .create_shipment(&rt.brand.id, &shipment, &new_id("evt"))
        .await
        .map_err(|e| match e {
            kiln_store::StoreError::NotFound => ApiError::NotFound(format!("no order `{order}`")),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(shipment_view(stored))))
}

/// Mark a shipment delivered (a carrier's tracking event).
#[utoipa::path(post, path = "/brands/{brand}/shipments/{shipment}/delivered", tag = "shipping",
    params(("brand" = String, Path, description = "brand slug"), ("shipment" = String, Path, description = "shipment id")),
    security(("brand_key" = [])),
    responses((status = 200, body = ShipmentView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn deliver_shipment(
    State(state): State<Arc<AppState>>,
    Path((brand, shipment)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<ShipmentView>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let delivered = state
        .store
        .mark_delivered(&rt.brand.id, &shipment, now_ms(), &new_id("evt"))
        .await
        .map_err(|e| match e {
            kiln_store::StoreError::NotFound => {
                ApiError::NotFound(format!("no shipment `{shipment}`"))
            }
            other => other.into(),
        })?;
    Ok(Json(shipment_view(delivered)))
}
