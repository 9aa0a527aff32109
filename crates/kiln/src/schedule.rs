//! `kiln schedule ...`: run the shop scheduler on standard benchmark files, so that anyone
//! can check the schedules independently.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use kiln_plan::shop::{self, Format, SolveOptions};

#[derive(clap::Subcommand)]
pub enum ScheduleCommand {
    /// Solve a job-shop (`jsp`) or flexible job-shop (`fjsp`) file, minimizing the makespan.
    Solve(SolveArgs),
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Jsp,
    Fjsp,
}

#[derive(clap::Args)]
pub struct SolveArgs {
    /// The instance file.
    file: PathBuf,
    /// File format; guessed from the contents when absent.
    #[arg(long, value_enum)]
    format: Option<FormatArg>,
    /// Time budget in seconds.
    #[arg(long, default_value_t = 10.0)]
    time_limit: f64,
    /// Print one JSON object: makespan and every operation.
    #[arg(long)]
    json: bool,
    /// Seed for the search.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Search threads (default: the machine's cores, at most 2).
    #[arg(long)]
    threads: Option<usize>,
    /// A known lower bound: stop as soon as it is reached.
    #[arg(long)]
    lower_bound: Option<u64>,
    /// Iteration budget per thread (for reproducible runs); the time limit still applies.
    #[arg(long)]
    iterations: Option<u64>,
    /// Tuning: non-improving iterations before a restart.
    #[arg(long, hide = true)]
    stagnation: Option<u64>,
    /// Tuning: at most this many random moves at a restart.
    #[arg(long, hide = true)]
    perturbation: Option<u64>,
    /// Tuning: tabu tenure range, `MIN,MAX`.
    #[arg(long, hide = true, value_parser = parse_range)]
    tenure: Option<(u64, u64)>,
}

fn parse_range(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text
        .split_once(',')
        .ok_or_else(|| format!("expected `MIN,MAX`, found `{text}`"))?;
    let num = |t: &str| t.trim().parse::<u64>().map_err(|e| format!("`{t}`: {e}"));
    Ok((num(a)?, num(b)?))
}

pub fn run(cmd: ScheduleCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ScheduleCommand::Solve(args) => solve(args),
    }
}

/// JSP lines have an even count of numbers after the header; FJSP job lines start with a
/// count of operations that makes the rest add up. Good enough to pick a default.
fn guess_format(text: &str) -> Format {
    if shop::parse_jsp(text).is_ok() {
        Format::Jsp
    } else {
        Format::Fjsp
    }
}

fn solve(args: SolveArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let format = match args.format {
        Some(FormatArg::Jsp) => Format::Jsp,
        Some(FormatArg::Fjsp) => Format::Fjsp,
        None => guess_format(&text),
    };
    let instance = shop::parse(&text, format)
        .map_err(|e| anyhow::anyhow!("{}: {}", args.file.display(), e))?;
    if !(args.time_limit.is_finite() && args.time_limit >= 0.0) {
        anyhow::bail!("--time-limit must be a non-negative number of seconds");
    }
    // Leave a little room for output within the budget.
    let budget = Duration::from_secs_f64(args.time_limit).saturating_sub(Duration::from_millis(20));
    let deadline = started + budget;
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get().min(2))
            .unwrap_or(1)
    });
    let options = SolveOptions {
        seed: args.seed,
        threads,
        max_iterations: args.iterations,
        lower_bound: args.lower_bound,
        stagnation: args.stagnation,
        tenure: args.tenure,
        ..SolveOptions::default()
    };
    let options = SolveOptions {
        perturbation: args.perturbation.unwrap_or(options.perturbation),
        ..options
    };
    let solved = shop::solve(&instance, &options, &|| Instant::now() >= deadline);
    let schedule = solved.schedule;
    // Never print a schedule the independent checker refuses.
    let makespan = shop::check(&instance, &schedule)
        .map_err(|e| anyhow::anyhow!("internal error: infeasible schedule: {e}"))?;
    if args.json {
        let ops: Vec<serde_json::Value> = schedule
            .operations
            .iter()
            .map(|o| {
                serde_json::json!({
                    "job": o.job,
                    "op": o.op,
                    "machine": instance.machine_label(o.machine),
                    "start": o.start,
                    "end": o.end,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "makespan": makespan, "operations": ops })
        );
    } else {
        println!(
            "makespan {makespan} (lower bound {}, first solution {}), {} iterations, {} restarts, {} thread(s), {:.2} s",
            solved.stats.lower_bound,
            solved.stats.initial_makespan,
            solved.stats.iterations,
            solved.stats.restarts,
            threads,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(ExitCode::SUCCESS)
}
