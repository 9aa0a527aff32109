//! A global (cross-learned) linear autoregression: one direct multi-horizon linear model
//! over the last `lags` values, fitted by ridge least squares on windows pooled from every
//! series of a collection (Montero-Manso and Hyndman, 2021: "Principles and algorithms for
//! forecasting groups of time series: locality and globality"). Each window is put on a
//! common scale first: the logarithm minus the mean log of the window for positive series,
//! the values divided by the window's mean absolute value otherwise.

// Index loops mirror the reference algorithms (Fortran STL, textbook Nelder-Mead and
// Cholesky) line by line, which keeps them checkable against their sources.
#![allow(clippy::needless_range_loop)]

/// A fitted global model: coefficients per step ahead over `lags` inputs and an intercept.
#[derive(Clone, Debug)]
pub struct GlobalAr {
    pub lags: usize,
    pub horizon: usize,
    /// `coef[j * (lags + 1) + k]`: step `j`, input `k` (the last is the intercept).
    coef: Vec<f64>,
}

struct Window {
    log: bool,
    centre: f64,
}

fn window_scale(x: &[f64]) -> Window {
    if x.iter().all(|&v| v > 0.0) {
        Window {
            log: true,
            centre: x.iter().map(|v| v.ln()).sum::<f64>() / x.len() as f64,
        }
    } else {
        let s = x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64;
        Window {
            log: false,
            centre: if s > 0.0 { s } else { 1.0 },
        }
    }
}

impl Window {
    fn fwd(&self, v: f64) -> f64 {
        if self.log {
            v.max(1e-300).ln() - self.centre
        } else {
            v / self.centre
        }
    }
    fn back(&self, z: f64) -> f64 {
        if self.log {
            (z.clamp(-30.0, 30.0) + self.centre).exp()
        } else {
            z * self.centre
        }
    }
}

/// Options of the global model.
#[derive(Clone, Debug)]
pub struct GlobalOptions {
    pub lags: usize,
    /// Training windows per series, the most recent first, `stride` apart.
    pub windows_per_series: usize,
    pub stride: usize,
    pub ridge: f64,
}

impl Default for GlobalOptions {
    fn default() -> Self {
        Self {
            lags: 168,
            windows_per_series: 48,
            stride: 5,
            ridge: 1e-3,
        }
    }
}

impl GlobalAr {
    /// Fits on every series long enough for at least one window; `None` when none is.
    pub fn fit(series: &[&[f64]], h: usize, o: &GlobalOptions) -> Option<GlobalAr> {
        let l = o.lags;
        let p = l + 1;
        let mut xtx = vec![0.0; p * p];
        let mut xty = vec![0.0; p * h];
        let mut rows = 0usize;
        let mut x = vec![0.0; p];
        let mut z = vec![0.0; h];
        for y in series {
            let n = y.len();
            if n < l + h {
                continue;
            }
            for w in 0..o.windows_per_series {
                let end = n - h - w * o.stride; // inputs y[end-l..end], targets y[end..end+h]
                if end < l {
                    break;
                }
                let inputs = &y[end - l..end];
                if inputs.iter().any(|v| !v.is_finite()) {
                    continue;
                }
                let sc = window_scale(inputs);
                for (k, &v) in inputs.iter().enumerate() {
                    x[k] = sc.fwd(v);
                }
                x[l] = 1.0;
                let mut ok = true;
                for j in 0..h {
                    let t = y[end + j];
                    if sc.log && t <= 0.0 {
                        ok = false;
                        break;
                    }
                    z[j] = sc.fwd(t);
                }
                if !ok || x.iter().chain(z.iter()).any(|v| !v.is_finite()) {
                    continue;
                }
                for a in 0..p {
                    let xa = x[a];
                    if xa == 0.0 {
                        continue;
                    }
                    let row = &mut xtx[a * p..a * p + p];
                    for b in a..p {
                        row[b] += xa * x[b];
                    }
                    let r = &mut xty[a * h..a * h + h];
                    for j in 0..h {
                        r[j] += xa * z[j];
                    }
                }
                rows += 1;
            }
        }
        if rows < p {
            return None;
        }
        for a in 0..p {
            for b in 0..a {
                xtx[a * p + b] = xtx[b * p + a];
            }
        }
        let trace = (0..p).map(|a| xtx[a * p + a]).sum::<f64>() / p as f64;
        for a in 0..l {
            xtx[a * p + a] += o.ridge * trace;
        }
        let beta = cholesky_solve(&mut xtx, p, &xty, h)?;
        // store as coef[j][k]
        let mut coef = vec![0.0; h * p];
        for k in 0..p {
            for j in 0..h {
                coef[j * p + k] = beta[k * h + j];
            }
        }
        Some(GlobalAr {
            lags: l,
            horizon: h,
            coef,
        })
    }

    /// Forecasts `h` (at most the fitted horizon) steps; `None` when the series is
    /// shorter than the lags or the window cannot be scaled.
    pub fn predict(&self, y: &[f64], h: usize) -> Option<Vec<f64>> {
        let l = self.lags;
        let p = l + 1;
        if y.len() < l || h > self.horizon {
            return None;
        }
        let inputs = &y[y.len() - l..];
        let sc = window_scale(inputs);
        let x: Vec<f64> = inputs
            .iter()
            .map(|&v| sc.fwd(v))
            .chain(std::iter::once(1.0))
            .collect();
        let out: Vec<f64> = (0..h)
            .map(|j| {
                let c = &self.coef[j * p..j * p + p];
                sc.back(c.iter().zip(&x).map(|(a, b)| a * b).sum())
            })
            .collect();
        out.iter().all(|v| v.is_finite()).then_some(out)
    }
}

/// Solves `A X = B` for symmetric positive definite `A` (`p x p`, overwritten) and `B`
/// (`p x h`, row-major).
fn cholesky_solve(a: &mut [f64], p: usize, b: &[f64], h: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= a[j * p + k] * a[j * p + k];
        }
        if d <= 0.0 || !d.is_finite() {
            return None;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= a[i * p + k] * a[j * p + k];
            }
            a[i * p + j] = s / d;
        }
    }
    let mut x = b.to_vec();
    for c in 0..h {
        // forward: L y = b
        for i in 0..p {
            let mut s = x[i * h + c];
            for k in 0..i {
                s -= a[i * p + k] * x[k * h + c];
            }
            x[i * h + c] = s / a[i * p + i];
        }
        // backward: L^T x = y
        for i in (0..p).rev() {
            let mut s = x[i * h + c];
            for k in i + 1..p {
                s -= a[k * p + i] * x[k * h + c];
            }
            x[i * h + c] = s / a[i * p + i];
        }
    }
    Some(x)
}
