//! The catalog: products, their options, and configuring them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use kiln_configure::{Outcome, Selections};
use kiln_model::OptionKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, escape};
use crate::{AppState, flow};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
        .routes(routes!(configure))
}

#[derive(Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    /// Decimal text: money is never a float.
    pub base_price: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<ProductSummary>,
}

/// List a brand's products.
#[utoipa::path(get, path = "/brands/{brand}/products", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug")),
    responses((status = 200, body = ProductList), (status = 404, body = Problem)))]
async fn list_products(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
) -> ApiResult<Json<ProductList>> {
    let rt = state.runtimes.get(state.store.as_ref(), &brand).await?;
    let products = rt
        .catalog
        .products
        .iter()
        .map(|c| summary(c.product()))
        .collect();
    Ok(Json(ProductList { products }))
}

fn summary(p: &kiln_model::Product) -> ProductSummary {
    ProductSummary {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        currency: p.currency.clone(),
        base_price: p.base_price.to_string(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ProductDetail {
    #[serde(flatten)]
    pub summary: ProductSummary,
    /// Base components: always part of the product.
    pub components: Vec<NamedItem>,
    pub options: Vec<OptionDetail>,
    /// The rules between options, by their message.
    pub rules: Vec<NamedItem>,
}

#[derive(Serialize, ToSchema)]
pub struct NamedItem {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OptionDetail {
    pub id: String,
    pub name: String,
    /// `choice`, `color`, `text` or `number`.
    pub kind: String,
    pub optional: bool,
    pub default: Option<String>,
    pub values: Vec<NamedItem>,
    pub max_length: Option<u32>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub unit: Option<String>,
}

/// One product with its options.
#[utoipa::path(get, path = "/brands/{brand}/products/{product}", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug"),
           ("product" = String, Path, description = "product id")),
    responses((status = 200, body = ProductDetail), (status = 404, body = Problem)))]
async fn get_product(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
) -> ApiResult<Json<ProductDetail>> {
    let rt = state.runtimes.get(state.store.as_ref(), &brand).await?;
    let p = rt.product(&product)?.product();
    let item = |id: &str, name: &str| NamedItem {
        id: id.into(),
        name: name.into(),
    };
    Ok(Json(ProductDetail {
        summary: summary(p),
        components: p.components.iter().map(|c| item(&c.id, &c.name)).collect(),
        options: p
            .options
            .iter()
            .map(|o| {
                let (max_length, min, max, unit) = match &o.kind {
                    OptionKind::Text { max_length } => (Some(*max_length), None, None, None),
                    OptionKind::Number { min, max, unit } => (
                        None,
                        Some(min.to_string()),
                        Some(max.to_string()),
                        Some(unit.clone()),
                    ),
                    _ => (None, None, None, None),
                };
                OptionDetail {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    kind: o.kind.name().into(),
                    optional: o.optional,
                    default: o.default.clone(),
                    values: o
                        .kind
                        .values()
                        .iter()
                        .map(|v| item(&v.id, &v.label))
                        .collect(),
                    max_length,
                    min,
                    max,
                    unit,
                }
            })
            .collect(),
        rules: p.rules.iter().map(|r| item(&r.id, &r.message)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureRequest {
    /// Option id to value, e.g. `{"size": "L", "glaze": "#1d3557"}`.
    #[serde(default)]
    pub selections: Selections,
    /// Units to promise a delivery date for; 1 if left out.
    #[serde(default)]
    pub quantity: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct ConfigureResponse {
    /// Valid values with reasons, price, SKU, BOM, routing and preview.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The earliest delivery date the factory can promise for this
    /// configuration now (ISO date), when it is valid and complete.
    pub promised_date: Option<String>,
}

/// Configure a product: valid values, reasons, price, SKU, BOM, routing,
/// preview and the delivery date the factory can promise.
#[utoipa::path(post, path = "/brands/{brand}/products/{product}/configure", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug"),
           ("product" = String, Path, description = "product id")),
    request_body = ConfigureRequest,
    responses((status = 200, body = ConfigureResponse),
              (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "a selection names an unknown option or value")))]
async fn configure(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Body(req): Body<ConfigureRequest>,
) -> ApiResult<Json<ConfigureResponse>> {
    let rt = state.runtimes.get(state.store.as_ref(), &brand).await?;
    let configurator = rt.product(&product)?;
    let outcome = configurator.configure(&req.selections).map_err(|e| {
        ApiError::invalid(format!("/selections/{}", escape(e.option())), e.to_string())
    })?;
    let quantity = req.quantity.unwrap_or(1).clamp(1, flow::MAX_QUANTITY);
    let promised_date = if outcome.valid && outcome.complete {
        flow::quote_promise(&rt, configurator.product(), &outcome, quantity)
            .await
            .map(|d| d.to_string())
    } else {
        None
    };
    Ok(Json(ConfigureResponse {
        outcome,
        promised_date,
    }))
}
