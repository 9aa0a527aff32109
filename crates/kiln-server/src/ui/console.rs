//! The factory console: sign in with the brand key; see the schedule per
//! work centre, the queues, orders, materials and purchase suggestions;
//! start and complete operations; ship and deliver.

use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use jiff::ToSpan;
use kiln_store::{OperationAction, Shipment, status};
use serde::Deserialize;

use super::{
    KeyForm, UiResult, brand_for_key, brand_from_cookie, long_date, page, see_other, set_cookie,
};
use crate::AppState;
use crate::api::factory::record_operation;
use crate::error::ApiError;
use crate::ids::{new_id, now_ms, today};
use crate::runtime::BrandRuntime;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(console))
        .route("/console/sign-in", post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route(
            "/console/work-orders/{wo}/operations/{seq}/{action}",
            post(operation),
        )
        .route("/console/orders/{order}/ship", get(ship_form).post(ship))
        .route("/console/shipments/{shipment}/delivered", post(delivered))
        .route("/console/orders/{order}/paid", post(paid))
}

const KEY_COOKIE: &str = "kiln_console";
/// Days of schedule the console draws.
const DAYS: i32 = 14;

/// The brand of the signed-in key, or `None` when not signed in.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> UiResult<Option<Arc<BrandRuntime>>> {
    brand_from_cookie(state, headers, KEY_COOKIE).await
}

async fn require(state: &AppState, headers: &HeaderMap) -> UiResult<Arc<BrandRuntime>> {
    signed_in(state, headers)
        .await?
        .ok_or_else(|| ApiError::Unauthorized.into())
}

#[derive(Template)]
#[template(path = "console_signin.html")]
struct SignIn {
    problem: String,
}

async fn sign_in(
    State(state): State<Arc<AppState>>,
    Form(form): Form<KeyForm>,
) -> UiResult<Response> {
    let key = form.key.trim();
    if brand_for_key(&state, key).await?.is_none() {
        return Ok(page(&SignIn {
            problem: "That key is not valid. Paste the brand API key again.".into(),
        }));
    }
    let mut response = see_other("/console");
    set_cookie(&mut response, KEY_COOKIE, key, "/console", 12 * 3600);
    Ok(response)
}

async fn sign_out() -> Response {
    let mut response = see_other("/console");
    set_cookie(&mut response, KEY_COOKIE, "", "/console", 0);
    response
}

struct QueueItem {
    label: String,
    status: String,
    url: String,
    button: String,
}

struct Queue {
    name: String,
    items: Vec<QueueItem>,
}

struct OrderRow {
    id: String,
    short: String,
    customer: String,
    channel: String,
    status: String,
    promised: String,
    ship_url: Option<String>,
    deliver_url: Option<String>,
    payment: String,
    paid_url: Option<String>,
}

struct MaterialRow {
    name: String,
    on_hand: String,
    allocated: String,
    on_order: String,
    available: String,
    short: bool,
}

#[derive(Template)]
#[template(path = "console.html")]
struct Console {
    brand: String,
    brand_name: String,
    problem: String,
    days: i32,
    gantt: String,
    queues: Vec<Queue>,
    orders: Vec<OrderRow>,
    materials: Vec<MaterialRow>,
    suggestions: Vec<kiln_store::PurchaseSuggestion>,
}

#[derive(Deserialize)]
struct Notice {
    problem: Option<String>,
}

