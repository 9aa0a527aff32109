//! TOML model files to resolved types. Every problem becomes a diagnostic and
//! parsing carries on, so one run shows the author everything to fix.

use rust_decimal::Decimal;

use crate::condition::{self, domain_value, lookup, not_a_value, value_list};
use crate::ctx::{Ctx, Table, get};
use crate::tree::{self, Node, Val};
use crate::{
    AssemblyUse, BomLine, Component, Diagnostic, Expr, Factory, Operation, OptionDef, OptionKind,
    Part, Preview, PriceRule, Product, Quantity, QuantityOf, Rule, Span, TableConstraint,
    TableKind, Value,
};

/// A product's reference to something a factory file declares, checked once
/// all files are read.
#[derive(Debug, Clone)]
pub(crate) struct Ref {
    pub kind: RefKind,
    pub id: String,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RefKind {
    WorkCenter,
    Material,
    Assembly,
}

mod options;
mod prices;
mod quantity;
mod tables;

use options::*;
use prices::*;
pub(crate) use quantity::quantity;
use tables::*;

pub(crate) const DEFAULT_VIEW_BOX: &str = "0 0 200 200";

/// Parses a product file.
pub fn parse_product(file: &str, source: &str) -> Result<Product, Vec<Diagnostic>> {
    let mut ctx = Ctx::new(file, source);
    let root = read(&mut ctx)?;
    let (p, _) = product(&mut ctx, &root);
    finish(ctx, p)
}

/// Parses a factory file: work centres and materials.
pub fn parse_factory(file: &str, source: &str) -> Result<Factory, Vec<Diagnostic>> {
    let mut ctx = Ctx::new(file, source);
    let root = read(&mut ctx)?;
    let f = crate::factory::factory(&mut ctx, &root);
    finish(ctx, f)
}

fn finish<T>(ctx: Ctx, t: T) -> Result<T, Vec<Diagnostic>> {
    if ctx.diags.is_empty() {
        Ok(t)
    } else {
        Err(ctx.diags)
    }
}

/// TOML syntax errors stop the file: there is no tree to walk.
pub(crate) fn read(ctx: &mut Ctx) -> Result<Vec<(tree::Key, Node)>, Vec<Diagnostic>> {
    tree::parse(ctx.source).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        ctx.err(at, syntax_message(&e));
        std::mem::take(&mut ctx.diags)
    })
}

/// The toml error's Display repeats the position and a source excerpt; the
/// message alone reads better next to our own line:column.
fn syntax_message(e: &toml::de::Error) -> String {
    let m = e.message().trim();
    let m = m.lines().next().unwrap_or(m);
    format!("TOML syntax error: {m}")
}

const PRODUCT_FILE_KEYS: &[&str] = &[
    "product",
    "component",
    "option",
    "rule",
    "table",
    "price",
    "bom",
    "operation",
    "repair_operation",
    "preview",
    "parcel",
];
const PRODUCT_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "currency",
    "base_price",
    "ship_days",
    "warranty_months",
    "gtin",
];
const OPTION_COMMON: &[&str] = &["name", "aliases", "kind", "optional", "default"];
const KINDS: &[(&str, &[&str])] = &[
    ("choice", &["values"]),
    ("color", &["palette"]),
    ("text", &["max_length", "characters"]),
    ("number", &["min", "max", "unit"]),
];

/// Option ids appear bare in conditions and `{placeholders}`, so they must
/// lex as one word there.
pub(crate) fn valid_option_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
        && !condition::is_keyword(id)
}

