//! Configuration-aware demand: forecasts per product and per option value from order
//! history, reconciled so that each option's value forecasts add up to the product's,
//! material needs derived through BOM quantities (so materials of SKUs never sold are
//! planned too), and forecast consumption by orders already booked.
//!
//! A made-to-order catalog has far more SKUs than sales, so nothing is forecast per SKU:
//! the product and its option values are where the data is dense, and a SKU is the sum of
//! its parts. The BOM is taken as additive over option values (per unit: the product's base
//! quantities plus, for each selected value, that value's quantities), which is how the
//! product model's `[[bom]]` lines read when each depends on one option.
//!
//! Dates are civil dates (`YYYY-MM-DD`, anything after the tenth character ignored, so
//! `2024-03-01 10:15:00` reads as 1 March 2024), bucketed by day, ISO week or month.

use std::collections::BTreeMap;
use std::fmt;

use crate::{AutoOptions, Model, auto, is_intermittent};

/// One order line of history (or a booked order inside the forecast horizon).
#[derive(Clone, Debug, PartialEq)]
pub struct OrderLine {
    /// `YYYY-MM-DD`, optionally followed by a time.
    pub date: String,
    pub product: String,
    /// The SKU's selections: option to value.
    pub selections: BTreeMap<String, String>,
    pub quantity: f64,
}

/// A material quantity per unit of product.
#[derive(Clone, Debug, PartialEq)]
pub struct MaterialQuantity {
    pub material: String,
    pub quantity: f64,
}

/// The material quantities one selected value adds per unit of product.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueMaterials {
    pub option: String,
    pub value: String,
    pub materials: Vec<MaterialQuantity>,
}

/// A product's BOM quantity function, as data: per unit, `base` plus, for each selected
/// value, its `values` entry.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ProductBom {
    pub product: String,
    pub base: Vec<MaterialQuantity>,
    pub values: Vec<ValueMaterials>,
}

impl ProductBom {
    /// Materials of one unit with the given selections.
    pub fn explode(&self, selections: &BTreeMap<String, String>) -> BTreeMap<String, f64> {
        let mut out: BTreeMap<String, f64> = BTreeMap::new();
        for m in &self.base {
            *out.entry(m.material.clone()).or_default() += m.quantity;
        }
        for v in &self.values {
            if selections.get(&v.option) == Some(&v.value) {
                for m in &v.materials {
                    *out.entry(m.material.clone()).or_default() += m.quantity;
                }
            }
        }
        out
    }
}

/// Period length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bucket {
    Day,
    /// ISO weeks, Monday to Sunday.
    Week,
    Month,
}

/// What to forecast.
#[derive(Clone, Debug)]
pub struct DemandOptions {
    pub bucket: Bucket,
    /// Periods ahead.
    pub horizon: usize,
    /// Seasonal periods in buckets (e.g. `[52]` weekly, `[7]` daily); may be empty.
    pub season: Vec<usize>,
    /// The last day of history: lines dated after it and within the horizon are booked
    /// orders that consume the forecast. Default: the latest line's date.
    pub as_of: Option<String>,
    /// Rolling-origin windows of model selection.
    pub windows: usize,
    /// Coverage of the prediction intervals.
    pub level: f64,
    /// One model for every series instead of choosing by cross-validation.
    pub model: Option<Model>,
}

impl Default for DemandOptions {
    fn default() -> Self {
        Self {
            bucket: Bucket::Week,
            horizon: 8,
            season: Vec::new(),
            as_of: None,
            windows: 2,
            level: 0.95,
            model: None,
        }
    }
}

/// Forecast, booked orders and gross requirement of one item over the horizon.
#[derive(Clone, Debug, PartialEq)]
pub struct Requirement {
    pub forecast: Vec<f64>,
    /// Orders already booked for each period.
    pub booked: Vec<f64>,
    /// `max(forecast - booked, 0) + booked`: booked orders consume the forecast, and
    /// anything beyond it is needed on top.
    pub gross: Vec<f64>,
}

impl Requirement {
    fn new(forecast: Vec<f64>, booked: Vec<f64>) -> Self {
        let gross = consume(&forecast, &booked);
        Self {
            forecast,
            booked,
            gross,
        }
    }
}

