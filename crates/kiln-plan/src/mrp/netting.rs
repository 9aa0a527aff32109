//! Single-level netting for one order at a time, as the order flow places it: the order's
//! materials against the live stock position, first from free stock, then from the open
//! purchase orders not yet spoken for, each from the day it arrives. The multi-level,
//! time-phased plan is [`super::MrpPlan`].

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::Serialize;

use crate::{PlanError, add_days, sub_days_saturating};

/// What the factory has and expects of one material.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MaterialPosition {
    pub material: String,
    pub on_hand: Decimal,
    /// Already promised to other orders.
    pub allocated: Decimal,
    /// Open purchase orders not yet received.
    pub on_order: Decimal,
    /// The open purchase orders as (arrival day, quantity); `on_order` is their sum. What
    /// they do not account for counts as there today.
    pub arrivals: Vec<(Date, Decimal)>,
    /// Supplier lead time in calendar days.
    pub lead_days: u32,
    /// Minimum order quantity; 0 when the supplier has none.
    pub moq: Decimal,
    /// A purchase is a multiple of it; 0 when any quantity goes.
    pub lot_size: Decimal,
    /// Days the supplier delivers on, 1 = Monday .. 7 = Sunday; empty: any.
    pub delivery_weekdays: Vec<u8>,
}

/// How much of a material an order needs, and by when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GrossRequirement {
    pub material: String,
    pub qty: Decimal,
    pub need_by: Date,
}

/// One material's requirement after netting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetRequirement {
    pub material: String,
    pub gross: Decimal,
    /// `on_hand + on_order - allocated`, floored at 0.
    pub available: Decimal,
    /// How much of `gross` the available quantity covers.
    pub allocated_now: Decimal,
    /// When `allocated_now` is all there: today from free stock, else the day the last
    /// purchase on order it is taken from arrives (never before today).
    pub ready: Date,
    pub shortage: Decimal,
    pub suggestion: Option<PurchaseSuggestion>,
}

/// A purchase the buyer should place to cover a shortage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PurchaseSuggestion {
    pub material: String,
    /// `max(shortage, moq)`, rounded up to whole lots: suppliers will not
    /// sell less than their minimum, nor part of a lot.
    pub qty: Decimal,
    /// Latest day to order and still arrive by `need_by` (`need_by - lead_days`), but never
    /// before today: a late order should still be placed now.
    pub order_by: Date,
    /// `today + lead_days` if ordered today, on the supplier's next
    /// delivery day.
    pub arrives: Date,
    pub need_by: Date,
}

impl PurchaseSuggestion {
    /// Whether even an order placed today arrives after the need.
    pub fn is_late(&self) -> bool {
        self.arrives > self.need_by
    }
}

/// Nets `gross` against `positions`, one result per material in first-seen order.
///
/// Lines of the same material are summed and take the earliest `need_by`, because the first
/// need is the one a purchase must meet. What is allocated beyond stock has taken the
/// earliest purchases on order; the order takes free stock first, then the purchases left,
/// earliest first, and is [`NetRequirement::ready`] when the last of them arrives.
pub fn net_requirements(
    positions: &[MaterialPosition],
    gross: &[GrossRequirement],
    today: Date,
) -> Result<Vec<NetRequirement>, PlanError> {
    for (i, p) in positions.iter().enumerate() {
        if positions[..i].iter().any(|q| q.material == p.material) {
            return Err(PlanError::DuplicateMaterial {
                material: p.material.clone(),
            });
        }
    }

    // (material, total qty, earliest need_by), first-seen order.
    let mut totals: Vec<(&str, Decimal, Date)> = Vec::new();
    for line in gross {
        if line.qty.is_sign_negative() && !line.qty.is_zero() {
            return Err(PlanError::NegativeQuantity {
                material: line.material.clone(),
            });
        }
        match totals.iter_mut().find(|(m, _, _)| *m == line.material) {
            Some((_, qty, need_by)) => {
                *qty += line.qty;
                *need_by = (*need_by).min(line.need_by);
            }
            None => totals.push((&line.material, line.qty, line.need_by)),
        }
    }

    totals
        .into_iter()
        .map(|(material, gross, need_by)| {
            let position = positions
                .iter()
                .find(|p| p.material == material)
                .ok_or_else(|| PlanError::UnknownMaterial {
                    material: material.to_owned(),
                })?;
            net_one(position, gross, need_by, today)
        })
        .collect()
}

fn net_one(
    position: &MaterialPosition,
    gross: Decimal,
    need_by: Date,
    today: Date,
) -> Result<NetRequirement, PlanError> {
    let available = (position.on_hand + position.on_order - position.allocated).max(Decimal::ZERO);
    let allocated_now = gross.min(available);
    let shortage = gross - allocated_now;
    let suggestion = if shortage > Decimal::ZERO {
        let qty = shortage.max(position.moq);
        let qty = if position.lot_size > Decimal::ZERO {
            (qty / position.lot_size).ceil() * position.lot_size
        } else {
            qty
        };
        Some(PurchaseSuggestion {
            material: position.material.clone(),
            qty,
            order_by: sub_days_saturating(need_by, position.lead_days).max(today),
            arrives: delivery_day(
                add_days(today, position.lead_days)?,
                &position.delivery_weekdays,
            )?,
            need_by,
        })
    } else {
        None
    };
    Ok(NetRequirement {
        material: position.material.clone(),
        gross,
        available,
        allocated_now,
        ready: ready(position, allocated_now, today),
        shortage,
        suggestion,
    })
}

/// When `qty` allocated now is all there: free stock first, then the purchases on order
/// that earlier allocations beyond stock have not taken, earliest first.
fn ready(position: &MaterialPosition, qty: Decimal, today: Date) -> Date {
    let free_stock = (position.on_hand - position.allocated).max(Decimal::ZERO);
    let mut rest = qty - qty.min(free_stock);
    if rest <= Decimal::ZERO {
        return today;
    }
    // Allocations beyond stock took the earliest purchases.
    let mut taken = (position.allocated - position.on_hand.max(Decimal::ZERO)).max(Decimal::ZERO);
    let arrivals: std::borrow::Cow<'_, [(Date, Decimal)]> =
        if position.arrivals.is_sorted_by_key(|a| a.0) {
            (&position.arrivals[..]).into()
        } else {
            let mut sorted = position.arrivals.clone();
            sorted.sort_by_key(|a| a.0);
            sorted.into()
        };
    let mut day = today;
    for &(arrives, q) in arrivals.iter() {
        if rest <= Decimal::ZERO {
            break;
        }
        let spoken = taken.min(q);
        taken -= spoken;
        let free = q - spoken;
        if free > Decimal::ZERO {
            rest -= free.min(rest);
            day = day.max(arrives);
        }
    }
    day
}

/// `day`, or the supplier's next delivery day after it.
fn delivery_day(day: Date, weekdays: &[u8]) -> Result<Date, PlanError> {
    let mut d = day;
    // At most six days on, when the list has a valid day at all.
    if weekdays.iter().any(|w| (1..=7).contains(w)) {
        while !weekdays.contains(&(d.weekday().to_monday_one_offset() as u8)) {
            d = add_days(d, 1)?;
        }
    }
    Ok(d)
}

/// The earliest day production can start: when every material is there, what is
/// allocated ([`NetRequirement::ready`]) and what the suggestions buy (their `arrives`).
pub fn material_release(net: &[NetRequirement], today: Date) -> Date {
    net.iter()
        .flat_map(|n| std::iter::once(n.ready).chain(n.suggestion.as_ref().map(|s| s.arrives)))
        .fold(today, Date::max)
}
