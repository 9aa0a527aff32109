//! Classical seasonal decomposition and the seasonality test the M4 benchmarks used.

/// Autocorrelation of `y` at `lag`.
pub fn acf(y: &[f64], lag: usize) -> f64 {
    let n = y.len();
    if lag >= n {
        return 0.0;
    }
    let m = y.iter().sum::<f64>() / n as f64;
    let den: f64 = y.iter().map(|v| (v - m) * (v - m)).sum();
    if den <= 0.0 {
        return 0.0;
    }
    let num: f64 = (lag..n).map(|t| (y[t] - m) * (y[t - lag] - m)).sum();
    num / den
}

/// Autocorrelations of `y` at lags `1..=max_lag` (the mean and variance computed once).
pub fn acfs(y: &[f64], max_lag: usize) -> Vec<f64> {
    let n = y.len();
    let m = y.iter().sum::<f64>() / n.max(1) as f64;
    let c: Vec<f64> = y.iter().map(|v| v - m).collect();
    let den: f64 = c.iter().map(|v| v * v).sum();
    (1..=max_lag)
        .map(|lag| {
            if lag >= n || den <= 0.0 {
                return 0.0;
            }
            let num: f64 = c[lag..].iter().zip(&c[..n - lag]).map(|(a, b)| a * b).sum();
            num / den
        })
        .collect()
}

/// The M4 benchmarks' 90% test for seasonality at period `m`.
pub fn is_seasonal(y: &[f64], m: usize) -> bool {
    let n = y.len();
    if m < 2 || n < 3 * m {
        return false;
    }
    let r = acfs(y, m);
    let s: f64 = r[..m - 1].iter().map(|v| v * v).sum();
    let limit = 1.645 * ((1.0 + 2.0 * s) / n as f64).sqrt();
    r[m - 1].abs() > limit
}

/// Seasonal indices (length `m`, phase 0 = the first observation) of a classical
/// decomposition: multiplicative when the data are positive, additive otherwise.
pub struct Seasonal {
    pub indices: Vec<f64>,
    pub multiplicative: bool,
}

impl Seasonal {
    pub fn at(&self, t: usize) -> f64 {
        self.indices[t % self.indices.len()]
    }

    pub fn remove(&self, y: &[f64]) -> Vec<f64> {
        y.iter()
            .enumerate()
            .map(|(t, &v)| {
                if self.multiplicative {
                    v / self.at(t)
                } else {
                    v - self.at(t)
                }
            })
            .collect()
    }

    /// Puts the season back on forecasts for times `n, n+1, ...`.
    pub fn restore(&self, n: usize, f: &mut [f64]) {
        for (i, v) in f.iter_mut().enumerate() {
            let s = self.at(n + i);
            if self.multiplicative {
                *v *= s;
            } else {
                *v += s;
            }
        }
    }
}

/// Classical decomposition with a centred moving average of order `m`.
pub fn classical(y: &[f64], m: usize) -> Option<Seasonal> {
    let n = y.len();
    if m < 2 || n < 2 * m {
        return None;
    }
    let multiplicative = y.iter().all(|&v| v > 0.0);
    // centred moving average (2 x m when m is even)
    let half = m / 2;
    let mut sums = vec![0.0; m];
    let mut counts = vec![0usize; m];
    for t in half..n - half {
        let ma = if m.is_multiple_of(2) {
            if t + half >= n {
                continue;
            }
            let inner: f64 = y[t + 1 - half..t + half].iter().sum();
            (inner + 0.5 * (y[t - half] + y[t + half])) / m as f64
        } else {
            y[t - half..=t + half].iter().sum::<f64>() / m as f64
        };
        let r = if multiplicative { y[t] / ma } else { y[t] - ma };
        if r.is_finite() {
            sums[t % m] += r;
            counts[t % m] += 1;
        }
    }
    let mut idx: Vec<f64> = sums
        .iter()
        .zip(&counts)
        .map(|(s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
        .collect();
    if multiplicative {
        let mean = idx.iter().sum::<f64>() / m as f64;
        if mean <= 0.0 || !mean.is_finite() {
            return None;
        }
        idx.iter_mut().for_each(|v| *v /= mean);
        if idx.iter().any(|&v| v <= 0.0 || !v.is_finite()) {
            return None;
        }
    } else {
        let mean = idx.iter().sum::<f64>() / m as f64;
        idx.iter_mut().for_each(|v| *v -= mean);
    }
    Some(Seasonal {
        indices: idx,
        multiplicative,
    })
}

/// Seasonal indices when the series passes the seasonality test, else `None`.
pub fn seasonal_if_any(y: &[f64], m: usize) -> Option<Seasonal> {
    if is_seasonal(y, m) {
        classical(y, m)
    } else {
        None
    }
}
