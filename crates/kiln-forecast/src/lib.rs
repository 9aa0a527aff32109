//! `kiln-forecast`: demand forecasting for Kiln.
//!
//! - A model zoo ([`Model`]): naive, seasonal naive, SES, Holt, damped trend, ETS, Theta,
//!   MSTL with several seasons, Croston, SBA, TSB, ADIDA, IMAPA, and combinations.
//! - Automatic selection per series by rolling-origin cross-validation ([`auto`]), with the
//!   choice explained (model and its cross-validation error) and prediction intervals
//!   from the cross-validation errors.
//! - M4's accuracy measures ([`metrics`]).
//! - Configuration-aware demand ([`demand`]): product and option-value forecasts,
//!   reconciled, exploded into material needs through BOM quantities, consumed by booked
//!   orders; and hot products and option values ([`hot`]).
//!
//! Pure computation: no I/O, no threads; callers parallelise over series.

pub mod decompose;
pub mod demand;
pub mod global;
pub mod hot;
pub mod intermittent;
pub mod metrics;
mod model;
pub mod optim;
pub mod smoothing;
pub mod stl;
pub mod store;

use std::cell::{OnceCell, RefCell};
use std::collections::HashMap;

use decompose::Seasonal;
pub use model::{Model, TrendModel};
use smoothing::{Error, Trend};

/// A series being forecast, with its decompositions computed at most once.
pub struct Series<'a> {
    pub y: &'a [f64],
    /// Seasonal periods, the primary one first (may be empty).
    pub periods: &'a [usize],
    classical: OnceCell<Option<Seasonal>>,
    mstl: OnceCell<stl::Mstl>,
    global: Option<&'a global::GlobalAr>,
    /// Solutions of the ETS fits on the other rolling origins' training parts.
    hints: Option<&'a smoothing::EtsHints>,
    /// ETS(A,N,N) on MSTL's deseasonalised tail: the MSTL-ETS and MSTL-Theta models share it.
    mstl_ann: OnceCell<Option<smoothing::EtsFit>>,
    /// ADIDA's forecasts at each aggregation level (ADIDA and IMAPA share them).
    aggregated: OnceCell<Vec<f64>>,
    /// Croston's forecast (Croston and SBA share it).
    croston: OnceCell<f64>,
    /// Point forecasts already computed, by model and horizon (members of combinations).
    memo: RefCell<HashMap<(String, usize), Vec<f64>>>,
}

impl<'a> Series<'a> {
    pub fn new(y: &'a [f64], periods: &'a [usize]) -> Self {
        Self {
            y,
            periods,
            classical: OnceCell::new(),
            mstl: OnceCell::new(),
            global: None,
            hints: None,
            mstl_ann: OnceCell::new(),
            aggregated: OnceCell::new(),
            croston: OnceCell::new(),
            memo: RefCell::default(),
        }
    }

    /// With a global model fitted on the collection this series belongs to.
    pub fn with_global(mut self, g: Option<&'a global::GlobalAr>) -> Self {
        self.global = g;
        self
    }

    /// With warm starts for ETS fits, shared with the fits of similar series (the same
    /// series at other rolling origins).
    pub fn with_hints(mut self, hints: Option<&'a smoothing::EtsHints>) -> Self {
        self.hints = hints;
        self
    }

    fn primary(&self) -> usize {
        self.periods.first().copied().unwrap_or(1)
    }

    fn classical(&self) -> Option<&Seasonal> {
        self.classical
            .get_or_init(|| {
                let m = self.primary();
                if m > 1 {
                    decompose::seasonal_if_any(self.y, m)
                } else {
                    None
                }
            })
            .as_ref()
    }

    fn aggregated(&self) -> &[f64] {
        self.aggregated
            .get_or_init(|| intermittent::aggregated_forecasts(self.y))
    }

    fn mstl(&self) -> &stl::Mstl {
        self.mstl.get_or_init(|| stl::mstl(self.y, self.periods))
    }
}

fn flat(v: f64, h: usize) -> Vec<f64> {
    vec![v; h]
}

fn snaive(y: &[f64], m: usize, h: usize) -> Vec<f64> {
    let n = y.len();
    if m <= 1 || n < m {
        return flat(y[n - 1], h);
    }
    (0..h).map(|i| y[n - m + i % m]).collect()
}

