//! The scoring reproduces the official M4 figures of the seasonal naive on Hourly
//! (sMAPE 13.912, MASE 1.193). Needs ../shared/bench/forecasting; skipped without it.

use std::path::PathBuf;

use kiln_forecast::{Model, forecast, metrics};

fn read_wide(path: &PathBuf) -> Vec<Vec<f64>> {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .skip(1)
                .map(|f| f.trim().trim_matches('"'))
                .filter(|f| !f.is_empty() && *f != "NA")
                .map(|f| f.parse().expect("number"))
                .collect()
        })
        .collect()
}

#[test]
fn seasonal_naive_reproduces_official_m4_hourly_figures() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/bench/forecasting");
    let (train, test) = (
        dir.join("m4-hourly-train.csv"),
        dir.join("m4-hourly-test.csv"),
    );
    if !train.exists() || !test.exists() {
        eprintln!("skipped: {} not present", dir.display());
        return;
    }
    let (train, test) = (read_wide(&train), read_wide(&test));
    assert_eq!(train.len(), 414);
    let (mut s, mut m) = (0.0, 0.0);
    for (tr, te) in train.iter().zip(&test) {
        let f = forecast(&Model::SeasonalNaive, tr, &[24], 48);
        s += metrics::smape(te, &f);
        m += metrics::mase(tr, te, &f, 24);
    }
    let (s, m) = (s / 414.0, m / 414.0);
    assert_eq!((s * 1000.0).round() / 1000.0, 13.912, "sMAPE {s}");
    assert_eq!((m * 1000.0).round() / 1000.0, 1.193, "MASE {m}");
    let owa = metrics::owa(s, m, 18.383, 2.395);
    assert!((owa - 0.627).abs() < 0.001, "OWA {owa}");
}
