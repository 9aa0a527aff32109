//! Planning views and disruptions: the schedule per work centre as Gantt
//! data, each work centre's queue, material shortages, marking a work
//! centre down (which replans and reports the promises that moved),
//! re-sequencing, and the material plan.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use jiff::civil::Date;
use kiln_app::planning::{
    DEFAULT_EVALUATIONS, Disruption, MarkDown, MaterialPlan, Resequenced, ScheduleView, Shortage,
    WorkCenterQueue,
};
use kiln_domain::{Downtime, DowntimeId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, PlanningRead, PlanningWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_schedule))
        .routes(routes!(get_queue))
        .routes(routes!(list_shortages))
        .routes(routes!(list_downtimes))
        .routes(routes!(create_downtime))
        .routes(routes!(cancel_downtime))
        .routes(routes!(optimize_schedule))
        .routes(routes!(earlier_deliveries))
        .routes(routes!(get_material_plan))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Window {
    /// First day, `YYYY-MM-DD` (default: today).
    from: Option<String>,
    /// Number of days, 1 to 92 (default 14).
    days: Option<i32>,
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
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = ScheduleView), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn get_schedule(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
    Query(window): Query<Window>,
) -> ApiResult<Json<ScheduleView>> {
    let from = window
        .from
        .as_deref()
        .map(|t| date("from", t))
        .transpose()?;
    let days = window.days.unwrap_or(14);
    Ok(Json(state.app.schedule(auth.slug(), from, days).await?))
}

/// The open operations at one work centre.
#[utoipa::path(get, path = "/brands/{brand}/work-centers/{work_center}/queue", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), ("work_center" = String, Path, description = "work centre id")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = WorkCenterQueue), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_queue(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
    Path((_, work_center)): Path<(String, String)>,
) -> ApiResult<Json<WorkCenterQueue>> {
    Ok(Json(state.app.queue(auth.slug(), &work_center).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ShortageList {
    pub shortages: Vec<Shortage>,
}

/// Materials the orders need beyond what is on hand.
#[utoipa::path(get, path = "/brands/{brand}/shortages", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = ShortageList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_shortages(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
) -> ApiResult<Json<ShortageList>> {
    let shortages = state.app.shortages(auth.slug()).await?;
    Ok(Json(ShortageList { shortages }))
}

#[derive(Serialize, ToSchema)]
pub struct DowntimeList {
    pub downtimes: Vec<Downtime>,
}

/// Recorded downtimes of every work centre.
#[utoipa::path(get, path = "/brands/{brand}/downtimes", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = DowntimeList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_downtimes(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
) -> ApiResult<Json<DowntimeList>> {
    let downtimes = state.app.downtimes(auth.slug()).await?;
    Ok(Json(DowntimeList { downtimes }))
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
/// and each of them gets a timeline entry and an `order.promise_moved` event.
#[utoipa::path(post, path = "/brands/{brand}/work-centers/{work_center}/downtimes", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), ("work_center" = String, Path, description = "work centre id")),
    request_body = DowntimeRequest,
    security(("brand_key" = ["planning:write"])),
    responses((status = 201, body = Disruption), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn create_downtime(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningWrite>,
    Path((_, work_center)): Path<(String, String)>,
    Body(req): Body<DowntimeRequest>,
) -> ApiResult<(StatusCode, Json<Disruption>)> {
    let from = date("/from", &req.from)?;
    let to = date("/to", &req.to)?;
    let down = MarkDown {
        work_center: &work_center,
        from,
        to,
        reason: &req.reason,
    };
    let disruption = state.app.mark_down(auth.slug(), down).await?;
    Ok((StatusCode::CREATED, Json(disruption)))
}

/// Cancel a downtime that is not over: the work centre's capacity is free
/// again for new orders at once. Bookings stay where they are and no promise
/// changes; re-sequence (`POST .../schedule/optimize`) to pull work forward.
/// A downtime already over stays on record (409).
#[utoipa::path(delete, path = "/brands/{brand}/downtimes/{downtime}", tag = "planning",
    params(("brand" = String, Path, description = "brand slug"), ("downtime" = String, Path, description = "downtime id")),
    security(("brand_key" = ["planning:write"])),
    responses((status = 200, body = Downtime), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn cancel_downtime(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningWrite>,
    Path((_, downtime)): Path<(String, String)>,
) -> ApiResult<Json<Downtime>> {
    let cancelled = state
        .app
        .cancel_downtime(&auth.actor(), auth.slug(), &DowntimeId::from(downtime))
        .await?;
    Ok(Json(cancelled))
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
    security(("brand_key" = ["planning:write"])),
    responses((status = 200, body = Resequenced), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn optimize_schedule(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningWrite>,
    Body(req): Body<ResequenceRequest>,
) -> ApiResult<Json<Resequenced>> {
    let evaluations = req.evaluations.unwrap_or(DEFAULT_EVALUATIONS);
    Ok(Json(state.app.resequence(auth.slug(), evaluations).await?))
}

/// Order lines not started yet that could be delivered earlier than
/// promised if placed again now: after a cancellation or a change gave
/// machine time and material back, say. A report only, soonest promised
/// first; re-sequencing (`POST .../schedule/optimize`) moves them, and no
/// promise ever gets later.
#[utoipa::path(get, path = "/brands/{brand}/schedule/earlier", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = kiln_app::planning::EarlierDeliveries), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn earlier_deliveries(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
) -> ApiResult<Json<kiln_app::planning::EarlierDeliveries>> {
    Ok(Json(state.app.earlier_deliveries(auth.slug()).await?))
}

/// The time-phased material plan, kept live by net change: MRP over every
/// open requirement, needed when its order's production starts on the live
/// schedule, and the forecast orders have not consumed, netted against stock
/// and purchases on order by arrival day; the purchases still lacking, each
/// order's shortages, and how long the net changes take.
#[utoipa::path(get, path = "/brands/{brand}/material-plan", tag = "planning",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = MaterialPlan), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn get_material_plan(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
) -> ApiResult<Json<MaterialPlan>> {
    Ok(Json(state.app.material_plan(auth.slug()).await?))
}
