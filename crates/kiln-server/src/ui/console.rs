//! The factory console: sign in with the brand key; see the schedule per
//! work centre, the queues, orders, materials and purchase suggestions;
//! start and complete operations; ship and deliver.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use kiln_app::{BrandRuntime, Error as AppError};
use kiln_domain::{OperationAction, OperationStatus, WorkOrderId};
use serde::Deserialize;

use super::{
    KeyForm, UiResult, brand_for_key, brand_from_cookie, long_date, page, see_other, set_cookie,
};
use super::{disruption, fulfilment, purchases};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(console))
        .route("/console/gantt", get(live_gantt))
        .route("/console/sign-in", post(sign_in))
        .route("/console/sign-out", post(sign_out))
        .route(
            "/console/work-orders/{wo}/operations/{seq}/{action}",
            post(operation),
        )
        .route(
            "/console/orders/{order}/ship",
            get(fulfilment::ship_form).post(fulfilment::ship),
        )
        .route(
            "/console/shipments/{shipment}/delivered",
            post(fulfilment::delivered),
        )
        .route("/console/orders/{order}/paid", post(fulfilment::paid))
        .route("/console/downtimes", post(disruption::downtime))
        .route(
            "/console/downtimes/{downtime}/cancel",
            post(disruption::cancel_downtime),
        )
        .route("/console/resequence", post(disruption::resequence))
        .route(
            "/console/purchase-suggestions/{suggestion}/receive",
            post(purchases::receive),
        )
        .route(
            "/console/purchase-suggestions/{suggestion}/delay",
            post(purchases::delay),
        )
}

const KEY_COOKIE: &str = "kiln_console";
/// Orders the console's front page lists; the orders page has them all.
const LATEST_ORDERS: i64 = 10;
/// Days of schedule the console draws.
pub(super) const DAYS: i32 = 14;

/// The brand of the signed-in staff member (any role but a store clerk's;
/// what each may do is checked by `staff::gate`) or key, or `None` when
/// not signed in.
async fn signed_in(state: &AppState, headers: &HeaderMap) -> UiResult<Option<Arc<BrandRuntime>>> {
    if let Some(who) = super::staff::staff_of(state, headers).await? {
        if who.member.role == kiln_domain::Role::StoreClerk {
            return Ok(None);
        }
        return Ok(Some(state.app.brand(&who.slug).await?));
    }
    brand_from_cookie(state, headers, KEY_COOKIE).await
}

pub(super) async fn require(state: &AppState, headers: &HeaderMap) -> UiResult<Arc<BrandRuntime>> {
    signed_in(state, headers)
        .await?
        .ok_or_else(|| ApiError::App(AppError::Unauthorized).into())
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

async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    if let Some(token) = super::cookie(&headers, super::staff::STAFF_COOKIE) {
        state.app.sign_out(&token).await?;
    }
    let mut response = see_other("/console");
    set_cookie(&mut response, KEY_COOKIE, "", "/console", 0);
    set_cookie(&mut response, super::staff::STAFF_COOKIE, "", "/", 0);
    Ok(response)
}

struct QueueItem {
    label: String,
    status: String,
    url: String,
    button: String,
    /// A completion: the form asks how many units were scrapped.
    scrap_max: Option<i64>,
}

struct Queue {
    name: String,
    items: Vec<QueueItem>,
}

struct OrderRow {
    id: String,
    /// The order's console page.
    url: String,
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
    notice: String,
    /// (id, name) for the downtime form.
    work_centers: Vec<(String, String)>,
    /// Downtimes not over yet: (cancel url, what, reason).
    downtimes: Vec<(String, String, String)>,
    today: String,
    days: i32,
    gantt: String,
    /// The chart's version, which the page asks `/console/gantt` about
    /// twice a second to redraw it when the plan changed.
    gantt_etag: String,
    /// The chart's legend and its bars as a list.
    gantt_key: String,
    queues: Vec<Queue>,
    orders: Vec<OrderRow>,
    materials: Vec<MaterialRow>,
    /// Open purchases, each with its Receive and Arrives late forms.
    purchases: Vec<purchases::PurchaseRow>,
    /// What the signed-in person may do, so the page offers only that.
    can: super::staff::Can,
}

