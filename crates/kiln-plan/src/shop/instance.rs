//! Shop instances: jobs made of operations, each operation runnable on one or more machines.
//!
//! Two standard text formats come in (see `../shared/bench/README.md`):
//!
//! - **JSP** (classic job shop): a line `jobs machines`, then one line per job of
//!   `machine duration` pairs in processing order.
//! - **FJSP** (flexible job shop, Brandimarte): a line `jobs machines [average]`, then one line
//!   per job: the number of operations, then for each operation the number of eligible
//!   machines `k` followed by `k` pairs `machine duration`.
//!
//! Blank lines and lines starting with `#` are skipped. Every error names its 1-based line.
//! Machine numbers are kept as they appear in the file.

use std::fmt;

/// Durations above this are refused, so that sums of durations never overflow `u64`.
pub const MAX_DURATION: u64 = 1_000_000_000;
/// Machine numbers above this are refused, so that per-machine tables stay small.
pub const MAX_MACHINE: u32 = 100_000;
/// More operations than this are refused (memory stays bounded for hostile input).
pub const MAX_OPERATIONS: usize = 10_000_000;

/// One operation: the machines it may run on, each with its processing time there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// `(machine index, duration)`; machine indices are dense (`0..Instance::machines()`).
    pub alternatives: Vec<(u32, u64)>,
}

impl Operation {
    /// The shortest processing time over the eligible machines.
    pub fn min_duration(&self) -> u64 {
        self.alternatives.iter().map(|a| a.1).min().unwrap_or(0)
    }

    /// The duration on `machine`, if eligible.
    pub fn duration_on(&self, machine: u32) -> Option<u64> {
        self.alternatives
            .iter()
            .find(|a| a.0 == machine)
            .map(|a| a.1)
    }
}

/// Releases, due dates and weights above this are refused (sums stay far from overflow).
pub const MAX_TIME: u64 = 1_000_000_000_000;
/// Weights above this are refused.
pub const MAX_WEIGHT: u64 = 1_000_000;
/// More job families than this are refused (the setup tables are families²  per machine).
pub const MAX_FAMILIES: usize = 1_024;

/// An order's terms for one job: when its material arrives, when it is due, what a unit of
/// lateness costs, and its setup family (the SKU: jobs of one family need no setup between
/// them on a machine).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobTerms {
    /// No operation of the job starts earlier.
    pub release: u64,
    /// Completion after this is tardy; `None`: never tardy.
    pub due: Option<u64>,
    /// Weight of each unit of tardiness.
    pub weight: u64,
    /// Setup family, an index into [`Setups`].
    pub family: u32,
}

impl Default for JobTerms {
    fn default() -> Self {
        Self {
            release: 0,
            due: None,
            weight: 1,
            family: 0,
        }
    }
}

/// Sequence-dependent setup times on each machine, by job family: the machine is idle for
/// `time(machine, from, to)` between an operation of family `from` and the next one, of
/// family `to`. Same family: zero. The first operation on a machine needs none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setups {
    families: usize,
    /// Per machine, row-major `from * families + to`.
    times: Vec<Vec<u64>>,
}

impl Setups {
    /// `times[machine]` is a `families × families` matrix, row-major (`from * families + to`),
    /// with a zero diagonal.
    pub fn new(families: usize, times: Vec<Vec<u64>>) -> Result<Self, String> {
        if families == 0 || families > MAX_FAMILIES {
            return Err(format!("setups: {families} families (1 to {MAX_FAMILIES})"));
        }
        for (m, t) in times.iter().enumerate() {
            if t.len() != families * families {
                return Err(format!(
                    "setups: machine {m} has {} times, expected {families}×{families}",
                    t.len()
                ));
            }
            for f in 0..families {
                if t[f * families + f] != 0 {
                    return Err(format!("setups: machine {m} family {f} to itself is not 0"));
                }
            }
            if let Some(&big) = t.iter().find(|&&x| x > MAX_DURATION) {
                return Err(format!("setups: machine {m}: time {big} too large"));
            }
        }
        Ok(Self { families, times })
    }

