//! Bulk orders: a business buyer's CSV quoted whole, then accepted as one
//! order; and a template CSV per product to start from.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiln_app::bulk::business::{BusinessCustomerInput, BusinessCustomerList};
use kiln_app::bulk::{Acceptance, Accepted};
use kiln_domain::{BulkQuote, BusinessCustomer, BusinessCustomerId, QuoteId};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, OrdersRead, OrdersWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{Body, idempotency_key};

/// An upload of up to 100,000 rows.
const MAX_UPLOAD: usize = 64 << 20;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(quote))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
        .routes(routes!(get_quote))
        .routes(routes!(accept))
        .routes(routes!(template))
        .routes(routes!(add_business_customer, list_business_customers))
        .routes(routes!(get_business_customer))
}

/// Quote a CSV of configured lines (`Content-Type: text/csv`): one row per
/// line, with the columns `product`, one per option (by option id; a blank
/// cell takes the option's default), `quantity`, and optionally a recipient
/// per row (`recipient_name`, `recipient_line1`, `recipient_city`,
/// `recipient_postal_code`, `recipient_country`). The quote prices the good
/// rows, batches them by SKU and promises each line with all of them
/// planned together; `errors` lists every bad row at once, with its `row`
/// (its line in the file, the header being line 1), `column` and a
/// `message`. No good row at all is a 422 whose errors point at
/// `/rows/{line}/{column}`.
#[utoipa::path(post, path = "/brands/{brand}/bulk-quotes", tag = "orders",
    params(("brand" = String, Path, description = "brand slug")),
    request_body(content = String, content_type = "text/csv",
        description = "one configured line per row; the header names the columns"),
    security(("brand_key" = ["orders:write"])),
    responses((status = 201, body = BulkQuote, description = "the good rows quoted; `errors` lists the bad ones"),
              (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the brand's catalog was republished meanwhile: send the file again"),
              (status = 413, body = Problem), (status = 415, body = Problem, description = "the body is not text/csv"),
              (status = 422, body = Problem, description = "no row can be quoted (each problem at its row, rows the factory cannot plan among them)")))]
async fn quote(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<BulkQuote>)> {
    csv_declared(&headers)?;
    let quote = state.app.quote_bulk(auth.slug(), body.to_vec()).await?;
    Ok((StatusCode::CREATED, Json(quote)))
}

/// A quote as it was made, with the order it became once accepted.
#[utoipa::path(get, path = "/brands/{brand}/bulk-quotes/{quote}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("quote" = String, Path, description = "quote id")),
    security(("brand_key" = ["orders:write"])),
    responses((status = 200, body = BulkQuote), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_quote(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<BulkQuote>> {
    Ok(Json(
        state
            .app
            .bulk_quote(auth.slug(), &QuoteId::from(id))
            .await?,
    ))
}

/// Accept a quote: one order (channel `b2b`) of all its lines at the quoted
/// prices, for this customer, shipping the lines without a recipient of
/// their own to `ship_to`. With a `business_customer`, the customer must be
/// one of its buyers (by email): only they order on its account. Send an `Idempotency-Key`: a retry with it gives
/// the same order; a quote makes one order (another key is 409). `moved`
/// lists the lines whose promise changed since the quote, and why.
#[utoipa::path(post, path = "/brands/{brand}/bulk-quotes/{quote}/accept", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("quote" = String, Path, description = "quote id"),
           ("Idempotency-Key" = String, Header, description = "makes retries safe")),
    request_body = Acceptance,
    security(("brand_key" = ["orders:write"])),
    responses((status = 201, body = Accepted), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "accepted with another key, expired, the catalog changed, or a row (named) no longer fits the factory's schedule"),
              (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn accept(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    Body(acceptance): Body<Acceptance>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let key = idempotency_key(&headers)?.ok_or_else(|| {
        ApiError::invalid(
            "Idempotency-Key",
            "accepting a quote needs an Idempotency-Key header, so that a retry cannot place a second order",
        )
    })?;
    let accepted = state
        .app
        .accept_bulk_quote(
            auth.slug(),
            &QuoteId::from(id),
            key,
            acceptance,
            kiln_app::orders::Proof::Proven,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// A CSV to start a bulk order of a product from: its header (every
/// option, `quantity`, the recipient columns) and one row of defaults.
#[utoipa::path(get, path = "/brands/{brand}/products/{product}/bulk-template.csv", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("product" = String, Path, description = "product id")),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404, body = Problem)))]
async fn template(
    State(state): State<Arc<AppState>>,
    Path((brand, product)): Path<(String, String)>,
) -> ApiResult<Response> {
    let csv = state.app.bulk_template(&brand, &product).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{product}-bulk-template.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

/// Refuses a body not declared as CSV (`text/csv`).
fn csv_declared(headers: &HeaderMap) -> Result<(), ApiError> {
    match crate::extract::content_type(headers) {
        (essence, _) if essence == "text/csv" => Ok(()),
        (_, declared) => Err(ApiError::NotCsv(declared)),
    }
}

/// Record a business customer: a company, its buyers (the first is the
/// default), its billing address and where its orders go by default (the
/// billing address when left out). Every bad field is reported at once.
#[utoipa::path(post, path = "/brands/{brand}/business-customers", tag = "orders",
    params(("brand" = String, Path, description = "brand slug")),
    request_body = BusinessCustomerInput,
    security(("brand_key" = ["orders:write"])),
    responses((status = 201, body = BusinessCustomer), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn add_business_customer(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Body(input): Body<BusinessCustomerInput>,
) -> ApiResult<(StatusCode, Json<BusinessCustomer>)> {
    let added = state.app.add_business_customer(auth.slug(), input).await?;
    Ok((StatusCode::CREATED, Json(added)))
}

/// The brand's business customers, by company.
#[utoipa::path(get, path = "/brands/{brand}/business-customers", tag = "orders",
    params(("brand" = String, Path, description = "brand slug")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = BusinessCustomerList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn list_business_customers(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
) -> ApiResult<Json<BusinessCustomerList>> {
    Ok(Json(state.app.business_customers(auth.slug()).await?))
}

/// One business customer.
#[utoipa::path(get, path = "/brands/{brand}/business-customers/{customer}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("customer" = String, Path, description = "business customer id")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = BusinessCustomer), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_business_customer(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult<Json<BusinessCustomer>> {
    Ok(Json(
        state
            .app
            .business_customer(auth.slug(), &BusinessCustomerId::from(id))
            .await?,
    ))
}