async fn console(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let flash = super::flash_of(&headers);
    let said = |kind: super::Flash| {
        flash
            .as_ref()
            .filter(|(k, _)| *k == kind)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    let Some(rt) = signed_in(&state, &headers).await? else {
        return Ok(page(&SignIn {
            problem: String::new(),
        }));
    };
    let shown = Shown {
        problem: said(super::Flash::Problem),
        notice: said(super::Flash::Notice),
        late: None,
    };
    let console = render(&state, &headers, &rt, shown).await?;
    Ok(super::spend_flash(&headers, console))
}

/// What the console shows besides the plan: a message, and a late-arrival
/// form sent back with its error.
pub(super) struct Shown {
    pub problem: String,
    pub notice: String,
    pub late: Option<purchases::LateField>,
}

/// The console's front page for the signed-in brand `rt`.
pub(super) async fn render(
    state: &AppState,
    headers: &HeaderMap,
    rt: &BrandRuntime,
    shown: Shown,
) -> UiResult<Response> {
    let slug = rt.brand.slug.as_str();
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
    for wo in state.app.work_orders(slug, true).await? {
        let Some(op) = wo
            .operations
            .iter()
            .find(|o| o.status != OperationStatus::Done)
        else {
            continue;
        };
        let (action, verb) = if op.status == OperationStatus::Started {
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
                status: op.status.to_string(),
                url: format!(
                    "/console/work-orders/{}/operations/{}/{action}",
                    wo.id, op.seq
                ),
                button: format!(
                    "{verb} {} ({}, work order …{})",
                    op.name,
                    wo.sku,
                    tail(wo.id.as_str())
                ),
                scrap_max: (action == "complete").then_some(wo.quantity),
            });
        }
    }
    queues.retain(|q| !q.items.is_empty());

    let mut orders = Vec::new();
    let latest = kiln_domain::OrderQuery {
        limit: LATEST_ORDERS,
        ..Default::default()
    };
    for o in state.app.orders(slug, latest).await? {
        let full = state.app.order(slug, &o.id).await?;
        let actions = super::orders::actions_of(&full);
        orders.push(OrderRow {
            url: format!("/console/orders/{}", o.id),
            id: o.id.to_string(),
            short: tail(o.id.as_str()),
            customer: o.customer_email,
            channel: o.channel.to_string(),
            status: o.status.as_str().replace('_', " "),
            promised: long_date(o.promised_date),
            ship_url: actions.ship_url,
            deliver_url: actions.deliver_url,
            payment: actions.payment,
            paid_url: actions.paid_url,
        });
    }

    let from = kiln_app::time::today();
    let materials = state
        .app
        .materials(slug)
        .await?
        .into_iter()
        .map(|m| MaterialRow {
            name: format!("{} ({})", m.name, m.unit),
            on_hand: m.on_hand.to_string(),
            allocated: m.allocated.to_string(),
            on_order: m.on_order.to_string(),
            available: m.available.to_string(),
            short: m.on_hand < m.allocated,
        })
        .collect();
    let downtimes = state
        .app
        .downtimes(slug)
        .await?
        .into_iter()
        .filter(|d| d.to_day >= from)
        .map(|d| {
            let centre = rt
                .catalog
                .factory
                .work_center(&d.work_center)
                .map_or(d.work_center.clone(), |w| w.name.clone());
            let when = if d.from_day == d.to_day {
                long_date(d.from_day)
            } else {
                format!("{} to {}", long_date(d.from_day), long_date(d.to_day))
            };
            (
                format!("/console/downtimes/{}/cancel", d.id),
                format!("{centre} down {when}"),
                d.reason,
            )
        })
        .collect();
    let schedule = state.app.schedule(slug, Some(from), DAYS).await?;
    let gantt = super::gantt::gantt_svg(&schedule.work_centers);
    let gantt_etag = super::gantt::etag(&gantt);
    let gantt_key = super::gantt::gantt_key(&schedule.work_centers);
    Ok(page(&Console {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        problem: shown.problem,
        notice: shown.notice,
        work_centers: rt
            .catalog
            .factory
            .work_centers
            .iter()
            .map(|w| (w.id.clone(), w.name.clone()))
            .collect(),
        downtimes,
        today: from.to_string(),
        days: DAYS,
        gantt,
        gantt_etag,
        gantt_key,
        queues,
        orders,
        materials,
        purchases: purchases::rows(state.app.suggestions(slug).await?, shown.late.as_ref()),
        can: super::staff::Can::of(state, headers).await?,
    }))
}