fn theta_core(y: &[f64], h: usize) -> Vec<f64> {
    theta_from(
        y,
        h,
        smoothing::fit_ets(y, Error::Additive, Trend::None).as_ref(),
    )
}

/// Theta forecasts from the SES fit (`ses`) of `y`.
fn theta_from(y: &[f64], h: usize, ses: Option<&smoothing::EtsFit>) -> Vec<f64> {
    let n = y.len();
    let Some(fit) = ses.filter(|_| n >= 3) else {
        return flat(y[n - 1], h);
    };
    let (_, b) = smoothing::ols(y);
    let alpha = fit.alpha.max(1e-10);
    let tail = (1.0 - (1.0 - alpha).powi(n as i32)) / alpha;
    (0..h)
        .map(|i| fit.level + 0.5 * b * (i as f64 + tail))
        .collect()
}

fn nonseasonal(y: &[f64], h: usize, m: &TrendModel) -> Vec<f64> {
    let n = y.len();
    let fallback = || flat(y[n - 1], h);
    match m {
        TrendModel::Naive => fallback(),
        TrendModel::Ses => smoothing::fit_ets(y, Error::Additive, Trend::None)
            .map_or_else(fallback, |f| f.forecast(h)),
        TrendModel::Damped => smoothing::fit_ets(y, Error::Additive, Trend::Damped)
            .map_or_else(fallback, |f| f.forecast(h)),
        TrendModel::Ets => smoothing::auto_ets(y).map_or_else(fallback, |f| f.forecast(h)),
        TrendModel::Theta => theta_core(y, h),
    }
}

/// Point forecasts of `model` for the next `h` steps. Never panics on a non-empty series
/// of finite values; non-finite results fall back to the naive forecast.
pub fn point(model: &Model, s: &Series<'_>, h: usize) -> Vec<f64> {
    let costly = matches!(
        model,
        Model::Ses
            | Model::Holt
            | Model::Damped
            | Model::Ets
            | Model::Theta
            | Model::Mstl(_)
            | Model::Global
    );
    if !costly {
        return point_uncached(model, s, h);
    }
    let key = (model.to_string(), h);
    if let Some(f) = s.memo.borrow().get(&key) {
        return f.clone();
    }
    let f = point_uncached(model, s, h);
    s.memo.borrow_mut().insert(key, f.clone());
    f
}

