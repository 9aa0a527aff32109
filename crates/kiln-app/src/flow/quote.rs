//! A quote of an order: planned on a copy of the live plan, keeping only
//! what a quote shows.

use kiln_domain::{Date, Decimal, OrderId};

use super::{Plotting, PricedLine};
use crate::error::{Error, Result};
use crate::logistics::ShipTo;
use crate::runtime::{BrandRuntime, PlanState};

/// What a quote keeps of an order planned: each line's date, the latest,
/// the carriers' charge and the lines it could not plan (the goods' total
/// is the quote's own: lines it could not plan are not in it).
pub struct Quoted {
    pub line_promised: Vec<Date>,
    pub promised: Date,
    pub carrier_shipping: Option<Decimal>,
    /// The lines the factory cannot plan, (index in the lines, why), in
    /// order: the others are quoted without them.
    pub unplanned: Vec<(usize, Error)>,
}

/// Plans `lines` as one order on `plan` (a copy of the live plan: nothing
/// is taken back out) and keeps only what a quote shows. The rows an order
/// would write (its lines, bookings, neighbours' rows) are never built: for
/// 50,000 lines they were most of a quote's memory.
pub fn quote_order(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    order_id: &OrderId,
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
) -> Result<Quoted> {
    let mut p = Plotting::start(rt, plan, order_id, 1, lines, today, false)?;
    p.unplanned = Some(Vec::new());
    p.place(rt, plan, lines, ship_to)?;
    let carrier_shipping = p.charge(rt)?;
    Ok(Quoted {
        line_promised: p.line_promised,
        promised: p.promised,
        carrier_shipping,
        unplanned: p.unplanned.unwrap_or_default(),
    })
}
