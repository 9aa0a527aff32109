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
    let mut scratch = Scratch::default();
    let jump = |len: usize| if p.jumps { len.div_ceil(10) } else { 1 };
    for _ in 0..p.inner.max(1) {
        for i in 0..n {
            w1[i] = y[i] - trend[i];
        }
        // cycle-subseries smoothing into w2 (length n + 2 np)
        cycle_subseries(
            &w1[..n],
            np,
            ns,
            p.seasonal_deg,
            jump(ns),
            &mut w2,
            &mut scratch,
        );
        // low-pass filter: MA(np), MA(np), MA(3), then LOESS
        moving_average(&w2[..n + 2 * np], np, &mut w3);
        moving_average(&w3[..n + np + 1], np, &mut w1);
        moving_average(&w1[..n + 2], 3, &mut w3);
        let mut low = vec![0.0; n];
        loess(
            &w3[..n],
            nl,
            p.low_pass_deg,
            jump(nl),
            &mut low,
            &mut scratch,
        );
        for i in 0..n {
            season[i] = w2[np + i] - low[i];
            w1[i] = y[i] - season[i];
        }
        loess(
            &w1[..n],
            nt,
            p.trend_deg,
            jump(nt),
            &mut trend,
            &mut scratch,
        );
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
        loess(&sub, ns, deg, jump, &mut out[1..k + 1], s);
        let nright = ns.min(k);
        out[0] = est(&sub, ns, deg, 0.0, 1, nright, &mut s.w).unwrap_or(out[1]);
        let nleft = if k + 1 > ns { k + 1 - ns } else { 1 };
        out[k + 1] = est(&sub, ns, deg, (k + 1) as f64, nleft, k, &mut s.w).unwrap_or(out[k]);
        for m in 0..k + 2 {
            season[m * np + j] = out[m];
        }
        s.sub = sub;
        s.sub_out = out;
    }
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
    let mut w = std::mem::take(&mut s.w);
    let mut nleft;
    let mut nright;
    if len >= n {
        nleft = 1;
        nright = n;
        let mut i = 1;
        while i <= n {
            ys[i - 1] = est(y, len, deg, i as f64, nleft, nright, &mut w).unwrap_or(y[i - 1]);
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
            ys[i - 1] = est(y, len, deg, i as f64, nleft, nright, &mut w).unwrap_or(y[i - 1]);
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
            ys[i - 1] = est(y, len, deg, i as f64, nleft, nright, &mut w).unwrap_or(y[i - 1]);
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
            ys[n - 1] = est(y, len, deg, n as f64, nleft, nright, &mut w).unwrap_or(y[n - 1]);
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

/// Local weighted (tricube) fit at `xs` over positions `nleft..=nright` (1-based).
fn est(
    y: &[f64],
    len: usize,
    deg: usize,
    xs: f64,
    nleft: usize,
    nright: usize,
    w: &mut Vec<f64>,
) -> Option<f64> {
    let n = y.len();
    if w.len() < n + 1 {
        w.resize(n + 1, 0.0);
    }
    let range = n as f64 - 1.0;
    let mut h = (xs - nleft as f64).max(nright as f64 - xs);
    if len > n {
        h += ((len - n) / 2) as f64;
    }
    let h9 = 0.999 * h;
    let h1 = 0.001 * h;
    let mut a = 0.0;
    for j in nleft..=nright {
        w[j] = 0.0;
        let r = (j as f64 - xs).abs();
        if r <= h9 {
            w[j] = if r <= h1 {
                1.0
            } else {
                (1.0 - (r / h).powi(3)).powi(3)
            };
            a += w[j];
        }
    }
    if a <= 0.0 {
        return None;
    }
    for j in nleft..=nright {
        w[j] /= a;
    }
    if h > 0.0 && deg > 0 {
        let mut a = 0.0;
        for j in nleft..=nright {
            a += w[j] * j as f64;
        }
        let mut b = xs - a;
        let mut c = 0.0;
        for j in nleft..=nright {
            c += w[j] * (j as f64 - a) * (j as f64 - a);
        }
        if c.sqrt() > 0.001 * range {
            b /= c;
            for j in nleft..=nright {
                w[j] *= b * (j as f64 - a) + 1.0;
            }
        }
    }
    let mut ys = 0.0;
    for j in nleft..=nright {
        ys += w[j] * y[j - 1];
    }
    Some(ys)
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
    let mut trend = Vec::new();
    for _ in 0..iterate {
        for (i, &p) in ps.iter().enumerate() {
            for t in 0..n {
                deseas[t] += seasonals[i][t];
            }
            let mut params = StlParams::new(p, 7 + 4 * (i + 1));
            params.jumps = !exact;
            params.inner = if exact { 5 } else { 2 };
            let fit = stl(&deseas, &params);
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
