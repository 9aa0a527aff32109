//! Orders: placing one (idempotently), reading it, listing them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use kiln_app::changes::{Cancel, LineChange};
use kiln_app::orders::{OrderRequest, Proof};
use kiln_domain::{Channel, Order, OrderId, OrderQuery, OrderSummary, Scope};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::{Authorized, MaybeAuthorized, OrdersOnline, OrdersRead, OrdersWrite};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{idempotency_key, json_declared, parse_json};

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
        .routes(routes!(cancel_order))
        .routes(routes!(cancel_line, change_line))
}

/// Cancel an order before its production starts: every open line leaves
/// the schedule and gives back its materials at once; the order's status
/// becomes `cancelled` (an `order.cancelled` event). Once an operation of
/// one of its work orders has started, refused (409) with where. Cancelling
/// a cancelled order changes nothing.
#[utoipa::path(post, path = "/brands/{brand}/orders/{order}/cancel", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id")),
    security(("brand_key" = ["orders:write"])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 403, body = Problem),
              (status = 404, body = Problem), (status = 409, body = Problem, description = "production has started")))]
async fn cancel_order(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, order)): Path<(String, String)>,
) -> ApiResult<Json<Order>> {
    let order = OrderId::from(order);
    Ok(Json(
        state.app.cancel(auth.slug(), &order, Cancel::Order).await?,
    ))
}

/// Cancel one line of an order before its production starts: it leaves the
/// schedule and gives back its materials at once, its work order shrinks,
/// the order is re-priced (an `order.changed` event). Cancelling a
/// cancelled line changes nothing. Other orders the freed time could
/// deliver earlier are listed at `GET .../schedule/earlier`.
#[utoipa::path(delete, path = "/brands/{brand}/orders/{order}/lines/{line}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id"),
           ("line" = i64, Path, description = "line number, from 1")),
    security(("brand_key" = ["orders:write"])),
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "production of the line has started")))]
async fn cancel_line(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, order, line)): Path<(String, String, i64)>,
) -> ApiResult<Json<Order>> {
    let order = OrderId::from(order);
    Ok(Json(
        state
            .app
            .cancel(auth.slug(), &order, Cancel::Line(line))
            .await?,
    ))
}

/// Change a line before its production starts: a new `quantity`, new
/// choices for some options (`selections`; the others keep theirs), or
/// both. The line is cancelled and a new line, configured, checked, priced
/// (its quantity breaks counted) and promised anew, joins the order; the
/// old line's machine time and materials are given back first. The order
/// is re-priced and re-promised (an `order.changed` event). Sending the same
/// change again changes nothing. Once production has started, refused
/// (409) with where.
#[utoipa::path(patch, path = "/brands/{brand}/orders/{order}/lines/{line}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id"),
           ("line" = i64, Path, description = "line number, from 1")),
    request_body = LineChange,
    security(("brand_key" = ["orders:write"])),
    responses((status = 200, body = Order), (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "production of the line has started, or the factory cannot plan it"),
              (status = 415, body = Problem, description = "the body is not declared as JSON"),
              (status = 422, body = Problem, description = "the new configuration or quantity cannot be ordered")))]
async fn change_line(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersWrite>,
    Path((_, order, line)): Path<(String, String, i64)>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<Order>> {
    json_declared(&headers)?;
    let change: LineChange = parse_json(&body)?;
    let order = OrderId::from(order);
    Ok(Json(
        state
            .app
            .change_line(auth.slug(), &order, line, &change)
            .await?,
    ))
}

/// Place an order. Send an `Idempotency-Key` header: a retry with the same
/// key and body returns the same order and creates nothing new. Without an
/// `Authorization` header this is a public checkout: channel `online` only
/// (a store, B2B or API order without a key is 401). A publishable key
/// (`orders:online`, safe in a web page) places online orders only (403
/// otherwise); a store, B2B or API order needs `orders:write`. The body must
/// be `application/json` (415).
#[utoipa::path(post, path = "/brands/{brand}/orders", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"),
           ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body = OrderRequest,
    security((), ("brand_key" = ["orders:online"]), ("brand_key" = ["orders:write"])),
    responses((status = 201, body = Order, description = "placed, or placed before with this key"),
              (status = 400, body = Problem), (status = 401, body = Problem),
              (status = 403, body = Problem, description = "the key lacks orders:online, or orders:write for a store, B2B or API order"),
              (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the factory cannot plan it"),
              (status = 415, body = Problem, description = "the body is not declared as JSON"),
              (status = 422, body = Problem), (status = 503, body = Problem)))]
