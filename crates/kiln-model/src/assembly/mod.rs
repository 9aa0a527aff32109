//! Sub-assemblies: made items with their own BOM and routing, declared in a
//! factory file and used on a product's BOM lines like materials.
//!
//! ```toml
//! [assembly.cupsole]
//! name = "Cup sole"          # optional, default the id
//! unit = "pcs"               # optional, default "pcs"
//!
//! [[assembly.cupsole.bom]]
//! material = "rubber"        # or `assembly = "..."`: exactly one of the two
//! qty = 0.45                 # per unit of the assembly, above 0
//!
//! [[assembly.cupsole.operation]]
//! id = "mould"
//! work_center = "assembly"
//! minutes = 3                # per unit of the assembly
//! setup_minutes = 10         # optional, default 0
//! ```
//!
//! A product's `[[bom]]` line says `assembly = "cupsole"` instead of
//! `material = ...`. The catalog check ([`crate::check`]) expands every such
//! line once, in [`flatten`], into ordinary BOM lines and operations: the
//! live schedule plans each order line as one job with a serial routing, so
//! the sub-assembly's operations come first and the engines downstream
//! (configure, orders, planning, passports, diffs) see a plain product.
//! [`Product::assemblies`](crate::Product::assemblies) keeps the lines as
//! written and what each one became.

mod flatten;

use std::ops::Range;

use rust_decimal::Decimal;

use crate::ctx::{Ctx, get};
use crate::tree::{self, Node, Val};
use crate::{Expr, Quantity, Span};

pub(crate) use flatten::{cross_check, flatten, unknown_assembly, unknown_material};

/// `[assembly.<id>]`: a made item with its own BOM and routing.
#[derive(Debug, Clone, PartialEq)]
pub struct Assembly {
    pub id: String,
    pub name: String,
    /// What one unit of it is counted in; `pcs` unless the file says.
    pub unit: String,
    /// What one unit is made from, in file order.
    pub bom: Vec<AssemblyLine>,
    /// How one unit is made, in file order.
    pub operations: Vec<AssemblyOperation>,
    pub span: Span,
}

/// What an assembly's BOM line (or a product's, see [`AssemblyUse`]) names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Material(String),
    Assembly(String),
}

/// `[[assembly.<id>.bom]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssemblyLine {
    pub part: Part,
    /// Per unit of the assembly, in the part's unit; above 0.
    pub qty: Decimal,
    /// The line's `[[...]]` header.
    pub span: Span,
    /// Where the material or assembly id is written.
    pub part_span: Span,
}

/// `[[assembly.<id>.operation]]`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssemblyOperation {
    /// Unique within the assembly.
    pub id: String,
    pub name: String,
    pub work_center: String,
    /// Run time per unit of the assembly.
    pub minutes: Decimal,
    /// Once per batch of one SKU.
    pub setup_minutes: Decimal,
    pub span: Span,
    /// Where the work centre id is written.
    pub work_center_span: Span,
}

/// A product's `[[bom]]` line naming an assembly, as written.
#[derive(Debug, Clone, PartialEq)]
pub struct AssemblyUse {
    pub assembly: String,
    /// Units of the assembly per unit of product.
    pub qty: Quantity,
    pub condition: Expr,
    /// The `[[bom]]` header.
    pub span: Span,
    /// The 0-based position of the line among the file's `[[bom]]` lines.
    pub line: usize,
    /// What the catalog check made of it; `None` until then.
    pub expanded: Option<Expansion>,
}

/// Where one [`AssemblyUse`] went in its product.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expansion {
    /// Its materials in `Product::bom`: one line per material, at the
    /// position of the assembly line.
    pub bom: Range<usize>,
    /// Its operations in `Product::operations`: nested assemblies' first,
    /// all before the product's own.
    pub operations: Range<usize>,
}

