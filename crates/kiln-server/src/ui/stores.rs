//! The console's stores: each store's strategy (千店千策) drawn: sales by
//! week with the forecast, the last weeks' forecast against what sold, what
//! runs hotter or colder there than in the brand, the display's samples and
//! people per day. The same numbers as `GET .../stores/{store}/strategy`.

use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use kiln_app::stores::{StoreShare, StrategyQuery};

use super::analytics::chart;
use super::console::require;
use super::{UiResult, page, xml};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/stores", get(list))
        .route("/console/stores/{store}", get(show))
}

#[derive(Template)]
#[template(path = "console_stores.html")]
struct StoreList {
    /// (id, name, city)
    stores: Vec<(String, String, String)>,
}

async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let stores = state
        .app
        .stores(rt.brand.slug.as_str())
        .await?
        .into_iter()
        .map(|s| (s.id, s.name, s.address.city))
        .collect();
    Ok(page(&StoreList { stores }))
}

struct Flag {
    label: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "console_store.html")]
struct StorePage {
    name: String,
    as_of: String,
    sold: String,
    tickets: String,
    forecast_total: String,
    weeks: usize,
    model: String,
    sales_chart: String,
    backtest: Option<(String, String)>,
    hotter: Vec<Flag>,
    colder: Vec<Flag>,
    heat_chart: String,
    /// (label, expected per week, sold here)
    samples: Vec<(String, String, String)>,
    /// (product, values)
    display: Vec<(String, String)>,
    staff_chart: String,
    /// (day, tickets, people)
    staffing: Vec<(String, String, u32)>,
    minutes_per_sale: u32,
    open_hours: u32,
}

fn dates(weeks: &[String]) -> Vec<jiff::civil::Date> {
    weeks.iter().filter_map(|w| w.parse().ok()).collect()
}

fn flag(s: &StoreShare) -> Flag {
    Flag {
        label: s.label.clone(),
        detail: format!(
            "{:.0}% of sales here against {:.0}% in the brand ({:.1}×, {} sold here)",
            s.store_share * 100.0,
            s.brand_share * 100.0,
            s.index,
            s.store_units.round()
        ),
    }
}

async fn show(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(store): Path<String>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let s = state
        .app
        .store_strategy(rt.brand.slug.as_str(), &store, &StrategyQuery::default())
        .await?;
    let all_weeks: Vec<String> = s
        .history_weeks
        .iter()
        .chain(&s.forecast_weeks)
        .cloned()
        .collect();
    let sales_chart = chart(
        &format!("{}: weekly units sold and forecast", s.name),
        &s.units,
        s.units.len(),
        &s.forecast,
        &s.lower,
        &s.upper,
        &dates(&all_weeks),
        "week",
    );
    let backtest = s.backtest.as_ref().map(|b| {
        let at = s.units.len() - b.actual.len();
        let text = match (b.wape, b.bias) {
            (Some(w), Some(bias)) => format!(
                "Forecast from the weeks before, the last {} weeks were off by {:.0}% of what sold ({} overall by {:.0}%).",
                b.actual.len(),
                w * 100.0,
                if bias >= 0.0 { "over" } else { "under" },
                bias.abs() * 100.0
            ),
            _ => "Nothing sold in the weeks tested.".to_string(),
        };
        let chart = chart(
            &format!("{}: the last weeks' forecast against what sold", s.name),
            &s.units,
            at,
            &b.forecast,
            &b.forecast,
            &b.forecast,
            &dates(&s.history_weeks),
            "week",
        );
        (text, chart)
    });
    let staff_chart = staff_chart(&s.name, &s.staffing.days);
    Ok(page(&StorePage {
        name: s.name.clone(),
        as_of: super::long_date(s.as_of),
        sold: format!("{:.0}", s.units.iter().sum::<f64>()),
        tickets: format!("{:.0}", s.tickets.iter().sum::<f64>()),
        forecast_total: format!("{:.0}", s.forecast.iter().sum::<f64>()),
        weeks: s.units.len(),
        model: s.model.clone(),
        sales_chart,
        backtest,
        hotter: s.hotter.iter().map(flag).collect(),
        colder: s.colder.iter().map(flag).collect(),
        heat_chart: heat_chart(&s.name, &s.hotter, &s.colder),
        samples: s
            .assortment
            .samples
            .iter()
            .map(|x| {
                (
                    x.label.clone(),
                    format!("{:.1}", x.expected_weekly_units),
                    format!("{:.0}", x.store_units),
                )
            })
            .collect(),
        display: s
            .assortment
            .display
            .iter()
            .map(|d| {
                (
                    d.name.clone(),
                    d.values
                        .iter()
                        .map(|v| format!("{} ({:.0}%)", v.label, v.share * 100.0))
                        .collect::<Vec<_>>()
                        .join(", "),
                )
            })
            .collect(),
        staffing: s
            .staffing
            .days
            .iter()
            .map(|d| {
                (
                    format!("{} {}", d.weekday, d.date.strftime("%-d %b")),
                    format!("{:.1}", d.tickets),
                    d.staff,
                )
            })
            .collect(),
        minutes_per_sale: s.staffing.minutes_per_sale,
        open_hours: s.staffing.open_hours,
        staff_chart,
    }))
}

