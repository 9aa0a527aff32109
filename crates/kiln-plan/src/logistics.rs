//! Packing and carriers: which packaging each SKU's units go in, which
//! carrier service takes the parcels, what that costs and when they arrive.
//!
//! Pure like the rest of the engine. The server turns the model's
//! `[packaging.*]` into [`Packaging`] and a destination's carrier zones into
//! [`Offer`]s; [`pack`] fills parcels per SKU, [`choose`] picks the cheapest
//! offer that arrives by a date (or the cheapest of all), and
//! [`delivery_date`] counts transit on the carrier's own calendar.

use jiff::civil::{Date, DateTime};
use jiff::{Span, ToSpan};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Serialize;

/// Something to pack parcels in.
#[derive(Debug, Clone, PartialEq)]
pub struct Packaging {
    pub id: String,
    pub inner_mm: [Decimal; 3],
    pub tare_g: Decimal,
    pub max_g: Decimal,
}

/// Units of one order line to ship: `quantity` units of one SKU, each of
/// `weight_g` and `size_mm`.
#[derive(Debug, Clone, PartialEq)]
pub struct Units {
    pub line: i64,
    pub sku: String,
    pub quantity: u32,
    pub weight_g: Decimal,
    pub size_mm: [Decimal; 3],
}

/// One packed parcel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parcel {
    pub packaging: String,
    pub sku: String,
    /// (order line, units of it) in this parcel.
    pub contents: Vec<(i64, u32)>,
    /// Packed, packaging included.
    pub weight_g: Decimal,
}

impl Parcel {
    pub fn units(&self) -> u32 {
        self.contents.iter().map(|(_, n)| n).sum()
    }
}

/// When a carrier works: a pick-up cut-off, its weekdays and its holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarrierCalendar {
    /// A parcel ready after this minute of the day leaves the next working day.
    pub cutoff_minute: u32,
    /// Monday first.
    pub weekdays: [bool; 7],
    /// Days it neither picks up nor delivers, sorted, each once.
    holidays: Vec<Date>,
}

impl CarrierCalendar {
    /// From weekday numbers 1 = Monday .. 7 = Sunday; none valid: every day.
    /// No holidays: see [`CarrierCalendar::with_holidays`].
    pub fn new(cutoff_minute: u32, weekdays: &[u8]) -> Self {
        let mut days = [false; 7];
        for &d in weekdays {
            if (1..=7).contains(&d) {
                days[usize::from(d - 1)] = true;
            }
        }
        if !days.contains(&true) {
            days = [true; 7];
        }
        CarrierCalendar {
            cutoff_minute,
            weekdays: days,
            holidays: Vec::new(),
        }
    }

    /// The same calendar closed on `holidays` too (in any order, repeats
    /// ignored).
    pub fn with_holidays(mut self, holidays: impl IntoIterator<Item = Date>) -> Self {
        self.holidays.extend(holidays);
        self.holidays.sort_unstable();
        self.holidays.dedup();
        self
    }

    /// The holidays, sorted.
    pub fn holidays(&self) -> &[Date] {
        &self.holidays
    }

    /// Whether the carrier picks up and delivers on `day`.
    pub fn works(&self, day: Date) -> bool {
        self.works_weekday(day) && self.holidays.binary_search(&day).is_err()
    }

    fn works_weekday(&self, day: Date) -> bool {
        self.weekdays[usize::from(day.weekday().to_monday_one_offset() as u8 - 1)]
    }

    /// The first working day at or after `day`; `None` only past the end of
    /// the calendar.
    fn next_working(&self, mut day: Date) -> Option<Date> {
        // The holidays not before `day`, in order. Each round finds the next
        // working weekday (at most six days on: the calendar has one) and is
        // done unless it is a holiday, which is then behind it: so at most
        // one round more than there are holidays, however long their runs.
        let mut next = self.holidays.partition_point(|h| *h < day);
        loop {
            while !self.works_weekday(day) {
                day = day.checked_add(1.day()).ok()?;
            }
            while self.holidays.get(next).is_some_and(|h| *h < day) {
                next += 1;
            }
            if self.holidays.get(next) != Some(&day) {
                return Some(day);
            }
            next += 1;
            day = day.checked_add(1.day()).ok()?;
        }
    }
}