async fn console(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(notice): Query<Notice>,
) -> UiResult<Response> {
    let Some(rt) = signed_in(&state, &headers).await? else {
        return Ok(page(&SignIn {
            problem: String::new(),
        }));
    };
    let b = &rt.brand.id;
    // Each open work order has one operation to act on: the first not done.
    let mut queues: Vec<Queue> = rt
        .catalog
        .factory
        .work_centers
        .iter()
        .map(|w| Queue {
            name: w.name.clone(),
            items: Vec::new(),
        })
        .collect();
    for wo in state.store.work_orders(b, true).await? {
        let Some(op) = wo.operations.iter().find(|o| o.status != "done") else {
            continue;
        };
        let (action, verb) = if op.status == "started" {
            ("complete", "Complete")
        } else {
            ("start", "Start")
        };
        let at = rt
            .catalog
            .factory
            .work_centers
            .iter()
            .position(|w| w.id == op.work_center)
            .unwrap_or(0);
        if let Some(q) = queues.get_mut(at) {
            q.items.push(QueueItem {
                label: format!("{} × {} · {}", wo.quantity, wo.sku, op.name),
                status: op.status.clone(),
                url: format!(
                    "/console/work-orders/{}/operations/{}/{action}",
                    wo.id, op.seq
                ),
                button: format!(
                    "{verb} {} ({}, work order …{})",
                    op.name,
                    wo.sku,
                    tail(&wo.id)
                ),
            });
        }
    }
    queues.retain(|q| !q.items.is_empty());

    let mut orders = Vec::new();
    for o in state.store.orders(b, None, 50).await? {
        let short = tail(&o.id);
        let ship_url = (o.status == status::MADE).then(|| format!("/console/orders/{}/ship", o.id));
        let full = state.store.order(b, &o.id).await?;
        let deliver_url = full
            .as_ref()
            .filter(|_| o.status == status::SHIPPED)
            .and_then(|f| f.shipments.iter().find(|s| s.status != "delivered"))
            .map(|s| format!("/console/shipments/{}/delivered", s.id));
        let payment = full.as_ref().and_then(|f| f.payment.clone());
        let paid_url = payment
            .as_ref()
            .filter(|p| p.status == "awaiting_payment")
            .map(|_| format!("/console/orders/{}/paid", o.id));
        let payment = payment
            .map(|p| p.status.replace('_', " "))
            .unwrap_or_default();
        orders.push(OrderRow {
            id: o.id.clone(),
            short,
            customer: o.customer_email,
            channel: o.channel,
            status: o.status.replace('_', " "),
            promised: long_date(&o.promised_date),
            ship_url,
            deliver_url,
            payment,
            paid_url,
        });
    }

    let (gantt, materials) = {
        let plan = rt.plan.lock().await;
        let materials = plan
            .positions(&rt.catalog.factory)
            .map(|(m, p)| MaterialRow {
                name: format!("{} ({})", m.name, m.unit),
                on_hand: p.on_hand.normalize().to_string(),
                allocated: p.allocated.normalize().to_string(),
                on_order: p.on_order.normalize().to_string(),
                available: p.available().normalize().to_string(),
                short: p.on_hand < p.allocated,
            })
            .collect();
        (gantt(&rt, &plan.ledger), materials)
    };
    Ok(page(&Console {
        brand: rt.brand.slug.clone(),
        brand_name: rt.brand.name.clone(),
        problem: notice.problem.unwrap_or_default(),
        days: DAYS,
        gantt,
        queues,
        orders,
        materials,
        suggestions: state.store.suggestions(b).await?,
    }))
}