/// The console's Gantt chart alone, for the page to redraw it live (a
/// machine breaking down shows within a second): `304 Not Modified` while
/// the chart is the one the page has (`If-None-Match`).
async fn live_gantt(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let Some(rt) = signed_in(&state, &headers).await? else {
        return Ok(StatusCode::UNAUTHORIZED.into_response());
    };
    let from = kiln_app::time::today();
    let schedule = state
        .app
        .schedule(rt.brand.slug.as_str(), Some(from), DAYS)
        .await?;
    let svg = super::gantt::gantt_svg(&schedule.work_centers);
    let etag = super::gantt::etag(&svg);
    let cache = [
        (header::CACHE_CONTROL, "no-cache"),
        (header::ETAG, etag.as_str()),
    ];
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    )
        .into_response())
}

/// The last characters of an id: enough to tell rows apart on screen.
pub(super) fn tail(id: &str) -> String {
    let n = id.chars().count();
    id.chars().skip(n.saturating_sub(6)).collect()
}

pub(super) fn back_with(problem: &str) -> Response {
    back(super::Flash::Problem, problem)
}

/// Back to the console, which shows `text` once (see `super::redirect_with`).
pub(super) fn back(kind: super::Flash, text: &str) -> Response {
    super::redirect_with("/console", kind, text)
}

/// The page a form's `back` field names: `order:<id>` is that order's
/// console page; anything else is the console. Only an id's own characters
/// pass, so the field cannot send anyone elsewhere.
pub(super) fn return_to(back: &str) -> String {
    Some(back)
        .and_then(|v| v.strip_prefix("order:"))
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        })
        .map_or_else(
            || "/console".to_string(),
            |id| format!("/console/orders/{id}"),
        )
}

#[derive(Deserialize)]
struct OperationFields {
    /// Units scrapped, when completing; empty means none.
    #[serde(default)]
    scrap: String,
}

/// Starts or completes an operation and says what was done.
async fn operation(
    State(state): State<Arc<AppState>>,
    Path((wo, seq, action)): Path<(String, i64, String)>,
    headers: HeaderMap,
    Form(form): Form<OperationFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let action = match action.as_str() {
        "start" => OperationAction::Start,
        "complete" => match form.scrap.trim() {
            "" => OperationAction::Complete { scrap: 0 },
            s => match s.parse::<i64>() {
                Ok(scrap) if scrap >= 0 => OperationAction::Complete { scrap },
                _ => {
                    return Ok(back_with(
                        "Enter the scrapped units as a whole number, 0 if none.",
                    ));
                }
            },
        },
        other => return Err(ApiError::not_found(format!("no action `{other}`")).into()),
    };
    let wo = WorkOrderId::from(wo);
    let done = match state
        .app
        .record_operation(rt.brand.slug.as_str(), &wo, seq, action)
        .await
    {
        Ok(done) => done,
        Err(
            AppError::Conflict(m) | AppError::NotFound(m) | AppError::Invalid { detail: m, .. },
        ) => {
            return Ok(back_with(&m));
        }
        Err(e) => return Err(e.into()),
    };
    let name = done
        .work_order
        .operations
        .iter()
        .find(|o| o.seq == seq)
        .map_or("the operation", |o| o.name.as_str());
    let which = format!(
        "work order …{} ({})",
        tail(wo.as_str()),
        done.work_order.sku
    );
    let text = match action {
        OperationAction::Start => format!("Started {name} of {which}."),
        OperationAction::Complete { scrap: 0 } => format!(
            "Completed {name} of {which}: all {} good.",
            done.work_order.quantity
        ),
        OperationAction::Complete { scrap } => format!(
            "Completed {name} of {which}: {} good, {scrap} scrapped.",
            (done.work_order.quantity - scrap).max(0)
        ),
    };
    Ok(back(super::Flash::Notice, &text))
}
