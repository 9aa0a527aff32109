//! `kiln forecast FILE`: forecasts for every series of a CSV file, each with its model
//! chosen by rolling-origin cross-validation (or the model given), with prediction
//! intervals. CSV reading and the parallel runner live here; the models live in
//! `kiln-forecast`.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use anyhow::{Context, bail};
use kiln_forecast::{AutoOptions, Forecast, Model};

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// `id,date,value` rows, one observation each.
    Long,
    /// M4's wide layout: a header, then per series the id and its values.
    M4,
}

#[derive(clap::Args)]
pub struct ForecastArgs {
    /// The CSV file.
    file: PathBuf,
    /// Steps ahead to forecast.
    #[arg(long)]
    horizon: usize,
    /// Seasonal period(s), comma-separated, primary first (1 for none). A lone 24 (hourly)
    /// adds the weekly 168.
    #[arg(long, default_value = "1", value_delimiter = ',')]
    season: Vec<usize>,
    /// `auto` (choose per series by cross-validation) or a model name, e.g. `mstl`,
    /// `theta`, `croston`, `median(snaive+theta+mstl)`.
    #[arg(long, default_value = "auto")]
    model: String,
    /// Input layout.
    #[arg(long, value_enum, default_value_t = InputFormat::Long)]
    format: InputFormat,
    /// Print CSV (the default): M4's layout with `--format m4`, else
    /// `id,step,forecast,lower,upper,model,criterion,cv_error`.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Print JSON: per series the model, its cross-validation error, forecasts and intervals.
    #[arg(long)]
    json: bool,
    /// Rolling-origin cross-validation windows for `auto`.
    #[arg(long, default_value_t = 3)]
    windows: usize,
    /// Coverage of the prediction intervals.
    #[arg(long, default_value_t = 0.95)]
    level: f64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Leave out the global model learned across all the file's series.
    #[arg(long)]
    no_global: bool,
}

/// One series read from a file.
pub struct SeriesData {
    pub id: String,
    pub values: Vec<f64>,
}

/// Seasonal periods from `--season`: a lone 24 gets the weekly 168 too.
pub fn periods(season: &[usize]) -> Vec<usize> {
    let mut p: Vec<usize> = season.iter().copied().filter(|&s| s > 1).collect();
    if p == [24] {
        p.push(168);
    }
    p
}

