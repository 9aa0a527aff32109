//! Property tests on multi-level MRP: net change equals full regeneration, orders respect
//! MOQ and lot sizes, quantities balance day by day, and no input panics.

use std::collections::HashMap;

use jiff::{
    ToSpan,
    civil::{Date, date},
};
use kiln_plan::mrp::{
    BomLine, DemandLine, Item, MrpError, MrpInput, MrpPlan, OpenPurchaseOrder, Source,
};
use proptest::prelude::*;
use rust_decimal::{Decimal, RoundingStrategy};

const TODAY: Date = date(2025, 6, 2);

fn day(offset: i64) -> Date {
    TODAY.checked_add(offset.days()).unwrap()
}

fn cents(max: i64) -> impl Strategy<Value = Decimal> {
    (0..max).prop_map(|c| Decimal::new(c, 2))
}

/// (make, lead, moq, lot, on hand, reserved)
fn item_params() -> impl Strategy<Value = (bool, u32, Decimal, Decimal, Decimal, Decimal)> {
    (
        any::<bool>(),
        0u32..8,
        prop_oneof![Just(Decimal::ZERO), cents(2000)],
        prop_oneof![
            Just(Decimal::ZERO),
            Just(Decimal::new(5, 1)),
            (1i64..6).prop_map(Decimal::from)
        ],
        cents(3000),
        cents(1000),
    )
}

fn qty_per() -> impl Strategy<Value = Decimal> {
    prop::sample::select(vec![
        "0.5",
        "1",
        "2",
        "3",
        "0.25",
        "1.5",
        "0.333",
        "0.1234567",
    ])
    .prop_map(|s| s.parse().unwrap())
}

#[derive(Debug, Clone)]
struct Case {
    input: MrpInput,
    /// Demand lines planned in full; the rest arrive one by one.
    split: usize,
    /// Demand lines removed afterwards.
    remove: Vec<bool>,
}

/// A random DAG: edges only go from a lower to a higher generated index, and the items are
/// listed in a shuffled order so that input order means nothing.
fn case() -> impl Strategy<Value = Case> {
    (1usize..7).prop_flat_map(|n| {
        (
            prop::collection::vec(item_params(), n),
            prop::collection::vec((0..n, 0..n, qty_per()), 0..12),
            prop::collection::vec((0..n, cents(3000), -3i64..25), 0..5),
            prop::collection::vec((0..n, cents(1000), -3i64..30), 0..10),
            Just((0..n).collect::<Vec<_>>()).prop_shuffle(),
            0usize..10,
            prop::collection::vec(any::<bool>(), 10),
        )
            .prop_map(|(params, edges, pos, demand, order, split, remove)| {
                let name = |k: usize| format!("i{k}");
                let items = order
                    .iter()
                    .map(|&k| {
                        let (make, lead, moq, lot, on_hand, reserved) = params[k];
                        Item {
                            id: name(k),
                            source: if make { Source::Make } else { Source::Buy },
                            lead_days: lead,
                            moq,
                            lot_size: lot,
                            on_hand,
                            reserved,
                        }
                    })
                    .collect();
                let bom = edges
                    .into_iter()
                    .filter(|&(p, c, _)| p < c && params[p].0)
                    .map(|(p, c, qty_per)| BomLine {
                        parent: name(p),
                        component: name(c),
                        qty_per,
                    })
                    .collect();
                let purchase_orders = pos
                    .into_iter()
                    .map(|(k, qty, d)| OpenPurchaseOrder {
                        item: name(k),
                        qty,
                        due: day(d),
                    })
                    .collect();
                let demand: Vec<_> = demand
                    .into_iter()
                    .enumerate()
                    .map(|(id, (k, qty, d))| DemandLine {
                        id: id as u64 * 7 + 3,
                        item: name(k),
                        qty,
                        need_by: day(d),
                    })
                    .collect();
                Case {
                    split: split.min(demand.len()),
                    input: MrpInput {
                        today: TODAY,
                        items,
                        bom,
                        purchase_orders,
                        demand,
                    },
                    remove,
                }
            })
    })
}

/// Everything observable about a plan, item by item.
fn snapshot(plan: &MrpPlan, input: &MrpInput) -> Vec<String> {
    let mut out: Vec<String> = input
        .items
        .iter()
        .map(|it| {
            format!(
                "{} {:?} {:?}",
                it.id,
                plan.planned_supply(&it.id).unwrap(),
                plan.time_phased(&it.id).unwrap()
            )
        })
        .collect();
    out.push(format!("{:?} {:?}", plan.summary(), plan.shortages()));
    for line in &input.demand {
        out.push(format!("{:?}", plan.demand_shortages(line.id)));
    }
    out
}

