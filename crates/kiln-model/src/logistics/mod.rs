//! The logistics block of a factory file and a product's `[parcel]`.
//!
//! A factory declares the packaging it packs into and the carriers that take
//! its parcels (zones by country and postal prefix, services with transit
//! days and a price per weight band, a pick-up cut-off, the weekdays the
//! carrier works and its holidays); a product declares its unit's weight and
//! size as functions of its options, like a BOM quantity:
//!
//! ```toml
//! [packaging.mailer]
//! inner_mm = [340, 240, 60]
//! tare_g = 40
//! max_g = 2000
//!
//! [carrier.post]
//! cutoff = "16:00"
//! weekdays = [1, 2, 3, 4, 5]
//! holidays = ["2026-12-25", "2027-01-01"]
//! [carrier.post.zone.home]
//! countries = ["DE"]
//! [carrier.post.service.parcel]
//! transit_days = { home = 2 }
//! rates = [{ zone = "home", max_g = 2000, price = "4.90" }]
//! ```
//!
//! Everything a file alone can tell is checked here; [`cross_check`] checks a
//! catalog's products against its packaging and carriers.

mod calendar;

use jiff::civil::Date;
use rust_decimal::Decimal;

use crate::ctx::{Ctx, get};
use crate::parse::quantity;
use crate::tree::{self, Node, Val};
use crate::{CheckReport, Diagnostic, OptionDef, Quantity, Span};

/// A box, mailer or crate parcels are packed into.
#[derive(Debug, Clone, PartialEq)]
pub struct Packaging {
    pub id: String,
    pub name: String,
    /// Inside length, width and height, in millimetres.
    pub inner_mm: [Decimal; 3],
    /// The empty packaging's weight, in grams.
    pub tare_g: Decimal,
    /// The most a packed parcel may weigh, packaging included, in grams.
    pub max_g: Decimal,
    pub span: Span,
}

/// A carrier that picks parcels up at the factory.
#[derive(Debug, Clone, PartialEq)]
pub struct Carrier {
    pub id: String,
    pub name: String,
    /// Minute of the day (factory time) until which a parcel packed that day
    /// still leaves that day; `16:00` is 960.
    pub cutoff_minute: u32,
    /// Days it picks up, carries and delivers, 1 = Monday .. 7 = Sunday.
    pub weekdays: Vec<u8>,
    /// Days it neither picks up nor delivers, sorted, each once.
    pub holidays: Vec<Date>,
    pub zones: Vec<Zone>,
    pub services: Vec<CarrierService>,
    pub span: Span,
}

/// Where a carrier's prices and transit times hold: countries, optionally
/// narrowed to postal codes starting with one of `postal_prefixes`. A
/// destination is in the most specific zone that holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    pub id: String,
    /// ISO 3166-1 alpha-2 codes, upper case.
    pub countries: Vec<String>,
    pub postal_prefixes: Vec<String>,
}

impl Zone {
    /// Whether the zone holds `country`/`postal_code`, and how specifically:
    /// 1 by country alone, more by postal prefix (the longer the prefix, the
    /// higher), so the most specific zone can win.
    pub fn matches(&self, country: &str, postal_code: &str) -> Option<usize> {
        if !self
            .countries
            .iter()
            .any(|c| c.eq_ignore_ascii_case(country))
        {
            return None;
        }
        if self.postal_prefixes.is_empty() {
            return Some(1);
        }
        let code: String = postal_code
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        self.postal_prefixes
            .iter()
            .filter(|p| code.starts_with(&p.to_ascii_uppercase()))
            .map(|p| 1 + p.len())
            .max()
    }
}

/// One of a carrier's services, e.g. standard or express.
#[derive(Debug, Clone, PartialEq)]
pub struct CarrierService {
    pub id: String,
    pub name: String,
    /// Working days of the carrier in transit, per zone id.
    pub transit_days: Vec<(String, u32)>,
    /// Price per parcel by zone and weight band, each band up to `max_g`.
    pub rates: Vec<Rate>,
}

