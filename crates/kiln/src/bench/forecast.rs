//! `kiln bench forecast`: accuracy and speed of the forecasting engine.
//!
//! - `m4`: every model asked for on an M4 frequency, scored exactly as M4 scored
//!   (sMAPE, MASE against the in-sample seasonal naive error, OWA against Naive2).
//! - `intermittent`: a generated catalog of intermittent weekly series (default one
//!   million, 104 weeks each), forecast 12 weeks ahead with the intermittent models.
//! - `hot`: on a retailer's order lines (the UCI Online Retail layout), how precisely the
//!   first week of each month predicts the month's top 20 products by quantity, against
//!   last month's top 20.

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
    /// Hot products: precision@20 of the first week's signal for the month's top 20.
    Hot(HotArgs),
}

#[derive(clap::Args)]
pub struct HotArgs {
    /// Order lines, UCI Online Retail layout (InvoiceNo,StockCode,Description,Quantity,
    /// InvoiceDate,UnitPrice,CustomerID,Country); `.gz` is read through `gzip -dc`.
    #[arg(long)]
    retail: PathBuf,
    /// Size of the top list.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// Days of the month seen before predicting.
    #[arg(long, default_value_t = 7)]
    days: usize,
    /// Bound of the demand-sensing factor (the first days' actual over forecast).
    #[arg(long, default_value_t = 3.0)]
    max_factor: f64,
    #[arg(long)]
    threads: Option<usize>,
    #[arg(long)]
    json: bool,
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
        ForecastBench::Hot(a) => hot(a),
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

/// The text of a file, decompressed through `gzip -dc` when it ends in `.gz`.
fn read_maybe_gzip(path: &std::path::Path) -> anyhow::Result<String> {
    use anyhow::Context;
    if path.extension().is_some_and(|e| e == "gz") {
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(path)
            .output()
            .with_context(|| format!("running gzip -dc {}", path.display()))?;
        if !out.status.success() {
            bail!(
                "gzip -dc {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        String::from_utf8(out.stdout).with_context(|| format!("{} is not UTF-8", path.display()))
    } else {
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
    }
}

/// Daily quantities per product (StockCode) of a retailer's order lines: cancellations
/// (invoices starting with `C`), returns (quantity 0 or less) and non-product codes
/// (postage, fees, manual adjustments: codes not starting with five digits) left out.
struct Retail {
    first_day: i64,
    codes: Vec<String>,
    /// `daily[code][day - first_day]`
    daily: Vec<Vec<f64>>,
}

fn read_retail(path: &std::path::Path) -> anyhow::Result<Retail> {
    use kiln_forecast::demand::parse_date;
    let text = read_maybe_gzip(path)?;
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut codes = Vec::new();
    let mut rows: Vec<(usize, i64, f64)> = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let ln = i + 1;
        let f = crate::forecast::split_csv(line)
            .map_err(|e| anyhow::anyhow!("{}: line {ln}: {e}", path.display()))?;
        if f.len() < 6 {
            bail!(
                "{}: line {ln}: {} fields, expected 8",
                path.display(),
                f.len()
            );
        }
        let (invoice, code, qty, date) = (f[0].trim(), f[1].trim(), f[3].trim(), f[4].trim());
        let qty: f64 = qty.parse().map_err(|_| {
            anyhow::anyhow!(
                "{}: line {ln}: quantity `{qty}` is not a number",
                path.display()
            )
        })?;
        let day = parse_date(date).ok_or_else(|| {
            anyhow::anyhow!("{}: line {ln}: `{date}` is not a date", path.display())
        })?;
        let product = code.len() >= 5 && code.as_bytes()[..5].iter().all(u8::is_ascii_digit);
        if invoice.starts_with('C') || qty <= 0.0 || !product {
            continue;
        }
        let c = *index.entry(code.to_string()).or_insert_with(|| {
            codes.push(code.to_string());
            codes.len() - 1
        });
        rows.push((c, day, qty));
    }
    let Some(first_day) = rows.iter().map(|r| r.1).min() else {
        bail!("{}: no product order lines", path.display());
    };
    let last_day = rows.iter().map(|r| r.1).max().unwrap_or(first_day);
    let len = (last_day - first_day + 1) as usize;
    let mut daily = vec![vec![0.0; len]; codes.len()];
    for (c, d, q) in rows {
        daily[c][(d - first_day) as usize] += q;
    }
    Ok(Retail {
        first_day,
        codes,
        daily,
    })
}

/// Indices of the `k` largest totals (ties by index), largest first.
fn top_k(totals: &[f64], k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..totals.len()).filter(|&i| totals[i] > 0.0).collect();
    idx.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
    idx.truncate(k);
    idx
}

fn hot(a: HotArgs) -> anyhow::Result<ExitCode> {
    use kiln_forecast::demand::{Bucket, format_date};
    use kiln_forecast::hot::{HotOptions, assess};
    let t = Instant::now();
    let r = read_retail(&a.retail)?;
    let read_s = t.elapsed().as_secs_f64();
    let len = r.daily.first().map_or(0, Vec::len);
    let last_day = r.first_day + len as i64 - 1;
    let first_month = Bucket::Month.of(r.first_day);
    let last_month = Bucket::Month.of(last_day);
    let k = a.top;
    let t = Instant::now();
    let mut months = Vec::new();
    let (mut hits_signal, mut hits_base, mut hits_rate, mut total) =
        (0usize, 0usize, 0usize, 0usize);
    let (mut new_total, mut new_caught) = (0usize, 0usize);
    // months with a whole month before them and wholly inside the data
    for m in first_month + 1..=last_month {
        let (start, end) = (Bucket::Month.start(m), Bucket::Month.start(m + 1));
        let prev = Bucket::Month.start(m - 1);
        if prev < r.first_day || end - 1 > last_day {
            continue;
        }
        let at = |d: i64| (d - r.first_day) as usize;
        let sum =
            |c: usize, from: i64, to: i64| -> f64 { r.daily[c][at(from)..at(to)].iter().sum() };
        let n = r.codes.len();
        let truth = top_k(&(0..n).map(|c| sum(c, start, end)).collect::<Vec<_>>(), k);
        let baseline = top_k(&(0..n).map(|c| sum(c, prev, start)).collect::<Vec<_>>(), k);
        let cutoff = start + a.days as i64;
        let rate = top_k(
            &(0..n)
                .map(|c| sum(c, start, cutoff) * (end - start) as f64 / a.days as f64)
                .collect::<Vec<_>>(),
            k,
        );
        // products sold in the four weeks before the cut-off: the rest cannot be near the top
        let active: Vec<usize> = (0..n)
            .filter(|&c| sum(c, cutoff - 28, cutoff) > 0.0)
            .collect();
        let o = HotOptions {
            recent: a.days,
            season: vec![7],
            ahead: (end - cutoff) as usize,
            max_factor: a.max_factor,
            ..Default::default()
        };
        let assessed = par_map(&active, a.threads, None, |&c| {
            let y = &r.daily[c][..at(cutoff)];
            assess(&r.codes[c], y, &o).map(|x| (c, x))
        });
        let mut predicted = vec![0.0; n];
        let mut flagged = 0;
        for (c, x) in assessed.into_iter().flatten() {
            predicted[c] = x.actual_total + x.sensed.iter().sum::<f64>();
            flagged += usize::from(x.hot);
        }
        let signal = top_k(&predicted, k);
        let hits = |l: &[usize]| l.iter().filter(|c| truth.contains(c)).count();
        let (hs, hb, hr) = (hits(&signal), hits(&baseline), hits(&rate));
        // products entering the top list this month: the baseline cannot have them
        let entrants: Vec<usize> = truth
            .iter()
            .copied()
            .filter(|c| !baseline.contains(c))
            .collect();
        let caught = entrants.iter().filter(|c| signal.contains(c)).count();
        new_total += entrants.len();
        new_caught += caught;
        hits_signal += hs;
        hits_base += hb;
        hits_rate += hr;
        total += truth.len();
        months.push(json!({"month": &format_date(start)[..7], "signal": hs, "baseline": hb,
            "run_rate": hr, "of": truth.len(), "entrants": entrants.len(), "entrants_caught": caught,
            "hot_flags": flagged, "assessed": active.len()}));
    }
    let secs = t.elapsed().as_secs_f64();
    if total == 0 {
        bail!("no month with a whole month before it in the data");
    }
    let p = |h: usize| (h as f64 / total as f64 * 1000.0).round() / 1000.0;
    let out = json!({"products": r.codes.len(), "months": months.len(), "top": k, "days_seen": a.days,
        "ranking": "quantity", "precision_signal": p(hits_signal), "precision_baseline": p(hits_base),
        "precision_run_rate": p(hits_rate), "entrants": new_total, "entrants_caught": new_caught, "read_s": (read_s * 100.0).round() / 100.0,
        "seconds": (secs * 100.0).round() / 100.0, "by_month": months});
    if a.json {
        println!("{out}");
    } else {
        for m in &months {
            println!(
                "{}  signal {:>2}/{}  baseline {:>2}/{}  run rate {:>2}/{}  new in the top {k}: {} caught of {}  ({} hot of {} assessed)",
                m["month"].as_str().unwrap_or(""),
                m["signal"],
                m["of"],
                m["baseline"],
                m["of"],
                m["run_rate"],
                m["of"],
                m["entrants_caught"],
                m["entrants"],
                m["hot_flags"],
                m["assessed"]
            );
        }
        println!(
            "precision@{k} over {} months (top {k} by quantity, {} days of each month seen): signal {:.3}, last month's top {k} {:.3}, first-week run rate {:.3}; products new in the top {k}: the signal caught {new_caught} of {new_total}  ({secs:.1} s, read {read_s:.1} s)",
            months.len(),
            a.days,
            p(hits_signal),
            p(hits_base),
            p(hits_rate)
        );
    }
    Ok(ExitCode::SUCCESS)
}