/// The day a parcel ready at `ready` is delivered: it leaves on the first
/// working day of the carrier at or after `ready` (the next one when it is
/// past the day's cut-off), then travels `transit_days` working days.
/// Weekdays off and holidays count as neither.
/// `None` only past the end of the calendar.
pub fn delivery_date(
    calendar: &CarrierCalendar,
    ready: DateTime,
    transit_days: u32,
) -> Option<Date> {
    let minute = u32::from(ready.hour() as u8) * 60 + u32::from(ready.minute() as u8);
    let past = minute > calendar.cutoff_minute
        || (minute == calendar.cutoff_minute
            && (ready.second() > 0 || ready.subsec_nanosecond() > 0));
    let mut day = ready.date();
    if past {
        day = day.checked_add(1.day()).ok()?;
    }
    let mut day = calendar.next_working(day)?;
    for _ in 0..transit_days {
        day = calendar.next_working(day.checked_add(1.day()).ok()?)?;
    }
    Some(day)
}

/// One carrier service that reaches a destination: its calendar, its transit
/// days there and its price per parcel by weight band.
#[derive(Debug, Clone, PartialEq)]
pub struct Offer {
    pub carrier: String,
    pub service: String,
    pub calendar: CarrierCalendar,
    pub transit_days: u32,
    /// (up to grams, price), in any order.
    pub bands: Vec<(Decimal, Decimal)>,
}

impl Offer {
    /// One parcel's price: the lightest band that takes it.
    pub fn price(&self, weight_g: Decimal) -> Option<Decimal> {
        self.bands
            .iter()
            .filter(|(max, _)| weight_g <= *max)
            .min_by_key(|(max, _)| *max)
            .map(|(_, p)| *p)
    }
}

/// The service chosen for a shipment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Choice {
    pub carrier: String,
    pub service: String,
    /// Every parcel's price together.
    pub price: Decimal,
    pub delivery: Date,
    /// Arrives after the date it had to meet (no offer could).
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogisticsError {
    #[error("a unit of SKU `{sku}` fits no packaging")]
    NoPackaging { sku: String },
    #[error("no carrier takes these parcels there")]
    NoOffer,
    #[error("the delivery date is beyond the calendar")]
    DateOutOfRange,
}

/// How many units fit in `b`: stacked in a grid in the orientation that holds
/// most, and no more than its weight allows. 0 when one does not fit.
fn capacity(b: &Packaging, weight_g: Decimal, size: [Decimal; 3]) -> u32 {
    if b.tare_g + weight_g > b.max_g || size.iter().any(|s| *s <= Decimal::ZERO) {
        return 0;
    }
    let by_weight = if weight_g > Decimal::ZERO {
        ((b.max_g - b.tare_g) / weight_g).floor()
    } else {
        Decimal::from(u32::MAX)
    };
    const TURNS: [[usize; 3]; 6] = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let grid = TURNS
        .iter()
        .map(|t| {
            (0..3)
                .map(|i| (b.inner_mm[i] / size[t[i]]).floor())
                .fold(Decimal::ONE, |a, n| a.saturating_mul(n))
        })
        .max()
        .unwrap_or_default();
    grid.min(by_weight).to_u32().unwrap_or(u32::MAX)
}

/// The packaging that takes `quantity` units in the fewest parcels, then the
/// least volume; with its capacity.
fn best_box(
    packaging: &[Packaging],
    weight_g: Decimal,
    size: [Decimal; 3],
    quantity: u32,
) -> Option<(&Packaging, u32)> {
    packaging
        .iter()
        .filter_map(|b| {
            let cap = capacity(b, weight_g, size);
            (cap > 0).then_some((b, cap))
        })
        .min_by_key(|(b, cap)| {
            let parcels = quantity.div_ceil(*cap);
            let volume = b.inner_mm[0]
                .saturating_mul(b.inner_mm[1])
                .saturating_mul(b.inner_mm[2]);
            (
                parcels,
                volume.saturating_mul(Decimal::from(parcels)),
                b.id.clone(),
            )
        })
}