/// Forecast consumption: per period `max(forecast - booked, 0) + booked`.
pub fn consume(forecast: &[f64], booked: &[f64]) -> Vec<f64> {
    forecast
        .iter()
        .zip(booked)
        .map(|(&f, &b)| (f - b).max(0.0) + b)
        .collect()
}

/// One option value's demand.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueDemand {
    pub option: String,
    pub value: String,
    /// Units sold with this value per history period.
    pub history: Vec<f64>,
    /// Forecast on its own series (dense: fewer than a third of the periods without
    /// demand) and the model chosen; else from its share of the product's history.
    pub dense: bool,
    pub model: Option<String>,
    /// Share of the product's units in history.
    pub share: f64,
    /// Reconciled: the values of one option add up to the product's forecast (less the
    /// share of units that left the option unselected).
    pub requirement: Requirement,
}

/// One product's demand.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductDemand {
    pub product: String,
    /// Units per history period.
    pub history: Vec<f64>,
    pub model: String,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub requirement: Requirement,
    pub values: Vec<ValueDemand>,
}

/// One material's need, through the BOM quantities of the product and value forecasts.
#[derive(Clone, Debug, PartialEq)]
pub struct MaterialDemand {
    pub material: String,
    pub requirement: Requirement,
}

/// The demand plan.
#[derive(Clone, Debug, PartialEq)]
pub struct DemandPlan {
    /// First day of each history period.
    pub history_periods: Vec<String>,
    /// First day of each forecast period.
    pub periods: Vec<String>,
    pub products: Vec<ProductDemand>,
    pub materials: Vec<MaterialDemand>,
    /// Lines dated after the horizon, not counted anywhere.
    pub beyond_horizon: usize,
}

/// Why a demand plan cannot be made.
#[derive(Clone, Debug, PartialEq)]
pub enum DemandError {
    /// Order line `line` (0-based) has a date that is not `YYYY-MM-DD`.
    BadDate {
        line: usize,
        date: String,
    },
    /// `as_of` is not a date.
    BadAsOf(String),
    /// Order line `line` has a negative or non-finite quantity.
    BadQuantity {
        line: usize,
        quantity: f64,
    },
    /// A BOM quantity is negative or not finite.
    BadBomQuantity {
        product: String,
        material: String,
    },
    NoHistory,
    ZeroHorizon,
}

impl fmt::Display for DemandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DemandError::BadDate { line, date } => {
                write!(f, "order line {line}: `{date}` is not a date (YYYY-MM-DD)")
            }
            DemandError::BadAsOf(d) => write!(f, "as-of date `{d}` is not a date (YYYY-MM-DD)"),
            DemandError::BadQuantity { line, quantity } => write!(
                f,
                "order line {line}: quantity {quantity} is not a finite, non-negative number"
            ),
            DemandError::BadBomQuantity { product, material } => write!(
                f,
                "BOM of `{product}`: the quantity of `{material}` is not a finite, non-negative number"
            ),
            DemandError::NoHistory => write!(f, "no order history on or before the as-of date"),
            DemandError::ZeroHorizon => write!(f, "the horizon must be at least one period"),
        }
    }
}

impl std::error::Error for DemandError {}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Day count of `YYYY-MM-DD` (anything after the tenth character ignored).
pub fn parse_date(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let mut v = 0i64;
        for &c in &b[r] {
            if !c.is_ascii_digit() {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Some(v)
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&m) || d < 1 {
        return None;
    }
    let m = m as u32;
    let next = if m == 12 {
        days_from_civil(y + 1, 1, 1)
    } else {
        days_from_civil(y, m + 1, 1)
    };
    let day = days_from_civil(y, m, d as u32);
    (day < next).then_some(day)
}

/// `YYYY-MM-DD` of a day count.
pub fn format_date(days: i64) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Bucket {
    /// The bucket number of a day (consecutive buckets have consecutive numbers).
    pub fn of(self, day: i64) -> i64 {
        match self {
            Bucket::Day => day,
            // 1970-01-01 was a Thursday: shift so that weeks start on Monday
            Bucket::Week => (day + 3).div_euclid(7),
            Bucket::Month => {
                let (y, m, _) = civil_from_days(day);
                y * 12 + i64::from(m) - 1
            }
        }
    }

    /// The first day of bucket number `b`.
    pub fn start(self, b: i64) -> i64 {
        match self {
            Bucket::Day => b,
            Bucket::Week => b * 7 - 3,
            Bucket::Month => days_from_civil(b.div_euclid(12), (b.rem_euclid(12) + 1) as u32, 1),
        }
    }
}

/// Units per history period and booked units per forecast period.
type HistoryAndBooked = (Vec<f64>, Vec<f64>);

/// (product, option, value)
type ValueKey = (String, String, String);

/// One value of an option: its name, history and booked units.
type ValueSeries<'a> = (&'a str, &'a Vec<f64>, &'a Vec<f64>);