impl CarrierService {
    pub fn transit(&self, zone: &str) -> Option<u32> {
        self.transit_days
            .iter()
            .find(|(z, _)| z == zone)
            .map(|(_, d)| *d)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rate {
    pub zone: String,
    /// The band takes parcels up to this weight, in grams.
    pub max_g: Decimal,
    pub price: Decimal,
}

/// `[parcel]` of a product: one unit's weight and size, each a number or a
/// table by one option's values, as a BOM quantity.
#[derive(Debug, Clone, PartialEq)]
pub struct Parcel {
    pub weight_g: Quantity,
    /// Length, width and height, in millimetres.
    pub size_mm: [Quantity; 3],
    pub span: Span,
}

impl Parcel {
    /// The heaviest and, per side, the largest a unit can be over every value
    /// of the options its quantities depend on.
    pub fn largest(&self) -> (Decimal, [Decimal; 3]) {
        let most = |q: &Quantity| match q {
            Quantity::Fixed(d) => *d,
            Quantity::ByValue { by_value, .. } => {
                by_value.iter().map(|(_, d)| *d).max().unwrap_or_default()
            }
        };
        (
            most(&self.weight_g),
            [
                most(&self.size_mm[0]),
                most(&self.size_mm[1]),
                most(&self.size_mm[2]),
            ],
        )
    }
}

/// Whether a box of sides `item` fits inside `inner`, turned as it best fits.
pub fn fits(item: [Decimal; 3], inner: [Decimal; 3]) -> bool {
    let mut a = item;
    let mut b = inner;
    a.sort();
    b.sort();
    a.iter().zip(&b).all(|(x, y)| x <= y)
}

pub(crate) fn packaging(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Packaging> {
    let id = key.name.clone();
    let what = format!("packaging `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(t, &["name", "inner_mm", "tare_g", "max_g"], &what);
    let inner_mm = match ctx.require(t, "inner_mm", n.span.start, &what) {
        Some(v) => sides(ctx, v, "inner_mm")?,
        None => return None,
    };
    let tare_g = get(t, "tare_g")
        .and_then(|v| ctx.amount(v, "tare_g"))
        .unwrap_or_default();
    let max_node = ctx.require(t, "max_g", n.span.start, &what)?;
    let max_g = ctx.amount(max_node, "max_g")?;
    if max_g <= tare_g {
        ctx.err(
            max_node.span.start,
            format!("`max_g` ({max_g}) must be more than the packaging's own `tare_g` ({tare_g})"),
        );
    }
    Some(Packaging {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        inner_mm,
        tare_g,
        max_g,
        span: ctx.span(n.span.start),
    })
}

/// Three positive millimetre sides, `[length, width, height]`.
fn sides(ctx: &mut Ctx, n: &Node, key: &str) -> Option<[Decimal; 3]> {
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            format!("`{key}` is three sides in millimetres, e.g. [340, 240, 60]"),
        );
        return None;
    };
    if items.len() != 3 {
        ctx.err(
            n.span.start,
            format!(
                "`{key}` is three sides (length, width, height), found {}",
                items.len()
            ),
        );
        return None;
    }
    let mut out = [Decimal::ZERO; 3];
    for (i, item) in items.iter().enumerate() {
        let d = ctx.amount(item, key)?;
        if d.is_zero() {
            ctx.err(
                item.span.start,
                format!("a side of `{key}` must be above 0"),
            );
        }
        out[i] = d;
    }
    Some(out)
}

pub(crate) fn carrier(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Carrier> {
    let id = key.name.clone();
    let what = format!("carrier `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(
        t,
        &["name", "cutoff", "weekdays", "holidays", "zone", "service"],
        &what,
    );
    let mut c = Carrier {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        cutoff_minute: 24 * 60,
        weekdays: vec![1, 2, 3, 4, 5],
        holidays: Vec::new(),
        zones: Vec::new(),
        services: Vec::new(),
        span: ctx.span(n.span.start),
    };
    // A bad calendar is reported, and the rest of the carrier still read.
    calendar::read(ctx, t, &mut c);
    match ctx.require(t, "zone", n.span.start, &what) {
        Some(z) => {
            if let Some(zt) = ctx.table(z, "zone") {
                for (k, zn) in zt {
                    if let Some(zone) = zone(ctx, k, zn) {
                        c.zones.push(zone);
                    }
                }
            }
        }
        None => return None,
    }
    let s = ctx.require(t, "service", n.span.start, &what)?;
    let st = ctx.table(s, "service")?;
    for (k, sn) in st {
        if let Some(service) = service(ctx, k, sn, &c) {
            c.services.push(service);
        }
    }
    if st.is_empty() {
        ctx.err(s.span.start, format!("{what} has no service"));
    }
    Some(c)
}

fn zone(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Zone> {
    let id = key.name.clone();
    let what = format!("zone `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(t, &["countries", "postal_prefixes"], &what);
    let list = ctx.require(t, "countries", n.span.start, &what)?;
    let countries = strings(ctx, list, "countries");
    for (s, at) in &countries {
        if !(s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase())) {
            ctx.err(
                *at,
                format!("`{s}` is not an ISO 3166 country code like DE"),
            );
        }
    }
    if countries.is_empty() {
        ctx.err(n.span.start, format!("{what} has no country"));
    }
    let postal_prefixes = match get(t, "postal_prefixes") {
        Some(v) => strings(ctx, v, "postal_prefixes"),
        None => Vec::new(),
    };
    for (s, at) in &postal_prefixes {
        if s.is_empty() || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            ctx.err(*at, format!("`{s}` is not a postal code prefix"));
        }
    }
    Some(Zone {
        id,
        countries: countries.into_iter().map(|(s, _)| s).collect(),
        postal_prefixes: postal_prefixes.into_iter().map(|(s, _)| s).collect(),
    })
}

/// A list of strings, each with where its text starts.
fn strings(ctx: &mut Ctx, n: &Node, key: &str) -> Vec<(String, usize)> {
    let Val::Array(items) = &n.val else {
        ctx.err(n.span.start, format!("`{key}` is a list of strings"));
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|i| {
            let s = ctx.string(i, key)?;
            let at = ctx.content(i, &s);
            Some((s, at))
        })
        .collect()
}

fn service(ctx: &mut Ctx, key: &tree::Key, n: &Node, c: &Carrier) -> Option<CarrierService> {
    let id = key.name.clone();
    let what = format!("service `{id}` of carrier `{}`", c.id);
    let t = ctx.table(n, &id)?;
    ctx.keys(t, &["name", "transit_days", "rates"], &what);
    let mut s = CarrierService {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        transit_days: Vec::new(),
        rates: Vec::new(),
    };
    let known = |z: &str| c.zones.iter().any(|k| k.id == z);
    let zone_list = || {
        c.zones
            .iter()
            .map(|z| z.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let td = ctx.require(t, "transit_days", n.span.start, &what)?;
    let tdt = ctx.table(td, "transit_days")?;
    for (k, v) in tdt {
        if !known(&k.name) {
            ctx.err(
                k.span.start,
                format!("unknown zone `{}` (zones are: {})", k.name, zone_list()),
            );
            continue;
        }
        if let Some(d) = ctx.u32(v, "transit_days") {
            if d > 60 {
                ctx.err(v.span.start, "`transit_days` is at most 60");
            }
            s.transit_days.push((k.name.clone(), d));
        }
    }
    let rates = ctx.require(t, "rates", n.span.start, &what)?;
    let Val::Array(items) = &rates.val else {
        ctx.err(
            rates.span.start,
            "`rates` is a list like [{ zone = \"home\", max_g = 2000, price = \"4.90\" }]",
        );
        return None;
    };
    for item in items {
        let Some(rt) = ctx.table(item, "rates") else {
            continue;
        };
        ctx.keys(rt, &["zone", "max_g", "price"], "a rate");
        let (Some(zn), Some(mn), Some(pn)) = (
            ctx.require(rt, "zone", item.span.start, "a rate"),
            ctx.require(rt, "max_g", item.span.start, "a rate"),
            ctx.require(rt, "price", item.span.start, "a rate"),
        ) else {
            continue;
        };
        let zone = ctx.string(zn, "zone").unwrap_or_default();
        if !known(&zone) {
            let at = ctx.content(zn, &zone);
            ctx.err(
                at,
                format!("unknown zone `{zone}` (zones are: {})", zone_list()),
            );
            continue;
        }
        if s.transit(&zone).is_none() {
            let at = ctx.content(zn, &zone);
            ctx.err(
                at,
                format!("zone `{zone}` has a rate but no `transit_days` in {what}"),
            );
        }
        let (Some(max_g), Some(price)) = (ctx.amount(mn, "max_g"), ctx.amount(pn, "price")) else {
            continue;
        };
        if max_g.is_zero() {
            ctx.err(mn.span.start, "`max_g` of a rate must be above 0");
        }
        if s.rates.iter().any(|r| r.zone == zone && r.max_g == max_g) {
            ctx.err(
                mn.span.start,
                format!("zone `{zone}` already has a rate up to {max_g} g"),
            );
        }
        s.rates.push(Rate { zone, max_g, price });
    }
    for (zone, _) in &s.transit_days {
        if !s.rates.iter().any(|r| &r.zone == zone) {
            ctx.err(
                td.span.start,
                format!("zone `{zone}` has `transit_days` but no rate in {what}"),
            );
        }
    }
    Some(s)
}

pub(crate) fn parcel(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Option<Parcel> {
    let t = ctx.table(n, "parcel")?;
    ctx.keys(t, &["weight_g", "size_mm", "by"], "[parcel]");
    // `by` names the option of every table here whose keys fit several.
    let by = get(t, "by");
    let by_for = |n: &Node| by.filter(|_| matches!(n.val, Val::Table(_)));
    let w = ctx.require(t, "weight_g", n.span.start, "[parcel]")?;
    let weight_g = quantity(ctx, w, "weight_g", by_for(w), options);
    let s = ctx.require(t, "size_mm", n.span.start, "[parcel]")?;
    let Val::Array(items) = &s.val else {
        ctx.err(
            s.span.start,
            "`size_mm` is three sides in millimetres, e.g. [380, 280, 40]",
        );
        return None;
    };
    if items.len() != 3 {
        ctx.err(
            s.span.start,
            format!(
                "`size_mm` is three sides (length, width, height), found {}",
                items.len()
            ),
        );
        return None;
    }
    let side =
        |ctx: &mut Ctx, i: usize| quantity(ctx, &items[i], "size_mm", by_for(&items[i]), options);
    let size_mm = [side(ctx, 0), side(ctx, 1), side(ctx, 2)];
    let p = Parcel {
        weight_g,
        size_mm,
        span: ctx.span(n.span.start),
    };
    let (weight, size) = p.largest();
    if weight.is_zero() {
        ctx.err(w.span.start, "`weight_g` must be above 0");
    }
    if size.iter().any(Decimal::is_zero) {
        ctx.err(s.span.start, "every side of `size_mm` must be above 0");
    }
    Some(p)
}

/// The factory files that declared the first packaging and the first carrier.
#[derive(Debug, Default)]
pub(crate) struct LogisticsFiles {
    pub packaging: String,
    pub carriers: String,
}

/// Checks a whole catalog's logistics: carriers need packaging and the other
/// way round; with carriers, every product declares its `[parcel]`, and its
/// largest unit fits one packaging that some carrier's rate takes.
/// `product_files` names each of `report.products`' files.
pub(crate) fn cross_check(
    report: &CheckReport,
    product_files: &[String],
    files: &LogisticsFiles,
) -> Vec<Diagnostic> {
    let f = &report.factory;
    let mut out = Vec::new();
    let diag = |file: &str, span: Span, message: String| Diagnostic {
        file: file.to_owned(),
        span,
        message,
    };
    let (Some(first_carrier), Some(_)) = (f.carriers.first(), f.packaging.first()) else {
        if let Some(p) = f.packaging.first() {
            out.push(diag(
                &files.packaging,
                p.span,
                "packaging without a `[carrier.*]` ships nothing: declare a carrier".into(),
            ));
        }
        if let Some(c) = f.carriers.first() {
            out.push(diag(
                &files.carriers,
                c.span,
                format!(
                    "carrier `{}` has no packaging to carry: declare a `[packaging.*]`",
                    c.id
                ),
            ));
        }
        return out;
    };
    let heaviest_band = f
        .carriers
        .iter()
        .flat_map(|c| &c.services)
        .flat_map(|s| &s.rates)
        .map(|r| r.max_g)
        .max()
        .unwrap_or_default();
    for (p, file) in report.products.iter().zip(product_files) {
        let Some(parcel) = &p.parcel else {
            out.push(diag(
                file,
                p.span,
                format!(
                    "product `{}` has no `[parcel]`: the factory ships by carrier (`{}`), so \
                     declare a unit's `weight_g` and `size_mm`",
                    p.id, first_carrier.id
                ),
            ));
            continue;
        };
        let (weight, size) = parcel.largest();
        let fitting = f
            .packaging
            .iter()
            .filter(|b| fits(size, b.inner_mm) && b.tare_g + weight <= b.max_g);
        let Some(lightest) = fitting.map(|b| b.tare_g + weight).min() else {
            out.push(diag(
                file,
                parcel.span,
                format!(
                    "a unit of `{}` (up to {weight} g, {} × {} × {} mm) fits no packaging",
                    p.id, size[0], size[1], size[2]
                ),
            ));
            continue;
        };
        if lightest > heaviest_band {
            out.push(diag(
                file,
                parcel.span,
                format!(
                    "a packed unit of `{}` weighs up to {lightest} g: no carrier's rate takes \
                     more than {heaviest_band} g",
                    p.id
                ),
            ));
        }
    }
    out
}
