//! A schedule for a shop instance, and an independent feasibility checker.
//!
//! The checker knows nothing about how a schedule was made: it only reads start times and
//! machines, so the tests can run it on every schedule the solver produces.

use super::instance::Instance;

/// One operation placed on a machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Job index, 0-based in file order.
    pub job: usize,
    /// Operation index within the job, 0-based.
    pub op: usize,
    /// Dense machine index (see [`Instance::machine_label`] for the file's number).
    pub machine: u32,
    pub start: u64,
    pub end: u64,
}

/// A complete schedule: every operation of the instance, job by job in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    pub makespan: u64,
    pub operations: Vec<Placed>,
}

/// Why a schedule is not feasible.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Infeasible {
    #[error("operation job {job} op {op} is missing")]
    Missing { job: usize, op: usize },
    #[error("operation job {job} op {op} appears more than once or does not exist")]
    Unknown { job: usize, op: usize },
    #[error("job {job} op {op} runs on machine {machine}, which is not eligible")]
    Ineligible { job: usize, op: usize, machine: u32 },
    #[error("job {job} op {op} lasts {actual}, needs {expected}")]
    Duration {
        job: usize,
        op: usize,
        actual: u64,
        expected: u64,
    },
    #[error("job {job} op {op} starts at {start} before its predecessor ends at {previous_end}")]
    Precedence {
        job: usize,
        op: usize,
        start: u64,
        previous_end: u64,
    },
    #[error("machine {machine} runs two operations at once around time {at}")]
    Overlap { machine: u32, at: u64 },
    #[error("claimed makespan {claimed}, but the last operation ends at {actual}")]
    Makespan { claimed: u64, actual: u64 },
}

/// Checks precedence within jobs, eligibility, durations, one operation per machine at a
/// time, and the makespan. Returns the makespan when feasible.
pub fn check(instance: &Instance, schedule: &Schedule) -> Result<u64, Infeasible> {
    let n = instance.operations();
    let mut slot: Vec<Option<Placed>> = vec![None; n];
    for p in &schedule.operations {
        let known = p.job < instance.jobs().len() && p.op < instance.jobs()[p.job].len();
        if !known {
            return Err(Infeasible::Unknown {
                job: p.job,
                op: p.op,
            });
        }
        let id = instance.op_id(p.job, p.op);
        if slot[id].is_some() {
            return Err(Infeasible::Unknown {
                job: p.job,
                op: p.op,
            });
        }
        slot[id] = Some(*p);
    }
    let mut actual = 0u64;
    let mut per_machine: Vec<Vec<(u64, u64)>> = vec![Vec::new(); instance.machines()];
    for (j, job) in instance.jobs().iter().enumerate() {
        let mut previous_end = 0u64;
        for (k, op) in job.iter().enumerate() {
            let Some(p) = slot[instance.op_id(j, k)] else {
                return Err(Infeasible::Missing { job: j, op: k });
            };
            let Some(expected) = op.duration_on(p.machine) else {
                return Err(Infeasible::Ineligible {
                    job: j,
                    op: k,
                    machine: p.machine,
                });
            };
            if p.end < p.start || p.end - p.start != expected {
                return Err(Infeasible::Duration {
                    job: j,
                    op: k,
                    actual: p.end.wrapping_sub(p.start),
                    expected,
                });
            }
            if p.start < previous_end {
                return Err(Infeasible::Precedence {
                    job: j,
                    op: k,
                    start: p.start,
                    previous_end,
                });
            }
            previous_end = p.end;
            actual = actual.max(p.end);
            per_machine[p.machine as usize].push((p.start, p.end));
        }
    }
    for (m, iv) in per_machine.iter_mut().enumerate() {
        // Zero-length operations occupy nothing; positive ones must not overlap.
        iv.retain(|&(s, e)| e > s);
        iv.sort_unstable();
        let mut busy_until = 0u64;
        for &(s, e) in iv.iter() {
            if s < busy_until {
                return Err(Infeasible::Overlap {
                    machine: m as u32,
                    at: s,
                });
            }
            busy_until = e;
        }
    }
    if schedule.makespan != actual {
        return Err(Infeasible::Makespan {
            claimed: schedule.makespan,
            actual,
        });
    }
    Ok(actual)
}
