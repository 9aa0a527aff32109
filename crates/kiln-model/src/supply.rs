//! Suppliers of a factory file and what each material's supply says: who
//! delivers it, on which weekdays, after how many days, in which lots and at
//! which price for how much.
//!
//! ```toml
//! [supplier.weaver]
//! name = "Lancashire Weavers"
//! lead_days = 12                 # days from order to delivery
//! delivery_weekdays = [2, 4]     # delivers on Tuesdays and Thursdays
//!
//! [material.poplin]
//! unit = "m"
//! supplier = "weaver"            # lead_days from the supplier unless set here
//! moq = 100
//! lot_size = 50                  # bought in multiples of 50 m
//! unit_cost = "7.80"
//! price_breaks = [{ from = 500, unit_cost = "7.20" }, { from = 2000, unit_cost = "6.60" }]
//! ```

use rust_decimal::Decimal;

use crate::Span;
use crate::ctx::{Ctx, get};
use crate::tree::{self, Node, Val};

/// Who delivers materials.
#[derive(Debug, Clone, PartialEq)]
pub struct Supplier {
    pub id: String,
    pub name: String,
    /// Calendar days from a purchase to its delivery, for materials that do
    /// not set their own.
    pub lead_days: u32,
    /// Days it delivers on, 1 = Monday .. 7 = Sunday; empty: any day.
    pub delivery_weekdays: Vec<u8>,
    pub span: Span,
}

/// From `from` units bought at once, each costs `unit_cost`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBreak {
    pub from: Decimal,
    pub unit_cost: Decimal,
}

pub(crate) fn supplier(ctx: &mut Ctx, key: &tree::Key, n: &Node) -> Option<Supplier> {
    let id = key.name.clone();
    let what = format!("supplier `{id}`");
    let t = ctx.table(n, &id)?;
    ctx.keys(t, &["name", "lead_days", "delivery_weekdays"], &what);
    let lead_days = get(t, "lead_days")
        .and_then(|v| ctx.u32(v, "lead_days"))
        .unwrap_or_default();
    let delivery_weekdays = match get(t, "delivery_weekdays") {
        Some(v) => crate::factory::weekdays(ctx, v, "the supplier never delivers"),
        None => Vec::new(),
    };
    Some(Supplier {
        name: ctx.opt_string(t, "name").unwrap_or_else(|| id.clone()),
        id,
        lead_days,
        delivery_weekdays,
        span: ctx.span(n.span.start),
    })
}

/// `price_breaks = [{ from = 500, unit_cost = "7.20" }, ...]`: each `from`
/// above the one before it.
pub(crate) fn price_breaks(ctx: &mut Ctx, n: &Node) -> Vec<PriceBreak> {
    let Val::Array(items) = &n.val else {
        ctx.err(
            n.span.start,
            "`price_breaks` is a list like [{ from = 500, unit_cost = \"7.20\" }]",
        );
        return Vec::new();
    };
    let mut out: Vec<PriceBreak> = Vec::new();
    for item in items {
        let Some(t) = ctx.table(item, "price_breaks") else {
            continue;
        };
        ctx.keys(t, &["from", "unit_cost"], "a price break");
        let (Some(f), Some(c)) = (
            ctx.require(t, "from", item.span.start, "a price break"),
            ctx.require(t, "unit_cost", item.span.start, "a price break"),
        ) else {
            continue;
        };
        let (Some(from), Some(unit_cost)) = (ctx.amount(f, "from"), ctx.amount(c, "unit_cost"))
        else {
            continue;
        };
        if from.is_zero() {
            ctx.err(f.span.start, "a price break's `from` must be above 0");
            continue;
        }
        if let Some(last) = out.last()
            && from <= last.from
        {
            ctx.err(
                f.span.start,
                format!(
                    "price breaks go up: `from = {from}` must be above the one before ({})",
                    last.from
                ),
            );
            continue;
        }
        out.push(PriceBreak { from, unit_cost });
    }
    out
}