pub fn run(args: ForecastArgs) -> anyhow::Result<ExitCode> {
    if args.horizon == 0 {
        bail!("--horizon must be at least 1");
    }
    let text = std::fs::read_to_string(&args.file)
        .with_context(|| format!("reading {}", args.file.display()))?;
    let series = match args.format {
        InputFormat::M4 => parse_wide(&text),
        InputFormat::Long => parse_long(&text),
    }
    .map_err(|e| anyhow::anyhow!("{}: {e}", args.file.display()))?;
    let periods = periods(&args.season);
    let fixed: Option<Model> = if args.model == "auto" {
        None
    } else {
        Some(args.model.parse().map_err(|e: String| anyhow::anyhow!(e))?)
    };
    let opts = AutoOptions {
        windows: args.windows,
        level: args.level,
        ..Default::default()
    };
    let h = args.horizon;
    let uses_global = !args.no_global
        && fixed
            .as_ref()
            .is_none_or(|m| m.to_string().contains("global"));
    let globals = if uses_global {
        fit_globals(&series, h, args.windows, args.threads)
    } else {
        Vec::new()
    };
    let progress = std::io::stdout()
        .is_terminal()
        .then(|| progress_bar(series.len() as u64, "forecasting"));
    let forecasts = par_map(&series, args.threads, progress.as_ref(), |s| {
        let o = match &fixed {
            None => opts.clone(),
            Some(m) => AutoOptions {
                candidates: vec![m.clone()],
                ..opts.clone()
            },
        };
        kiln_forecast::auto_with_global(&s.values, &periods, h, &o, &globals)
    });
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        let items: Vec<serde_json::Value> = series
            .iter()
            .zip(&forecasts)
            .map(|(s, f)| to_json(&s.id, f))
            .collect();
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({ "horizon": h, "periods": periods, "series": items }),
        )?;
        writeln!(out)?;
    } else if args.format == InputFormat::M4 {
        write!(out, "id")?;
        for i in 1..=h {
            write!(out, ",F{i}")?;
        }
        writeln!(out)?;
        for (s, f) in series.iter().zip(&forecasts) {
            write!(out, "{}", csv_field(&s.id))?;
            for v in &f.mean {
                write!(out, ",{v}")?;
            }
            writeln!(out)?;
        }
    } else {
        writeln!(out, "id,step,forecast,lower,upper,model,criterion,cv_error")?;
        for (s, f) in series.iter().zip(&forecasts) {
            let cv =
                f.cv.iter()
                    .find(|c| c.model == f.model)
                    .map(|c| c.error.to_string())
                    .unwrap_or_default();
            for i in 0..h {
                writeln!(
                    out,
                    "{},{},{},{},{},{},{},{}",
                    csv_field(&s.id),
                    i + 1,
                    f.mean[i],
                    f.lower[i],
                    f.upper[i],
                    csv_field(&f.model),
                    f.criterion,
                    cv
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// The global model per rolling origin (the final fit and one per validation window): the
/// series split across the worker threads, each accumulating its share of the normal
/// equations, then one solve per origin.
pub fn fit_globals(
    series: &[SeriesData],
    h: usize,
    windows: usize,
    threads: Option<usize>,
) -> Vec<Option<kiln_forecast::global::GlobalAr>> {
    use kiln_forecast::global::{GlobalAccumulator, GlobalOptions};
    let o = GlobalOptions::default();
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let parts: Vec<&[SeriesData]> = series
        .chunks(series.len().div_ceil(threads).max(1))
        .collect();
    let mut accs = par_map(&parts, Some(threads), None, |part| {
        let mut acc = GlobalAccumulator::new(h, windows + 1, &o);
        for s in *part {
            acc.add(&s.values);
        }
        acc
    });
    let Some(mut acc) = accs.pop() else {
        return Vec::new();
    };
    for other in accs {
        acc.merge(other);
    }
    acc.flush();
    let origins: Vec<usize> = (0..acc.origins()).collect();
    par_map(&origins, Some(threads), None, |&k| acc.solve(k))
}

fn to_json(id: &str, f: &Forecast) -> serde_json::Value {
    let chosen = f.cv.iter().find(|c| c.model == f.model);
    serde_json::json!({
        "id": id,
        "model": f.model,
        "cv_windows": f.windows,
        "cv_mase": chosen.map(|c| c.mase),
        "cv_smape": chosen.map(|c| c.smape),
        "cv_rmsse": chosen.map(|c| c.rmsse),
        "criterion": f.criterion,
        "candidates": f.cv.iter().map(|c| serde_json::json!({"model": c.model, "cv_mase": c.mase, "cv_smape": c.smape, "cv_rmsse": c.rmsse})).collect::<Vec<_>>(),
        "forecast": f.mean,
        "level": f.level,
        "lower": f.lower,
        "upper": f.upper,
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn progress_bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let pb = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    pb.set_style(
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} series ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// Maps `f` over `items` on `threads` worker threads (default: all cores), keeping order.
pub fn par_map<T: Sync, R: Send>(
    items: &[T],
    threads: Option<usize>,
    progress: Option<&indicatif::ProgressBar>,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, items.len().max(1));
    let next = AtomicUsize::new(0);
    let chunk = (items.len() / (threads * 64)).clamp(1, 1024);
    let results: Mutex<Vec<(usize, Vec<R>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                loop {
                    let start = next.fetch_add(chunk, Ordering::Relaxed);
                    if start >= items.len() {
                        break;
                    }
                    let end = (start + chunk).min(items.len());
                    let part: Vec<R> = items[start..end].iter().map(&f).collect();
                    if let Some(p) = progress {
                        p.inc((end - start) as u64);
                    }
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((start, part));
                }
            });
        }
    });
    let mut parts = results.into_inner().unwrap_or_else(|e| e.into_inner());
    parts.sort_by_key(|p| p.0);
    parts.into_iter().flat_map(|p| p.1).collect()
}

/// Splits one CSV line into fields (RFC 4180 quoting, no newlines inside fields).
pub(crate) fn split_csv(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && cur.trim().is_empty() && !was_quoted {
            cur.clear();
            quoted = true;
            was_quoted = true;
        } else if c == ',' {
            fields.push(std::mem::take(&mut cur));
            was_quoted = false;
        } else {
            cur.push(c);
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(cur);
    Ok(fields)
}

fn parse_number(field: &str, line: usize, column: usize) -> Result<f64, String> {
    let t = field.trim();
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(format!(
            "line {line}, column {column}: `{t}` is not a finite number"
        )),
        Err(_) => Err(format!(
            "line {line}, column {column}: `{t}` is not a number"
        )),
    }
}

fn is_missing(field: &str) -> bool {
    let t = field.trim();
    t.is_empty() || t.eq_ignore_ascii_case("na")
}

/// M4's wide layout: a header line, then `id,v1,v2,...`; rows may be shorter than the
/// header (series have different lengths) or padded with empty fields at the end, but
/// never longer than the header nor with a gap inside.
pub fn parse_wide(text: &str) -> Result<Vec<SeriesData>, String> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err("the file is empty".into());
    };
    let width = split_csv(header).map_err(|e| format!("line 1: {e}"))?.len();
    let mut out = Vec::new();
    for (i, line) in lines {
        let ln = i + 1;
        let fields = split_csv(line).map_err(|e| format!("line {ln}: {e}"))?;
        if fields.len() > width {
            return Err(format!(
                "line {ln}: ragged row: {} fields, the header has {width}",
                fields.len()
            ));
        }
        let id = fields[0].trim().to_string();
        if id.is_empty() {
            return Err(format!("line {ln}: empty series id"));
        }
        let last = fields.iter().rposition(|f| !is_missing(f)).unwrap_or(0);
        if last == 0 {
            return Err(format!("line {ln}: series `{id}` is empty"));
        }
        let mut values = Vec::with_capacity(last);
        for (j, f) in fields[1..=last].iter().enumerate() {
            if is_missing(f) {
                return Err(format!(
                    "line {ln}, column {}: missing value inside series `{id}`",
                    j + 2
                ));
            }
            values.push(parse_number(f, ln, j + 2)?);
        }
        out.push(SeriesData { id, values });
    }
    if out.is_empty() {
        return Err("no series after the header".into());
    }
    Ok(out)
}

