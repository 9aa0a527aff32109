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
        linear_scale(x)
    }
}

fn linear_scale(x: &[f64]) -> Window {
    let s = x.iter().map(|v| v.abs()).sum::<f64>() / x.len() as f64;
    Window {
        log: false,
        centre: if s > 0.0 { s } else { 1.0 },
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
            // a divisor of the usual horizons (48 hourly, 12 weekly) so that the rolling
            // origins share windows (see GlobalAccumulator)
            stride: 4,
            ridge: 1e-3,
        }
    }
}

/// Rows gathered before a block update of the normal equations: eight windows at a time
/// keep the 169 x 169 matrix streaming through the cache once per eight rows, not per row.
const BATCH: usize = 8;

/// Normal equations of the windows shared by one set of rolling origins.
struct Block {
    /// Which origins use these windows (bit k: origin k).
    origins: u64,
    xtx: Vec<f64>,
    xty: Vec<f64>,
    rows: usize,
    /// Pending rows: inputs (`BATCH x p`) and targets (`BATCH x h`).
    px: Vec<f64>,
    pz: Vec<f64>,
    pending: usize,
}

impl Block {
    fn flush(&mut self, p: usize, h: usize) {
        if self.pending == 0 {
            return;
        }
        for r in self.pending..BATCH {
            self.px[r * p..(r + 1) * p].fill(0.0);
            self.pz[r * h..(r + 1) * h].fill(0.0);
        }
        let (px, pz) = (&self.px, &self.pz);
        for a in 0..p {
            let xa: [f64; BATCH] = std::array::from_fn(|r| px[r * p + a]);
            let row = &mut self.xtx[a * p..a * p + p];
            for b in a..p {
                let mut s = 0.0;
                for r in 0..BATCH {
                    s += xa[r] * px[r * p + b];
                }
                row[b] += s;
            }
            let row = &mut self.xty[a * h..a * h + h];
            for j in 0..h {
                let mut s = 0.0;
                for r in 0..BATCH {
                    s += xa[r] * pz[r * h + j];
                }
                row[j] += s;
            }
        }
        self.rows += self.pending;
        self.pending = 0;
    }
}

/// Accumulates the training windows of the global model for every rolling origin at once
/// (origin 0: the whole series; origin k: the last `k * h` observations held out). Origin
/// k's windows end `h + k h + w stride` before the series' end (`w` below
/// `windows_per_series`), so when `stride` divides `h` consecutive origins share most of
/// their windows: each distinct window is scaled and added once, into the block of the
/// origins that use it. Feed series with [`GlobalAccumulator::add`] (split a collection
/// across threads and [`GlobalAccumulator::merge`]), then [`GlobalAccumulator::finish`].
pub struct GlobalAccumulator {
    lags: usize,
    horizon: usize,
    ridge: f64,
    /// Offsets of window ends from the series' end, with their block, longest first.
    offsets: Vec<(usize, usize)>,
    blocks: Vec<Block>,
    origins: usize,
    x: Vec<f64>,
    z: Vec<f64>,
    logs: Vec<f64>,
}

impl GlobalAccumulator {
    /// For `origins` rolling origins (0 to `origins - 1`, at most 64) and horizon `h`.
    pub fn new(h: usize, origins: usize, o: &GlobalOptions) -> Self {
        let origins = origins.clamp(1, 64);
        let p = o.lags + 1;
        let mut sig: std::collections::BTreeMap<usize, u64> = Default::default();
        for k in 0..origins {
            for w in 0..o.windows_per_series {
                *sig.entry(h + k * h + w * o.stride.max(1)).or_default() |= 1 << k;
            }
        }
        let mut blocks: Vec<Block> = Vec::new();
        let mut offsets = Vec::with_capacity(sig.len());
        for (&off, &mask) in sig.iter().rev() {
            let bi = match blocks.iter().position(|b| b.origins == mask) {
                Some(i) => i,
                None => {
                    blocks.push(Block {
                        origins: mask,
                        xtx: vec![0.0; p * p],
                        xty: vec![0.0; p * h],
                        rows: 0,
                        px: vec![0.0; BATCH * p],
                        pz: vec![0.0; BATCH * h],
                        pending: 0,
                    });
                    blocks.len() - 1
                }
            };
            offsets.push((off, bi));
        }
        Self {
            lags: o.lags,
            horizon: h,
            ridge: o.ridge,
            offsets,
            blocks,
            origins,
            x: vec![0.0; p],
            z: vec![0.0; h],
            logs: Vec::new(),
        }
    }