fn point_uncached(model: &Model, s: &Series<'_>, h: usize) -> Vec<f64> {
    let y = s.y;
    let n = y.len();
    if n == 0 || h == 0 {
        return vec![0.0; h];
    }
    let adjusted = |f: &dyn Fn(&[f64]) -> Vec<f64>| -> Vec<f64> {
        match s.classical() {
            Some(seas) => {
                let mut out = f(&seas.remove(y));
                seas.restore(n, &mut out);
                out
            }
            None => f(y),
        }
    };
    let out = match model {
        Model::Naive => flat(y[n - 1], h),
        Model::SeasonalNaive => snaive(y, s.primary(), h),
        Model::SeasonalNaiveLong => {
            let m = s
                .periods
                .iter()
                .copied()
                .filter(|&p| p <= n)
                .max()
                .unwrap_or(1);
            snaive(y, m, h)
        }
        Model::Ses => adjusted(&|z| nonseasonal(z, h, &TrendModel::Ses)),
        Model::Holt => adjusted(&|z| {
            smoothing::fit_ets(z, Error::Additive, Trend::Additive)
                .map_or_else(|| flat(z[z.len() - 1], h), |f| f.forecast(h))
        }),
        Model::Damped => adjusted(&|z| nonseasonal(z, h, &TrendModel::Damped)),
        Model::Ets => adjusted(&|z| nonseasonal(z, h, &TrendModel::Ets)),
        Model::Theta => adjusted(&|z| theta_core(z, h)),
        Model::Mstl(tm) => {
            let d = s.mstl();
            // the deseasonalised series' recent behaviour decides its trend: fit on the
            // last four longest seasons at most
            let keep = 4 * d.periods.last().copied().unwrap_or(1).max(24);
            let ds = &d.deseasonalised[d.deseasonalised.len().saturating_sub(keep)..];
            let ann = || {
                s.mstl_ann
                    .get_or_init(|| {
                        smoothing::fit_hinted(ds, Error::Additive, Trend::None, s.hints)
                    })
                    .clone()
            };
            let mut out = match tm {
                // Additive errors only: on M4 Hourly the multiplicative models changed
                // OWA by less than 0.001 and cost 40% of the time.
                TrendModel::Ets => {
                    smoothing::auto_ets_hinted(ds, &[Error::Additive], s.hints, Some(ann()))
                        .map_or_else(|| flat(ds[ds.len() - 1], h), |f| f.forecast(h))
                }
                TrendModel::Theta => theta_from(ds, h, ann().as_ref()),
                _ => nonseasonal(ds, h, tm),
            };
            for (p, seas) in d.periods.iter().zip(&d.seasonals) {
                for (i, v) in out.iter_mut().enumerate() {
                    *v += seas[n - p + i % p];
                }
            }
            out
        }
        Model::Global => s
            .global
            .and_then(|g| g.predict(y, h))
            .unwrap_or_else(|| snaive(y, s.primary(), h)),
        Model::Croston => flat(*s.croston.get_or_init(|| intermittent::croston(y)), h),
        Model::CrostonOptimized => flat(intermittent::croston_optimized(y), h),
        Model::Sba => flat(
            0.95 * *s.croston.get_or_init(|| intermittent::croston(y)),
            h,
        ),
        Model::Tsb => flat(intermittent::tsb(y, 0.1, 0.1), h),
        Model::Adida => flat(intermittent::adida_from(s.aggregated()), h),
        Model::Imapa => flat(intermittent::imapa_from(s.aggregated()), h),
        Model::Median(ms) | Model::Mean(ms) => {
            let fs: Vec<Vec<f64>> = ms.iter().map(|m| point(m, s, h)).collect();
            let median = matches!(model, Model::Median(_));
            (0..h)
                .map(|i| {
                    let mut col: Vec<f64> = fs.iter().map(|f| f[i]).collect();
                    if median {
                        median_of(&mut col)
                    } else {
                        col.iter().sum::<f64>() / col.len() as f64
                    }
                })
                .collect()
        }
    };
    if out.iter().all(|v| v.is_finite()) {
        out
    } else {
        flat(y[n - 1], h)
    }
}

fn median_of(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let k = v.len();
    if k % 2 == 1 {
        v[k / 2]
    } else {
        0.5 * (v[k / 2 - 1] + v[k / 2])
    }
}

/// Forecasts of one model for one series: `point` on a fresh [`Series`].
pub fn forecast(model: &Model, y: &[f64], periods: &[usize], h: usize) -> Vec<f64> {
    point(model, &Series::new(y, periods), h)
}

/// Options of automatic selection.
#[derive(Clone, Debug)]
pub struct AutoOptions {
    /// Rolling origins (validation windows of `h` each, the last one ending at the last
    /// observation).
    pub windows: usize,
    /// Candidates; empty means [`default_candidates`].
    pub candidates: Vec<Model>,
    /// Coverage of the prediction intervals, e.g. 0.95.
    pub level: f64,
}

impl Default for AutoOptions {
    fn default() -> Self {
        Self {
            windows: 2,
            candidates: Vec::new(),
            level: 0.95,
        }
    }
}

/// A candidate's cross-validation error.
#[derive(Clone, Debug)]
pub struct CvScore {
    pub model: String,
    /// Mean over the windows of MASE (scaled by the training part's seasonal naive error).
    pub mase: f64,
    /// Mean over the windows of sMAPE.
    pub smape: f64,
    /// Mean over the windows of RMSSE (root mean squared error scaled by the training
    /// part's one-step naive error, as M5 scored).
    pub rmsse: f64,
    /// The selection criterion's value: `mase`, or `rmsse` for intermittent series
    /// (absolute errors favour forecasting zero there).
    pub error: f64,
}

/// A forecast with its explanation.
#[derive(Clone, Debug)]
pub struct Forecast {
    pub model: String,
    pub mean: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
    pub level: f64,
    /// Cross-validation windows used (0 when the series was too short).
    pub windows: usize,
    /// `MASE`, or `RMSSE` for intermittent series.
    pub criterion: &'static str,
    /// Cross-validation error of the chosen model, and of every candidate (best first).
    pub cv: Vec<CvScore>,
}

