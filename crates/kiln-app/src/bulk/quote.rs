//! A quote of an uploaded CSV: the good rows planned together on a copy of
//! the live plan, priced and batched by SKU; every bad row listed (at most
//! [`MAX_ERRORS`]), and the rows the factory cannot plan among them.

use std::collections::BTreeMap;

use kiln_domain::{
    BulkQuote, Channel, Date, Decimal, OrderId, QuantityBreak, QuoteId, QuoteLine, RowError,
    SkuTotal, Timestamp,
};

use super::{VALID_HOURS, rows};
use crate::error::{Error, FieldError, Result};
use crate::flow::{self, PricedLine};
use crate::orders::escape;
use crate::runtime::BrandRuntime;

/// Moves the good rows whose recipient no carrier of the brand reaches to
/// the errors, each by its `recipient_country` (a brand without carriers
/// ships anywhere). Errors stay in row order.
fn unserved_recipients(f: &kiln_model::Factory, read: &mut rows::Rows) {
    if !crate::logistics::by_carrier(f) {
        return;
    }
    let mut served: Vec<(crate::logistics::Destination, bool)> = Vec::new();
    let mut unserved = Vec::new();
    read.good.retain(|g| {
        let Some(a) = &g.recipient else { return true };
        let dest = crate::logistics::Destination::of(a);
        let ok = match served.iter().find(|(d, _)| *d == dest) {
            Some((_, ok)) => *ok,
            None => {
                let ok = !crate::logistics::offers(f, &dest).is_empty();
                served.push((dest, ok));
                ok
            }
        };
        if !ok {
            unserved.push(kiln_domain::RowError {
                row: g.row,
                column: Some("recipient_country".into()),
                message: format!(
                    "no carrier of this brand delivers to `{}` {}",
                    a.country, a.postal_code
                ),
            });
        }
        ok
    });
    if !unserved.is_empty() {
        read.errors.extend(unserved);
        read.errors.sort_by_key(|e| e.row);
    }
}

/// The quote of `csv` on `rt`'s catalog and live plan (blocking: run it off
/// the async workers).
pub(super) fn quote_on(
    rt: &BrandRuntime,
    csv: &[u8],
    today: Date,
    now: Timestamp,
) -> Result<BulkQuote> {
    let products: Vec<&kiln_configure::Configurator> = rt.catalog.products.iter().collect();
    let mut read = rows::read(&products, csv);
    unserved_recipients(&rt.catalog.factory, &mut read);
    if read.good.is_empty() {
        return Err(no_good_row(read.errors));
    }
    // The outcomes move into the lines to plan: tens of thousands of rows
    // are not held twice.
    let mut priced = Vec::with_capacity(read.good.len());
    let mut rows_of = Vec::with_capacity(read.good.len());
    for g in read.good {
        priced.push(PricedLine {
            configurator: rt.product(&g.product)?,
            outcome: g.outcome,
            quantity: g.quantity,
            recipient: g.recipient,
        });
        rows_of.push((g.row, g.product));
    }
    crate::flow::price_volumes(&mut priced);
    let currency = priced[0].configurator.product().currency.clone();
    let mut errors = read.errors;
    if let Some(other) = priced
        .iter()
        .find(|l| l.configurator.product().currency != currency)
    {
        // First: past the cap on listed problems, it must still show.
        errors.insert(0, RowError {
            row: 1,
            column: Some("product".into()),
            message: format!(
                "one quote is in one currency: {} is priced in {}, the first row's product in {currency}",
                other.configurator.product().id,
                other.configurator.product().currency
            ),
        });
        return Err(no_good_row(errors));
    }
    // Planned on a copy of the live plan: orders placed meanwhile are not
    // held up, and nothing needs taking back out. Only the promises are
    // kept (no rows to write are built); the copy goes before the quote's
    // lines are built (tens of thousands of rows are not held twice). Rows
    // the factory cannot plan are taken out and the rest planned again on
    // a fresh copy: the material those rows took must not delay the others.
    let mut pass = 0;
    let (promised, promised_date, carrier_shipping) = loop {
        pass += 1;
        let mut scratch = {
            let plan = rt.plan.blocking_lock();
            if plan.retired {
                return Err(Error::Conflict(
                    "the brand's catalog was just republished: send the file again".into(),
                ));
            }
            plan.clone()
        };
        let quoted = flow::quote_order(
            rt,
            &mut scratch,
            &OrderId::new(),
            &priced,
            crate::logistics::ShipTo::Estimate,
            today,
        )?;
        drop(scratch);
        let clean = quoted.unplanned.is_empty();
        if !clean {
            unplanned_rows(quoted.unplanned, &mut priced, &mut rows_of, &mut errors);
            if priced.is_empty() {
                return Err(no_good_row(errors));
            }
        }
        // A third pass still short of capacity keeps its promises, which
        // are those of the rows it placed (a little late, if anything).
        if clean || pass == PASSES {
            break (
                quoted.line_promised,
                quoted.promised,
                quoted.carrier_shipping,
            );
        }
    };
    let mut goods = Decimal::ZERO;
    let mut skus: BTreeMap<String, SkuTotal> = BTreeMap::new();
    let mut lines = Vec::with_capacity(priced.len());
    let mut units = 0u64;
    for (((row, product), p), promised) in rows_of.into_iter().zip(priced).zip(promised) {
        let unit_price = p.unit_price();
        let line_total = unit_price * Decimal::from(p.quantity);
        goods += line_total;
        units += u64::from(p.quantity);
        let quantity_breaks = quantity_breaks(&p.outcome);
        let mut outcome = p.outcome;
        let sku = outcome.sku.take().unwrap_or_default();
        match skus.get_mut(&sku) {
            Some(s) => {
                s.lines += 1;
                s.quantity += u64::from(p.quantity);
                s.amount += line_total;
            }
            None => {
                skus.insert(
                    sku.clone(),
                    SkuTotal {
                        sku: sku.clone(),
                        product: product.clone(),
                        lines: 1,
                        quantity: u64::from(p.quantity),
                        unit_price,
                        amount: line_total,
                    },
                );
            }
        }
        lines.push(QuoteLine {
            row,
            product,
            selections: std::mem::take(&mut outcome.configuration),
            sku,
            quantity: p.quantity,
            unit_price,
            line_total,
            promised_date: promised,
            recipient: p.recipient,
            quantity_breaks,
        });
    }
    let sales = &rt.catalog.factory.sales;
    let shipping = flow::shipping_for(sales, Channel::B2b, goods, carrier_shipping);
    let total = goods + shipping;
    let bad_rows = {
        let mut bad: Vec<u64> = errors.iter().map(|e| e.row).filter(|&r| r > 1).collect();
        bad.dedup();
        bad.len() as u64 + read.left_out
    };
    Ok(BulkQuote {
        id: QuoteId::new(),
        total,
        currency,
        goods,
        shipping,
        tax: sales.tax_in(total),
        promised_date,
        valid_until: now + jiff::SignedDuration::from_hours(VALID_HOURS),
        created_at: now,
        catalog_version: rt.catalog.version,
        rows: read.rows,
        good_rows: lines.len() as u64,
        bad_rows,
        units,
        order_id: None,
        errors_omitted: cap(&mut errors),
        errors,
        skus: skus.into_values().collect(),
        lines,
    })
}

