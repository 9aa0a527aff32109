//! Forecasts never panic and never return NaN or infinity on arbitrary finite input.

use kiln_forecast::{AutoOptions, Model, auto, forecast};
use proptest::prelude::*;

fn every_model() -> Vec<Model> {
    let mut ms: Vec<Model> = Model::NAMES.iter().map(|n| n.parse().unwrap()).collect();
    ms.push("median(snaive+theta+mstl)".parse().unwrap());
    ms.push("mean(ses+croston)".parse().unwrap());
    ms
}

fn values() -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(-1e6f64..1e6, 1..80),
        prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..50.0], 1..80),
        prop::collection::vec(
            prop_oneof![Just(0.0), Just(1.0), Just(1e9), Just(-1e-9)],
            1..60
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn every_model_gives_finite_forecasts(y in values(), h in 1usize..30, season in 1usize..13) {
        let periods: Vec<usize> = if season > 1 { vec![season, 2 * season] } else { vec![] };
        for m in every_model() {
            let f = forecast(&m, &y, &periods, h);
            prop_assert_eq!(f.len(), h);
            prop_assert!(f.iter().all(|v| v.is_finite()), "{} gave {:?} on {:?}", m, f, y);
        }
    }

    #[test]
    fn auto_gives_finite_forecasts_and_intervals(y in values(), h in 1usize..20, season in 1usize..8) {
        let periods: Vec<usize> = if season > 1 { vec![season] } else { vec![] };
        let f = auto(&y, &periods, h, &AutoOptions::default());
        prop_assert_eq!(f.mean.len(), h);
        for i in 0..h {
            prop_assert!(f.mean[i].is_finite() && f.lower[i].is_finite() && f.upper[i].is_finite());
            prop_assert!(f.lower[i] <= f.mean[i] + 1e-9 * f.mean[i].abs().max(1.0));
            prop_assert!(f.upper[i] >= f.mean[i] - 1e-9 * f.mean[i].abs().max(1.0));
        }
    }
}

#[test]
fn empty_series_gives_zeros() {
    assert_eq!(forecast(&Model::Ets, &[], &[4], 3), vec![0.0; 3]);
}

#[test]
fn auto_explains_its_choice() {
    let y: Vec<f64> = (0..200)
        .map(|t| {
            100.0 + 10.0 * ((t % 24) as f64 / 24.0 * std::f64::consts::TAU).sin() + 0.1 * t as f64
        })
        .collect();
    let f = auto(&y, &[24], 24, &AutoOptions::default());
    assert_eq!(f.windows, 2);
    assert!(!f.cv.is_empty());
    assert_eq!(
        f.cv[0].model, f.model,
        "the chosen model has the lowest CV error"
    );
    assert!(f.cv.windows(2).all(|w| w[0].error <= w[1].error));
    assert_eq!(f.criterion, "MASE");
}
