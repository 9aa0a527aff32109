//! Configuration-aware demand and hot products, on examples computed by hand.

use std::collections::BTreeMap;

use kiln_forecast::Model;
use kiln_forecast::demand::{
    Bucket, DemandError, DemandOptions, MaterialQuantity, OrderLine, ProductBom, ValueMaterials,
    consume, format_date, hot_products, parse_date, plan_demand,
};
use kiln_forecast::hot::{HotOptions, assess, hot_flags};
use proptest::prelude::*;

fn line(date: &str, sel: &[(&str, &str)], qty: f64) -> OrderLine {
    OrderLine {
        date: date.into(),
        product: "mug".into(),
        selections: sel
            .iter()
            .map(|(o, v)| (o.to_string(), v.to_string()))
            .collect(),
        quantity: qty,
    }
}

fn mq(material: &str, quantity: f64) -> MaterialQuantity {
    MaterialQuantity {
        material: material.into(),
        quantity,
    }
}

fn vm(option: &str, value: &str, materials: Vec<MaterialQuantity>) -> ValueMaterials {
    ValueMaterials {
        option: option.into(),
        value: value.into(),
        materials,
    }
}

fn mug_bom() -> ProductBom {
    ProductBom {
        product: "mug".into(),
        base: vec![mq("clay", 0.1)],
        values: vec![
            vm("size", "S", vec![mq("clay", 0.3)]),
            vm("size", "M", vec![mq("clay", 0.38)]), // never sold
            vm("size", "L", vec![mq("clay", 0.46)]),
            vm("glaze", "blue", vec![mq("blue-glaze", 0.05)]),
            vm("glaze", "red", vec![mq("red-glaze", 0.05)]),
        ],
    }
}

/// Three weeks of history (Mondays 1, 8 and 15 January 2024) and one order booked in the
/// first forecast week.
fn mug_orders() -> Vec<OrderLine> {
    vec![
        line("2024-01-01", &[("size", "S"), ("glaze", "blue")], 6.0),
        line(
            "2024-01-03 10:00:00",
            &[("size", "L"), ("glaze", "blue")],
            4.0,
        ),
        line("2024-01-08", &[("size", "S"), ("glaze", "blue")], 6.0),
        line("2024-01-14", &[("size", "L"), ("glaze", "red")], 4.0),
        line("2024-01-15", &[("size", "S"), ("glaze", "blue")], 8.0),
        line("2024-01-20", &[("size", "L"), ("glaze", "red")], 2.0),
        line("2024-01-21", &[("size", "S"), ("glaze", "blue")], 2.0),
        // booked for the week of 22 January
        line("2024-01-23", &[("size", "L"), ("glaze", "red")], 5.0),
    ]
}

