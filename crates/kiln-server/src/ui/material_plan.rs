//! The planner's material plan: the brand's live MRP plan
//! (`App::material_plan`) as a page. What to buy and make, by day, which
//! orders are short and when their material can be there, and each
//! material's and sub-assembly's days.

use std::collections::HashMap;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use rust_decimal::Decimal;

use super::console::require;
use super::{UiResult, long_date, page};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/console/material-plan", get(material_plan))
}

/// An amount as people read it: at most two decimals, no trailing zeros,
/// and its unit if given.
fn qty(d: Decimal, unit: &str) -> String {
    let n = d.round_dp(2).normalize();
    if unit.is_empty() {
        n.to_string()
    } else {
        format!("{n} {unit}")
    }
}

struct Buy {
    material: String,
    qty: String,
    order_by: String,
    need_by: String,
    late: bool,
}

struct Make {
    assembly: String,
    qty: String,
    day: String,
}

struct Short {
    order_id: String,
    url: String,
    material: String,
    qty: String,
    need_by: String,
    earliest: String,
}

/// One material's or sub-assembly's record: its days, each (date, needed,
/// arriving, planned, projected).
struct Record {
    name: String,
    made: bool,
    days: Vec<(String, String, String, String, String)>,
}

#[derive(Template)]
#[template(path = "console_material_plan.html")]
struct MaterialPlanPage {
    brand: String,
    brand_name: String,
    as_of: String,
    buy: Vec<Buy>,
    make: Vec<Make>,
    short: Vec<Short>,
    records: Vec<Record>,
    changes: usize,
    p99_us: u64,
}

async fn material_plan(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let plan = state.app.material_plan(rt.brand.slug.as_str()).await?;
    let factory = &rt.catalog.factory;
    let names: HashMap<&str, (&str, &str)> = factory
        .materials
        .iter()
        .map(|m| (m.id.as_str(), (m.name.as_str(), m.unit.as_str())))
        .chain(
            factory
                .assemblies
                .iter()
                .map(|a| (a.id.as_str(), (a.name.as_str(), a.unit.as_str()))),
        )
        .collect();
    let name = |id: &str| names.get(id).map_or(id, |n| n.0).to_string();
    let unit = |id: &str| names.get(id).map_or("", |n| n.1);
    let buy = plan
        .purchases
        .iter()
        .map(|p| Buy {
            material: name(&p.material),
            qty: qty(p.qty, unit(&p.material)),
            order_by: long_date(p.order_by),
            need_by: long_date(p.need_by),
            late: p.late,
        })
        .collect();
    let make = plan
        .making
        .iter()
        .map(|m| Make {
            assembly: name(&m.assembly),
            qty: qty(m.qty, unit(&m.assembly)),
            day: long_date(m.start),
        })
        .collect();
    let short = plan
        .shortages
        .iter()
        .map(|s| Short {
            url: format!("/console/orders/{}", s.order_id),
            order_id: s.order_id.to_string(),
            material: name(&s.material),
            qty: qty(s.qty, unit(&s.material)),
            need_by: long_date(s.need_by),
            earliest: long_date(s.earliest),
        })
        .collect();
    let mut records: Vec<Record> = plan
        .assemblies
        .iter()
        .map(|a| Record {
            name: format!("{} ({})", a.name, a.unit),
            made: true,
            days: a
                .days
                .iter()
                .map(|d| {
                    (
                        long_date(d.date),
                        qty(d.gross, ""),
                        String::new(),
                        qty(d.planned, ""),
                        String::new(),
                    )
                })
                .collect(),
        })
        .collect();
    records.extend(plan.materials.iter().map(|m| {
        Record {
            name: format!("{} ({})", m.name, m.unit),
            made: false,
            days: m
                .days
                .iter()
                .map(|d| {
                    (
                        long_date(d.date),
                        qty(d.gross, ""),
                        qty(d.receipts, ""),
                        qty(d.planned_receipts, ""),
                        qty(d.projected, ""),
                    )
                })
                .collect(),
        }
    }));
    Ok(page(&MaterialPlanPage {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        as_of: long_date(plan.as_of),
        buy,
        make,
        short,
        records,
        changes: plan.net_change.changes,
        p99_us: plan.net_change.p99_us,
    }))
}
