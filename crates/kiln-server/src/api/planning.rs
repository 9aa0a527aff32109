//! Planning views and disruptions: the schedule per work centre as Gantt
//! data, each work centre's queue, material shortages, and marking a work
//! centre down, which replans and reports the promises that moved.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::ToSpan;
use jiff::civil::Date;
use kiln_store::Downtime;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::brand_admin;
use crate::disruption::{Disruption, MarkDown, mark_down};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;
use crate::ids::today;
use crate::material_plan::{MaterialPlan, material_plan};
use crate::resequence::{DEFAULT_EVALUATIONS, MAX_EVALUATIONS, Resequenced, resequence};
use crate::schedule::{WorkCenterSchedule, gantt};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_schedule))
        .routes(routes!(get_queue))
        .routes(routes!(list_shortages))
        .routes(routes!(list_downtimes))
        .routes(routes!(create_downtime))
        .routes(routes!(optimize_schedule))
        .routes(routes!(get_material_plan))
}

/// Most days one schedule request covers.
const MAX_DAYS: i32 = 92;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// First day, `YYYY-MM-DD` (default: today).
    from: Option<String>,
    /// Number of days, 1 to 92 (default 14).
    days: Option<i32>,
}

#[derive(Serialize, ToSchema)]
pub struct Schedule {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    pub days: i32,
    pub work_centers: Vec<WorkCenterSchedule>,
}

fn date(field: &str, text: &str) -> ApiResult<Date> {
    text.parse()
        .map_err(|_| ApiError::invalid(field, format!("`{text}` is not a date (YYYY-MM-DD)")))
}

