//! The catalog as shoppers and partners read it: products, their options,
//! and configuring them. Public: no key needed.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use kiln_app::catalog::{Configured, ProductDetail, ProductSummary};
use kiln_configure::Selections;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::Body;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(list_products))
        .routes(routes!(get_product))
        .routes(routes!(configure))
}

#[derive(Serialize, ToSchema)]
pub struct ProductList {
    pub products: Vec<ProductSummary>,
}

/// List a brand's products (of its latest catalog version).
#[utoipa::path(get, path = "/brands/{brand}/products", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug")),
    responses((status = 200, body = ProductList), (status = 404, body = Problem)))]
async fn list_products(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
) -> ApiResult<Json<ProductList>> {
    let products = state.app.products(&brand).await?;
    Ok(Json(ProductList { products }))
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
    Ok(Json(state.app.product(&brand, &product).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigureRequest {
    /// Option id to value, e.g. `{"size": "L", "glaze": "#1d3557"}`.
    #[serde(default)]
    pub selections: Selections,
    /// Units to promise a delivery date for, 1 to 10,000; 1 if left out.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: Option<u32>,
}

/// Configure a product: valid values, reasons, price, SKU, BOM, routing,
/// preview and the delivery date the factory can promise.
#[utoipa::path(post, path = "/brands/{brand}/products/{product}/configure", tag = "catalog",
    params(("brand" = String, Path, description = "brand slug"),
           ("product" = String, Path, description = "product id")),
    request_body = ConfigureRequest,
    responses((status = 200, body = Configured),
              (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 422, body = Problem, description = "a selection names an unknown option or value, or the quantity is out of range")))]
async fn configure(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
    Body(req): Body<ConfigureRequest>,
) -> ApiResult<Json<Configured>> {
    let configured = state
        .app
        .configure(&brand, &product, &req.selections, req.quantity)
        .await?;
    Ok(Json(configured))
}