/// Each flagged product or value as a bar of its index on a log scale,
/// centred on 1× (as the brand): hotter to the right, colder to the left.
fn heat_chart(name: &str, hotter: &[StoreShare], colder: &[StoreShare]) -> String {
    let rows: Vec<&StoreShare> = hotter.iter().chain(colder).take(16).collect();
    let title = format!("{name}: what runs hotter or colder than in the brand");
    if rows.is_empty() {
        return String::new();
    }
    let (w, row, label_w) = (640.0, 20.0, 260.0);
    let h = rows.len() as f64 * row + 30.0;
    let mid = label_w + (w - label_w) / 2.0;
    let half = (w - label_w) / 2.0 - 8.0;
    // log2 of the index, ±3 (8×) at the edges.
    let x = |index: f64| (index.max(1e-3).log2().clamp(-3.0, 3.0) / 3.0) * half;
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{0}\" font-size=\"10\" font-family=\"system-ui, sans-serif\"><title>{0}</title>\
         <line x1=\"{mid}\" y1=\"4\" x2=\"{mid}\" y2=\"{1}\" stroke=\"#5b6470\"/>",
        xml(&title),
        h - 22.0
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 4.0 + i as f64 * row;
        let dx = x(r.index);
        let (left, width, fill) = if dx >= 0.0 {
            (mid, dx, "#c2410c")
        } else {
            (mid + dx, -dx, "#2563eb")
        };
        let label: String = r.label.chars().take(44).collect();
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#1f2328\">{}</text>\
             <rect x=\"{left:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{fill}\"><title>{}: {:.1}× the brand's share</title></rect>",
            label_w - 6.0,
            y + 13.0,
            xml(&label),
            y + 3.0,
            width.max(1.0),
            row - 6.0,
            xml(&r.label),
            r.index
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{label_w}\" y=\"{:.1}\" fill=\"#5b6470\">← colder · as the brand · hotter → (log scale)</text></svg>",
        h - 8.0
    );
    svg
}

/// People per day as columns, with the forecast sales written over them.
fn staff_chart(name: &str, days: &[kiln_app::stores::StaffDay]) -> String {
    if days.is_empty() {
        return String::new();
    }
    let (w, h, pad) = (640.0, 150.0, 24.0);
    let base = h - pad - 12.0;
    let top = days.iter().map(|d| d.staff).max().unwrap_or(1).max(1) as f64;
    let step = (w - pad) / days.len() as f64;
    let title = format!("{name}: people to staff per day, from its forecast sales");
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{0}\" font-size=\"10\" font-family=\"system-ui, sans-serif\"><title>{0}</title>\
         <line x1=\"{pad}\" y1=\"{base}\" x2=\"{w}\" y2=\"{base}\" stroke=\"#d0d7de\"/>",
        xml(&title)
    );
    for (i, d) in days.iter().enumerate() {
        let x = pad + i as f64 * step;
        let height = f64::from(d.staff) / top * (base - pad);
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{height:.1}\" fill=\"#8aa4c8\"><title>{} {}: {} people for {:.1} sales</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#1f2328\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#5b6470\">{}</text>",
            base - height,
            (step * 0.8).max(1.0),
            d.weekday,
            d.date.strftime("%-d %b"),
            d.staff,
            d.tickets,
            x + step * 0.4,
            base - height - 3.0,
            d.staff,
            x + step * 0.4,
            base + 12.0,
            d.weekday
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{:.1}\" fill=\"#5b6470\">{} days: people per day</text></svg>",
        h - 4.0,
        days.len()
    );
    svg
}
