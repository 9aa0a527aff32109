//! The customer's order page, reached by the secret token in its link: the
//! promise, its changes, progress, the address, how to pay and the items.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::panel::selection_label;
use super::{UiResult, long_date, money, page};
use crate::AppState;
use kiln_app::BrandRuntime;
use kiln_domain::{OrderId, PaymentStatus, TimelineStatus};

pub struct StepView {
    label: &'static str,
    done: bool,
    at: String,
    note: String,
}

#[derive(Template)]
#[template(path = "order.html")]
pub(super) struct OrderPage {
    pub(super) payment: String,
    pub(super) brand: String,
    pub(super) cart_count: usize,
    pub(super) id: String,
    pub(super) status_label: String,
    pub(super) promised: String,
    pub(super) steps: Vec<StepView>,
    /// (when, what) for each change to the promise, newest last.
    pub(super) updates: Vec<(String, String)>,
    pub(super) lines: Vec<(String, String, i64, String)>,
    pub(super) total: String,
    /// "€4.90", "free", or "none: picked up at the store".
    pub(super) shipping: String,
    /// "Includes VAT: €5.09", or empty.
    pub(super) tax: String,
    /// Where it goes, a line each, as the customer typed it.
    pub(super) address: Vec<String>,
    pub(super) email: String,
    /// (serial, passport page) of each unit made for the order.
    pub(super) units: Vec<(String, String)>,
    /// What was just done, said once (an accepted quote, say).
    pub(super) notice: String,
}

pub const STEPS: &[(&str, &str)] = &[
    ("ordered", "Ordered"),
    ("planned", "Planned"),
    ("in_production", "In production"),
    ("made", "Made"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
];

#[derive(Deserialize)]
pub(super) struct Token {
    token: Option<String>,
}

pub(super) async fn order_page(
    State(state): State<Arc<AppState>>,
    Path((brand, order)): Path<(String, String)>,
    Query(token): Query<Token>,
    headers: axum::http::HeaderMap,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let o = state
        .app
        .order_for_customer(
            rt.brand.slug.as_str(),
            &OrderId::from(order),
            token.token.as_deref(),
        )
        .await?;
    let mut view = order_view(&rt, &o);
    view.units = units_of(&state, &rt, &o.id).await?;
    if let Some((super::Flash::Notice, text)) = super::flash_of(&headers) {
        view.notice = text;
    }
    Ok(super::spend_flash(&headers, page(&view)))
}

/// Each unit made for an order: its serial and its passport page.
pub(super) async fn units_of(
    state: &AppState,
    rt: &BrandRuntime,
    order: &OrderId,
) -> UiResult<Vec<(String, String)>> {
    let slug = rt.brand.slug.as_str();
    Ok(state
        .app
        .units_of_order(slug, order)
        .await?
        .into_iter()
        .map(|u| (format!("/shop/{slug}/21/{}", u.serial), u.serial))
        .map(|(page, serial)| (serial, page))
        .collect())
}

/// The order page of one order, for the customer or a clerk.
pub(super) fn order_view(rt: &BrandRuntime, o: &kiln_domain::Order) -> OrderPage {
    let steps = STEPS
        .iter()
        .map(|(status, label)| {
            let event = o.timeline.iter().find(|e| e.status.as_str() == *status);
            StepView {
                label,
                done: event.is_some(),
                at: event.map(|e| super::minute(e.at)).unwrap_or_default(),
                note: event.map(|e| e.note.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let updates = o
        .timeline
        .iter()
        .filter(|e| e.status == TimelineStatus::PromiseMoved)
        .map(|e| (super::minute(e.at), e.note.clone()))
        .collect();
    let status_label = STEPS
        .iter()
        .find(|(s, _)| *s == o.status.as_str())
        .map(|(_, l)| l.to_string())
        .unwrap_or(o.status.to_string());
    let lines = o
        .lines
        .iter()
        .map(|l| {
            let selections = &l.selections;
            let (name, summary) = match rt.catalog.product(&l.product_id) {
                Some(c) => (
                    c.product().name.clone(),
                    selections
                        .iter()
                        .map(|(k, v)| selection_label(c, k, v))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
                None => (l.product_id.clone(), l.sku.clone()),
            };
            let unit = money(&o.currency, l.unit_price);
            (name, summary, l.quantity, unit)
        })
        .collect();
    let total = money(&o.currency, o.total);
    let shipping = if o.channel == kiln_domain::Channel::Store {
        "none: picked up at the store".to_string()
    } else if o.shipping.is_zero() {
        "free".to_string()
    } else {
        money(&o.currency, o.shipping)
    };
    let tax = if o.tax.is_zero() {
        String::new()
    } else {
        format!(
            "Includes {}: {}",
            rt.catalog.factory.sales.tax_name,
            money(&o.currency, o.tax)
        )
    };
    let payment = match &o.payment {
        Some(p) if p.status == PaymentStatus::Paid => format!("Paid ({})", p.reference),
        Some(p) if p.status == PaymentStatus::AwaitingPayment => p.instructions.clone(),
        Some(p) => format!("{} ({})", p.status.as_str().replace('_', " "), p.reference),
        None => String::new(),
    };
    let address = super::address_lines(&o.ship_to);
    OrderPage {
        notice: String::new(),
        address,
        email: o.customer.email.clone(),
        units: Vec::new(),
        payment,
        brand: rt.brand.slug.to_string(),
        cart_count: 0,
        id: o.id.to_string(),
        status_label,
        promised: long_date(o.promised_date),
        steps,
        updates,
        lines,
        total,
        shipping,
        tax,
    }
}
