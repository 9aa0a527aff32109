//! STL: seasonal-trend decomposition by LOESS (Cleveland et al., 1990), a direct port of
//! the reference Fortran (`stl.f`), as used by statsmodels, R and statsforecast; and MSTL
//! (Bandara et al., 2021) for several seasons.

// Index loops mirror the reference algorithms (Fortran STL, textbook Nelder-Mead and
// Cholesky) line by line, which keeps them checkable against their sources.
#![allow(clippy::needless_range_loop)]

/// Parameters of one STL decomposition (window lengths are made odd and at least 3).
#[derive(Clone, Debug)]
pub struct StlParams {
    pub period: usize,
    pub seasonal: usize,
    pub trend: Option<usize>,
    pub low_pass: Option<usize>,
    pub seasonal_deg: usize,
    pub trend_deg: usize,
    pub low_pass_deg: usize,
    pub inner: usize,
    /// Evaluate the LOESS fits every `jump` points and interpolate between (R's
    /// `stl` default is a tenth of each window; 1 evaluates every point).
    pub jumps: bool,
}

impl StlParams {
    pub fn new(period: usize, seasonal: usize) -> Self {
        Self {
            period,
            seasonal,
            trend: None,
            low_pass: None,
            seasonal_deg: 0,
            trend_deg: 1,
            low_pass_deg: 1,
            inner: 2,
            jumps: true,
        }
    }
}

fn next_odd(x: usize) -> usize {
    if x.is_multiple_of(2) { x + 1 } else { x }
}

/// Seasonal and trend components of `y`.
pub struct Stl {
    pub seasonal: Vec<f64>,
    pub trend: Vec<f64>,
}

pub fn stl(y: &[f64], p: &StlParams) -> Stl {
    stl_in(y, p, &mut Scratch::default())
}

fn stl_in(y: &[f64], p: &StlParams, scratch: &mut Scratch) -> Stl {
    let n = y.len();
    let np = p.period.max(2);
    let ns = next_odd(p.seasonal.max(3));
    let nt = next_odd(p.trend.unwrap_or_else(|| {
        let t = (1.5 * np as f64 / (1.0 - 1.5 / ns as f64)).ceil() as usize;
        t.max(3)
    }));
    let nl = next_odd(p.low_pass.unwrap_or(np + 1).max(3));
    let mut season = vec![0.0; n];
    let mut trend = vec![0.0; n];
    let mut w1 = vec![0.0; n + 2 * np];
    let mut w2 = vec![0.0; n + 2 * np];
    let mut w3 = vec![0.0; n + 2 * np];
    let jump = |len: usize| if p.jumps { len.div_ceil(10) } else { 1 };
    for _ in 0..p.inner.max(1) {
        for i in 0..n {
            w1[i] = y[i] - trend[i];
        }
        // cycle-subseries smoothing into w2 (length n + 2 np)
        cycle_subseries(&w1[..n], np, ns, p.seasonal_deg, jump(ns), &mut w2, scratch);
        // low-pass filter: MA(np), MA(np), MA(3), then LOESS
        moving_average(&w2[..n + 2 * np], np, &mut w3);
        moving_average(&w3[..n + np + 1], np, &mut w1);
        moving_average(&w1[..n + 2], 3, &mut w3);
        let mut low = vec![0.0; n];
        loess(&w3[..n], nl, p.low_pass_deg, jump(nl), &mut low, scratch);
        for i in 0..n {
            season[i] = w2[np + i] - low[i];
            w1[i] = y[i] - season[i];
        }
        loess(&w1[..n], nt, p.trend_deg, jump(nt), &mut trend, scratch);
    }
    Stl {
        seasonal: season,
        trend,
    }
}

#[derive(Default)]
struct Scratch {
    w: Vec<f64>,
    sub: Vec<f64>,
    sub_out: Vec<f64>,
    /// Effective weights of LOESS fits away from the symmetric interior, by geometry:
    /// (series length, window, degree, position relative to the window's left end,
    /// window width). The same fits recur in every pass of an MSTL.
    fits: FitCache,
}