fn lot_size(need: Decimal, moq: Decimal, lot: Decimal) -> Decimal {
    let q = need.max(moq);
    if lot > Decimal::ZERO {
        (q / lot).ceil() * lot
    } else {
        q
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn net_change_equals_full_regeneration(case in case()) {
        let full = MrpPlan::new(&case.input).unwrap();
        let mut partial = case.input.clone();
        let rest = partial.demand.split_off(case.split);
        let mut plan = MrpPlan::new(&partial).unwrap();
        for line in &rest {
            plan.add_demand(line).unwrap();
        }
        prop_assert_eq!(snapshot(&plan, &case.input), snapshot(&full, &case.input));

        let mut kept = case.input.clone();
        kept.demand.clear();
        for (k, line) in case.input.demand.iter().enumerate() {
            if case.remove[k] {
                plan.remove_demand(line.id).unwrap();
            } else {
                kept.demand.push(line.clone());
            }
        }
        let fresh = MrpPlan::new(&kept).unwrap();
        prop_assert_eq!(snapshot(&plan, &kept), snapshot(&fresh, &kept));
    }

    /// A receipt, a new purchase or issued stock changes one item's supply: the plan
    /// after `set_supply` equals one regenerated from the changed input.
    #[test]
    fn supply_change_equals_full_regeneration(
        case in case(),
        which in 0usize..7,
        on_hand in cents(3000),
        pos in prop::collection::vec((cents(3000), -3i64..25), 0..4),
    ) {
        let mut plan = MrpPlan::new(&case.input).unwrap();
        let item = case.input.items[which % case.input.items.len()].clone();
        let orders: Vec<(Date, Decimal)> = pos.iter().map(|&(q, d)| (day(d), q)).collect();
        plan.set_supply(&item.id, on_hand, item.reserved, &orders).unwrap();
        let mut changed = case.input.clone();
        for it in &mut changed.items {
            if it.id == item.id {
                it.on_hand = on_hand;
            }
        }
        changed.purchase_orders.retain(|p| p.item != item.id);
        changed.purchase_orders.extend(orders.iter().map(|&(due, qty)| OpenPurchaseOrder {
            item: item.id.clone(),
            qty,
            due,
        }));
        let fresh = MrpPlan::new(&changed).unwrap();
        prop_assert_eq!(snapshot(&plan, &changed), snapshot(&fresh, &changed));
        // And demand still moves it by net change afterwards.
        for line in &case.input.demand {
            plan.remove_demand(line.id).unwrap();
        }
        changed.demand.clear();
        let empty = MrpPlan::new(&changed).unwrap();
        prop_assert_eq!(snapshot(&plan, &changed), snapshot(&empty, &changed));
    }

    #[test]
    fn orders_respect_moq_lot_size_and_lead_time(case in case()) {
        let plan = MrpPlan::new(&case.input).unwrap();
        for it in &case.input.items {
            for s in plan.planned_supply(&it.id).unwrap() {
                prop_assert!(s.qty > Decimal::ZERO);
                prop_assert!(s.qty >= it.moq, "{} below MOQ {}", s.qty, it.moq);
                if it.lot_size > Decimal::ZERO {
                    prop_assert_eq!((s.qty / it.lot_size).fract(), Decimal::ZERO);
                }
                let start = s.need_by.checked_sub(i64::from(it.lead_days).days()).unwrap();
                prop_assert_eq!(s.order_by, start.max(TODAY));
                prop_assert_eq!(s.late, start < TODAY);
                prop_assert_eq!(s.source, it.source);
            }
        }
    }

    #[test]
    fn quantities_balance(case in case()) {
        let input = &case.input;
        let plan = MrpPlan::new(input).unwrap();
        let items: HashMap<&str, &Item> = input.items.iter().map(|i| (i.id.as_str(), i)).collect();
        for it in &input.items {
            let rows = plan.time_phased(&it.id).unwrap();
            // Gross = own demand + reservations beyond stock + parents' exploded orders,
            // each order rounded up to a millionth.
            let mut expected = (it.reserved - it.on_hand).max(Decimal::ZERO);
            expected += input.demand.iter().filter(|d| d.item == it.id).map(|d| d.qty).sum::<Decimal>();
            for b in input.bom.iter().filter(|b| b.component == it.id) {
                for s in plan.planned_supply(&b.parent).unwrap() {
                    expected += (s.qty * b.qty_per)
                        .round_dp_with_strategy(6, RoundingStrategy::AwayFromZero);
                }
            }
            prop_assert_eq!(rows.iter().map(|r| r.gross).sum::<Decimal>(), expected);

            // Day by day: stock never goes negative, and a planned order comes exactly on
            // a day that would otherwise be short, lot-sized.
            let mut projected = (it.on_hand - it.reserved).max(Decimal::ZERO);
            for r in &rows {
                let before = projected + r.scheduled_receipts - r.gross;
                if r.planned_receipts > Decimal::ZERO {
                    prop_assert!(before < Decimal::ZERO);
                    prop_assert_eq!(r.planned_receipts, lot_size(-before, it.moq, it.lot_size));
                } else {
                    prop_assert!(before >= Decimal::ZERO);
                }
                projected = before + r.planned_receipts;
                prop_assert_eq!(projected, r.projected);
                prop_assert!(projected >= Decimal::ZERO);
            }
        }
        // Shortages lie within the lead time and never exceed the day's requirement.
        for s in plan.shortages() {
            let it = items[s.item.as_str()];
            prop_assert!(s.qty > Decimal::ZERO);
            prop_assert!(s.need_by < s.earliest);
            prop_assert_eq!(s.earliest, TODAY.checked_add(i64::from(it.lead_days).days()).unwrap());
            let row = plan.time_phased(&s.item).unwrap().into_iter().find(|r| r.date == s.need_by).unwrap();
            prop_assert!(s.qty <= row.gross);
        }
        for line in &input.demand {
            for s in plan.demand_shortages(line.id).unwrap() {
                prop_assert!(plan.shortages().iter().any(|t| t.item == s.item && t.need_by == s.need_by && s.qty <= t.qty + Decimal::new(1, 6)));
            }
        }
    }

    /// Any graph (cycles, purchased parents, duplicate edges), any quantities and dates:
    /// an error or a plan, never a panic; a reported cycle is a real one.
    #[test]
    fn never_panics(
        n in 1usize..6,
        edges in prop::collection::vec((0usize..6, 0usize..6, -2i64..5, 0u32..9), 0..10),
        makes in prop::collection::vec(any::<bool>(), 6),
        lines in prop::collection::vec((0usize..7, -5i64..1_000_000_000_000, 0u32..12, -400_000i64..400_000, 0u64..4), 0..8),
        leads in prop::collection::vec(prop_oneof![0u32..10, Just(u32::MAX), Just(4_000_000)], 6),
    ) {
        let items: Vec<Item> = (0..n).map(|k| Item {
            id: format!("i{k}"),
            source: if makes[k] { Source::Make } else { Source::Buy },
            lead_days: leads[k],
            moq: Decimal::ZERO,
            lot_size: Decimal::new(3, 1),
            on_hand: Decimal::ONE,
            reserved: Decimal::TWO,
        }).collect();
        let bom: Vec<BomLine> = edges.iter().map(|&(p, c, q, scale)| BomLine {
            parent: format!("i{p}"),
            component: format!("i{c}"),
            qty_per: Decimal::new(q, scale),
        }).collect();
        let demand: Vec<DemandLine> = lines.iter().map(|&(k, q, scale, d, id)| DemandLine {
            id,
            item: format!("i{k}"),
            qty: Decimal::new(q, scale),
            need_by: TODAY.checked_add(d.days()).unwrap_or(TODAY),
        }).collect();
        let input = MrpInput { today: TODAY, items, bom, purchase_orders: vec![], demand: demand.clone() };
        match MrpPlan::new(&input) {
            Ok(mut plan) => {
                let _ = plan.shortages();
                for line in &demand {
                    let _ = plan.demand_shortages(line.id);
                    let _ = plan.add_demand(&DemandLine { id: line.id + 100, ..line.clone() });
                    let _ = plan.remove_demand(line.id);
                }
                for k in 0..n {
                    let _ = plan.time_phased(&format!("i{k}"));
                }
            }
            Err(MrpError::BomCycle { items }) => {
                prop_assert!(items.len() >= 2);
                prop_assert_eq!(items.first(), items.last());
                for w in items.windows(2) {
                    prop_assert!(input.bom.iter().any(|b| b.parent == w[0] && b.component == w[1]), "{:?}", items);
                }
            }
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
