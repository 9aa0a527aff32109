//! Shipping by carrier: a brand whose factory declares `[carrier.*]` and
//! `[packaging.*]` packs each order's SKUs, rates the carriers that reach
//! each destination, charges the cheapest service and promises its delivery
//! date (production finish + packing + transit on the carrier's calendar).
//! The engine is [`kiln_plan::logistics`]; this module turns the model and an
//! address into its inputs. A brand without carriers keeps each product's
//! `ship_days` and the flat `[sales] shipping`.

use jiff::civil::{Date, DateTime};
use kiln_configure::Configurator;
use kiln_domain::{Address, OrderLine};
use kiln_model::Factory;
use kiln_plan::live::{DAY, Minute};
use kiln_plan::logistics::{self as engine, CarrierCalendar, Choice, Offer, Parcel, Units};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::live::Clock;

/// Where an order's parcels go, as far as carriers care.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Destination {
    pub country: String,
    pub postal_code: String,
}

impl Destination {
    pub fn of(a: &Address) -> Destination {
        Destination {
            country: a.country.trim().to_ascii_uppercase(),
            postal_code: a.postal_code.trim().to_string(),
        }
    }

    /// The factory's own country (its first carrier's first zone): what a
    /// quote without an address is estimated for.
    pub fn home(f: &Factory) -> Option<Destination> {
        let zone = f.carriers.first()?.zones.first()?;
        Some(Destination {
            country: zone.countries.first()?.clone(),
            postal_code: String::new(),
        })
    }
}

/// Where an order ships to.
#[derive(Debug, Clone, Copy)]
pub enum ShipTo<'a> {
    /// Every line without its own recipient goes here (a store order: the
    /// store; `flow::new_order` charges a pickup nothing).
    Address(&'a Address),
    /// Not known yet (a quote): the factory's home country stands in.
    Estimate,
}

pub fn by_carrier(f: &Factory) -> bool {
    !f.carriers.is_empty() && !f.packaging.is_empty()
}

/// Every carrier service that reaches `dest`, in the carrier's most specific
/// zone there.
pub fn offers(f: &Factory, dest: &Destination) -> Vec<Offer> {
    offers_of(f, dest, None)
}

/// [`offers`], of one carrier only when `carrier` names it.
pub fn offers_of(f: &Factory, dest: &Destination, carrier: Option<&str>) -> Vec<Offer> {
    let mut out = Vec::new();
    for c in f
        .carriers
        .iter()
        .filter(|c| carrier.is_none_or(|id| c.id == id))
    {
        let Some(zone) = c
            .zones
            .iter()
            .filter_map(|z| Some((z.matches(&dest.country, &dest.postal_code)?, z)))
            // The longest postal prefix, then a country-wide zone; the
            // first declared among equals.
            .rev()
            .max_by_key(|(rank, _)| *rank)
            .map(|(_, z)| z)
        else {
            continue;
        };
        let calendar = CarrierCalendar::new(c.cutoff_minute, &c.weekdays)
            .with_holidays(c.holidays.iter().copied());
        for s in &c.services {
            let Some(transit_days) = s.transit(&zone.id) else {
                continue;
            };
            out.push(Offer {
                carrier: c.id.clone(),
                service: s.id.clone(),
                calendar: calendar.clone(),
                transit_days,
                bands: s
                    .rates
                    .iter()
                    .filter(|r| r.zone == zone.id)
                    .map(|r| (r.max_g, r.price))
                    .collect(),
            });
        }
    }
    out
}

pub fn packaging(f: &Factory) -> Vec<engine::Packaging> {
    f.packaging
        .iter()
        .map(|b| engine::Packaging {
            id: b.id.clone(),
            inner_mm: b.inner_mm,
            tare_g: b.tare_g,
            max_g: b.max_g,
        })
        .collect()
}

/// The units of one line to pack; `None` for a product without `[parcel]`
/// (a catalog with carriers has none such: `kiln model check` refuses it).
pub fn units(
    line_no: i64,
    configurator: &Configurator,
    selections: &kiln_configure::Selections,
    sku: &str,
    quantity: u32,
) -> Option<Units> {
    let (weight_g, size_mm) = configurator.parcel(selections)?;
    Some(Units {
        line: line_no,
        sku: sku.to_string(),
        quantity,
        weight_g,
        size_mm,
    })
}

/// The parcels of `units` and the service that takes them to `dest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub parcels: Vec<Parcel>,
    pub choice: Choice,
}

/// Packs `units` and chooses the cheapest service to `dest` (of `carrier`
/// only, when it names one) for parcels ready at `ready`, arriving by `by`
/// when given. `field` names the address in the error when no carrier goes
/// there.
pub fn plan(
    f: &Factory,
    units: &[Units],
    dest: &Destination,
    ready: DateTime,
    by: Option<Date>,
    field: &str,
    carrier: Option<&str>,
) -> Result<Planned> {
    let parcels = engine::pack(units, &packaging(f))
        .map_err(|e| Error::Conflict(format!("the factory cannot pack this order: {e}")))?;
    let offers = offers_of(f, dest, carrier);
    let choice = engine::choose(&offers, &parcels, ready, by).map_err(|e| match e {
        engine::LogisticsError::NoOffer if offers.is_empty() => Error::invalid(
            format!("{field}/country"),
            format!(
                "no carrier{} delivers to `{}`{}",
                carrier.map_or_else(|| " of this brand".to_string(), |c| format!(" `{c}`")),
                dest.country,
                if dest.postal_code.is_empty() {
                    String::new()
                } else {
                    format!(" {}", dest.postal_code)
                }
            ),
        ),
        engine::LogisticsError::NoOffer => Error::Conflict(format!(
            "no carrier takes these parcels to `{}`: one is heavier than every rate",
            dest.country
        )),
        e => Error::Conflict(format!("the factory cannot ship this order: {e}")),
    })?;
    Ok(Planned { parcels, choice })
}