    /// Adds every window of one series.
    pub fn add(&mut self, y: &[f64]) {
        let (l, h, p) = (self.lags, self.horizon, self.lags + 1);
        let n = y.len();
        // logarithms once per series, not once per window (the windows overlap)
        let mut logs = std::mem::take(&mut self.logs);
        logs.clear();
        logs.extend(y.iter().map(|&v| if v > 0.0 { v.ln() } else { f64::NAN }));
        for &(off, bi) in &self.offsets {
            // inputs y[end-l..end], targets y[end..end+h]
            let Some(end) = n.checked_sub(off) else {
                continue;
            };
            if end < l {
                continue;
            }
            let inputs = &y[end - l..end];
            if inputs.iter().any(|v| !v.is_finite()) {
                continue;
            }
            let log_in = &logs[end - l..end];
            let ok = if log_in.iter().all(|v| !v.is_nan()) {
                // the window's log scale: log minus the mean log of the inputs
                let centre = log_in.iter().sum::<f64>() / l as f64;
                for (x, &v) in self.x.iter_mut().zip(log_in) {
                    *x = v - centre;
                }
                let log_out = &logs[end..end + h];
                for (z, &v) in self.z.iter_mut().zip(log_out) {
                    *z = v - centre;
                }
                log_out.iter().all(|v| !v.is_nan())
            } else {
                let sc = linear_scale(inputs);
                for (x, &v) in self.x.iter_mut().zip(inputs) {
                    *x = sc.fwd(v);
                }
                for (z, &v) in self.z.iter_mut().zip(&y[end..end + h]) {
                    *z = sc.fwd(v);
                }
                true
            };
            self.x[l] = 1.0;
            if !ok || self.x.iter().chain(self.z.iter()).any(|v| !v.is_finite()) {
                continue;
            }
            let b = &mut self.blocks[bi];
            b.px[b.pending * p..(b.pending + 1) * p].copy_from_slice(&self.x);
            b.pz[b.pending * h..(b.pending + 1) * h].copy_from_slice(&self.z);
            b.pending += 1;
            if b.pending == BATCH {
                b.flush(p, h);
            }
        }
        self.logs = logs;
    }

    /// Adds what another accumulator (same `new` arguments) gathered.
    pub fn merge(&mut self, mut other: GlobalAccumulator) {
        let (p, h) = (self.lags + 1, self.horizon);
        for (a, b) in self.blocks.iter_mut().zip(other.blocks.iter_mut()) {
            a.flush(p, h);
            b.flush(p, h);
            a.xtx.iter_mut().zip(&b.xtx).for_each(|(u, v)| *u += v);
            a.xty.iter_mut().zip(&b.xty).for_each(|(u, v)| *u += v);
            a.rows += b.rows;
        }
    }

    /// Origins still to solve: `0..origins`. Solving is cheap next to accumulating
    /// (one Cholesky factorisation of `lags + 1` per origin); callers may run
    /// [`GlobalAccumulator::solve`] per origin in parallel.
    pub fn origins(&self) -> usize {
        self.origins
    }

    /// Flushes pending rows; call once before [`GlobalAccumulator::solve`].
    pub fn flush(&mut self) {
        let (p, h) = (self.lags + 1, self.horizon);
        for b in &mut self.blocks {
            b.flush(p, h);
        }
    }

