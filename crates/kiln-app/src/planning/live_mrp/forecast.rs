//! The demand forecast in the live plan: per material and week, less what
//! the orders needing the material that week have booked, so an order inside
//! the forecast replaces it rather than adding to it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use kiln_plan::mrp::DemandLine;
use rust_decimal::Decimal;

use super::{ForecastWeek, LiveMrp};

impl LiveMrp {
    /// A new demand forecast: per material, units per week from `weeks`'
    /// first days. Orders consume it week by week.
    pub fn set_forecast(&mut self, weeks: Vec<Date>, materials: &[(String, Vec<Decimal>)]) {
        let old: Vec<u64> = self.forecast.values().filter_map(|w| w.line).collect();
        for line in old {
            let removed = self.plan.remove_demand(line);
            self.ok(removed);
        }
        self.forecast.clear();
        self.weeks = weeks;
        for (material, weekly) in materials {
            if self.plan.low_level_code(material).is_none() {
                continue;
            }
            for (k, qty) in weekly.iter().enumerate() {
                let Some(&week) = self.weeks.get(k) else {
                    break;
                };
                if *qty > Decimal::ZERO {
                    self.forecast.insert(
                        (material.clone(), week),
                        ForecastWeek {
                            forecast: *qty,
                            ..ForecastWeek::default()
                        },
                    );
                }
            }
        }
        let booked: Vec<(String, Date, Decimal)> = self
            .orders
            .values()
            .flatten()
            .flat_map(|n| n.materials.iter().map(|(m, q)| (m.clone(), n.need_by, *q)))
            .collect();
        for (material, day, qty) in booked {
            if let Some(week) = self.week_of(day)
                && let Some(w) = self.forecast.get_mut(&(material, week))
            {
                w.booked += qty;
            }
        }
        let keys: Vec<(String, Date)> = self.forecast.keys().cloned().collect();
        for key in keys {
            self.refresh_forecast(&key);
        }
    }

    /// The forecast still standing for a material, per week (for the view).
    pub fn forecast_left(&self, material: &str) -> Vec<(Date, Decimal)> {
        self.forecast
            .iter()
            .filter(|((m, _), _)| m == material)
            .map(|((_, week), w)| (*week, w.left()))
            .collect()
    }

    /// The forecast as last set, to carry it into a rebuilt plan.
    pub fn forecast_input(&self) -> (Vec<Date>, Vec<(String, Vec<Decimal>)>) {
        let mut by_material: BTreeMap<&str, Vec<Decimal>> = BTreeMap::new();
        for ((material, week), w) in &self.forecast {
            let weekly = by_material
                .entry(material)
                .or_insert_with(|| vec![Decimal::ZERO; self.weeks.len()]);
            if let Ok(k) = self.weeks.binary_search(week) {
                weekly[k] = w.forecast;
            }
        }
        let materials = by_material
            .into_iter()
            .map(|(m, w)| (m.to_string(), w))
            .collect();
        (self.weeks.clone(), materials)
    }

    /// Orders needing `material` on `day` consume its forecast that week by
    /// `qty` (negative: give it back).
    pub(super) fn consume(&mut self, material: &str, day: Date, qty: Decimal) {
        let Some(week) = self.week_of(day) else {
            return;
        };
        let key = (material.to_string(), week);
        let Some(w) = self.forecast.get_mut(&key) else {
            return;
        };
        w.booked += qty;
        self.refresh_forecast(&key);
    }

    /// Makes the week's forecast line stand for what orders left of it.
    fn refresh_forecast(&mut self, key: &(String, Date)) {
        let Some(w) = self.forecast.get(key) else {
            return;
        };
        let left = w.left();
        let old = w.line;
        if let Some(line) = old {
            let removed = self.plan.remove_demand(line);
            self.ok(removed);
        }
        let mut line = None;
        if left > Decimal::ZERO {
            let id = self.new_line();
            let need_by = key.1.max(self.plan.today());
            let added = self.plan.add_demand(&DemandLine {
                id,
                item: key.0.clone(),
                qty: left,
                need_by,
            });
            if self.ok(added) {
                line = Some(id);
            }
        }
        if let Some(w) = self.forecast.get_mut(key) {
            w.line = line;
        }
    }

    /// The forecast week `day` falls in, if any.
    fn week_of(&self, day: Date) -> Option<Date> {
        let k = self.weeks.partition_point(|w| *w <= day);
        let week = *self.weeks.get(k.checked_sub(1)?)?;
        (day.since(week).ok()?.get_days() < 7).then_some(week)
    }
}
