//! Exponential smoothing: simple exponential smoothing (SES) as statsforecast writes it, and
//! non-seasonal ETS state-space models (Hyndman et al., 2008) with additive or
//! multiplicative errors and none, additive or damped additive trend, fitted by maximum
//! likelihood and chosen by AICc.

use crate::optim::{BATCH, minimise_1d_batch, nelder_mead};

/// SES with a fixed `alpha`: the one-step forecast after the last observation, with the
/// first fitted value equal to the first observation (statsforecast's convention).
pub fn ses_level(y: &[f64], alpha: f64) -> f64 {
    let Some(&first) = y.first() else { return 0.0 };
    let mut f = first;
    for &v in &y[..y.len() - 1] {
        f = alpha * v + (1.0 - alpha) * f;
    }
    alpha * y[y.len() - 1] + (1.0 - alpha) * f
}

/// Sum of squared one-step errors of SES with `alpha`.
pub fn ses_sse(y: &[f64], alpha: f64) -> f64 {
    if y.len() < 2 {
        return 0.0;
    }
    let mut f = y[0];
    let mut sse = 0.0;
    for i in 1..y.len() {
        f = alpha * y[i - 1] + (1.0 - alpha) * f;
        sse += (y[i] - f) * (y[i] - f);
    }
    sse
}

/// [`ses_sse`] for several `alpha`s in one pass over `y`.
pub fn ses_sse_batch(y: &[f64], alphas: &[f64; BATCH]) -> [f64; BATCH] {
    let mut sse = [0.0; BATCH];
    let Some(&first) = y.first() else {
        return sse;
    };
    let mut f = [first; BATCH];
    let keep = alphas.map(|a| 1.0 - a);
    for w in y.windows(2) {
        let (prev, v) = (w[0], w[1]);
        for k in 0..BATCH {
            f[k] = alphas[k] * prev + keep[k] * f[k];
            let e = v - f[k];
            sse[k] += e * e;
        }
    }
    sse
}

/// The `alpha` in `[lo, hi]` that minimises the SES squared error (to within 1e-5).
pub fn ses_alpha(y: &[f64], lo: f64, hi: f64) -> f64 {
    ses_alpha_within(y, lo, hi, 1e-5)
}

/// [`ses_alpha`] to within `tol`.
pub fn ses_alpha_within(y: &[f64], lo: f64, hi: f64, tol: f64) -> f64 {
    if y.len() < 3 {
        return lo;
    }
    minimise_1d_batch(|a| ses_sse_batch(y, a), lo, hi, tol)
}

/// Trend of a non-seasonal ETS model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Trend {
    None,
    Additive,
    Damped,
}

/// Error of an ETS model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    Additive,
    Multiplicative,
}

/// A fitted non-seasonal ETS model.
#[derive(Clone, Debug)]
pub struct EtsFit {
    pub error: Error,
    pub trend: Trend,
    pub alpha: f64,
    pub beta: f64,
    pub phi: f64,
    /// Level and trend after the last observation.
    pub level: f64,
    pub slope: f64,
    pub aicc: f64,
    /// Standard deviation of the one-step errors (absolute).
    pub sigma: f64,
    /// The optimiser's solution (unconstrained smoothing parameters, then initial states
    /// for short series): a warm start for a fit of the same model on similar data.
    pub solution: Vec<f64>,
}

/// Solutions of earlier fits by model, to warm-start fits of the same models on similar
/// data (the training parts of consecutive rolling origins).
pub type EtsHints = std::cell::RefCell<std::collections::HashMap<(Error, Trend), Vec<f64>>>;

impl EtsFit {
    pub fn forecast(&self, h: usize) -> Vec<f64> {
        let mut out = Vec::with_capacity(h);
        let mut damp = 0.0;
        let mut p = 1.0;
        for _ in 0..h {
            match self.trend {
                Trend::None => {}
                Trend::Additive => damp += 1.0,
                Trend::Damped => {
                    p *= self.phi;
                    damp += p;
                }
            }
            out.push(self.level + damp * self.slope);
        }
        out
    }

