//! The factory floor, live: machines and operators' terminals report their
//! events (also accepted from the message broker, see `kiln serve --nats`),
//! and the machines' states as last reported.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use kiln_app::floor::FloorReceipt;
use kiln_domain::{MachineEvent, MachineState};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, FactoryRead, FactoryWrite};
use crate::error::{ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(post_machine_events))
        .routes(routes!(list_machines))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MachineEvents {
    /// Up to 1,000 events, each machine's numbered by its own `seq`.
    pub events: Vec<MachineEvent>,
}

/// Report machine events: a machine down (its work is replanned and the
/// orders whose promise moved are told) or up, an operation started or
/// completed. Each machine's events apply in `seq` order, once: the same
/// `seq` again is a duplicate and changes nothing.
#[utoipa::path(post, path = "/brands/{brand}/machine-events", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = MachineEvents,
    security(("brand_key" = ["factory:write"])),
    responses((status = 200, body = FloorReceipt), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn post_machine_events(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryWrite>,
    Body(req): Body<MachineEvents>,
) -> ApiResult<Json<FloorReceipt>> {
    let receipt = state
        .app
        .receive_machine_events(auth.slug(), &req.events)
        .await?;
    Ok(Json(receipt))
}

/// The machines the floor has reported on: the last event applied and the
/// open downtime of each.
#[utoipa::path(get, path = "/brands/{brand}/machines", tag = "factory",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["factory:read"])),
    responses((status = 200, body = Vec<MachineState>), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_machines(
    State(state): State<Arc<AppState>>,
    auth: Authorized<FactoryRead>,
) -> ApiResult<Json<Vec<MachineState>>> {
    Ok(Json(state.app.machine_states(auth.slug()).await?))
}
