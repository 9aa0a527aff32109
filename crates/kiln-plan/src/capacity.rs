//! The capacity ledger: minutes already booked per work centre per day.

use std::collections::{BTreeMap, HashMap};

use jiff::civil::Date;

use crate::promise::Promise;

/// Minutes already booked per work centre per day: the live load of the factory.
///
/// Kept separate from calendars so a calendar change (new downtime) never silently
/// rewrites history; a replan rebuilds the ledger instead.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CapacityLedger {
    load: HashMap<String, BTreeMap<Date, u64>>,
}

impl CapacityLedger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn book(&mut self, wc: &str, day: Date, minutes: u64) {
        if minutes == 0 {
            return;
        }
        let days = self.load.entry(wc.to_owned()).or_default();
        let booked = days.entry(day).or_insert(0);
        *booked = booked.saturating_add(minutes);
    }

    pub fn booked(&self, wc: &str, day: Date) -> u64 {
        self.load
            .get(wc)
            .and_then(|days| days.get(&day))
            .copied()
            .unwrap_or(0)
    }

    /// Gives minutes back (a cancelled or completed operation). Saturates at zero and drops
    /// empty entries so equal loads compare equal.
    pub fn release(&mut self, wc: &str, day: Date, minutes: u64) {
        let Some(days) = self.load.get_mut(wc) else {
            return;
        };
        if let Some(booked) = days.get_mut(&day) {
            *booked = booked.saturating_sub(minutes);
            if *booked == 0 {
                days.remove(&day);
            }
        }
        if days.is_empty() {
            self.load.remove(wc);
        }
    }

    /// Books every booking of an accepted promise; `promise` itself never mutates the ledger.
    pub fn apply(&mut self, promise: &Promise) {
        for b in &promise.bookings {
            self.book(&b.work_center, b.day, b.minutes);
        }
    }

    /// Undoes [`CapacityLedger::apply`], e.g. when an order is cancelled.
    pub fn unapply(&mut self, promise: &Promise) {
        for b in &promise.bookings {
            self.release(&b.work_center, b.day, b.minutes);
        }
    }

    /// Booked days of one work centre in date order, for queue views and debugging.
    pub fn days(&self, wc: &str) -> impl Iterator<Item = (Date, u64)> + '_ {
        self.load
            .get(wc)
            .into_iter()
            .flat_map(|days| days.iter().map(|(d, m)| (*d, *m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn book_release_roundtrip() {
        let mut ledger = CapacityLedger::new();
        let d = date(2025, 6, 2);
        ledger.book("kiln", d, 100);
        ledger.book("kiln", d, 50);
        assert_eq!(ledger.booked("kiln", d), 150);
        assert_eq!(ledger.booked("glaze", d), 0);
        ledger.release("kiln", d, 120);
        assert_eq!(ledger.booked("kiln", d), 30);
        ledger.release("kiln", d, 999);
        assert_eq!(ledger.booked("kiln", d), 0);
        assert_eq!(ledger, CapacityLedger::default());
    }
}
