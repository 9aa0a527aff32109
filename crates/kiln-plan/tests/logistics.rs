//! Property tests on packing, carrier calendars and the choice of a carrier
//! service: every unit is packed once, in packaging it fits, within weight;
//! deliveries fall on working days (never a holiday) and never before the
//! parcel is ready, transit counting working days only; the
//! chosen offer is the cheapest (that meets the date, when one does).

use std::collections::BTreeMap;

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, date};
use kiln_plan::logistics::{
    CarrierCalendar, LogisticsError, Offer, Packaging, Parcel, Units, choose, delivery_date, pack,
};
use proptest::prelude::*;
use rust_decimal::Decimal;

// --- Helpers and generators -------------------------------------------------

fn sorted(mut s: [Decimal; 3]) -> [Decimal; 3] {
    s.sort();
    s
}

/// Whether a unit of sides `item` fits in `inner`, turned as it best fits.
fn fits_size(item: [Decimal; 3], inner: [Decimal; 3]) -> bool {
    sorted(item).iter().zip(&sorted(inner)).all(|(a, b)| a <= b)
}

/// Whether one unit fits `b` by size and weight.
fn fits_one(b: &Packaging, weight_g: Decimal, size: [Decimal; 3]) -> bool {
    fits_size(size, b.inner_mm) && b.tare_g + weight_g <= b.max_g
}

/// Millimetres, whole or to a tenth.
fn mm(lo: i64, hi: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (lo..=hi).prop_map(Decimal::from),
        (lo * 10..=hi * 10).prop_map(|n| Decimal::new(n, 1)),
    ]
}

/// Grams, whole or to a hundredth.
fn grams(lo: i64, hi: i64) -> impl Strategy<Value = Decimal> {
    prop_oneof![
        (lo..=hi).prop_map(Decimal::from),
        (lo * 100..=hi * 100).prop_map(|n| Decimal::new(n, 2)),
    ]
}

fn sides(lo: i64, hi: i64) -> impl Strategy<Value = [Decimal; 3]> {
    [mm(lo, hi), mm(lo, hi), mm(lo, hi)]
}

fn packaging_list() -> impl Strategy<Value = Vec<Packaging>> {
    prop::collection::vec((sides(20, 700), grams(0, 1_000), grams(1, 30_000)), 0..5).prop_map(
        |boxes| {
            boxes
                .into_iter()
                .enumerate()
                .map(|(i, (inner_mm, tare_g, room))| Packaging {
                    id: format!("box-{i}"),
                    inner_mm,
                    tare_g,
                    // The model requires `max_g` above `tare_g`.
                    max_g: tare_g + room,
                })
                .collect()
        },
    )
}

/// Order lines over a few SKUs; a SKU's units all weigh and measure the same.
fn unit_lines() -> impl Strategy<Value = Vec<Units>> {
    let skus = prop::collection::vec((grams(1, 6_000), sides(5, 800)), 1..4);
    let lines = prop::collection::vec((0usize..4, 0u32..80), 0..7);
    (skus, lines).prop_map(|(skus, lines)| {
        lines
            .into_iter()
            .enumerate()
            .map(|(i, (s, quantity))| {
                let s = s % skus.len();
                Units {
                    line: 100 + i as i64,
                    sku: format!("SKU-{s}"),
                    quantity,
                    weight_g: skus[s].0,
                    size_mm: skus[s].1,
                }
            })
            .collect()
    })
}

/// A calendar from weekday numbers, some of them out of 1..=7.
fn calendar() -> impl Strategy<Value = CarrierCalendar> {
    (0u32..=24 * 60, prop::collection::vec(0u8..=9, 0..8))
        .prop_map(|(cutoff, days)| CarrierCalendar::new(cutoff, &days))
}

fn ready() -> impl Strategy<Value = DateTime> {
    (0i64..40_000, 0i8..24, 0i8..60).prop_map(|(day, h, m)| {
        date(2000, 1, 1)
            .checked_add(day.days())
            .unwrap()
            .at(h, m, 0, 0)
    })
}

