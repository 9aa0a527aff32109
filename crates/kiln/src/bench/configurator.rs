//! `kiln bench configurator`: shopper sessions on a model, timed step by
//! step. Each session sets options one at a time; after each step the engine
//! computes every valid domain and explains one disabled value of the next
//! option.
//!
//! The sessions are either real sales (`--sessions`: every line is a valid
//! configuration, replayed in file order, so a value the engine did not
//! offer before it was set is a refusal, i.e. a bug) or random (`--random N`
//! for models without sales: each session takes the choice options in a
//! random order, up to `--steps`, and picks a random value among those
//! offered, as a shopper exploring would).
//!
//! A step is timed as a session sees it: setting the selection on the
//! session's resolved state and computing the available values of every
//! option (`Configurator::set` + `Configurator::available`). Rendering value
//! names for display is not part of it; `--configure` also times the whole
//! outcome a storefront panel shows (`Configurator::configure`: prices and a
//! reason for every unavailable value).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use kiln_configure::{Configurator, Selections};
use serde_json::json;

use super::rng::Rng;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["sessions", "random"])))]
pub struct ConfiguratorArgs {
    /// The model: .toml, .xml (XCSP 2.1) or .cnf/.dimacs.
    file: PathBuf,
    /// Sales file: first line the option ids, then one configuration a line.
    #[arg(long)]
    sessions: Option<PathBuf>,
    /// Instead of sales: N random sessions (see --steps, --seed).
    #[arg(long, value_name = "N")]
    random: Option<usize>,
    /// Random sessions: at most this many selections each (default: every
    /// choice option).
    #[arg(long, value_name = "K")]
    steps: Option<usize>,
    /// Random sessions: the seed that names them.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Replay only the first N sales sessions.
    #[arg(long)]
    limit: Option<usize>,
    /// Also time `configure` (the storefront panel's whole outcome) per step.
    #[arg(long)]
    configure: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// One step of a session: the option (its index) and the value to set, or
/// `None` for a random value among those offered.
type Step<'a> = (usize, Option<&'a str>);

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
    let mut rng = Rng(args.seed);
    let text = match &args.sessions {
        Some(path) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        None => String::new(),
    };
    let sessions = match (&args.sessions, args.random) {
        (Some(_), _) => sales(&cfg, &text, args.limit)?,
        (None, n) => random_sessions(&cfg, n.unwrap_or(0), args.steps, &mut rng),
    };
    let (mut steps, mut explain_us, mut configure_us) = (Vec::new(), Vec::new(), Vec::new());
    let mut refused = 0u64;
    let mut first_refusal = None;
    for (n, session) in sessions.iter().enumerate() {
        let mut sel = Selections::new();
        let mut state = cfg.state(&sel)?;
        // Before the first step: what the model itself allows.
        let mut offered = cfg.available(&state);
        for (k, (i, given)) in session.iter().enumerate() {
            let opt = &product.options[*i];
            let values = opt.kind.values();
            let value = match given {
                Some(v) => (*v).to_owned(),
                None => {
                    let avail: Vec<usize> = offered
                        .as_ref()
                        .map(|d| d.values(*i).collect())
                        .unwrap_or_default();
                    if avail.is_empty() {
                        // Exact domains never leave an option with nothing.
                        refused += 1;
                        first_refusal.get_or_insert_with(|| {
                            format!(
                                "session {} step {}: nothing offered for {}",
                                n + 1,
                                k + 1,
                                opt.id
                            )
                        });
                        break;
                    }
                    values[rng.pick(&avail)].id.clone()
                }
            };
            // The value must have been offered after the previous step.
            let position = values.iter().position(|v| v.id == value);
            let ok = offered
                .as_ref()
                .zip(position)
                .is_some_and(|(d, x): (&kiln_configure::Available, usize)| d.contains(*i, x));
            if !ok {
                refused += 1;
                first_refusal.get_or_insert_with(|| {
                    format!("session {} step {}: {}={value}", n + 1, k + 1, opt.id)
                });
            }
            sel.insert(opt.id.clone(), value.clone());
            let t = Instant::now();
            cfg.set(&mut state, &opt.id, &value)?;
            let d = cfg.available(&state);
            steps.push(t.elapsed().as_micros() as u64);
            if args.configure {
                let t = Instant::now();
                let _ = cfg.configure(&sel)?;
                configure_us.push(t.elapsed().as_micros() as u64);
            }
            // One explanation: the first disabled value of the next option.
            if let (Some(d), Some((next, _))) = (&d, session.get(k + 1)) {
                let opt = &product.options[*next];
                if let Some(x) = (0..opt.kind.values().len()).find(|&x| !d.contains(*next, x)) {
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
    configure_us.sort_unstable();
    let out = json!({
        "model": args.file.display().to_string(),
        "sessions": sessions.len(),
        "source": if args.sessions.is_some() { "sales".to_string() } else { format!("random, seed {}", args.seed) },
        "load_ms": (load_ms * 10.0).round() / 10.0,
        "steps": steps.len(),
        "step_p50_us": pct(&steps, 0.5),
        "step_p99_us": pct(&steps, 0.99),
        "step_max_us": steps.last().copied().unwrap_or(0),
        "explanations": explain_us.len(),
        "explain_p99_us": pct(&explain_us, 0.99),
        "refused": refused,
        "configure_p99_us": if args.configure { json!(pct(&configure_us, 0.99)) } else { json!(null) },
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

/// The sales file's sessions: its header names the options (ids or aliases).
fn sales<'a>(
    cfg: &Configurator,
    text: &'a str,
    limit: Option<usize>,
) -> anyhow::Result<Vec<Vec<Step<'a>>>> {
    let mut lines = text.lines();
    let names: Vec<&str> = lines
        .next()
        .context("empty sales file")?
        .split_whitespace()
        .collect();
    let index: Vec<usize> = names
        .iter()
        .map(|n| {
            cfg.find_option(n)
                .with_context(|| format!("the model has no option `{n}`"))
        })
        .collect::<anyhow::Result<_>>()?;
    lines
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .take(limit.unwrap_or(usize::MAX))
        .map(|(n, l)| {
            let row: Vec<&str> = l.split_whitespace().collect();
            anyhow::ensure!(
                row.len() == names.len(),
                "sales line {} has {} values for {} options",
                n + 2,
                row.len(),
                names.len()
            );
            Ok(index.iter().zip(row).map(|(&i, v)| (i, Some(v))).collect())
        })
        .collect()
}

/// `n` random sessions: the choice and colour options in a random order, at
/// most `steps` of them, each to take a random offered value.
fn random_sessions(
    cfg: &Configurator,
    n: usize,
    steps: Option<usize>,
    rng: &mut Rng,
) -> Vec<Vec<Step<'static>>> {
    let choices: Vec<usize> = cfg
        .product()
        .options
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.kind.values().is_empty())
        .map(|(i, _)| i)
        .collect();
    (0..n)
        .map(|_| {
            let mut order = choices.clone();
            // Fisher-Yates, only as far as the session goes.
            let len = steps.unwrap_or(order.len()).min(order.len());
            for k in 0..len {
                let j = k + rng.below(order.len() - k);
                order.swap(k, j);
            }
            order.truncate(len);
            order.into_iter().map(|i| (i, None)).collect()
        })
        .collect()
}
