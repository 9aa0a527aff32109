//! The order flow: a validated order request becomes priced lines, work
//! orders batched by SKU, material requirements netted against stock, and a
//! promise from a forward finite-capacity schedule; all written at once.

use std::collections::HashMap;

use jiff::civil::Date;
use kiln_configure::{Configurator, Outcome};
use kiln_domain::{
    BookingRow, Channel, LineRef, NewOrder, OperationStatus, OrderId, OrderLine,
    PurchaseSuggestion, Requirement, SuggestionId, TimelineEntry, TimelineEntryId, TimelineStatus,
    Timestamp, WorkOrderId, WorkOrderOperation, WorkOrderWrite,
};
use kiln_plan::live::Minute;
use kiln_plan::{GrossRequirement, MaterialPosition};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::live::{LiveError, booking_rows, day_of, line_order, neighbour_rows, neighbours};
use crate::logistics::{self, ShipTo};
use crate::runtime::{BrandRuntime, PlanState};

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

/// Why the schedule cannot take a line, in the factory's words.
fn schedule_error(e: LiveError, outcome: &Outcome) -> Error {
    match e {
        LiveError::NoCapacity { operation, .. } => {
            let wc = outcome
                .routing
                .get(operation)
                .map_or("?", |s| s.work_center.as_str());
            Error::Conflict(format!(
                "the factory cannot plan this order: no capacity at work centre `{wc}` \
                 within {HORIZON_DAYS} days"
            ))
        }
        other => Error::Conflict(format!("the factory cannot plan this order: {other}")),
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

/// What placing an order changed in the live plan, so that a failed write
/// can be undone even after later orders were planned on top.
pub struct PlanChange {
    /// Schedule ids of the lines placed.
    lines: Vec<LineRef>,
    /// (material, allocated, put on order)
    materials: Vec<(String, Decimal, Decimal)>,
    /// (SKU, work order) batches this order opened.
    planned: Vec<(String, WorkOrderId)>,
    /// What the live material plan took in.
    mrp: Option<MrpTaken>,
}

/// An order's needs (material, quantity) and the purchases (material,
/// suggestion) made for them, as the live material plan took them in.
struct MrpTaken {
    order: OrderId,
    needs: Vec<(String, Decimal)>,
    purchases: Vec<(String, SuggestionId)>,
}

impl PlanChange {
    /// Takes the order back out of the plan. Returns the bookings of other
    /// orders' operations whose setup that changed: orders planned since may
    /// already be written, so those rows must follow.
    pub fn undo(self, plan: &mut PlanState) -> Vec<BookingRow> {
        let rows = take_out(plan, &self.lines);
        for (id, allocated, ordered) in self.materials {
            let pos = plan.position(&id);
            pos.allocated -= allocated;
            pos.on_order -= ordered;
        }
        for (sku, work_order) in self.planned {
            if plan.planned.get(&sku) == Some(&work_order) {
                plan.planned.remove(&sku);
            }
        }
        if let Some(taken) = self.mrp {
            for (material, qty) in taken.needs {
                plan.mrp.reduce(&taken.order, &material, qty);
            }
            for (material, id) in taken.purchases {
                plan.mrp.remove_purchase(&material, &id);
            }
        }
        rows
    }
}

/// Takes order lines off the live schedule (none of them started). Returns
/// the bookings of other lines whose setup changed with them gone: the
/// store's rows must follow.
pub fn take_out(plan: &mut PlanState, lines: &[LineRef]) -> Vec<BookingRow> {
    let mut around = Vec::new();
    for id in lines {
        if let Some(placed) = plan.schedule.order(id) {
            let bookings: Vec<_> = placed.bookings.into_iter().flatten().collect();
            neighbours(&plan.schedule, &bookings, &mut around);
        }
    }
    for id in lines {
        // Nothing of these lines has started: removal cannot fail but for
        // a line a replan already lost.
        let _ = plan.schedule.remove(id);
    }
    neighbour_rows(plan, around, lines)
}

/// The order as it will be written, minus what the caller fills in.
pub struct Plotted {
    pub lines: Vec<OrderLine>,
    /// Each line's delivery date, in line order.
    pub line_promised: Vec<Date>,
    pub work_orders: Vec<WorkOrderWrite>,
    pub bookings: Vec<BookingRow>,
    pub rebooked: Vec<BookingRow>,
    pub requirements: Vec<Requirement>,
    pub suggestions: Vec<PurchaseSuggestion>,
    pub promised: Date,
    pub total: Decimal,
    /// What the carriers charge for the lines shipped; `None` for a brand
    /// without carriers (its flat `[sales] shipping` applies).
    pub carrier_shipping: Option<Decimal>,
}

/// Plans an order into `plan` (mutating it; see [`PlanChange::undo`]).
pub fn plan_order(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    order_id: &OrderId,
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
) -> Result<(Plotted, PlanChange)> {
    plan_lines(rt, plan, order_id, 1, lines, ship_to, today)
}

/// Plans `lines` of an order, numbered from `first_line` (a changed line
/// joins its order after the lines it has), into `plan`.
pub fn plan_lines(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    order_id: &OrderId,
    first_line: i64,
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
) -> Result<(Plotted, PlanChange)> {
    let mut change = PlanChange {
        lines: Vec::new(),
        materials: Vec::new(),
        planned: Vec::new(),
        mrp: None,
    };
    match plot(
        rt,
        plan,
        (order_id, first_line),
        lines,
        ship_to,
        today,
        &mut change,
    ) {
        Ok(plotted) => Ok((plotted, change)),
        Err(e) => {
            // Nothing else changed since: the neighbours are as stored.
            let _ = change.undo(plan);
            Err(e)
        }
    }
}

fn plot(
    rt: &BrandRuntime,
    plan: &mut PlanState,
    (order_id, first_line): (&OrderId, i64),
    lines: &[PricedLine<'_>],
    ship_to: ShipTo<'_>,
    today: Date,
    change: &mut PlanChange,
) -> Result<Plotted> {
    let factory = &rt.catalog.factory;
    let by_carrier = logistics::by_carrier(factory);
    let mut shipped = Vec::new();
    // Materials first: a shortage delays the start of production.
    let pairs: Vec<(&Outcome, u32)> = lines.iter().map(|l| (&l.outcome, l.quantity)).collect();
    plan.tick();
    let (net, release) = release(rt, plan, &pairs, today)?;
    let mut requirements = Vec::new();
    let mut suggestions = Vec::new();
    for n in &net {
        let ordered = n.suggestion.as_ref().map(|s| s.qty).unwrap_or_default();
        change
            .materials
            .push((n.material.clone(), n.gross, ordered));
        let pos = plan.position(&n.material);
        pos.allocated += n.gross;
        pos.on_order += ordered;
        if let Some(s) = &n.suggestion {
            suggestions.push(PurchaseSuggestion {
                id: SuggestionId::new(),
                order_id: order_id.to_string(),
                material: s.material.clone(),
                qty: s.qty.normalize(),
                order_by: s.order_by,
                arrives: s.arrives,
                need_by: s.need_by,
            });
        }
        requirements.push(Requirement {
            material: n.material.clone(),
            gross: n.gross.normalize(),
            allocated: n.allocated_now.normalize(),
            shortage: n.shortage.normalize(),
        });
    }

    let mut order_lines = Vec::new();
    let mut work_orders = Vec::new();
    let mut around = Vec::new();
    let mut promised = today;
    let mut total = Decimal::ZERO;
    let mut new_in_order: HashMap<String, usize> = HashMap::new();
    let mut line_promised = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let sku = line.sku().to_string();
        let quantity = i64::from(line.quantity);
        let work_order_id = if let Some(&at) = new_in_order.get(&sku) {
            if let WorkOrderWrite::Create {
                id, quantity: q, ..
            } = &mut work_orders[at]
            {
                *q += quantity;
                id.clone()
            } else {
                unreachable!("new_in_order only points at created work orders")
            }
        } else if let Some(id) = plan.planned.get(&sku) {
            work_orders.push(WorkOrderWrite::AddQuantity {
                id: id.clone(),
                quantity,
            });
            id.clone()
        } else {
            let id = WorkOrderId::new();
            new_in_order.insert(sku.clone(), work_orders.len());
            work_orders.push(WorkOrderWrite::Create {
                id: id.clone(),
                sku: sku.clone(),
                product_id: line.configurator.product().id.clone(),
                quantity,
                catalog_version: rt.catalog.version,
                operations: operations(&line.outcome),
            });
            plan.planned.insert(sku.clone(), id.clone());
            change.planned.push((sku.clone(), id.clone()));
            id
        };
        let line_no = first_line + i as i64;
        let id = LineRef::new(order_id.clone(), line_no);
        let ship_days = line.configurator.product().ship_days;
        let order = line_order(id.clone(), &line.outcome, line.quantity, release, ship_days);
        let mut p = plan
            .schedule
            .place(&order)
            .map_err(|e| schedule_error(e, &line.outcome))?;
        change.lines.push(id.clone());
        if by_carrier
            && let Some(units) = logistics::units(
                line_no,
                line.configurator,
                &line.outcome.configuration,
                &sku,
                line.quantity,
            )
        {
            // Delivered by the cheapest carrier service to where it goes:
            // the schedule ships it that many days after its finish.
            let to = logistics::recipient(line.recipient.as_ref(), ship_to, factory);
            let ready = logistics::ready(factory, &plan.clock, p.finish);
            if let Some(to) = &to {
                let field = if line.recipient.is_some() {
                    format!("/lines/{i}/recipient")
                } else {
                    "/ship_to".to_string()
                };
                let planned = logistics::plan(
                    factory,
                    std::slice::from_ref(&units),
                    &to.dest,
                    ready,
                    None,
                    &field,
                    None,
                )?;
                let finished = day_of(&plan.clock, p.finish - 1);
                let days = (planned.choice.delivery - finished).get_days().max(0);
                if let Some(d) = plan.schedule.set_ship_days(&id, days.unsigned_abs()) {
                    p.delivery = d;
                }
            }
            shipped.push((to, units, ready));
        }
        promised = promised.max(p.delivery);
        line_promised.push(p.delivery);
        // A line placed right before another one's operation may change
        // that operation's setup: its stored booking must follow.
        neighbours(&plan.schedule, &p.bookings, &mut around);
        let unit_price = line.unit_price();
        total += unit_price * Decimal::from(line.quantity);
        order_lines.push(OrderLine {
            line_no,
            product_id: line.configurator.product().id.clone(),
            selections: line.outcome.configuration.clone(),
            sku,
            quantity,
            unit_price,
            work_order_id,
            catalog_version: rt.catalog.version,
            promised_date: Some(p.delivery),
            recipient: line.recipient.clone(),
            cancelled_at: None,
        });
    }
    // Rows from the final schedule: a later line may have moved an earlier
    // one's setup too.
    let mut bookings = Vec::new();
    for id in &change.lines {
        if let Some(placed) = plan.schedule.order(id) {
            bookings.extend(booking_rows(&plan.clock, &placed));
        }
    }
    let rebooked = neighbour_rows(plan, around, &change.lines);
    // The live material plan: the order's materials are needed the day its
    // production starts, and its purchases arrive on theirs.
    let start = bookings
        .iter()
        .filter_map(|b| b.day)
        .min()
        .unwrap_or(today)
        .max(today);
    let needs: Vec<(String, Decimal)> = requirements
        .iter()
        .map(|r| (r.material.clone(), r.gross))
        .collect();
    plan.mrp.add_order(order_id, &needs, start);
    for s in &suggestions {
        plan.mrp.add_purchase(s);
    }
    change.mrp = Some(MrpTaken {
        order: order_id.clone(),
        needs,
        purchases: suggestions
            .iter()
            .map(|s| (s.material.clone(), s.id.clone()))
            .collect(),
    });
    let carrier_shipping = if by_carrier {
        Some(logistics::charge(factory, &shipped)?)
    } else {
        None
    };
    Ok(Plotted {
        carrier_shipping,
        lines: order_lines,
        line_promised,
        work_orders,
        bookings,
        rebooked,
        requirements,
        suggestions,
        promised,
        total,
    })
}

fn operations(outcome: &Outcome) -> Vec<WorkOrderOperation> {
    outcome
        .routing
        .iter()
        .enumerate()
        .map(|(i, step)| WorkOrderOperation {
            seq: i as i64 + 1,
            operation: step.operation.clone(),
            name: step.name.clone(),
            work_center: step.work_center.clone(),
            setup_minutes: step.setup_minutes,
            run_minutes: step.minutes,
            status: OperationStatus::Pending,
            started_at: None,
            completed_at: None,
            scrap: 0,
        })
        .collect()
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
        work_orders: plotted.work_orders,
        bookings: plotted.bookings,
        rebooked: plotted.rebooked,
        requirements: plotted.requirements,
        suggestions: plotted.suggestions,
        timeline,
        ..head
    }
}
