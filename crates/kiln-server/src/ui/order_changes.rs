//! Changing an order from its console page before production: a line's
//! quantity, or a line cancelled; the notice says what the freed time now
//! allows other orders.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use kiln_app::Error as AppError;
use kiln_domain::OrderId;
use serde::Deserialize;

use super::console::require;
use super::{UiResult, long_date, money};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/orders/{order}/lines/{line}", post(change_line))
        .route(
            "/console/orders/{order}/lines/{line}/cancel",
            post(cancel_line),
        )
}

#[derive(Deserialize)]
struct LineFields {
    #[serde(default)]
    quantity: String,
}

/// What freed time now allows: other lines that could be delivered
/// earlier, and how to pull them forward; empty when none.
async fn earlier_note(state: &AppState, slug: &str) -> String {
    match state.app.earlier_deliveries(slug).await {
        Ok(e) if !e.lines.is_empty() => format!(
            " {} other order line{} could now be delivered earlier: re-sequence the schedule from the console to pull {} forward.",
            e.lines.len(),
            if e.lines.len() == 1 { "" } else { "s" },
            if e.lines.len() == 1 { "it" } else { "them" }
        ),
        Ok(_) => String::new(),
        Err(e) => {
            tracing::warn!(error = %e, "no report of earlier deliveries");
            String::new()
        }
    }
}

/// Back to the order's page, saying `text`.
fn to_order(order: &str, kind: super::Flash, text: &str) -> Response {
    super::redirect_with(&format!("/console/orders/{order}"), kind, text)
}

/// Changes a line's quantity before production (`App::change_line`).
async fn change_line(
    State(state): State<Arc<AppState>>,
    Path((order, line)): Path<(String, i64)>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<LineFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let Ok(quantity) = form.quantity.trim().parse::<u32>() else {
        let text = format!("Line {line}: enter a quantity from 1 to 10,000 (whole units).");
        return Ok(to_order(&order, super::Flash::Problem, &text));
    };
    let change = kiln_app::changes::LineChange {
        quantity: Some(quantity),
        selections: None,
    };
    let id = OrderId::from(order.clone());
    Ok(
        match state
            .app
            .change_line(rt.brand.slug.as_str(), &id, line, &change)
            .await
        {
            Ok(changed) => {
                let new = changed.lines.last().map_or(line, |l| l.line_no);
                let text = format!(
                    "Line {line} changed to {quantity}: now line {new}; the order comes to {}, promised {}.{}",
                    money(&changed.currency, changed.total),
                    long_date(changed.promised_date),
                    earlier_note(&state, rt.brand.slug.as_str()).await
                );
                to_order(&order, super::Flash::Notice, &text)
            }
            Err(AppError::Conflict(m)) => to_order(&order, super::Flash::Problem, &m),
            Err(AppError::Invalid { detail, .. }) => to_order(
                &order,
                super::Flash::Problem,
                &format!("Line {line}: {detail}"),
            ),
            Err(e) => return Err(e.into()),
        },
    )
}

/// Cancels a line before production (`App::cancel`).
async fn cancel_line(
    State(state): State<Arc<AppState>>,
    Path((order, line)): Path<(String, i64)>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let id = OrderId::from(order.clone());
    let what = kiln_app::changes::Cancel::Line(line);
    Ok(
        match state.app.cancel(rt.brand.slug.as_str(), &id, what).await {
            Ok(changed) => {
                let text = format!(
                    "Line {line} cancelled; the order comes to {}.{}",
                    money(&changed.currency, changed.total),
                    earlier_note(&state, rt.brand.slug.as_str()).await
                );
                to_order(&order, super::Flash::Notice, &text)
            }
            Err(AppError::Conflict(m)) => to_order(&order, super::Flash::Problem, &m),
            Err(e) => return Err(e.into()),
        },
    )
}