    pub fn name(&self) -> &'static str {
        match (self.error, self.trend) {
            (Error::Additive, Trend::None) => "ETS(A,N,N)",
            (Error::Additive, Trend::Additive) => "ETS(A,A,N)",
            (Error::Additive, Trend::Damped) => "ETS(A,Ad,N)",
            (Error::Multiplicative, Trend::None) => "ETS(M,N,N)",
            (Error::Multiplicative, Trend::Additive) => "ETS(M,A,N)",
            (Error::Multiplicative, Trend::Damped) => "ETS(M,Ad,N)",
        }
    }
}

struct Run {
    lik: f64,
    level: f64,
    slope: f64,
    sse: f64,
}

#[allow(clippy::too_many_arguments)]
fn run(
    y: &[f64],
    error: Error,
    trend: Trend,
    alpha: f64,
    beta: f64,
    phi: f64,
    l0: f64,
    b0: f64,
) -> Run {
    let (b0, phi) = match trend {
        Trend::None => (0.0, 0.0),
        Trend::Additive => (b0, 1.0),
        Trend::Damped => (b0, phi),
    };
    // one loop per error type, so that the hot loop has no branch on it
    match error {
        Error::Additive => run_additive(y, alpha, beta, phi, l0, b0),
        Error::Multiplicative => run_multiplicative(y, alpha, beta, phi, l0, b0),
    }
}

fn run_additive(y: &[f64], alpha: f64, beta: f64, phi: f64, l0: f64, b0: f64) -> Run {
    // The state update written as a linear recursion, `l' = (1 - alpha)(l + phi b) +
    // alpha v` and `b' = phi (1 - beta) b - beta l + beta v`, so that each step's
    // dependency chain is one multiply and one add (the errors are computed aside).
    let (mut l, mut b) = (l0, b0);
    let (ll, lb) = (1.0 - alpha, (1.0 - alpha) * phi);
    let (bl, bb) = (-beta, phi * (1.0 - beta));
    let mut sse = 0.0;
    for &v in y {
        let e = v - (l + phi * b);
        sse += e * e;
        let nl = ll * l + lb * b + alpha * v;
        let nb = bl * l + bb * b + beta * v;
        l = nl;
        b = nb;
    }
    Run {
        lik: y.len() as f64 * (sse.max(1e-300)).ln(),
        level: l,
        slope: b,
        sse,
    }
}

fn run_multiplicative(y: &[f64], alpha: f64, beta: f64, phi: f64, l0: f64, b0: f64) -> Run {
    let (mut l, mut b) = (l0, b0);
    let mut sse = 0.0;
    let mut sse_rel = 0.0;
    // sum of ln|mu| as the logarithm of a running product, taken only when the product
    // nears the ends of the floating-point range: one logarithm per many steps
    let mut log_mu = 0.0;
    let mut prod = 1.0f64;
    for &v in y {
        let mu = l + phi * b;
        let e = v - mu;
        sse += e * e;
        let m = mu.abs();
        if !(1e-10..=1e100).contains(&m) {
            return Run {
                lik: f64::INFINITY,
                level: l,
                slope: b,
                sse,
            };
        }
        let r = e / mu;
        sse_rel += r * r;
        prod *= m;
        if !(1e-100..=1e100).contains(&prod) {
            log_mu += prod.ln();
            prod = 1.0;
        }
        l = mu * (1.0 + alpha * r);
        b = phi * b + beta * mu * r;
    }
    log_mu += prod.ln();
    let n = y.len() as f64;
    Run {
        lik: n * (sse_rel.max(1e-300)).ln() + 2.0 * log_mu,
        level: l,
        slope: b,
        sse,
    }
}

/// Initial simplex of a warm-started fit, relative to a cold start's.
const WARM_STEP: f64 = 0.25;

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// Fits one non-seasonal ETS model by maximum likelihood (smoothing parameters and initial
/// states). `None` when the model does not apply (multiplicative errors need positive data).
pub fn fit_ets(y: &[f64], error: Error, trend: Trend) -> Option<EtsFit> {
    fit_ets_from(y, error, trend, None)
}