/// Long layout: `id,date,value` rows (an optional header), grouped by id in order of first
/// appearance and sorted by date within a series (numerically when every date is a number,
/// else as text, which orders ISO 8601 dates).
pub fn parse_long(text: &str) -> Result<Vec<SeriesData>, String> {
    let mut order: Vec<String> = Vec::new();
    let mut rows: std::collections::HashMap<String, Vec<(String, f64, usize)>> =
        std::collections::HashMap::new();
    let mut first = true;
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        if line.trim().is_empty() {
            continue;
        }
        let fields = split_csv(line).map_err(|e| format!("line {ln}: {e}"))?;
        if fields.len() != 3 {
            return Err(format!(
                "line {ln}: ragged row: {} fields, expected 3 (id,date,value)",
                fields.len()
            ));
        }
        if first {
            first = false;
            if fields[2].trim().parse::<f64>().is_err() {
                continue; // header
            }
        }
        let id = fields[0].trim().to_string();
        if id.is_empty() {
            return Err(format!("line {ln}: empty series id"));
        }
        if is_missing(&fields[2]) {
            return Err(format!(
                "line {ln}, column 3: missing value for series `{id}`"
            ));
        }
        let v = parse_number(&fields[2], ln, 3)?;
        let date = fields[1].trim().to_string();
        if date.is_empty() {
            return Err(format!("line {ln}, column 2: empty date"));
        }
        let entry = rows.entry(id.clone()).or_insert_with(|| {
            order.push(id.clone());
            Vec::new()
        });
        entry.push((date, v, ln));
    }
    if order.is_empty() {
        return Err("no observations".into());
    }
    let mut out = Vec::with_capacity(order.len());
    for id in order {
        let mut obs = rows.remove(&id).unwrap_or_default();
        let numeric = obs.iter().all(|o| o.0.parse::<f64>().is_ok());
        if numeric {
            obs.sort_by(|a, b| {
                a.0.parse::<f64>()
                    .unwrap_or(0.0)
                    .total_cmp(&b.0.parse::<f64>().unwrap_or(0.0))
            });
        } else {
            obs.sort_by(|a, b| a.0.cmp(&b.0));
        }
        for w in obs.windows(2) {
            if w[0].0 == w[1].0 {
                return Err(format!(
                    "line {}: series `{id}` has date `{}` twice (first on line {})",
                    w[1].2, w[1].0, w[0].2
                ));
            }
        }
        out.push(SeriesData {
            id,
            values: obs.into_iter().map(|o| o.1).collect(),
        });
    }
    Ok(out)
}