    /// The same setup `time` between any two different families on every machine.
    pub fn uniform(machines: usize, families: usize, time: u64) -> Result<Self, String> {
        let row: Vec<u64> = (0..families * families)
            .map(|i| {
                if i / families == i % families {
                    0
                } else {
                    time
                }
            })
            .collect();
        Self::new(families, vec![row; machines])
    }

    /// Number of families.
    pub fn families(&self) -> usize {
        self.families
    }

    /// Setup on `machine` between families `from` and `to`.
    #[inline]
    pub fn time(&self, machine: u32, from: u32, to: u32) -> u64 {
        self.times[machine as usize][from as usize * self.families + to as usize]
    }
}

/// A (flexible) job shop: jobs are sequences of operations.
///
/// Operations are also numbered globally, job by job in file order (`op_id`), which is the
/// numbering the solver works with. Jobs may carry [`JobTerms`] and machines [`Setups`];
/// without them (the benchmark formats) every job is released at 0, never tardy, and the
/// objective is the makespan alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instance {
    jobs: Vec<Vec<Operation>>,
    /// Machine names as they appear in the file, by dense index.
    machine_labels: Vec<u32>,
    job_start: Vec<usize>,
    /// Empty, or one per job.
    terms: Vec<JobTerms>,
    setups: Option<Setups>,
}

impl Instance {
    /// Builds an instance from jobs whose machines are already dense indices `0..machines`.
    /// Machine labels are the indices themselves.
    pub fn new(machines: u32, jobs: Vec<Vec<Operation>>) -> Result<Self, String> {
        for (j, job) in jobs.iter().enumerate() {
            for (k, op) in job.iter().enumerate() {
                if op.alternatives.is_empty() {
                    return Err(format!("job {j} operation {k} has no eligible machine"));
                }
                for &(m, d) in &op.alternatives {
                    if m >= machines {
                        return Err(format!("job {j} operation {k}: machine {m} out of range"));
                    }
                    if d > MAX_DURATION {
                        return Err(format!("job {j} operation {k}: duration {d} too large"));
                    }
                }
            }
        }
        Ok(Self::from_parts(jobs, (0..machines).collect()))
    }

    fn from_parts(jobs: Vec<Vec<Operation>>, machine_labels: Vec<u32>) -> Self {
        let mut job_start = Vec::with_capacity(jobs.len() + 1);
        let mut acc = 0;
        for job in &jobs {
            job_start.push(acc);
            acc += job.len();
        }
        job_start.push(acc);
        Self {
            jobs,
            machine_labels,
            job_start,
            terms: Vec::new(),
            setups: None,
        }
    }

    /// Gives every job its terms (one per job, in job order).
    pub fn with_terms(mut self, terms: Vec<JobTerms>) -> Result<Self, String> {
        if terms.len() != self.jobs.len() {
            return Err(format!(
                "terms for {} job(s), the instance has {}",
                terms.len(),
                self.jobs.len()
            ));
        }
        for (j, t) in terms.iter().enumerate() {
            if t.release > MAX_TIME || t.due.is_some_and(|d| d > MAX_TIME) {
                return Err(format!("job {j}: release or due date above {MAX_TIME}"));
            }
            if t.weight > MAX_WEIGHT {
                return Err(format!("job {j}: weight {} above {MAX_WEIGHT}", t.weight));
            }
            if let Some(s) = &self.setups
                && t.family as usize >= s.families
            {
                return Err(format!(
                    "job {j}: family {} but the setups know {}",
                    t.family, s.families
                ));
            }
        }
        self.terms = terms;
        Ok(self)
    }

