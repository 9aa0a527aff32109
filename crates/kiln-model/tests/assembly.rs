//! Sub-assemblies: `[assembly.*]` in factory files, `assembly = "..."` on a
//! product's BOM lines, and the expansion the catalog check makes of them
//! (quantities exact, by option and nested; operations first, nested first).
//! Every error at its exact file, line and column.

use kiln_model::{
    AssemblyUse, CheckReport, Diagnostic, Expansion, Expr, Part, Product, Quantity, check,
    parse_factory, parse_product,
};
use rust_decimal::Decimal;

/// Lines 1 to 42. `cupsole` (line 10) is 0.45 kg of rubber and two welts,
/// moulded; a `welt` (line 28) is 1.5 m of thread and 0.1 kg of rubber,
/// stitched.
const FACTORY: &str = r#"[work_center.assembly]
[work_center.cutting]
[material.rubber]
unit = "kg"
[material.foam]
unit = "kg"
[material.thread]
unit = "m"

[assembly.cupsole]
name = "Cup sole"

[[assembly.cupsole.bom]]
material = "rubber"
qty = 0.45

[[assembly.cupsole.bom]]
assembly = "welt"
qty = 2

[[assembly.cupsole.operation]]
id = "mould"
name = "Mould the sole"
work_center = "assembly"
minutes = 3
setup_minutes = 10

[assembly.welt]
unit = "m"

[[assembly.welt.bom]]
material = "thread"
qty = 1.5

[[assembly.welt.bom]]
material = "rubber"
qty = 0.1

[[assembly.welt.operation]]
id = "stitch"
work_center = "cutting"
minutes = 0.5
"#;

/// Lines 1 to 26: foam, then a cup sole by size, then thread; one own
/// operation.
const SHOE: &str = r#"[product]
id = "shoe"
name = "Shoe"
currency = "EUR"
base_price = "50"

[option.size]
values = ["S", "L"]

[[bom]]
material = "foam"
qty = 0.2

[[bom]]
assembly = "cupsole"
qty = { S = 1, L = 1.5 }
if = "size = L"

[[bom]]
material = "thread"
qty = 2

[[operation]]
id = "last"
work_center = "assembly"
minutes = 20
"#;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn catalog(factory: &str, product: &str) -> CheckReport {
    check(&[
        ("factory.toml".to_string(), factory.to_string()),
        ("shoe.toml".to_string(), product.to_string()),
    ])
}

fn at(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}",
                d.file, d.span.line, d.span.column, d.message
            )
        })
        .collect()
}

fn by_size(s: &str, l: &str) -> Quantity {
    Quantity::ByValue {
        option: "size".into(),
        by_value: vec![("S".into(), d(s)), ("L".into(), d(l))],
    }
}

fn clean(factory: &str, product: &str) -> Product {
    let r = catalog(factory, product);
    assert!(r.is_ok(), "{:#?}", at(&r.diagnostics));
    r.products.into_iter().next().expect("the product")
}

#[test]
fn a_factory_file_declares_assemblies() {
    let f = parse_factory("factory.toml", FACTORY).unwrap_or_else(|e| panic!("{:?}", at(&e)));
    let cupsole = f.assembly("cupsole").unwrap();
    assert_eq!(cupsole.name, "Cup sole");
    assert_eq!(cupsole.unit, "pcs");
    assert_eq!((cupsole.span.line, cupsole.span.column), (10, 1));
    let parts: Vec<(&Part, Decimal)> = cupsole.bom.iter().map(|l| (&l.part, l.qty)).collect();
    assert_eq!(
        parts,
        [
            (&Part::Material("rubber".into()), d("0.45")),
            (&Part::Assembly("welt".into()), d("2")),
        ]
    );
    let mould = &cupsole.operations[0];
    assert_eq!(
        (
            mould.id.as_str(),
            mould.name.as_str(),
            mould.work_center.as_str(),
            mould.minutes,
            mould.setup_minutes
        ),
        ("mould", "Mould the sole", "assembly", d("3"), d("10"))
    );
    let welt = f.assembly("welt").unwrap();
    assert_eq!((welt.name.as_str(), welt.unit.as_str()), ("welt", "m"));
    assert_eq!(welt.operations[0].name, "stitch");
    assert_eq!(welt.operations[0].setup_minutes, Decimal::ZERO);
}

