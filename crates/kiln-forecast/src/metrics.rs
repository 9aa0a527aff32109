//! Accuracy measures exactly as the M4 competition computed them.

/// Symmetric MAPE in percent: mean of 200 |y - f| / (|y| + |f|).
pub fn smape(actual: &[f64], forecast: &[f64]) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    let s: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(&y, &f)| {
            let d = y.abs() + f.abs();
            if d == 0.0 {
                0.0
            } else {
                200.0 * (y - f).abs() / d
            }
        })
        .sum();
    s / n as f64
}

/// The in-sample scale of MASE: mean absolute seasonal difference at lag `m`
/// (lag 1 when the series is shorter than `m + 1`).
pub fn mase_scale(insample: &[f64], m: usize) -> f64 {
    let m = if insample.len() > m { m.max(1) } else { 1 };
    if insample.len() <= m {
        return 0.0;
    }
    let s: f64 = (m..insample.len())
        .map(|t| (insample[t] - insample[t - m]).abs())
        .sum();
    s / (insample.len() - m) as f64
}

/// Mean absolute scaled error against the seasonal naive in-sample error at lag `m`.
pub fn mase(insample: &[f64], actual: &[f64], forecast: &[f64], m: usize) -> f64 {
    mase_scaled(actual, forecast, mase_scale(insample, m))
}

/// MASE with its scale ([`mase_scale`]) given.
pub fn mase_scaled(actual: &[f64], forecast: &[f64], scale: f64) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    let mae: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| (y - f).abs())
        .sum::<f64>()
        / n as f64;
    if scale > 0.0 {
        mae / scale
    } else if mae == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// The in-sample scale of RMSSE: mean squared one-step difference.
pub fn rmsse_scale(insample: &[f64]) -> f64 {
    if insample.len() > 1 {
        insample
            .windows(2)
            .map(|w| (w[1] - w[0]) * (w[1] - w[0]))
            .sum::<f64>()
            / (insample.len() - 1) as f64
    } else {
        0.0
    }
}

/// Root mean squared scaled error (M5): RMSE over the in-sample mean squared one-step
/// difference's root.
pub fn rmsse(insample: &[f64], actual: &[f64], forecast: &[f64]) -> f64 {
    rmsse_scaled(actual, forecast, rmsse_scale(insample))
}

/// RMSSE with its scale ([`rmsse_scale`]) given.
pub fn rmsse_scaled(actual: &[f64], forecast: &[f64], scale: f64) -> f64 {
    let n = actual.len().min(forecast.len());
    if n == 0 {
        return 0.0;
    }
    let mse: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(y, f)| (y - f) * (y - f))
        .sum::<f64>()
        / n as f64;
    if scale > 0.0 {
        (mse / scale).sqrt()
    } else if mse == 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Overall weighted average relative to Naive2's sMAPE and MASE.
pub fn owa(smape: f64, mase: f64, naive2_smape: f64, naive2_mase: f64) -> f64 {
    0.5 * (smape / naive2_smape + mase / naive2_mase)
}

/// The official Naive2 figures of M4 (sMAPE, MASE) by the seasonality used for a frequency:
/// 24 Hourly, 52 Weekly, 12 Monthly, 4 Quarterly, 1 Daily.
pub fn m4_naive2(season: usize) -> Option<(f64, f64)> {
    match season {
        24 => Some((18.383, 2.395)),
        52 => Some((9.161, 2.777)),
        1 => Some((3.045, 3.278)),
        12 => Some((14.427, 1.063)),
        4 => Some((11.012, 1.371)),
        _ => None,
    }
}
