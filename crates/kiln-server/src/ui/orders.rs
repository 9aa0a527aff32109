//! The console's orders: a list a page at a time, filtered by status,
//! channel and customer, and one order's page with everything staff act on
//! (lines, address, promise history, work orders, shipments, payment).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use kiln_app::Error as AppError;
use kiln_domain::{
    Channel, OperationStatus, Order, OrderId, OrderQuery, OrderStatus, PaymentStatus,
    ShipmentStatus, TimelineStatus,
};
use serde::Deserialize;

use super::console::{require, tail};
use super::{UiResult, long_date, money, page};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/orders", get(list))
        .route("/console/orders/{order}", get(show))
}

/// Orders per page of the list.
const PAGE: i64 = 25;

/// What staff can do to an order now, as (label, url, form or link).
pub(super) struct OrderActions {
    pub ship_url: Option<String>,
    pub deliver_url: Option<String>,
    pub paid_url: Option<String>,
    pub payment: String,
}

/// The actions an order offers in its state.
pub(super) fn actions_of(o: &Order) -> OrderActions {
    let ship_url =
        (o.status == OrderStatus::Made).then(|| format!("/console/orders/{}/ship", o.id));
    let deliver_url = (o.status == OrderStatus::Shipped)
        .then(|| {
            o.shipments
                .iter()
                .find(|s| s.status != ShipmentStatus::Delivered)
        })
        .flatten()
        .map(|s| format!("/console/shipments/{}/delivered", s.id));
    let paid_url = o
        .payment
        .as_ref()
        .filter(|p| p.status == PaymentStatus::AwaitingPayment)
        .map(|_| format!("/console/orders/{}/paid", o.id));
    let payment = o
        .payment
        .as_ref()
        .map(|p| p.status.as_str().replace('_', " "))
        .unwrap_or_default();
    OrderActions {
        ship_url,
        deliver_url,
        paid_url,
        payment,
    }
}

#[derive(Deserialize)]
struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    customer: String,
    #[serde(default)]
    before: String,
}

struct Row {
    id: String,
    url: String,
    customer: String,
    channel: String,
    status: String,
    promised: String,
    total: String,
    placed: String,
}

#[derive(Template)]
#[template(path = "console_orders.html")]
struct ListPage {
    statuses: Vec<(&'static str, &'static str)>,
    channels: Vec<(&'static str, &'static str)>,
    status: String,
    channel: String,
    customer: String,
    rows: Vec<Row>,
    problem: String,
    /// The link to the next (older) page, when there is one.
    older: String,
    /// Set when this is not the first page.
    newest: String,
}

