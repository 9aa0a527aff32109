//! The factory floor, live: what machines and operators' terminals report
//! (a machine down or up, an operation started or completed), and what Kiln
//! keeps of each machine.
//!
//! Each machine numbers its own events from 1 (`seq`). Kiln applies a
//! machine's events in that order, once: the same `seq` again is a duplicate
//! and is ignored, whichever way it came (HTTP or the message broker).

use serde::{Deserialize, Serialize};

use crate::{DowntimeId, Timestamp, WorkOrderId};

/// One event from a machine or its operator's terminal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineEvent {
    /// The machine's own count of its events, from 1.
    pub seq: i64,
    /// When it happened on the floor.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The work centre's id in the factory model.
    pub work_center: String,
    /// The machine within its work centre, from 0 (as in `GET .../schedule`).
    pub machine: u16,
    #[serde(flatten)]
    pub what: FloorEvent,
}

/// What happened, by `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type")]
pub enum FloorEvent {
    /// The machine stopped. Its work moves to other machines or after the
    /// repair, expected to take `expected_minutes` (default 60); a second
    /// `machine.down` while down extends the repair.
    #[serde(rename = "machine.down")]
    MachineDown {
        #[serde(default)]
        reason: String,
        #[serde(default)]
        expected_minutes: Option<u32>,
    },
    /// The machine runs again: the rest of its repair time is capacity again.
    #[serde(rename = "machine.up")]
    MachineUp,
    /// An operator started operation `operation` (from 1) of a work order.
    #[serde(rename = "operation.started")]
    OperationStarted {
        work_order: WorkOrderId,
        operation: i64,
    },
    /// An operator completed it, with the units scrapped.
    #[serde(rename = "operation.completed")]
    OperationCompleted {
        work_order: WorkOrderId,
        operation: i64,
        #[serde(default)]
        scrap: i64,
    },
}

impl FloorEvent {
    /// For an operation's event: its work order, operation number and what
    /// the operator did.
    pub fn operation(&self) -> Option<(&WorkOrderId, i64, crate::OperationAction)> {
        match self {
            FloorEvent::OperationStarted {
                work_order,
                operation,
            } => Some((work_order, *operation, crate::OperationAction::Start)),
            FloorEvent::OperationCompleted {
                work_order,
                operation,
                scrap,
            } => Some((
                work_order,
                *operation,
                crate::OperationAction::Complete { scrap: *scrap },
            )),
            _ => None,
        }
    }

    /// The event's `type`, as it is stored and shown.
    pub fn kind(&self) -> &'static str {
        match self {
            FloorEvent::MachineDown { .. } => "machine.down",
            FloorEvent::MachineUp => "machine.up",
            FloorEvent::OperationStarted { .. } => "operation.started",
            FloorEvent::OperationCompleted { .. } => "operation.completed",
        }
    }
}

/// A machine as the floor last reported it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineState {
    pub work_center: String,
    pub machine: u16,
    /// The last `machine.down` or `machine.up` applied (operation events
    /// do not move it: they apply whenever they come).
    pub last_seq: i64,
    /// The open downtime while the machine is down.
    pub down: Option<DowntimeId>,
}

/// One machine's own downtime: from its `machine.down` to its `machine.up`
/// (or the repair time it expected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MachineDowntime {
    pub id: DowntimeId,
    pub work_center: String,
    pub machine: u16,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub to: Timestamp,
    pub reason: String,
}

/// What applying one event did: `applied`, `duplicate`, or why it changed
/// nothing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EventOutcome {
    pub work_center: String,
    pub machine: u16,
    pub seq: i64,
    pub outcome: String,
}
