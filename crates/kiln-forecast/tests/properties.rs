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

mod store_strategy {
    use std::collections::BTreeMap;

    use kiln_forecast::store::{StoreLine, StrategyOptions, store_strategy};
    use proptest::prelude::*;

    type Raw = (i64, u8, u8, u8, f64);

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

        /// Any mix of days, stores, products, values and (signed) quantities
        /// gives a strategy within its bounds, finite, never a panic.
        #[test]
        fn a_strategy_stays_within_its_bounds(
            raw in prop::collection::vec((0i64..400, 0u8..3, 0u8..4, 0u8..3, -5.0f64..50.0), 0..300),
            slots in 0usize..20,
            weeks in 1usize..60,
        ) {
            let sels: Vec<BTreeMap<String, String>> = (0..3)
                .map(|v| [("colour".to_string(), format!("c{v}"))].into())
                .collect();
            let stores = ["a", "b"];
            let products = ["p0", "p1", "p2", "p3"];
            let tickets: Vec<String> = (0..raw.len()).map(|i| format!("t{}", i / 2)).collect();
            let lines: Vec<StoreLine<'_>> = raw
                .iter()
                .zip(&tickets)
                .map(|((day, store, product, sel, q), t): (&Raw, &String)| StoreLine {
                    day: 20_000 + day,
                    store: stores.get(*store as usize).copied(),
                    ticket: t,
                    product: products[*product as usize],
                    selections: &sels[*sel as usize],
                    quantity: *q,
                })
                .collect();
            let o = StrategyOptions {
                last_day: 20_400,
                first_staff_day: 20_401,
                history_weeks: weeks,
                display_slots: slots,
                ..StrategyOptions::default()
            };
            let s = store_strategy("a", &lines, &o);
            prop_assert_eq!(s.units.len(), weeks);
            prop_assert!(s.units.iter().all(|u| u.is_finite() && *u >= 0.0));
            prop_assert!(s.forecast.iter().chain(&s.lower).chain(&s.upper).all(|v| v.is_finite()));
            prop_assert!(s.samples.len() <= slots);
            prop_assert!(s.samples.iter().all(|x| (0.0..=1.0).contains(&x.expected_share)));
            prop_assert!(s.products.iter().chain(&s.values).all(|x| x.index.is_finite() && x.z.is_finite()));
            prop_assert_eq!(s.staffing.len(), 14);
            prop_assert!(s.staffing.iter().all(|d| d.staff >= 1 && d.tickets.is_finite()));
        }
    }
}