pub(crate) fn product(ctx: &mut Ctx, root: &Table) -> (Product, Vec<Ref>) {
    ctx.keys(root, PRODUCT_FILE_KEYS, "a product file");
    let mut p = Product {
        id: String::new(),
        name: String::new(),
        description: String::new(),
        currency: String::new(),
        base_price: Decimal::ZERO,
        ship_days: 0,
        warranty_months: 0,
        gtin: None,
        components: Vec::new(),
        options: Vec::new(),
        rules: Vec::new(),
        tables: Vec::new(),
        prices: Vec::new(),
        bom: Vec::new(),
        operations: Vec::new(),
        repair_operations: Vec::new(),
        assemblies: Vec::new(),
        parcel: None,
        preview: Preview {
            view_box: DEFAULT_VIEW_BOX.into(),
            layers: Vec::new(),
            scale: None,
        },
        span: Span::default(),
    };
    let mut refs = Vec::new();
    match get(root, "product") {
        None => ctx.err(0, "missing `[product]` table"),
        Some(n) => header(ctx, n, &mut p),
    }
    if let Some(n) = get(root, "component") {
        p.components = components(ctx, n);
    }
    if let Some(n) = get(root, "option")
        && let Some(t) = ctx.table(n, "option")
    {
        // Ids and aliases share one namespace (a map: imported models have
        // thousands of options).
        let mut names: std::collections::HashMap<String, Span> = Default::default();
        for (k, n) in t {
            if let Some((o, aliases)) = option(ctx, k, n) {
                if let Some(first) = names.insert(o.id.clone(), ctx.span(k.span.start)) {
                    ctx.err(
                        k.span.start,
                        format!(
                            "option id `{}` is already an alias (line {}, column {})",
                            o.id, first.line, first.column
                        ),
                    );
                }
                for (alias, at) in aliases {
                    if let Some(first) = names.get(&alias) {
                        let first = *first;
                        ctx.err(
                            at,
                            format!(
                                "alias `{alias}` is already an option name (line {}, column {})",
                                first.line, first.column
                            ),
                        );
                    } else {
                        names.insert(alias, ctx.span(at));
                    }
                }
                p.options.push(o);
            }
        }
    }
    if let Some(n) = get(root, "rule") {
        p.rules = rules(ctx, n, &p.options);
    }
    if let Some(n) = get(root, "table") {
        p.tables = tables(ctx, n, &p.options);
    }
    if let Some(n) = get(root, "price") {
        p.prices = prices(ctx, n, &p.options);
    }
    if let Some(n) = get(root, "bom") {
        (p.bom, p.assemblies) = bom(ctx, n, &p.options, &mut refs);
    }
    if let Some(n) = get(root, "operation") {
        p.operations = operations(ctx, n, "operation", &p.options, &mut refs);
    }
    if let Some(n) = get(root, "repair_operation") {
        p.repair_operations = operations(ctx, n, "repair_operation", &p.options, &mut refs);
    }
    if let Some(n) = get(root, "preview") {
        p.preview = crate::preview::preview(ctx, n, &p.options);
    }
    if let Some(n) = get(root, "parcel") {
        p.parcel = crate::logistics::parcel(ctx, n, &p.options);
    }
    (p, refs)
}

fn header(ctx: &mut Ctx, n: &Node, p: &mut Product) {
    p.span = ctx.span(n.span.start);
    let Some(t) = ctx.table(n, "product") else {
        return;
    };
    let what = "[product]";
    ctx.keys(t, PRODUCT_KEYS, what);
    let at = n.span.start;
    if let Some(v) = ctx.require(t, "id", at, what) {
        p.id = ctx.string(v, "id").unwrap_or_default();
        if p.id.is_empty() || p.id.chars().any(char::is_whitespace) {
            let at = ctx.content(v, &p.id);
            ctx.err(at, "product `id` must be a non-empty word without spaces");
        }
    }
    if let Some(v) = ctx.require(t, "name", at, what) {
        p.name = ctx.string(v, "name").unwrap_or_default();
    }
    p.description = ctx.opt_string(t, "description").unwrap_or_default();
    if let Some(v) = ctx.require(t, "currency", at, what) {
        p.currency = ctx.string(v, "currency").unwrap_or_default();
        if !(p.currency.len() == 3 && p.currency.bytes().all(|b| b.is_ascii_uppercase())) {
            let at = ctx.content(v, &p.currency);
            ctx.err(
                at,
                format!("`{}` is not an ISO 4217 currency code like EUR", p.currency),
            );
        }
    }
    if let Some(v) = ctx.require(t, "base_price", at, what) {
        p.base_price = ctx.amount(v, "base_price").unwrap_or_default();
    }
    if let Some(v) = get(t, "warranty_months") {
        p.warranty_months = ctx.u32(v, "warranty_months").unwrap_or_default();
        if p.warranty_months > 600 {
            ctx.err(v.span.start, "`warranty_months` is at most 600 (50 years)");
        }
    }
    if let Some(v) = get(t, "gtin") {
        let text = ctx.string(v, "gtin").unwrap_or_default();
        match crate::gtin::gtin14(&text) {
            Ok(g) => p.gtin = Some(g),
            Err(why) => {
                let at = ctx.content(v, &text);
                ctx.err(at, why);
            }
        }
    }
    if let Some(v) = get(t, "ship_days") {
        p.ship_days = ctx.u32(v, "ship_days").unwrap_or_default();
    }
}