/// The wall-clock time of schedule minute `m` (factory time).
pub fn datetime(clock: &Clock, m: Minute) -> DateTime {
    let day = crate::live::day_of(clock, m);
    let minute = m.rem_euclid(DAY);
    engine::after(day.at(0, 0, 0, 0), u32::try_from(minute).unwrap_or(0))
}

/// When work finishing at `finish` is packed and ready for a carrier.
pub fn ready(f: &Factory, clock: &Clock, finish: Minute) -> DateTime {
    engine::after(datetime(clock, finish), f.packing_minutes)
}

/// Who one line goes to: their address (`None` for a quote's estimate),
/// and the destination the carriers rate.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Recipient {
    pub address: Option<Address>,
    pub dest: Destination,
}

/// Who `line` goes to: its own recipient, else the order's address.
pub fn recipient(line: Option<&Address>, order: ShipTo<'_>, f: &Factory) -> Option<Recipient> {
    let address = match (line, order) {
        (Some(a), _) | (None, ShipTo::Address(a)) => a,
        (None, ShipTo::Estimate) => {
            return Some(Recipient {
                address: None,
                dest: Destination::home(f)?,
            });
        }
    };
    Some(Recipient {
        dest: Destination::of(address),
        address: Some(address.clone()),
    })
}

/// What the carriers charge for an order's lines: the lines going to one
/// recipient are packed together and ready when the last is;
/// `(where, units, ready)`, `None` for a line picked up.
pub fn charge(f: &Factory, lines: &[(Option<Recipient>, Units, DateTime)]) -> Result<Decimal> {
    let mut groups: Vec<(&Recipient, Vec<Units>, DateTime)> = Vec::new();
    let mut at: std::collections::HashMap<&Recipient, usize> = std::collections::HashMap::new();
    for (to, units, ready) in lines {
        let Some(to) = to else { continue };
        match at.get(to) {
            Some(&i) => {
                let (_, u, r) = &mut groups[i];
                u.push(units.clone());
                *r = (*r).max(*ready);
            }
            None => {
                at.insert(to, groups.len());
                groups.push((to, vec![units.clone()], *ready));
            }
        }
    }
    let mut total = Decimal::ZERO;
    for (to, units, ready) in groups {
        total += plan(f, &units, &to.dest, ready, None, "/ship_to", None)?
            .choice
            .price;
    }
    Ok(total)
}

/// The parcels of an order's `lines` going to `dest`, ready at `ready`, by
/// the cheapest service that still meets `by` (the lines' promise).
pub fn for_shipment(
    f: &Factory,
    catalog: &crate::runtime::Catalog,
    lines: &[&OrderLine],
    dest: &Destination,
    ready: DateTime,
    by: Option<Date>,
    carrier: Option<&str>,
) -> Result<Planned> {
    let units: Vec<Units> = lines
        .iter()
        .filter_map(|l| {
            let c = catalog.product(&l.product_id)?;
            units(
                l.line_no,
                c,
                &l.selections,
                &l.sku,
                u32::try_from(l.quantity).ok()?,
            )
        })
        .collect();
    if units.len() != lines.len() {
        return Err(Error::Conflict(
            "a line to ship has no parcel size in the catalog (its product left, or it has no \
             `[parcel]`): ship it with a carrier and tracking number of your own"
                .into(),
        ));
    }
    // At ship time an address no carrier reaches is the order's state, not
    // this request's field.
    plan(f, &units, dest, ready, by, "", carrier).map_err(|e| match e {
        Error::Invalid { detail, .. } => Error::Conflict(detail),
        e => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn offers_carry_the_carriers_holidays() {
        let src = r#"[carrier.post]
cutoff = "16:00"
holidays = ["2027-01-01", "2026-12-25"]
[carrier.post.zone.home]
countries = ["DE"]
[carrier.post.service.parcel]
transit_days = { home = 1 }
rates = [{ zone = "home", max_g = 2000, price = "4.90" }]
"#;
        let f = kiln_model::parse_factory("factory.toml", src).unwrap();
        let dest = Destination {
            country: "DE".into(),
            postal_code: "10115".into(),
        };
        let o = offers(&f, &dest);
        assert_eq!(o.len(), 1);
        let cal = &o[0].calendar;
        assert_eq!(cal.holidays(), [date(2026, 12, 25), date(2027, 1, 1)]);
        // Ready Thursday 24th after the cut-off: not Friday 25th (a holiday)
        // nor the weekend; leaves Monday 28th, arrives Tuesday 29th.
        let ready = date(2026, 12, 24).at(17, 0, 0, 0);
        assert_eq!(
            engine::delivery_date(cal, ready, 1),
            Some(date(2026, 12, 29))
        );
    }
}
