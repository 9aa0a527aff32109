//! Hand-computed material netting examples.

use jiff::civil::{Date, date};
use kiln_plan::{
    GrossRequirement, MaterialPosition, PlanError, PurchaseSuggestion, material_release,
    net_requirements,
};
use rust_decimal::Decimal;

const TODAY: Date = date(2025, 6, 2);

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn position(
    material: &str,
    on_hand: &str,
    allocated: &str,
    on_order: &str,
    lead_days: u32,
    moq: &str,
) -> MaterialPosition {
    MaterialPosition {
        material: material.into(),
        on_hand: dec(on_hand),
        allocated: dec(allocated),
        on_order: dec(on_order),
        lead_days,
        moq: dec(moq),
        ..MaterialPosition::default()
    }
}

fn need(material: &str, qty: &str, need_by: Date) -> GrossRequirement {
    GrossRequirement {
        material: material.into(),
        qty: dec(qty),
        need_by,
    }
}

#[test]
fn moq_rounds_the_purchase_up() {
    let positions = [position("clay", "10", "0", "0", 7, "50")];
    let net =
        net_requirements(&positions, &[need("clay", "25", date(2025, 6, 20))], TODAY).unwrap();
    assert_eq!(net.len(), 1);
    let n = &net[0];
    assert_eq!(
        (n.gross, n.available, n.allocated_now, n.shortage),
        (dec("25"), dec("10"), dec("10"), dec("15"))
    );
    assert_eq!(
        n.suggestion,
        Some(PurchaseSuggestion {
            material: "clay".into(),
            qty: dec("50"),
            order_by: date(2025, 6, 13),
            arrives: date(2025, 6, 9),
            need_by: date(2025, 6, 20),
        })
    );
    assert!(!n.suggestion.as_ref().unwrap().is_late());
    assert_eq!(material_release(&net, TODAY), date(2025, 6, 9));
}

#[test]
fn open_purchase_order_covers_part_of_the_need() {
    // 5 on hand, 3 of them allocated elsewhere, 10 on order: 12 available.
    let positions = [position("glaze", "5", "3", "10", 3, "0")];
    let net =
        net_requirements(&positions, &[need("glaze", "20", date(2025, 6, 10))], TODAY).unwrap();
    let n = &net[0];
    assert_eq!(
        (n.available, n.allocated_now, n.shortage),
        (dec("12"), dec("12"), dec("8"))
    );
    let s = n.suggestion.as_ref().unwrap();
    assert_eq!(s.qty, dec("8"));
    assert_eq!(s.order_by, date(2025, 6, 7));
    assert_eq!(s.arrives, date(2025, 6, 5));
}

#[test]
fn enough_stock_means_no_suggestion_and_release_today() {
    let positions = [position("clay", "100", "20", "0", 7, "50")];
    let net = net_requirements(&positions, &[need("clay", "80", date(2025, 6, 3))], TODAY).unwrap();
    assert_eq!(net[0].shortage, Decimal::ZERO);
    assert_eq!(net[0].allocated_now, dec("80"));
    assert_eq!(net[0].suggestion, None);
    assert_eq!(material_release(&net, TODAY), TODAY);
}

#[test]
fn lines_of_one_material_aggregate_with_the_earliest_need() {
    let positions = [
        position("clay", "0", "0", "0", 2, "0"),
        position("glaze", "0", "0", "0", 10, "0"),
    ];
    let gross = [
        need("clay", "1.5", date(2025, 6, 20)),
        need("glaze", "0.25", date(2025, 6, 30)),
        need("clay", "2.5", date(2025, 6, 10)),
    ];
    let net = net_requirements(&positions, &gross, TODAY).unwrap();
    let materials: Vec<_> = net.iter().map(|n| n.material.as_str()).collect();
    assert_eq!(materials, vec!["clay", "glaze"]);
    assert_eq!(net[0].gross, dec("4.0"));
    assert_eq!(
        net[0].suggestion.as_ref().unwrap().need_by,
        date(2025, 6, 10)
    );
    // The slowest supplier sets the material release.
    assert_eq!(material_release(&net, TODAY), date(2025, 6, 12));
}

