//! Multi-level MRP on examples computed by hand.

use jiff::civil::{Date, date};
use kiln_plan::mrp::{
    BomLine, DemandLine, Item, MrpError, MrpInput, MrpPlan, OpenPurchaseOrder, PlannedSupply,
    Shortage, Source,
};
use rust_decimal::Decimal;

const TODAY: Date = date(2025, 6, 2);

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn item(id: &str, source: Source, lead_days: u32) -> Item {
    Item {
        id: id.into(),
        source,
        lead_days,
        moq: Decimal::ZERO,
        lot_size: Decimal::ZERO,
        on_hand: Decimal::ZERO,
        reserved: Decimal::ZERO,
    }
}

fn stock(mut it: Item, on_hand: &str, reserved: &str) -> Item {
    it.on_hand = dec(on_hand);
    it.reserved = dec(reserved);
    it
}

fn lots(mut it: Item, moq: &str, lot_size: &str) -> Item {
    it.moq = dec(moq);
    it.lot_size = dec(lot_size);
    it
}

fn bom(parent: &str, component: &str, qty_per: &str) -> BomLine {
    BomLine {
        parent: parent.into(),
        component: component.into(),
        qty_per: dec(qty_per),
    }
}

fn po(item: &str, qty: &str, due: Date) -> OpenPurchaseOrder {
    OpenPurchaseOrder {
        item: item.into(),
        qty: dec(qty),
        due,
    }
}

fn demand(id: u64, item: &str, qty: &str, need_by: Date) -> DemandLine {
    DemandLine {
        id,
        item: item.into(),
        qty: dec(qty),
        need_by,
    }
}

fn input(items: Vec<Item>, bom: Vec<BomLine>, pos: Vec<OpenPurchaseOrder>) -> MrpInput {
    MrpInput {
        today: TODAY,
        items,
        bom,
        purchase_orders: pos,
        demand: Vec::new(),
    }
}

/// (qty, order_by, need_by, late)
fn orders(plan: &MrpPlan, item: &str) -> Vec<(Decimal, Date, Date, bool)> {
    plan.planned_supply(item)
        .unwrap()
        .into_iter()
        .map(|s| (s.qty, s.order_by, s.need_by, s.late))
        .collect()
}

fn mugs() -> MrpInput {
    let mut i = input(
        vec![
            stock(item("mug", Source::Make, 2), "5", "0"),
            item("body", Source::Make, 3),
            lots(item("glaze", Source::Buy, 3), "0", "5"),
            lots(stock(item("clay", Source::Buy, 7), "10", "4"), "50", "0"),
        ],
        vec![
            bom("mug", "body", "1"),
            bom("mug", "glaze", "0.05"),
            bom("body", "clay", "0.35"),
        ],
        vec![],
    );
    i.demand = vec![
        demand(1, "mug", "20", date(2025, 6, 20)),
        demand(2, "mug", "10", date(2025, 6, 25)),
    ];
    i
}