/// Reads an M4 wide file.
pub fn read_wide(path: &Path) -> anyhow::Result<Vec<SeriesData>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse_wide(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_reads_m4_layout() {
        let s = parse_wide(
            "\"V1\",\"V2\",\"V3\",\"V4\"\n\"H1\",\"1\",\"2\",\"3\"\n\"H2\",\"4\",\"5\",\n",
        )
        .unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].id, "H1");
        assert_eq!(s[0].values, vec![1.0, 2.0, 3.0]);
        assert_eq!(s[1].values, vec![4.0, 5.0]);
    }

    #[test]
    fn wide_ragged_row_names_its_line() {
        let e = parse_wide("V1,V2,V3\nA,1,2\nB,1,2,3\n").err().unwrap();
        assert!(e.contains("line 3") && e.contains("ragged"), "{e}");
    }

    #[test]
    fn wide_text_in_number_names_line_and_column() {
        let e = parse_wide("V1,V2,V3\nA,1,2\nB,1,x\n").err().unwrap();
        assert!(
            e.contains("line 3, column 3") && e.contains("`x` is not a number"),
            "{e}"
        );
    }

    #[test]
    fn wide_empty_series_names_its_line() {
        let e = parse_wide("V1,V2,V3\nA,1,2\nB,,\n").err().unwrap();
        assert!(e.contains("line 3") && e.contains("empty"), "{e}");
    }

    #[test]
    fn wide_gap_inside_a_series_is_an_error() {
        let e = parse_wide("V1,V2,V3,V4\nA,1,,2\n").err().unwrap();
        assert!(
            e.contains("line 2, column 3") && e.contains("missing"),
            "{e}"
        );
    }

    #[test]
    fn long_reads_and_sorts_by_date() {
        let s =
            parse_long("id,date,value\na,2024-01-02,2\na,2024-01-01,1\nb,2024-01-01,5\n").unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].values, vec![1.0, 2.0]);
        assert_eq!(s[1].values, vec![5.0]);
    }

    #[test]
    fn long_errors_have_line_numbers() {
        let e = parse_long("id,date,value\na,1,2\na,2\n").err().unwrap();
        assert!(e.contains("line 3") && e.contains("ragged"), "{e}");
        let e = parse_long("id,date,value\na,1,2\na,2,abc\n").err().unwrap();
        assert!(
            e.contains("line 3, column 3") && e.contains("not a number"),
            "{e}"
        );
        let e = parse_long("id,date,value\na,1,\n").err().unwrap();
        assert!(e.contains("line 2") && e.contains("missing"), "{e}");
        let e = parse_long("id,date,value\n").err().unwrap();
        assert!(e.contains("no observations"), "{e}");
    }

    #[test]
    fn hourly_gets_weekly_season() {
        assert_eq!(periods(&[24]), vec![24, 168]);
        assert_eq!(periods(&[12]), vec![12]);
        assert_eq!(periods(&[1]), Vec::<usize>::new());
    }
}