/// One `[assembly.<id>]` table of a factory file. Everything one file can
/// tell is checked here; ids it points at are checked across files by
/// [`cross_check`].
pub(crate) fn assembly(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Assembly> {
    let id = key.name.clone();
    let what = format!("assembly `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(t, &["name", "unit", "bom", "operation"], &what);
    let mut a = Assembly {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        unit: ctx.opt_string(t, "unit").unwrap_or_else(|| "pcs".into()),
        id,
        bom: Vec::new(),
        operations: Vec::new(),
        span: ctx.span(n.span.start),
    };
    let lines = get(t, "bom").map_or(Vec::new(), |n| ctx.tables(n, "bom"));
    for (i, item) in lines.iter().enumerate() {
        if let Some(l) = line(ctx, item, &format!("BOM line {} of {what}", i + 1)) {
            a.bom.push(l);
        }
    }
    let ops = get(t, "operation").map_or(Vec::new(), |n| ctx.tables(n, "operation"));
    let mut seen: Vec<(String, Span)> = Vec::new();
    for (i, item) in ops.iter().enumerate() {
        let what = format!("operation {} of {what}", i + 1);
        if let Some(op) = operation(ctx, item, &what, &mut seen) {
            a.operations.push(op);
        }
    }
    if lines.is_empty() && ops.is_empty() {
        ctx.err(
            n.span.start,
            format!(
                "assembly `{}` has no `[[assembly.{}.bom]]` and no `[[assembly.{}.operation]]`: it makes nothing",
                a.id, a.id, a.id
            ),
        );
    }
    Some(a)
}

fn line(ctx: &mut Ctx, item: &Node, what: &str) -> Option<AssemblyLine> {
    let Val::Table(t) = &item.val else {
        return None;
    };
    ctx.keys(t, &["material", "assembly", "qty"], what);
    let at = item.span.start;
    let part = match (get(t, "material"), key_of(t, "assembly")) {
        (Some(_), Some((k, _))) => {
            ctx.err(
                k,
                "a BOM line names a `material` or an `assembly`, not both",
            );
            None
        }
        (Some(v), None) => ctx
            .string(v, "material")
            .map(|s| (Part::Material(s.clone()), ctx.content(v, &s))),
        (None, Some((_, v))) => ctx
            .string(v, "assembly")
            .map(|s| (Part::Assembly(s.clone()), ctx.content(v, &s))),
        (None, None) => {
            ctx.err(at, format!("missing `material` or `assembly` in {what}"));
            None
        }
    };
    let qty = ctx
        .require(t, "qty", at, what)
        .and_then(|v| plain(ctx, v, "qty"));
    if let Some(q) = qty
        && q.is_zero()
        && let Some(v) = get(t, "qty")
    {
        ctx.err(v.span.start, "`qty` must be above 0");
    }
    let (part, part_at) = part?;
    Some(AssemblyLine {
        part,
        qty: qty?,
        span: ctx.span(at),
        part_span: ctx.span(part_at),
    })
}

fn operation(
    ctx: &mut Ctx,
    item: &Node,
    what: &str,
    seen: &mut Vec<(String, Span)>,
) -> Option<AssemblyOperation> {
    let Val::Table(t) = &item.val else {
        return None;
    };
    ctx.keys(
        t,
        &["id", "name", "work_center", "minutes", "setup_minutes"],
        what,
    );
    let at = item.span.start;
    let id = ctx
        .require(t, "id", at, what)
        .and_then(|v| Some((ctx.string(v, "id")?, v)))
        .map(|(id, v)| {
            let at = ctx.content(v, &id);
            if let Some((_, first)) = seen.iter().find(|(s, _)| *s == id) {
                let first = *first;
                ctx.err(
                    at,
                    format!(
                        "duplicate operation id `{id}` (first at line {}, column {})",
                        first.line, first.column
                    ),
                );
            } else {
                seen.push((id.clone(), ctx.span(at)));
            }
            id
        });
    let work_center = ctx
        .require(t, "work_center", at, what)
        .and_then(|v| Some((ctx.string(v, "work_center")?, v)))
        .map(|(w, v)| {
            let at = ctx.content(v, &w);
            (w, ctx.span(at))
        });
    let minutes = ctx
        .require(t, "minutes", at, what)
        .and_then(|v| plain(ctx, v, "minutes"));
    let setup_minutes = match get(t, "setup_minutes") {
        Some(v) => plain(ctx, v, "setup_minutes")?,
        None => Decimal::ZERO,
    };
    let name = ctx.opt_string(t, "name");
    let id = id?;
    let (work_center, work_center_span) = work_center?;
    Some(AssemblyOperation {
        name: name.unwrap_or_else(|| id.clone()),
        id,
        work_center,
        minutes: minutes?,
        setup_minutes,
        span: ctx.span(at),
        work_center_span,
    })
}

/// An amount that is one number: a factory file has no options to key a
/// table by.
fn plain(ctx: &mut Ctx, n: &Node, key: &str) -> Option<Decimal> {
    if let Val::Table(_) = n.val {
        ctx.err(
            n.span.start,
            format!("`{key}` of an assembly is one number: a factory file has no options"),
        );
        return None;
    }
    ctx.amount(n, key)
}

/// The offset of `key`'s name and its value.
fn key_of<'t>(t: &'t [(tree::Key, Node)], key: &str) -> Option<(usize, &'t Node)> {
    t.iter()
        .find(|(k, _)| k.name == key)
        .map(|(k, n)| (k.span.start, n))
}