/// Whether a series is intermittent: at least a third of its values are zero.
pub fn is_intermittent(y: &[f64]) -> bool {
    let zeros = y.iter().filter(|&&v| v == 0.0).count();
    !y.is_empty() && zeros * 3 >= y.len()
}

/// The candidates for a series: intermittent models for intermittent demand; otherwise
/// the smooth and seasonal models and their combinations.
pub fn default_candidates(y: &[f64], periods: &[usize]) -> Vec<Model> {
    if is_intermittent(y) {
        return vec![
            Model::Croston,
            Model::Sba,
            Model::Tsb,
            Model::Adida,
            Model::Imapa,
            Model::Naive,
        ];
    }
    let mut c = vec![Model::Naive, Model::Ses, Model::Theta, Model::Damped];
    if periods.iter().any(|&p| p > 1 && 2 * p < y.len()) {
        // ETS on classically deseasonalised data is in the zoo but not here: on M4 Hourly
        // it was chosen for 3% of the series and cost a quarter of the time.
        c = vec![
            Model::SeasonalNaive,
            Model::Theta,
            Model::Mstl(TrendModel::Ets),
            Model::Mstl(TrendModel::Theta),
        ];
        if periods.len() > 1 {
            c.push(Model::SeasonalNaiveLong);
        }
        c.push(Model::Median(c.clone()));
    }
    c
}

/// Candidates added when a global model is available.
pub fn global_candidates() -> Vec<Model> {
    vec![
        Model::Global,
        Model::Median(vec![
            Model::Global,
            Model::Mstl(TrendModel::Theta),
            Model::SeasonalNaive,
        ]),
        Model::Mean(vec![Model::Global, Model::Mstl(TrendModel::Theta)]),
    ]
}

pub(crate) fn z_for(level: f64) -> f64 {
    // inverse normal CDF (Acklam's rational approximation)
    let p = 0.5 + level.clamp(0.0, 0.999_999) / 2.0;
    let a = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    let b = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    let c = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549671010739435,
        4.374664141464968,
        2.938163982698783,
    ];
    let d = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    if p > 0.97575 {
        let q = (-2.0 * (1.0 - p).ln()).sqrt();
        -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
            / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0)
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
    }
}

/// Chooses a model per series by rolling-origin cross-validation (lowest mean MASE over
/// the windows), forecasts with it on the whole series, and gives prediction intervals
/// from its cross-validation errors at each step ahead.
pub fn auto(y: &[f64], periods: &[usize], h: usize, opts: &AutoOptions) -> Forecast {
    auto_with_global(y, periods, h, opts, &[])
}

/// Fits the global model once per rolling origin of [`auto`] (index 0: on the whole
/// series; index k: with the last k * h observations of every series held out), the
/// windows the origins share accumulated once ([`global::GlobalAccumulator`]).
pub fn fit_global_origins(
    series: &[&[f64]],
    h: usize,
    windows: usize,
    o: &global::GlobalOptions,
) -> Vec<Option<global::GlobalAr>> {
    let mut acc = global::GlobalAccumulator::new(h, windows + 1, o);
    for y in series {
        acc.add(y);
    }
    acc.finish()
}

/// The global model for one rolling origin (see [`fit_global_origins`]).
pub fn fit_global_origin(
    series: &[&[f64]],
    h: usize,
    k: usize,
    o: &global::GlobalOptions,
) -> Option<global::GlobalAr> {
    let cut: Vec<&[f64]> = series
        .iter()
        .filter(|y| y.len() > k * h)
        .map(|y| &y[..y.len() - k * h])
        .collect();
    global::GlobalAr::fit(&cut, h, o)
}

