//! A unit's passport page, where its label's QR code leads
//! (`/shop/{brand}/21/{serial}`, the GS1 Digital Link form): what the unit
//! is, what it is made of, how and when it was made, its warranty, and
//! whether the summary the label carries verifies with the brand's keys.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;

use super::{UiResult, page};
use crate::AppState;

#[derive(Deserialize)]
pub(super) struct Label {
    /// The signed summary the QR code carries.
    pp: Option<String>,
}

#[derive(Template)]
#[template(path = "passport.html")]
struct PassportPage {
    brand: String,
    cart_count: usize,
    serial: String,
    product: String,
    configuration: Vec<String>,
    sku: String,
    /// The product's GTIN (14 digits), or empty.
    gtin: String,
    made_at: String,
    warranty: String,
    /// (material, quantity with unit, the purchases it came from)
    materials: Vec<(String, String, String)>,
    /// (operation, work centre, machine, completed)
    operations: Vec<(String, String, String, String)>,
    kid: String,
    /// What checking the label's summary found, if it carried one.
    label: String,
    /// (day, what happened) after it was made: claims and their repairs.
    history: Vec<(String, String)>,
}

/// A claim as the public passport page tells it: what, on which parts,
/// and what was done, never the customer's words.
fn history_line(c: &kiln_app::claims::UnitClaim) -> (String, String) {
    use kiln_domain::{ClaimKind, ClaimStatus, OrderStatus};
    let claim = &c.claim;
    let what = match claim.kind {
        ClaimKind::Warranty => "Warranty claim",
        ClaimKind::Return => "Return",
    };
    let parts = if claim.parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", claim.parts.join(", "))
    };
    let done = match claim.status {
        ClaimStatus::Open => "waiting for a decision".to_string(),
        ClaimStatus::Refund => "refunded".to_string(),
        ClaimStatus::Rejected => "rejected".to_string(),
        ClaimStatus::Repair | ClaimStatus::Remake => {
            let job = if claim.status == ClaimStatus::Repair {
                "repair"
            } else {
                "remade as a new unit"
            };
            let stage = match (c.after_sales, claim.promised_date) {
                (Some(OrderStatus::Planned), Some(d)) => {
                    format!("planned, promised for {}", super::long_date(d))
                }
                (Some(OrderStatus::InProduction), Some(d)) => {
                    format!("in the factory, promised for {}", super::long_date(d))
                }
                (Some(OrderStatus::Made), _) => "done, to be sent back".into(),
                (Some(OrderStatus::Shipped), _) => "done and sent back".into(),
                (Some(OrderStatus::Delivered), _) => "done and delivered".into(),
                _ => "decided".into(),
            };
            format!("{job}: {stage}")
        }
    };
    (
        claim.created_at.to_string().chars().take(10).collect(),
        format!("{what}{parts}: {done}"),
    )
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// A GS1 Digital Link URI at the server's root (`/01/{gtin}/21/{serial}`,
/// on the label of a product with a GTIN) opens the unit's passport page
/// as its brand's `/shop/{brand}/21/{serial}` does.
pub(super) async fn digital_link(
    State(state): State<Arc<AppState>>,
    Path((gtin, serial)): Path<(String, String)>,
    Query(label): Query<Label>,
) -> UiResult<Response> {
    let brand = state.app.resolve_digital_link(&gtin, &serial).await?;
    passport_page(
        State(state),
        Path((brand.to_string(), serial)),
        Query(label),
    )
    .await
}

pub(super) async fn passport_page(
    State(state): State<Arc<AppState>>,
    Path((brand, serial)): Path<(String, String)>,
    Query(label): Query<Label>,
) -> UiResult<Response> {
    let rt = state.app.brand(&brand).await?;
    let view = state.app.passport(rt.brand.slug.as_str(), &serial).await?;
    let p = &view.payload;
    let product = rt
        .catalog
        .product(p["product"]["id"].as_str().unwrap_or_default());
    let configuration = p["configuration"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| match product {
                    Some(c) => super::panel::selection_label(c, k, &text(v)),
                    None => format!("{k}: {}", text(v)),
                })
                .collect()
        })
        .unwrap_or_default();
    let list = |key: &str| p[key].as_array().cloned().unwrap_or_default();
    let materials = list("materials")
        .iter()
        .map(|m| {
            let from: Vec<String> = m["lots"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| match l["source"].as_str() {
                    Some("purchase") => format!(
                        "purchase {} received {}",
                        text(&l["purchase"]),
                        text(&l["received_at"]).chars().take(10).collect::<String>()
                    ),
                    Some("opening_stock") => "stock on hand".into(),
                    _ => "a purchase not yet received".into(),
                })
                .collect();
            (
                text(&m["name"]),
                format!("{} {}", text(&m["quantity"]), text(&m["unit"])),
                if from.is_empty() {
                    "–".to_string()
                } else {
                    from.join("; ")
                },
            )
        })
        .collect();
    let operations = list("operations")
        .iter()
        .map(|o| {
            let centre = text(&o["work_center"]);
            let centre = rt
                .catalog
                .factory
                .work_center(&centre)
                .map_or(centre.clone(), |w| w.name.clone());
            (
                text(&o["name"]),
                centre,
                o["machine"].as_str().unwrap_or("–").to_string(),
                o["completed_at"]
                    .as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map(super::minute)
                    .unwrap_or_default(),
            )
        })
        .collect();
    let label = match label.pp {
        None => String::new(),
        Some(pp) => {
            let keys = state.app.passport_keys(rt.brand.slug.as_str()).await?;
            let keys = serde_json::to_string(&keys).unwrap_or_default();
            match kiln_app::passport::verify(&pp, &keys) {
                Ok(summary) if summary["serial"] == serial.as_str() => {
                    "The code on this unit's label verifies: signed by the brand, for this serial."
                        .into()
                }
                Ok(_) => "The code on the label is signed, but for another unit.".into(),
                Err(e) => format!("The code on the label does not verify: {e}."),
            }
        }
    };
    let mut history = vec![(
        text(&p["made_at"]).chars().take(10).collect(),
        "Made and signed".to_string(),
    )];
    history.extend(
        state
            .app
            .unit_history(rt.brand.slug.as_str(), &view.serial)
            .await?
            .iter()
            .map(history_line),
    );
    Ok(page(&PassportPage {
        brand: rt.brand.slug.to_string(),
        cart_count: 0,
        serial: view.serial.clone(),
        product: text(&p["product"]["name"]),
        configuration,
        sku: text(&p["sku"]),
        gtin: p["product"]["gtin"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        made_at: text(&p["made_at"]).chars().take(10).collect(),
        warranty: p["warranty_until"]
            .as_str()
            .map_or_else(|| "none".to_string(), |d| format!("until {d}")),
        materials,
        operations,
        kid: view.kid.clone(),
        label,
        history,
    }))
}