/// Units per period of each product and of each (product, option, value), and the booked
/// units inside the horizon.
struct Bucketed {
    first: i64,
    history_len: usize,
    horizon: usize,
    /// product -> (history, booked)
    products: BTreeMap<String, HistoryAndBooked>,
    /// (product, option, value) -> (history, booked)
    values: BTreeMap<ValueKey, HistoryAndBooked>,
    /// material -> booked units, through the BOM of each booked line's own selections
    booked_materials: BTreeMap<String, Vec<f64>>,
    beyond: usize,
}

fn bucket_orders(
    orders: &[OrderLine],
    boms: &BTreeMap<&str, &ProductBom>,
    o: &DemandOptions,
) -> Result<Bucketed, DemandError> {
    let mut days = Vec::with_capacity(orders.len());
    for (i, l) in orders.iter().enumerate() {
        let d = parse_date(&l.date).ok_or_else(|| DemandError::BadDate {
            line: i,
            date: l.date.clone(),
        })?;
        if !l.quantity.is_finite() || l.quantity < 0.0 {
            return Err(DemandError::BadQuantity {
                line: i,
                quantity: l.quantity,
            });
        }
        days.push(d);
    }
    let as_of = match &o.as_of {
        Some(s) => parse_date(s).ok_or_else(|| DemandError::BadAsOf(s.clone()))?,
        None => *days.iter().max().ok_or(DemandError::NoHistory)?,
    };
    let first_day = days
        .iter()
        .copied()
        .filter(|&d| d <= as_of)
        .min()
        .ok_or(DemandError::NoHistory)?;
    let first = o.bucket.of(first_day);
    let last = o.bucket.of(as_of);
    let history_len = (last - first + 1) as usize;
    let h = o.horizon;
    let total = history_len + h;
    let mut b = Bucketed {
        first,
        history_len,
        horizon: h,
        products: BTreeMap::new(),
        values: BTreeMap::new(),
        booked_materials: BTreeMap::new(),
        beyond: 0,
    };
    for (l, &d) in orders.iter().zip(&days) {
        let idx = o.bucket.of(d) - first;
        if idx < 0 {
            continue; // before the first history line: only when as_of moved it
        }
        let idx = idx as usize;
        if idx >= total {
            b.beyond += 1;
            continue;
        }
        let add = |e: &mut (Vec<f64>, Vec<f64>)| {
            if idx < history_len {
                e.0[idx] += l.quantity;
            } else {
                e.1[idx - history_len] += l.quantity;
            }
        };
        let fresh = || (vec![0.0; history_len], vec![0.0; h]);
        add(b.products.entry(l.product.clone()).or_insert_with(fresh));
        for (opt, val) in &l.selections {
            add(b
                .values
                .entry((l.product.clone(), opt.clone(), val.clone()))
                .or_insert_with(fresh));
        }
        if idx >= history_len
            && let Some(bom) = boms.get(l.product.as_str())
        {
            for (m, q) in bom.explode(&l.selections) {
                b.booked_materials.entry(m).or_insert_with(|| vec![0.0; h])[idx - history_len] +=
                    q * l.quantity;
            }
        }
    }
    // products with a BOM but no orders: zero demand, still listed
    for p in boms.keys() {
        b.products
            .entry((*p).to_string())
            .or_insert_with(|| (vec![0.0; history_len], vec![0.0; h]));
    }
    Ok(b)
}