/// [`auto`] with global models per rolling origin (from [`fit_global_origins`]); with
/// them the candidates include [`Model::Global`] and combinations with it.
pub fn auto_with_global(
    y: &[f64],
    periods: &[usize],
    h: usize,
    opts: &AutoOptions,
    globals: &[Option<global::GlobalAr>],
) -> Forecast {
    let has_global = globals
        .first()
        .is_some_and(|g| g.as_ref().is_some_and(|g| y.len() >= g.lags));
    let candidates = if opts.candidates.is_empty() {
        let mut c = default_candidates(y, periods);
        if has_global && !is_intermittent(y) {
            c.extend(global_candidates());
        }
        c
    } else {
        opts.candidates.clone()
    };
    let global_at = |k: usize| globals.get(k).and_then(|g| g.as_ref());
    let n = y.len();
    let m = periods.first().copied().unwrap_or(1);
    // windows whose training part keeps at least two primary seasons (or 8 points)
    let min_train = (2 * m + 1).max(8);
    let windows = (1..=opts.windows)
        .take_while(|&k| n >= k * h + min_train)
        .count();
    let mut errs: Vec<Vec<Vec<f64>>> = vec![Vec::new(); candidates.len()]; // [cand][window][step]
    let mut scores: Vec<(f64, f64, f64)> = vec![(0.0, 0.0, 0.0); candidates.len()];
    let intermittent = is_intermittent(y);
    // oldest origin first, each warm-starting the next one's ETS fits
    let hints = smoothing::EtsHints::default();
    for k in (1..=windows).rev() {
        let cut = n - k * h;
        let train = &y[..cut];
        let test = &y[cut..cut + h];
        let series = Series::new(train, periods)
            .with_global(global_at(k))
            .with_hints(Some(&hints));
        let (mase_scale, rmsse_scale) =
            (metrics::mase_scale(train, m), metrics::rmsse_scale(train));
        for (ci, model) in candidates.iter().enumerate() {
            let f = point(model, &series, h);
            let e: Vec<f64> = test.iter().zip(&f).map(|(a, b)| a - b).collect();
            let mase = metrics::mase_scaled(test, &f, mase_scale);
            scores[ci].0 += if mase.is_finite() { mase } else { 1e9 };
            scores[ci].1 += metrics::smape(test, &f);
            let rmsse = metrics::rmsse_scaled(test, &f, rmsse_scale);
            scores[ci].2 += if rmsse.is_finite() { rmsse } else { 1e9 };
            errs[ci].push(e);
        }
    }
    let best = if windows == 0 {
        // too short to validate: the first candidate that applies
        0
    } else {
        (0..candidates.len())
            .min_by(|&a, &b| {
                if intermittent {
                    scores[a].2.total_cmp(&scores[b].2)
                } else {
                    scores[a].0.total_cmp(&scores[b].0)
                }
            })
            .unwrap_or(0)
    };
    let model = &candidates[best];
    let mean = point(
        model,
        &Series::new(y, periods)
            .with_global(global_at(0))
            .with_hints(Some(&hints)),
        h,
    );
    // per-step spread from the chosen model's CV errors, non-decreasing in the horizon
    let z = z_for(opts.level);
    let mut sd = vec![0.0; h];
    if windows > 0 {
        let mut run = 0.0f64;
        for (i, s) in sd.iter_mut().enumerate() {
            let ms: f64 = errs[best].iter().map(|e| e[i] * e[i]).sum::<f64>() / windows as f64;
            run = run.max(ms.sqrt());
            *s = run;
        }
    } else {
        let diffs: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
        let s1 = if diffs.is_empty() {
            0.0
        } else {
            (diffs.iter().map(|d| d * d).sum::<f64>() / diffs.len() as f64).sqrt()
        };
        for (i, s) in sd.iter_mut().enumerate() {
            *s = s1 * ((i + 1) as f64).sqrt();
        }
    }
    let nonneg = y.iter().all(|&v| v >= 0.0);
    let lower = mean
        .iter()
        .zip(&sd)
        .map(|(f, s)| {
            if nonneg {
                (f - z * s).max(0.0)
            } else {
                f - z * s
            }
        })
        .collect();
    let upper = mean.iter().zip(&sd).map(|(f, s)| f + z * s).collect();
    let mut cv: Vec<CvScore> = if windows == 0 {
        Vec::new()
    } else {
        candidates
            .iter()
            .zip(&scores)
            .map(|(c, s)| CvScore {
                model: c.to_string(),
                mase: s.0 / windows as f64,
                smape: s.1 / windows as f64,
                rmsse: s.2 / windows as f64,
                error: if intermittent { s.2 } else { s.0 } / windows as f64,
            })
            .collect()
    };
    cv.sort_by(|a, b| a.error.total_cmp(&b.error));
    Forecast {
        model: model.to_string(),
        mean,
        lower,
        upper,
        level: opts.level,
        windows,
        criterion: if intermittent { "RMSSE" } else { "MASE" },
        cv,
    }
}
