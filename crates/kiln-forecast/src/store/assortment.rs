//! What to show on a store's display and keep in sample stock: each
//! configuration's share at the store, its own sales shrunk toward the
//! brand's mix, each wanted product's best configuration first.

use std::collections::{BTreeMap, HashMap};

use super::{Display, Sample, StrategyOptions, Units};

/// Of each option, the display shows the most wanted values until they
/// cover this share of the product's sales here, at most so many.
const SHOW_COVERAGE: f64 = 0.6;
const SHOW_PER_OPTION: usize = 3;

/// The shrunk share at the store: its own units blended with the brand's mix.
fn expected(u: Units, of: Units, o: &StrategyOptions) -> f64 {
    let brand = (u.brand / of.brand.max(1e-9)).clamp(0.0, 1.0);
    ((u.store.max(0.0) + o.prior_units * brand) / (of.store.max(0.0) + o.prior_units))
        .clamp(0.0, 1.0)
}

pub(super) type ValueUnits<'a> = HashMap<(&'a str, &'a str, &'a str), Units>;
pub(super) type SkuUnits<'a> = HashMap<(&'a str, &'a BTreeMap<String, String>), Units>;

/// Samples for the display's slots and the products and values to show.
pub(super) fn assortment(
    products: &HashMap<&str, Units>,
    values: &ValueUnits<'_>,
    skus: &SkuUnits<'_>,
    total: Units,
    weekly: f64,
    o: &StrategyOptions,
) -> (Vec<Sample>, Vec<Display>) {
    let mut wanted: Vec<(&str, f64)> = products
        .iter()
        .filter(|(_, u)| u.brand > 0.0)
        .map(|(p, u)| (*p, expected(*u, total, o)))
        .collect();
    wanted.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let mut candidates: Vec<Sample> = skus
        .iter()
        .filter(|(_, u)| u.brand > 0.0)
        .map(|((p, selections), u)| {
            let share = expected(*u, total, o);
            Sample {
                product: p.to_string(),
                selections: (*selections).clone(),
                store_units: u.store,
                expected_share: share,
                expected_weekly_units: share * weekly,
            }
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.expected_share
            .total_cmp(&a.expected_share)
            .then_with(|| a.product.cmp(&b.product))
            .then_with(|| a.selections.cmp(&b.selections))
    });
    let slots = o.display_slots;
    // Each product that earns half a slot gets its best configuration
    // first; the slots left go to the most wanted configurations.
    let mut chosen: Vec<usize> = Vec::new();
    for (p, share) in &wanted {
        if chosen.len() >= slots || *share * slots as f64 <= 0.5 {
            break;
        }
        if let Some(i) = candidates.iter().position(|c| c.product == *p) {
            chosen.push(i);
        }
    }
    for i in 0..candidates.len() {
        if chosen.len() >= slots {
            break;
        }
        if !chosen.contains(&i) {
            chosen.push(i);
        }
    }
    chosen.sort_by(|a, b| {
        candidates[*b]
            .expected_share
            .total_cmp(&candidates[*a].expected_share)
            .then_with(|| a.cmp(b))
    });
    let samples: Vec<Sample> = chosen.iter().map(|i| candidates[*i].clone()).collect();
    let mut shown: Vec<&str> = samples.iter().map(|s| s.product.as_str()).collect();
    shown.sort_unstable();
    shown.dedup();
    let mut display: Vec<Display> = wanted
        .iter()
        .filter(|(p, _)| shown.binary_search(p).is_ok())
        .map(|(p, share)| {
            let of = products.get(p).copied().unwrap_or_default();
            let mut vals: Vec<(String, String, f64)> = values
                .iter()
                .filter(|((vp, _, _), _)| vp == p)
                .map(|((_, option, value), u)| {
                    (option.to_string(), value.to_string(), expected(*u, of, o))
                })
                .collect();
            vals.sort_by(|a, b| {
                a.0.cmp(&b.0)
                    .then_with(|| b.2.total_cmp(&a.2))
                    .then_with(|| a.1.cmp(&b.1))
            });
            // Per option, the most wanted values until they make most of
            // its sales here: what the display must show of it.
            let mut covered: (String, f64, usize) = (String::new(), 0.0, 0);
            vals.retain(|(option, _, share)| {
                if covered.0 != *option {
                    covered = (option.clone(), 0.0, 0);
                }
                let keep = covered.1 < SHOW_COVERAGE && covered.2 < SHOW_PER_OPTION;
                covered.1 += share;
                covered.2 += 1;
                keep
            });
            Display {
                product: p.to_string(),
                expected_share: *share,
                values: vals,
            }
        })
        .collect();
    display.truncate(o.top);
    (samples, display)
}