#[test]
fn three_levels_with_lead_time_offsets_moq_and_lot_size() {
    let plan = MrpPlan::new(&mugs()).unwrap();
    let llc: Vec<_> = ["mug", "body", "glaze", "clay"]
        .iter()
        .map(|i| plan.low_level_code(i).unwrap())
        .collect();
    assert_eq!(llc, vec![0, 1, 1, 2]);

    // 5 mugs in stock: make 15 for the 20th (start 2 days before), 10 for the 25th.
    assert_eq!(
        orders(&plan, "mug"),
        vec![
            (dec("15"), date(2025, 6, 18), date(2025, 6, 20), false),
            (dec("10"), date(2025, 6, 23), date(2025, 6, 25), false),
        ]
    );
    // Bodies are needed when the mugs start, and take 3 days.
    assert_eq!(
        orders(&plan, "body"),
        vec![
            (dec("15"), date(2025, 6, 15), date(2025, 6, 18), false),
            (dec("10"), date(2025, 6, 20), date(2025, 6, 23), false),
        ]
    );
    // Glaze: 0.75 on the 18th, 0.5 on the 23rd. Lots of 5: the first lot covers both.
    assert_eq!(
        orders(&plan, "glaze"),
        vec![(dec("5"), date(2025, 6, 15), date(2025, 6, 18), false)]
    );
    // Clay: 5.25 on the 15th and 3.5 on the 20th; 6 available (10 on hand, 4 reserved)
    // cover the first and 0.75 of the second; the 2.75 short is bought at the MOQ of 50,
    // 7 days ahead.
    assert_eq!(
        orders(&plan, "clay"),
        vec![(dec("50"), date(2025, 6, 13), date(2025, 6, 20), false)]
    );
    let rows = plan.time_phased("clay").unwrap();
    let projected: Vec<_> = rows.iter().map(|r| (r.date, r.projected)).collect();
    assert_eq!(
        projected,
        vec![
            (date(2025, 6, 15), dec("0.75")),
            (date(2025, 6, 20), dec("47.25")),
        ]
    );

    let s = plan.summary();
    assert_eq!(
        (
            s.levels,
            s.demand_lines,
            s.purchase_suggestions,
            s.manufacturing_orders,
            s.late_purchases
        ),
        (3, 2, 2, 4, 0)
    );
    assert_eq!(plan.shortages(), vec![]);
    assert_eq!(plan.demand_shortages(1).unwrap(), vec![]);
    let kinds: Vec<Source> = plan
        .purchase_suggestions()
        .iter()
        .chain(&plan.manufacturing_orders())
        .map(|s| s.source)
        .collect();
    assert_eq!(
        kinds,
        [[Source::Buy; 2].as_slice(), &[Source::Make; 4]].concat()
    );
}

#[test]
fn an_open_purchase_order_covers_part_and_a_late_one_covers_nothing_in_time() {
    let mut i = input(
        vec![item("clay", Source::Buy, 5)],
        vec![],
        vec![
            po("clay", "30", date(2025, 6, 5)),
            po("clay", "100", date(2025, 6, 20)),
        ],
    );
    i.demand = vec![
        demand(1, "clay", "50", date(2025, 6, 10)),
        demand(2, "clay", "40", date(2025, 6, 25)),
    ];
    let plan = MrpPlan::new(&i).unwrap();
    // The order due on the 5th covers 30 of the 50; the one due on the 20th arrives too
    // late for the 10th, so 20 are suggested. It then covers the 25th.
    assert_eq!(
        plan.purchase_suggestions(),
        vec![PlannedSupply {
            item: "clay".into(),
            source: Source::Buy,
            qty: dec("20"),
            order_by: date(2025, 6, 5),
            need_by: date(2025, 6, 10),
            late: false,
        }]
    );
    let last = plan.time_phased("clay").unwrap().pop().unwrap();
    assert_eq!((last.date, last.projected), (date(2025, 6, 25), dec("60")));
}

#[test]
fn moq_then_lot_multiple() {
    let mut i = input(
        vec![lots(item("screw", Source::Buy, 1), "12", "5")],
        vec![],
        vec![],
    );
    i.demand = vec![demand(1, "screw", "3", date(2025, 6, 9))];
    let plan = MrpPlan::new(&i).unwrap();
    // max(3, MOQ 12) = 12, up to the next multiple of 5.
    assert_eq!(
        orders(&plan, "screw"),
        vec![(dec("15"), date(2025, 6, 8), date(2025, 6, 9), false)]
    );
}

#[test]
fn reservations_beyond_stock_are_needed_today() {
    let plan = MrpPlan::new(&input(
        vec![stock(item("clay", Source::Buy, 0), "2", "5")],
        vec![],
        vec![],
    ))
    .unwrap();
    assert_eq!(orders(&plan, "clay"), vec![(dec("3"), TODAY, TODAY, false)]);
}

