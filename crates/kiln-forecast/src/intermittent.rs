//! Models for intermittent demand, written as statsforecast writes them: Croston (classic
//! and optimised), SBA, TSB, ADIDA and IMAPA.
//!
//! Simple exponential smoothing with statsforecast's start (the first fitted value is the
//! first observation) is a fold `f <- alpha v + (1 - alpha) f` from `f = y[0]` over every
//! value, so the fixed-smoothing models stream over the series without collecting demand
//! sizes and intervals first.

use crate::smoothing::{ses_alpha_within, ses_level};

/// SES with a fixed smoothing parameter, fed one value at a time.
#[derive(Clone, Copy)]
struct Ses {
    alpha: f64,
    level: Option<f64>,
}

impl Ses {
    fn new(alpha: f64) -> Self {
        Self { alpha, level: None }
    }
    fn push(&mut self, v: f64) {
        let f = self.level.unwrap_or(v);
        self.level = Some(self.alpha * v + (1.0 - self.alpha) * f);
    }
}

fn demand_and_intervals(y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let mut d = Vec::new();
    let mut iv = Vec::new();
    let mut last = 0usize;
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 {
            d.push(v);
            iv.push((i + 1 - last) as f64);
            last = i + 1;
        }
    }
    (d, iv)
}

/// SES with its smoothing parameter in [0.1, 0.3] chosen to within 1e-3: the squared
/// error is flat near its minimum, and forecasts move by far less than 1e-4 from there.
fn optimised_ses(y: &[f64]) -> f64 {
    let a = ses_alpha_within(y, 0.1, 0.3, 1e-3);
    ses_level(y, a)
}

/// Croston's method with smoothing 0.1 for sizes and intervals.
pub fn croston(y: &[f64]) -> f64 {
    let (mut size, mut interval) = (Ses::new(0.1), Ses::new(0.1));
    let mut last = 0usize;
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 {
            size.push(v);
            interval.push((i + 1 - last) as f64);
            last = i + 1;
        }
    }
    match (size.level, interval.level) {
        (None, _) => 0.0,
        (Some(d), Some(p)) if p != 0.0 => d / p,
        (Some(d), _) => d,
    }
}

/// Croston's method with optimised smoothing (in [0.1, 0.3]).
pub fn croston_optimized(y: &[f64]) -> f64 {
    let (d, iv) = demand_and_intervals(y);
    if d.is_empty() {
        return 0.0;
    }
    let yd = optimised_ses(&d);
    let yi = optimised_ses(&iv);
    if yi != 0.0 { yd / yi } else { yd }
}

/// Syntetos-Boylan approximation: Croston times 0.95.
pub fn sba(y: &[f64]) -> f64 {
    0.95 * croston(y)
}

/// Teunter-Syntetos-Babai: smoothed demand probability times smoothed demand size.
pub fn tsb(y: &[f64], alpha_d: f64, alpha_p: f64) -> f64 {
    let (mut size, mut prob) = (Ses::new(alpha_d), Ses::new(alpha_p));
    for &v in y {
        prob.push(if v != 0.0 { 1.0 } else { 0.0 });
        if v != 0.0 {
            size.push(v);
        }
    }
    match (size.level, prob.level) {
        (Some(d), Some(p)) => p * d,
        _ => 0.0,
    }
}

/// The mean interval between demands, rounded (half to even), at least 1; `None`
/// without demand.
fn mean_interval_rounded(y: &[f64]) -> Option<usize> {
    // the intervals telescope: their sum is the position of the last demand
    let (mut count, mut last) = (0usize, 0usize);
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 {
            count += 1;
            last = i + 1;
        }
    }
    if count == 0 {
        return None;
    }
    let m = last as f64 / count as f64;
    Some((m.round_ties_even() as usize).max(1))
}

fn aggregated_forecast(y: &[f64], level: usize, sums: &mut Vec<f64>) -> f64 {
    let lost = y.len() % level;
    sums.clear();
    sums.extend(y[lost..].chunks(level).map(|c| c.iter().sum::<f64>()));
    if sums.is_empty() {
        return 0.0;
    }
    optimised_ses(sums) / level as f64
}

/// The ADIDA forecast at every aggregation level from 1 to the mean interval between
/// demands (ADIDA is the last, IMAPA their mean); empty without demand.
pub fn aggregated_forecasts(y: &[f64]) -> Vec<f64> {
    let Some(max) = mean_interval_rounded(y) else {
        return Vec::new();
    };
    let mut sums = Vec::with_capacity(y.len());
    (1..=max.min(y.len()))
        .map(|l| aggregated_forecast(y, l, &mut sums))
        .collect()
}

/// ADIDA: temporal aggregation at the mean inter-demand interval, SES, disaggregation.
pub fn adida(y: &[f64]) -> f64 {
    match mean_interval_rounded(y) {
        None => 0.0,
        Some(level) => aggregated_forecast(y, level.min(y.len()), &mut Vec::new()),
    }
}

/// IMAPA: the mean of ADIDA forecasts at every aggregation level up to the mean interval.
pub fn imapa(y: &[f64]) -> f64 {
    imapa_from(&aggregated_forecasts(y))
}

/// IMAPA from [`aggregated_forecasts`].
pub fn imapa_from(levels: &[f64]) -> f64 {
    if levels.is_empty() {
        0.0
    } else {
        levels.iter().sum::<f64>() / levels.len() as f64
    }
}

/// ADIDA from [`aggregated_forecasts`].
pub fn adida_from(levels: &[f64]) -> f64 {
    levels.last().copied().unwrap_or(0.0)
}
