//! Demand sensing: import past sales, and read forecasts per product and
//! option value, material needs, and hot products.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use kiln_store::SalesLine;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::analytics::{Demand, demand};
use crate::auth::brand_admin;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(get_demand))
        .routes(routes!(import_sales))
        .routes(routes!(forecast_purchases))
}

#[derive(Serialize, ToSchema)]
pub struct ForecastPurchases {
    pub purchase_suggestions: Vec<kiln_store::PurchaseSuggestion>,
}

/// Suggest purchases for what the forecast needs beyond stock, purchases on
/// order and what orders already hold: forecasts enter purchasing as gross
/// requirements, consumed by the orders already booked.
#[utoipa::path(post, path = "/brands/{brand}/demand/purchase-suggestions", tag = "demand",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = [])),
    responses((status = 201, body = ForecastPurchases), (status = 401, body = Problem)))]
async fn forecast_purchases(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<(StatusCode, Json<ForecastPurchases>)> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let purchase_suggestions = crate::analytics::suggest_purchases(&state, &rt).await?;
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
    security(("brand_key" = [])),
    responses((status = 200, body = Demand), (status = 401, body = Problem)))]
async fn get_demand(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Json<Demand>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    Ok(Json(demand(&state, &rt).await?))
}

/// Most lines one import takes.
const MAX_IMPORT: usize = 10_000;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    /// Your id for the line: importing it again does nothing.
    pub id: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub product: String,
    #[serde(default)]
    pub selections: BTreeMap<String, String>,
    pub quantity: u32,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalesImport {
    pub lines: Vec<SaleInput>,
}

#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub received: usize,
    /// New lines; the rest were imported before.
    pub added: u64,
}

/// Import past sales (from the shop the brand used before), so forecasts
/// have history from day one. Every line is checked against the catalog;
/// one bad line refuses the whole import, naming each bad field.
#[utoipa::path(post, path = "/brands/{brand}/sales-history", tag = "demand",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = SalesImport,
    security(("brand_key" = [])),
    responses((status = 201, body = Imported), (status = 401, body = Problem), (status = 422, body = Problem)))]
async fn import_sales(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    Body(req): Body<SalesImport>,
) -> ApiResult<(StatusCode, Json<Imported>)> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    if req.lines.len() > MAX_IMPORT {
        return Err(ApiError::invalid(
            "/lines",
            format!("at most {MAX_IMPORT} lines per import"),
        ));
    }
    let mut errors = Vec::new();
    let mut lines = Vec::with_capacity(req.lines.len());
    for (i, l) in req.lines.iter().enumerate() {
        let at = |field: &str| format!("/lines/{i}/{field}");
        if l.id.trim().is_empty() || l.id.len() > 100 {
            errors.push(FieldError::new(at("id"), "1 to 100 characters"));
        }
        if l.day.parse::<jiff::civil::Date>().is_err() {
            errors.push(FieldError::new(at("day"), "not a date (YYYY-MM-DD)"));
        }
        if l.quantity == 0 || l.quantity > 1_000_000 {
            errors.push(FieldError::new(at("quantity"), "between 1 and 1000000"));
        }
        match rt.catalog.product(&l.product) {
            None => errors.push(FieldError::new(at("product"), "no such product")),
            Some(c) => match c.configure_unexplained(&l.selections) {
                Ok(o) if o.valid => lines.push(SalesLine {
                    id: l.id.trim().to_string(),
                    day: l.day.clone(),
                    at: 0,
                    product_id: l.product.clone(),
                    selections: serde_json::to_string(&o.configuration).unwrap_or_default(),
                    quantity: i64::from(l.quantity),
                }),
                Ok(_) => errors.push(FieldError::new(
                    at("selections"),
                    "these selections break the product's rules",
                )),
                Err(e) => errors.push(FieldError::new(at("selections"), e.to_string())),
            },
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let added = state.store.add_sales_history(&rt.brand.id, &lines).await?;
    Ok((
        StatusCode::CREATED,
        Json(Imported {
            received: lines.len(),
            added,
        }),
    ))
}