fn moving_average(x: &[f64], len: usize, out: &mut [f64]) {
    let n = x.len();
    if len > n {
        return;
    }
    let m = n - len + 1;
    let flen = len as f64;
    let mut v: f64 = x[..len].iter().sum();
    out[0] = v / flen;
    for j in 1..m {
        v = v - x[j - 1] + x[j + len - 1];
        out[j] = v / flen;
    }
}

fn cycle_subseries(
    y: &[f64],
    np: usize,
    ns: usize,
    deg: usize,
    jump: usize,
    season: &mut [f64],
    s: &mut Scratch,
) {
    let n = y.len();
    // Smoothing a subseries (and extending it one cycle each way) is linear in its values
    // with weights that depend only on its length. Short subseries (a long period over few
    // cycles: every subseries has one of two lengths) are smoothed by that linear map,
    // built once per length by smoothing unit vectors, instead of by LOESS fits per point.
    let mut maps: Vec<(usize, Vec<f64>)> = Vec::new();
    for j in 0..np {
        if j >= n {
            // fewer points than one period: no subseries
            for m in 0..3 {
                let idx = m * np + j;
                if idx < season.len() {
                    season[idx] = 0.0;
                }
            }
            continue;
        }
        let k = (n - 1 - j) / np + 1;
        let mut sub = std::mem::take(&mut s.sub);
        let mut out = std::mem::take(&mut s.sub_out);
        sub.clear();
        sub.extend((0..k).map(|i| y[i * np + j]));
        out.clear();
        out.resize(k + 2, 0.0);
        if k <= ns {
            let mi = match maps.iter().position(|m| m.0 == k) {
                Some(i) => i,
                None => {
                    let mut map = vec![0.0; (k + 2) * k];
                    let mut unit = vec![0.0; k];
                    let mut col = vec![0.0; k + 2];
                    for c in 0..k {
                        unit.fill(0.0);
                        unit[c] = 1.0;
                        smooth_subseries(&unit, ns, deg, jump, &mut col, s);
                        for (r, v) in col.iter().enumerate() {
                            map[r * k + c] = *v;
                        }
                    }
                    maps.push((k, map));
                    maps.len() - 1
                }
            };
            let map = &maps[mi].1;
            for (r, o) in out.iter_mut().enumerate() {
                *o = map[r * k..(r + 1) * k]
                    .iter()
                    .zip(&sub)
                    .map(|(a, b)| a * b)
                    .sum();
            }
        } else {
            smooth_subseries(&sub, ns, deg, jump, &mut out, s);
        }
        for m in 0..k + 2 {
            season[m * np + j] = out[m];
        }
        s.sub = sub;
        s.sub_out = out;
    }
}

/// LOESS of one cycle-subseries (`k` values) into `out` (`k + 2`: extended by one
/// cycle before and after).
fn smooth_subseries(
    sub: &[f64],
    ns: usize,
    deg: usize,
    jump: usize,
    out: &mut [f64],
    s: &mut Scratch,
) {
    let k = sub.len();
    loess(sub, ns, deg, jump, &mut out[1..k + 1], s);
    let nright = ns.min(k);
    out[0] = s.est(sub, ns, deg, 0.0, 1, nright).unwrap_or(out[1]);
    let nleft = if k + 1 > ns { k + 1 - ns } else { 1 };
    out[k + 1] = s
        .est(sub, ns, deg, (k + 1) as f64, nleft, k)
        .unwrap_or(out[k]);
}

