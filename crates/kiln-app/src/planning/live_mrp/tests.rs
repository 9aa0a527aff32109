//! The live plan's levels against a plan built from the same totals, and
//! what leaves it when orders are made or taken back.

use jiff::civil::{Date, date};
use kiln_domain::OrderId;
use kiln_model::Factory;
use rust_decimal::Decimal;

use super::{LiveMrp, Start};

const TODAY: Date = date(2026, 12, 7);

fn factory() -> Factory {
    kiln_model::parse_factory(
        "factory.toml",
        r#"
[work_center.press]
machines = 1
minutes_per_day = 480

[material.rubber]
unit = "kg"
lead_days = 3

[material.leather]
unit = "m2"
lead_days = 2

[assembly.sole]
[[assembly.sole.bom]]
material = "rubber"
qty = 2
[[assembly.sole.operation]]
id = "trim"
work_center = "press"
minutes = 1

[assembly.pressing]
[[assembly.pressing.operation]]
id = "press"
work_center = "press"
minutes = 1
"#,
    )
    .expect("a factory file")
}

fn d(v: i64) -> Decimal {
    Decimal::from(v)
}

fn needs(list: &[(&str, i64)]) -> Vec<(String, Decimal)> {
    list.iter().map(|(i, q)| (i.to_string(), d(*q))).collect()
}

/// An order's totals: (order, materials, sub-assemblies).
type Totals<'a> = (&'a OrderId, &'a [(&'a str, i64)], &'a [(&'a str, i64)]);
/// What is made and what is bought, (item, units) each.
type Supply = (Vec<(String, Decimal)>, Vec<(String, Decimal)>);

fn built(f: &Factory, orders: &[Totals<'_>]) -> LiveMrp {
    let mut demand = Vec::new();
    let mut assemblies = Vec::new();
    for (order, materials, made) in orders {
        for (m, q) in needs(materials) {
            demand.push(((*order).clone(), m, q, TODAY));
        }
        for (a, q) in needs(made) {
            assemblies.push(((*order).clone(), a, q));
        }
    }
    LiveMrp::build(Start {
        today: TODAY,
        factory: f,
        on_hand: Vec::new(),
        on_order: &[],
        demand,
        assemblies,
    })
    .expect("a plan")
}

/// (item, units) made, then bought, each sorted.
fn supply(p: &LiveMrp) -> Supply {
    let list = |mut l: Vec<kiln_plan::mrp::PlannedSupply>| {
        l.sort_by(|a, b| a.item.cmp(&b.item));
        l.into_iter().map(|s| (s.item, s.qty)).collect::<Vec<_>>()
    };
    (
        list(p.plan().manufacturing_orders()),
        list(p.plan().purchase_suggestions()),
    )
}

#[test]
fn sub_assemblies_are_made_a_level_above_their_materials() {
    let f = factory();
    let mut live = built(&f, &[]);
    let o = OrderId::from("o1".to_string());
    live.add_order(
        &o,
        &needs(&[("rubber", 7), ("leather", 1)]),
        &needs(&[("sole", 3), ("pressing", 2)]),
        TODAY,
    );
    let (made, bought) = supply(&live);
    assert_eq!(made, needs(&[("pressing", 2), ("sole", 3)]));
    assert_eq!(bought, needs(&[("leather", 1), ("rubber", 7)]));
}

#[test]
fn made_or_taken_back_an_order_leaves_every_level() {
    let f = factory();
    let mut live = built(&f, &[]);
    let o = OrderId::from("o1".to_string());
    let all = needs(&[("rubber", 6), ("leather", 1)]);
    let made = needs(&[("sole", 3), ("pressing", 2)]);
    live.add_order(&o, &all, &made, TODAY);
    live.made(std::slice::from_ref(&o), &[]);
    assert_eq!(supply(&live), (vec![], vec![]));
    assert_eq!(live.order_lines().count(), 0);

    // Its materials all taken back, nothing is left to make either, even
    // the sub-assembly that is operations only.
    live.add_order(&o, &all, &made, TODAY);
    live.take_back(&o, &all, &[]);
    assert_eq!(supply(&live), (vec![], vec![]));
    assert_eq!(live.order_lines().count(), 0);
}

#[test]
fn net_change_equals_a_plan_built_from_the_same_totals() {
    let f = factory();
    let mut live = built(&f, &[]);
    let (o1, o2) = (
        OrderId::from("o1".to_string()),
        OrderId::from("o2".to_string()),
    );
    live.add_order(
        &o1,
        &needs(&[("rubber", 6), ("leather", 1)]),
        &needs(&[("sole", 3), ("pressing", 1)]),
        TODAY,
    );
    live.add_order(&o2, &needs(&[("rubber", 4)]), &needs(&[("sole", 2)]), TODAY);
    // A line of o2 cancelled, then some of o1's rubber gone to production:
    // its sole units no longer stand for their rubber.
    live.take_back(&o2, &needs(&[("rubber", 2)]), &needs(&[("sole", 1)]));
    live.take_back(&o1, &needs(&[("rubber", 1)]), &[]);
    let rebuilt = built(
        &f,
        &[
            (
                &o1,
                &[("rubber", 5), ("leather", 1)],
                &[("sole", 3), ("pressing", 1)],
            ),
            (&o2, &[("rubber", 2)], &[("sole", 1)]),
        ],
    );
    assert_eq!(supply(&live), supply(&rebuilt));
    assert_eq!(
        supply(&live).0,
        needs(&[("pressing", 1), ("sole", 1)]),
        "o1's soles stay exploded into rubber; o2's one is made"
    );
    for item in ["rubber", "leather", "sole", "pressing"] {
        assert_eq!(
            live.plan().time_phased(item).unwrap(),
            rebuilt.plan().time_phased(item).unwrap(),
            "{item}"
        );
    }
}