/// [`fit_ets`] with the optimiser started from `start` (an earlier fit's
/// [`EtsFit::solution`] for the same model) with a smaller simplex, when its length fits.
pub fn fit_ets_from(
    y: &[f64],
    error: Error,
    trend: Trend,
    start: Option<&[f64]>,
) -> Option<EtsFit> {
    let n = y.len();
    if n < 3 || (error == Error::Multiplicative && y.iter().any(|&v| v <= 0.0)) {
        return None;
    }
    // Initial states from the first observations (a line through the first ten).
    let k = n.min(10);
    let (l0, b0) = if trend == Trend::None {
        (y[..k].iter().sum::<f64>() / k as f64, 0.0)
    } else {
        let (a, b) = ols(&y[..k]);
        (a, b)
    };
    let scale = y.iter().map(|v| v.abs()).sum::<f64>() / n as f64 + 1e-8;
    // parameters: u_alpha, [u_beta], [u_phi], l0/scale, [b0/scale]
    let has_trend = trend != Trend::None;
    let damped = trend == Trend::Damped;
    // Long series: initial states from the data, only the smoothing parameters are
    // optimised (the start hardly matters after hundreds of observations, and it keeps
    // the search small); short series: initial states are optimised too.
    let fit_states = n < 100;
    let unpack = |x: &[f64]| -> (f64, f64, f64, f64, f64) {
        let alpha = 1e-4 + (0.9999 - 1e-4) * logistic(x[0]);
        let mut i = 1;
        let beta = if has_trend {
            let v = 1e-4 + (alpha - 1e-4) * logistic(x[i]);
            i += 1;
            v
        } else {
            0.0
        };
        let phi = if damped {
            let v = 0.8 + 0.18 * logistic(x[i]);
            i += 1;
            v
        } else {
            1.0
        };
        if !fit_states {
            return (alpha, beta, phi, l0, b0);
        }
        let l = x[i] * scale;
        let b = if has_trend { x[i + 1] * scale } else { 0.0 };
        (alpha, beta, phi, l, b)
    };
    let mut x0 = vec![logit(0.3)];
    let mut step = vec![1.0];
    if has_trend {
        x0.push(logit(0.1));
        step.push(1.0);
    }
    if damped {
        x0.push(logit(0.5));
        step.push(1.0);
    }
    let n_smoothing = x0.len();
    if fit_states {
        x0.push(l0 / scale);
        step.push(0.1 * (l0.abs() / scale).max(0.1));
        if has_trend {
            x0.push(b0 / scale);
            step.push(0.01 + 0.1 * (b0 / scale).abs());
        }
    }
    let obj = |x: &[f64]| {
        let (a, b, p, l, s) = unpack(x);
        run(y, error, trend, a, b, p, l, s).lik
    };
    let evals = if fit_states {
        150 * x0.len()
    } else {
        60 * x0.len()
    };
    if let Some(x) = start.filter(|x| x.len() == x0.len() && x.iter().all(|v| v.is_finite())) {
        x0.copy_from_slice(x);
        step.iter_mut().for_each(|s| *s *= WARM_STEP);
    }
    let (x, _) = nelder_mead(obj, &x0, &step, evals, 1e-5);
    let (alpha, beta, phi, l, b) = unpack(&x);
    let r = run(y, error, trend, alpha, beta, phi, l, b);
    if !r.lik.is_finite() || !r.level.is_finite() || !r.slope.is_finite() {
        return None;
    }
    // parameters counted for AICc: smoothing parameters, initial states, variance
    let np = (n_smoothing + 1 + usize::from(has_trend) + 1) as f64;
    let nf = n as f64;
    let aic = r.lik + 2.0 * np;
    let aicc = if nf - np - 1.0 > 0.0 {
        aic + 2.0 * np * (np + 1.0) / (nf - np - 1.0)
    } else {
        f64::INFINITY
    };
    Some(EtsFit {
        error,
        trend,
        alpha,
        beta,
        phi,
        level: r.level,
        slope: r.slope,
        aicc,
        sigma: (r.sse / nf).sqrt(),
        solution: x,
    })
}

