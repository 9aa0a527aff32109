//! An order's fulfilment from the console: the ship form and shipping,
//! a shipment marked delivered, a payment recorded. Each goes back where
//! it was asked from (the console or the order's page).

use std::sync::Arc;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kiln_app::Error as AppError;
use kiln_domain::{OrderId, PaymentStatus, ShipmentId};
use serde::Deserialize;

use super::console::{back_with, require, return_to, tail};
use super::{UiResult, page};
use crate::AppState;

/// Where a form asked to go back to: `back=order:<id>` is that order's
/// console page; anything else is the console. Only an id's own characters
/// pass, so the field cannot send anyone elsewhere.
fn return_path(form_body: &str) -> String {
    let fields: Vec<(String, String)> = serde_urlencoded::from_str(form_body).unwrap_or_default();
    fields
        .iter()
        .find(|(k, _)| k == "back")
        .map_or_else(|| "/console".to_string(), |(_, v)| return_to(v))
}

/// Back where the form came from (see [`return_path`]), showing `text` once.
fn back_to(form_body: &str, kind: super::Flash, text: &str) -> Response {
    super::redirect_with(&return_path(form_body), kind, text)
}

#[derive(Template)]
#[template(path = "ship.html")]
struct ShipForm {
    order_id: String,
    problem: String,
    /// (value, label) of each carrier to pick.
    carriers: Vec<(String, String)>,
    /// The brand ships by its declared carriers: Kiln may choose, and the
    /// manual carrier numbers the shipment.
    by_carrier: bool,
    /// `order:<id>` when opened from the order's page, to go back there.
    back: String,
}

#[derive(Deserialize)]
pub(super) struct ShipFrom {
    #[serde(default)]
    back: String,
}

const CARRIERS: &[&str] = &["DHL", "UPS", "DPD", "FedEx", "Royal Mail", "La Poste"];

/// The carriers the form offers: the brand's own, or common names to type
/// a tracking number for.
fn carrier_choices(rt: &kiln_app::runtime::BrandRuntime) -> (Vec<(String, String)>, bool) {
    let f = &rt.catalog.factory;
    if kiln_app::logistics::by_carrier(f) {
        let own = f
            .carriers
            .iter()
            .map(|c| (c.id.clone(), c.name.clone()))
            .collect();
        (own, true)
    } else {
        let names = CARRIERS
            .iter()
            .map(|c| (c.to_string(), c.to_string()))
            .collect();
        (names, false)
    }
}

pub(super) async fn ship_form(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    Query(from): Query<ShipFrom>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let back = if from.back == "order" {
        format!("order:{order}")
    } else {
        String::new()
    };
    let (carriers, by_carrier) = carrier_choices(&rt);
    Ok(page(&ShipForm {
        order_id: order,
        problem: String::new(),
        carriers,
        by_carrier,
        back,
    }))
}

#[derive(Deserialize)]
pub(super) struct ShipFields {
    carrier: String,
    tracking_number: String,
    #[serde(default)]
    back: String,
}

pub(super) async fn ship(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    Form(form): Form<ShipFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let (carrier, tracking) = (form.carrier.trim(), form.tracking_number.trim());
    let (carriers, by_carrier) = carrier_choices(&rt);
    if !by_carrier && (carrier.is_empty() || tracking.is_empty()) {
        let problem = "Choose a carrier and enter the tracking number.".to_string();
        return Ok(page(&ShipForm {
            order_id: order,
            problem,
            carriers,
            by_carrier,
            back: form.back,
        }));
    }
    let order = OrderId::from(order);
    let req = kiln_app::shipping::ShipRequest {
        carrier: Some(carrier.to_string()),
        tracking_number: Some(tracking.to_string()),
        lines: Vec::new(),
    };
    Ok(
        match state.app.ship(rt.brand.slug.as_str(), &order, &req).await {
            Ok(s) => {
                // The carrier and service by the names the model gives them.
                let c = rt
                    .catalog
                    .factory
                    .carriers
                    .iter()
                    .find(|c| c.id == s.carrier);
                let carrier = c.map_or(s.carrier.as_str(), |c| c.name.as_str());
                let service = s.service.as_deref().map(|id| {
                    c.and_then(|c| c.services.iter().find(|v| v.id == id))
                        .map_or(id, |v| v.name.as_str())
                });
                back_to(
                    &serde_urlencoded::to_string([("back", form.back.as_str())])
                        .unwrap_or_default(),
                    super::Flash::Notice,
                    &format!(
                        "Order …{} shipped with {carrier}{}, tracking number {}.",
                        tail(order.as_str()),
                        service.map(|v| format!(" ({v})")).unwrap_or_default(),
                        s.tracking_number
                    ),
                )
            }
            Err(AppError::Conflict(m)) => back_with(&m),
            Err(e) => return Err(e.into()),
        },
    )
}

pub(super) async fn delivered(
    State(state): State<Arc<AppState>>,
    Path(shipment): Path<String>,
    headers: HeaderMap,
    body: String,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let shipment = ShipmentId::from(shipment);
    state.app.deliver(rt.brand.slug.as_str(), &shipment).await?;
    let text = format!("Shipment …{} marked delivered.", tail(shipment.as_str()));
    Ok(back_to(&body, super::Flash::Notice, &text))
}

pub(super) async fn paid(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
    body: String,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let order = OrderId::from(order);
    state
        .app
        .set_payment(rt.brand.slug.as_str(), &order, PaymentStatus::Paid)
        .await?;
    let text = format!("Payment recorded for order …{}.", tail(order.as_str()));
    Ok(back_to(&body, super::Flash::Notice, &text))
}
