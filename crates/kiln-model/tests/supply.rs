//! Suppliers in factory files and what a material says of its supply:
//! supplier, lot size and price breaks, each error at its file, line and
//! column; a material takes its supplier's lead time unless it sets one.

use kiln_model::{Diagnostic, check};
use rust_decimal::Decimal;

fn files(factory: &str) -> Vec<(String, String)> {
    vec![("factory.toml".to_string(), factory.to_string())]
}

fn at(d: &[Diagnostic]) -> Vec<(u32, u32, String)> {
    d.iter()
        .map(|d| (d.span.line, d.span.column, d.message.clone()))
        .collect()
}

const SUPPLIER: &str = r#"[factory]
name = "Works"

[supplier.weaver]
name = "Weavers"
lead_days = 12
delivery_weekdays = [2, 4]
"#;

#[test]
fn a_material_takes_its_suppliers_lead_time_and_its_price_breaks() {
    let src = format!(
        "{SUPPLIER}\n[material.poplin]\nunit = \"m\"\nsupplier = \"weaver\"\nlot_size = 50\n\
         unit_cost = \"7.80\"\nprice_breaks = [{{ from = 500, unit_cost = \"7.20\" }}, \
         {{ from = 2000, unit_cost = \"6.60\" }}]\n\n[material.oxford]\nunit = \"m\"\n\
         supplier = \"weaver\"\nlead_days = 3\n"
    );
    let r = check(&files(&src));
    assert!(r.is_ok(), "{:?}", at(&r.diagnostics));
    let f = &r.factory;
    assert_eq!(f.suppliers.len(), 1);
    assert_eq!(f.suppliers[0].delivery_weekdays, vec![2, 4]);
    let poplin = f.material("poplin").unwrap();
    assert_eq!(poplin.lead_days, 12, "the supplier's");
    assert_eq!(poplin.lot_size, Decimal::from(50));
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(poplin.unit_cost_for(d("499")), d("7.80"));
    assert_eq!(poplin.unit_cost_for(d("500")), d("7.20"));
    assert_eq!(poplin.unit_cost_for(d("5000")), d("6.60"));
    assert_eq!(f.material("oxford").unwrap().lead_days, 3, "its own");
}

#[test]
fn an_unknown_supplier_is_named_where_it_is_written() {
    let src = format!("{SUPPLIER}\n[material.poplin]\nunit = \"m\"\nsupplier = \"weavr\"\n");
    let r = check(&files(&src));
    assert_eq!(
        at(&r.diagnostics),
        vec![(
            11,
            13,
            "unknown supplier `weavr` (suppliers are: weaver)".to_string()
        )]
    );
}

#[test]
fn price_breaks_go_up_and_start_above_zero() {
    let src = format!(
        "{SUPPLIER}\n[material.poplin]\nunit = \"m\"\nsupplier = \"weaver\"\n\
         price_breaks = [{{ from = 500, unit_cost = \"7\" }}, {{ from = 100, unit_cost = \"8\" }}, \
         {{ from = 0, unit_cost = \"9\" }}]\n"
    );
    let r = check(&files(&src));
    let found = at(&r.diagnostics);
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!((found[0].0, found[0].1), (12, 59));
    assert!(found[0].2.contains("price breaks go up"), "{found:?}");
    assert_eq!((found[1].0, found[1].1), (12, 92));
    assert!(found[1].2.contains("must be above 0"), "{found:?}");
}

#[test]
fn a_supplier_that_never_delivers_is_refused() {
    let src = SUPPLIER.replace("delivery_weekdays = [2, 4]", "delivery_weekdays = []");
    let r = check(&files(&src));
    assert_eq!(
        at(&r.diagnostics),
        vec![(
            7,
            21,
            "the list of weekdays is empty: the supplier never delivers".to_string()
        )]
    );
}