    /// Gives the machines sequence-dependent setups. Every duration must then be positive
    /// (a zero-length operation would leave the order on its machine, hence its setups,
    /// undefined).
    pub fn with_setups(mut self, setups: Setups) -> Result<Self, String> {
        if setups.times.len() != self.machines() {
            return Err(format!(
                "setups for {} machine(s), the instance has {}",
                setups.times.len(),
                self.machines()
            ));
        }
        for (j, job) in self.jobs.iter().enumerate() {
            if let Some(t) = self.terms.get(j)
                && t.family as usize >= setups.families
            {
                return Err(format!(
                    "job {j}: family {} but the setups know {}",
                    t.family, setups.families
                ));
            }
            for (k, op) in job.iter().enumerate() {
                if op.alternatives.iter().any(|a| a.1 == 0) {
                    return Err(format!(
                        "job {j} operation {k}: zero duration is not allowed with setups"
                    ));
                }
            }
        }
        self.setups = Some(setups);
        Ok(self)
    }

    /// The terms of `job` (defaults when none were given).
    #[inline]
    pub fn terms(&self, job: usize) -> JobTerms {
        self.terms.get(job).copied().unwrap_or_default()
    }

    /// The machines' setups, if any.
    pub fn setups(&self) -> Option<&Setups> {
        self.setups.as_ref()
    }

    /// Setup on `machine` between an operation of job `from` and one of job `to`.
    #[inline]
    pub fn setup(&self, machine: u32, from: usize, to: usize) -> u64 {
        match &self.setups {
            Some(s) => s.time(machine, self.terms(from).family, self.terms(to).family),
            None => 0,
        }
    }

    /// True when no job has a release or a due date and there are no setups: a benchmark
    /// instance, scheduled for the makespan alone.
    pub fn is_plain(&self) -> bool {
        self.setups.is_none() && self.terms.iter().all(|t| t.release == 0 && t.due.is_none())
    }

    /// The jobs, each a sequence of operations.
    pub fn jobs(&self) -> &[Vec<Operation>] {
        &self.jobs
    }

    /// Number of machines (dense indices `0..machines()`).
    pub fn machines(&self) -> usize {
        self.machine_labels.len()
    }

    /// The machine number as written in the file for dense index `machine`.
    pub fn machine_label(&self, machine: u32) -> u32 {
        self.machine_labels[machine as usize]
    }

    /// Total number of operations.
    pub fn operations(&self) -> usize {
        self.job_start[self.jobs.len()]
    }

    /// Global id of operation `op` of job `job`.
    pub fn op_id(&self, job: usize, op: usize) -> usize {
        self.job_start[job] + op
    }

    /// First global id of each job, plus one past the end.
    pub fn job_starts(&self) -> &[usize] {
        &self.job_start
    }

    /// True when every operation has exactly one eligible machine (a classic job shop).
    pub fn is_classic(&self) -> bool {
        self.jobs
            .iter()
            .flatten()
            .all(|o| o.alternatives.len() == 1)
    }

    /// A simple lower bound on the makespan: the longest job (its release plus its shortest
    /// durations) and, for machines that some operations must use, their unavoidable load.
    pub fn lower_bound(&self) -> u64 {
        let job_lb = self
            .jobs
            .iter()
            .enumerate()
            .map(|(j, ops)| {
                self.terms(j).release + ops.iter().map(Operation::min_duration).sum::<u64>()
            })
            .max()
            .unwrap_or(0);
        let mut forced = vec![0u64; self.machines()];
        let mut total_min = 0u64;
        for op in self.jobs.iter().flatten() {
            total_min += op.min_duration();
            if op.alternatives.len() == 1 {
                forced[op.alternatives[0].0 as usize] += op.alternatives[0].1;
            }
        }
        let machine_lb = forced.into_iter().max().unwrap_or(0);
        let m = self.machines().max(1) as u64;
        job_lb.max(machine_lb).max(total_min.div_ceil(m))
    }
}

/// Which text format a file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Classic job shop.
    Jsp,
    /// Flexible job shop (Brandimarte).
    Fjsp,
}

