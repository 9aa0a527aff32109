//! Checks across files: a product's routing and BOM point at work centres,
//! materials and assemblies that a separate factory file declares; each
//! product's assembly lines are then expanded (`assembly::flatten`).

use crate::ctx::{Ctx, get};
use crate::parse::{self, Ref, RefKind};
use crate::{Diagnostic, Factory, Product, Span};

/// Monday to Saturday: when no factory file says on which days deliveries
/// can be promised.
pub const DEFAULT_DELIVERY_WEEKDAYS: [u8; 6] = [1, 2, 3, 4, 5, 6];

/// The outcome of checking a set of model files together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CheckReport {
    /// Products whose own file parsed without errors, in file order.
    pub products: Vec<Product>,
    /// Every factory file's work centres and materials, merged.
    pub factory: Factory,
    /// Every problem in every file, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    pub fn is_ok(&self) -> bool {
        self.diagnostics.is_empty()
    }
}

/// Checks a set of `(name, source)` files. A file with `[product]` is a
/// product; one with `[factory]`, `[work_center.*]` or `[material.*]` is a
/// factory file.
pub fn check(files: &[(String, String)]) -> CheckReport {
    let mut report = CheckReport::default();
    let mut refs: Vec<(String, Ref)> = Vec::new();
    let mut factory_files = 0;
    let mut product_ids: Vec<(String, String, Span)> = Vec::new();
    let mut wc_seen: Vec<(String, String, Span)> = Vec::new();
    let mut mat_seen: Vec<(String, String, Span)> = Vec::new();
    let mut box_seen: Vec<(String, String, Span)> = Vec::new();
    let mut carrier_seen: Vec<(String, String, Span)> = Vec::new();
    let mut supplier_seen: Vec<(String, String, Span)> = Vec::new();
    let mut assembly_seen: Vec<(String, String, Span)> = Vec::new();
    // The file of each of `report.factory.assemblies`.
    let mut assembly_files: Vec<String> = Vec::new();
    // (file, material index) of each material naming a supplier.
    let mut supplied: Vec<(String, usize)> = Vec::new();
    let mut product_files: Vec<String> = Vec::new();
    let mut logistics_files = crate::logistics::LogisticsFiles::default();
    for (name, source) in files {
        let mut ctx = Ctx::new(name, source);
        let root = match parse::read(&mut ctx) {
            Ok(r) => r,
            Err(d) => {
                report.diagnostics.extend(d);
                continue;
            }
        };
        let is_product = get(&root, "product").is_some();
        let is_factory = [
            "factory",
            "work_center",
            "material",
            "packaging",
            "carrier",
            "supplier",
            "assembly",
        ]
        .iter()
        .any(|k| get(&root, k).is_some());
        if is_product && get(&root, "factory").is_some() {
            let at = root
                .iter()
                .find(|(k, _)| k.name == "factory")
                .map_or(0, |(k, _)| k.span.start);
            ctx.err(
                at,
                "a file is either a product (`[product]`) or a factory (`[factory]`), not both",
            );
        }
        if is_product {
            let (p, r) = parse::product(&mut ctx, &root);
            let at = p.span;
            if let Some((_, file, first)) = product_ids.iter().find(|(id, _, _)| *id == p.id) {
                let msg = format!(
                    "duplicate product id `{}` (first in {file} at line {}, column {})",
                    p.id, first.line, first.column
                );
                push(&mut ctx.diags, name, at, msg);
            } else {
                product_ids.push((p.id.clone(), name.clone(), at));
            }
            let clean = ctx.diags.is_empty();
            refs.extend(r.into_iter().map(|r| (name.clone(), r)));
            if clean {
                report.products.push(p);
                product_files.push(name.clone());
            }
        } else if is_factory {
            factory_files += 1;
            let f = crate::factory::factory(&mut ctx, &root);
            if !f.delivery_weekdays.is_empty() {
                report.factory.delivery_weekdays = f.delivery_weekdays;
            }
            if f.sales != crate::Sales::default() {
                report.factory.sales = f.sales;
            }
            for w in f.work_centers {
                if dup(&mut wc_seen, &w.id, name, w.span, &mut ctx, "work centre") {
                    report.factory.work_centers.push(w);
                }
            }
            for m in f.materials {
                if dup(&mut mat_seen, &m.id, name, m.span, &mut ctx, "material") {
                    if m.supplier.is_some() {
                        supplied.push((name.clone(), report.factory.materials.len()));
                    }
                    report.factory.materials.push(m);
                }
            }
            for s in f.suppliers {
                if dup(
                    &mut supplier_seen,
                    &s.id,
                    name,
                    s.span,
                    &mut ctx,
                    "supplier",
                ) {
                    report.factory.suppliers.push(s);
                }
            }
            for a in f.assemblies {
                if dup(
                    &mut assembly_seen,
                    &a.id,
                    name,
                    a.span,
                    &mut ctx,
                    "assembly",
                ) {
                    assembly_files.push(name.clone());
                    report.factory.assemblies.push(a);
                }
            }
            if f.packing_minutes > 0 {
                report.factory.packing_minutes = f.packing_minutes;
            }
            if f.max_batch_units.is_some() {
                report.factory.max_batch_units = f.max_batch_units;
            }
            for b in f.packaging {
                if report.factory.packaging.is_empty() {
                    logistics_files.packaging = name.clone();
                }
                if dup(&mut box_seen, &b.id, name, b.span, &mut ctx, "packaging") {
                    report.factory.packaging.push(b);
                }
            }
            for c in f.carriers {
                if report.factory.carriers.is_empty() {
                    logistics_files.carriers = name.clone();
                }
                if dup(&mut carrier_seen, &c.id, name, c.span, &mut ctx, "carrier") {
                    report.factory.carriers.push(c);
                }
            }
        } else {
            ctx.err(
                0,
                "neither a product file (`[product]`) nor a factory file (`[factory]`)",
            );
        }
        report.diagnostics.extend(ctx.diags);
    }
    if report.factory.delivery_weekdays.is_empty() {
        report.factory.delivery_weekdays = DEFAULT_DELIVERY_WEEKDAYS.to_vec();
    }
    let hint = if factory_files == 0 {
        " (no factory file was given)"
    } else {
        ""
    };
    for (file, r) in refs {
        if let Some(msg) = unknown(&report.factory, &r, hint) {
            push(&mut report.diagnostics, &file, r.span, msg);
        }
    }
    // A material's supplier: declared, and its lead time when the material
    // gives none.
    for (file, i) in supplied {
        let m = &report.factory.materials[i];
        let Some(id) = m.supplier.clone() else {
            continue;
        };
        match report.factory.supplier(&id).map(|s| s.lead_days) {
            Some(lead) => {
                if m.lead_days == 0 {
                    report.factory.materials[i].lead_days = lead;
                }
            }
            None => {
                let known: Vec<&str> = report
                    .factory
                    .suppliers
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect();
                let msg = format!(
                    "unknown supplier `{id}`{}",
                    if known.is_empty() {
                        " (no `[supplier.*]` is declared)".to_string()
                    } else {
                        format!(" (suppliers are: {})", known.join(", "))
                    }
                );
                push(&mut report.diagnostics, &file, m.supplier_span, msg);
            }
        }
    }
    // Sub-assemblies: what they point at, then each product's assembly
    // lines expanded, once, into its BOM and routing.
    report.diagnostics.extend(crate::assembly::cross_check(
        &report.factory,
        &assembly_files,
        &mat_seen,
    ));
    for (p, file) in report.products.iter_mut().zip(&product_files) {
        let d = crate::assembly::flatten(file, p, &report.factory);
        report.diagnostics.extend(d);
    }
    let logistics = crate::logistics::cross_check(&report, &product_files, &logistics_files);
    report.diagnostics.extend(logistics);
    report
}