/// Packs every unit, per SKU: the units of one SKU (over the lines that
/// carry it) fill parcels of the packaging that needs the fewest, and the
/// rest goes in the packaging best for the rest. A parcel holds one SKU.
pub fn pack(units: &[Units], packaging: &[Packaging]) -> Result<Vec<Parcel>, LogisticsError> {
    let mut skus: Vec<&str> = Vec::new();
    for u in units {
        if u.quantity > 0 && !skus.contains(&u.sku.as_str()) {
            skus.push(&u.sku);
        }
    }
    let mut out = Vec::new();
    for sku in skus {
        let lines: Vec<&Units> = units
            .iter()
            .filter(|u| u.sku == sku && u.quantity > 0)
            .collect();
        let first = lines[0];
        let mut left: u32 = lines.iter().fold(0u32, |a, u| a.saturating_add(u.quantity));
        // (line, units not packed yet), in line order.
        let mut queue: Vec<(i64, u32)> = lines.iter().map(|u| (u.line, u.quantity)).collect();
        let no_box = || LogisticsError::NoPackaging {
            sku: sku.to_string(),
        };
        let (full, cap) =
            best_box(packaging, first.weight_g, first.size_mm, left).ok_or_else(no_box)?;
        while left > 0 {
            let (b, take) = if left >= cap {
                (full, cap)
            } else {
                let (b, _) =
                    best_box(packaging, first.weight_g, first.size_mm, left).ok_or_else(no_box)?;
                (b, left)
            };
            let mut contents = Vec::new();
            let mut need = take;
            for (line, n) in queue.iter_mut().filter(|(_, n)| *n > 0) {
                let k = need.min(*n);
                contents.push((*line, k));
                *n -= k;
                need -= k;
                if need == 0 {
                    break;
                }
            }
            out.push(Parcel {
                packaging: b.id.clone(),
                sku: sku.to_string(),
                contents,
                weight_g: b.tare_g + first.weight_g * Decimal::from(take),
            });
            left -= take;
        }
    }
    Ok(out)
}

/// The cheapest offer that delivers `parcels` ready at `ready` by `by`, the
/// cheapest of all without `by`; when none meets `by`, the earliest (marked
/// late). Ties go to the earlier delivery, then the names.
pub fn choose(
    offers: &[Offer],
    parcels: &[Parcel],
    ready: DateTime,
    by: Option<Date>,
) -> Result<Choice, LogisticsError> {
    let mut priced = Vec::new();
    for o in offers {
        let price: Option<Decimal> = parcels.iter().map(|p| o.price(p.weight_g)).sum();
        let Some(price) = price else { continue };
        let delivery = delivery_date(&o.calendar, ready, o.transit_days)
            .ok_or(LogisticsError::DateOutOfRange)?;
        priced.push(Choice {
            carrier: o.carrier.clone(),
            service: o.service.clone(),
            price,
            delivery,
            late: false,
        });
    }
    let cheapest = |c: &&Choice| (c.price, c.delivery, c.carrier.clone(), c.service.clone());
    let met = priced
        .iter()
        .filter(|c| by.is_none_or(|by| c.delivery <= by))
        .min_by_key(cheapest);
    if let Some(c) = met {
        return Ok(c.clone());
    }
    let mut earliest = priced
        .iter()
        .min_by_key(|c| (c.delivery, c.price, c.carrier.clone(), c.service.clone()))
        .cloned()
        .ok_or(LogisticsError::NoOffer)?;
    earliest.late = true;
    Ok(earliest)
}

