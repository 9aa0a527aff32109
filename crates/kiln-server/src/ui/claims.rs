//! Claims from the console: opened on a unit from its order's page, and
//! decided there; each comes back to the order with what was done.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
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
                let why = if errors.is_empty() {
                    detail
                } else {
                    errors
                        .iter()
                        .map(|e| e.message.clone())
                        .collect::<Vec<_>>()
                        .join("; ")
                };
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