/// Plans of a quote at most: each after the first leaves out the rows the
/// one before could not plan.
const PASSES: u32 = 3;

/// Moves the rows the factory cannot plan from the lines to the errors
/// (by their quantity: the usual cause is one too large for the horizon)
/// and prices the rest again: a quantity break over the whole order counts
/// only the lines quoted.
fn unplanned_rows(
    unplanned: Vec<(usize, Error)>,
    priced: &mut Vec<PricedLine<'_>>,
    rows_of: &mut Vec<(u64, String)>,
    errors: &mut Vec<RowError>,
) {
    let mut out = vec![false; priced.len()];
    for (k, e) in unplanned {
        out[k] = true;
        // Capacity is about the quantity; anything else (packing, a
        // carrier's weights) about the row as a whole.
        let (column, message) = match e {
            Error::Conflict(m) => (Some("quantity".into()), m),
            other => (None, other.to_string()),
        };
        errors.push(RowError {
            row: rows_of[k].0,
            column,
            message,
        });
    }
    drop_marked(priced, &out);
    drop_marked(rows_of, &out);
    errors.sort_by_key(|e| e.row);
    crate::flow::price_volumes(priced);
}

/// Drops the items whose place in `marked` is true.
fn drop_marked<T>(items: &mut Vec<T>, marked: &[bool]) {
    let mut marks = marked.iter();
    items.retain(|_| !marks.next().copied().unwrap_or(false));
}

/// The most problems an answer lists: a file of 100,000 bad rows would
/// otherwise get an answer larger than itself.
pub const MAX_ERRORS: usize = 10_000;

/// Keeps the first [`MAX_ERRORS`] of `errors`; returns how many went.
fn cap(errors: &mut Vec<RowError>) -> u64 {
    let omitted = errors.len().saturating_sub(MAX_ERRORS);
    errors.truncate(MAX_ERRORS);
    omitted as u64
}

/// No row can be quoted: every problem (the first [`MAX_ERRORS`]), as
/// field errors at `/rows/{line}/{column}`.
fn no_good_row(mut errors: Vec<RowError>) -> Error {
    let all = errors.len();
    let omitted = cap(&mut errors);
    let detail = format!(
        "no row of the file can be quoted: {all} problem{}{}",
        if all == 1 { "" } else { "s" },
        if omitted > 0 {
            format!(", the first {MAX_ERRORS} listed")
        } else {
            String::new()
        }
    );
    Error::Invalid {
        detail,
        errors: errors
            .into_iter()
            .map(|e| {
                let column = e
                    .column
                    .map(|c| format!("/{}", escape(&c)))
                    .unwrap_or_default();
                FieldError::new(format!("/rows/{}{column}", e.row), e.message)
            })
            .collect(),
    }
}

/// The quantity breaks in a line's price breakdown.
fn quantity_breaks(outcome: &kiln_configure::Outcome) -> Vec<QuantityBreak> {
    outcome
        .price
        .iter()
        .flat_map(|p| &p.lines)
        .filter_map(|l| {
            Some(QuantityBreak {
                label: l.label.clone(),
                per_unit: l.amount,
                from_units: l.from_units?,
            })
        })
        .collect()
}