/// A calendar with holidays and a ready time: the holidays come in runs
/// (start and length, in days from the ready date), some of them before it,
/// some long, so that departure and transit often meet them.
fn calendar_and_ready() -> impl Strategy<Value = (CarrierCalendar, DateTime)> {
    let runs = prop::collection::vec((-10i64..60, 1i64..25), 0..6);
    (calendar(), ready(), runs).prop_map(|(cal, at, runs)| {
        let days = runs
            .into_iter()
            .flat_map(|(start, len)| start..start + len)
            .map(|n| at.date().checked_add(n.days()).unwrap());
        (cal.with_holidays(days), at)
    })
}

/// Whether the carrier works on `day`, written out apart from the engine's.
fn works(cal: &CarrierCalendar, day: Date) -> bool {
    cal.weekdays[day.weekday().to_monday_one_offset() as usize - 1]
        && !cal.holidays().contains(&day)
}

fn minute_of(at: DateTime) -> u32 {
    at.hour() as u32 * 60 + at.minute() as u32
}

// --- pack ---------------------------------------------------------------------

proptest! {
    #[test]
    fn pack_places_every_unit_once_in_packaging_it_fits(
        units in unit_lines(),
        boxes in packaging_list(),
    ) {
        let sku_of: BTreeMap<i64, &Units> = units.iter().map(|u| (u.line, u)).collect();
        match pack(&units, &boxes) {
            Ok(parcels) => {
                let mut packed: BTreeMap<i64, u32> = BTreeMap::new();
                for p in &parcels {
                    prop_assert!(!p.contents.is_empty(), "empty parcel {p:?}");
                    let b = boxes
                        .iter()
                        .find(|b| b.id == p.packaging)
                        .expect("a parcel's packaging is one of those given");
                    let mut first: Option<&Units> = None;
                    for (line, n) in &p.contents {
                        prop_assert!(*n > 0, "zero units of line {line} in {p:?}");
                        let u = sku_of[line];
                        // One SKU per parcel.
                        prop_assert_eq!(&u.sku, &p.sku);
                        if let Some(f) = first {
                            prop_assert_eq!(f.weight_g, u.weight_g);
                        }
                        first = Some(u);
                        *packed.entry(*line).or_default() += n;
                    }
                    let u = first.unwrap();
                    let weight = b.tare_g + u.weight_g * Decimal::from(p.units());
                    prop_assert_eq!(p.weight_g, weight, "{:?} in {:?}", p, b);
                    prop_assert!(p.weight_g <= b.max_g, "{p:?} too heavy for {b:?}");
                    prop_assert!(
                        fits_size(u.size_mm, b.inner_mm),
                        "{:?} does not fit {:?}", u.size_mm, b
                    );
                }
                // Every unit of every line, exactly once.
                for u in &units {
                    prop_assert_eq!(
                        packed.get(&u.line).copied().unwrap_or(0),
                        u.quantity,
                        "line {}", u.line
                    );
                }
                prop_assert_eq!(packed.len(), units.iter().filter(|u| u.quantity > 0).count());
            }
            Err(LogisticsError::NoPackaging { sku }) => {
                let u = units
                    .iter()
                    .find(|u| u.sku == sku && u.quantity > 0)
                    .expect("the refused SKU has units to ship");
                prop_assert!(
                    !boxes.iter().any(|b| fits_one(b, u.weight_g, u.size_mm)),
                    "a unit of {sku} fits some packaging"
                );
            }
            Err(e) => prop_assert!(false, "unexpected error {e:?}"),
        }
    }

    /// With a packaging that takes one unit of every SKU, packing succeeds.
    #[test]
    fn pack_succeeds_when_every_sku_fits_somewhere(
        units in unit_lines(),
        boxes in packaging_list(),
    ) {
        let all_fit = units
            .iter()
            .filter(|u| u.quantity > 0)
            .all(|u| boxes.iter().any(|b| fits_one(b, u.weight_g, u.size_mm)));
        prop_assert_eq!(pack(&units, &boxes).is_ok(), all_fit);
    }
}

#[test]
fn pack_of_nothing_is_no_parcel() {
    assert_eq!(pack(&[], &[]), Ok(Vec::new()));
    let none = Units {
        line: 1,
        sku: "A".into(),
        quantity: 0,
        weight_g: Decimal::ONE,
        size_mm: [Decimal::ONE; 3],
    };
    assert_eq!(pack(&[none], &[]), Ok(Vec::new()));
}

