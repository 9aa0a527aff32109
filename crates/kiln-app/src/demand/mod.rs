//! Demand sensing for a brand: weekly forecasts per product and option value
//! from imported sales and orders placed in Kiln, material needs through the
//! BOM (so SKUs never sold are planned too), and hot products and option
//! values whose last week runs beyond their forecast.

use std::collections::{BTreeMap, HashMap};

use jiff::ToSpan;
use jiff::civil::Date;
use kiln_forecast::demand::{
    Bucket, DemandOptions, MaterialQuantity, OrderLine, ProductBom, ValueMaterials, plan_demand,
};
use kiln_forecast::hot::{HotOptions, hot_flags};
use kiln_model::{Expr, Product, Quantity};
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;
use utoipa::ToSchema;

use crate::App;
use crate::error::{Error, Result};
use crate::runtime::BrandRuntime;

mod import;
mod stores;

use crate::time::today;
pub use import::{Imported, MAX_IMPORT, SaleInput};
pub use stores::StoreDemand;
use stores::store_series;

/// Weeks of history read, and forecast.
const HISTORY_WEEKS: i64 = 52;
const HORIZON_WEEKS: usize = 8;
/// Days of daily history the hot flags look at, the last 7 being "recent".
const HOT_DAYS: i64 = 91;

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ValueForecast {
    pub option: String,
    pub value: String,
    pub label: String,
    /// Share of the product's units in history.
    pub share: f64,
    /// Units over the forecast horizon, reconciled with the product.
    pub forecast_units: f64,
    /// Forecast on its own series (dense) or from its share of the product.
    pub dense: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ProductForecast {
    pub product: String,
    pub name: String,
    /// Units per history week, oldest first.
    pub history: Vec<f64>,
    /// Units per forecast week, with the prediction interval.
    pub forecast: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    /// Forecast after booked orders consume it, per week.
    pub gross: Vec<f64>,
    /// The model chosen by cross-validation.
    pub model: String,
    pub values: Vec<ValueForecast>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MaterialNeed {
    pub material: String,
    pub name: String,
    pub unit: String,
    /// Gross requirement per forecast week.
    pub weekly: Vec<f64>,
    pub total: f64,
    /// On hand + on order - allocated to orders already placed.
    pub available: f64,
    /// What the forecast needs beyond what is available.
    pub shortfall: f64,
    #[schema(value_type = String, format = Date)]
    pub order_by: Date,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotFlag {
    /// `product` or `product / option = value`, named as the shop shows them.
    pub label: String,
    pub product: String,
    pub option: Option<String>,
    pub value: Option<String>,
    /// Units in the last 7 days, and what was forecast for them.
    pub actual_recent: f64,
    pub forecast_recent: f64,
    pub ratio: f64,
    /// Daily units, oldest first, the last 7 the recent week.
    pub actual: Vec<f64>,
    /// Forecast and upper bound of the recent week, made before it.
    pub forecast: Vec<f64>,
    pub upper: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Demand {
    /// First day of each history week, and of each forecast week.
    pub history_weeks: Vec<String>,
    pub forecast_weeks: Vec<String>,
    pub sales_lines: usize,
    pub products: Vec<ProductForecast>,
    pub materials: Vec<MaterialNeed>,
    pub hot: Vec<HotFlag>,
    /// Each store's demand, on the same weeks as the products'.
    pub stores: Vec<StoreDemand>,
}

/// Reads the brand's demand history and forecasts it. Pure computation
/// after the read; nothing is stored.
pub(crate) async fn demand(app: &App, rt: &BrandRuntime) -> Result<Demand> {
    let today = today();
    let since = today
        .checked_sub((HISTORY_WEEKS * 7).days())
        .unwrap_or(today);
    let since_at = since
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let rows = app.store.sales_lines(&rt.brand.id, since, since_at).await?;
    // Each store's units, every product sold there (in its catalog or not).
    let store_lines: Vec<(String, Date, f64)> = rows
        .iter()
        .filter_map(|r| {
            let date = match r.when {
                kiln_domain::SaleTime::Day(d) => d,
                kiln_domain::SaleTime::At(t) => crate::time::day_of(t),
            };
            Some((r.store_id.clone()?, date, r.quantity as f64))
        })
        .collect();
    let store_names: HashMap<String, String> = app
        .store
        .stores(&rt.brand.id)
        .await?
        .into_iter()
        .map(|s| (s.id, s.name))
        .collect();
    // Products are forecast as the catalog has them: sales of products it
    // no longer (or never) had do not make series of their own. Demand is
    // what was sold: a return (a negative line) does not unmake it.
    let lines: Vec<OrderLine> = rows
        .iter()
        .filter(|r| r.quantity > 0 && rt.catalog.product(&r.product_id).is_some())
        .map(|r| {
            let date = match r.when {
                kiln_domain::SaleTime::Day(d) => d,
                kiln_domain::SaleTime::At(t) => crate::time::day_of(t),
            };
            OrderLine {
                date: date.to_string(),
                product: r.product_id.clone(),
                selections: r.selections.clone(),
                quantity: r.quantity as f64,
            }
        })
        .collect();
    let products: Vec<&Product> = rt.catalog.products.iter().map(|c| c.product()).collect();
    let boms: Vec<ProductBom> = products.iter().map(|p| bom_of(p, &lines)).collect();
    let last_sunday = crate::time::last_sunday_before(today);
    let options = DemandOptions {
        bucket: Bucket::Week,
        horizon: HORIZON_WEEKS,
        as_of: Some(last_sunday.to_string()),
        ..DemandOptions::default()
    };
    // Model selection is CPU work: keep it off the request threads.
    let owned: Vec<Product> = products.iter().map(|p| (*p).clone()).collect();
    let (plan, hot, lines, stores) = tokio::task::spawn_blocking(move || {
        let plan = (!lines.is_empty()).then(|| plan_demand(&lines, &boms, &options));
        let refs: Vec<&Product> = owned.iter().collect();
        let hot = hot(&lines, &refs, today);
        let weeks = plan
            .as_ref()
            .and_then(|p| p.as_ref().ok())
            .map(|p| p.history_periods.clone())
            .unwrap_or_default();
        let stores = store_series(&store_lines, &weeks, &store_names);
        (plan, hot, lines, stores)
    })
    .await
    .map_err(|e| Error::internal_from("the demand plan stopped", e))?;
    let plan = plan
        .transpose()
        .map_err(|e| Error::internal(format!("the demand plan failed: {e:?}")))?;
    let Some(plan) = plan else {
        return Ok(Demand {
            history_weeks: Vec::new(),
            forecast_weeks: Vec::new(),
            sales_lines: 0,
            products: Vec::new(),
            materials: Vec::new(),
            hot,
            stores,
        });
    };

    let products_out = plan
        .products
        .iter()
        .map(|d| {
            let product = products.iter().find(|p| p.id == d.product);
            ProductForecast {
                product: d.product.clone(),
                name: product.map_or_else(|| d.product.clone(), |p| p.name.clone()),
                history: d.history.clone(),
                forecast: d.requirement.forecast.clone(),
                lower: d.lower.clone(),
                upper: d.upper.clone(),
                gross: d.requirement.gross.clone(),
                model: d.model.clone(),
                values: d
                    .values
                    .iter()
                    .map(|v| ValueForecast {
                        label: product
                            .map(|p| value_label(p, &v.option, &v.value))
                            .unwrap_or_else(|| format!("{} = {}", v.option, v.value)),
                        option: v.option.clone(),
                        value: v.value.clone(),
                        share: v.share,
                        forecast_units: v.requirement.forecast.iter().sum(),
                        dense: v.dense,
                    })
                    .collect(),
            }
        })
        .collect();

    // The live material plan takes the new forecast; its orders consume it.
    let weeks: Vec<Date> = plan.periods.iter().filter_map(|w| w.parse().ok()).collect();
    let forecast: Vec<(String, Vec<rust_decimal::Decimal>)> = plan
        .materials
        .iter()
        .map(|m| {
            let weekly = m
                .requirement
                .forecast
                .iter()
                .map(|&q| {
                    rust_decimal::Decimal::from_f64_retain(q.max(0.0))
                        .unwrap_or_default()
                        .round_dp_with_strategy(3, rust_decimal::RoundingStrategy::AwayFromZero)
                })
                .collect();
            (m.material.clone(), weekly)
        })
        .collect();
    let positions = {
        let mut live = rt.plan.lock().await;
        if weeks.len() == plan.periods.len() {
            live.mrp.set_forecast(weeks, &forecast);
        }
        live.materials.clone()
    };
    let mut materials: Vec<MaterialNeed> = plan
        .materials
        .iter()
        .map(|m| {
            let spec = rt.catalog.factory.material(&m.material);
            let available = positions
                .get(&m.material)
                .map_or(0.0, |p| p.available().to_f64().unwrap_or(0.0));
            let total: f64 = m.requirement.gross.iter().sum();
            let lead = spec.map_or(0, |s| s.lead_days);
            MaterialNeed {
                name: spec.map_or_else(|| m.material.clone(), |s| s.name.clone()),
                unit: spec.map(|s| s.unit.clone()).unwrap_or_default(),
                material: m.material.clone(),
                weekly: m.requirement.gross.clone(),
                total,
                available,
                shortfall: (total - available.max(0.0)).max(0.0),
                // The first forecast week's need must be on the shelf by then.
                order_by: today
                    .checked_add(7.days())
                    .ok()
                    .and_then(|d| d.checked_sub(i64::from(lead).days()).ok())
                    .unwrap_or(today)
                    .max(today),
            }
        })
        .collect();
    // Most short first: what the buyer should look at.
    materials.sort_by(|a, b| {
        b.shortfall
            .total_cmp(&a.shortfall)
            .then_with(|| a.name.cmp(&b.name))
    });

    Ok(Demand {
        history_weeks: plan.history_periods.clone(),
        forecast_weeks: plan.periods.clone(),
        sales_lines: lines.len(),
        products: products_out,
        materials,
        hot,
        stores,
    })
}

/// The BOM as an additive function of option values, which is what the
/// demand plan multiplies forecasts by. Lines that depend on two options
/// (a quantity by style, only for leather uppers) take the quantity's
/// average over that product's sales mix.
fn bom_of(product: &Product, lines: &[OrderLine]) -> ProductBom {
    let mix = |option: &str| -> HashMap<String, f64> {
        let mut counts: HashMap<String, f64> = HashMap::new();
        for l in lines.iter().filter(|l| l.product == product.id) {
            if let Some(v) = l.selections.get(option) {
                *counts.entry(v.clone()).or_default() += l.quantity;
            }
        }
        let total: f64 = counts.values().sum();
        counts.values_mut().for_each(|c| *c /= total.max(1e-9));
        counts
    };
    let expected = |qty: &Quantity| -> f64 {
        match qty {
            Quantity::Fixed(q) => q.to_f64().unwrap_or(0.0),
            Quantity::ByValue { option, by_value } => {
                let shares = mix(option);
                if shares.is_empty() {
                    let n = by_value.len().max(1) as f64;
                    by_value
                        .iter()
                        .map(|(_, q)| q.to_f64().unwrap_or(0.0))
                        .sum::<f64>()
                        / n
                } else {
                    by_value
                        .iter()
                        .map(|(v, q)| q.to_f64().unwrap_or(0.0) * shares.get(v).unwrap_or(&0.0))
                        .sum()
                }
            }
        }
    };
    let values_of = |option: &str| -> Vec<String> {
        product
            .options
            .iter()
            .find(|o| o.id == option)
            .map(|o| o.kind.values().iter().map(|v| v.id.clone()).collect())
            .unwrap_or_default()
    };
    let mut base = Vec::new();
    let mut per_value: BTreeMap<(String, String), Vec<MaterialQuantity>> = BTreeMap::new();
    let mut add = |option: &str, value: &str, material: &str, quantity: f64| {
        per_value
            .entry((option.to_string(), value.to_string()))
            .or_default()
            .push(MaterialQuantity {
                material: material.to_string(),
                quantity,
            });
    };
    for line in &product.bom {
        // Which values of which option the line applies to, if one option decides it.
        let gate: Option<(String, Vec<String>)> = match &line.condition {
            Expr::Const(true) => None,
            Expr::In(option, values) => Some((option.clone(), values.clone())),
            Expr::Set(option) => Some((option.clone(), values_of(option))),
            Expr::Not(inner) => match inner.as_ref() {
                Expr::In(option, values) => Some((
                    option.clone(),
                    values_of(option)
                        .into_iter()
                        .filter(|v| !values.contains(v))
                        .collect(),
                )),
                _ => Some((String::new(), Vec::new())),
            },
            _ => Some((String::new(), Vec::new())),
        };
        match (gate, &line.qty) {
            (None, Quantity::Fixed(q)) => base.push(MaterialQuantity {
                material: line.material.clone(),
                quantity: q.to_f64().unwrap_or(0.0),
            }),
            (None, Quantity::ByValue { option, by_value }) => {
                for (v, q) in by_value {
                    add(option, v, &line.material, q.to_f64().unwrap_or(0.0));
                }
            }
            (Some((option, values)), qty) if !option.is_empty() => {
                let q = expected(qty);
                for v in values {
                    add(&option, &v, &line.material, q);
                }
            }
            // A condition over several options: its share of past units.
            (Some(_), qty) => {
                let sold: Vec<&OrderLine> =
                    lines.iter().filter(|l| l.product == product.id).collect();
                let total: f64 = sold.iter().map(|l| l.quantity).sum();
                let hit: f64 = sold
                    .iter()
                    .filter(|l| line.condition.eval(&l.selections) == kiln_model::Truth::True)
                    .map(|l| l.quantity)
                    .sum();
                if total > 0.0 {
                    base.push(MaterialQuantity {
                        material: line.material.clone(),
                        quantity: expected(qty) * hit / total,
                    });
                }
            }
        }
    }
    ProductBom {
        product: product.id.clone(),
        base,
        values: per_value
            .into_iter()
            .map(|((option, value), materials)| ValueMaterials {
                option,
                value,
                materials,
            })
            .collect(),
    }
}

pub(crate) fn value_label(product: &Product, option: &str, value: &str) -> String {
    let Some(o) = product.options.iter().find(|o| o.id == option) else {
        return format!("{option} = {value}");
    };
    let v = o
        .kind
        .values()
        .iter()
        .find(|v| v.id == value)
        .map_or(value, |v| v.label.as_str());
    format!("{}: {v}", o.name)
}

/// A daily series: its product, its (option, value) if any, and units per day.
type Series = (String, Option<(String, String)>, Vec<f64>);

/// Daily series of every product and option value over the last
/// [`HOT_DAYS`] days, and the ones whose last week beats their forecast.
fn hot(lines: &[OrderLine], products: &[&Product], today: Date) -> Vec<HotFlag> {
    let start = today.checked_sub(HOT_DAYS.days()).unwrap_or(today);
    let index = |date: &str| -> Option<usize> {
        let d: Date = date.get(..10)?.parse().ok()?;
        let i = (d - start).get_days();
        (0..HOT_DAYS as i32).contains(&i).then_some(i as usize)
    };
    // key -> (product, option/value, series)
    let mut series: BTreeMap<String, Series> = BTreeMap::new();
    for l in lines {
        let Some(i) = index(&l.date) else { continue };
        let mut bump = |key: String, ov: Option<(String, String)>| {
            let e = series
                .entry(key)
                .or_insert_with(|| (l.product.clone(), ov, vec![0.0; HOT_DAYS as usize]));
            e.2[i] += l.quantity;
        };
        bump(l.product.clone(), None);
        for (o, v) in &l.selections {
            let is_choice = products
                .iter()
                .find(|p| p.id == l.product)
                .and_then(|p| p.options.iter().find(|x| &x.id == o))
                .is_some_and(|x| !x.kind.values().is_empty());
            if is_choice {
                bump(
                    format!("{}/{o}={v}", l.product),
                    Some((o.clone(), v.clone())),
                );
            }
        }
    }
    let keyed: Vec<(String, Vec<f64>)> = series
        .iter()
        .map(|(k, (_, _, y))| (k.clone(), y.clone()))
        .collect();
    let options = HotOptions {
        recent: 7,
        season: vec![7],
        min_units: 10.0,
        ..HotOptions::default()
    };
    hot_flags(&keyed, &options)
        .into_iter()
        .take(12)
        .filter_map(|a| {
            let (product_id, ov, _) = series.get(&a.key)?;
            let product = products.iter().find(|p| &p.id == product_id)?;
            let label = match ov {
                None => product.name.clone(),
                Some((o, v)) => format!("{} · {}", product.name, value_label(product, o, v)),
            };
            Some(HotFlag {
                label,
                product: product_id.clone(),
                option: ov.as_ref().map(|x| x.0.clone()),
                value: ov.as_ref().map(|x| x.1.clone()),
                actual_recent: a.actual_total,
                forecast_recent: a.forecast_total,
                ratio: a.ratio,
                actual: a.actual,
                forecast: a.forecast,
                upper: a.upper,
            })
        })
        .collect()
}

/// Turns the forecast's material shortfalls into purchase suggestions (for
/// order `forecast`), so forecasts reach purchasing the way orders do. What
/// is already on order counts as available, so asking twice suggests only
/// what is still short.
pub(crate) async fn suggest_purchases(
    app: &App,
    rt: &BrandRuntime,
) -> Result<Vec<kiln_domain::PurchaseSuggestion>> {
    use rust_decimal::Decimal;
    let d = demand(app, rt).await?;
    let today = today();
    let need_by = d
        .forecast_weeks
        .first()
        .and_then(|w| w.parse::<Date>().ok())
        .unwrap_or(today)
        .max(today);
    let mut plan = rt.plan.lock().await;
    let mut out = Vec::new();
    for m in &d.materials {
        let available = plan
            .materials
            .get(&m.material)
            .map_or(Decimal::ZERO, |p| p.available());
        // Thousandths, rounded up: a suggestion never understates the need.
        let total = Decimal::from_f64_retain(m.total)
            .unwrap_or_default()
            .round_dp_with_strategy(3, rust_decimal::RoundingStrategy::AwayFromZero);
        let short = total - available.max(Decimal::ZERO);
        if short <= Decimal::ZERO {
            continue;
        }
        let spec = rt.catalog.factory.material(&m.material);
        let lead = spec.map_or(0, |s| s.lead_days);
        let qty = short.max(spec.map_or(Decimal::ZERO, |s| s.moq));
        out.push(kiln_domain::PurchaseSuggestion {
            id: kiln_domain::SuggestionId::new(),
            order_id: "forecast".into(),
            material: m.material.clone(),
            qty: qty.normalize(),
            order_by: m.order_by,
            arrives: today.checked_add(i64::from(lead).days()).unwrap_or(today),
            need_by,
        });
    }
    app.store.add_suggestions(&rt.brand.id, &out).await?;
    for s in &out {
        plan.position(&s.material).on_order += s.qty;
        plan.mrp.add_purchase(s);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sale(style: &str, quantity: f64) -> OrderLine {
        OrderLine {
            date: "2026-01-05".into(),
            product: "sneaker".into(),
            selections: [("style", style), ("upper_material", "leather")]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            quantity,
        }
    }

    fn find(bom: &ProductBom, option: &str, value: &str, material: &str) -> Option<f64> {
        bom.values
            .iter()
            .find(|v| v.option == option && v.value == value)?
            .materials
            .iter()
            .find(|m| m.material == material)
            .map(|m| m.quantity)
    }

    #[test]
    fn the_bom_becomes_additive_over_option_values() {
        let files: Vec<(String, String)> = crate::demo::FILES
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        let report = kiln_model::check(&files);
        let sneaker = report.products.iter().find(|p| p.id == "sneaker").unwrap();
        // Three low sneakers for every high one.
        let bom = bom_of(sneaker, &[sale("low", 3.0), sale("high", 1.0)]);
        // Leather, by style, only for leather uppers: the mix's average, 9 * 3/4 + 13 * 1/4.
        assert_eq!(
            find(&bom, "upper_material", "leather", "leather"),
            Some(10.0)
        );
        assert_eq!(find(&bom, "upper_material", "suede", "leather"), None);
        assert_eq!(
            find(&bom, "sole_material", "rubber", "rubber-outsole"),
            Some(1.0)
        );
        assert_eq!(find(&bom, "size", "40", "insole-board"), Some(3.0));
        // A SKU never sold still explodes into its materials.
        let never_sold: BTreeMap<String, String> = [("upper_material", "suede"), ("size", "44")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let materials = bom.explode(&never_sold);
        assert!(materials["suede"] > 0.0);
        assert_eq!(materials["insole-board"], 3.4);
    }
}