#[test]
fn a_need_inside_the_lead_time_is_late_and_short() {
    let mut i = input(
        vec![stock(item("resin", Source::Buy, 10), "3", "0")],
        vec![],
        vec![],
    );
    i.demand = vec![demand(7, "resin", "8", date(2025, 6, 5))];
    let plan = MrpPlan::new(&i).unwrap();
    assert_eq!(
        orders(&plan, "resin"),
        vec![(dec("5"), TODAY, date(2025, 6, 5), true)]
    );
    let short = Shortage {
        item: "resin".into(),
        need_by: date(2025, 6, 5),
        qty: dec("5"),
        earliest: date(2025, 6, 12),
    };
    assert_eq!(plan.shortages(), vec![short.clone()]);
    assert_eq!(plan.demand_shortages(7).unwrap(), vec![short]);
    assert_eq!(plan.summary().late_purchases, 1);
}

fn kits() -> MrpInput {
    let mut i = input(
        vec![
            item("kit", Source::Make, 1),
            stock(item("part", Source::Buy, 10), "2", "0"),
        ],
        vec![bom("kit", "part", "2")],
        vec![],
    );
    i.demand = vec![
        demand(1, "kit", "4", date(2025, 6, 12)),
        demand(2, "kit", "6", date(2025, 6, 30)),
    ];
    i
}

#[test]
fn shortages_are_traced_to_the_demand_line_through_levels() {
    let plan = MrpPlan::new(&kits()).unwrap();
    // Kits start a day early: 8 parts on the 11th (2 in stock, 6 late: ordered today they
    // arrive on the 12th) and 12 on the 29th (ordered on the 19th, in time).
    assert_eq!(
        orders(&plan, "part"),
        vec![
            (dec("6"), TODAY, date(2025, 6, 11), true),
            (dec("12"), date(2025, 6, 19), date(2025, 6, 29), false),
        ]
    );
    let short = Shortage {
        item: "part".into(),
        need_by: date(2025, 6, 11),
        qty: dec("6"),
        earliest: date(2025, 6, 12),
    };
    assert_eq!(plan.demand_shortages(1).unwrap(), vec![short]);
    assert_eq!(plan.demand_shortages(2).unwrap(), vec![]);
    assert_eq!(
        plan.demand_shortages(3),
        Err(MrpError::UnknownDemand { id: 3 })
    );
}

#[test]
fn a_short_day_is_shared_in_proportion() {
    let mut i = kits();
    i.demand.push(demand(3, "kit", "2", date(2025, 6, 12)));
    let plan = MrpPlan::new(&i).unwrap();
    // 12 parts on the 11th, 2 in stock: 10 short, 4/6 for line 1 and 2/6 for line 3.
    let qty = |id| {
        plan.demand_shortages(id)
            .unwrap()
            .iter()
            .map(|s| s.qty)
            .collect::<Vec<_>>()
    };
    assert_eq!(qty(1), vec![dec("6.666667")]);
    assert_eq!(qty(3), vec![dec("3.333333")]);
}

#[test]
fn a_late_make_order_is_short_itself_and_of_its_late_components() {
    let mut i = input(
        vec![item("frame", Source::Make, 5), item("tube", Source::Buy, 3)],
        vec![bom("frame", "tube", "3")],
        vec![],
    );
    i.demand = vec![demand(1, "frame", "2", date(2025, 6, 4))];
    let plan = MrpPlan::new(&i).unwrap();
    assert_eq!(
        plan.demand_shortages(1).unwrap(),
        vec![
            Shortage {
                item: "frame".into(),
                need_by: date(2025, 6, 4),
                qty: dec("2"),
                earliest: date(2025, 6, 7),
            },
            // The frames start today, so the tubes are needed today.
            Shortage {
                item: "tube".into(),
                need_by: TODAY,
                qty: dec("6"),
                earliest: date(2025, 6, 5),
            },
        ]
    );
}