/// Records a factory item's id; false (and an error) if another file or
/// table already declared it.
fn dup(
    seen: &mut Vec<(String, String, Span)>,
    id: &str,
    file: &str,
    at: Span,
    ctx: &mut Ctx,
    what: &str,
) -> bool {
    if let Some((_, f, first)) = seen.iter().find(|(s, _, _)| s == id) {
        let msg = format!(
            "duplicate {what} `{id}` (first in {f} at line {}, column {})",
            first.line, first.column
        );
        push(&mut ctx.diags, file, at, msg);
        false
    } else {
        seen.push((id.to_owned(), file.to_owned(), at));
        true
    }
}

fn push(diags: &mut Vec<Diagnostic>, file: &str, span: Span, message: String) {
    diags.push(Diagnostic {
        file: file.to_owned(),
        span,
        message,
    });
}

fn unknown(f: &Factory, r: &Ref, hint: &str) -> Option<String> {
    match r.kind {
        RefKind::WorkCenter if f.work_center(&r.id).is_none() => Some(format!(
            "unknown work centre `{}`{}",
            r.id,
            known(
                f.work_centers.iter().map(|w| w.id.as_str()),
                "work centres",
                hint
            )
        )),
        RefKind::Material if f.material(&r.id).is_none() => {
            Some(if f.materials.is_empty() && f.assemblies.is_empty() {
                format!("unknown material `{}`{hint}", r.id)
            } else {
                crate::assembly::unknown_material(f, &r.id)
            })
        }
        RefKind::Assembly if f.assembly(&r.id).is_none() => {
            Some(crate::assembly::unknown_assembly(f, &r.id))
        }
        _ => None,
    }
}

pub(crate) fn known<'a>(ids: impl Iterator<Item = &'a str>, what: &str, hint: &str) -> String {
    let ids: Vec<&str> = ids.collect();
    if ids.is_empty() {
        hint.to_owned()
    } else {
        format!(" ({what} are: {})", ids.join(", "))
    }
}

/// Cross-checks one already parsed product against a factory. Positions are
/// those of the BOM line or operation; `file` is left empty because a
/// resolved product doesn't know its file (see [`resolve_in`]).
pub fn resolve(product: &Product, factory: &Factory) -> Vec<Diagnostic> {
    resolve_in("", product, factory)
}

/// [`resolve`] with the file name to put in the diagnostics.
pub fn resolve_in(file: &str, product: &Product, factory: &Factory) -> Vec<Diagnostic> {
    let refs = product
        .bom
        .iter()
        .map(|b| Ref {
            kind: RefKind::Material,
            id: b.material.clone(),
            span: b.span,
        })
        .chain(product.operations.iter().map(|o| Ref {
            kind: RefKind::WorkCenter,
            id: o.work_center.clone(),
            span: o.span,
        }))
        .chain(product.assemblies.iter().map(|a| Ref {
            kind: RefKind::Assembly,
            id: a.assembly.clone(),
            span: a.span,
        }));
    let mut out = Vec::new();
    for r in refs {
        if let Some(msg) = unknown(factory, &r, "") {
            push(&mut out, file, r.span, msg);
        }
    }
    out
}
