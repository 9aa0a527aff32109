//! What changed between two versions of a brand's catalog.
//!
//! [`diff`] compares two [`CheckReport`]s (the products and the merged factory
//! of two [`check`](crate::check) runs) and lists every semantic change as a
//! [`Change`]: what happened (added, removed, changed), to what kind of thing
//! (a [`Subject`]), in which product, and a plain English `detail` such as
//! ``price `size = L` add 3.00 → 4.00``. Diagnostics are not compared: a
//! product whose file has errors is missing from `products`, so diff clean
//! reports only, or it shows up as removed.
//!
//! Things are matched by stable keys, never by position or file line, so
//! moving a TOML table within a file, reordering files or adding comments is not
//! a change:
//!
//! - products, components, options, operations, work centers, materials and
//!   carriers by id;
//!   values by id within their option;
//! - rules and tables by id, except ids the parser made up from the position
//!   (`rule-N`, `table-N`): those are matched by their content (`if`/`then`, or
//!   scope and tuples), so inserting a rule does not renumber the rest into changes;
//! - price lines by condition and `per_char_of`, BOM lines by material and
//!   condition (neither has an id); equal lines are paired first, so swapping
//!   two lines with the same key is not a change either.
//!
//! Amounts compare as numbers (`3.00` = `3`), conditions by a canonical text
//! (`size in (M, S)` = `size in (S, M)`), quantity maps per value. Order is
//! ignored except where it means something: the routing (operation order) is
//! reported as a product change. Option and value display order, the preview
//! and the spans are not compared. Tables (extensional constraints) are
//! reported under [`Subject::Rule`].
//!
//! The output order is deterministic: products in the new catalog's order, then
//! removed products in the old order, then factory changes; within each, by
//! subject (in [`Subject`]'s declaration order), then id.

use std::collections::BTreeMap;
use std::fmt::Display;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::{CheckReport, CmpOp, Expr, Factory, OptionDef, OptionKind, Product, Quantity};
use ChangeKind::{Added, Changed, Removed};

/// Every change between two catalogs, see [`diff`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogDiff {
    pub changes: Vec<Change>,
}

impl CatalogDiff {
    /// True when the two catalogs mean the same.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// What a change is about; the order of the variants is the output order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Product,
    Component,
    Option,
    Value,
    /// A rule, or a table (extensional constraint).
    Rule,
    Price,
    BomLine,
    Operation,
    WorkCenter,
    Material,
    /// A carrier's name and calendar (cut-off, weekdays, holidays); its
    /// zones, services and rates are not compared.
    Carrier,
    /// The factory as a whole (its delivery days).
    Factory,
}

/// One change. A changed thing with several changed fields gives one
/// `Change` per field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub change: ChangeKind,
    pub subject: Subject,
    /// The product id; `None` for work centers, materials, carriers and the
    /// factory.
    pub product: Option<String>,
    /// The product, component, option, rule, table, operation, work center,
    /// material or carrier id; `option.value` for a value; the rule's message
    /// for a rule without an id; the condition (and `per char of x`) for a
    /// price line; the material for a BOM line.
    pub id: String,
    /// Plain English, e.g. ``operation `throw` minutes 6 → 7``.
    pub detail: String,
}

/// The changes from `old` to `new`. Only `products` and `factory` are read.
pub fn diff(old: &CheckReport, new: &CheckReport) -> CatalogDiff {
    let mut changes = Vec::new();
    let head = |p: &Product| records(p, p).into_iter().take(1).collect::<Vec<_>>();
    for p in pair(&old.products, &new.products, |p| p.id.clone(), |_, _| false) {
        let (o, n, id) = match p {
            Pair::Both(o, n) => (records(o, n), records(n, o), &n.id),
            Pair::Added(n) => (Vec::new(), head(n), &n.id),
            Pair::Removed(o) => (head(o), Vec::new(), &o.id),
        };
        changes.extend(compare(Some(id), &o, &n));
    }
    changes.extend(compare(
        None,
        &factory(&old.factory),
        &factory(&new.factory),
    ));
    CatalogDiff { changes }
}

