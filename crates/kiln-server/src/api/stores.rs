//! The brand's stores, and a strategy for each: sales by week against the
//! forecast, what runs hotter or colder there than in the brand, what to
//! show and keep in sample stock, and people per day.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use kiln_app::stores::{StoreInput, StoreStrategy, StrategyQuery};
use kiln_domain::StoreLocation;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, BrandAdmin, OrdersRead, PlanningRead};
use crate::error::{ApiResult, Problem};
use crate::extract::{Body, Query};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_stores))
        .routes(routes!(put_store))
        .routes(routes!(store_strategy))
}

#[derive(Serialize, ToSchema)]
struct StoreList {
    stores: Vec<StoreLocation>,
}

/// The brand's stores, by name. A store's `Order Completed` event (from a
/// till, or `kiln import sales`) that names a store the brand lacks adds it,
/// named by its id.
#[utoipa::path(get, path = "/brands/{brand}/stores", tag = "stores",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = StoreList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_stores(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
) -> ApiResult<Json<StoreList>> {
    Ok(Json(StoreList {
        stores: state.app.stores(auth.slug()).await?,
    }))
}

/// Add a store, or rename and move it.
#[utoipa::path(put, path = "/brands/{brand}/stores/{store}", tag = "stores",
    params(("brand" = String, Path, description = "brand slug"),
           ("store" = String, Path, description = "store id: a-z, 0-9, - and _")),
    request_body = StoreInput,
    security(("brand_key" = ["admin"])),
    responses((status = 200, body = StoreLocation), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn put_store(
    State(state): State<Arc<AppState>>,
    auth: Authorized<BrandAdmin>,
    Path((_, store)): Path<(String, String)>,
    Body(input): Body<StoreInput>,
) -> ApiResult<Json<StoreLocation>> {
    Ok(Json(state.app.put_store(auth.slug(), &store, input).await?))
}

/// A store's strategy (千店千策), from every channel's sales of the brand:
/// units and sales per week with the forecast and how the last weeks'
/// forecast fared; products and option values that run hotter or colder
/// there than in the brand (index and z-score); samples to show and keep in
/// stock for its display; and people per day from its forecast sales.
#[utoipa::path(get, path = "/brands/{brand}/stores/{store}/strategy", tag = "stores",
    params(("brand" = String, Path, description = "brand slug"),
           ("store" = String, Path, description = "store id"), StrategyQuery),
    security(("brand_key" = ["planning:read"])),
    responses((status = 200, body = StoreStrategy), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn store_strategy(
    State(state): State<Arc<AppState>>,
    auth: Authorized<PlanningRead>,
    Path((_, store)): Path<(String, String)>,
    Query(q): Query<StrategyQuery>,
) -> ApiResult<Json<StoreStrategy>> {
    Ok(Json(
        state.app.store_strategy(auth.slug(), &store, &q).await?,
    ))
}
