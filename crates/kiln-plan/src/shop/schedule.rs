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
    #[error("job {job} op {op} starts at {start} before the job's release at {release}")]
    Release {
        job: usize,
        op: usize,
        start: u64,
        release: u64,
    },
    #[error(
        "machine {machine}: the operation at {at} leaves less than its setup of {setup} after the previous one"
    )]
    Setup { machine: u32, at: u64, setup: u64 },
    #[error("claimed makespan {claimed}, but the last operation ends at {actual}")]
    Makespan { claimed: u64, actual: u64 },
}

/// The objective, compared lexicographically: total weighted tardiness first, then makespan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Objective {
    /// Σ weight × max(0, completion − due) over the jobs (saturating).
    pub weighted_tardiness: u64,
    pub makespan: u64,
}

/// [`check`], and the objective of a feasible schedule.
pub fn evaluate(instance: &Instance, schedule: &Schedule) -> Result<Objective, Infeasible> {
    let makespan = check(instance, schedule)?;
    let mut weighted_tardiness = 0u64;
    let mut completion = vec![0u64; instance.jobs().len()];
    for p in &schedule.operations {
        completion[p.job] = completion[p.job].max(p.end);
    }
    for (j, &c) in completion.iter().enumerate() {
        let t = instance.terms(j);
        if let Some(due) = t.due {
            weighted_tardiness =
                weighted_tardiness.saturating_add(t.weight.saturating_mul(c.saturating_sub(due)));
        }
    }
    Ok(Objective {
        weighted_tardiness,
        makespan,
    })
}

/// Checks precedence within jobs, release times, eligibility, durations, one operation per
/// machine at a time with the setups between them, and the makespan. Returns the makespan
/// when feasible.
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
    let mut per_machine: Vec<Vec<(u64, u64, usize)>> = vec![Vec::new(); instance.machines()];
    for (j, job) in instance.jobs().iter().enumerate() {
        let release = instance.terms(j).release;
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
            if p.start < release {
                return Err(Infeasible::Release {
                    job: j,
                    op: k,
                    start: p.start,
                    release,
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
            per_machine[p.machine as usize].push((p.start, p.end, j));
        }
    }
    for (m, iv) in per_machine.iter_mut().enumerate() {
        // Zero-length operations occupy nothing (instances with setups have none); positive
        // ones must not overlap, and the machine order is the order of starts.
        iv.retain(|&(s, e, _)| e > s);
        iv.sort_unstable();
        let mut busy_until = 0u64;
        let mut last_job: Option<usize> = None;
        for &(s, e, j) in iv.iter() {
            if s < busy_until {
                return Err(Infeasible::Overlap {
                    machine: m as u32,
                    at: s,
                });
            }
            if let Some(prev) = last_job {
                let setup = instance.setup(m as u32, prev, j);
                if s < busy_until + setup {
                    return Err(Infeasible::Setup {
                        machine: m as u32,
                        at: s,
                        setup,
                    });
                }
            }
            busy_until = e;
            last_job = Some(j);
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