/// The load of each work centre per day as an SVG chart: one row per work
/// centre, one cell per day, filled by the share of capacity booked.
fn gantt(rt: &BrandRuntime, ledger: &kiln_plan::CapacityLedger) -> String {
    let start = today();
    let (label_w, cell, row_h, head) = (200, 44, 28, 34);
    let centers = &rt.catalog.calendars;
    let width = label_w + cell * DAYS;
    let height = head + row_h * centers.len() as i32 + 4;
    let mut svg = format!(
        "<svg class=\"gantt\" style=\"min-width:{width}px\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         role=\"img\" aria-label=\"Schedule: booked minutes per work centre and day\" font-size=\"11\" \
         font-family=\"system-ui, sans-serif\"><title>Schedule by work centre</title>"
    );
    for d in 0..DAYS {
        let day = start.checked_add(d.days()).unwrap_or(start);
        let x = label_w + d * cell;
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"14\" text-anchor=\"middle\">{}</text><text x=\"{}\" y=\"28\" text-anchor=\"middle\" fill=\"#5b6470\">{}</text>",
            x + cell / 2,
            day.strftime("%a"),
            x + cell / 2,
            day.strftime("%-d %b")
        );
    }
    for (i, cal) in centers.iter().enumerate() {
        let y = head + i as i32 * row_h;
        let name = rt
            .catalog
            .factory
            .work_center(&cal.id)
            .map(|w| w.name.as_str())
            .unwrap_or(&cal.id);
        let _ = write!(svg, "<text x=\"4\" y=\"{}\">{}</text>", y + 18, xml(name));
        for d in 0..DAYS {
            let day = start.checked_add(d.days()).unwrap_or(start);
            let capacity = cal.capacity_on(day);
            let booked = ledger.booked(&cal.id, day);
            let x = label_w + d * cell;
            let (fill, tip) = if capacity == 0 {
                ("#e5e7eb".to_string(), format!("{name}, {day}: closed"))
            } else {
                let share = (booked as f64 / capacity as f64).min(1.0);
                let shade = (235.0 - share * 180.0) as u8;
                (
                    format!("rgb({shade},{},{})", shade.saturating_add(10), 255),
                    format!("{name}, {day}: {booked} of {capacity} min booked"),
                )
            };
            let _ = write!(
                svg,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"3\" fill=\"{fill}\"><title>{}</title></rect>",
                x + 2,
                y + 3,
                cell - 4,
                row_h - 6,
                xml(&tip)
            );
            if booked > 0 {
                let _ = write!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"#1f2328\">{booked}</text>",
                    x + cell / 2,
                    y + 18
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The last characters of an id: enough to tell rows apart on screen.
fn tail(id: &str) -> String {
    let n = id.chars().count();
    id.chars().skip(n.saturating_sub(6)).collect()
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn back_with(problem: &str) -> Response {
    let mut to = String::from("/console?problem=");
    for b in problem.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => to.push(b as char),
            _ => {
                let _ = write!(to, "%{b:02X}");
            }
        }
    }
    see_other(&to)
}

async fn operation(
    State(state): State<Arc<AppState>>,
    Path((wo, seq, action)): Path<(String, i64, String)>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let action = match action.as_str() {
        "start" => OperationAction::Start,
        "complete" => OperationAction::Complete { scrap: 0 },
        other => return Err(ApiError::NotFound(format!("no action `{other}`")).into()),
    };
    Ok(
        match record_operation(&state, &rt, &wo, seq, action).await {
            Ok(_) => see_other("/console"),
            Err(ApiError::Conflict(m) | ApiError::NotFound(m)) => back_with(&m),
            Err(e) => return Err(e.into()),
        },
    )
}

#[derive(Template)]
#[template(path = "ship.html")]
struct ShipForm {
    order_id: String,
    problem: String,
    carriers: Vec<&'static str>,
}

const CARRIERS: &[&str] = &["DHL", "UPS", "DPD", "FedEx", "Royal Mail", "La Poste"];

async fn ship_form(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    require(&state, &headers).await?;
    Ok(page(&ShipForm {
        order_id: order,
        problem: String::new(),
        carriers: CARRIERS.to_vec(),
    }))
}

#[derive(Deserialize)]
struct ShipFields {
    carrier: String,
    tracking_number: String,
}

async fn ship(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ShipFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let (carrier, tracking) = (form.carrier.trim(), form.tracking_number.trim());
    if carrier.is_empty() || tracking.is_empty() {
        let problem = "Choose a carrier and enter the tracking number.".to_string();
        return Ok(page(&ShipForm {
            order_id: order,
            problem,
            carriers: CARRIERS.to_vec(),
        }));
    }
    let shipment = Shipment {
        id: new_id("shp"),
        order_id: order,
        carrier: carrier.to_string(),
        tracking_number: tracking.to_string(),
        status: "in_transit".into(),
        created_at: now_ms(),
        delivered_at: None,
    };
    Ok(
        match state
            .store
            .create_shipment(&rt.brand.id, &shipment, &new_id("evt"))
            .await
        {
            Ok(_) => see_other("/console"),
            Err(kiln_store::StoreError::Conflict(m)) => back_with(&m),
            Err(e) => return Err(e.into()),
        },
    )
}

async fn delivered(
    State(state): State<Arc<AppState>>,
    Path(shipment): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    state
        .store
        .mark_delivered(&rt.brand.id, &shipment, now_ms(), &new_id("evt"))
        .await?;
    Ok(see_other("/console"))
}

async fn paid(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    state
        .store
        .set_payment_status(&rt.brand.id, &order, "paid", now_ms())
        .await?;
    Ok(see_other("/console"))
}
