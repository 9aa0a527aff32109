//! Disruptions from the console: a work centre marked down (the promises
//! that moved come back as a notice), a downtime cancelled, and the open work
//! re-sequenced for on-time delivery.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use kiln_app::Error as AppError;
use serde::Deserialize;

use super::console::{back, back_with, require, tail};
use super::{UiResult, long_date};
use crate::AppState;

#[derive(Deserialize)]
pub(super) struct DowntimeFields {
    work_center: String,
    from: String,
    to: String,
    #[serde(default)]
    reason: String,
}

/// Re-sequences open work and says what improved.
pub(super) async fn resequence(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let r = state
        .app
        .resequence(
            rt.brand.slug.as_str(),
            kiln_app::planning::DEFAULT_EVALUATIONS,
        )
        .await?;
    let text = if r.applied {
        let end = |t: Option<jiff::Timestamp>| {
            t.map_or_else(|| "-".to_string(), |t| long_date(kiln_app::time::day_of(t)))
        };
        format!(
            "Re-sequenced: weighted days late {} → {}, last operation {} → {}; {} order{} rebooked, no promise later.",
            r.weighted_days_late_before,
            r.weighted_days_late_after,
            end(r.finish_before),
            end(r.finish_after),
            r.orders_rebooked,
            if r.orders_rebooked == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "No better sequence in {} plans tried: the schedule stays as it is ({} weighted days late).",
            r.evaluations, r.weighted_days_late_before
        )
    };
    Ok(back(super::Flash::Notice, &text))
}

/// Marks a work centre down and comes back with the promises that moved.
pub(super) async fn downtime(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Form(form): Form<DowntimeFields>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let (Ok(from), Ok(to)) = (form.from.parse(), form.to.parse()) else {
        return Ok(back_with("Enter both days of the downtime as dates."));
    };
    let request = kiln_app::planning::MarkDown {
        work_center: &form.work_center,
        from,
        to,
        reason: &form.reason,
    };
    let d = match state.app.mark_down(rt.brand.slug.as_str(), request).await {
        Ok(d) => d,
        Err(AppError::Invalid { detail, .. } | AppError::NotFound(detail)) => {
            return Ok(back_with(&detail));
        }
        Err(e) => return Err(e.into()),
    };
    let name = rt
        .catalog
        .factory
        .work_center(&d.downtime.work_center)
        .map_or(d.downtime.work_center.as_str(), |w| w.name.as_str());
    let mut text = format!(
        "{name} marked down {} to {}. {} order line{} replanned; ",
        long_date(d.downtime.from_day),
        long_date(d.downtime.to_day),
        d.replanned,
        if d.replanned == 1 { "" } else { "s" }
    );
    match d.moved.len() {
        0 => text.push_str("no promise moved."),
        1 => text.push_str("1 promise moved: "),
        n => {
            let _ = write!(text, "{n} promises moved: ");
        }
    }
    text.push_str(&moved_orders(&d.moved));
    if !d.at_risk.is_empty() {
        let _ = write!(
            text,
            ". {} order(s) no longer fit the planning horizon: act on them",
            d.at_risk.len()
        );
    }
    Ok(back(super::Flash::Notice, &text))
}

/// Cancels a downtime and says what that means for the plan.
pub(super) async fn cancel_downtime(
    State(state): State<Arc<AppState>>,
    Path(downtime): Path<String>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    let id = kiln_domain::DowntimeId::from(downtime);
    Ok(
        match state
            .app
            .cancel_downtime(&actor, rt.brand.slug.as_str(), &id)
            .await
        {
            Ok(d) => {
                let name = rt
                    .catalog
                    .factory
                    .work_center(&d.work_center)
                    .map_or(d.work_center.as_str(), |w| w.name.as_str());
                back(
                    super::Flash::Notice,
                    &format!(
                        "Downtime cancelled: {name} works {} to {} again, free for new orders. \
                         Work already moved stays where it is; re-sequence to pull it forward.",
                        long_date(d.from_day),
                        long_date(d.to_day)
                    ),
                )
            }
            Err(AppError::Conflict(m) | AppError::NotFound(m)) => back_with(&m),
            Err(e) => return Err(e.into()),
        },
    )
}

/// Orders the console names one by one when promises move; the rest are
/// counted.
pub(super) const NAMED: usize = 8;

/// "order …a1b2c3 from Mon 7 Dec 2026 to Mon 28 Dec 2026; …; and 3 more":
/// the promises a replan moved, as the console's notices say them.
pub(super) fn moved_orders(moved: &[kiln_app::planning::MovedPromise]) -> String {
    let shown: Vec<String> = moved
        .iter()
        .take(NAMED)
        .map(|m| {
            format!(
                "order …{} from {} to {}",
                tail(m.order_id.as_str()),
                long_date(m.previous_date),
                long_date(m.promised_date)
            )
        })
        .collect();
    let mut text = shown.join("; ");
    if moved.len() > NAMED {
        let _ = write!(text, "; and {} more", moved.len() - NAMED);
    }
    text
}
