//! Purchases on order, from the console: one received into stock, or one a
//! supplier says arrives late (`App::delay_purchase`), which comes back as a
//! notice of the promises that moved. The console lists them (see
//! [`rows`]); planners and admins act on them (`staff::may`).

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use kiln_app::planning::LatePurchase;
use kiln_app::{BrandRuntime, Error as AppError};
use kiln_domain::{PurchaseSuggestion, SuggestionId};
use serde::Deserialize;

use super::console::{Shown, back, back_with, render, require, tail};
use super::{Flash, UiResult, long_date, see_other, sentence, why_refused};
use crate::AppState;

/// An "Arrives late" form sent back: the purchase, what was typed and why
/// it was refused.
pub(super) struct LateField {
    pub id: String,
    pub value: String,
    pub error: String,
}

/// One open purchase as the console lists it.
pub(super) struct PurchaseRow {
    pub id: String,
    pub material: String,
    pub qty: String,
    pub order_by: String,
    pub arrives: String,
    pub order_id: String,
    /// The "Arrives late" field's value: what was typed when sent back,
    /// else the current arrival (today at the earliest).
    pub late_value: String,
    /// Why that value was refused; empty when it was not.
    pub late_error: String,
}

/// The console's rows for the open purchases, `late` beside its own.
pub(super) fn rows(open: Vec<PurchaseSuggestion>, late: Option<&LateField>) -> Vec<PurchaseRow> {
    let today = kiln_app::time::today();
    open.into_iter()
        .map(|s| {
            let id = s.id.to_string();
            let sent_back = late.filter(|l| l.id == id);
            PurchaseRow {
                late_value: sent_back
                    .map_or_else(|| s.arrives.max(today).to_string(), |l| l.value.clone()),
                late_error: sent_back.map(|l| l.error.clone()).unwrap_or_default(),
                id,
                material: s.material,
                qty: s.qty.to_string(),
                order_by: s.order_by.to_string(),
                arrives: s.arrives.to_string(),
                order_id: s.order_id,
            }
        })
        .collect()
}

/// Receives a suggested purchase into stock.
pub(super) async fn receive(
    State(state): State<Arc<AppState>>,
    Path(suggestion): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    Ok(
        match state
            .app
            .receive_purchase(rt.brand.slug.as_str(), &SuggestionId::from(suggestion))
            .await
        {
            Ok(_) => see_other("/console#purchases"),
            Err(AppError::Conflict(m) | AppError::NotFound(m)) => back_with(&m),
            Err(e) => return Err(e.into()),
        },
    )
}

#[derive(Deserialize)]
pub(super) struct DelayFields {
    /// The day the supplier now says it arrives, `YYYY-MM-DD`.
    #[serde(default)]
    arrives: String,
}

/// Records that a purchase arrives later and says which promises moved; a
/// day refused comes back beside its field (422); a purchase received
/// already is said on the console; an unknown one is not found (404).
pub(super) async fn delay(
    State(state): State<Arc<AppState>>,
    Path(suggestion): Path<String>,
    headers: HeaderMap,
    Form(form): Form<DelayFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let typed = form.arrives.trim();
    let refused = |error: String| LateField {
        id: suggestion.clone(),
        value: typed.chars().take(40).collect(),
        error,
    };
    let Ok(arrives) = typed.parse::<Date>() else {
        let error = "Enter the day it now arrives as a date, such as 2026-12-15.".to_string();
        return again(&state, &headers, &rt, refused(error)).await;
    };
    let id = SuggestionId::from(suggestion.clone());
    match state
        .app
        .delay_purchase(rt.brand.slug.as_str(), &id, arrives)
        .await
    {
        Ok(late) => Ok(back(Flash::Notice, &notice(&rt, &late))),
        Err(AppError::Invalid { detail, errors }) => {
            let error = sentence(&why_refused(&errors, detail));
            again(&state, &headers, &rt, refused(error)).await
        }
        Err(AppError::Conflict(m)) => Ok(back_with(&sentence(&format!("Not recorded: {m}")))),
        Err(e) => Err(e.into()),
    }
}

/// The console again, with the refused day beside its field.
async fn again(
    state: &AppState,
    headers: &HeaderMap,
    rt: &BrandRuntime,
    late: LateField,
) -> UiResult<Response> {
    let shown = Shown {
        problem: format!(
            "The late arrival was not recorded: {}",
            late.error.trim_end_matches('.')
        ) + ". See the purchase below.",
        notice: String::new(),
        late: Some(late),
    };
    let page = render(state, headers, rt, shown).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, page).into_response())
}

/// "Poplin now arrives Tue 15 Dec 2026: 2 orders moved (…a1b2c3 to …), 1 at risk (…)."
fn notice(rt: &BrandRuntime, late: &LatePurchase) -> String {
    let p = &late.purchase;
    let name = rt
        .catalog
        .factory
        .material(&p.material)
        .map_or(p.material.as_str(), |m| m.name.as_str());
    let mut text = format!("{name} now arrives {}: ", long_date(p.arrives));
    match late.moved.len() {
        0 => text.push_str("no order moved"),
        1 => text.push_str("1 order moved ("),
        n => {
            let _ = write!(text, "{n} orders moved (");
        }
    }
    if !late.moved.is_empty() {
        text.push_str(&super::disruption::moved_orders(&late.moved));
        text.push(')');
    }
    if !late.at_risk.is_empty() {
        let ids: Vec<String> = late
            .at_risk
            .iter()
            .take(super::disruption::NAMED)
            .map(|o| format!("…{}", tail(o.as_str())))
            .collect();
        let _ = write!(
            text,
            ", {} at risk ({}): beyond the planning horizon, act on {}",
            late.at_risk.len(),
            ids.join(", "),
            if late.at_risk.len() == 1 {
                "it"
            } else {
                "them"
            }
        );
    }
    text.push('.');
    text
}