#[test]
fn a_product_parsed_alone_keeps_its_assembly_lines_as_written() {
    let p = parse_product("shoe.toml", SHOE).unwrap_or_else(|e| panic!("{:?}", at(&e)));
    let materials: Vec<&str> = p.bom.iter().map(|b| b.material.as_str()).collect();
    assert_eq!(materials, ["foam", "thread"]);
    assert_eq!(p.operations.len(), 1);
    let [u] = p.assemblies.as_slice() else {
        panic!("{:?}", p.assemblies)
    };
    assert_eq!(u.assembly, "cupsole");
    assert_eq!(u.qty, by_size("1", "1.5"));
    assert_eq!((u.span.line, u.span.column, u.line), (14, 1, 1));
    assert_eq!(u.expanded, None);
}

#[test]
fn the_check_expands_assemblies_into_the_bom_and_the_routing() {
    let p = clean(FACTORY, SHOE);
    // In file order, the assembly's materials where its line is: rubber
    // 0.45 + 2 × 0.1 and thread 2 × 1.5 per cup sole, times 1 or 1.5 by size.
    let bom: Vec<(&str, &Quantity, u32)> = p
        .bom
        .iter()
        .map(|b| (b.material.as_str(), &b.qty, b.span.line))
        .collect();
    let (rubber, thread) = (by_size("0.65", "0.975"), by_size("3", "4.5"));
    let two = Quantity::Fixed(d("2"));
    assert_eq!(
        bom,
        [
            ("foam", &Quantity::Fixed(d("0.2")), 10),
            ("rubber", &rubber, 14),
            ("thread", &thread, 14),
            ("thread", &two, 19),
        ]
    );
    let if_large = &p.assemblies[0].condition;
    assert_ne!(*if_large, Expr::always());
    assert_eq!(&p.bom[1].condition, if_large);
    assert_eq!(&p.bom[2].condition, if_large);
    assert_eq!(p.bom[0].condition, Expr::always());
    // The welt's stitching, then the cup sole's moulding, then the shoe's own.
    let ops: Vec<(&str, &str, &str, &Quantity, Decimal)> = p
        .operations
        .iter()
        .map(|o| {
            (
                o.id.as_str(),
                o.name.as_str(),
                o.work_center.as_str(),
                &o.minutes,
                o.setup_minutes,
            )
        })
        .collect();
    let (stitch, mould) = (by_size("1.0", "1.5"), by_size("3", "4.5"));
    assert_eq!(
        ops,
        [
            ("cupsole.welt.stitch", "stitch", "cutting", &stitch, d("0")),
            (
                "cupsole.mould",
                "Mould the sole",
                "assembly",
                &mould,
                d("10")
            ),
            (
                "last",
                "last",
                "assembly",
                &Quantity::Fixed(d("20")),
                d("0")
            ),
        ]
    );
    assert_eq!(&p.operations[0].condition, if_large);
    assert_eq!(p.operations[1].span, p.assemblies[0].span);
    assert_eq!(p.operations[2].condition, Expr::always());
    // What the line became.
    assert_eq!(
        p.assemblies[0].expanded,
        Some(Expansion {
            bom: 1..3,
            operations: 0..2
        })
    );
}

