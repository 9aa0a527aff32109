//! The order flow: a validated order request becomes priced lines, work
//! orders batched by SKU, material requirements netted against stock, and a
//! promise from a forward finite-capacity schedule; all written at once.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_configure::{Configurator, Outcome};
use kiln_domain::{
    Channel, LineRef, NewOrder, OrderLine, TimelineEntry, TimelineEntryId, TimelineStatus,
    Timestamp,
};
use kiln_plan::live::Minute;
use kiln_plan::{GrossRequirement, MaterialPosition};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::live::{LiveError, line_order};
use crate::logistics::{self, ShipTo};
use crate::runtime::{BrandRuntime, PlanState};

mod plot;
mod quote;
pub use plot::{PlanChange, Plotted, Plotting, plan_lines, plan_order, take_out};
pub use quote::quote_order;

pub const MAX_QUANTITY: u32 = 10_000;
pub const MAX_LINES: usize = 1_000;
pub use crate::live::HORIZON_DAYS;

/// One order line, configured and priced.
pub struct PricedLine<'a> {
    pub configurator: &'a Configurator,
    pub outcome: Outcome,
    pub quantity: u32,
    /// Its own recipient (a bulk order's row); none: the order's address.
    pub recipient: Option<kiln_domain::Address>,
}

impl PricedLine<'_> {
    pub fn sku(&self) -> &str {
        self.outcome.sku.as_deref().unwrap_or_default()
    }
    pub fn unit_price(&self) -> Decimal {
        self.outcome
            .price
            .as_ref()
            .map(|p| p.total)
            .unwrap_or_default()
    }
}

/// Prices each line at its quantity breaks (`[[price]] min_quantity`): its
/// own quantity, and the units of its product over all `lines` of the
/// order. Lines of products without breaks keep the price of one unit.
pub fn price_volumes<'a>(lines: &mut [PricedLine<'a>]) {
    let mut units: HashMap<&'a str, u32> = HashMap::new();
    for l in lines.iter() {
        *units.entry(l.product_id()).or_default() += l.quantity;
    }
    for l in lines.iter_mut() {
        let order = units.get(l.product_id()).copied().unwrap_or(l.quantity);
        l.price_with(order);
    }
}

impl<'a> PricedLine<'a> {
    fn product_id(&self) -> &'a str {
        self.configurator.product().id.as_str()
    }

    /// Prices the line at its quantity breaks, with `order_units` of its
    /// product in the whole order (its own included); a product without
    /// breaks keeps the price of one unit.
    pub fn price_with(&mut self, order_units: u32) {
        if !self
            .configurator
            .product()
            .prices
            .iter()
            .any(|p| p.min_quantity > 1)
        {
            return;
        }
        let at = kiln_configure::Units {
            line: self.quantity,
            order: order_units,
        };
        self.outcome.price = Some(self.configurator.price_at(&self.outcome.configuration, at));
    }
}

fn positions(
    rt: &BrandRuntime,
    plan: &PlanState,
    gross: &[GrossRequirement],
) -> Vec<MaterialPosition> {
    let mut out: Vec<MaterialPosition> = Vec::new();
    for g in gross {
        if out.iter().any(|p| p.material == g.material) {
            continue;
        }
        let factory = &rt.catalog.factory;
        let spec = factory.material(&g.material);
        let supplier = spec
            .and_then(|m| m.supplier.as_deref())
            .and_then(|s| factory.supplier(s));
        let pos = plan.materials.get(&g.material);
        out.push(MaterialPosition {
            lot_size: spec.map(|m| m.lot_size).unwrap_or_default(),
            delivery_weekdays: supplier
                .map(|s| s.delivery_weekdays.clone())
                .unwrap_or_default(),
            material: g.material.clone(),
            on_hand: pos.map(|p| p.on_hand).unwrap_or_default(),
            allocated: pos.map(|p| p.allocated).unwrap_or_default(),
            on_order: pos.map(|p| p.on_order).unwrap_or_default(),
            // Only an order free stock cannot cover takes from purchases.
            arrivals: match pos {
                Some(p) if p.on_hand - p.allocated >= g.qty => Vec::new(),
                _ => plan.mrp.arrivals(&g.material),
            },
            lead_days: spec.map(|m| m.lead_days).unwrap_or(0),
            moq: spec.map(|m| m.moq).unwrap_or_default(),
        });
    }
    out
}