/// Automatic non-seasonal ETS: every applicable model, the one with the lowest AICc.
pub fn auto_ets(y: &[f64]) -> Option<EtsFit> {
    auto_ets_among(y, &[Error::Additive, Error::Multiplicative])
}

/// Automatic non-seasonal ETS among the models with the given error types.
pub fn auto_ets_among(y: &[f64], errors: &[Error]) -> Option<EtsFit> {
    auto_ets_hinted(y, errors, None, None)
}

/// [`auto_ets_among`], each model warm-started from `hints` (and its solution recorded
/// there); `ann`, when given, is the already fitted ETS(A,N,N).
pub fn auto_ets_hinted(
    y: &[f64],
    errors: &[Error],
    hints: Option<&EtsHints>,
    ann: Option<Option<EtsFit>>,
) -> Option<EtsFit> {
    let mut ann = ann;
    let mut best: Option<EtsFit> = None;
    for &error in errors {
        for trend in [Trend::None, Trend::Additive, Trend::Damped] {
            if trend != Trend::None && y.len() < 6 {
                continue;
            }
            let fit = match (error, trend, ann.take()) {
                (Error::Additive, Trend::None, Some(f)) => f,
                _ => fit_hinted(y, error, trend, hints),
            };
            if let Some(f) = fit
                && best.as_ref().is_none_or(|b| f.aicc < b.aicc)
            {
                best = Some(f);
            }
        }
    }
    best
}

/// [`fit_ets_from`] started from the hint for the model, recording the new solution.
pub fn fit_hinted(
    y: &[f64],
    error: Error,
    trend: Trend,
    hints: Option<&EtsHints>,
) -> Option<EtsFit> {
    let start = hints.and_then(|h| h.borrow().get(&(error, trend)).cloned());
    let fit = fit_ets_from(y, error, trend, start.as_deref());
    if let (Some(h), Some(f)) = (hints, &fit) {
        h.borrow_mut().insert((error, trend), f.solution.clone());
    }
    fit
}

/// Ordinary least squares of `y` on 1..=n: (value at t = 0, slope).
pub fn ols(y: &[f64]) -> (f64, f64) {
    let n = y.len() as f64;
    if y.len() < 2 {
        return (y.first().copied().unwrap_or(0.0), 0.0);
    }
    let mx = (n + 1.0) / 2.0;
    let my = y.iter().sum::<f64>() / n;
    let mut sxy = 0.0;
    let mut sxx = 0.0;
    for (i, &v) in y.iter().enumerate() {
        let dx = (i + 1) as f64 - mx;
        sxy += dx * (v - my);
        sxx += dx * dx;
    }
    let b = sxy / sxx;
    (my - b * mx, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batched_squared_errors_equal_one_at_a_time() {
        let y: Vec<f64> = (0..40).map(|t| ((t * 7) % 11) as f64).collect();
        let alphas: [f64; BATCH] = std::array::from_fn(|i| 0.05 + 0.1 * i as f64);
        let batch = ses_sse_batch(&y, &alphas);
        for (a, s) in alphas.iter().zip(batch) {
            assert!((ses_sse(&y, *a) - s).abs() < 1e-9);
        }
    }

    #[test]
    fn refining_grid_finds_the_minimum() {
        let y: Vec<f64> = (0..60).map(|t| 10.0 + ((t * 13) % 7) as f64).collect();
        let a = ses_alpha(&y, 0.01, 0.99);
        // no point of a fine grid does better
        let best = (1..=980)
            .map(|i| ses_sse(&y, 0.01 + 0.001 * i as f64))
            .fold(f64::INFINITY, f64::min);
        assert!(ses_sse(&y, a) <= best + 1e-6 * best, "{a}");
    }
}