#[test]
fn lines_of_one_assembly_add_up_and_several_lines_keep_their_order() {
    // Two assembly lines (the second first in the file) and a fixed qty.
    let shoe = SHOE
        .replace(
            "[[bom]]\nmaterial = \"foam\"\nqty = 0.2\n",
            "[[bom]]\nassembly = \"welt\"\nqty = 4\n",
        )
        .replace("qty = { S = 1, L = 1.5 }\nif = \"size = L\"\n", "qty = 2\n");
    let p = clean(FACTORY, &shoe);
    let bom: Vec<(&str, &Quantity)> = p
        .bom
        .iter()
        .map(|b| (b.material.as_str(), &b.qty))
        .collect();
    let q = |s: &str| Quantity::Fixed(d(s));
    assert_eq!(
        bom,
        [
            ("thread", &q("6.0")),
            ("rubber", &q("0.4")),
            ("rubber", &q("1.30")),
            ("thread", &q("6.0")),
            ("thread", &q("2")),
        ]
    );
    let ops: Vec<(&str, &Quantity)> = p
        .operations
        .iter()
        .map(|o| (o.id.as_str(), &o.minutes))
        .collect();
    assert_eq!(
        ops,
        [
            ("welt.stitch", &q("2.0")),
            ("cupsole.welt.stitch", &q("2.0")),
            ("cupsole.mould", &q("6")),
            ("last", &q("20")),
        ]
    );
    let spans: Vec<Option<&Expansion>> = p.assemblies.iter().map(|u| u.expanded.as_ref()).collect();
    assert_eq!(
        spans,
        [
            Some(&Expansion {
                bom: 0..2,
                operations: 0..1
            }),
            Some(&Expansion {
                bom: 2..4,
                operations: 1..3
            }),
        ]
    );
    // A welt named on two lines of one assembly is one welt operation.
    let factory = FACTORY.replace(
        "[[assembly.cupsole.operation]]",
        "[[assembly.cupsole.bom]]\nassembly = \"welt\"\nqty = 1\n\n[[assembly.cupsole.operation]]",
    );
    let p = clean(&factory, SHOE);
    let ops: Vec<(&str, &Quantity)> = p
        .operations
        .iter()
        .map(|o| (o.id.as_str(), &o.minutes))
        .collect();
    assert_eq!(ops[0], ("cupsole.welt.stitch", &by_size("1.5", "2.25")));
    assert_eq!(ops.len(), 3);
}

#[test]
fn the_demo_sneaker_makes_its_sole_first() {
    let files: Vec<(String, String)> = ["factory", "mug", "sneaker", "shirt"]
        .iter()
        .map(|n| {
            let path = format!("{}/../../catalog/demo/{n}.toml", env!("CARGO_MANIFEST_DIR"));
            (format!("{n}.toml"), std::fs::read_to_string(path).unwrap())
        })
        .collect();
    let r = check(&files);
    assert!(r.is_ok(), "{:#?}", at(&r.diagnostics));
    let sneaker = r.products.iter().find(|p| p.id == "sneaker").unwrap();
    let ids: Vec<&str> = sneaker.operations.iter().map(|o| o.id.as_str()).collect();
    assert_eq!(
        &ids[..3],
        ["rubber-sole.trim", "foam-sole.trim", "cut-upper"]
    );
    for (material, used) in [("rubber-outsole", 0), ("foam-outsole", 1)] {
        let line = sneaker.bom.iter().find(|b| b.material == material).unwrap();
        assert_eq!(line.qty, Quantity::Fixed(d("1")));
        assert_eq!(line.condition, sneaker.assemblies[used].condition);
    }
}

#[test]
fn unknown_ids_are_named_where_they_are_written() {
    let shoe = SHOE.replace("assembly = \"cupsole\"", "assembly = \"cupsol\"");
    let r = catalog(FACTORY, &shoe);
    assert_eq!(
        at(&r.diagnostics),
        ["shoe.toml:15:13: unknown assembly `cupsol` (assemblies are: cupsole, welt)"]
    );
    // The product is kept; nothing was expanded from the unknown line.
    assert_eq!(r.products[0].operations.len(), 1);
    // A material named as an assembly, and the other way round.
    let shoe = SHOE
        .replace("assembly = \"cupsole\"", "assembly = \"rubber\"")
        .replace("material = \"foam\"", "material = \"welt\"");
    assert_eq!(
        at(&catalog(FACTORY, &shoe).diagnostics),
        [
            "shoe.toml:11:13: unknown material `welt` (`welt` is an assembly: write `assembly = \"welt\"`)",
            "shoe.toml:15:13: unknown assembly `rubber` (`rubber` is a material: write `material = \"rubber\"`)",
        ]
    );
    // Inside an assembly: a material, an assembly and a work centre.
    let factory = FACTORY
        .replace(
            "material = \"rubber\"\nqty = 0.45",
            "material = \"rubbr\"\nqty = 0.45",
        )
        .replace("assembly = \"welt\"", "assembly = \"wlt\"")
        .replace("work_center = \"cutting\"", "work_center = \"cuting\"");
    assert_eq!(
        at(&catalog(&factory, SHOE).diagnostics),
        [
            "factory.toml:14:13: unknown material `rubbr` (materials are: rubber, foam, thread)",
            "factory.toml:18:13: unknown assembly `wlt` (assemblies are: cupsole, welt)",
            "factory.toml:41:16: unknown work centre `cuting` (work centres are: assembly, cutting)",
        ]
    );
    // No assembly at all.
    let none = FACTORY.split("[assembly.cupsole]").next().unwrap();
    assert_eq!(
        at(&catalog(none, SHOE).diagnostics),
        ["shoe.toml:15:13: unknown assembly `cupsole` (no `[assembly.*]` is declared)"]
    );
}

