//! `kiln bench forecast`: accuracy and speed of the forecasting engine.
//!
//! - `m4`: every model asked for on an M4 frequency, scored exactly as M4 scored
//!   (sMAPE, MASE against the in-sample seasonal naive error, OWA against Naive2).
//! - `intermittent`: a generated catalog of intermittent weekly series (default one
//!   million, 104 weeks each), forecast 12 weeks ahead with the intermittent models.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use kiln_forecast::{AutoOptions, Model, metrics};
use serde_json::json;

use crate::forecast::{fit_globals, par_map, periods, progress_bar, read_wide};

#[derive(clap::Subcommand)]
pub enum ForecastBench {
    /// Score models on an M4 frequency (train and test files in M4's wide layout).
    M4(M4Args),
    /// Forecast a generated catalog of intermittent series with the intermittent models.
    Intermittent(IntermittentArgs),
}

#[derive(clap::Args)]
pub struct M4Args {
    /// Training file, e.g. ../shared/bench/forecasting/m4-hourly-train.csv.
    #[arg(long)]
    train: PathBuf,
    /// Test file with the actual values.
    #[arg(long)]
    test: PathBuf,
    /// Seasonal period(s); a lone 24 adds the weekly 168.
    #[arg(long, default_value = "24", value_delimiter = ',')]
    season: Vec<usize>,
    #[arg(long, default_value_t = 48)]
    horizon: usize,
    /// Models to score, comma-separated at the top level (`auto` selects per series).
    #[arg(long, default_value = "auto")]
    models: String,
    /// Naive2's sMAPE and MASE for OWA (default: the official figures for the season).
    #[arg(long, value_delimiter = ',')]
    naive2: Option<Vec<f64>>,
    /// Rolling-origin windows for `auto`.
    #[arg(long, default_value_t = 3)]
    windows: usize,
    #[arg(long)]
    threads: Option<usize>,
    /// Leave out the global model learned across all series.
    #[arg(long)]
    no_global: bool,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args)]
pub struct IntermittentArgs {
    #[arg(long, default_value_t = 1_000_000)]
    series: usize,
    /// Weeks of history per series.
    #[arg(long, default_value_t = 104)]
    length: usize,
    #[arg(long, default_value_t = 12)]
    horizon: usize,
    /// `auto` (choose among Croston, SBA, TSB, ADIDA, IMAPA and naive by
    /// cross-validation) or one model.
    #[arg(long, default_value = "auto")]
    model: String,
    /// Rolling-origin windows for `auto`.
    #[arg(long, default_value_t = 1)]
    windows: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: ForecastBench) -> anyhow::Result<ExitCode> {
    match cmd {
        ForecastBench::M4(a) => m4(a),
        ForecastBench::Intermittent(a) => intermittent(a),
    }
}

fn split_models(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    out.into_iter().map(|s| s.trim().to_string()).collect()
}