#[test]
fn low_level_code_is_the_deepest_use() {
    let plan = MrpPlan::new(&input(
        vec![
            item("a", Source::Make, 0),
            item("b", Source::Make, 0),
            item("c", Source::Buy, 0),
            item("spare", Source::Buy, 0),
        ],
        vec![bom("a", "b", "1"), bom("b", "c", "1"), bom("a", "c", "1")],
        vec![],
    ))
    .unwrap();
    let llc: Vec<_> = ["a", "b", "c", "spare"]
        .iter()
        .map(|i| plan.low_level_code(i))
        .collect();
    assert_eq!(llc, vec![Some(0), Some(1), Some(2), Some(0)]);
}

#[test]
fn net_change_matches_regeneration() {
    let full = MrpPlan::new(&mugs()).unwrap();
    let mut first = mugs();
    let second = first.demand.pop().unwrap();
    let mut plan = MrpPlan::new(&first).unwrap();
    let change = plan.add_demand(&second).unwrap();
    // The mug changes, then body and glaze; glaze's lot already covered the extra 0.5.
    assert!(change.items_replanned >= 3 && change.items_changed >= 2);
    for it in ["mug", "body", "glaze", "clay"] {
        assert_eq!(orders(&plan, it), orders(&full, it), "{it}");
    }
    assert_eq!(plan.summary(), full.summary());
    plan.remove_demand(2).unwrap();
    let before = MrpPlan::new(&first).unwrap();
    for it in ["mug", "body", "glaze", "clay"] {
        assert_eq!(orders(&plan, it), orders(&before, it), "{it}");
    }
    assert_eq!(plan.summary(), before.summary());
}

#[test]
fn cycles_name_their_items() {
    let err = MrpPlan::new(&input(
        vec![
            item("top", Source::Make, 0),
            item("a", Source::Make, 0),
            item("b", Source::Make, 0),
            item("c", Source::Make, 0),
        ],
        vec![
            bom("top", "a", "1"),
            bom("a", "b", "1"),
            bom("b", "c", "1"),
            bom("c", "a", "1"),
        ],
        vec![],
    ))
    .unwrap_err();
    let MrpError::BomCycle { items } = &err else {
        panic!("{err}");
    };
    assert_eq!(items.len(), 4);
    assert_eq!(items.first(), items.last());
    let text = err.to_string();
    assert!(
        ["a → b → c → a", "b → c → a → b", "c → a → b → c"]
            .iter()
            .any(|c| text.ends_with(c)),
        "{text}"
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let base = || input(vec![item("clay", Source::Buy, 1)], vec![], vec![]);
    let mut i = base();
    i.demand = vec![demand(1, "gold", "1", TODAY)];
    assert_eq!(
        MrpPlan::new(&i).unwrap_err().to_string(),
        "unknown item `gold` in demand line"
    );
    let mut i = base();
    i.demand = vec![demand(1, "clay", "1", TODAY), demand(1, "clay", "2", TODAY)];
    assert_eq!(
        MrpPlan::new(&i).unwrap_err(),
        MrpError::DuplicateDemand { id: 1 }
    );
    let mut i = base();
    i.items.push(item("kit", Source::Buy, 1));
    i.bom = vec![bom("kit", "clay", "1")];
    assert_eq!(
        MrpPlan::new(&i).unwrap_err(),
        MrpError::PurchasedWithComponents { item: "kit".into() }
    );
    let mut i = base();
    i.demand = vec![demand(1, "clay", "0.0000001", TODAY)];
    assert!(matches!(MrpPlan::new(&i), Err(MrpError::TooPrecise { .. })));
    let mut i = base();
    i.items.push(item("clay", Source::Buy, 1));
    assert_eq!(
        MrpPlan::new(&i).unwrap_err(),
        MrpError::DuplicateItem {
            item: "clay".into()
        }
    );
    let mut plan = MrpPlan::new(&base()).unwrap();
    assert!(matches!(
        plan.add_demand(&demand(1, "clay", "1", date(9999, 1, 1))),
        Err(MrpError::HorizonTooLong { .. })
    ));
    assert_eq!(plan.summary().demand_lines, 0);
    assert_eq!(
        plan.remove_demand(5),
        Err(MrpError::UnknownDemand { id: 5 })
    );
}
