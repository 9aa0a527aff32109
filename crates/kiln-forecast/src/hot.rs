//! Hot products: demand accelerating beyond its forecast, flagged early.
//!
//! Each series is forecast from the origin just before its last `recent` periods, as if
//! those periods had not happened yet; the recent actuals are then compared with that
//! forecast. A series is hot when its recent total is both well above the forecast
//! (`min_ratio` times it) and above the forecast's upper bound for the total (the
//! per-period spreads of the prediction interval added in quadrature), and large enough to
//! matter (`min_units`). Flags rank by how far above the forecast the actuals are, in
//! standard deviations of that total.

use crate::{AutoOptions, auto};

/// What counts as hot.
#[derive(Clone, Debug)]
pub struct HotOptions {
    /// Recent periods compared with the forecast (e.g. 7 days).
    pub recent: usize,
    /// Seasonal periods of the series (e.g. `[7]` for days).
    pub season: Vec<usize>,
    /// Coverage of the prediction interval whose upper bound the recent total must exceed.
    pub level: f64,
    /// Recent total over forecast total, at least.
    pub min_ratio: f64,
    /// Recent total, at least.
    pub min_units: f64,
    /// Rolling-origin windows of the forecast's model selection.
    pub windows: usize,
    /// Periods after the recent window to forecast as well, from the same origin, and to
    /// sense ([`HotAssessment::sensed`]).
    pub ahead: usize,
    /// Bound of the sensing factor: the recent ratio is clamped to
    /// `[1 / max_factor, max_factor]`.
    pub max_factor: f64,
}

impl Default for HotOptions {
    fn default() -> Self {
        Self {
            recent: 7,
            season: Vec::new(),
            level: 0.9,
            min_ratio: 1.5,
            min_units: 1.0,
            windows: 2,
            ahead: 0,
            max_factor: 3.0,
        }
    }
}

/// One series' recent demand against its forecast.
#[derive(Clone, Debug, PartialEq)]
pub struct HotAssessment {
    pub key: String,
    /// The whole series, the recent periods last (for a chart of actuals against forecast).
    pub actual: Vec<f64>,
    /// Forecast of the recent periods made before them, with its interval.
    pub forecast: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub model: String,
    pub actual_total: f64,
    pub forecast_total: f64,
    /// Upper bound of the recent total at the interval's level.
    pub upper_total: f64,
    /// `actual_total / forecast_total` (infinite when nothing was forecast).
    pub ratio: f64,
    /// `(actual_total - forecast_total)` in standard deviations of the total.
    pub score: f64,
    pub hot: bool,
    /// Forecast of the `ahead` periods after the recent window, made at the same origin.
    pub ahead: Vec<f64>,
    /// Demand sensing: `ahead` scaled by the recent ratio (clamped to `max_factor`), or the
    /// recent mean per period when nothing was forecast.
    pub sensed: Vec<f64>,
}

/// Assesses one series (`y`: history, its last `o.recent` values the recent periods).
/// `None` when the series is not longer than the recent window.
pub fn assess(key: &str, y: &[f64], o: &HotOptions) -> Option<HotAssessment> {
    let k = o.recent.max(1);
    if y.len() <= k {
        return None;
    }
    let (past, recent) = y.split_at(y.len() - k);
    let f = auto(
        past,
        &o.season,
        k + o.ahead,
        &AutoOptions {
            windows: o.windows,
            level: o.level,
            ..Default::default()
        },
    );
    let nonneg = |v: &[f64]| -> Vec<f64> { v.iter().map(|x| x.max(0.0)).collect() };
    let forecast = nonneg(&f.mean[..k]);
    let lower = nonneg(&f.lower[..k]);
    let upper = nonneg(&f.upper[..k]);
    let ahead = nonneg(&f.mean[k..]);
    let z = crate::z_for(o.level).max(1e-9);
    let var: f64 = f.upper[..k]
        .iter()
        .zip(&f.mean[..k])
        .map(|(u, m)| ((u - m) / z).powi(2))
        .sum();
    let sd = var.sqrt();
    let actual_total: f64 = recent.iter().sum();
    let forecast_total: f64 = forecast.iter().sum();
    let upper_total = forecast_total + z * sd;
    let ratio = if forecast_total > 0.0 {
        actual_total / forecast_total
    } else if actual_total > 0.0 {
        f64::INFINITY
    } else {
        1.0
    };
    let excess = actual_total - forecast_total;
    // with no spread (a constant history), any excess is far outside it
    let score = if sd > 0.0 {
        excess / sd
    } else if excess > 0.0 {
        f64::MAX
    } else {
        0.0
    };
    let hot = actual_total >= o.min_units && ratio >= o.min_ratio && actual_total > upper_total;
    let sensed = if forecast_total > 0.0 {
        let m = o.max_factor.max(1.0);
        let factor = ratio.clamp(1.0 / m, m);
        ahead.iter().map(|v| v * factor).collect()
    } else {
        vec![actual_total / k as f64; o.ahead]
    };
    Some(HotAssessment {
        key: key.to_string(),
        actual: y.to_vec(),
        forecast,
        lower,
        upper,
        model: f.model,
        actual_total,
        forecast_total,
        upper_total,
        ratio,
        score,
        hot,
        ahead,
        sensed,
    })
}

/// The hot series among `series` (key, history), the hottest first.
pub fn hot_flags(series: &[(String, Vec<f64>)], o: &HotOptions) -> Vec<HotAssessment> {
    let mut out: Vec<HotAssessment> = series
        .iter()
        .filter_map(|(key, y)| assess(key, y, o))
        .filter(|a| a.hot)
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(b.ratio.total_cmp(&a.ratio))
            .then(a.key.cmp(&b.key))
    });
    out
}