fn m4(a: M4Args) -> anyhow::Result<ExitCode> {
    let train = read_wide(&a.train)?;
    let test = read_wide(&a.test)?;
    if train.len() != test.len() {
        bail!(
            "{} series in the training file, {} in the test file",
            train.len(),
            test.len()
        );
    }
    let m = a.season.first().copied().unwrap_or(1);
    let (n2s, n2m) = match &a.naive2 {
        Some(v) if v.len() == 2 => (v[0], v[1]),
        Some(_) => bail!("--naive2 takes two numbers: sMAPE,MASE"),
        None => metrics::m4_naive2(m).unwrap_or((f64::NAN, f64::NAN)),
    };
    let periods = periods(&a.season);
    let h = a.horizon;
    let mut rows = Vec::new();
    for name in split_models(&a.models) {
        let fixed: Option<Model> = if name == "auto" {
            None
        } else {
            Some(name.parse().map_err(|e: String| anyhow::anyhow!(e))?)
        };
        let opts = AutoOptions {
            windows: a.windows,
            ..Default::default()
        };
        let pb = std::io::stdout()
            .is_terminal()
            .then(|| progress_bar(train.len() as u64, &name));
        let t = Instant::now();
        let uses_global = !a.no_global && (fixed.is_none() || name.contains("global"));
        let globals = if uses_global {
            fit_globals(&train, h, a.windows, a.threads)
        } else {
            Vec::new()
        };
        let fcs = par_map(&train, a.threads, pb.as_ref(), |s| match &fixed {
            None => {
                let f = kiln_forecast::auto_with_global(&s.values, &periods, h, &opts, &globals);
                (f.mean, f.model)
            }
            Some(model) => {
                let g = globals.first().and_then(|g| g.as_ref());
                let series = kiln_forecast::Series::new(&s.values, &periods).with_global(g);
                (kiln_forecast::point(model, &series, h), String::new())
            }
        });
        let secs = t.elapsed().as_secs_f64();
        if let Some(p) = pb {
            p.finish_and_clear();
        }
        let (mut s_sum, mut m_sum) = (0.0, 0.0);
        let mut chosen: std::collections::BTreeMap<String, usize> = Default::default();
        for ((tr, te), (f, model)) in train.iter().zip(&test).zip(&fcs) {
            let y = &te.values[..h.min(te.values.len())];
            s_sum += metrics::smape(y, f);
            m_sum += metrics::mase(&tr.values, y, f, m);
            if !model.is_empty() {
                *chosen.entry(model.clone()).or_default() += 1;
            }
        }
        let k = train.len() as f64;
        let (smape, mase) = (s_sum / k, m_sum / k);
        let owa = metrics::owa(smape, mase, n2s, n2m);
        if !a.json {
            println!(
                "{name:<48} sMAPE {smape:>7.3}  MASE {mase:>6.3}  OWA {owa:>6.3}  {secs:>7.2} s"
            );
            if !chosen.is_empty() {
                let mut c: Vec<_> = chosen.iter().collect();
                c.sort_by(|x, y| y.1.cmp(x.1));
                let txt: Vec<String> = c.iter().map(|(m, n)| format!("{m} {n}")).collect();
                println!("    chosen: {}", txt.join(", "));
            }
        }
        rows.push(json!({"model": name, "series": train.len(), "smape": round3(smape), "mase": round3(mase),
            "owa": round3(owa), "seconds": (secs * 100.0).round() / 100.0, "chosen": chosen}));
    }
    if a.json {
        println!(
            "{}",
            json!({"horizon": h, "periods": periods, "naive2": [n2s, n2m], "results": rows})
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// splitmix64: a small, fast, reproducible generator for the synthetic catalog.
fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn unit(state: &mut u64) -> f64 {
    (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64
}

/// One intermittent weekly series: demand occurs with a per-series probability
/// (0.05 to 0.6), in sizes drawn from a per-series geometric-like distribution.
fn generate(seed: u64, i: usize, len: usize, out: &mut [f64]) {
    let mut st = seed ^ (i as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    let p = 0.05 + 0.55 * unit(&mut st);
    let mean_size = 1.0 + 9.0 * unit(&mut st);
    for v in out.iter_mut().take(len) {
        *v = if unit(&mut st) < p {
            (1.0 + (-mean_size * unit(&mut st).max(1e-12).ln()).floor()).min(1e6)
        } else {
            0.0
        };
    }
}

fn intermittent(a: IntermittentArgs) -> anyhow::Result<ExitCode> {
    let fixed: Option<Model> = if a.model == "auto" {
        None
    } else {
        Some(a.model.parse().map_err(|e: String| anyhow::anyhow!(e))?)
    };
    let len = a.length;
    let t = Instant::now();
    let idx: Vec<usize> = (0..a.series).collect();
    let blocks: Vec<&[usize]> = idx.chunks(4096).collect();
    let data: Vec<Vec<f64>> = par_map(&blocks, a.threads, None, |b| {
        let mut v = vec![0.0; b.len() * len];
        for (k, &i) in b.iter().enumerate() {
            generate(a.seed, i, len, &mut v[k * len..(k + 1) * len]);
        }
        v
    });
    let gen_s = t.elapsed().as_secs_f64();
    let opts = AutoOptions {
        windows: a.windows,
        candidates: match &fixed {
            Some(m) => vec![m.clone()],
            None => vec![
                Model::Croston,
                Model::Sba,
                Model::Tsb,
                Model::Adida,
                Model::Imapa,
                Model::Naive,
            ],
        },
        ..Default::default()
    };
    let h = a.horizon;
    let pb = std::io::stdout()
        .is_terminal()
        .then(|| progress_bar(blocks.len() as u64, "blocks"));
    let t = Instant::now();
    let results: Vec<(f64, std::collections::BTreeMap<String, usize>)> =
        par_map(&data, a.threads, pb.as_ref(), |block| {
            let mut total = 0.0;
            let mut chosen: std::collections::BTreeMap<String, usize> = Default::default();
            for y in block.chunks(len) {
                let f = if fixed.is_some() && a.windows == 0 {
                    kiln_forecast::forecast(&opts.candidates[0], y, &[], h)
                } else {
                    let f = kiln_forecast::auto(y, &[], h, &opts);
                    *chosen.entry(f.model).or_default() += 1;
                    f.mean
                };
                total += f.iter().sum::<f64>();
            }
            (total, chosen)
        });
    let fc_s = t.elapsed().as_secs_f64();
    if let Some(p) = pb {
        p.finish_and_clear();
    }
    let total: f64 = results.iter().map(|r| r.0).sum();
    let mut chosen: std::collections::BTreeMap<String, usize> = Default::default();
    for (_, c) in &results {
        for (k, v) in c {
            *chosen.entry(k.clone()).or_default() += v;
        }
    }
    let out = json!({"series": a.series, "length": len, "horizon": h, "model": a.model, "windows": a.windows,
        "generate_s": (gen_s * 100.0).round() / 100.0, "forecast_s": (fc_s * 100.0).round() / 100.0,
        "series_per_s": (a.series as f64 / fc_s).round(), "total_forecast_units": total.round(), "chosen": chosen});
    if a.json {
        println!("{out}");
    } else {
        println!(
            "{} intermittent series x {len} weeks, horizon {h}, model {} ({} CV windows): generated in {gen_s:.2} s, forecast in {fc_s:.2} s ({:.0} series/s)",
            a.series,
            a.model,
            a.windows,
            a.series as f64 / fc_s
        );
        if !chosen.is_empty() {
            println!("    chosen: {chosen:?}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