/// A parse error with the 1-based line it was found on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

fn err(line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        line,
        message: message.into(),
    }
}

/// Non-blank, non-comment lines with their 1-based numbers.
fn content_lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let t = l.trim();
        if t.is_empty() || t.starts_with('#') {
            None
        } else {
            Some((i + 1, t.split_whitespace().collect()))
        }
    })
}

fn int(line: usize, tok: &str, what: &str, max: u64) -> Result<u64, ParseError> {
    let v: u64 = tok.parse().map_err(|_| {
        err(
            line,
            format!("{what}: expected a non-negative integer, found `{tok}`"),
        )
    })?;
    if v > max {
        return Err(err(line, format!("{what}: {v} is larger than {max}")));
    }
    Ok(v)
}

struct Header {
    line: usize,
    jobs: usize,
    machines: u32,
}

/// Maps file machine numbers to dense indices, in order of first appearance sorted by number.
struct MachineMap {
    labels: Vec<u32>,
}

impl MachineMap {
    fn build(jobs: &[Vec<Vec<(u32, u64)>>], declared: u32) -> Self {
        let mut seen: Vec<u32> = jobs.iter().flatten().flatten().map(|a| a.0).collect();
        seen.extend(0..declared);
        seen.sort_unstable();
        seen.dedup();
        Self { labels: seen }
    }

    fn index(&self, label: u32) -> u32 {
        // Present by construction.
        self.labels.binary_search(&label).unwrap_or(0) as u32
    }
}

fn finish(raw: Vec<Vec<Vec<(u32, u64)>>>, declared: u32) -> Instance {
    let map = MachineMap::build(&raw, declared);
    let jobs = raw
        .into_iter()
        .map(|job| {
            job.into_iter()
                .map(|alts| Operation {
                    alternatives: alts.into_iter().map(|(m, d)| (map.index(m), d)).collect(),
                })
                .collect()
        })
        .collect();
    Instance::from_parts(jobs, map.labels)
}

/// Parses `text` in the given format.
pub fn parse(text: &str, format: Format) -> Result<Instance, ParseError> {
    match format {
        Format::Jsp => parse_jsp(text),
        Format::Fjsp => parse_fjsp(text),
    }
}

fn parse_header<'a>(
    lines: &mut impl Iterator<Item = (usize, Vec<&'a str>)>,
    allow_third: bool,
) -> Result<Header, ParseError> {
    let Some((line, toks)) = lines.next() else {
        return Err(err(1, "empty file: expected a line `jobs machines`"));
    };
    let max_toks = if allow_third { 3 } else { 2 };
    if toks.len() < 2 || toks.len() > max_toks {
        return Err(err(
            line,
            format!(
                "expected `jobs machines{}`, found {} value(s)",
                if allow_third { " [average]" } else { "" },
                toks.len()
            ),
        ));
    }
    let jobs = int(line, toks[0], "number of jobs", MAX_OPERATIONS as u64)? as usize;
    let machines = int(line, toks[1], "number of machines", u64::from(MAX_MACHINE))? as u32;
    if allow_third && toks.len() == 3 && toks[2].parse::<f64>().is_err() {
        return Err(err(
            line,
            format!(
                "average machines per operation: expected a number, found `{}`",
                toks[2]
            ),
        ));
    }
    Ok(Header {
        line,
        jobs,
        machines,
    })
}