fn gross(lines: &[(&Outcome, u32)], today: Date) -> Vec<GrossRequirement> {
    let mut out: Vec<GrossRequirement> = Vec::new();
    for (outcome, quantity) in lines {
        for b in &outcome.bom {
            let qty = b.qty * Decimal::from(*quantity);
            match out.iter_mut().find(|g| g.material == b.material) {
                Some(g) => g.qty += qty,
                None => out.push(GrossRequirement {
                    material: b.material.clone(),
                    qty,
                    need_by: today,
                }),
            }
        }
    }
    out
}

fn plan_error(e: kiln_plan::PlanError) -> Error {
    Error::Conflict(format!("the factory cannot plan this order: {e}"))
}

/// Why the schedule cannot take a line, in the factory's words, about
/// `what` cannot be planned ("this order"; a quote's "this row").
fn schedule_error(e: LiveError, outcome: &Outcome, what: &str) -> Error {
    match e {
        LiveError::NoCapacity { operation, .. } => {
            let wc = outcome
                .routing
                .get(operation)
                .map_or("?", |s| s.work_center.as_str());
            Error::Conflict(format!(
                "the factory cannot plan {what}: no capacity at work centre `{wc}` \
                 within {HORIZON_DAYS} days"
            ))
        }
        other => Error::Conflict(format!("the factory cannot plan {what}: {other}")),
    }
}

/// When the material for these lines is there: today if in stock, else when
/// the purchases suggested for the shortfall arrive.
fn release(
    rt: &BrandRuntime,
    plan: &PlanState,
    lines: &[(&Outcome, u32)],
    today: Date,
) -> Result<(Vec<kiln_plan::NetRequirement>, Minute)> {
    let gross = gross(lines, today);
    let net = kiln_plan::net_requirements(&positions(rt, plan, &gross), &gross, today)
        .map_err(plan_error)?;
    let day = kiln_plan::material_release(&net, today);
    Ok((net, plan.clock.midnight(day)))
}

/// The delivery date the factory could promise now, without booking it.
pub async fn quote_promise(
    rt: &BrandRuntime,
    product: &kiln_model::Product,
    outcome: &Outcome,
    quantity: u32,
) -> Option<Date> {
    let today = crate::time::today();
    let mut plan = rt.plan.lock().await;
    plan.tick();
    let (_, release) = release(rt, &plan, &[(outcome, quantity)], today).ok()?;
    let order = line_order(
        LineRef::new(kiln_domain::OrderId::from("quote"), 0),
        outcome,
        quantity,
        release,
        product.ship_days,
    );
    let promise = plan.schedule.insert(&order).ok()?;
    let f = &rt.catalog.factory;
    if !logistics::by_carrier(f) {
        return Some(promise.delivery);
    }
    // Shipped to the factory's own country, as far as a quote can tell.
    let sku = outcome.sku.as_deref().unwrap_or_default();
    let configurator = rt.catalog.product(&product.id)?;
    let units = logistics::units(0, configurator, &outcome.configuration, sku, quantity)?;
    let dest = logistics::Destination::home(f)?;
    let ready = logistics::ready(f, &plan.clock, promise.finish);
    let planned = logistics::plan(f, &[units], &dest, ready, None, "/ship_to", None).ok()?;
    // As an order's line is promised: the carrier's date, on a day the
    // brand delivers on (`Schedule::set_ship_days` rolls it the same way).
    let mut day = planned.choice.delivery;
    for _ in 0..7 {
        let weekday = day.weekday().to_monday_one_offset() as u8;
        if f.delivery_weekdays.is_empty() || f.delivery_weekdays.contains(&weekday) {
            break;
        }
        day = day.tomorrow().ok()?;
    }
    Some(day)
}