#[test]
fn an_assembly_made_from_itself_is_a_cycle_at_the_line_that_closes_it() {
    let factory = FACTORY.replace(
        "material = \"rubber\"\nqty = 0.1",
        "assembly = \"cupsole\"\nqty = 0.1",
    );
    let r = catalog(&factory, SHOE);
    assert_eq!(
        at(&r.diagnostics),
        [
            "factory.toml:36:13: assembly cycle: cupsole → welt → cupsole \
             (an assembly cannot be made from itself)"
        ]
    );
    // Expanded as far as it goes, without looping.
    let ids: Vec<&str> = r.products[0]
        .operations
        .iter()
        .map(|o| o.id.as_str())
        .collect();
    assert_eq!(ids, ["cupsole.welt.stitch", "cupsole.mould", "last"]);
    // Itself directly.
    let factory = FACTORY.replace("assembly = \"welt\"", "assembly = \"cupsole\"");
    assert_eq!(
        at(&catalog(&factory, SHOE).diagnostics),
        ["factory.toml:18:13: assembly cycle: cupsole → cupsole \
             (an assembly cannot be made from itself)"]
    );
}

#[test]
fn a_line_names_a_material_or_an_assembly() {
    let both = FACTORY.replace(
        "material = \"thread\"\nqty = 1.5",
        "material = \"thread\"\nassembly = \"cupsole\"\nqty = 1.5",
    );
    let neither = FACTORY.replace("material = \"thread\"\nqty = 1.5", "qty = 1.5");
    assert_eq!(
        at(&parse_factory("factory.toml", &both).unwrap_err()),
        ["factory.toml:33:1: a BOM line names a `material` or an `assembly`, not both"]
    );
    assert_eq!(
        at(&parse_factory("factory.toml", &neither).unwrap_err()),
        ["factory.toml:31:1: missing `material` or `assembly` in BOM line 1 of assembly `welt`"]
    );
    // The same in a product file.
    let both = SHOE.replace(
        "assembly = \"cupsole\"",
        "assembly = \"cupsole\"\nmaterial = \"foam\"",
    );
    let neither = SHOE.replace("assembly = \"cupsole\"\n", "");
    assert_eq!(
        at(&parse_product("shoe.toml", &both).unwrap_err()),
        ["shoe.toml:15:1: a BOM line names a `material` or an `assembly`, not both"]
    );
    assert_eq!(
        at(&parse_product("shoe.toml", &neither).unwrap_err()),
        ["shoe.toml:14:1: missing `material` or `assembly` in BOM line 2"]
    );
}