#[test]
fn pack_does_not_panic_on_huge_packaging() {
    let side = Decimal::from(5_000_000_000i64);
    let huge = Packaging {
        id: "hangar".into(),
        inner_mm: [side; 3],
        tare_g: Decimal::ZERO,
        max_g: Decimal::from(1000),
    };
    let unit = Units {
        line: 1,
        sku: "A".into(),
        quantity: 1,
        weight_g: Decimal::ONE,
        size_mm: [Decimal::from(10); 3],
    };
    let p = pack(&[unit], &[huge]).unwrap();
    assert_eq!(p.len(), 1);
}

// --- delivery_date ------------------------------------------------------------

proptest! {
    #[test]
    fn delivery_is_a_working_day_not_before_ready(
        (cal, at) in calendar_and_ready(),
        transit in 0u32..30,
    ) {
        let d = delivery_date(&cal, at, transit).expect("within the calendar");
        prop_assert!(d >= at.date(), "{d} before {at}");
        prop_assert!(!cal.holidays().contains(&d), "{d} is a holiday");
        prop_assert!(works(&cal, d), "{d} ({:?}) is not a working day", d.weekday());
        // It leaves on the first working day it can: the ready day, or the
        // next when past the cut-off.
        let left = delivery_date(&cal, at, 0).unwrap();
        let past = minute_of(at) > cal.cutoff_minute;
        let mut day = if past { at.date().tomorrow().unwrap() } else { at.date() };
        while day < left {
            prop_assert!(!works(&cal, day), "{at} could have left on {day}, left {left}");
            day = day.tomorrow().unwrap();
        }
        prop_assert!(works(&cal, left), "left on {left}, not a working day");
        // Transit counts working days after departure, the same-day leaving day.
        let mut day = left;
        let mut counted = 0;
        while day < d {
            day = day.checked_add(1.day()).unwrap();
            if works(&cal, day) {
                counted += 1;
            }
        }
        prop_assert_eq!(counted, transit);
    }

    #[test]
    fn ready_by_the_cutoff_on_a_working_day_leaves_that_day(
        (cal, at) in calendar_and_ready(),
    ) {
        let d = delivery_date(&cal, at, 0).unwrap();
        if works(&cal, at.date()) && minute_of(at) <= cal.cutoff_minute {
            prop_assert_eq!(d, at.date());
        } else {
            prop_assert!(d > at.date(), "{at} leaves {d}");
        }
    }

    #[test]
    fn one_more_transit_day_is_never_earlier(
        (cal, at) in calendar_and_ready(),
        transit in 0u32..30,
    ) {
        let a = delivery_date(&cal, at, transit).unwrap();
        let b = delivery_date(&cal, at, transit + 1).unwrap();
        prop_assert!(b > a, "{transit}: {a}, {}: {b}", transit + 1);
    }

    #[test]
    fn readier_later_is_never_delivered_earlier(
        (cal, at) in calendar_and_ready(),
        later in 0i64..(3 * 24 * 60),
        transit in 0u32..10,
    ) {
        let then = at.checked_add(later.minutes()).unwrap();
        let a = delivery_date(&cal, at, transit).unwrap();
        let b = delivery_date(&cal, then, transit).unwrap();
        prop_assert!(a <= b, "{at} → {a}, {then} → {b}");
    }
}

#[test]
fn a_calendar_without_valid_weekdays_works_every_day() {
    let cal = CarrierCalendar::new(600, &[0, 8, 9]);
    assert_eq!(cal.weekdays, [true; 7]);
    // Sunday 2026-12-06, before the cut-off: leaves and arrives that day.
    let sun = date(2026, 12, 6);
    assert_eq!(delivery_date(&cal, sun.at(9, 0, 0, 0), 0), Some(sun));
    assert_eq!(
        delivery_date(&cal, sun.at(10, 1, 0, 0), 1),
        Some(date(2026, 12, 8))
    );
}

// --- choose -------------------------------------------------------------------

