//! Orders: placing one (idempotently), reading it, listing them.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use kiln_configure::Selections;
use kiln_store::{Customer, NewOrder, Placed};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::auth::brand_admin;
use crate::error::{ApiError, ApiResult, FieldError, Problem};
use crate::extract::{escape, parse_json};
use crate::flow::{self, MAX_LINES, MAX_QUANTITY, PricedLine};
use crate::ids::{new_id, now_ms, rfc3339, today};
use crate::runtime::BrandRuntime;

pub fn routes() -> OpenApiRouter<Arc<AppState>> {
    OpenApiRouter::new()
        .routes(routes!(place_order, list_orders))
        .routes(routes!(get_order))
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Online,
    Store,
    B2b,
    Api,
}

impl Channel {
    fn as_str(self) -> &'static str {
        match self {
            Channel::Online => "online",
            Channel::Store => "store",
            Channel::B2b => "b2b",
            Channel::Api => "api",
        }
    }
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    pub name: String,
    pub email: String,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub name: String,
    pub line1: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line2: Option<String>,
    pub city: String,
    pub postal_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2, e.g. `GB`.
    pub country: String,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineInput {
    pub product: String,
    #[serde(default)]
    pub selections: Selections,
    pub quantity: u32,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderRequest {
    pub customer: CustomerInput,
    pub ship_to: Address,
    pub channel: Channel,
    /// Required for channel `store`: the store that took the order.
    #[serde(default)]
    pub store_id: Option<String>,
    pub lines: Vec<LineInput>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderLineView {
    pub line_no: i64,
    pub product: String,
    pub selections: Selections,
    pub sku: String,
    pub quantity: i64,
    pub unit_price: String,
    pub work_order_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct TimelineEntry {
    /// `ordered`, `planned`, `in_production`, `made`, `shipped`, `delivered`.
    pub status: String,
    pub note: String,
    /// RFC 3339.
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RequirementView {
    pub material: String,
    pub gross: String,
    /// Taken from stock and open supply.
    pub allocated: String,
    /// Not covered: a purchase suggestion was made for it.
    pub shortage: String,
}

#[derive(Serialize, ToSchema)]
pub struct ShipmentView {
    pub id: String,
    pub carrier: String,
    pub tracking_number: String,
    pub status: String,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderView {
    pub id: String,
    /// `planned`, `in_production`, `made`, `shipped` or `delivered`.
    pub status: String,
    /// ISO date the order is promised to be delivered by.
    pub promised_date: String,
    pub channel: String,
    pub store_id: Option<String>,
    pub customer: Customer,
    #[schema(value_type = Address)]
    pub ship_to: serde_json::Value,
    pub currency: String,
    pub total: String,
    pub created_at: String,
    pub lines: Vec<OrderLineView>,
    pub timeline: Vec<TimelineEntry>,
    pub requirements: Vec<RequirementView>,
    pub shipments: Vec<ShipmentView>,
    /// How the order is paid; absent only for orders placed before payments existed.
    pub payment: Option<kiln_store::Payment>,
}

pub fn shipment_view(s: kiln_store::Shipment) -> ShipmentView {
    ShipmentView {
        id: s.id,
        carrier: s.carrier,
        tracking_number: s.tracking_number,
        status: s.status,
        created_at: rfc3339(s.created_at),
        delivered_at: s.delivered_at.map(rfc3339),
    }
}

pub fn view(o: kiln_store::Order) -> OrderView {
    OrderView {
        id: o.id,
        status: o.status,
        promised_date: o.promised_date,
        channel: o.channel,
        store_id: o.store_id,
        customer: o.customer,
        ship_to: serde_json::from_str(&o.ship_to).unwrap_or_default(),
        currency: o.currency,
        total: o.total,
        created_at: rfc3339(o.created_at),
        lines: o
            .lines
            .into_iter()
            .map(|l| OrderLineView {
                line_no: l.line_no,
                product: l.product_id,
                selections: serde_json::from_str(&l.selections).unwrap_or_default(),
                sku: l.sku,
                quantity: l.quantity,
                unit_price: l.unit_price,
                work_order_id: l.work_order_id,
            })
            .collect(),
        timeline: o
            .events
            .into_iter()
            .map(|e| TimelineEntry {
                status: e.status,
                note: e.note,
                at: rfc3339(e.at),
            })
            .collect(),
        requirements: o
            .requirements
            .into_iter()
            .map(|r| RequirementView {
                material: r.material,
                gross: r.gross,
                allocated: r.allocated,
                shortage: r.shortage,
            })
            .collect(),
        shipments: o.shipments.into_iter().map(shipment_view).collect(),
        payment: o.payment,
    }
}

/// Field checks the types cannot express; every problem is reported at once.
fn check_request(req: &OrderRequest) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut need = |path: &str, value: &str, what: &str| {
        if value.trim().is_empty() {
            errors.push(FieldError::new(path, format!("{what} is required")));
        }
    };
    need("/customer/name", &req.customer.name, "a name");
    need("/ship_to/name", &req.ship_to.name, "a recipient name");
    need("/ship_to/line1", &req.ship_to.line1, "an address line");
    need("/ship_to/city", &req.ship_to.city, "a city");
    need(
        "/ship_to/postal_code",
        &req.ship_to.postal_code,
        "a postal code",
    );
    let email = req.customer.email.trim();
    let valid_email = email.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
    }) && !email.contains(char::is_whitespace);
    if !valid_email {
        errors.push(FieldError::new(
            "/customer/email",
            "an email address like ada@example.com is required",
        ));
    }
    let country = &req.ship_to.country;
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
        errors.push(FieldError::new(
            "/ship_to/country",
            "a two-letter ISO country code like GB is required",
        ));
    }
    if let (Channel::Store, None | Some("")) = (req.channel, req.store_id.as_deref().map(str::trim))
    {
        errors.push(FieldError::new(
            "/store_id",
            "a store order needs the store's id",
        ))
    }
    if req.lines.is_empty() {
        errors.push(FieldError::new(
            "/lines",
            "an order needs at least one line",
        ));
    }
    if req.lines.len() > MAX_LINES {
        errors.push(FieldError::new(
            "/lines",
            format!("an order has at most {MAX_LINES} lines"),
        ));
    }
    for (i, line) in req.lines.iter().enumerate() {
        if line.quantity == 0 || line.quantity > MAX_QUANTITY {
            errors.push(FieldError::new(
                format!("/lines/{i}/quantity"),
                format!("the quantity must be between 1 and {MAX_QUANTITY}"),
            ));
        }
    }
    errors
}

fn idempotency_key(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value.to_str().map(str::trim).unwrap_or_default();
    if key.is_empty() || key.len() > 255 {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "the Idempotency-Key must be 1 to 255 visible characters",
        ));
    }
    Ok(Some(key.to_string()))
}

