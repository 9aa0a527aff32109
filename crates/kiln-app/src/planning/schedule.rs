//! The schedule as a planner reads it: each work centre's machines, day by
//! day, with the live schedule's operations as bars. An operation that runs
//! over several shifts shows as one bar per day; each bar also carries the
//! operation's exact times.

use jiff::ToSpan;
use jiff::civil::Date;
use kiln_plan::live::{self, OperationStatus};
use serde::Serialize;
use utoipa::ToSchema;

use crate::live::{shift, timestamp};
use crate::runtime::{BrandRuntime, PlanState};

/// One operation's stretch of work on one machine on one day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Bar {
    pub order_id: kiln_domain::OrderId,
    pub line_no: i64,
    pub operation: String,
    pub sku: String,
    /// 0-based machine of the work centre.
    pub machine: u32,
    /// Minutes into the machine's working day (its shift), setup included.
    pub start_minute: u64,
    pub end_minute: u64,
    /// The whole operation: setup from `setup_start`, processing from `start`
    /// to `end` (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub setup_start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub start: jiff::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub end: jiff::Timestamp,
    /// Setup before it: 0 when the machine already ran the same SKU.
    pub setup_minutes: u32,
    /// `planned`, `started` or `done`.
    #[schema(value_type = String)]
    pub status: OperationStatus,
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
    /// Machines broken down that day (reported by the floor), each piece
    /// placed like a bar within the working day.
    pub machines_down: Vec<MachineDown>,
}

/// A machine down within one working day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MachineDown {
    /// 0-based machine of the work centre.
    pub machine: u32,
    pub start_minute: u64,
    pub end_minute: u64,
    /// When the repair is expected to end (UTC).
    #[schema(value_type = String, format = DateTime)]
    pub until: jiff::Timestamp,
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
    from: Date,
    days: i32,
) -> Vec<WorkCenterSchedule> {
    let dates: Vec<Date> = (0..days)
        .filter_map(|d| from.checked_add(d.days()).ok())
        .collect();
    let first = plan.clock.midnight(from);
    let live = plan.schedule.gantt();
    plan.calendars
        .iter()
        .map(|cal| {
            let name = rt
                .catalog
                .factory
                .work_center(&cal.id)
                .map_or_else(|| cal.id.clone(), |w| w.name.clone());
            let shift = shift(cal.minutes_per_day);
            let mut by_day: Vec<Vec<Bar>> = vec![Vec::new(); dates.len()];
            let machines = live
                .iter()
                .find(|w| w.work_centre == cal.id)
                .map(|w| w.machines.as_slice())
                .unwrap_or_default();
            // Work stops on days off; a bar spanning them has no piece there.
            let working: Vec<bool> = dates.iter().map(|&d| cal.capacity_on(d) > 0).collect();
            for (m, bars) in machines.iter().enumerate() {
                for b in bars {
                    day_pieces(plan, b, m as u32, (first, shift), &working, &mut by_day);
                }
            }
            let mut broken: Vec<Vec<MachineDown>> = vec![Vec::new(); dates.len()];
            let periods = plan.schedule.machine_down(&cal.id).unwrap_or_default();
            for (m, periods) in periods.iter().enumerate() {
                for p in periods {
                    for (d, open, start, end) in
                        shift_pieces(p.from, p.to, (first, shift), &working)
                    {
                        broken[d].push(MachineDown {
                            machine: m as u32,
                            start_minute: (start - open) as u64,
                            end_minute: (end - open) as u64,
                            until: timestamp(plan.clock.epoch(p.to)),
                        });
                    }
                }
            }
            let days = dates
                .iter()
                .zip(by_day)
                .zip(broken)
                .map(|((&day, bars), machines_down)| ScheduleDay {
                    day,
                    capacity_minutes: cal.capacity_on(day),
                    booked_minutes: bars.iter().map(|b| b.end_minute - b.start_minute).sum(),
                    down: cal.down.iter().any(|d| d.covers(day)),
                    bars,
                    machines_down,
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

/// Cuts one operation into the shifts of the window's days it covers.
fn day_pieces(
    plan: &PlanState,
    b: &live::GanttBar<kiln_domain::LineRef>,
    machine: u32,
    (first, shift): (live::Minute, live::Shift),
    working: &[bool],
    by_day: &mut [Vec<Bar>],
) {
    let line = &b.order;
    for (d, open, start, end) in shift_pieces(b.setup_start, b.end, (first, shift), working) {
        by_day[d].push(Bar {
            order_id: line.order.clone(),
            line_no: line.line_no,
            operation: b.operation_name.clone(),
            sku: b.sku.clone(),
            machine,
            start_minute: (start - open) as u64,
            end_minute: (end - open) as u64,
            setup_start: timestamp(plan.clock.epoch(b.setup_start)),
            start: timestamp(plan.clock.epoch(b.start)),
            end: timestamp(plan.clock.epoch(b.end)),
            setup_minutes: b.setup_minutes,
            status: b.status,
        });
    }
}

/// The pieces of `[from, to)` within each working day's shift of the window:
/// `(day index, shift opening, start, end)`.
fn shift_pieces(
    from: live::Minute,
    to: live::Minute,
    (first, shift): (live::Minute, live::Shift),
    working: &[bool],
) -> Vec<(usize, live::Minute, live::Minute, live::Minute)> {
    let day_ix = |t: live::Minute| (t - first).div_euclid(live::DAY);
    let (lo, hi) = (day_ix(from).max(0), day_ix(to - 1));
    let mut out = Vec::new();
    for d in lo..=hi.min(working.len() as i64 - 1) {
        let open = first + d * live::DAY + i64::from(shift.from);
        let close = first + d * live::DAY + i64::from(shift.to);
        let (start, end) = (from.max(open), to.min(close));
        if end > start && working[d as usize] {
            out.push((d as usize, open, start, end));
        }
    }
    out
}