fn factory(f: &Factory) -> Vec<Rec> {
    let w = f.work_centers.iter().map(|w| {
        Rec::by_id(Subject::WorkCenter, &w.id, "work center")
            .text("name", &w.name)
            .num("machines", w.machines)
            .num("minutes per day", w.minutes_per_day)
            .num("weekdays", format!("{:?}", w.weekdays))
    });
    let m = f.materials.iter().map(|m| {
        Rec::by_id(Subject::Material, &m.id, "material")
            .text("name", &m.name)
            .text("unit", &m.unit)
            .dec("on hand", m.on_hand)
            .num("lead days", m.lead_days)
            .dec("MOQ", m.moq)
            .dec("unit cost", m.unit_cost)
    });
    let c = f.carriers.iter().map(|c| {
        let (h, m) = (c.cutoff_minute / 60, c.cutoff_minute % 60);
        let days: Vec<String> = c.holidays.iter().map(ToString::to_string).collect();
        let canon = format!("[{}]", days.join(", "));
        // A long list is summed up, as a table's tuples are.
        let shown = match days.as_slice() {
            [first, .., last] if days.len() > 8 => {
                format!("{} days, {first} to {last}", days.len())
            }
            _ => canon.clone(),
        };
        Rec::by_id(Subject::Carrier, &c.id, "carrier")
            .text("name", &c.name)
            .num("cutoff", format!("{h:02}:{m:02}"))
            .num("weekdays", format!("{:?}", c.weekdays))
            .field("holidays", shown, canon, None)
    });
    let whole = Rec::new(
        Subject::Factory,
        "factory".into(),
        "factory",
        "the factory".into(),
    )
    .num("delivery weekdays", format!("{:?}", f.delivery_weekdays))
    .num("tax", format!("{} {}%", f.sales.tax_name, f.sales.tax_rate))
    .dec("shipping", f.sales.shipping)
    .num(
        "free shipping from",
        f.sales
            .free_shipping_from
            .map_or_else(|| "never".to_string(), |d| d.to_string()),
    );
    w.chain(m).chain(c).chain([whole]).collect()
}