fn offers() -> impl Strategy<Value = Vec<Offer>> {
    let bands = prop::collection::vec((grams(100, 30_000), (1i64..10_000)), 0..4);
    prop::collection::vec((calendar(), 0u32..8, bands), 0..6).prop_map(|offers| {
        offers
            .into_iter()
            .enumerate()
            .map(|(i, (calendar, transit_days, bands))| Offer {
                carrier: format!("carrier-{}", i / 2),
                service: format!("service-{i}"),
                calendar,
                transit_days,
                bands: bands
                    .into_iter()
                    .map(|(max, cents)| (max, Decimal::new(cents, 2)))
                    .collect(),
            })
            .collect()
    })
}

fn parcels() -> impl Strategy<Value = Vec<Parcel>> {
    prop::collection::vec(grams(50, 25_000), 0..5).prop_map(|weights| {
        weights
            .into_iter()
            .enumerate()
            .map(|(i, weight_g)| Parcel {
                packaging: "box".into(),
                sku: format!("SKU-{i}"),
                contents: vec![(i as i64, 1)],
                weight_g,
            })
            .collect()
    })
}

/// Each offer that prices every parcel: (offer, total price, delivery).
fn priced<'a>(
    offers: &'a [Offer],
    parcels: &[Parcel],
    at: DateTime,
) -> Vec<(&'a Offer, Decimal, Date)> {
    offers
        .iter()
        .filter_map(|o| {
            let mut total = Decimal::ZERO;
            for p in parcels {
                total += o.price(p.weight_g)?;
            }
            Some((
                o,
                total,
                delivery_date(&o.calendar, at, o.transit_days).unwrap(),
            ))
        })
        .collect()
}

proptest! {
    #[test]
    fn choose_takes_the_cheapest_offer_that_meets_the_date(
        offers in offers(),
        parcels in parcels(),
        at in ready(),
        by in prop::option::of(0i64..15),
    ) {
        let by = by.map(|n| at.date().checked_add(n.days()).unwrap());
        let able = priced(&offers, &parcels, at);
        let choice = choose(&offers, &parcels, at, by);
        if able.is_empty() {
            prop_assert_eq!(choice, Err(LogisticsError::NoOffer));
            return Ok(());
        }
        let c = choice.expect("some offer prices every parcel");
        let (_, price, delivery) = able
            .iter()
            .find(|(o, _, _)| o.carrier == c.carrier && o.service == c.service)
            .expect("the choice is an offer able to price every parcel");
        prop_assert_eq!(c.price, *price);
        prop_assert_eq!(c.delivery, *delivery);
        match by {
            None => {
                prop_assert!(!c.late);
                for (o, p, _) in &able {
                    prop_assert!(c.price <= *p, "{} at {} is cheaper than {}", o.service, p, c.price);
                }
            }
            Some(by) => {
                let meeting: Vec<_> = able.iter().filter(|(_, _, d)| *d <= by).collect();
                if meeting.is_empty() {
                    prop_assert!(c.late);
                    let earliest = able.iter().map(|(_, _, d)| *d).min().unwrap();
                    prop_assert_eq!(c.delivery, earliest);
                } else {
                    prop_assert!(!c.late);
                    prop_assert!(c.delivery <= by, "{} after {}", c.delivery, by);
                    for (o, p, _) in meeting {
                        prop_assert!(c.price <= *p, "{} at {} is cheaper and in time", o.service, p);
                    }
                }
            }
        }
    }

    /// Packing then choosing: a shipment the packer made is priced whole.
    #[test]
    fn packed_parcels_are_priced_per_parcel(
        units in unit_lines(),
        boxes in packaging_list(),
        offers in offers(),
        at in ready(),
    ) {
        let Ok(parcels) = pack(&units, &boxes) else { return Ok(()) };
        if let Ok(c) = choose(&offers, &parcels, at, None) {
            let o = offers
                .iter()
                .find(|o| o.carrier == c.carrier && o.service == c.service)
                .unwrap();
            let total: Decimal = parcels.iter().map(|p| o.price(p.weight_g).unwrap()).sum();
            prop_assert_eq!(c.price, total);
        }
    }
}
