//! The machines operations done ahead of plan left (see
//! [`PlanState::made_on`]): kept with their booking rows, so the unit's
//! passport names them whichever server issues it.

use std::collections::HashMap;

use kiln_domain::{BookingRow, LineRef, ScheduledBooking};

use super::PlanState;

/// The machine an operation done ahead of plan was booked on before it
/// left it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeOn {
    /// The operation: 0-based step of the line's routing.
    pub op: usize,
    pub work_centre: String,
    pub machine: u16,
}

impl PlanState {
    /// The booking rows that store a line as the schedule now has it, with
    /// the machines its operations done ahead of plan left.
    pub fn rows_of(&self, placed: &crate::live::OrderPlan) -> Vec<BookingRow> {
        let mut rows = crate::live::booking_rows(&self.clock, placed);
        for made in self.made_on.get(&placed.order.id).into_iter().flatten() {
            if let Some(row) = rows.get_mut(made.op)
                && row.machine < 0
            {
                row.work_center.clone_from(&made.work_centre);
                row.made_on = Some(i64::from(made.machine));
            }
        }
        rows
    }

    /// The machines operations done ahead of plan left, as `rows` (a
    /// rebuild's) stored them.
    pub(super) fn made_on_from(rows: &[ScheduledBooking]) -> HashMap<LineRef, Vec<MadeOn>> {
        let mut made_on: HashMap<LineRef, Vec<MadeOn>> = HashMap::new();
        for r in rows {
            let b = &r.booking;
            let (Some(machine), Ok(op)) = (b.made_on, usize::try_from(b.seq - 1)) else {
                continue;
            };
            if b.machine >= 0 {
                continue;
            }
            made_on
                .entry(LineRef::new(b.order_id.clone(), b.line_no))
                .or_default()
                .push(MadeOn {
                    op,
                    work_centre: b.work_center.clone(),
                    machine: machine.clamp(0, i64::from(u16::MAX)) as u16,
                });
        }
        made_on
    }
}