/// Everything in product `p` worth comparing with its `other` version.
fn records(p: &Product, other: &Product) -> Vec<Rec> {
    // Only the operations both versions have: added ones are reported as such.
    let ops = p.operations.iter().map(|x| x.id.as_str());
    let routing: Vec<&str> = ops
        .filter(|&id| other.operations.iter().any(|y| y.id == id))
        .collect();
    let mut out = vec![
        Rec::by_id(Subject::Product, &p.id, "product")
            .text("name", &p.name)
            .text("description", &p.description)
            .text("currency", &p.currency)
            .dec("base price", p.base_price)
            .num("ship days", p.ship_days)
            .num("warranty months", p.warranty_months)
            .text("GTIN", p.gtin.as_deref().unwrap_or("none"))
            .num("routing order", routing.join(", ")),
    ];
    for c in &p.components {
        out.push(Rec::by_id(Subject::Component, &c.id, "component").text("name", &c.name));
    }
    for o in &p.options {
        let r = Rec::by_id(Subject::Option, &o.id, "option")
            .text("name", &o.name)
            .text("kind", o.kind.name())
            .num("optional", o.optional);
        // No default is a missing field, not a value: "default `M` (gone)".
        let r = match &o.default {
            Some(d) => r.text("default", d),
            None => r,
        };
        out.push(match &o.kind {
            OptionKind::Text {
                max_length,
                characters,
            } => r.num("max length", max_length).text(
                "characters",
                characters.as_ref().map_or("", |c| c.source.as_str()),
            ),
            OptionKind::Number { min, max, unit } => {
                r.dec("min", *min).dec("max", *max).text("unit", unit)
            }
            _ => r,
        });
        // The values of an added or removed option come and go with it.
        for v in o
            .kind
            .values()
            .iter()
            .filter(|_| other.option(&o.id).is_some())
        {
            let id = format!("{}.{}", o.id, v.id);
            out.push(Rec::by_id(Subject::Value, &id, "value").text("label", &v.label));
        }
    }
    let auto = |id: &str, prefix: &str| {
        let n = id.strip_prefix(prefix).unwrap_or("");
        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
    };
    for r in &p.rules {
        let (c, t) = (cond(&r.condition), cond(&r.then));
        let (key, id) = match auto(&r.id, "rule-") {
            true => (format!("rule if {c} then {t}"), &r.message),
            false => (format!("rule {}", r.id), &r.id),
        };
        let rec = Rec::new(Subject::Rule, key, id, format!("rule `{id}`")).text("if", &c);
        out.push(rec.text("then", &t).text("message", &r.message));
    }
    for t in &p.tables {
        let opts: Vec<&OptionDef> = t.scope.iter().map(|&k| &p.options[k]).collect();
        let ids = |vs: Vec<&str>, sep| vs.join(sep);
        let scope = ids(opts.iter().map(|o| o.id.as_str()).collect(), ", ");
        let value = |(o, &v): (&&OptionDef, &u32)| o.kind.values()[v as usize].id.clone();
        let tuple = |k| {
            opts.iter()
                .zip(t.tuple(k))
                .map(value)
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut tuples: Vec<String> = (0..t.len()).map(tuple).collect();
        tuples.sort();
        let (kind, canon) = (format!("{:?}", t.kind).to_lowercase(), tuples.join(" | "));
        let shown = match tuples.len() {
            ..=8 => canon.clone(),
            n => format!("{n} tuples"),
        };
        let key = match auto(&t.id, "table-") {
            true => format!("table {kind} {scope} {canon}"),
            false => format!("table {}", t.id),
        };
        let rec = Rec::new(Subject::Rule, key, &t.id, format!("table `{}`", t.id))
            .text("kind", &kind)
            .text("scope", &scope)
            .text("message", &t.message);
        out.push(rec.field("tuples", shown, canon, None));
    }
    for x in &p.prices {
        let mut id = match &x.per_char_of {
            Some(t) => format!("{} per char of {t}", cond(&x.condition)),
            None => cond(&x.condition),
        };
        if x.min_quantity > 1 {
            id = format!("{id} from {} per {}", x.min_quantity, x.quantity_of.name());
        }
        let rec = Rec::by_id(Subject::Price, &id, "price").dec("add", x.add);
        out.push(rec.text("label", &x.label));
    }
    for b in &p.bom {
        let (c, m) = (cond(&b.condition), &b.material);
        let what = match &b.condition {
            Expr::Const(true) => format!("BOM line `{m}`"),
            _ => format!("BOM line `{m}` (if {c})"),
        };
        out.push(Rec::new(Subject::BomLine, format!("{m} if {c}"), m, what).qty("qty", &b.qty));
    }
    for x in &p.operations {
        let rec = Rec::by_id(Subject::Operation, &x.id, "operation")
            .text("name", &x.name)
            .text("work center", &x.work_center)
            .qty("minutes", &x.minutes)
            .dec("setup minutes", x.setup_minutes);
        out.push(rec.text("if", &cond(&x.condition)));
    }
    out
}

/// One thing flattened for comparison.
struct Rec {
    subject: Subject,
    /// Pairs it with its other version: unique per subject but for price
    /// and BOM lines.
    key: String,
    id: String,
    /// How a detail names it: ``option `size` ``.
    what: String,
    fields: Vec<Field>,
}

/// Compared by `canon`, shown as `shown`. A field with a `parent` (a value's
/// entry in a quantity map) is not reported when its parent changed.
struct Field {
    name: String,
    shown: String,
    canon: String,
    parent: Option<String>,
}

impl Rec {
    fn new(subject: Subject, key: String, id: &str, what: String) -> Rec {
        let (id, fields) = (id.to_owned(), Vec::new());
        Rec {
            subject,
            key,
            id,
            what,
            fields,
        }
    }
    fn by_id(subject: Subject, id: &str, noun: &str) -> Rec {
        Rec::new(subject, id.to_owned(), id, format!("{noun} `{id}`"))
    }
    fn field(mut self, name: &str, shown: String, canon: String, parent: Option<&str>) -> Rec {
        let (name, parent) = (name.to_owned(), parent.map(str::to_owned));
        self.fields.push(Field {
            name,
            shown,
            canon,
            parent,
        });
        self
    }
    fn text(self, name: &str, v: &str) -> Rec {
        self.field(name, format!("`{v}`"), v.to_owned(), None)
    }
    fn num(self, name: &str, v: impl Display) -> Rec {
        self.field(name, v.to_string(), v.to_string(), None)
    }
    /// Shown as written (`3.00`), compared as a number (`3`).
    fn dec(self, name: &str, d: Decimal) -> Rec {
        self.field(name, d.to_string(), d.normalize().to_string(), None)
    }
    /// A map is a field `by size` and one field per value: `minutes S`.
    fn qty(self, name: &str, q: &Quantity) -> Rec {
        let (option, by_value) = match q {
            Quantity::Fixed(d) => return self.dec(name, *d),
            Quantity::ByValue { option, by_value } => (option, by_value),
        };
        let list: Vec<String> = by_value.iter().map(|(v, d)| format!("{v} {d}")).collect();
        let by = format!("by {option}");
        let r = self.field(name, format!("{by}: {}", list.join(", ")), by, None);
        by_value.iter().fold(r, |r, (v, d)| {
            let (shown, canon) = (d.to_string(), d.normalize().to_string());
            r.field(&format!("{name} {v}"), shown, canon, Some(name))
        })
    }
}

/// Pairs records by subject and key and says what was added, removed or
/// changed, one change per changed field, sorted by subject and id.
fn compare(product: Option<&str>, old: &[Rec], new: &[Rec]) -> Vec<Change> {
    let mut out = Vec::new();
    let key = |r: &Rec| (r.subject, r.key.clone());
    let same = |a: &Rec, b: &Rec| {
        let mut pairs = a.fields.iter().zip(&b.fields);
        a.fields.len() == b.fields.len()
            && pairs.all(|(x, y)| (&x.name, &x.canon) == (&y.name, &y.canon))
    };
    let whole = |r: &Rec, verb: &str, value_verb: &str| match r.id.split_once('.') {
        Some((o, v)) if r.subject == Subject::Value => {
            format!("option `{o}` {value_verb} value `{v}`")
        }
        _ => format!("{} {verb}", r.what),
    };
    for p in pair(old, new, key, same) {
        let mut push = |change, r: &Rec, detail| {
            let (subject, id, product) = (r.subject, r.id.clone(), product.map(str::to_owned));
            out.push(Change {
                change,
                subject,
                product,
                id,
                detail,
            });
        };
        let (a, b) = match p {
            Pair::Both(a, b) => (a, b),
            Pair::Added(r) => {
                push(Added, r, whole(r, "added", "gained"));
                continue;
            }
            Pair::Removed(r) => {
                push(Removed, r, whole(r, "removed", "lost"));
                continue;
            }
        };
        let find = |r: &Rec, name: &str| r.fields.iter().position(|f| f.name == name);
        let changed = |name: &str| match (find(a, name), find(b, name)) {
            (Some(i), Some(j)) => a.fields[i].canon != b.fields[j].canon,
            _ => true,
        };
        let gone = a.fields.iter().filter(|f| find(b, &f.name).is_none());
        for f in b.fields.iter().chain(gone) {
            if !changed(&f.name) || f.parent.as_deref().is_some_and(changed) {
                continue;
            }
            let d = match (find(a, &f.name), find(b, &f.name)) {
                (Some(i), Some(_)) => format!("{} → {}", a.fields[i].shown, f.shown),
                (None, _) => format!("{} (new)", f.shown),
                (_, None) => format!("{} (gone)", f.shown),
            };
            // The product's own fields read without a prefix: "base price 10 → 12".
            let detail = match b.subject {
                Subject::Product => format!("{} {d}", f.name),
                _ => format!("{} {} {d}", b.what, f.name),
            };
            push(Changed, b, detail);
        }
    }
    // A stable sort keeps the field order within one thing.
    out.sort_by(|a, b| (a.subject, &a.id).cmp(&(b.subject, &b.id)));
    out
}

enum Pair<'a, T> {
    Added(&'a T),
    Removed(&'a T),
    Both(&'a T, &'a T),
}

/// Pairs items with equal keys: `same` pairs first (so reordered duplicates
/// match), then the rest in order. New order first, then the removed ones.
fn pair<'a, T, K: Ord>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&T) -> K,
    same: impl Fn(&T, &T) -> bool,
) -> Vec<Pair<'a, T>> {
    let mut buckets: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (i, x) in old.iter().enumerate() {
        buckets.entry(key(x)).or_default().push(i);
    }
    let keys: Vec<K> = new.iter().map(&key).collect();
    let mut matched: Vec<Option<usize>> = vec![None; new.len()];
    for exact in [true, false] {
        for (j, n) in new.iter().enumerate() {
            let Some(b) = buckets.get_mut(&keys[j]).filter(|_| matched[j].is_none()) else {
                continue;
            };
            if let Some(pos) = b.iter().position(|&i| !exact || same(&old[i], n)) {
                matched[j] = Some(b.remove(pos));
            }
        }
    }
    let pairs = new.iter().zip(matched);
    let mut out: Vec<Pair<T>> = pairs
        .map(|(n, m)| m.map_or(Pair::Added(n), |i| Pair::Both(&old[i], n)))
        .collect();
    let mut rest: Vec<usize> = buckets.into_values().flatten().collect();
    rest.sort_unstable();
    out.extend(rest.into_iter().map(|i| Pair::Removed(&old[i])));
    out
}