/// Dot product in four lanes (vectorisable; the order of the sum differs from a plain
/// fold only in rounding).
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// LOESS smoothing of `y` (positions 1..=n) with window `len` and degree `deg`.
fn loess(y: &[f64], len: usize, deg: usize, jump: usize, ys: &mut [f64], s: &mut Scratch) {
    let n = y.len();
    if n < 2 {
        if n == 1 {
            ys[0] = y[0];
        }
        return;
    }
    let newnj = jump.min(n - 1).max(1);
    // Away from the ends the window is symmetric about the point, so the local linear
    // fit's slope term vanishes and the fit is a fixed tricube-weighted average: compute
    // those weights once per call instead of once per point.
    let mut w = std::mem::take(&mut s.w);
    let half = (len - 1) / 2;
    if len % 2 == 1 && len < n {
        w.clear();
        let h = half as f64;
        let (h9, h1) = (0.999 * h, 0.001 * h);
        w.extend((0..len).map(|t| {
            let r = (t as f64 - h).abs();
            if r > h9 {
                0.0
            } else if r <= h1 {
                1.0
            } else {
                let q = r / h;
                let u = 1.0 - q * q * q;
                u * u * u
            }
        }));
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|v| *v /= total);
    } else {
        w.clear();
    }
    let mut fit = |i: usize, nleft: usize, nright: usize| -> f64 {
        if !w.is_empty() && nleft + half == i && nright == i + half {
            dot(&w, &y[nleft - 1..nright])
        } else {
            s.est(y, len, deg, i as f64, nleft, nright)
                .unwrap_or(y[i - 1])
        }
    };
    let mut nleft;
    let mut nright;
    if len >= n {
        nleft = 1;
        nright = n;
        let mut i = 1;
        while i <= n {
            ys[i - 1] = fit(i, nleft, nright);
            i += newnj;
        }
    } else if newnj == 1 {
        let nsh = len.div_ceil(2);
        nleft = 1;
        nright = len;
        for i in 1..=n {
            if i > nsh && nright != n {
                nleft += 1;
                nright += 1;
            }
            ys[i - 1] = fit(i, nleft, nright);
        }
    } else {
        let nsh = len.div_ceil(2);
        nleft = 1;
        nright = len;
        let mut i = 1;
        while i <= n {
            if i < nsh {
                nleft = 1;
                nright = len;
            } else if i > n - nsh {
                nleft = n - len + 1;
                nright = n;
            } else {
                nleft = i - nsh + 1;
                nright = len + i - nsh;
            }
            ys[i - 1] = fit(i, nleft, nright);
            i += newnj;
        }
    }
    if newnj != 1 {
        let mut i = 1;
        while i + newnj <= n {
            let delta = (ys[i + newnj - 1] - ys[i - 1]) / newnj as f64;
            for j in i + 1..i + newnj {
                ys[j - 1] = ys[i - 1] + delta * (j - i) as f64;
            }
            i += newnj;
        }
        let k = ((n - 1) / newnj) * newnj + 1;
        if k != n {
            ys[n - 1] = fit(n, nleft, nright);
            if k != n - 1 {
                let delta = (ys[n - 1] - ys[k - 1]) / (n - k) as f64;
                for j in k + 1..n {
                    ys[j - 1] = ys[k - 1] + delta * (j - k) as f64;
                }
            }
        }
    }
    s.w = w;
}

type FitCache = std::collections::HashMap<
    (usize, usize, usize, i64, usize),
    Option<Vec<f64>>,
    std::hash::BuildHasherDefault<GeometryHasher>,
>;

/// A multiply-rotate hasher for the small integer keys of [`Scratch::fits`] (SipHash
/// cost more than a short fit).
#[derive(Default)]
struct GeometryHasher(u64);