/// Reports a repeated id at its second use, pointing back at the first.
fn unique(ctx: &mut Ctx, seen: &mut Vec<(String, Span)>, id: &str, at: usize, what: &str) {
    if let Some((_, first)) = seen.iter().find(|(s, _)| s == id) {
        let first = *first;
        ctx.err(
            at,
            format!(
                "duplicate {what} `{id}` (first at line {}, column {})",
                first.line, first.column
            ),
        );
    } else {
        seen.push((id.to_owned(), ctx.span(at)));
    }
}

fn components(ctx: &mut Ctx, n: &Node) -> Vec<Component> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in ctx.tables(n, "component").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("component {}", i + 1);
        ctx.keys(t, &["id", "name"], &what);
        let Some(idn) = ctx.require(t, "id", item.span.start, &what) else {
            continue;
        };
        let Some(id) = ctx.string(idn, "id") else {
            continue;
        };
        let at = ctx.content(idn, &id);
        unique(ctx, &mut seen, &id, at, "component id");
        let name = ctx.opt_string(t, "name").unwrap_or_else(|| id.clone());
        out.push(Component {
            id,
            name,
            span: ctx.span(item.span.start),
        });
    }
    out
}

/// Parses and checks the condition string in `n`; errors point at the
/// offending token inside the string.
fn cond_expr(ctx: &mut Ctx, n: &Node, key: &str, options: &[OptionDef]) -> Expr {
    let Some(s) = ctx.string(n, key) else {
        return Expr::always();
    };
    match condition::parse(&s) {
        Err(e) => {
            let at = ctx.lines.in_string(n.span.start, &s, e.at);
            ctx.err(at, e.message);
            Expr::always()
        }
        Ok(c) => {
            let mut errs = Vec::new();
            let e = condition::resolve(&c, options, &mut |off, msg| errs.push((off, msg)));
            for (off, msg) in errs {
                let at = ctx.lines.in_string(n.span.start, &s, off);
                ctx.err(at, msg);
            }
            e
        }
    }
}

pub(crate) fn opt_condition(ctx: &mut Ctx, t: &Table, key: &str, options: &[OptionDef]) -> Expr {
    match get(t, key) {
        Some(n) => cond_expr(ctx, n, key, options),
        None => Expr::always(),
    }
}

fn rules(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Vec<Rule> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in ctx.tables(n, "rule").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("rule {}", i + 1);
        ctx.keys(t, &["id", "if", "then", "message"], &what);
        let id = match get(t, "id") {
            Some(v) => {
                let id = ctx.string(v, "id").unwrap_or_default();
                let at = ctx.content(v, &id);
                unique(ctx, &mut seen, &id, at, "rule id");
                id
            }
            None => format!("rule-{}", i + 1),
        };
        let condition = opt_condition(ctx, t, "if", options);
        let then = match ctx.require(t, "then", item.span.start, &what) {
            Some(v) => cond_expr(ctx, v, "then", options),
            None => Expr::always(),
        };
        let message = ctx.opt_string(t, "message").unwrap_or_else(|| {
            let then = get(t, "then").and_then(|v| match &v.val {
                Val::Str(s) => Some(s.clone()),
                _ => None,
            });
            let cond = get(t, "if").and_then(|v| match &v.val {
                Val::Str(s) => Some(s.clone()),
                _ => None,
            });
            match (cond, then) {
                (Some(c), Some(t)) => format!("when {c}: {t}"),
                (None, Some(t)) => t,
                _ => id.clone(),
            }
        });
        out.push(Rule {
            id,
            condition,
            then,
            message,
            span: ctx.span(item.span.start),
        });
    }
    out
}