/// `minutes` after `at`, saturating at the calendar's end.
pub fn after(at: DateTime, minutes: u32) -> DateTime {
    at.checked_add(Span::new().minutes(i64::from(minutes)))
        .unwrap_or(DateTime::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    fn mailer() -> Packaging {
        Packaging {
            id: "mailer".into(),
            inner_mm: [d(340), d(240), d(60)],
            tare_g: d(40),
            max_g: d(2000),
        }
    }

    fn carton() -> Packaging {
        Packaging {
            id: "carton".into(),
            inner_mm: [d(600), d(400), d(400)],
            tare_g: d(600),
            max_g: d(20000),
        }
    }

    fn shirts(line: i64, quantity: u32) -> Units {
        Units {
            line,
            sku: "SHIRT-M".into(),
            quantity,
            weight_g: d(300),
            size_mm: [d(330), d(230), d(30)],
        }
    }

    #[test]
    fn one_shirt_goes_in_a_mailer() {
        let p = pack(&[shirts(1, 1)], &[carton(), mailer()]).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].packaging, "mailer");
        assert_eq!(p[0].weight_g, d(340));
        assert_eq!(p[0].contents, vec![(1, 1)]);
    }

    #[test]
    fn many_shirts_fill_cartons_and_the_rest_a_mailer() {
        // A carton takes 2 × 1 × 13 = 26 turned its best way (64 by weight).
        let p = pack(&[shirts(1, 20), shirts(2, 7)], &[carton(), mailer()]).unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].packaging, "carton");
        assert_eq!(p[0].contents, vec![(1, 20), (2, 6)]);
        assert_eq!(p[0].weight_g, d(600 + 26 * 300));
        assert_eq!(p[1].packaging, "mailer");
        assert_eq!(p[1].contents, vec![(2, 1)]);
    }

    #[test]
    fn a_unit_too_big_for_every_box_is_refused() {
        let mut u = shirts(1, 1);
        u.size_mm = [d(700), d(10), d(10)];
        assert!(matches!(
            pack(&[u], &[carton(), mailer()]),
            Err(LogisticsError::NoPackaging { .. })
        ));
    }

    #[test]
    fn the_cut_off_and_the_weekend_delay_departure() {
        let cal = CarrierCalendar::new(16 * 60, &[1, 2, 3, 4, 5]);
        // Friday 2026-12-04 15:00: leaves Friday, two working days: Tuesday.
        let fri = date(2026, 12, 4);
        assert_eq!(
            delivery_date(&cal, fri.at(15, 0, 0, 0), 2),
            Some(date(2026, 12, 8))
        );
        // Past the cut-off: leaves Monday, arrives Wednesday.
        assert_eq!(
            delivery_date(&cal, fri.at(17, 0, 0, 0), 2),
            Some(date(2026, 12, 9))
        );
        // Saturday: leaves Monday; same-day service arrives Monday.
        assert_eq!(
            delivery_date(&cal, date(2026, 12, 5).at(9, 0, 0, 0), 0),
            Some(date(2026, 12, 7))
        );
    }

    /// Monday to Saturday, cut-off 16:00, closed at Christmas and New Year.
    fn christmas() -> CarrierCalendar {
        CarrierCalendar::new(16 * 60, &[1, 2, 3, 4, 5, 6]).with_holidays([
            date(2027, 1, 1),
            date(2026, 12, 25),
            date(2026, 12, 26),
            date(2026, 12, 25),
        ])
    }

    #[test]
    fn holidays_are_kept_sorted_once_and_are_not_working_days() {
        let cal = christmas();
        let want = [date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)];
        assert_eq!(cal.holidays(), want);
        assert!(!cal.works(date(2026, 12, 25)));
        assert!(!cal.works(date(2026, 12, 27)), "a Sunday");
        assert!(cal.works(date(2026, 12, 24)));
    }

    #[test]
    fn a_parcel_ready_on_christmas_eve_after_the_cut_off_leaves_after_the_holidays() {
        let eve = date(2026, 12, 24); // a Thursday
        // Before the cut-off it still leaves on the 24th.
        assert_eq!(
            delivery_date(&christmas(), eve.at(15, 0, 0, 0), 0),
            Some(eve)
        );
        // After it: not Friday 25th or Saturday 26th (holidays), not Sunday:
        // Monday the 28th.
        let late = eve.at(17, 0, 0, 0);
        assert_eq!(
            delivery_date(&christmas(), late, 0),
            Some(date(2026, 12, 28))
        );
        // Without the holidays it would have left on the 25th.
        let plain = CarrierCalendar::new(16 * 60, &[1, 2, 3, 4, 5, 6]);
        assert_eq!(delivery_date(&plain, late, 0), Some(date(2026, 12, 25)));
    }

    #[test]
    fn transit_days_skip_holidays() {
        let cal = christmas();
        let wed = date(2026, 12, 23).at(10, 0, 0, 0);
        // Leaves Wednesday: one day is Thursday 24th; the second is not the
        // 25th, 26th (holidays) or 27th (Sunday) but Monday the 28th.
        assert_eq!(delivery_date(&cal, wed, 1), Some(date(2026, 12, 24)));
        assert_eq!(delivery_date(&cal, wed, 2), Some(date(2026, 12, 28)));
        // Leaves Monday 28th: 29, 30, 31, then past New Year's Day to Saturday.
        let late = date(2026, 12, 24).at(17, 0, 0, 0);
        assert_eq!(delivery_date(&cal, late, 4), Some(date(2027, 1, 2)));
    }

    #[test]
    fn long_runs_of_holidays_are_skipped_however_long() {
        // Mondays only, and the next 150 Mondays are holidays: far more than
        // a week plus one day per holiday away.
        let first = date(2026, 12, 7);
        let mondays = (0..150).map(|w| first.checked_add((7 * w).days()).unwrap());
        let cal = CarrierCalendar::new(24 * 60, &[1]).with_holidays(mondays);
        let after = first.checked_add((7 * 150).days()).unwrap();
        assert_eq!(
            delivery_date(&cal, date(2026, 12, 1).at(9, 0, 0, 0), 0),
            Some(after)
        );
        let next = after.checked_add(7.days()).unwrap();
        assert_eq!(
            delivery_date(&cal, date(2026, 12, 1).at(9, 0, 0, 0), 1),
            Some(next)
        );
        // Every day a holiday for 1000 days, the carrier working every day.
        let days = (0..1000).map(|n| first.checked_add(n.days()).unwrap());
        let cal = CarrierCalendar::new(24 * 60, &[]).with_holidays(days);
        assert_eq!(
            delivery_date(&cal, first.at(9, 0, 0, 0), 1),
            first.checked_add(1001.days()).ok()
        );
    }

    #[test]
    fn holidays_at_the_end_of_the_calendar_give_none() {
        let cal = CarrierCalendar::new(24 * 60, &[]).with_holidays([Date::MAX]);
        assert_eq!(delivery_date(&cal, Date::MAX.at(9, 0, 0, 0), 0), None);
    }

    #[test]
    fn the_cheapest_offer_that_meets_the_date_wins() {
        let cal = CarrierCalendar::new(16 * 60, &[1, 2, 3, 4, 5]);
        let offer = |service: &str, days: u32, price: i64| Offer {
            carrier: "post".into(),
            service: service.into(),
            calendar: cal.clone(),
            transit_days: days,
            bands: vec![(d(2000), d(price)), (d(10000), d(price * 2))],
        };
        let offers = [offer("standard", 3, 5), offer("express", 1, 12)];
        let parcels = pack(&[shirts(1, 1)], &[mailer()]).unwrap();
        let mon = date(2026, 12, 7).at(10, 0, 0, 0);
        let any = choose(&offers, &parcels, mon, None).unwrap();
        assert_eq!((any.service.as_str(), any.price), ("standard", d(5)));
        assert_eq!(any.delivery, date(2026, 12, 10));
        let by_tue = choose(&offers, &parcels, mon, Some(date(2026, 12, 8))).unwrap();
        assert_eq!((by_tue.service.as_str(), by_tue.late), ("express", false));
        let by_mon = choose(&offers, &parcels, mon, Some(date(2026, 12, 7))).unwrap();
        assert_eq!((by_mon.service.as_str(), by_mon.late), ("express", true));
    }
}
