//! Each store's demand as a series of the brand's demand plan, so what the
//! stores see reaches the forecasts the planners read.

use std::collections::{BTreeMap, HashMap};

use jiff::ToSpan;
use jiff::civil::Date;
use serde::Serialize;
use utoipa::ToSchema;

use super::HORIZON_WEEKS;

/// One store's demand, as its own series of the brand's plan.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StoreDemand {
    pub store: String,
    pub name: String,
    /// Units per history week (every product sold there), oldest first.
    pub history: Vec<f64>,
    /// Units per forecast week, with the prediction interval.
    pub forecast: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub model: String,
}

/// Each store's weekly units on the plan's history `weeks` (their first
/// days), forecast as the products are.
pub(super) fn store_series(
    lines: &[(String, Date, f64)],
    weeks: &[String],
    names: &HashMap<String, String>,
) -> Vec<StoreDemand> {
    let index: HashMap<&str, usize> = weeks
        .iter()
        .enumerate()
        .map(|(i, w)| (w.as_str(), i))
        .collect();
    let mut series: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (store, date, units) in lines {
        let monday = date
            .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
            .unwrap_or(*date)
            .to_string();
        if let Some(i) = index.get(monday.as_str()) {
            series
                .entry(store)
                .or_insert_with(|| vec![0.0; weeks.len()])[*i] += units;
        }
    }
    series
        .into_iter()
        .map(|(store, history)| {
            let history: Vec<f64> = history.into_iter().map(|u| u.max(0.0)).collect();
            let f = kiln_forecast::auto(
                &history,
                &[],
                HORIZON_WEEKS,
                &kiln_forecast::AutoOptions::default(),
            );
            StoreDemand {
                name: names
                    .get(store)
                    .cloned()
                    .unwrap_or_else(|| store.to_string()),
                store: store.to_string(),
                history,
                forecast: f.mean,
                lower: f.lower,
                upper: f.upper,
                model: f.model,
            }
        })
        .collect()
}