/// Place an order. Send an `Idempotency-Key` header: a retry with the same
/// key and body returns the same order and creates nothing new.
#[utoipa::path(post, path = "/brands/{brand}/orders", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"),
           ("Idempotency-Key" = Option<String>, Header, description = "makes retries safe")),
    request_body = OrderRequest,
    responses((status = 201, body = OrderView, description = "placed, or placed before with this key"),
              (status = 400, body = Problem), (status = 404, body = Problem),
              (status = 409, body = Problem, description = "the factory cannot plan it"),
              (status = 422, body = Problem)))]
async fn place_order(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<OrderView>)> {
    let rt = state.runtimes.get(state.store.as_ref(), &brand).await?;
    let key = idempotency_key(&headers)?;
    let req: OrderRequest = parse_json(&body)?;
    let order = place(&state, &rt, key, req).await?;
    Ok((StatusCode::CREATED, Json(view(order))))
}

/// Places an order: checks, configures, plans and writes it; or returns the
/// order this idempotency key placed before. The API and the storefront's
/// checkout both come through here.
pub async fn place(
    state: &AppState,
    rt: &BrandRuntime,
    key: Option<String>,
    req: OrderRequest,
) -> ApiResult<kiln_store::Order> {
    // The hash is over the parsed request, so whitespace or key order in a
    // retried body does not matter.
    let request_hash = hex::encode(Sha256::digest(serde_json::to_vec(&req).unwrap_or_default()));
    if let Some(key) = &key
        && let Some(existing) = state
            .store
            .order_by_idempotency_key(&rt.brand.id, key)
            .await?
    {
        return replay(existing, &request_hash);
    }
    let mut errors = check_request(&req);
    let mut lines = Vec::new();
    for (i, line) in req.lines.iter().enumerate() {
        let Some(configurator) = rt.catalog.product(&line.product) else {
            errors.push(FieldError::new(
                format!("/lines/{i}/product"),
                format!("no product `{}` in this brand", line.product),
            ));
            continue;
        };
        match configurator.configure_unexplained(&line.selections) {
            Err(e) => errors.push(FieldError::new(
                format!("/lines/{i}/selections/{}", escape(e.option())),
                e.to_string(),
            )),
            Ok(outcome) if !outcome.valid => {
                let conflict = outcome.conflict.as_ref();
                let rules: Vec<&str> = conflict
                    .map(|c| c.rules.iter().map(|r| r.message.as_str()).collect())
                    .unwrap_or_default();
                let at = conflict
                    .and_then(|c| c.selections.first())
                    .map(|(o, _)| format!("/{}", escape(o)))
                    .unwrap_or_default();
                errors.push(FieldError::new(
                    format!("/lines/{i}/selections{at}"),
                    format!("these selections break the rules: {}", rules.join("; ")),
                ));
            }
            Ok(outcome) if !outcome.complete => {
                let missing = outcome
                    .options
                    .iter()
                    .find(|o| o.value.is_none() && !o.optional)
                    .map(|o| o.id.clone())
                    .unwrap_or_default();
                errors.push(FieldError::new(
                    format!("/lines/{i}/selections/{}", escape(&missing)),
                    format!("`{missing}` needs a value"),
                ));
            }
            Ok(outcome) => lines.push(PricedLine {
                configurator,
                outcome,
                quantity: line.quantity,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let currency = lines[0].configurator.product().currency.clone();
    if let Some(i) = lines
        .iter()
        .position(|l| l.configurator.product().currency != currency)
    {
        return Err(ApiError::invalid(
            format!("/lines/{i}/product"),
            "all lines of an order must be in one currency",
        ));
    }

    let order_id = new_id("ord");
    let created_at = now_ms();
    let mut plan = rt.plan.lock().await;
    let (plotted, change) = flow::plan_order(rt, &mut plan, &order_id, &lines, today())?;
    let events = flow::first_events(req.channel.as_str(), plotted.promised, created_at);
    let head = NewOrder {
        brand_id: rt.brand.id.clone(),
        id: order_id.clone(),
        idempotency_key: key.clone(),
        request_hash: request_hash.clone(),
        access_token: uuid::Uuid::new_v4().simple().to_string(),
        customer: Customer {
            id: new_id("cus"),
            email: req.customer.email.trim().to_lowercase(),
            name: req.customer.name.trim().to_string(),
            phone: req.customer.phone.clone(),
        },
        channel: req.channel.as_str().to_string(),
        store_id: req.store_id.clone(),
        ship_to: serde_json::to_string(&req.ship_to).unwrap_or_default(),
        status: kiln_store::status::PLANNED.into(),
        currency,
        total: String::new(),
        promised_date: String::new(),
        created_at,
        lines: Vec::new(),
        work_orders: Vec::new(),
        bookings: Vec::new(),
        rebooked: Vec::new(),
        requirements: Vec::new(),
        suggestions: Vec::new(),
        events: Vec::new(),
        payment: Default::default(),
    };
    let order = flow::new_order(head, plotted, events);
    // Queued under the plan lock so the writer sees orders in plan order;
    // the lock is released before the commit so the next order can plan.
    let written = state.orders.enqueue(order.clone());
    drop(plan);
    let placed = written.await.unwrap_or_else(|_| {
        Err(kiln_store::StoreError::Conflict(
            "the order writer has stopped".into(),
        ))
    });
    match placed {
        Ok(Placed::Created { customer_id }) => {
            metrics::counter!("kiln_orders_placed_total").increment(1);
            Ok(placed_form(order, customer_id))
        }
        Ok(Placed::Existing { .. }) | Err(_) => {
            let mut plan = rt.plan.lock().await;
            let moved = change.undo(&mut plan);
            if !moved.is_empty() {
                // Orders planned since may be queued with rows for the same
                // operations: they go first, then these.
                state.orders.flush().await;
                if let Err(e) = state.store.rebook(&rt.brand.id, &moved).await {
                    tracing::warn!(
                        "{}: setups after a rolled-back order not stored: {e}",
                        rt.brand.slug
                    );
                }
            }
            drop(plan);
            // A concurrent request with the same key won the race.
            if let Some(key) = &key
                && let Some(existing) = state
                    .store
                    .order_by_idempotency_key(&rt.brand.id, key)
                    .await?
            {
                return replay(existing, &request_hash);
            }
            Err(ApiError::Conflict(
                "the order could not be stored; it was not placed, and it is safe to retry".into(),
            ))
        }
    }
}

/// The order as it now stands in the store, without reading it back.
fn placed_form(o: NewOrder, customer_id: String) -> kiln_store::Order {
    kiln_store::Order {
        id: o.id,
        customer: Customer {
            id: customer_id,
            ..o.customer
        },
        channel: o.channel,
        store_id: o.store_id,
        ship_to: o.ship_to,
        status: o.status,
        currency: o.currency,
        total: o.total,
        promised_date: o.promised_date,
        created_at: o.created_at,
        request_hash: o.request_hash,
        access_token: o.access_token,
        lines: o.lines,
        events: o.events,
        requirements: o.requirements,
        shipments: Vec::new(),
        payment: Some(o.payment),
    }
}

fn replay(existing: kiln_store::Order, request_hash: &str) -> ApiResult<kiln_store::Order> {
    if existing.request_hash != request_hash {
        return Err(ApiError::invalid(
            "Idempotency-Key",
            "this Idempotency-Key was used for a different order; use a new key for a new order",
        ));
    }
    Ok(existing)
}

/// One order, with its lines, timeline, material requirements and shipments.
#[utoipa::path(get, path = "/brands/{brand}/orders/{order}", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), ("order" = String, Path, description = "order id")),
    security(("brand_key" = [])),
    responses((status = 200, body = OrderView), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn get_order(
    State(state): State<Arc<AppState>>,
    Path((brand, order)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Json<OrderView>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let order = state
        .store
        .order(&rt.brand.id, &order)
        .await?
        .ok_or_else(|| ApiError::NotFound(format!("no order `{order}`")))?;
    Ok(Json(view(order)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilter {
    /// Only this customer's orders, from every channel.
    customer_email: Option<String>,
    /// At most this many, newest first (default 50, at most 500).
    limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct OrderList {
    pub orders: Vec<kiln_store::OrderSummary>,
}

/// The brand's orders, newest first.
#[utoipa::path(get, path = "/brands/{brand}/orders", tag = "orders",
    params(("brand" = String, Path, description = "brand slug"), OrderFilter),
    security(("brand_key" = [])),
    responses((status = 200, body = OrderList), (status = 401, body = Problem), (status = 404, body = Problem)))]
async fn list_orders(
    State(state): State<Arc<AppState>>,
    Path(brand): Path<String>,
    Query(filter): Query<OrderFilter>,
    headers: HeaderMap,
) -> ApiResult<Json<OrderList>> {
    let rt = brand_admin(&state, &headers, &brand).await?;
    let email = filter.customer_email.map(|e| e.trim().to_lowercase());
    let limit = filter.limit.unwrap_or(50).clamp(1, 500);
    let orders = state
        .store
        .orders(&rt.brand.id, email.as_deref(), limit)
        .await?;
    Ok(Json(OrderList { orders }))
}