/// Forecasts demand per product and option value, reconciles, derives material needs and
/// applies forecast consumption by booked orders.
pub fn plan_demand(
    orders: &[OrderLine],
    boms: &[ProductBom],
    o: &DemandOptions,
) -> Result<DemandPlan, DemandError> {
    if o.horizon == 0 {
        return Err(DemandError::ZeroHorizon);
    }
    for b in boms {
        let all = b
            .base
            .iter()
            .chain(b.values.iter().flat_map(|v| v.materials.iter()));
        for m in all {
            if !m.quantity.is_finite() || m.quantity < 0.0 {
                return Err(DemandError::BadBomQuantity {
                    product: b.product.clone(),
                    material: m.material.clone(),
                });
            }
        }
    }
    let bom_of: BTreeMap<&str, &ProductBom> =
        boms.iter().map(|b| (b.product.as_str(), b)).collect();
    let b = bucket_orders(orders, &bom_of, o)?;
    let h = b.horizon;
    let auto_opts = AutoOptions {
        windows: o.windows,
        level: o.level,
        candidates: o.model.iter().cloned().collect(),
    };
    let mut products = Vec::new();
    let mut material_forecast: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (product, (history, booked)) in &b.products {
        let f = auto(history, &o.season, h, &auto_opts);
        let mean: Vec<f64> = f.mean.iter().map(|v| v.max(0.0)).collect();
        let total: f64 = history.iter().sum();
        // the values of this product, grouped by option
        let mut by_option: BTreeMap<&str, Vec<ValueSeries<'_>>> = BTreeMap::new();
        for ((p, opt, val), (vh, vb)) in b
            .values
            .range((product.clone(), String::new(), String::new())..)
        {
            if p != product {
                break;
            }
            by_option
                .entry(opt.as_str())
                .or_default()
                .push((val.as_str(), vh, vb));
        }
        let mut values = Vec::new();
        for (opt, vals) in by_option {
            values.extend(reconcile_option(opt, &vals, total, &mean, o, &auto_opts));
        }
        // materials: base per product unit, plus each value's per unit of that value
        if let Some(bom) = bom_of.get(product.as_str()) {
            for m in &bom.base {
                let e = material_forecast
                    .entry(m.material.clone())
                    .or_insert_with(|| vec![0.0; h]);
                for (t, v) in e.iter_mut().enumerate() {
                    *v += m.quantity * mean[t];
                }
            }
            for vm in &bom.values {
                let Some(vd) = values
                    .iter()
                    .find(|v: &&ValueDemand| v.option == vm.option && v.value == vm.value)
                else {
                    continue; // never sold: no share of the forecast
                };
                for m in &vm.materials {
                    let e = material_forecast
                        .entry(m.material.clone())
                        .or_insert_with(|| vec![0.0; h]);
                    for (t, v) in e.iter_mut().enumerate() {
                        *v += m.quantity * vd.requirement.forecast[t];
                    }
                }
            }
        }
        products.push(ProductDemand {
            product: product.clone(),
            history: history.clone(),
            model: f.model,
            lower: f.lower.iter().map(|v| v.max(0.0)).collect(),
            upper: f.upper.iter().map(|v| v.max(0.0)).collect(),
            requirement: Requirement::new(mean, booked.clone()),
            values,
        });
    }
    let mut names: Vec<&String> = material_forecast
        .keys()
        .chain(b.booked_materials.keys())
        .collect();
    names.sort();
    names.dedup();
    let materials = names
        .into_iter()
        .map(|m| MaterialDemand {
            material: m.clone(),
            requirement: Requirement::new(
                material_forecast
                    .get(m)
                    .cloned()
                    .unwrap_or_else(|| vec![0.0; h]),
                b.booked_materials
                    .get(m)
                    .cloned()
                    .unwrap_or_else(|| vec![0.0; h]),
            ),
        })
        .collect();
    let label = |k: usize| format_date(o.bucket.start(b.first + k as i64));
    Ok(DemandPlan {
        history_periods: (0..b.history_len).map(label).collect(),
        periods: (b.history_len..b.history_len + h).map(label).collect(),
        products,
        materials,
        beyond_horizon: b.beyond,
    })
}

