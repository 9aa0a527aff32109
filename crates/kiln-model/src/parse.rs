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

/// An option and where each of its aliases is written (for the product-wide
/// uniqueness check).
fn option(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<(OptionDef, Vec<(String, usize)>)> {
    let id = key.name.clone();
    let what = format!("option `{id}`");
    if !valid_option_id(&id) {
        ctx.err(
            key.span.start,
            format!(
                "option id `{id}` must be one word of letters, digits, `_` or `-`, and not and/or/not/in"
            ),
        );
    }
    let t = ctx.table(n, &id)?;
    let kind_name = match get(t, "kind") {
        None => "choice".to_owned(),
        Some(k) => ctx.string(k, "kind")?,
    };
    let Some((_, specific)) = KINDS.iter().find(|(k, _)| *k == kind_name) else {
        let k = get(t, "kind")?;
        let at = ctx.content(k, &kind_name);
        ctx.err(
            at,
            format!("unknown option kind `{kind_name}` (kinds are: choice, color, text, number)"),
        );
        return None;
    };
    for (k, _) in t.iter() {
        let name = k.name.as_str();
        if OPTION_COMMON.contains(&name) || specific.contains(&name) {
            continue;
        }
        if let Some((other, _)) = KINDS.iter().find(|(_, keys)| keys.contains(&name)) {
            ctx.err(
                k.span.start,
                format!(
                    "`{name}` belongs to {other} options; {what} is a {kind_name} option (set `kind = \"{other}\"`?)"
                ),
            );
        } else {
            let mut allowed = OPTION_COMMON.to_vec();
            allowed.extend_from_slice(specific);
            ctx.err(
                k.span.start,
                format!(
                    "unknown key `{name}` in {what} (expected one of: {})",
                    allowed.join(", ")
                ),
            );
        }
    }
    let name = ctx.opt_string(t, "name").unwrap_or_else(|| id.clone());
    let aliases = aliases(ctx, t);
    let optional = get(t, "optional")
        .and_then(|v| ctx.boolean(v, "optional"))
        .unwrap_or(false);
    let at = n.span.start;
    let kind = match kind_name.as_str() {
        "choice" => OptionKind::Choice {
            values: values(ctx, t, "values", at, &what, false),
        },
        "color" => OptionKind::Color {
            values: values(ctx, t, "palette", at, &what, true),
        },
        "text" => OptionKind::Text {
            max_length: match ctx.require(t, "max_length", at, &what) {
                Some(v) => match ctx.u32(v, "max_length") {
                    Some(0) => {
                        ctx.err(v.span.start, "`max_length` must be at least 1");
                        1
                    }
                    Some(m) => m,
                    None => u32::MAX,
                },
                None => u32::MAX,
            },
            characters: get(t, "characters").and_then(|v| {
                let source = ctx.string(v, "characters")?;
                crate::text::Characters::parse(&source)
                    .map_err(|e| ctx.err(v.span.start, e))
                    .ok()
            }),
        },
        _ => {
            let min = ctx
                .require(t, "min", at, &what)
                .and_then(|v| ctx.decimal(v, "min"));
            let max_node = ctx.require(t, "max", at, &what);
            let max = max_node.and_then(|v| ctx.decimal(v, "max"));
            if let (Some(lo), Some(hi), Some(v)) = (min, max, max_node)
                && lo > hi
            {
                ctx.err(
                    v.span.start,
                    format!("`max` ({hi}) is below `min` ({lo}) in {what}"),
                );
            }
            OptionKind::Number {
                min: min.unwrap_or(Decimal::MIN),
                max: max.unwrap_or(Decimal::MAX),
                unit: ctx.opt_string(t, "unit").unwrap_or_default(),
            }
        }
    };
    let mut o = OptionDef {
        id,
        name,
        aliases: aliases.iter().map(|(a, _)| a.clone()).collect(),
        kind,
        optional,
        default: None,
        span: ctx.span(n.span.start),
    };
    if let Some(d) = get(t, "default") {
        o.default = default(ctx, d, &o);
    }
    Some((o, aliases))
}

/// An option's `aliases`: other names it answers to, each one word as an id
/// is (an imported DIMACS variable keeps its number this way).
fn aliases(ctx: &mut Ctx, t: &Table) -> Vec<(String, usize)> {
    let Some(n) = get(t, "aliases") else {
        return Vec::new();
    };
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            format!(
                "`aliases` must be a list of names, found {}",
                n.val.type_name()
            ),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for item in items {
        if let Some(a) = ctx.string(item, "aliases") {
            let at = ctx.content(item, &a);
            if valid_option_id(&a) {
                out.push((a, at));
            } else {
                ctx.err(
                    at,
                    format!(
                        "alias `{a}` must be one word of letters, digits, `_` or `-`, and not and/or/not/in"
                    ),
                );
            }
        }
    }
    out
}

/// A choice's `values` or a colour's `palette`: a list of ids, or a table of
/// id = label.
fn values(ctx: &mut Ctx, t: &Table, key: &str, at: usize, what: &str, color: bool) -> Vec<Value> {
    let Some(n) = ctx.require(t, key, at, what) else {
        return Vec::new();
    };
    let mut raw: Vec<(String, String, usize)> = Vec::new();
    match &n.val {
        Val::Array(items) => {
            for item in items {
                if let Some(s) = ctx.string(item, key) {
                    let at = ctx.content(item, &s);
                    raw.push((s.clone(), s, at));
                }
            }
        }
        Val::Table(entries) => {
            for (k, v) in entries {
                if let Some(label) = ctx.string(v, key) {
                    raw.push((k.name.clone(), label, k.span.start));
                }
            }
        }
        _ => {
            ctx.err(
                n.span.start,
                format!(
                    "`{key}` must be a list of values or a table of value = label, found {}",
                    n.val.type_name()
                ),
            );
            return Vec::new();
        }
    }
    if raw.is_empty() && matches!(n.val, Val::Array(_) | Val::Table(_)) {
        ctx.err(n.span.start, format!("{what} has no values"));
    }
    let mut out: Vec<Value> = Vec::new();
    let mut seen = Vec::new();
    for (mut id, label, at) in raw {
        if color {
            if !is_hex_color(&id) {
                ctx.err(
                    at,
                    format!("palette entry `{id}` is not a `#rrggbb` colour"),
                );
                continue;
            }
            id = id.to_ascii_lowercase();
        } else if id.trim().is_empty() {
            ctx.err(at, format!("empty value in {what}"));
            continue;
        }
        let before = seen.len();
        unique(ctx, &mut seen, &id, at, "value");
        if seen.len() > before {
            out.push(Value { id, label });
        }
    }
    out
}

fn is_hex_color(s: &str) -> bool {
    s.len() == 7 && s.starts_with('#') && s[1..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn default(ctx: &mut Ctx, n: &Node, o: &OptionDef) -> Option<String> {
    match &o.kind {
        OptionKind::Choice { values } | OptionKind::Color { values } => {
            let s = ctx.string(n, "default")?;
            let id = domain_value(o, &s);
            // Without values the option is already reported; don't pile on.
            if id.is_none() && !values.is_empty() {
                let at = ctx.content(n, &s);
                ctx.err(at, format!("default {}", not_a_value(o, &s)));
            }
            id
        }
        OptionKind::Text {
            max_length,
            characters,
        } => {
            let s = ctx.string(n, "default")?;
            if let Err(bad) = crate::text::check_text(&s, characters.as_ref()) {
                ctx.err(n.span.start, format!("the default cannot hold {bad}"));
            }
            let len = s.chars().count();
            if len > *max_length as usize {
                ctx.err(
                    n.span.start,
                    format!(
                        "default is {len} characters; option `{}` allows {max_length}",
                        o.id
                    ),
                );
            }
            Some(s)
        }
        OptionKind::Number { min, max, .. } => {
            let d = ctx.decimal(n, "default")?;
            if d < *min || d > *max {
                ctx.err(
                    n.span.start,
                    format!("default {d} is outside {min}..{max} of option `{}`", o.id),
                );
            }
            Some(d.normalize().to_string())
        }
    }
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

/// `[[table]]`: an extensional constraint. `supports` or `conflicts` holds the
/// tuples as text, one per line (or separated by `|`), values separated by
/// spaces, in `scope` order.
fn tables(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Vec<TableConstraint> {
    let mut out = Vec::new();
    let mut seen = Vec::new();
    for (i, item) in ctx.tables(n, "table").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("table {}", i + 1);
        ctx.keys(
            t,
            &["id", "scope", "supports", "conflicts", "message"],
            &what,
        );
        let id = match get(t, "id") {
            Some(v) => {
                let id = ctx.string(v, "id").unwrap_or_default();
                let at = ctx.content(v, &id);
                unique(ctx, &mut seen, &id, at, "table id");
                id
            }
            None => format!("table-{}", i + 1),
        };
        let mut scope = Vec::new();
        let mut ok = true;
        if let Some(v) = ctx.require(t, "scope", item.span.start, &what) {
            match &v.val {
                Val::Array(items) if !items.is_empty() => {
                    for it in items {
                        let Some(name) = ctx.string(it, "scope") else {
                            ok = false;
                            continue;
                        };
                        let at = ctx.content(it, &name);
                        match options.iter().position(|o| o.id == name) {
                            None => {
                                ctx.err(
                                    at,
                                    format!("unknown option `{name}` in the scope of {what}"),
                                );
                                ok = false;
                            }
                            Some(k) if options[k].kind.values().is_empty() => {
                                ctx.err(
                                    at,
                                    format!(
                                        "option `{name}` in a table must be a choice or colour"
                                    ),
                                );
                                ok = false;
                            }
                            Some(k) if scope.contains(&k) => {
                                ctx.err(
                                    at,
                                    format!("option `{name}` is twice in the scope of {what}"),
                                );
                                ok = false;
                            }
                            Some(k) => scope.push(k),
                        }
                    }
                }
                _ => {
                    ctx.err(
                        v.span.start,
                        "`scope` must be a non-empty list of option ids",
                    );
                    ok = false;
                }
            }
        } else {
            ok = false;
        }
        let (kind, body) = match (get(t, "supports"), get(t, "conflicts")) {
            (Some(v), None) => (TableKind::Supports, v),
            (None, Some(v)) => (TableKind::Conflicts, v),
            (Some(_), Some(v)) => {
                ctx.err(
                    v.span.start,
                    format!("{what} has both `supports` and `conflicts`"),
                );
                continue;
            }
            (None, None) => {
                ctx.err(
                    item.span.start,
                    format!("missing `supports` or `conflicts` in {what}"),
                );
                continue;
            }
        };
        let Some(text) = ctx.string(
            body,
            if kind == TableKind::Supports {
                "supports"
            } else {
                "conflicts"
            },
        ) else {
            continue;
        };
        let message = ctx.opt_string(t, "message").unwrap_or_else(|| id.clone());
        if !ok {
            continue;
        }
        let mut tuples = Vec::new();
        let mut dedup = std::collections::HashSet::new();
        let mut bad = false;
        for (off, raw) in tuple_texts(&text) {
            let words: Vec<(usize, &str)> = words(raw).collect();
            if words.is_empty() {
                continue;
            }
            if words.len() != scope.len() {
                let at = ctx.lines.in_string(body.span.start, &text, off);
                ctx.err(
                    at,
                    format!(
                        "a tuple of {what} has {} values; its scope has {}",
                        words.len(),
                        scope.len()
                    ),
                );
                bad = true;
                continue;
            }
            let mut tuple = Vec::with_capacity(scope.len());
            for (&k, (w_off, w)) in scope.iter().zip(&words) {
                match options[k].kind.values().iter().position(|v| v.id == *w) {
                    Some(x) => tuple.push(x as u32),
                    None => {
                        let at = ctx.lines.in_string(body.span.start, &text, off + w_off);
                        ctx.err(at, format!("`{w}` is not a value of `{}`", options[k].id));
                        bad = true;
                    }
                }
            }
            if tuple.len() == scope.len() && dedup.insert(tuple.clone()) {
                tuples.extend(tuple);
            }
        }
        if bad {
            continue;
        }
        out.push(TableConstraint {
            id,
            scope,
            kind,
            tuples,
            message,
            span: ctx.span(item.span.start),
        });
    }
    out
}

/// Tuples of a table body with their byte offsets: split at newlines and `|`.
fn tuple_texts(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut start = 0;
    text.char_indices()
        .filter(|(_, c)| *c == '\n' || *c == '|')
        .map(|(i, _)| i)
        .chain(std::iter::once(text.len()))
        .map(move |end| {
            let s = (start, &text[start..end]);
            start = end + 1;
            s
        })
}

/// Whitespace-separated words with their byte offsets.
fn words(s: &str) -> impl Iterator<Item = (usize, &str)> {
    s.split_ascii_whitespace()
        .map(move |w| (w.as_ptr() as usize - s.as_ptr() as usize, w))
}

fn prices(ctx: &mut Ctx, n: &Node, options: &[OptionDef]) -> Vec<PriceRule> {
    let mut out = Vec::new();
    for (i, item) in ctx.tables(n, "price").into_iter().enumerate() {
        let Val::Table(t) = &item.val else { continue };
        let what = format!("price {}", i + 1);
        ctx.keys(
            t,
            &[
                "label",
                "if",
                "add",
                "per_char_of",
                "min_quantity",
                "quantity_of",
            ],
            &what,
        );
        let condition = opt_condition(ctx, t, "if", options);
        let add = ctx
            .require(t, "add", item.span.start, &what)
            .and_then(|v| ctx.decimal(v, "add"))
            .unwrap_or_default();
        let per_char_of = get(t, "per_char_of").and_then(|v| {
            let s = ctx.string(v, "per_char_of")?;
            let word = condition::Word {
                text: s.clone(),
                at: ctx.content(v, &s),
            };
            let mut errs = Vec::new();
            let o = lookup(options, &word, &mut |at, m| errs.push((at, m)));
            for (at, m) in errs {
                ctx.err(at, m);
            }
            if let Some(o) = o
                && !matches!(o.kind, OptionKind::Text { .. })
            {
                ctx.err(
                    word.at,
                    format!(
                        "`per_char_of` needs a text option; `{}` is a {} option",
                        o.id,
                        o.kind.name()
                    ),
                );
            }
            Some(s)
        });
        let label =
            ctx.opt_string(t, "label")
                .unwrap_or_else(|| match get(t, "if").map(|v| &v.val) {
                    Some(Val::Str(s)) => s.clone(),
                    _ => format!("price-{}", i + 1),
                });
        let min_quantity = match get(t, "min_quantity") {
            Some(v) => {
                let n = ctx.u32(v, "min_quantity").unwrap_or(1);
                if n == 0 {
                    ctx.err(v.span.start, "`min_quantity` is at least 1");
                }
                n.max(1)
            }
            None => 1,
        };
        let quantity_of = match get(t, "quantity_of") {
            Some(v) => {
                let s = ctx.string(v, "quantity_of").unwrap_or_default();
                match s.as_str() {
                    "line" => QuantityOf::Line,
                    "order" => QuantityOf::Order,
                    _ => {
                        let at = ctx.content(v, &s);
                        ctx.err(
                            at,
                            format!("`quantity_of` is \"line\" or \"order\", not `{s}`"),
                        );
                        QuantityOf::Line
                    }
                }
            }
            None => QuantityOf::Line,
        };
        if let Some(v) = get(t, "quantity_of")
            && get(t, "min_quantity").is_none()
        {
            ctx.err(
                v.span.start,
                "`quantity_of` needs a `min_quantity`: the units from which the price holds",
            );
        }
        out.push(PriceRule {
            label,
            condition,
            add,
            per_char_of,
            min_quantity,
            quantity_of,
            span: ctx.span(item.span.start),
        });
    }
    out
}

/// `qty`/`minutes`: a number, or a table keyed by one option's values.
pub(crate) fn quantity(
    ctx: &mut Ctx,
    n: &Node,
    key: &str,
    by: Option<&Node>,
    options: &[OptionDef],
) -> Quantity {
    let Val::Table(entries) = &n.val else {
        if let Some(b) = by {
            ctx.err(
                b.span.start,
                format!("`by` applies only when `{key}` is a table of values"),
            );
        }
        return Quantity::Fixed(ctx.amount(n, key).unwrap_or_default());
    };
    let enumerable =
        |o: &&OptionDef| matches!(o.kind, OptionKind::Choice { .. } | OptionKind::Color { .. });
    let opt = match by {
        Some(b) => {
            let s = ctx.string(b, "by").unwrap_or_default();
            let word = condition::Word {
                text: s.clone(),
                at: ctx.content(b, &s),
            };
            let mut errs = Vec::new();
            let o = lookup(options, &word, &mut |at, m| errs.push((at, m)));
            for (at, m) in errs {
                ctx.err(at, m);
            }
            match o {
                Some(o) if !enumerable(&o) => {
                    ctx.err(
                        word.at,
                        format!(
                            "`by` needs a choice or color option; `{}` is a {} option",
                            o.id,
                            o.kind.name()
                        ),
                    );
                    None
                }
                o => o,
            }
        }
        None => {
            let fits: Vec<&OptionDef> = options
                .iter()
                .filter(enumerable)
                .filter(|o| {
                    entries
                        .iter()
                        .all(|(k, _)| domain_value(o, &k.name).is_some())
                })
                .collect();
            match fits.as_slice() {
                [o] => Some(*o),
                [] => {
                    ctx.err(
                        n.span.start,
                        format!(
                            "the keys of `{key}` are not the values of any one option; name the option with `by`"
                        ),
                    );
                    None
                }
                many => {
                    let names: Vec<&str> = many.iter().map(|o| o.id.as_str()).collect();
                    ctx.err(
                        n.span.start,
                        format!(
                            "the keys of `{key}` fit several options ({}); name one with `by`",
                            names.join(", ")
                        ),
                    );
                    None
                }
            }
        }
    };
    let mut given: Vec<(String, Decimal)> = Vec::new();
    for (k, v) in entries {
        let amount = ctx.amount(v, key).unwrap_or_default();
        match opt {
            Some(o) => match domain_value(o, &k.name) {
                Some(id) => given.push((id, amount)),
                None => ctx.err(k.span.start, not_a_value(o, &k.name)),
            },
            None => given.push((k.name.clone(), amount)),
        }
    }
    let Some(o) = opt else {
        return Quantity::ByValue {
            option: String::new(),
            by_value: given,
        };
    };
    let missing: Vec<&str> = o
        .kind
        .values()
        .iter()
        .filter(|v| !given.iter().any(|(g, _)| *g == v.id))
        .map(|v| v.id.as_str())
        .collect();
    if !missing.is_empty() {
        ctx.err(
            n.span.start,
            format!(
                "`{key}` has no entry for {} of option `{}` ({})",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                o.id,
                value_list(o)
            ),
        );
    }
    // Canonical order: the option's value order, whatever the file's.
    let by_value = o
        .kind
        .values()
        .iter()
        .filter_map(|v| given.iter().find(|(g, _)| *g == v.id).cloned())
        .collect();
    Quantity::ByValue {
        option: o.id.clone(),
        by_value,
    }
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
