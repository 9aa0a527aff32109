//! Claims from the console: opened on a unit from its order's page, and
//! decided there; each comes back to the order with what was done. The
//! claims page (`/console/claims`) lists what waits for a decision and
//! which products, choices, materials and machines the claims point at.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use kiln_app::Error as AppError;
use kiln_app::claims::{ClaimRequest, Decision};
use kiln_domain::{ClaimId, ClaimKind};
use serde::Deserialize;

use super::UiResult;
use super::console::{require, return_to};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/units/{serial}/claims", post(open))
        .route("/console/claims/{claim}/decision", post(decide))
        .route("/console/claims", get(report))
}

/// One row of a claims table: what, claims, units made, per 100 units,
/// and whether that rate is above the brand's overall one.
struct TallyRow {
    what: String,
    claims: usize,
    units: usize,
    rate: String,
    above: bool,
}

struct TallyTable {
    title: &'static str,
    /// What the first column names.
    column: &'static str,
    rows: Vec<TallyRow>,
}

struct WaitingRow {
    id: String,
    serial: String,
    what: String,
    opened: String,
    order_url: String,
}

#[derive(Template)]
#[template(path = "console_claims.html")]
struct ClaimsPage {
    brand: String,
    units: usize,
    claims: usize,
    rate: String,
    waiting: Vec<WaitingRow>,
    tables: Vec<TallyTable>,
}

/// A claim in a line: its kind, the customer's words and the parts.
pub(super) fn what(c: &kiln_domain::Claim) -> String {
    let kind = match c.kind {
        ClaimKind::Warranty => "Warranty claim",
        ClaimKind::Return => "Return",
    };
    if c.parts.is_empty() {
        format!("{kind}: {}", c.reason)
    } else {
        format!("{kind}: {} ({})", c.reason, c.parts.join(", "))
    }
}

async fn report(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let r = state.app.claims_report(rt.brand.slug.as_str()).await?;
    let factory = &rt.catalog.factory;
    let product_name = |id: &str| {
        rt.catalog
            .product(id)
            .map_or_else(|| id.to_string(), |c| c.product().name.clone())
    };
    let rows = |list: &[kiln_app::claims::report::Tally],
                name: &dyn Fn(&kiln_app::claims::report::Tally) -> String| {
        list.iter()
            .map(|t| TallyRow {
                what: name(t),
                claims: t.claims,
                units: t.units,
                rate: format!("{:.1}", t.per_hundred),
                above: t.per_hundred > r.per_hundred,
            })
            .collect()
    };
    let tables = vec![
        TallyTable {
            title: "By product",
            column: "Product",
            rows: rows(&r.by_product, &|t| product_name(&t.key)),
        },
        TallyTable {
            title: "By option value",
            column: "Option value",
            rows: rows(&r.by_option_value, &|t| {
                let (Some(p), Some(o), Some(v)) = (&t.product, &t.option, &t.value) else {
                    return t.key.clone();
                };
                match rt.catalog.product(p) {
                    Some(c) => format!(
                        "{} · {}",
                        c.product().name,
                        super::panel::selection_label(c, o, v)
                    ),
                    None => t.key.clone(),
                }
            }),
        },
        TallyTable {
            title: "By material",
            column: "Material",
            rows: rows(&r.by_material, &|t| {
                factory
                    .material(&t.key)
                    .map_or_else(|| t.key.clone(), |m| m.name.clone())
            }),
        },
        TallyTable {
            title: "By work centre",
            column: "Work centre",
            rows: rows(&r.by_work_center, &|t| {
                factory
                    .work_center(&t.key)
                    .map_or_else(|| t.key.clone(), |w| w.name.clone())
            }),
        },
        TallyTable {
            title: "By machine",
            column: "Machine",
            rows: rows(&r.by_machine, &|t| t.key.clone()),
        },
    ];
    let waiting = r
        .waiting
        .iter()
        .map(|c| WaitingRow {
            id: c.id.to_string(),
            serial: c.serial.clone(),
            what: what(c),
            opened: super::minute(c.created_at),
            order_url: format!("/console/orders/{}", c.order_id),
        })
        .collect();
    Ok(super::page(&ClaimsPage {
        brand: rt.brand.slug.to_string(),
        units: r.units,
        claims: r.claims,
        rate: format!("{:.1}", r.per_hundred),
        waiting,
        tables,
    }))
}

#[derive(Deserialize)]
struct OpenFields {
    kind: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    parts: String,
    #[serde(default)]
    back: String,
}

async fn open(
    State(state): State<Arc<AppState>>,
    Path(serial): Path<String>,
    headers: HeaderMap,
    Form(form): Form<OpenFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let back = return_to(&form.back);
    let Ok(kind) = form.kind.parse::<ClaimKind>() else {
        return Ok(super::redirect_with(
            &back,
            super::Flash::Problem,
            "Choose warranty or return.",
        ));
    };
    let req = ClaimRequest {
        kind,
        reason: form.reason,
        parts: form
            .parts
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect(),
    };
    Ok(
        match state
            .app
            .open_claim(rt.brand.slug.as_str(), &serial, req)
            .await
        {
            Ok(c) => super::redirect_with(
                &back,
                super::Flash::Notice,
                &format!(
                    "Claim {} opened on unit {serial}, {}.",
                    c.id,
                    if c.in_warranty {
                        "under warranty"
                    } else {
                        "out of warranty"
                    }
                ),
            ),
            Err(AppError::Invalid { errors, detail }) => {
                let why = super::why_refused(&errors, detail);
                super::redirect_with(
                    &back,
                    super::Flash::Problem,
                    &format!("The claim was not opened: {why}."),
                )
            }
            Err(e) => return Err(e.into()),
        },
    )
}

#[derive(Deserialize)]
struct DecideFields {
    decision: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    back: String,
}

async fn decide(
    State(state): State<Arc<AppState>>,
    Path(claim): Path<String>,
    headers: HeaderMap,
    Form(form): Form<DecideFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let back = return_to(&form.back);
    let decision = match form.decision.as_str() {
        "repair" => Decision::Repair,
        "remake" => Decision::Remake,
        "refund" => Decision::Refund,
        "reject" => Decision::Reject,
        _ => {
            return Ok(super::redirect_with(
                &back,
                super::Flash::Problem,
                "Choose repair, remake, refund or reject.",
            ));
        }
    };
    let id = ClaimId::from(claim);
    Ok(
        match state
            .app
            .decide_claim(rt.brand.slug.as_str(), &id, decision, &form.note)
            .await
        {
            Ok(c) => {
                let text = match (&c.work_order_id, &c.after_sales_order_id, c.promised_date) {
                    (Some(wo), Some(order), Some(promised)) => format!(
                        "Claim {id} decided: {}. Work order {wo} is on the schedule; \
                         order {order} brings it back to the customer by {}.",
                        c.status,
                        super::long_date(promised)
                    ),
                    _ => format!("Claim {id} decided: {}.", c.status),
                };
                super::redirect_with(&back, super::Flash::Notice, &text)
            }
            Err(
                AppError::Conflict(m) | AppError::NotFound(m) | AppError::Invalid { detail: m, .. },
            ) => super::redirect_with(&back, super::Flash::Problem, &format!("{m}.")),
            Err(e) => return Err(e.into()),
        },
    )
}
