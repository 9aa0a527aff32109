//! A strategy per store (千店千策): what one store sells, week by week and
//! against its forecast; which products and option values run hotter or
//! colder there than in the brand as a whole; what to show on its display
//! and keep in sample stock; and how many people to staff each day.
//!
//! Pure computation over the brand's sales lines, each maybe of a store.
//! Read [`store_strategy`] first.
//!
//! - *Hotter or colder*: a product's share of the store's units against its
//!   share of the brand's, as an index (1 = as the brand), flagged only when
//!   a binomial z-score says the difference is more than noise.
//! - *Assortment*: each configuration's expected share at the store, its
//!   own sales shrunk toward the brand's mix (a store with little history
//!   looks like the brand; a busy one like itself), filling the display's
//!   slots with each wanted product's best configuration first.
//! - *Staffing*: the store's sales (tickets) per week forecast, spread over
//!   the days as its weekday rhythm has them, times the minutes a sale takes,
//!   over the hours a person can serve.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::demand::Bucket;
use crate::{AutoOptions, auto};

mod assortment;
mod staffing;

use assortment::assortment;
use staffing::staffing;

/// One line of sales, borrowed from the caller.
#[derive(Clone, Copy, Debug)]
pub struct StoreLine<'a> {
    /// Days since 1970-01-01.
    pub day: i64,
    /// The store it was sold at; none for online and B2B sales.
    pub store: Option<&'a str>,
    /// The sale it belongs to (a store's traffic counts sales, not lines).
    pub ticket: &'a str,
    pub product: &'a str,
    pub selections: &'a BTreeMap<String, String>,
    /// Units; a return is negative.
    pub quantity: f64,
}

/// The knobs of a strategy; [`Default`] gives sensible ones.
#[derive(Clone, Debug)]
pub struct StrategyOptions {
    /// The last day of history (days since 1970-01-01), normally a Sunday.
    pub last_day: i64,
    /// The first day staffed (normally today).
    pub first_staff_day: i64,
    pub history_weeks: usize,
    pub horizon_weeks: usize,
    /// Weeks at the end of history forecast from the weeks before them, to
    /// show the forecast against what happened.
    pub backtest_weeks: usize,
    /// Samples the store's display holds.
    pub display_slots: usize,
    /// A share at least this many times the brand's is hotter (and at most
    /// its inverse colder) ...
    pub heat_index: f64,
    /// ... when the binomial z-score is at least this far from zero.
    pub min_z: f64,
    /// Units of the brand's mix a store's own sales are blended with.
    pub prior_units: f64,
    /// Minutes a person spends on one sale.
    pub minutes_per_sale: f64,
    /// Hours the store is open a day, and the share of them a person serves.
    pub open_hours: f64,
    pub utilisation: f64,
    pub min_staff: u32,
    pub staff_days: usize,
    /// Most entries per list (products, values, hotter, colder).
    pub top: usize,
}

impl Default for StrategyOptions {
    fn default() -> Self {
        StrategyOptions {
            last_day: 0,
            first_staff_day: 1,
            history_weeks: 26,
            horizon_weeks: 8,
            backtest_weeks: 8,
            display_slots: 12,
            heat_index: 1.25,
            min_z: 2.0,
            prior_units: 20.0,
            minutes_per_sale: 20.0,
            open_hours: 10.0,
            utilisation: 0.75,
            min_staff: 1,
            staff_days: 14,
            top: 20,
        }
    }
}

/// How a product or value runs at the store against the brand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heat {
    Hotter,
    Colder,
    AsTheBrand,
}

/// A product (or one option value of it) at the store and in the brand.
#[derive(Clone, Debug, PartialEq)]
pub struct Share {
    pub product: String,
    /// For an option value: the option and the value.
    pub value: Option<(String, String)>,
    pub store_units: f64,
    /// The share of the store's units (of the product's, for a value).
    pub store_share: f64,
    pub brand_share: f64,
    /// `store_share / brand_share`.
    pub index: f64,
    pub z: f64,
    pub heat: Heat,
}