/// The live schedule as Gantt data: per work centre and day, capacity, load,
/// and bars per machine in minutes of the working day, each with the
/// operation's exact times.
#[utoipa::path(get, path = "/brands/{brand}/schedule", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), Window),
    security(("brand_key" = [])),
    responses((status = 200, body = Schedule), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn get_schedule(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    Query(window): Query<Window>,
    headers: HeaderMap,
) -> ApiResult<Json<Schedule>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let from = match &window.from {
        Some(text) => date("from", text)?,
        None => today(),
    };
    let days = window.days.unwrap_or(14);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("between 1 and {MAX_DAYS}"),
        ));
    }
    from.checked_add((days - 1).days())
        .map_err(|_| ApiError::invalid("from", "too far in the future"))?;
    let plan = rt.plan.lock().await;
    Ok(Json(Schedule {
        from,
        days,
        work_centers: gantt(&rt, &plan, from, days),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct QueueItem {
    pub work_order_id: String,
    pub sku: String,
    pub quantity: i64,
    pub seq: i64,
    pub operation: String,
    pub name: String,
    /// `pending` or `started`.
    pub status: String,
    /// Whether every earlier operation of the work order is done, so an
    /// operator can start it now.
    pub ready: bool,
}

#[derive(Serialize, ToSchema)]
pub struct WorkCenterQueue {
    pub work_center: String,
    pub name: String,
    /// Started first, then ready, then waiting; oldest work order first within each.
    pub queue: Vec<QueueItem>,
}

/// The open operations at one work centre.
#[utoipa::path(get, path = "/brands/{brand}/work-centers/{work_center}/queue", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), ("work_center" = String, Path, description = "work centre id")),
    security(("brand_key" = [])),
    responses((status = 200, body = WorkCenterQueue), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_queue(
    State(state): State<Arc<AppState>>,
    Path((brand, work_center)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<WorkCenterQueue>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let wc = rt
        .catalog
        .factory
        .work_center(&work_center)
        .ok_or_else(|| ApiError::NotFound(format!("no work centre `{work_center}`")))?;
    let mut queue = Vec::new();
    for wo in state.store.work_orders(&rt.brand.id, true).await? {
        for (i, op) in wo.operations.iter().enumerate() {
            if op.work_center != wc.id || op.status == "done" {
                continue;
            }
            queue.push(QueueItem {
                work_order_id: wo.id.clone(),
                sku: wo.sku.clone(),
                quantity: wo.quantity,
                seq: op.seq,
                operation: op.operation.clone(),
                name: op.name.clone(),
                status: op.status.clone(),
                ready: wo.operations[..i].iter().all(|o| o.status == "done"),
            });
        }
    }
    // Stable: work orders come oldest first.
    queue.sort_by_key(|q| (q.status != "started", !q.ready));
    Ok(Json(WorkCenterQueue {
        work_center: wc.id.clone(),
        name: wc.name.clone(),
        queue,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct Shortage {
    pub material: String,
    pub name: String,
    pub unit: String,
    /// Allocated to orders beyond what is on hand.
    pub short: String,
    /// Already suggested for purchase.
    pub on_order: String,
    /// Short even after what is on order arrives.
    pub uncovered: String,
}

#[derive(Serialize, ToSchema)]
pub struct ShortageList {
    pub shortages: Vec<Shortage>,
}

/// Materials the orders need beyond what is on hand.
#[utoipa::path(get, path = "/brands/{brand}/shortages", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 200, body = ShortageList), (status = 401, body = Problem)))]
async fn list_shortages(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<ShortageList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let plan = rt.plan.lock().await;
    let shortages = plan
        .positions(&rt.catalog.factory)
        .filter(|(_, p)| p.allocated > p.on_hand)
        .map(|(m, p)| {
            let short = p.allocated - p.on_hand;
            Shortage {
                material: m.id.clone(),
                name: m.name.clone(),
                unit: m.unit.clone(),
                short: short.normalize().to_string(),
                on_order: p.on_order.normalize().to_string(),
                uncovered: (short - p.on_order)
                    .max(Decimal::ZERO)
                    .normalize()
                    .to_string(),
            }
        })
        .collect();
    Ok(Json(ShortageList { shortages }))
}

#[derive(Serialize, ToSchema)]
pub struct DowntimeList {
    pub downtimes: Vec<Downtime>,
}

/// Recorded downtimes of every work centre.
#[utoipa::path(get, path = "/brands/{brand}/downtimes", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 200, body = DowntimeList), (status = 401, body = Problem)))]
async fn list_downtimes(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<DowntimeList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    Ok(Json(DowntimeList {
        downtimes: state.store.downtimes(&rt.brand.id).await?,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DowntimeRequest {
    /// First day down, `YYYY-MM-DD`.
    pub from: String,
    /// Last day down (inclusive), `YYYY-MM-DD`.
    pub to: String,
    #[serde(default)]
    pub reason: String,
}

/// Mark a work centre down for a period. Orders not yet in production are
/// replanned around it; the answer names every order whose promise moved,
/// and each of them gets a timeline entry.
#[utoipa::path(post, path = "/brands/{brand}/work-centers/{work_center}/downtimes", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), ("work_center" = String, Path, description = "work centre id")),
    request_body = DowntimeRequest,
    security(("brand_key" = [])),
    responses((status = 201, body = Disruption), (status = 401, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_downtime(
    State(state): State<Arc<AppState>>,
    Path((brand, work_center)): Path<(String, String)>,
    headers: HeaderMap,
    Body(req): Body<DowntimeRequest>,
) -> ApiResult<(StatusCode, Json<Disruption>)> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let from = date("/from", &req.from)?;
    let to = date("/to", &req.to)?;
    let disruption = mark_down(
        &state,
        &rt,
        MarkDown {
            work_center: &work_center,
            from,
            to,
            reason: &req.reason,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(disruption)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ResequenceRequest {
    /// Plans to evaluate, 1 to 20,000 (default 2,000); more may find more.
    pub evaluations: Option<u64>,
}

/// Re-sequence the work not yet on the shop floor for on-time delivery
/// (weighted days late against each line's due date), then the earliest
/// finish. No promise gets later and started work never moves; the answer
/// says what improved.
#[utoipa::path(post, path = "/brands/{brand}/schedule/optimize", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = ResequenceRequest,
    security(("brand_key" = [])),
    responses((status = 200, body = Resequenced), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn optimize_schedule(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Body(req): Body<ResequenceRequest>,
) -> ApiResult<Json<Resequenced>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let evaluations = req.evaluations.unwrap_or(DEFAULT_EVALUATIONS);
    if !(1..=MAX_EVALUATIONS).contains(&evaluations) {
        return Err(ApiError::invalid(
            "/evaluations",
            format!("between 1 and {MAX_EVALUATIONS}"),
        ));
    }
    Ok(Json(resequence(&state, &rt, evaluations).await?))
}

/// The time-phased material plan: MRP over every open requirement, needed
/// when its order's production starts on the live schedule, netted against
/// stock and purchases on order by arrival day; the purchases still lacking
/// and each order's shortages.
#[utoipa::path(get, path = "/brands/{brand}/material-plan", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 200, body = MaterialPlan), (status = 401, body = Problem)))]
async fn get_material_plan(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<MaterialPlan>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    Ok(Json(material_plan(&state, &rt).await?))
}
