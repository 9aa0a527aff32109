//! Each model against reference values computed once with statsforecast
//! (`fixtures/make_fixtures.py`, output committed as `fixtures/statsforecast.json`).

use kiln_forecast::{Model, forecast, intermittent, smoothing, stl};
use serde_json::Value;

fn fixtures() -> Value {
    serde_json::from_str(include_str!("fixtures/statsforecast.json")).expect("fixture JSON")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("integer") as usize)
        .collect()
}

fn assert_close(what: &str, got: &[f64], want: &[f64], rel: f64) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rel * w.abs().max(1.0);
        assert!(
            (g - w).abs() <= tol,
            "{what}[{i}]: got {g}, statsforecast {w} (tolerance {tol})"
        );
    }
}

/// Models that statsforecast computes in closed form or with a one-dimensional search:
/// ours must agree to 1e-6 (1e-4 where a golden-section search decides alpha).
#[test]
fn exact_models_match_statsforecast() {
    let fx = fixtures();
    let h = fx["horizon"].as_u64().unwrap() as usize;
    let mut checked = 0;
    for (name, s) in fx["series"].as_object().unwrap() {
        let y = floats(&s["y"]);
        let m = s["season"].as_u64().unwrap() as usize;
        for (model, want) in s["exact"].as_object().unwrap() {
            let want = floats(want);
            let (got, rel) = match model.as_str() {
                "naive" => (forecast(&Model::Naive, &y, &[], h), 1e-9),
                "snaive" => (forecast(&Model::SeasonalNaive, &y, &[m], h), 1e-9),
                "ses_alpha_0.3" => (vec![smoothing::ses_level(&y, 0.3); h], 1e-9),
                "ses_opt" => (
                    vec![smoothing::ses_level(&y, smoothing::ses_alpha(&y, 0.01, 0.99)); h],
                    1e-4,
                ),
                "croston" => (forecast(&Model::Croston, &y, &[], h), 1e-9),
                "sba" => (forecast(&Model::Sba, &y, &[], h), 1e-9),
                "tsb" => (forecast(&Model::Tsb, &y, &[], h), 1e-9),
                "croston-opt" => (vec![intermittent::croston_optimized(&y); h], 1e-4),
                "adida" => (forecast(&Model::Adida, &y, &[], h), 1e-4),
                "imapa" => (forecast(&Model::Imapa, &y, &[], h), 1e-4),
                other => panic!("no mapping for fixture model {other}"),
            };
            assert_close(&format!("{name}/{model}"), &got, &want, rel);
            checked += 1;
        }
    }
    assert!(checked >= 20);
}

/// MSTL's decomposition is the same STL (statsmodels' port of the reference Fortran, no
/// jumps): trend and every seasonal component to 1e-6.
#[test]
fn mstl_decomposition_matches_statsforecast() {
    let fx = fixtures();
    for (name, s) in fx["series"].as_object().unwrap() {
        let Some(d) = s.get("mstl_decomposition") else {
            continue;
        };
        let y = floats(&s["y"]);
        let periods = usizes(&s["periods"]);
        let ours = stl::mstl_with(&y, &periods, true);
        let want_seasonals: Vec<Vec<f64>> = d["seasonals"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        assert_eq!(
            ours.seasonals.len(),
            want_seasonals.len(),
            "{name}: number of seasons"
        );
        for (k, (got, want)) in ours.seasonals.iter().zip(&want_seasonals).enumerate() {
            assert_close(&format!("{name}/seasonal{k}"), got, want, 1e-6);
        }
        assert_close(
            &format!("{name}/trend"),
            &ours.trend,
            &floats(&d["trend"]),
            1e-6,
        );
    }
}

/// Models fitted by numerical optimisation: statsforecast's optimiser and ours stop at
/// slightly different points, so forecasts must agree within 3% of the series level.
#[test]
fn optimised_models_are_close_to_statsforecast() {
    let fx = fixtures();
    let h = fx["horizon"].as_u64().unwrap() as usize;
    let mut failures = Vec::new();
    for (name, s) in fx["series"].as_object().unwrap() {
        let y = floats(&s["y"]);
        let periods = usizes(&s["periods"]);
        let level = y.iter().sum::<f64>() / y.len() as f64;
        for (model, want) in s["close"].as_object().unwrap() {
            // A non-seasonal model on a strongly two-seasonal series has a multimodal
            // likelihood: statsforecast's own ETS(A,N,N) and optimised SES disagree there
            // by 10% (199.8 against 181.2), so only MSTL is compared on that series.
            if periods.len() > 1 && model != "mstl" {
                continue;
            }
            let want = floats(want);
            let got = match model.as_str() {
                "ets_ANN" => {
                    let f =
                        smoothing::fit_ets(&y, smoothing::Error::Additive, smoothing::Trend::None)
                            .unwrap();
                    f.forecast(h)
                }
                "holt" => forecast(&Model::Holt, &y, &[], h),
                "damped" => forecast(&Model::Damped, &y, &[], h),
                "ets" => forecast(&Model::Ets, &y, &[], h),
                "theta" => forecast(&Model::Theta, &y, &[], h),
                "mstl" => forecast(&"mstl".parse().unwrap(), &y, &periods, h),
                other => panic!("no mapping for fixture model {other}"),
            };
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                let tol = 0.03 * level.abs();
                if (g - w).abs() > tol {
                    failures.push(format!(
                        "{name}/{model}[{i}]: got {g}, statsforecast {w} (tolerance {tol:.3})"
                    ));
                    break;
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