/// The forecast of the last weeks of history, made from the weeks before.
#[derive(Clone, Debug, PartialEq)]
pub struct Backtest {
    /// Index into the history weeks of the first week tested.
    pub from_week: usize,
    pub forecast: Vec<f64>,
    pub actual: Vec<f64>,
    /// Weighted absolute percentage error: Σ|forecast − actual| / Σ actual.
    pub wape: Option<f64>,
    /// (Σ forecast − Σ actual) / Σ actual: positive forecasts too much.
    pub bias: Option<f64>,
}

/// One configuration to show and keep in sample stock.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub product: String,
    pub selections: BTreeMap<String, String>,
    pub store_units: f64,
    /// Its expected share of the store's units, and units per week.
    pub expected_share: f64,
    pub expected_weekly_units: f64,
}

/// A product on display, and the values of each option its buyers want here.
#[derive(Clone, Debug, PartialEq)]
pub struct Display {
    pub product: String,
    pub expected_share: f64,
    /// `(option, value, expected share of the product's units here)`, by
    /// option, the most wanted first, until they cover most of its sales.
    pub values: Vec<(String, String, f64)>,
}

/// The people a day needs.
#[derive(Clone, Debug, PartialEq)]
pub struct StaffDay {
    /// Days since 1970-01-01.
    pub day: i64,
    /// 0 is Monday.
    pub weekday: u8,
    pub tickets: f64,
    pub staff: u32,
}

/// A store's strategy; weeks are numbered as [`Bucket::Week`] numbers them.
#[derive(Clone, Debug, PartialEq)]
pub struct Strategy {
    pub first_week: i64,
    /// Per history week, oldest first.
    pub units: Vec<f64>,
    pub tickets: Vec<f64>,
    /// Per forecast week (after the history), with the prediction interval.
    pub forecast: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub model: String,
    pub backtest: Option<Backtest>,
    /// The store's best sellers, with how they run against the brand.
    pub products: Vec<Share>,
    pub values: Vec<Share>,
    /// Products and values flagged, strongest first.
    pub hotter: Vec<Share>,
    pub colder: Vec<Share>,
    pub samples: Vec<Sample>,
    pub display: Vec<Display>,
    pub staffing: Vec<StaffDay>,
}

/// Units of a key at the store and in the brand.
#[derive(Default, Clone, Copy)]
struct Units {
    store: f64,
    brand: f64,
}

