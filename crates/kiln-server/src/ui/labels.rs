//! Printable labels from the console: one unit's, a work order's units', or
//! an order's units' with the order's shipping label. Each carries the QR
//! code of the unit's passport (GS1 Digital Link with a signed summary),
//! its serial, product, SKU and warranty. The page prints one label per
//! sheet of a label printer (`@media print` in kiln.css).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use kiln_app::labels::{LabelsOf, ShippingLabel};
use kiln_domain::{OrderId, WorkOrderId};

use super::console::require;
use super::{UiResult, page};
use crate::AppState;
use crate::api::passports::{public_base, qr_svg};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/units/{serial}/label", get(unit))
        .route("/console/orders/{order}/labels", get(order))
        .route("/console/work-orders/{work_order}/labels", get(work_order))
        .route("/console/shipments/{shipment}/label.svg", get(shipment))
}

struct LabelView {
    serial: String,
    product: String,
    sku: String,
    made: String,
    warranty: String,
    /// The QR code, as inline SVG.
    qr: String,
    /// What the code holds: the GS1 Digital Link URI with the signed summary.
    uri: String,
    /// `…/21/{serial}`: the short form printed under the code.
    short_uri: String,
}

#[derive(Template)]
#[template(path = "labels.html")]
struct LabelsPage {
    title: String,
    brand_name: String,
    back: String,
    labels: Vec<LabelView>,
    shipping: Option<ShippingLabel>,
}

async fn render(
    state: &AppState,
    headers: &HeaderMap,
    of: LabelsOf,
    title: String,
    back: String,
) -> UiResult<Response> {
    let rt = require(state, headers).await?;
    let base = public_base(headers);
    let labels = state.app.labels(rt.brand.slug.as_str(), of, &base).await?;
    let mut views = Vec::with_capacity(labels.units.len());
    for l in labels.units {
        views.push(LabelView {
            qr: qr_svg(&l.uri)?,
            short_uri: l.uri.split('?').next().unwrap_or_default().to_string(),
            uri: l.uri,
            warranty: l
                .warranty_until
                .map_or_else(|| "none".to_string(), |d| format!("until {d}")),
            serial: l.serial,
            product: l.product,
            sku: l.sku,
            made: l.made,
        });
    }
    Ok(page(&LabelsPage {
        title,
        brand_name: rt.brand.name.clone(),
        back,
        labels: views,
        shipping: labels.shipping,
    }))
}

async fn unit(
    State(state): State<Arc<AppState>>,
    Path(serial): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let title = format!("Label of unit {serial}");
    render(
        &state,
        &headers,
        LabelsOf::Unit(serial),
        title,
        "/console".into(),
    )
    .await
}

async fn order(
    State(state): State<Arc<AppState>>,
    Path(order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let title = format!("Labels of order {order}");
    let back = format!("/console/orders/{order}");
    render(
        &state,
        &headers,
        LabelsOf::Order(OrderId::from(order)),
        title,
        back,
    )
    .await
}

async fn work_order(
    State(state): State<Arc<AppState>>,
    Path(work_order): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let title = format!("Labels of work order {work_order}");
    render(
        &state,
        &headers,
        LabelsOf::WorkOrder(WorkOrderId::from(work_order)),
        title,
        "/console".into(),
    )
    .await
}

/// A shipment's label and packing list, as SVG to print.
async fn shipment(
    State(state): State<Arc<AppState>>,
    Path(shipment): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let id = kiln_domain::ShipmentId::from(shipment);
    let label = state
        .app
        .shipment_label(rt.brand.slug.as_str(), &id)
        .await?;
    Ok(crate::shipping_label::svg_response(&label)?)
}