#[test]
fn an_assembly_is_checked_like_a_routing() {
    // Nothing in it.
    let empty = format!("{FACTORY}\n[assembly.nothing]\nname = \"Nothing\"\n");
    assert_eq!(
        at(&parse_factory("factory.toml", &empty).unwrap_err()),
        [
            "factory.toml:44:1: assembly `nothing` has no `[[assembly.nothing.bom]]` and no \
             `[[assembly.nothing.operation]]`: it makes nothing"
        ]
    );
    // An operation id twice.
    let twice = format!(
        "{FACTORY}\n[[assembly.welt.operation]]\nid = \"stitch\"\nwork_center = \"cutting\"\nminutes = 1\n"
    );
    assert_eq!(
        at(&parse_factory("factory.toml", &twice).unwrap_err()),
        ["factory.toml:45:7: duplicate operation id `stitch` (first at line 40, column 7)"]
    );
    // Amounts: qty above 0, minutes and setup not negative, all plain numbers.
    let amounts = FACTORY
        .replace("qty = 0.45", "qty = 0")
        .replace("qty = 2\n", "qty = -2\n")
        .replace("qty = 1.5", "qty = { S = 1 }")
        .replace("minutes = 3\n", "minutes = -3\n")
        .replace("setup_minutes = 10", "setup_minutes = -1")
        .replace("minutes = 0.5", "minutes = { S = 1 }");
    assert_eq!(
        at(&parse_factory("factory.toml", &amounts).unwrap_err()),
        [
            "factory.toml:15:7: `qty` must be above 0",
            "factory.toml:19:7: `qty` must not be negative",
            "factory.toml:25:11: `minutes` must not be negative",
            "factory.toml:26:17: `setup_minutes` must not be negative",
            "factory.toml:33:7: `qty` of an assembly is one number: a factory file has no options",
            "factory.toml:42:11: `minutes` of an assembly is one number: a factory file has no options",
        ]
    );
    // Unknown keys, missing ones.
    let keys = FACTORY
        .replace(
            "unit = \"m\"\n\n[[assembly.welt.bom]]",
            "unit = \"m\"\ncolour = 1\n\n[[assembly.welt.bom]]",
        )
        .replace("id = \"stitch\"\n", "");
    assert_eq!(
        at(&parse_factory("factory.toml", &keys).unwrap_err()),
        [
            "factory.toml:30:1: unknown key `colour` in assembly `welt` (expected one of: name, unit, bom, operation)",
            "factory.toml:40:1: missing `id` in operation 1 of assembly `welt`",
        ]
    );
}

#[test]
fn an_assembly_shares_its_ids_with_materials_not_with_other_assemblies() {
    let clash = format!(
        "{FACTORY}\n[assembly.foam]\n[[assembly.foam.bom]]\nmaterial = \"rubber\"\nqty = 1\n"
    );
    assert_eq!(
        at(&catalog(&clash, SHOE).diagnostics),
        [
            "factory.toml:44:1: assembly `foam` has the id of a material (in factory.toml at line 5, \
             column 1): materials and assemblies share one set of ids"
        ]
    );
    // Declared again in another factory file.
    let other = "[assembly.welt]\n[[assembly.welt.operation]]\nid = \"x\"\nwork_center = \"cutting\"\nminutes = 1\n";
    let r = check(&[
        ("factory.toml".to_string(), FACTORY.to_string()),
        ("more.toml".to_string(), other.to_string()),
    ]);
    assert_eq!(
        at(&r.diagnostics),
        ["more.toml:1:1: duplicate assembly `welt` (first in factory.toml at line 28, column 1)"]
    );
}

#[test]
fn an_operation_id_twice_in_the_routing_is_refused_at_the_second_line() {
    let twice = SHOE.replace(
        "[[operation]]",
        "[[bom]]\nassembly = \"cupsole\"\nqty = 1\nif = \"size = S\"\n\n[[operation]]",
    );
    assert_eq!(
        at(&catalog(FACTORY, &twice).diagnostics),
        [
            "shoe.toml:23:1: assembly `cupsole` adds operation `cupsole.welt.stitch`, which the routing \
             already has (line 14, column 1): use an assembly on one line (its `qty` may be by option)"
        ]
    );
}

#[test]
fn flattening_happens_once() {
    let r = catalog(FACTORY, SHOE);
    let again = check(&[
        ("factory.toml".to_string(), FACTORY.to_string()),
        ("shoe.toml".to_string(), SHOE.to_string()),
    ]);
    assert_eq!(r.products, again.products);
    // The report's products are expanded and say so.
    assert!(
        r.products[0]
            .assemblies
            .iter()
            .all(|u: &AssemblyUse| u.expanded.is_some())
    );
    assert_eq!(r.products[0].bom.len(), 4);
    assert!(kiln_model::resolve(&r.products[0], &r.factory).is_empty());
}
