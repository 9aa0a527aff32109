//! Demand sensing: import past sales, and read forecasts per product and
//! option value, material needs, and hot products.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kiln_app::demand::{Demand, Imported, SaleInput};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, PlanningRead, PlanningWrite};
use crate::error::{ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_demand))
        .routes(routes!(import_sales))
        .routes(routes!(forecast_purchases))
}

#[derive(Serialize, ToSchema)]
pub struct ForecastPurchases {
    pub purchase_suggestions: Vec<kiln_domain::PurchaseSuggestion>,
}

/// Suggest purchases for what the forecast needs beyond stock, purchases on
/// order and what orders already hold: forecasts enter purchasing as gross
/// requirements, consumed by the orders already booked.
#[utoipa::path(post, path = "/brands/{brand}/demand/purchase-suggestions", tag = "demand",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:write"])),
    responses((status = 201, body = ForecastPurchases), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn forecast_purchases(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningWrite>,
) -> ApiResult<(StatusCode, Json<ForecastPurchases>)> {
    let purchase_suggestions = state.app.forecast_purchases(auth.slug()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ForecastPurchases {
            purchase_suggestions,
        }),
    ))
}

/// Forecasts per product and option value for the next 8 weeks, material
/// needs through the BOM, and products and values running hot.
#[utoipa::path(get, path = "/brands/{brand}/demand", tag = "demand",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = Demand), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn get_demand(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
) -> ApiResult<Json<Demand>> {
    Ok(Json(state.app.demand(auth.slug()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesImport {
    pub lines: Vec<SaleInput>,
}

/// Import past sales (from the shop the brand used before), so forecasts
/// have history from day one. Every line is checked against the catalog;
/// one bad line refuses the whole import, naming each bad field.
#[utoipa::path(post, path = "/brands/{brand}/sales-history", tag = "demand",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = SalesImport,
    security(("brand_key" = ["planning:write"])),
    responses((status = 201, body = Imported), (status = 401, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn import_sales(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningWrite>,
    Body(req): Body<SalesImport>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let imported = state.app.import_sales(auth.slug(), &req.lines).await?;
    Ok((StatusCode::CREATED, Json(imported)))
}