    /// The model of origin `k`; `None` when it has fewer windows than coefficients or
    /// the equations are singular. Pending rows are not included: [`Self::flush`] first.
    pub fn solve(&self, k: usize) -> Option<GlobalAr> {
        let (l, h, p) = (self.lags, self.horizon, self.lags + 1);
        let mut xtx = vec![0.0; p * p];
        let mut xty = vec![0.0; p * h];
        let mut rows = 0;
        for b in self.blocks.iter().filter(|b| b.origins >> k & 1 == 1) {
            xtx.iter_mut().zip(&b.xtx).for_each(|(u, v)| *u += v);
            xty.iter_mut().zip(&b.xty).for_each(|(u, v)| *u += v);
            rows += b.rows;
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
            xtx[a * p + a] += self.ridge * trace;
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

    /// Every origin's model, in order.
    pub fn finish(mut self) -> Vec<Option<GlobalAr>> {
        self.flush();
        (0..self.origins).map(|k| self.solve(k)).collect()
    }
}

impl GlobalAr {
    /// Fits on every series long enough for at least one window; `None` when none is.
    pub fn fit(series: &[&[f64]], h: usize, o: &GlobalOptions) -> Option<GlobalAr> {
        let mut acc = GlobalAccumulator::new(h, 1, o);
        for y in series {
            acc.add(y);
        }
        acc.finish().pop().flatten()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Positive and mixed-sign series of different lengths.
    fn collection() -> Vec<Vec<f64>> {
        (0..12)
            .map(|s| {
                let n = 90 + 7 * s;
                (0..n)
                    .map(|t| {
                        let x = t as f64;
                        let wave = (x * 0.7 + s as f64).sin() * (2.0 + s as f64);
                        if s % 3 == 0 {
                            wave
                        } else {
                            20.0 + wave + 0.05 * x
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn shared_windows_give_the_same_models_as_separate_fits() {
        let o = GlobalOptions {
            lags: 8,
            windows_per_series: 12,
            stride: 2,
            ridge: 1e-3,
        };
        let data = collection();
        let series: Vec<&[f64]> = data.iter().map(Vec::as_slice).collect();
        let (h, windows) = (6, 3);
        let shared = crate::fit_global_origins(&series, h, windows, &o);
        assert_eq!(shared.len(), windows + 1);
        for (k, g) in shared.iter().enumerate() {
            let alone = crate::fit_global_origin(&series, h, k, &o).unwrap();
            let g = g.as_ref().unwrap();
            for y in &series {
                let (a, b) = (g.predict(y, h).unwrap(), alone.predict(y, h).unwrap());
                for (u, v) in a.iter().zip(&b) {
                    assert!(
                        (u - v).abs() <= 1e-8 * v.abs().max(1.0),
                        "origin {k}: {u} vs {v}"
                    );
                }
            }
        }
    }

    #[test]
    fn merged_accumulators_equal_one() {
        let o = GlobalOptions {
            lags: 8,
            windows_per_series: 10,
            stride: 3,
            ridge: 1e-3,
        };
        let data = collection();
        let mut one = GlobalAccumulator::new(6, 2, &o);
        let (mut a, mut b) = (
            GlobalAccumulator::new(6, 2, &o),
            GlobalAccumulator::new(6, 2, &o),
        );
        for (i, y) in data.iter().enumerate() {
            one.add(y);
            if i % 2 == 0 { a.add(y) } else { b.add(y) }
        }
        a.merge(b);
        let (x, y) = (one.finish(), a.finish());
        for (g, h) in x.iter().zip(&y) {
            let (p, q) = (
                g.as_ref().unwrap().predict(&data[1], 6).unwrap(),
                h.as_ref().unwrap().predict(&data[1], 6).unwrap(),
            );
            for (u, v) in p.iter().zip(&q) {
                assert!((u - v).abs() <= 1e-8 * v.abs().max(1.0));
            }
        }
    }
}
