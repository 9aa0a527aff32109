//! Models for intermittent demand, written as statsforecast writes them: Croston (classic
//! and optimised), SBA, TSB, ADIDA and IMAPA.

use crate::smoothing::{ses_alpha, ses_level};

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

fn optimised_ses(y: &[f64]) -> f64 {
    let a = ses_alpha(y, 0.1, 0.3);
    ses_level(y, a)
}

/// Croston's method with smoothing 0.1 for sizes and intervals.
pub fn croston(y: &[f64]) -> f64 {
    let (d, iv) = demand_and_intervals(y);
    if d.is_empty() {
        return 0.0;
    }
    let yd = ses_level(&d, 0.1);
    let yi = ses_level(&iv, 0.1);
    if yi != 0.0 { yd / yi } else { yd }
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
    let (d, _) = demand_and_intervals(y);
    if d.is_empty() {
        return 0.0;
    }
    let p: Vec<f64> = y
        .iter()
        .map(|&v| if v != 0.0 { 1.0 } else { 0.0 })
        .collect();
    ses_level(&p, alpha_p) * ses_level(&d, alpha_d)
}

fn mean_interval_rounded(y: &[f64]) -> Option<usize> {
    let (_, iv) = demand_and_intervals(y);
    if iv.is_empty() {
        return None;
    }
    let m = iv.iter().sum::<f64>() / iv.len() as f64;
    Some((m.round_ties_even() as usize).max(1))
}

fn aggregated_forecast(y: &[f64], level: usize) -> f64 {
    let lost = y.len() % level;
    let sums: Vec<f64> = y[lost..].chunks(level).map(|c| c.iter().sum()).collect();
    if sums.is_empty() {
        return 0.0;
    }
    optimised_ses(&sums) / level as f64
}

/// ADIDA: temporal aggregation at the mean inter-demand interval, SES, disaggregation.
pub fn adida(y: &[f64]) -> f64 {
    match mean_interval_rounded(y) {
        None => 0.0,
        Some(level) => aggregated_forecast(y, level.min(y.len())),
    }
}

/// IMAPA: the mean of ADIDA forecasts at every aggregation level up to the mean interval.
pub fn imapa(y: &[f64]) -> f64 {
    match mean_interval_rounded(y) {
        None => 0.0,
        Some(max) => {
            let max = max.min(y.len());
            (1..=max).map(|l| aggregated_forecast(y, l)).sum::<f64>() / max as f64
        }
    }
}
