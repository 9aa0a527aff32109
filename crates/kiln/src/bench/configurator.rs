//! `kiln bench configurator`: replay real sales configurations as shopper
//! sessions. Each line sets its options one by one in file order; after each
//! step the engine computes every valid domain and explains one disabled
//! value. A value the engine did not offer before it was set is a refusal:
//! every sales line is a valid configuration, so any refusal is a bug.
//!
//! A step is timed as a session sees it: setting the selection on the
//! session's resolved state and computing the available values of every
//! option (`Configurator::set` + `Configurator::available`). Rendering value
//! names for display is not part of it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use kiln_configure::{Configurator, Selections};
use serde_json::json;

#[derive(clap::Args)]
pub struct ConfiguratorArgs {
    /// The model: .toml, .xml (XCSP 2.1) or .cnf/.dimacs.
    file: PathBuf,
    /// Sales file: first line the option ids, then one configuration a line.
    #[arg(long)]
    sessions: PathBuf,
    /// Replay only the first N sessions.
    #[arg(long)]
    limit: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let k = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[k - 1]
}

/// Peak resident memory of this process in KiB (Linux), 0 where unknown.
fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|x| x.parse().ok()))
        })
        .unwrap_or(0)
}

pub fn run(args: ConfiguratorArgs) -> anyhow::Result<ExitCode> {
    let t0 = Instant::now();
    let product = crate::model::load(&args.file)?;
    let cfg = Configurator::new(&product);
    let load_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let sales = std::fs::read_to_string(&args.sessions)
        .with_context(|| format!("reading {}", args.sessions.display()))?;
    let mut lines = sales.lines();
    let names: Vec<&str> = lines
        .next()
        .context("empty sales file")?
        .split_whitespace()
        .collect();
    let rows: Vec<Vec<&str>> = lines
        .filter(|l| !l.trim().is_empty())
        .take(args.limit.unwrap_or(usize::MAX))
        .map(|l| l.split_whitespace().collect())
        .collect();
    let index: Vec<usize> = names
        .iter()
        .map(|n| {
            cfg.find_option(n)
                .with_context(|| format!("the model has no option `{n}`"))
        })
        .collect::<anyhow::Result<_>>()?;
    let (mut steps, mut explain_us) = (Vec::new(), Vec::new());
    let mut refused = 0u64;
    let mut first_refusal = None;
    for (n, row) in rows.iter().enumerate() {
        anyhow::ensure!(
            row.len() == names.len(),
            "sales line {} has {} values for {} options",
            n + 2,
            row.len(),
            names.len()
        );
        let mut sel = Selections::new();
        let mut state = cfg.state(&sel)?;
        // Before the first step: what the model itself allows.
        let mut offered = cfg.available(&state);
        for (k, (&option, &value)) in names.iter().zip(row).enumerate() {
            let i = index[k];
            // The value must have been offered after the previous step.
            let position = product.options[i]
                .kind
                .values()
                .iter()
                .position(|v| v.id == value);
            let ok = offered
                .as_ref()
                .zip(position)
                .is_some_and(|(d, x): (&kiln_configure::Available, usize)| d.contains(i, x));
            if !ok {
                refused += 1;
                first_refusal.get_or_insert_with(|| {
                    format!("session {} step {}: {option}={value}", n + 1, k + 1)
                });
            }
            sel.insert(option.to_owned(), value.to_owned());
            let t = Instant::now();
            cfg.set(&mut state, option, value)?;
            let d = cfg.available(&state);
            steps.push(t.elapsed().as_micros() as u64);
            // One explanation: the first disabled value of the next option.
            if let (Some(d), Some(&next)) = (&d, index.get(k + 1)) {
                let opt = &product.options[next];
                if let Some(x) = (0..opt.kind.values().len()).find(|&x| !d.contains(next, x)) {
                    let t = Instant::now();
                    let _ = cfg.explain(&sel, &opt.id, &opt.kind.values()[x].id)?;
                    explain_us.push(t.elapsed().as_micros() as u64);
                }
            }
            offered = d;
        }
    }
    steps.sort_unstable();
    explain_us.sort_unstable();
    let out = json!({
        "model": args.file.display().to_string(),
        "sessions": rows.len(),
        "load_ms": (load_ms * 10.0).round() / 10.0,
        "steps": steps.len(),
        "step_p50_us": pct(&steps, 0.5),
        "step_p99_us": pct(&steps, 0.99),
        "step_max_us": steps.last().copied().unwrap_or(0),
        "explanations": explain_us.len(),
        "explain_p99_us": pct(&explain_us, 0.99),
        "refused": refused,
        "peak_rss_mib": peak_rss_kib() / 1024,
    });
    if args.json {
        println!("{out}");
    } else {
        for (k, v) in out.as_object().expect("object") {
            println!("{k}: {v}");
        }
        if let Some(r) = &first_refusal {
            println!("first refusal: {r}");
        }
    }
    Ok(if refused > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