fn naive_weekly() -> DemandOptions {
    DemandOptions {
        bucket: Bucket::Week,
        horizon: 2,
        as_of: Some("2024-01-21".into()),
        model: Some(Model::Naive),
        ..Default::default()
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn products_and_values_reconcile_and_explode_into_materials() {
    let plan = plan_demand(&mug_orders(), &[mug_bom()], &naive_weekly()).unwrap();
    assert_eq!(
        plan.history_periods,
        ["2024-01-01", "2024-01-08", "2024-01-15"]
    );
    assert_eq!(plan.periods, ["2024-01-22", "2024-01-29"]);
    let mug = &plan.products[0];
    // weeks: 10, 10, 12; the naive forecast is 12
    assert_eq!(mug.history, [10.0, 10.0, 12.0]);
    assert_eq!(mug.requirement.forecast, [12.0, 12.0]);
    let value = |o: &str, v: &str| {
        mug.values
            .iter()
            .find(|x| x.option == o && x.value == v)
            .unwrap()
    };
    // size: S 6, 6, 10 and L 4, 4, 2 are dense; their naive forecasts 10 and 2 already
    // add up to the product's
    let (s, l) = (value("size", "S"), value("size", "L"));
    assert!(s.dense && l.dense);
    assert_eq!(s.history, [6.0, 6.0, 10.0]);
    assert!(close(s.requirement.forecast[0], 10.0), "{s:?}");
    assert!(close(l.requirement.forecast[0], 2.0), "{l:?}");
    // glaze: blue 10, 6, 10 is dense (naive 10); red 0, 4, 2 is sparse (a third of its
    // weeks without demand): its share of history, 6/32, of 12 = 2.25; 10 + 2.25 scaled
    // to 12
    let (blue, red) = (value("glaze", "blue"), value("glaze", "red"));
    assert_eq!(blue.history, [10.0, 6.0, 10.0]);
    assert!(blue.dense && !red.dense);
    assert!(close(red.share, 6.0 / 32.0));
    assert!(close(blue.requirement.forecast[0], 10.0 * 12.0 / 12.25));
    assert!(close(red.requirement.forecast[0], 2.25 * 12.0 / 12.25));
    // never sold: no forecast of its own
    assert!(mug.values.iter().all(|v| v.value != "M"));
    // clay: 0.1 per mug, plus 0.3 per S and 0.46 per L
    let material = |m: &str| {
        plan.materials
            .iter()
            .find(|x| x.material == m)
            .unwrap()
            .requirement
            .clone()
    };
    let clay = material("clay");
    assert!(close(
        clay.forecast[0],
        0.1 * 12.0 + 0.3 * 10.0 + 0.46 * 2.0
    ));
    assert!(close(
        material("red-glaze").forecast[1],
        0.05 * 2.25 * 12.0 / 12.25
    ));
    // A SKU never sold (S with red glaze) is planned all the same: its clay comes with
    // the S forecast and its glaze with the red one.
}

#[test]
fn booked_orders_consume_the_forecast() {
    let plan = plan_demand(&mug_orders(), &[mug_bom()], &naive_weekly()).unwrap();
    let mug = &plan.products[0];
    // 5 booked in the first week: inside the forecast of 12
    assert_eq!(mug.requirement.booked, [5.0, 0.0]);
    assert_eq!(mug.requirement.gross, [12.0, 12.0]);
    // L: forecast 2, booked 5: the booked orders exceed the forecast
    let l = mug.values.iter().find(|v| v.value == "L").unwrap();
    assert_eq!(l.requirement.booked, [5.0, 0.0]);
    assert!(close(l.requirement.gross[0], 5.0) && close(l.requirement.gross[1], 2.0));
    // materials of the booked line come from its own selections: 5 x (0.1 + 0.46) clay
    let clay = plan
        .materials
        .iter()
        .find(|m| m.material == "clay")
        .unwrap();
    assert!(close(clay.requirement.booked[0], 2.8));
    assert!(close(clay.requirement.gross[0], 5.12));
    let red = plan
        .materials
        .iter()
        .find(|m| m.material == "red-glaze")
        .unwrap();
    assert!(close(red.requirement.gross[0], 0.25));
}

#[test]
fn consumption_is_max_of_forecast_less_booked_plus_booked() {
    assert_eq!(
        consume(&[10.0, 10.0, 0.0], &[4.0, 15.0, 3.0]),
        [10.0, 15.0, 3.0]
    );
}

#[test]
fn an_option_left_unselected_keeps_its_share_out() {
    // half the units have no engraving selected: the engraved values add up to half
    let orders = vec![
        line("2024-01-01", &[("engraving", "yes")], 5.0),
        line("2024-01-01", &[], 5.0),
        line("2024-01-08", &[("engraving", "yes")], 5.0),
        line("2024-01-08", &[], 5.0),
    ];
    let o = DemandOptions {
        as_of: None,
        ..naive_weekly()
    };
    let plan = plan_demand(&orders, &[], &o).unwrap();
    let mug = &plan.products[0];
    assert_eq!(mug.requirement.forecast, [10.0, 10.0]);
    assert_eq!(mug.values[0].requirement.forecast, [5.0, 5.0]);
}

#[test]
fn a_product_with_a_bom_and_no_orders_is_listed_with_zero_demand() {
    let mut plate = mug_bom();
    plate.product = "plate".into();
    let plan = plan_demand(&mug_orders(), &[mug_bom(), plate], &naive_weekly()).unwrap();
    let p = plan.products.iter().find(|p| p.product == "plate").unwrap();
    assert_eq!(p.requirement.forecast, [0.0, 0.0]);
}

#[test]
fn bad_input_is_a_clear_error() {
    let mut orders = mug_orders();
    orders[2].date = "2024-02-30".into();
    let e = plan_demand(&orders, &[], &naive_weekly()).unwrap_err();
    assert_eq!(
        e,
        DemandError::BadDate {
            line: 2,
            date: "2024-02-30".into()
        }
    );
    assert!(e.to_string().contains("order line 2"));
    let mut orders = mug_orders();
    orders[1].quantity = -1.0;
    assert!(matches!(
        plan_demand(&orders, &[], &naive_weekly()),
        Err(DemandError::BadQuantity { line: 1, .. })
    ));
    assert_eq!(
        plan_demand(&[], &[], &DemandOptions::default()),
        Err(DemandError::NoHistory)
    );
    let mut bom = mug_bom();
    bom.base[0].quantity = f64::NAN;
    assert!(matches!(
        plan_demand(&mug_orders(), &[bom], &naive_weekly()),
        Err(DemandError::BadBomQuantity { .. })
    ));
}

#[test]
fn dates_and_buckets() {
    assert_eq!(
        parse_date("2024-02-29"),
        parse_date("2024-02-28").map(|d| d + 1)
    );
    assert_eq!(parse_date("2023-02-29"), None);
    assert_eq!(parse_date("2024-13-01"), None);
    assert_eq!(parse_date("24-01-01"), None);
    let d = parse_date("2011-12-09 12:50:00").unwrap();
    assert_eq!(format_date(d), "2011-12-09");
    // Friday 9 December 2011 is in the week starting Monday 5 December
    assert_eq!(
        format_date(Bucket::Week.start(Bucket::Week.of(d))),
        "2011-12-05"
    );
    assert_eq!(
        format_date(Bucket::Month.start(Bucket::Month.of(d))),
        "2011-12-01"
    );
    let jan = parse_date("2012-01-01").unwrap();
    assert_eq!(Bucket::Month.of(jan), Bucket::Month.of(d) + 1);
}

#[test]
fn demand_running_far_above_its_forecast_is_hot() {
    let o = HotOptions::default();
    // 28 days at 10 a day, then a week at 30 a day: three times the forecast
    let mut y = vec![10.0; 28];
    y.extend([30.0; 7]);
    let a = assess("mug", &y, &o).unwrap();
    assert!(a.hot);
    assert_eq!(a.forecast, [10.0; 7]);
    assert_eq!((a.actual_total, a.forecast_total), (210.0, 70.0));
    assert_eq!(a.ratio, 3.0);
    // a steady series is not
    assert!(!assess("plate", &[10.0; 35], &o).unwrap().hot);
    // nor is a small rise within the noise
    let noisy: Vec<f64> = (0..35)
        .map(|t| 10.0 + if t % 2 == 0 { 3.0 } else { -3.0 } + if t >= 28 { 1.0 } else { 0.0 })
        .collect();
    assert!(!assess("bowl", &noisy, &o).unwrap().hot);
    let flags = hot_flags(
        &[("mug".into(), y.clone()), ("plate".into(), vec![10.0; 35])],
        &o,
    );
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0].key, "mug");
}