#[test]
fn over_allocation_floors_available_at_zero() {
    let positions = [position("clay", "5", "9", "1", 0, "0")];
    let net = net_requirements(&positions, &[need("clay", "2", TODAY)], TODAY).unwrap();
    assert_eq!(net[0].available, Decimal::ZERO);
    assert_eq!(net[0].shortage, dec("2"));
}

#[test]
fn late_need_orders_today() {
    let positions = [position("clay", "0", "0", "0", 10, "0")];
    let net = net_requirements(&positions, &[need("clay", "1", date(2025, 6, 5))], TODAY).unwrap();
    let s = net[0].suggestion.as_ref().unwrap();
    assert_eq!(s.order_by, TODAY);
    assert_eq!(s.arrives, date(2025, 6, 12));
    assert!(s.is_late());
}

#[test]
fn errors() {
    let positions = [position("clay", "1", "0", "0", 1, "0")];
    assert_eq!(
        net_requirements(&positions, &[need("gold", "1", TODAY)], TODAY),
        Err(PlanError::UnknownMaterial {
            material: "gold".into()
        })
    );
    assert_eq!(
        net_requirements(&positions, &[need("clay", "-1", TODAY)], TODAY),
        Err(PlanError::NegativeQuantity {
            material: "clay".into()
        })
    );
    let dup = [positions[0].clone(), positions[0].clone()];
    assert_eq!(
        net_requirements(&dup, &[], TODAY),
        Err(PlanError::DuplicateMaterial {
            material: "clay".into()
        })
    );
}

#[test]
fn a_purchase_comes_in_whole_lots_on_the_suppliers_delivery_day() {
    // Friday 2026-12-04; 5 days on is Wednesday; the supplier delivers on
    // Tuesdays and Thursdays: Thursday 2026-12-10.
    let today = Date::constant(2026, 12, 4);
    let mut p = position("poplin", "0", "0", "0", 5, "30");
    p.lot_size = dec("25");
    p.delivery_weekdays = vec![2, 4];
    let net = net_requirements(&[p], &[need("poplin", "31", today)], today).unwrap();
    let s = net[0].suggestion.as_ref().expect("a purchase");
    assert_eq!(s.qty, dec("50"), "max(31, 30) in lots of 25");
    assert_eq!(s.arrives, Date::constant(2026, 12, 10));
}

#[test]
fn an_order_covered_by_a_purchase_on_order_waits_for_it() {
    // 4 in stock, 6 of it allocated (2 beyond stock took the first purchase);
    // purchases of 5 arriving on the 12th and 10 on the 20th.
    let mut p = position("linen", "4", "6", "15", 10, "0");
    p.arrivals = vec![
        (date(2025, 6, 20), dec("10")),
        (date(2025, 6, 12), dec("5")),
    ];
    let need_of_from = |p: &MaterialPosition, qty: &str| {
        net_requirements(
            std::slice::from_ref(p),
            &[need("linen", qty, date(2025, 6, 30))],
            TODAY,
        )
        .unwrap()
    };
    let need_of = |qty: &str| need_of_from(&p, qty);
    // 3 fit in what is left of the first purchase: there on the 12th.
    let net = need_of("3");
    assert_eq!(
        (net[0].allocated_now, net[0].shortage),
        (dec("3"), dec("0"))
    );
    assert_eq!(net[0].ready, date(2025, 6, 12));
    assert_eq!(material_release(&net, TODAY), date(2025, 6, 12));
    // 4 takes from the second too: the 20th.
    assert_eq!(need_of("4")[0].ready, date(2025, 6, 20));
    // Free stock first: with none allocated, 4 are there today.
    let mut free = p.clone();
    free.allocated = dec("0");
    assert_eq!(need_of_from(&free, "4")[0].ready, TODAY);
    assert_eq!(need_of_from(&free, "5")[0].ready, date(2025, 6, 12));
}

#[test]
fn a_purchase_arrival_day_unknown_counts_as_there_today() {
    let positions = [position("glaze", "0", "0", "10", 3, "0")];
    let net =
        net_requirements(&positions, &[need("glaze", "5", date(2025, 6, 10))], TODAY).unwrap();
    assert_eq!(net[0].ready, TODAY);
}