impl std::hash::Hasher for GeometryHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    fn write_i64(&mut self, v: i64) {
        self.write_u64(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl Scratch {
    /// The local fit at `xs` over positions `nleft..=nright` (1-based) of `y`, its
    /// weights computed once per geometry ([`est_weights`]).
    fn est(
        &mut self,
        y: &[f64],
        len: usize,
        deg: usize,
        xs: f64,
        nleft: usize,
        nright: usize,
    ) -> Option<f64> {
        let key = (y.len(), len, deg, xs as i64 - nleft as i64, nright - nleft);
        let w = self
            .fits
            .entry(key)
            .or_insert_with(|| est_weights(y.len(), len, deg, xs, nleft, nright));
        w.as_ref().map(|w| dot(w, &y[nleft - 1..nright]))
    }
}

/// Weights of the local weighted (tricube) fit at `xs` over positions `nleft..=nright`
/// (1-based) of a series of `n` values, as the reference Fortran's `est` forms them: the
/// fit is their dot product with the window's values. `None` when every weight is zero.
fn est_weights(
    n: usize,
    len: usize,
    deg: usize,
    xs: f64,
    nleft: usize,
    nright: usize,
) -> Option<Vec<f64>> {
    let range = n as f64 - 1.0;
    let mut h = (xs - nleft as f64).max(nright as f64 - xs);
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;
    let mut w: Vec<f64> = (nleft..=nright)
        .map(|j| {
            let r = (j as f64 - xs).abs();
            if r > h9 {
                0.0
            } else if r <= h1 {
                1.0
            } else {
                (1.0 - (r / h).powi(3)).powi(3)
            }
        })
        .collect();
    let a: f64 = w.iter().sum();
    if a <= 0.0 {
        return None;
    }
    w.iter_mut().for_each(|v| *v /= a);
    if h > 0.0 && deg > 0 {
        let pos = |t: usize| (nleft + t) as f64;
        let a: f64 = w.iter().enumerate().map(|(t, v)| v * pos(t)).sum();
        let c: f64 = w
            .iter()
            .enumerate()
            .map(|(t, v)| v * (pos(t) - a) * (pos(t) - a))
            .sum();
        if c.sqrt() > 0.001 * range {
            let b = (xs - a) / c;
            for (t, v) in w.iter_mut().enumerate() {
                *v *= b * (pos(t) - a) + 1.0;
            }
        }
    }
    Some(w)
}

/// MSTL: seasonal components for each period (shortest first) and the deseasonalised series.
pub struct Mstl {
    pub periods: Vec<usize>,
    pub seasonals: Vec<Vec<f64>>,
    /// The last STL's trend (empty when no period fits).
    pub trend: Vec<f64>,
    pub deseasonalised: Vec<f64>,
}

/// MSTL as in statsforecast / R `forecast::mstl`: periods that do not fit twice are
/// dropped; seasonal windows 11, 15, ...; two passes.
pub fn mstl(y: &[f64], periods: &[usize]) -> Mstl {
    mstl_with(y, periods, false)
}

/// MSTL fast (`exact = false`: R's `stl` settings, two inner passes and LOESS jumps of a
/// tenth of each window) or exactly as statsforecast runs it (`exact = true`: statsmodels'
/// non-robust defaults, five inner passes, no jumps).
pub fn mstl_with(y: &[f64], periods: &[usize], exact: bool) -> Mstl {
    let n = y.len();
    let mut ps: Vec<usize> = periods
        .iter()
        .copied()
        .filter(|&p| p >= 2 && 2 * p < n)
        .collect();
    ps.sort_unstable();
    ps.dedup();
    let mut deseas = y.to_vec();
    let mut seasonals = vec![vec![0.0; n]; ps.len()];
    if ps.is_empty() {
        return Mstl {
            periods: ps,
            seasonals,
            trend: Vec::new(),
            deseasonalised: deseas,
        };
    }
    let iterate = if ps.len() == 1 { 1 } else { 2 };
    let mut scratch = Scratch::default();
    let mut trend = Vec::new();
    for _ in 0..iterate {
        for (i, &p) in ps.iter().enumerate() {
            for t in 0..n {
                deseas[t] += seasonals[i][t];
            }
            let mut params = StlParams::new(p, 7 + 4 * (i + 1));
            params.jumps = !exact;
            params.inner = if exact { 5 } else { 2 };
            let fit = stl_in(&deseas, &params, &mut scratch);
            seasonals[i] = fit.seasonal;
            trend = fit.trend;
            for t in 0..n {
                deseas[t] -= seasonals[i][t];
            }
        }
    }
    Mstl {
        periods: ps,
        seasonals,
        trend,
        deseasonalised: deseas,
    }
}