fn reference(ctx: &mut Ctx, n: &Node, key: &str, kind: RefKind, refs: &mut Vec<Ref>) -> String {
    let id = ctx.string(n, key).unwrap_or_default();
    let at = ctx.content(n, &id);
    refs.push(Ref {
        kind,
        id: id.clone(),
        span: ctx.span(at),
    });
    id
}

/// `[[bom]]`: material lines, and lines naming an assembly (each exactly
/// one of the two), which the catalog check expands.
fn bom(
    ctx: &mut Ctx,
    n: &Node,
    options: &[OptionDef],
    refs: &mut Vec<Ref>,
) -> (Vec<BomLine>, Vec<AssemblyUse>) {
    let mut out = Vec::new();
    let mut uses = Vec::new();
    for (i, item) in ctx.tables(n, "bom").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("BOM line {}", i + 1);
        ctx.keys(t, &["material", "assembly", "qty", "by", "if"], &what);
        let at = item.span.start;
        let assembly = t.iter().find(|(k, _)| k.name == "assembly");
        // A line in error is a material line without a material.
        let part = match (get(t, "material"), assembly) {
            (Some(_), Some((k, _))) => {
                ctx.err(
                    k.span.start,
                    "a BOM line names a `material` or an `assembly`, not both",
                );
                Part::Material(String::new())
            }
            (Some(v), None) => {
                Part::Material(reference(ctx, v, "material", RefKind::Material, refs))
            }
            (None, Some((_, v))) => {
                Part::Assembly(reference(ctx, v, "assembly", RefKind::Assembly, refs))
            }
            (None, None) => {
                ctx.err(at, format!("missing `material` or `assembly` in {what}"));
                Part::Material(String::new())
            }
        };
        let qty = match ctx.require(t, "qty", at, &what) {
            Some(v) => quantity(ctx, v, "qty", get(t, "by"), options),
            None => Quantity::Fixed(Decimal::ZERO),
        };
        let condition = opt_condition(ctx, t, "if", options);
        let span = ctx.span(at);
        match part {
            Part::Material(material) => out.push(BomLine {
                material,
                qty,
                condition,
                span,
            }),
            Part::Assembly(assembly) => uses.push(AssemblyUse {
                assembly,
                qty,
                condition,
                span,
                line: i,
                expanded: None,
            }),
        }
    }
    (out, uses)
}

/// `[[operation]]` (the routing) or `[[repair_operation]]` (what a repair
/// of a unit goes through), read the same way.
fn operations(
    ctx: &mut Ctx,
    n: &Node,
    key: &str,
    options: &[OptionDef],
    refs: &mut Vec<Ref>,
) -> Vec<Operation> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in ctx.tables(n, key).into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("{} {}", key.replace('_', " "), i + 1);
        ctx.keys(
            t,
            &[
                "id",
                "name",
                "work_center",
                "minutes",
                "by",
                "setup_minutes",
                "if",
            ],
            &what,
        );
        let at = item.span.start;
        let id = match ctx.require(t, "id", at, &what) {
            Some(v) => {
                let id = ctx.string(v, "id").unwrap_or_default();
                let at = ctx.content(v, &id);
                unique(ctx, &mut seen, &id, at, "operation id");
                id
            }
            None => format!("operation-{}", i + 1),
        };
        let name = ctx.opt_string(t, "name").unwrap_or_else(|| id.clone());
        let work_center = match ctx.require(t, "work_center", at, &what) {
            Some(v) => reference(ctx, v, "work_center", RefKind::WorkCenter, refs),
            None => String::new(),
        };
        let minutes = match ctx.require(t, "minutes", at, &what) {
            Some(v) => quantity(ctx, v, "minutes", get(t, "by"), options),
            None => Quantity::Fixed(Decimal::ZERO),
        };
        let setup_minutes = get(t, "setup_minutes")
            .and_then(|v| ctx.amount(v, "setup_minutes"))
            .unwrap_or_default();
        let condition = opt_condition(ctx, t, "if", options);
        out.push(Operation {
            id,
            name,
            work_center,
            minutes,
            setup_minutes,
            condition,
            span: ctx.span(at),
        });
    }
    out
}
