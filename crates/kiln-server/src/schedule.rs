//! The schedule as a planner reads it: each work centre's machines, day by
//! day, with the bookings laid out as bars. Promises book whole minutes per
//! day; here those minutes are packed onto the machines in booking order, so
//! the chart and the API show what each machine does and when.

use std::collections::HashMap;

use jiff::ToSpan;
use jiff::civil::Date;
use kiln_store::BookingRow;
use serde::Serialize;
use utoipa::ToSchema;

use crate::runtime::{BrandRuntime, PlanState};

/// One stretch of work on one machine.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bar {
    pub order_id: String,
    pub line_no: i64,
    pub operation: String,
    /// 0-based machine of the work centre.
    pub machine: u32,
    /// Minutes into the machine's working day.
    pub start_minute: u64,
    pub end_minute: u64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ScheduleDay {
    #[schema(value_type = String, format = Date)]
    pub day: Date,
    /// Machine minutes the work centre can work that day (0: closed or down).
    pub capacity_minutes: u64,
    pub booked_minutes: u64,
    pub down: bool,
    pub bars: Vec<Bar>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkCenterSchedule {
    pub id: String,
    pub name: String,
    pub machines: u32,
    pub minutes_per_day: u32,
    pub days: Vec<ScheduleDay>,
}

/// Gantt data for `days` days from `from`, per work centre in factory order.
pub fn gantt(
    rt: &BrandRuntime,
    plan: &PlanState,
    bookings: &[BookingRow],
    from: Date,
    days: i32,
) -> Vec<WorkCenterSchedule> {
    let dates: Vec<Date> = (0..days)
        .filter_map(|d| from.checked_add(d.days()).ok())
        .collect();
    let mut by_cell: HashMap<(&str, &str), Vec<&BookingRow>> = HashMap::new();
    for b in bookings {
        by_cell
            .entry((b.work_center.as_str(), b.day.as_str()))
            .or_default()
            .push(b);
    }
    plan.calendars
        .iter()
        .map(|cal| {
            let name = rt
                .catalog
                .factory
                .work_center(&cal.id)
                .map_or_else(|| cal.id.clone(), |w| w.name.clone());
            let days = dates
                .iter()
                .map(|&day| {
                    let iso = day.to_string();
                    let rows = by_cell
                        .get(&(cal.id.as_str(), iso.as_str()))
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    let bars = pack(
                        rows.iter().copied(),
                        cal.machines,
                        u64::from(cal.minutes_per_day),
                    );
                    ScheduleDay {
                        day,
                        capacity_minutes: cal.capacity_on(day),
                        booked_minutes: plan.ledger.booked(&cal.id, day),
                        down: cal.down.iter().any(|d| d.covers(day)),
                        bars,
                    }
                })
                .collect();
            WorkCenterSchedule {
                id: cal.id.clone(),
                name,
                machines: cal.machines,
                minutes_per_day: cal.minutes_per_day,
                days,
            }
        })
        .collect()
}

/// Fills machine 0's day, then machine 1's, splitting a booking that spans
/// the end of a machine's day; what exceeds every machine (an overbooked day
/// after new downtime) stays on the last machine past its day.
fn pack<'a>(rows: impl Iterator<Item = &'a BookingRow>, machines: u32, day_len: u64) -> Vec<Bar> {
    let machines = machines.max(1);
    let mut bars = Vec::new();
    let (mut machine, mut at) = (0u32, 0u64);
    for r in rows {
        let mut left = r.minutes.max(0) as u64;
        while left > 0 {
            let last = machine + 1 == machines;
            let room = if last {
                left
            } else {
                day_len.saturating_sub(at)
            };
            if room == 0 {
                machine += 1;
                at = 0;
                continue;
            }
            let take = room.min(left);
            bars.push(Bar {
                order_id: r.order_id.clone(),
                line_no: r.line_no,
                operation: r.operation.clone(),
                machine,
                start_minute: at,
                end_minute: at + take,
            });
            at += take;
            left -= take;
        }
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(order: &str, minutes: i64) -> BookingRow {
        BookingRow {
            order_id: order.into(),
            line_no: 1,
            operation: "fire".into(),
            work_center: "kiln".into(),
            day: "2026-11-23".into(),
            minutes,
        }
    }

    #[test]
    fn bookings_fill_machines_in_turn_and_split_at_the_end_of_a_day() {
        let rows = [row("a", 300), row("b", 300), row("c", 500)];
        let bars = pack(rows.iter(), 2, 480);
        let got: Vec<_> = bars
            .iter()
            .map(|b| (b.order_id.as_str(), b.machine, b.start_minute, b.end_minute))
            .collect();
        assert_eq!(
            got,
            [
                ("a", 0, 0, 300),
                ("b", 0, 300, 480),
                ("b", 1, 0, 120),
                // Overbooked: the rest stays on the last machine, visibly late.
                ("c", 1, 120, 620),
            ]
        );
    }
}
