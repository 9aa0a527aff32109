//! The planner's demand page: hot products and option values, forecasts per
//! product with their option values, and the materials the forecast needs.

use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};

use super::console::require;
use super::{UiResult, page, see_other, xml};
use crate::AppState;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/demand", get(analytics))
        .route("/console/demand/purchases", post(purchases))
}

/// History weeks drawn before the forecast.
const SHOWN_WEEKS: usize = 26;

struct HotView {
    label: String,
    actual: String,
    forecast: String,
    ratio: String,
    chart: String,
}

struct ProductView {
    name: String,
    total: String,
    model: String,
    chart: String,
    /// (label, share, forecast units, from)
    values: Vec<(String, String, String, &'static str)>,
}

#[derive(Template)]
#[template(path = "analytics.html")]
struct Analytics {
    brand: String,
    brand_name: String,
    empty: bool,
    lines: usize,
    weeks: usize,
    hot: Vec<HotView>,
    products: Vec<ProductView>,
    /// (name, need, available, short, is short, order by)
    materials: Vec<(String, String, String, String, bool, String)>,
}

async fn analytics(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let d = state.app.demand(rt.brand.slug.as_str()).await?;
    let today = kiln_app::time::today();
    let hot = d
        .hot
        .iter()
        .map(|h| {
            let n = h.actual.len();
            let recent = h.forecast.len().min(n);
            HotView {
                label: h.label.clone(),
                actual: format!("{:.0}", h.actual_recent),
                forecast: format!("{:.0}", h.forecast_recent),
                ratio: if h.ratio.is_finite() {
                    format!("{:.1}× forecast", h.ratio)
                } else {
                    "nothing was forecast".into()
                },
                chart: chart(
                    &format!(
                        "{}: daily units sold, and the forecast of the last 7 days",
                        h.label
                    ),
                    &h.actual,
                    n - recent,
                    &h.forecast,
                    &h.forecast,
                    &h.upper,
                    &days_before(today, n),
                    "day",
                ),
            }
        })
        .collect();
    let products = d
        .products
        .iter()
        .map(|p| {
            let from = p.history.len().saturating_sub(SHOWN_WEEKS);
            let history = &p.history[from..];
            // The first day of each week drawn: history, then forecast.
            let weeks: Vec<jiff::civil::Date> = d
                .history_weeks
                .iter()
                .skip(d.history_weeks.len().saturating_sub(history.len()))
                .chain(&d.forecast_weeks)
                .filter_map(|w| w.parse().ok())
                .collect();
            ProductView {
                name: p.name.clone(),
                total: format!("{:.0}", p.forecast.iter().sum::<f64>()),
                model: p.model.clone(),
                chart: chart(
                    &format!("{}: weekly units sold and forecast", p.name),
                    history,
                    history.len(),
                    &p.forecast,
                    &p.lower,
                    &p.upper,
                    &weeks,
                    "week",
                ),
                values: p
                    .values
                    .iter()
                    .map(|v| {
                        (
                            v.label.clone(),
                            format!("{:.0}%", v.share * 100.0),
                            format!("{:.0}", v.forecast_units),
                            if v.dense {
                                "its own sales"
                            } else {
                                "its share"
                            },
                        )
                    })
                    .collect(),
            }
        })
        .collect();
    let materials = d
        .materials
        .iter()
        .map(|m| {
            (
                format!("{} ({})", m.name, m.unit),
                amount(m.total, &m.unit),
                amount(m.available, &m.unit),
                amount(m.shortfall, &m.unit),
                m.shortfall > 0.0,
                if m.shortfall > 0.0 {
                    super::long_date(m.order_by)
                } else {
                    String::new()
                },
            )
        })
        .collect();
    Ok(page(&Analytics {
        brand: rt.brand.slug.to_string(),
        brand_name: rt.brand.name.clone(),
        empty: d.sales_lines == 0,
        lines: d.sales_lines,
        weeks: d.forecast_weeks.len(),
        hot,
        products,
        materials,
    }))
}

/// Actuals as bars, then (from index `at`) the forecast as a line over its
/// interval band. `forecast` may overlap the actuals (a forecast of the
/// recent past) or follow them (the future).
/// `dates` holds the first day of each column; about six are written under
/// the axis, and where the forecast starts is marked.
#[allow(clippy::too_many_arguments)]
pub(super) fn chart(
    title: &str,
    actual: &[f64],
    at: usize,
    forecast: &[f64],
    lower: &[f64],
    upper: &[f64],
    dates: &[jiff::civil::Date],
    unit: &str,
) -> String {
    let n = actual.len().max(at + forecast.len()).max(1);
    let (w, h, pad) = (640.0, 176.0, 24.0);
    // Room under the axis for the dates, above the caption.
    let base = h - pad - 16.0;
    let top = actual
        .iter()
        .chain(upper)
        .chain(forecast)
        .copied()
        .filter(|v| v.is_finite())
        .fold(1.0_f64, f64::max);
    let step = (w - pad) / n as f64;
    // Whole pieces: the scale's top is a whole number too.
    let top = top.ceil();
    let y = |v: f64| base - (v.max(0.0) / top) * (base - pad);
    let mut svg = format!(
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" \
         aria-label=\"{}\" font-size=\"10\" font-family=\"system-ui, sans-serif\"><title>{}</title>",
        xml(title),
        xml(title)
    );
    let _ = write!(
        svg,
        "<line x1=\"{pad}\" y1=\"{0}\" x2=\"{w}\" y2=\"{0}\" stroke=\"#d0d7de\"/>\
         <text x=\"2\" y=\"{1}\" fill=\"#5b6470\">{top:.0}</text><text x=\"2\" y=\"{0}\" fill=\"#5b6470\">0</text>",
        base,
        pad + 4.0
    );
    // Dates under the axis, about six of them, never crowded.
    let every = n.div_ceil(6).max(1);
    for (i, d) in dates.iter().enumerate().take(n) {
        if i % every == 0 {
            let x = pad + i as f64 * step;
            let _ = write!(
                svg,
                "<text x=\"{x:.1}\" y=\"{:.1}\" fill=\"#5b6470\">{}</text>",
                base + 12.0,
                d.strftime("%-d %b")
            );
        }
    }
    if at > 0 && at < n && !forecast.is_empty() && at == actual.len() {
        let x = pad + at as f64 * step - step * 0.1;
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{pad}\" x2=\"{x:.1}\" y2=\"{base}\" stroke=\"#5b6470\" stroke-dasharray=\"2 3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" fill=\"#5b6470\">this {unit} →</text>",
            x + 3.0,
            pad + 2.0
        );
    }
    for (i, v) in actual.iter().enumerate() {
        let x = pad + i as f64 * step;
        let _ = write!(
            svg,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#8aa4c8\"><title>{}{v:.0} sold</title></rect>",
            y(*v),
            (step * 0.8).max(1.0),
            (base - y(*v)).max(0.0),
            dates
                .get(i)
                .map(|d| format!("{unit} of {}: ", d.strftime("%-d %b %Y")))
                .unwrap_or_default()
        );
    }
    if !forecast.is_empty() {
        let xs: Vec<f64> = (0..forecast.len())
            .map(|i| pad + (at + i) as f64 * step + step * 0.4)
            .collect();
        let band: Vec<String> = xs
            .iter()
            .zip(upper)
            .map(|(x, u)| format!("{x:.1},{:.1}", y(*u)))
            .chain(
                xs.iter()
                    .zip(lower)
                    .rev()
                    .map(|(x, l)| format!("{x:.1},{:.1}", y(*l))),
            )
            .collect();
        let line: Vec<String> = xs
            .iter()
            .zip(forecast)
            .map(|(x, f)| format!("{x:.1},{:.1}", y(*f)))
            .collect();
        let _ = write!(
            svg,
            "<polygon points=\"{}\" fill=\"#f3b27a\" opacity=\"0.35\"/>\
             <polyline points=\"{}\" fill=\"none\" stroke=\"#c2410c\" stroke-width=\"2\" stroke-dasharray=\"4 2\"/>",
            band.join(" "),
            line.join(" ")
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{pad}\" y=\"{}\" fill=\"#5b6470\">{n} {unit}s: bars sold, dashed forecast with its interval, in whole pieces</text></svg>",
        h - 6.0
    );
    svg
}

/// The `n` days up to yesterday, oldest first: a daily chart's columns.
fn days_before(today: jiff::civil::Date, n: usize) -> Vec<jiff::civil::Date> {
    (1..=n as i64)
        .rev()
        .filter_map(|back| today.checked_sub(jiff::Span::new().days(back)).ok())
        .collect()
}

/// A material quantity: pieces whole (rounded up: half a button is a
/// button), other units to two decimals without trailing zeros.
fn amount(v: f64, unit: &str) -> String {
    let pieces = matches!(
        unit.trim().to_lowercase().as_str(),
        "pc" | "pcs" | "piece" | "pieces" | "unit" | "units" | "each" | "ea" | "pair" | "pairs"
    );
    if pieces {
        format!("{:.0}", v.ceil())
    } else {
        let s = format!("{v:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// Suggests purchases for the forecast's shortfalls, then shows them.
async fn purchases(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    state.app.forecast_purchases(rt.brand.slug.as_str()).await?;
    Ok(see_other("/console#purchases"))
}