#[test]
fn hot_products_and_option_values_from_orders() {
    // a steady 2 a day of blue; red takes off in the last week
    let mut orders = Vec::new();
    for day in 1..=28 {
        let date = format!("2024-02-{day:02}");
        orders.push(line(&date, &[("glaze", "blue")], 2.0));
        let red = if day > 21 { 6.0 } else { 1.0 };
        orders.push(line(&date, &[("glaze", "red")], red));
    }
    let o = DemandOptions {
        bucket: Bucket::Day,
        ..Default::default()
    };
    let report = hot_products(&orders, &o, &HotOptions::default()).unwrap();
    assert_eq!(report.periods.len(), 28);
    let keys: Vec<&str> = report
        .flags
        .iter()
        .map(|f| f.assessment.key.as_str())
        .collect();
    assert!(keys.contains(&"mug: glaze=red"), "{keys:?}");
    assert!(!keys.contains(&"mug: glaze=blue"), "{keys:?}");
    let red = report
        .flags
        .iter()
        .find(|f| f.value.as_deref() == Some("red"))
        .unwrap();
    assert_eq!(red.assessment.actual_total, 42.0);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Whatever the orders, the plan is finite, the values of each option add up to at
    /// most the product forecast, and the gross requirement covers forecast and booked.
    #[test]
    fn plans_are_consistent(
        raw in prop::collection::vec((0i64..60, 0usize..3, 0usize..3, 0.0f64..20.0), 1..60),
        horizon in 1usize..5,
    ) {
        let start = parse_date("2024-01-01").unwrap();
        let orders: Vec<OrderLine> = raw.iter().map(|&(d, size, glaze, q)| {
            let mut sel = BTreeMap::new();
            sel.insert("size".to_string(), ["S", "M", "L"][size].to_string());
            if glaze < 2 {
                sel.insert("glaze".to_string(), ["blue", "red"][glaze].to_string());
            }
            OrderLine { date: format_date(start + d), product: "mug".into(), selections: sel, quantity: q }
        }).collect();
        let o = DemandOptions { bucket: Bucket::Week, horizon, as_of: Some(format_date(start + 45)), ..Default::default() };
        let plan = match plan_demand(&orders, &[mug_bom()], &o) {
            // Every line after the as-of date: nothing to forecast from, said plainly.
            Err(DemandError::NoHistory) => {
                prop_assert!(raw.iter().all(|&(d, ..)| d > 45));
                return Ok(());
            }
            other => other.unwrap(),
        };
        for p in &plan.products {
            for t in 0..horizon {
                let f = p.requirement.forecast[t];
                prop_assert!(f.is_finite() && f >= 0.0);
                for opt in ["size", "glaze"] {
                    let sum: f64 = p.values.iter().filter(|v| v.option == opt).map(|v| v.requirement.forecast[t]).sum();
                    prop_assert!(sum <= f * (1.0 + 1e-9) + 1e-9, "{opt}: {sum} > {f}");
                    if opt == "size" && f > 0.0 {
                        prop_assert!((sum - f).abs() <= 1e-9 * f.max(1.0), "size covers every unit: {sum} vs {f}");
                    }
                }
            }
        }
        for m in &plan.materials {
            for t in 0..horizon {
                let r = &m.requirement;
                prop_assert!(r.gross[t] >= r.forecast[t] - 1e-9 && r.gross[t] >= r.booked[t] - 1e-9);
            }
        }
    }
}
