//! The demo brand: a ceramic mug, a sneaker and a made-to-measure shirt,
//! made in one shared factory. `kiln serve --demo` seeds it.

use std::collections::BTreeMap;

use jiff::ToSpan;
use kiln_configure::Configurator;
use kiln_domain::{Address, Brand, SaleTime, SalesLine, Scope, StoreLocation};

use crate::App;
use crate::catalog::SourceFile;
use crate::error::Result;
use crate::keys::Actor;

pub const SLUG: &str = "demo";

/// The demo catalog's model files, built into the binary: `(name, source)`.
pub const FILES: &[(&str, &str)] = &[
    (
        "factory.toml",
        include_str!("../../../catalog/demo/factory.toml"),
    ),
    ("mug.toml", include_str!("../../../catalog/demo/mug.toml")),
    (
        "sneaker.toml",
        include_str!("../../../catalog/demo/sneaker.toml"),
    ),
    (
        "shirt.toml",
        include_str!("../../../catalog/demo/shirt.toml"),
    ),
];

/// The demo brand's shops: (id, name, street, city, postal code, country).
const STORES: &[(&str, &str, &str, &str, &str, &str)] = &[
    (
        "london",
        "Kiln London, Covent Garden",
        "14 Floral Street",
        "London",
        "WC2E 9DH",
        "GB",
    ),
    (
        "berlin",
        "Kiln Berlin, Mitte",
        "Alte Schönhauser Str. 7",
        "Berlin",
        "10119",
        "DE",
    ),
];

impl App {
    /// Creates the demo brand if needed, publishes the built-in catalog if it
    /// differs from the brand's latest version, and returns the brand with a
    /// fresh key holding every scope (keys are stored hashed, so an old one
    /// cannot be shown again).
    pub async fn seed_demo(&self) -> Result<(Brand, String)> {
        let actor = Actor::Cli;
        let (brand, key) = match self.store.brand_by_slug(SLUG).await? {
            Some(b) => {
                let key = self
                    .issue_key(&actor, &b, "demo", vec![Scope::Admin])
                    .await?;
                (b, key.api_key)
            }
            None => {
                let (b, key) = self.create_brand(&actor, SLUG, "Kiln Demo Works").await?;
                (b, key.api_key)
            }
        };
        let latest = self.store.catalog(&brand.id, None).await?;
        let same = latest.is_some_and(|(_, stored)| {
            stored.len() == FILES.len()
                && FILES.iter().all(|(name, source)| {
                    stored
                        .iter()
                        .any(|f| f.name == *name && f.source == *source)
                })
        });
        if !same {
            let files = FILES
                .iter()
                .map(|(name, source)| SourceFile {
                    name: name.to_string(),
                    source: source.to_string(),
                })
                .collect();
            self.publish_catalog(&actor, &brand, files).await?;
        }
        for (id, name, line1, city, postal_code, country) in STORES {
            let location = StoreLocation {
                id: id.to_string(),
                name: name.to_string(),
                address: Address {
                    name: name.to_string(),
                    line1: line1.to_string(),
                    line2: None,
                    city: city.to_string(),
                    postal_code: postal_code.to_string(),
                    region: None,
                    country: country.to_string(),
                },
            };
            self.store.put_store(&brand.id, &location).await?;
        }
        let since = jiff::civil::Date::constant(1970, 1, 1);
        let history_empty = self
            .store
            .sales_lines(&brand.id, since, jiff::Timestamp::MAX)
            .await?
            .is_empty();
        if history_empty {
            let rt = self.brand(SLUG).await?;
            let lines = history(&rt.catalog.products, crate::time::today());
            self.store.add_sales_history(&brand.id, &lines).await?;
        }
        Ok((brand, key))
    }
}

/// A year of the demo brand's sales before it came to Kiln, up to
/// yesterday: weekly rhythm, slow growth, and one glaze taking off in the
/// last week so the analytics have a hot value to show. Deterministic.
fn history(products: &[Configurator], today: jiff::civil::Date) -> Vec<SalesLine> {
    let mut next = xorshift(0x9e37_79b9_7f4a_7c15);
    // 24 valid configurations per product to draw sales from.
    let pools: Vec<Vec<BTreeMap<String, String>>> = products
        .iter()
        .map(|c| (0..24).filter_map(|_| sample(c, &mut next)).collect())
        .collect();
    // The stores' share of sales, drawn apart so the online history stays
    // as it was: London sells the first of each product's configurations far
    // more than the brand does, Berlin sells few of the first product.
    let mut store_draw = xorshift(0x2545_f491_4f6c_dd1d);
    let (base, hot_glaze) = ([6.0, 3.0, 2.0], "#81b29a");
    let mut lines = Vec::new();
    for back in (1..=364i64).rev() {
        let Ok(day) = today.checked_sub(back.days()) else {
            continue;
        };
        let weekend = day.weekday().to_monday_one_offset() >= 6;
        let growth = 1.0 + (364 - back) as f64 / 364.0 * 0.3;
        for (p, pool) in pools.iter().enumerate() {
            if pool.is_empty() {
                continue;
            }
            let rate =
                base.get(p).copied().unwrap_or(2.0) * growth * if weekend { 1.4 } else { 1.0 };
            let units = (rate * (0.6 + 0.8 * next())).round() as usize;
            for n in 0..units {
                let mut selections =
                    pool[(next() * pool.len() as f64) as usize % pool.len()].clone();
                // The last week: one glaze in three mugs sold.
                if back <= 7 && p == 0 && next() < 0.6 {
                    selections.insert("glaze".into(), hot_glaze.into());
                }
                let store = match store_draw() {
                    r if r < 0.22 => Some("london"),
                    r if r < 0.36 && (p != 0 || store_draw() < 0.4) => Some("berlin"),
                    _ => None,
                };
                if store == Some("london") && store_draw() < 0.35 {
                    selections = pool[0].clone();
                }
                lines.push(SalesLine {
                    id: format!("hist_{}_{day}_{n}", products[p].product().id),
                    when: SaleTime::Day(day),
                    product_id: products[p].product().id.clone(),
                    selections,
                    quantity: 1,
                    store_id: store.map(str::to_string),
                    ticket: None,
                });
            }
        }
    }
    lines
}

/// Uniform draws in [0, 1) from a xorshift generator: reproducible
/// without a dependency.
fn xorshift(seed: u64) -> impl FnMut() -> f64 {
    let mut state = seed;
    move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One valid, complete configuration, choosing each choice option's value at
/// random among those still available.
fn sample(c: &Configurator, next: &mut impl FnMut() -> f64) -> Option<BTreeMap<String, String>> {
    let mut selections = BTreeMap::new();
    for option in &c.product().options {
        let outcome = c.configure_unexplained(&selections).ok()?;
        let state = outcome.options.iter().find(|o| o.id == option.id)?;
        let open: Vec<&str> = state
            .values
            .iter()
            .filter(|v| v.available)
            .map(|v| v.id.as_str())
            .collect();
        if open.is_empty() {
            continue;
        }
        let pick = open[(next() * open.len() as f64) as usize % open.len()];
        selections.insert(option.id.clone(), pick.to_string());
    }
    let outcome = c.configure_unexplained(&selections).ok()?;
    outcome.complete.then_some(outcome.configuration)
}