async fn place_order(
    State(state): State<Arc<AppState>>,
    caller: Result<MaybeAuthorized<OrdersOnline>, ApiError>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Order>)> {
    // A key without even `orders:online` is told of the scope that places
    // every order, and of the publishable one.
    let caller = caller.map_err(|e| match e {
        ApiError::App(kiln_app::Error::MissingScope(_)) => {
            ApiError::App(kiln_app::Error::Forbidden(
                "this key lacks the scope `orders:write` (or `orders:online`, \
                 which places online orders only)"
                    .into(),
            ))
        }
        other => other,
    })?;
    let key = idempotency_key(&headers)?;
    json_declared(&headers)?;
    let req: OrderRequest = parse_json(&body)?;
    // Without a key, or with a publishable one (`orders:online`), only what
    // a shopper could do at the storefront: an online order. A store, B2B or
    // API order speaks for the brand and needs `orders:write`.
    let speaks_for_brand = req.channel != Channel::Online || req.store_id.is_some();
    let holds_write = caller.holds(Scope::OrdersWrite);
    if speaks_for_brand && !holds_write {
        return Err(ApiError::App(match caller.caller {
            None => kiln_app::Error::Unauthorized,
            Some(_) => kiln_app::Error::MissingScope(Scope::OrdersWrite),
        }));
    }
    // Only a key that speaks for the brand proves the customer is who the
    // body says; a public checkout or a publishable key never joins or
    // renames a customer the brand already knows.
    let proof = if holds_write {
        Proof::Proven
    } else {
        Proof::Unproven
    };
    let order = state.app.place_order(&caller.slug, key, req, proof).await?;
    Ok((StatusCode::CREATED, Json(order)))
}

/// One order, with its lines, timeline, material requirements and shipments.
#[utoipa::path(get, path = "/brands/{brand}/orders/{order}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id")),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = Order), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn get_order(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Path((_, order)): Path<(String, String)>,
) -> ApiResult<Json<Order>> {
    Ok(Json(
        state.app.order(auth.slug(), &OrderId::from(order)).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Only this customer's orders, from every channel.
    customer_email: Option<String>,
    /// Only orders with this status (`planned`, `in_production`, `made`, `shipped`, `delivered`).
    status: Option<String>,
    /// Only orders from this channel (`online`, `store`, `b2b`, `api`).
    channel: Option<String>,
    /// Only orders older than this one: pass the last id of a page for the next.
    before: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<OrderSummary>,
}

/// The brand's orders, newest first.
#[utoipa::path(get, path = "/brands/{brand}/orders", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), OrderFilter),
    security(("brand_key" = ["orders:read"])),
    responses((status = 200, body = OrderList), (status = 401, body = Problem), (status = 403, body = Problem), (status = 404, body = Problem)))]
async fn list_orders(
    State(state): State<Arc<AppState>>,
    auth: Authorized<OrdersRead>,
    Query(filter): Query<OrderFilter>,
) -> ApiResult<Json<OrderList>> {
    let orders = state
        .app
        .orders(
            auth.slug(),
            OrderQuery {
                customer_email: filter.customer_email,
                status: parsed("status", filter.status.as_deref())?,
                channel: parsed("channel", filter.channel.as_deref())?,
                before: filter.before.map(OrderId::from),
                limit: filter.limit.unwrap_or(50),
            },
        )
        .await?;
    Ok(Json(OrderList { orders }))
}

/// An optional query parameter parsed into its type, or a problem naming it.
fn parsed<T: std::str::FromStr>(name: &str, value: Option<&str>) -> ApiResult<Option<T>>
where
    T::Err: std::fmt::Display,
{
    value
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.parse()
                .map_err(|e: T::Err| ApiError::invalid(name, e.to_string()))
        })
        .transpose()
}