/// The values of one option: each dense value forecast on its own series, each sparse one
/// as its history share of the product forecast; then scaled per period so that they add
/// up to the product forecast times the share of units that selected the option at all.
fn reconcile_option(
    option: &str,
    vals: &[ValueSeries<'_>],
    product_total: f64,
    product_mean: &[f64],
    o: &DemandOptions,
    auto_opts: &AutoOptions,
) -> Vec<ValueDemand> {
    let h = product_mean.len();
    let selected: f64 = vals.iter().map(|v| v.1.iter().sum::<f64>()).sum();
    let coverage = if product_total > 0.0 {
        (selected / product_total).min(1.0)
    } else {
        0.0
    };
    let mut raw: Vec<(Vec<f64>, bool, Option<String>, f64)> = Vec::with_capacity(vals.len());
    for (_, vh, _) in vals {
        let units: f64 = vh.iter().sum();
        let share = if product_total > 0.0 {
            units / product_total
        } else {
            0.0
        };
        let dense = units > 0.0 && !is_intermittent(vh);
        if dense {
            let f = auto(vh, &o.season, h, auto_opts);
            let mean = f.mean.iter().map(|v| v.max(0.0)).collect();
            raw.push((mean, true, Some(f.model), share));
        } else {
            raw.push((
                product_mean.iter().map(|p| p * share).collect(),
                false,
                None,
                share,
            ));
        }
    }
    // proportional reconciliation per period
    for (t, &pm) in product_mean.iter().enumerate() {
        let sum: f64 = raw.iter().map(|r| r.0[t]).sum();
        if sum > 0.0 {
            let k = pm * coverage / sum;
            raw.iter_mut().for_each(|r| r.0[t] *= k);
        } else {
            // nothing forecast for any value: fall back to the history shares
            raw.iter_mut().for_each(|r| r.0[t] = pm * r.3);
        }
    }
    vals.iter()
        .zip(raw)
        .map(
            |((val, vh, vb), (forecast, dense, model, share))| ValueDemand {
                option: option.to_string(),
                value: (*val).to_string(),
                history: (*vh).clone(),
                dense,
                model,
                share,
                requirement: Requirement::new(forecast, (*vb).clone()),
            },
        )
        .collect()
}

/// A hot product (`option` and `value` empty) or option value.
#[derive(Clone, Debug, PartialEq)]
pub struct HotFlag {
    pub product: String,
    pub option: Option<String>,
    pub value: Option<String>,
    pub assessment: crate::hot::HotAssessment,
}

/// Hot products and option values in the order history.
#[derive(Clone, Debug, PartialEq)]
pub struct HotReport {
    /// First day of each history period (the assessments' `actual` series).
    pub periods: Vec<String>,
    /// The hottest first.
    pub flags: Vec<HotFlag>,
}

/// Flags the products and option values whose demand over the last `hot.recent` history
/// periods (through `o.as_of`) runs beyond the forecast made before them ([`crate::hot`]).
/// `o.horizon` is not used.
pub fn hot_products(
    orders: &[OrderLine],
    o: &DemandOptions,
    hot: &crate::hot::HotOptions,
) -> Result<HotReport, DemandError> {
    let o = DemandOptions {
        horizon: 1,
        ..o.clone()
    };
    let b = bucket_orders(orders, &BTreeMap::new(), &o)?;
    let mut flags = Vec::new();
    for (p, (y, _)) in &b.products {
        if let Some(a) = crate::hot::assess(p, y, hot).filter(|a| a.hot) {
            flags.push(HotFlag {
                product: p.clone(),
                option: None,
                value: None,
                assessment: a,
            });
        }
    }
    for ((p, opt, val), (y, _)) in &b.values {
        let key = format!("{p}: {opt}={val}");
        if let Some(a) = crate::hot::assess(&key, y, hot).filter(|a| a.hot) {
            flags.push(HotFlag {
                product: p.clone(),
                option: Some(opt.clone()),
                value: Some(val.clone()),
                assessment: a,
            });
        }
    }
    flags.sort_by(|a, b| {
        b.assessment
            .score
            .total_cmp(&a.assessment.score)
            .then(a.assessment.key.cmp(&b.assessment.key))
    });
    Ok(HotReport {
        periods: (0..b.history_len)
            .map(|k| format_date(o.bucket.start(b.first + k as i64)))
            .collect(),
        flags,
    })
}