/// A condition as canonical text: value lists sorted, numbers normalized.
fn cond(e: &Expr) -> String {
    fn go(e: &Expr, prec: u8) -> String {
        let list = |vs: &[String]| {
            let mut vs = vs.to_vec();
            vs.sort();
            vs.join(", ")
        };
        match e {
            Expr::Const(b) => (if *b { "always" } else { "never" }).to_owned(),
            Expr::Set(o) => o.clone(),
            Expr::In(o, vs) if vs.len() == 1 => format!("{o} = {}", vs[0]),
            Expr::In(o, vs) => format!("{o} in ({})", list(vs)),
            Expr::Not(inner) => match &**inner {
                Expr::In(o, vs) if vs.len() == 1 => format!("{o} != {}", vs[0]),
                Expr::In(o, vs) => format!("{o} not in ({})", list(vs)),
                x => format!("not {}", go(x, 3)),
            },
            Expr::Cmp(o, op, d) => {
                let op = match op {
                    CmpOp::Lt => "<",
                    CmpOp::Le => "<=",
                    CmpOp::Gt => ">",
                    CmpOp::Ge => ">=",
                };
                format!("{o} {op} {}", d.normalize())
            }
            Expr::And(es) | Expr::Or(es) => {
                let and = matches!(e, Expr::And(_));
                let (word, p) = if and { (" and ", 2) } else { (" or ", 1) };
                let s: Vec<String> = es.iter().map(|x| go(x, p)).collect();
                let s = s.join(word);
                if prec > p { format!("({s})") } else { s }
            }
        }
    }
    go(e, 0)
}

#[cfg(test)]
mod tests;