/// The strategy of `store` from the brand's `lines` (every channel's).
pub fn store_strategy(store: &str, lines: &[StoreLine<'_>], o: &StrategyOptions) -> Strategy {
    let weeks = o.history_weeks.max(1);
    let last_week = Bucket::Week.of(o.last_day);
    let first_week = last_week - weeks as i64 + 1;
    let first_day = Bucket::Week.start(first_week);
    let in_window: Vec<&StoreLine<'_>> = lines
        .iter()
        .filter(|l| l.day >= first_day && l.day <= o.last_day && l.quantity.is_finite())
        .collect();
    let here = |l: &StoreLine<'_>| l.store == Some(store);

    // Week by week, and the store's sales per day for its weekday rhythm.
    let mut units = vec![0.0; weeks];
    let mut tickets: Vec<HashSet<&str>> = vec![HashSet::new(); weeks];
    let mut day_tickets: HashMap<i64, HashSet<&str>> = HashMap::new();
    for l in in_window.iter().filter(|l| here(l)) {
        let w = (Bucket::Week.of(l.day) - first_week) as usize;
        units[w] += l.quantity;
        if l.quantity > 0.0 {
            tickets[w].insert(l.ticket);
            day_tickets.entry(l.day).or_default().insert(l.ticket);
        }
    }
    let units: Vec<f64> = units.into_iter().map(|u| u.max(0.0)).collect();
    let tickets: Vec<f64> = tickets.iter().map(|t| t.len() as f64).collect();
    let h = o.horizon_weeks.max(1);
    let fc = auto(&units, &[], h, &AutoOptions::default());
    let backtest = backtest(&units, o.backtest_weeks);

    // Products and values, at the store and in the brand.
    let mut products: HashMap<&str, Units> = HashMap::new();
    let mut values: HashMap<(&str, &str, &str), Units> = HashMap::new();
    let mut skus: HashMap<(&str, &BTreeMap<String, String>), Units> = HashMap::new();
    for l in &in_window {
        let at_store = here(l);
        let add = |u: &mut Units| {
            u.brand += l.quantity;
            if at_store {
                u.store += l.quantity;
            }
        };
        add(products.entry(l.product).or_default());
        add(skus.entry((l.product, l.selections)).or_default());
        for (option, value) in l.selections {
            add(values
                .entry((l.product, option.as_str(), value.as_str()))
                .or_default());
        }
    }
    let total = products.values().fold(Units::default(), |a, u| Units {
        store: a.store + u.store.max(0.0),
        brand: a.brand + u.brand.max(0.0),
    });
    let mut product_shares: Vec<Share> = products
        .iter()
        .filter(|(_, u)| u.brand > 0.0)
        .map(|(p, u)| share(p, None, *u, total, o))
        .collect();
    let mut value_shares: Vec<Share> = values
        .iter()
        .filter_map(|((p, option, value), u)| {
            let of = products.get(p).copied()?;
            (u.brand > 0.0 && of.store > 0.0)
                .then(|| share(p, Some((option.to_string(), value.to_string())), *u, of, o))
        })
        .collect();
    let flagged = |shares: &[Share], heat: Heat| -> Vec<Share> {
        shares.iter().filter(|s| s.heat == heat).cloned().collect()
    };
    let mut hotter = flagged(&product_shares, Heat::Hotter);
    hotter.extend(flagged(&value_shares, Heat::Hotter));
    hotter.sort_by(|a, b| b.z.total_cmp(&a.z).then_with(|| key(a).cmp(&key(b))));
    hotter.truncate(o.top);
    let mut colder = flagged(&product_shares, Heat::Colder);
    colder.extend(flagged(&value_shares, Heat::Colder));
    colder.sort_by(|a, b| a.z.total_cmp(&b.z).then_with(|| key(a).cmp(&key(b))));
    colder.truncate(o.top);
    let by_store_units = |a: &Share, b: &Share| {
        b.store_units
            .total_cmp(&a.store_units)
            .then_with(|| key(a).cmp(&key(b)))
    };
    product_shares.sort_by(by_store_units);
    product_shares.truncate(o.top);
    value_shares.sort_by(by_store_units);
    value_shares.truncate(o.top);

    let weekly = fc.mean.iter().sum::<f64>() / h as f64;
    let (samples, display) = assortment(&products, &values, &skus, total, weekly, o);
    let staffing = staffing(&fc_tickets(&tickets, h), &day_tickets, o);
    Strategy {
        first_week,
        units,
        tickets,
        forecast: fc.mean,
        lower: fc.lower,
        upper: fc.upper,
        model: fc.model,
        backtest,
        products: product_shares,
        values: value_shares,
        hotter,
        colder,
        samples,
        display,
        staffing,
    }
}

fn key(s: &Share) -> (&str, Option<&(String, String)>) {
    (s.product.as_str(), s.value.as_ref())
}

/// A key's share at the store against the brand's, and whether it differs
/// beyond noise (binomial z-score of the store's units).
fn share(
    product: &str,
    value: Option<(String, String)>,
    u: Units,
    of: Units,
    o: &StrategyOptions,
) -> Share {
    let store_share = if of.store > 0.0 {
        (u.store / of.store).max(0.0)
    } else {
        0.0
    };
    let brand_share = (u.brand / of.brand.max(1e-9)).clamp(0.0, 1.0);
    let index = if brand_share > 0.0 {
        store_share / brand_share
    } else {
        0.0
    };
    let var = of.store.max(0.0) * brand_share * (1.0 - brand_share);
    let z = if var > 0.0 {
        (u.store - of.store * brand_share) / var.sqrt()
    } else {
        0.0
    };
    let heat = if index >= o.heat_index && z >= o.min_z {
        Heat::Hotter
    } else if index <= 1.0 / o.heat_index && z <= -o.min_z {
        Heat::Colder
    } else {
        Heat::AsTheBrand
    };
    Share {
        product: product.to_string(),
        value,
        store_units: u.store,
        store_share,
        brand_share,
        index,
        z,
        heat,
    }
}

/// The last `weeks` of `units` forecast from the weeks before them.
fn backtest(units: &[f64], weeks: usize) -> Option<Backtest> {
    if weeks == 0 || units.len() < weeks + 8 {
        return None;
    }
    let from = units.len() - weeks;
    let fc = auto(&units[..from], &[], weeks, &AutoOptions::default());
    let actual = units[from..].to_vec();
    let sum: f64 = actual.iter().sum();
    let (wape, bias) = if sum > 0.0 {
        let abs: f64 = fc
            .mean
            .iter()
            .zip(&actual)
            .map(|(f, a)| (f - a).abs())
            .sum();
        (
            Some(abs / sum),
            Some((fc.mean.iter().sum::<f64>() - sum) / sum),
        )
    } else {
        (None, None)
    };
    Some(Backtest {
        from_week: from,
        forecast: fc.mean,
        actual,
        wape,
        bias,
    })
}

/// Tickets per forecast week.
fn fc_tickets(tickets: &[f64], h: usize) -> Vec<f64> {
    auto(tickets, &[], h, &AutoOptions::default())
        .mean
        .into_iter()
        .map(|t| t.max(0.0))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(
        day: i64,
        store: Option<&'a str>,
        ticket: &'a str,
        product: &'a str,
        sel: &'a BTreeMap<String, String>,
    ) -> StoreLine<'a> {
        StoreLine {
            day,
            store,
            ticket,
            product,
            selections: sel,
            quantity: 1.0,
        }
    }

    #[test]
    fn a_product_the_store_sells_far_more_of_runs_hotter_there() {
        let blue: BTreeMap<String, String> = [("glaze".to_string(), "blue".to_string())].into();
        let red: BTreeMap<String, String> = [("glaze".to_string(), "red".to_string())].into();
        // 26 weeks ending on Sunday 2026-11-29 (day 20_421).
        let last = crate::demand::parse_date("2026-11-29").unwrap();
        let tickets: Vec<String> = (0..4000).map(|i| format!("t{i}")).collect();
        let mut lines = Vec::new();
        for (i, t) in tickets.iter().enumerate() {
            let day = last - (i as i64 % 180);
            let (store, product, sel) = match i % 10 {
                // Berlin: mugs in blue, far more than the brand.
                0..=2 => (Some("berlin"), "mug", &blue),
                3 => (Some("berlin"), "plate", &red),
                4..=5 => (None, "mug", &red),
                _ => (None, "plate", &red),
            };
            lines.push(line(day, store, t, product, sel));
        }
        let o = StrategyOptions {
            last_day: last,
            first_staff_day: last + 1,
            ..StrategyOptions::default()
        };
        let s = store_strategy("berlin", &lines, &o);
        assert_eq!(s.units.len(), 26);
        assert!(s.units.iter().sum::<f64>() > 1000.0);
        assert_eq!(s.forecast.len(), 8);
        let mug = s.products.iter().find(|p| p.product == "mug").unwrap();
        assert_eq!(mug.heat, Heat::Hotter, "{mug:?}");
        assert!(
            s.hotter
                .iter()
                .any(|h| h.product == "mug" && h.value.is_none())
        );
        assert!(
            s.colder
                .iter()
                .any(|h| h.product == "plate" && h.value.is_none())
        );
        assert!(
            s.hotter
                .iter()
                .any(|h| h.value == Some(("glaze".into(), "blue".into())))
        );
        // The display shows blue mugs first.
        assert_eq!(s.samples[0].product, "mug");
        assert_eq!(s.samples[0].selections, blue);
        assert!(s.samples.len() <= o.display_slots);
        assert_eq!(s.staffing.len(), 14);
        assert!(s.staffing.iter().all(|d| d.staff >= 1));
        assert!(s.backtest.as_ref().is_some_and(|b| b.wape.is_some()));
        // A store with no sales looks like the brand, and needs its minimum.
        let empty = store_strategy("nowhere", &lines, &o);
        assert!(empty.units.iter().all(|u| *u == 0.0));
        assert!(empty.hotter.is_empty());
        assert!(empty.staffing.iter().all(|d| d.staff == 1));
    }
}