const STATUSES: &[(&str, &str)] = &[
    ("planned", "Planned"),
    ("in_production", "In production"),
    ("made", "Made"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
];

const CHANNELS: &[(&str, &str)] = &[
    ("online", "Online shop"),
    ("store", "Store"),
    ("b2b", "Business"),
    ("api", "API"),
    ("after_sales", "After-sales (repairs and remakes)"),
];

/// The orders list. Unknown filter values are reported, not ignored.
async fn list(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut problem = String::new();
    let status = match q.status.as_str() {
        "" => None,
        s => s.parse::<OrderStatus>().ok().or_else(|| {
            problem = format!("There is no order status “{s}”; showing every status.");
            None
        }),
    };
    let channel = match q.channel.as_str() {
        "" => None,
        c => c.parse::<Channel>().ok().or_else(|| {
            problem = format!("There is no channel “{c}”; showing every channel.");
            None
        }),
    };
    let customer = q.customer.trim().to_string();
    let query = OrderQuery {
        customer_email: (!customer.is_empty()).then(|| customer.clone()),
        status,
        channel,
        before: (!q.before.is_empty()).then(|| OrderId::from(q.before.clone())),
        limit: PAGE + 1,
    };
    let mut found = state.app.orders(rt.brand.slug.as_str(), query).await?;
    let more = found.len() as i64 > PAGE;
    found.truncate(PAGE as usize);
    let filters = |before: &str| {
        let pairs: Vec<(&str, &str)> = [
            ("status", status.map(|s| s.as_str()).unwrap_or("")),
            ("channel", channel.map(|c| c.as_str()).unwrap_or("")),
            ("customer", customer.as_str()),
            ("before", before),
        ]
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .collect();
        format!(
            "/console/orders?{}",
            serde_urlencoded::to_string(pairs).unwrap_or_default()
        )
    };
    let older = match (more, found.last()) {
        (true, Some(last)) => filters(last.id.as_str()),
        _ => String::new(),
    };
    let newest = if q.before.is_empty() {
        String::new()
    } else {
        filters("")
    };
    let rows = found
        .into_iter()
        .map(|o| Row {
            url: format!("/console/orders/{}", o.id),
            id: o.id.to_string(),
            customer: o.customer_email,
            channel: o.channel.to_string(),
            status: o.status.as_str().replace('_', " "),
            promised: long_date(o.promised_date),
            total: money(&o.currency, o.total),
            placed: long_date(kiln_app::time::day_of(o.created_at)),
        })
        .collect();
    Ok(page(&ListPage {
        statuses: STATUSES.to_vec(),
        channels: CHANNELS.to_vec(),
        status: status.map(|s| s.as_str().to_string()).unwrap_or_default(),
        channel: channel.map(|c| c.as_str().to_string()).unwrap_or_default(),
        customer,
        rows,
        problem,
        older,
        newest,
    }))
}

struct LineRow {
    name: String,
    summary: String,
    sku: String,
    quantity: i64,
    unit: String,
    total: String,
    version: i64,
    /// "For <name>, <line1>, <city>": a line's own recipient.
    recipient: String,
    promised: String,
    line_no: i64,
    /// Where to change or cancel it: set while the order is planned, the
    /// line open and the viewer may plan.
    change_url: Option<String>,
}

struct WorkOrderRow {
    id: String,
    sku: String,
    quantity: i64,
    status: String,
    /// (operation, work centre, status, when)
    operations: Vec<(String, String, String, String)>,
}

struct UnitRow {
    serial: String,
    page: String,
    qr: String,
    claim_url: String,
    claims: Vec<ClaimRow>,
}

struct ClaimRow {
    id: String,
    what: String,
    status: String,
    work_order: String,
    /// The after-sales order carrying a repair or remake, and its promise.
    after_sales: Option<(String, String)>,
    /// Set while the claim waits for its decision.
    decide_url: Option<String>,
}

struct ShipmentRow {
    id: String,
    carrier: String,
    tracking: String,
    status: String,
    at: String,
    /// "3 parcels, promised 2026-12-09, 2 days late".
    detail: String,
}

#[derive(Template)]
#[template(path = "console_order.html")]
struct OrderView {
    id: String,
    short: String,
    status: String,
    channel: String,
    /// How it ships, when not all together.
    ships: String,
    store: String,
    placed: String,
    promised: String,
    customer: String,
    /// Placed without proof under a known customer's email.
    unverified: bool,
    email: String,
    phone: String,
    address: Vec<String>,
    lines: Vec<LineRow>,
    /// Whether any line can be changed or cancelled here.
    changes: bool,
    total: String,
    shipping: String,
    tax: String,
    /// (when, what, note), oldest first.
    history: Vec<(String, String, String)>,
    work_orders: Vec<WorkOrderRow>,
    /// Each unit made, with its passport, label and claims.
    units: Vec<UnitRow>,
    shipments: Vec<ShipmentRow>,
    actions: OrderActions,
    notice: String,
    problem: String,
}

async fn show(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let slug = rt.brand.slug.as_str();
    let o = state.app.order(slug, &OrderId::from(order)).await?;
    let can_change =
        o.status == OrderStatus::Planned && super::staff::Can::of(&state, &headers).await?.plan;
    let lines: Vec<LineRow> = o
        .lines
        .iter()
        .map(|l| {
            let (name, summary) = match rt.catalog.product(&l.product_id) {
                Some(c) => (
                    c.product().name.clone(),
                    l.selections
                        .iter()
                        .map(|(k, v)| super::panel::selection_label(c, k, v))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                None => (l.product_id.clone(), String::new()),
            };
            LineRow {
                name,
                summary,
                sku: l.sku.clone(),
                quantity: l.quantity,
                unit: money(&o.currency, l.unit_price),
                total: match l.cancelled_at {
                    Some(_) => "not charged".into(),
                    None => money(
                        &o.currency,
                        l.unit_price * rust_decimal::Decimal::from(l.quantity),
                    ),
                },
                version: l.catalog_version,
                recipient: l
                    .recipient
                    .as_ref()
                    .map(|a| format!("for {}, {}, {} {}", a.name, a.line1, a.postal_code, a.city))
                    .unwrap_or_default(),
                promised: match l.cancelled_at {
                    Some(at) => format!("cancelled {}", super::minute(at)),
                    None => l
                        .promised_date
                        .map(|d| format!("promised {}", long_date(d)))
                        .unwrap_or_default(),
                },
                line_no: l.line_no,
                change_url: (can_change && l.cancelled_at.is_none())
                    .then(|| format!("/console/orders/{}/lines/{}", o.id, l.line_no)),
            }
        })
        .collect();
    let mut work_orders = Vec::new();
    let mut seen = Vec::new();
    // Work orders done: an order that ships as ready may ship their lines.
    let mut done = Vec::new();
    for l in &o.lines {
        if seen.contains(&&l.work_order_id) {
            continue;
        }
        seen.push(&l.work_order_id);
        let wo = match state.app.work_order(slug, &l.work_order_id).await {
            Ok(wo) => wo,
            Err(AppError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        if wo.status == kiln_domain::WorkOrderStatus::Done {
            done.push(wo.id.clone());
        }
        work_orders.push(WorkOrderRow {
            id: wo.id.to_string(),
            sku: wo.sku.clone(),
            quantity: wo.quantity,
            status: wo.status.as_str().replace('_', " "),
            operations: wo
                .operations
                .iter()
                .map(|op| {
                    let centre = rt
                        .catalog
                        .factory
                        .work_center(&op.work_center)
                        .map_or(op.work_center.clone(), |w| w.name.clone());
                    let when = match op.status {
                        OperationStatus::Done => op.completed_at.map(super::minute),
                        OperationStatus::Started => op.started_at.map(super::minute),
                        _ => None,
                    }
                    .unwrap_or_default();
                    let status = if op.scrap > 0 {
                        format!("{} ({} scrapped)", op.status, op.scrap)
                    } else {
                        op.status.to_string()
                    };
                    (op.name.clone(), centre, status, when)
                })
                .collect(),
        });
    }
    let history = o
        .timeline
        .iter()
        .map(|e| {
            let what = match e.status {
                TimelineStatus::PromiseMoved => "Promise moved".to_string(),
                s => {
                    let s = s.as_str().replace('_', " ");
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                        .unwrap_or_default()
                }
            };
            (super::minute(e.at), what, e.note.clone())
        })
        .collect();
    let mut units = Vec::new();
    for u in state.app.units_of_order(slug, &o.id).await? {
        let claims = state
            .app
            .claims_of_unit(slug, &u.serial)
            .await?
            .into_iter()
            .map(|c| ClaimRow {
                decide_url: (c.status == kiln_domain::ClaimStatus::Open)
                    .then(|| format!("/console/claims/{}/decision", c.id)),
                id: c.id.to_string(),
                what: format!(
                    "{} · {}{} · {}",
                    c.kind,
                    c.reason,
                    if c.parts.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", c.parts.join(", "))
                    },
                    if c.in_warranty {
                        "under warranty"
                    } else {
                        "out of warranty"
                    }
                ),
                status: c.status.to_string(),
                work_order: c.work_order_id.map(|w| w.to_string()).unwrap_or_default(),
                after_sales: c
                    .after_sales_order_id
                    .zip(c.promised_date)
                    .map(|(o, d)| (o.to_string(), super::long_date(d))),
            })
            .collect();
        units.push(UnitRow {
            page: format!("/shop/{slug}/21/{}", u.serial),
            qr: format!("/api/v1/brands/{slug}/units/{}/qr.svg", u.serial),
            claim_url: format!("/console/units/{}/claims", u.serial),
            serial: u.serial,
            claims,
        });
    }
    let shipments = o
        .shipments
        .iter()
        .map(|s| ShipmentRow {
            id: s.id.to_string(),
            detail: {
                let mut d = Vec::new();
                if let Some(v) = &s.service {
                    d.push(v.clone());
                }
                if !s.parcels.is_empty() {
                    let n = s.parcels.len();
                    d.push(format!("{n} parcel{}", if n == 1 { "" } else { "s" }));
                }
                if let Some(p) = s.promised_date {
                    d.push(format!("promised {p}"));
                }
                if let Some(late) = s.late_days {
                    d.push(format!(
                        "{late} day{} late",
                        if late == 1 { "" } else { "s" }
                    ));
                }
                d.join(", ")
            },
            carrier: match s.lines.as_slice() {
                [] => s.carrier.clone(),
                [one] => format!("{} (line {one})", s.carrier),
                many => format!(
                    "{} (lines {})",
                    s.carrier,
                    many.iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            },
            tracking: s.tracking_number.clone(),
            status: s.status.as_str().replace('_', " "),
            at: s
                .delivered_at
                .map_or_else(|| super::minute(s.created_at), super::minute),
        })
        .collect();
    let address = super::address_lines(&o.ship_to);
    let flash = super::flash_of(&headers);
    let said = |kind: super::Flash| {
        flash
            .as_ref()
            .filter(|(k, _)| *k == kind)
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    };
    let view = OrderView {
        id: o.id.to_string(),
        short: tail(o.id.as_str()),
        status: o.status.as_str().replace('_', " "),
        channel: o.channel.to_string(),
        ships: match o.ship_policy {
            kiln_domain::ShipPolicy::Complete => String::new(),
            kiln_domain::ShipPolicy::AsReady => "ships each line as it is ready".into(),
        },
        store: o.store_id.clone().unwrap_or_default(),
        placed: super::minute(o.created_at),
        promised: long_date(o.promised_date),
        customer: o.customer.name.clone(),
        unverified: !o.customer_verified,
        email: o.customer.email.clone(),
        phone: o.customer.phone.clone().unwrap_or_default(),
        address,
        changes: lines.iter().any(|l: &LineRow| l.change_url.is_some()),
        lines,
        total: money(&o.currency, o.total),
        shipping: money(&o.currency, o.shipping),
        tax: money(&o.currency, o.tax),
        history,
        work_orders,
        units,
        shipments,
        actions: {
            let mut actions = actions_of(&o);
            if ready_to_ship(&o, &done) {
                actions.ship_url = Some(format!("/console/orders/{}/ship", o.id));
            }
            actions
        },
        notice: said(super::Flash::Notice),
        problem: said(super::Flash::Problem),
    };
    Ok(super::spend_flash(&headers, page(&view)))
}

/// An order that ships as ready, in production, with a line made and not
/// shipped yet.
fn ready_to_ship(o: &Order, done: &[kiln_domain::WorkOrderId]) -> bool {
    o.ship_policy == kiln_domain::ShipPolicy::AsReady
        && o.status == OrderStatus::InProduction
        && o.lines.iter().any(|l| {
            l.cancelled_at.is_none()
                && done.contains(&l.work_order_id)
                && !o
                    .shipments
                    .iter()
                    .any(|s| s.lines.is_empty() || s.lines.contains(&l.line_no))
        })
}