/// Parses the classic job-shop format.
pub fn parse_jsp(text: &str) -> Result<Instance, ParseError> {
    let mut lines = content_lines(text);
    let h = parse_header(&mut lines, false)?;
    if h.machines == 0 && h.jobs > 0 {
        return Err(err(
            h.line,
            "a job shop with jobs needs at least one machine",
        ));
    }
    if (h.jobs as u64).saturating_mul(u64::from(h.machines)) > MAX_OPERATIONS as u64 {
        return Err(err(h.line, "too many operations"));
    }
    let m = h.machines as usize;
    let mut raw = Vec::with_capacity(h.jobs);
    let mut last_line = h.line;
    for j in 0..h.jobs {
        let Some((line, toks)) = lines.next() else {
            return Err(err(
                last_line + 1,
                format!("expected {} job line(s), found {j}", h.jobs),
            ));
        };
        last_line = line;
        if toks.len() != 2 * m {
            return Err(err(
                line,
                format!(
                    "job {j}: expected {} numbers ({m} `machine duration` pairs), found {}",
                    2 * m,
                    toks.len()
                ),
            ));
        }
        let mut ops = Vec::with_capacity(m);
        for k in 0..m {
            let mach = int(
                line,
                toks[2 * k],
                &format!("job {j} operation {k} machine"),
                u64::from(MAX_MACHINE),
            )? as u32;
            let dur = int(
                line,
                toks[2 * k + 1],
                &format!("job {j} operation {k} duration"),
                MAX_DURATION,
            )?;
            ops.push(vec![(mach, dur)]);
        }
        raw.push(ops);
    }
    if let Some((line, _)) = lines.next() {
        return Err(err(
            line,
            format!("unexpected data after the {} job line(s)", h.jobs),
        ));
    }
    Ok(finish(raw, h.machines))
}

/// Parses the flexible job-shop (Brandimarte) format.
pub fn parse_fjsp(text: &str) -> Result<Instance, ParseError> {
    let mut lines = content_lines(text);
    let h = parse_header(&mut lines, true)?;
    let mut raw = Vec::with_capacity(h.jobs.min(1 << 16));
    let mut last_line = h.line;
    let mut total_ops = 0usize;
    for j in 0..h.jobs {
        let Some((line, toks)) = lines.next() else {
            return Err(err(
                last_line + 1,
                format!("expected {} job line(s), found {j}", h.jobs),
            ));
        };
        last_line = line;
        let mut pos = 0usize;
        let mut next = |what: &str, max: u64| -> Result<u64, ParseError> {
            let Some(tok) = toks.get(pos) else {
                return Err(err(
                    line,
                    format!("job {j}: line ends where {what} was expected"),
                ));
            };
            pos += 1;
            int(line, tok, &format!("job {j} {what}"), max)
        };
        let nops = next("number of operations", MAX_OPERATIONS as u64)? as usize;
        total_ops = total_ops.saturating_add(nops);
        if total_ops > MAX_OPERATIONS {
            return Err(err(line, "too many operations"));
        }
        let mut ops = Vec::with_capacity(nops.min(1 << 16));
        for k in 0..nops {
            let count = next(
                &format!("operation {k} number of machines"),
                u64::from(MAX_MACHINE),
            )?;
            if count == 0 {
                return Err(err(
                    line,
                    format!("job {j} operation {k} has no eligible machine"),
                ));
            }
            let mut alts: Vec<(u32, u64)> = Vec::with_capacity(count.min(64) as usize);
            for _ in 0..count {
                let mach = next(&format!("operation {k} machine"), u64::from(MAX_MACHINE))? as u32;
                let dur = next(&format!("operation {k} duration"), MAX_DURATION)?;
                if alts.iter().any(|a| a.0 == mach) {
                    return Err(err(
                        line,
                        format!("job {j} operation {k} lists machine {mach} twice"),
                    ));
                }
                alts.push((mach, dur));
            }
            ops.push(alts);
        }
        if pos != toks.len() {
            return Err(err(
                line,
                format!(
                    "job {j}: {} unexpected value(s) after its {nops} operation(s)",
                    toks.len() - pos
                ),
            ));
        }
        raw.push(ops);
    }
    if let Some((line, _)) = lines.next() {
        return Err(err(
            line,
            format!("unexpected data after the {} job line(s)", h.jobs),
        ));
    }
    Ok(finish(raw, h.machines))
}