/// The entries an order's timeline starts with.
pub fn first_entries(first: String, promised: Date, at: Timestamp) -> Vec<TimelineEntry> {
    vec![
        TimelineEntry {
            id: TimelineEntryId::new(),
            status: TimelineStatus::Ordered,
            note: first,
            at,
        },
        TimelineEntry {
            id: TimelineEntryId::new(),
            status: TimelineStatus::Planned,
            note: format!("work orders and materials planned; promised for {promised}"),
            at,
        },
    ]
}

/// Delivery for `goods` bought through `channel`: none for after-sales or a
/// store pickup, else what the carriers charge (`carrier`, for a brand with
/// carriers) or the brand's flat `[sales]` rate, free from its threshold.
pub fn shipping_for(
    sales: &kiln_model::Sales,
    channel: Channel,
    goods: Decimal,
    carrier: Option<Decimal>,
) -> Decimal {
    match channel {
        Channel::AfterSales => Decimal::ZERO,
        channel => sales.charge(goods, channel == Channel::Store, carrier),
    }
}

/// Delivery for what an order keeps after a change: `lines` at `goods`.
/// A brand with carriers rates the lines' parcels again (the price does not
/// depend on when they are ready); one without charges its flat rate.
pub fn shipping_of(
    rt: &BrandRuntime,
    channel: Channel,
    ship_to: &kiln_domain::Address,
    lines: &[&OrderLine],
    goods: Decimal,
) -> Result<Decimal> {
    let f = &rt.catalog.factory;
    let sales = &f.sales;
    if lines.is_empty() {
        return Ok(Decimal::ZERO);
    }
    let pickup = matches!(channel, Channel::Store | Channel::AfterSales);
    if !logistics::by_carrier(f) || sales.free(goods, pickup) {
        return Ok(shipping_for(sales, channel, goods, None));
    }
    let now = crate::time::today().at(0, 0, 0, 0);
    let shipped: Vec<_> = lines
        .iter()
        .filter_map(|l| {
            let c = rt.catalog.product(&l.product_id)?;
            let units = logistics::units(
                l.line_no,
                c,
                &l.selections,
                &l.sku,
                u32::try_from(l.quantity).ok()?,
            )?;
            let to = logistics::recipient(l.recipient.as_ref(), ShipTo::Address(ship_to), f);
            Some((to, units, now))
        })
        .collect();
    logistics::charge(f, &shipped)
}

/// Fills a [`NewOrder`] from what the request and the plan gave: the total
/// is the lines plus shipping (none for a store pickup), and says the tax it
/// includes, as the brand's `[sales]` sets them.
pub fn new_order(
    head: NewOrder,
    plotted: Plotted,
    timeline: Vec<TimelineEntry>,
    sales: &kiln_model::Sales,
) -> NewOrder {
    use crate::payment::PaymentProvider as _;
    let shipping = shipping_for(sales, head.channel, plotted.total, plotted.carrier_shipping);
    let payment = match head.channel {
        // Free of charge: nothing to pay, nothing for delivery.
        Channel::AfterSales => crate::payment::free_of_charge(&head.currency),
        _ => {
            crate::payment::Manual.open(head.id.as_str(), plotted.total + shipping, &head.currency)
        }
    };
    let total = plotted.total + shipping;
    NewOrder {
        payment,
        total,
        shipping,
        tax: sales.tax_in(total),
        promised_date: plotted.promised,
        lines: plotted.lines,
        staged: None,
        work_orders: plotted.work_orders,
        bookings: plotted.bookings,
        rebooked: plotted.rebooked,
        requirements: plotted.requirements,
        suggestions: plotted.suggestions,
        timeline,
        ..head
    }
}
