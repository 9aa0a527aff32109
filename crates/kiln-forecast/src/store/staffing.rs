//! People per day at a store: its forecast sales (tickets) per week,
//! spread over the days as its last eight weeks spread them, times the
//! minutes a sale takes, over the hours a person serves.

use std::collections::{HashMap, HashSet};

use super::{StaffDay, StrategyOptions};

/// 0 is Monday.
fn weekday(day: i64) -> u8 {
    (day + 3).rem_euclid(7) as u8
}

/// People per day from the forecast tickets, spread over the week as the
/// store's last eight weeks spread them.
pub(super) fn staffing(
    weekly_tickets: &[f64],
    day_tickets: &HashMap<i64, HashSet<&str>>,
    o: &StrategyOptions,
) -> Vec<StaffDay> {
    let since = o.last_day - 7 * 8;
    let mut by_weekday = [0.0; 7];
    for (day, t) in day_tickets.iter().filter(|(d, _)| **d > since) {
        by_weekday[weekday(*day) as usize] += t.len() as f64;
    }
    let sum: f64 = by_weekday.iter().sum();
    let factor: [f64; 7] = if sum > 0.0 {
        by_weekday.map(|v| v * 7.0 / sum)
    } else {
        [1.0; 7]
    };
    let capacity = (o.open_hours * 60.0 * o.utilisation).max(1.0);
    (0..o.staff_days as i64)
        .map(|i| o.first_staff_day + i)
        .map(|day| {
            let week = (day - o.last_day - 1).div_euclid(7).max(0) as usize;
            let weekly = weekly_tickets
                .get(week)
                .or(weekly_tickets.last())
                .copied()
                .unwrap_or(0.0);
            let tickets = weekly / 7.0 * factor[weekday(day) as usize];
            let need = (tickets * o.minutes_per_sale / capacity).ceil();
            StaffDay {
                day,
                weekday: weekday(day),
                tickets,
                staff: (need.clamp(0.0, 1e6) as u32).max(o.min_staff),
            }
        })
        .collect()
}
