//! A shopper's cart rated for where it goes, before it is an order: each
//! line priced as the order will price it, the cart planned as the order
//! will be planned (on the brand's live plan, then taken straight back out,
//! so each line's date is the one the order would be promised now), and delivery charged as the
//! order will charge it: the cheapest carrier service to the destination
//! (or the brand's flat rate), free from its threshold. The storefront's
//! cart and checkout show this; until the shopper gives a country, the
//! factory's home country stands in.

use jiff::civil::Date;
use kiln_configure::Outcome;
use kiln_domain::{Address, Channel, OrderId};
use rust_decimal::Decimal;

use crate::error::{Error, Result};
use crate::flow::{self, PricedLine};
use crate::logistics::{self, Destination, Recipient, ShipTo};
use crate::runtime::BrandRuntime;
use crate::storefront::{CartLine, recheck};
use crate::{App, time};

/// One cart line as the order would take it now.
#[derive(Debug, Clone)]
pub struct RatedLine {
    /// The line as the catalog configures it now; `None` when it cannot be
    /// made so (its product left, or its choices no longer hold).
    pub outcome: Option<Outcome>,
    /// What one unit costs in this cart (its quantity breaks counted over
    /// the cart's units of the product, as the order counts them).
    pub unit_price: Option<Decimal>,
    /// What no longer holds since the line was added, in the shopper's words.
    pub problems: Vec<String>,
    /// The date the order would promise this line now, delivered to the
    /// destination; `None` when it cannot be planned or delivered there.
    pub promise: Option<Date>,
    /// The date shown when the line was added, when the factory can no
    /// longer keep it (its date for the line alone to the home country, as
    /// shown then, is later now).
    pub slipped_from: Option<Date>,
}

/// What delivering the cart to its destination costs, or why it cannot be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shipping {
    /// What delivery costs (zero: free).
    Charged(Decimal),
    /// No carrier of the brand goes to the destination's country.
    NoCountry,
    /// The brand's carriers go to the country, but not to this postal code.
    NoPostalCode,
    /// The carriers go there but cannot take these goods: why.
    Refused(String),
}

/// A cart priced, planned and charged for delivery to one destination.
#[derive(Debug, Clone)]
pub struct RatedCart {
    /// In the cart's order.
    pub lines: Vec<RatedLine>,
    pub currency: String,
    pub goods: Decimal,
    pub shipping: Shipping,
    /// The goods plus what delivery costs (the goods alone when it cannot
    /// be delivered).
    pub total: Decimal,
    /// The tax `total` includes, as the brand's `[sales]` sets it.
    pub tax: Decimal,
    /// From what goods delivery would be free, when it is charged now.
    pub free_from: Option<Decimal>,
    /// Where the cart was rated for: the shopper's, else the factory's home
    /// country (`None` for a brand without carriers and no address yet).
    pub destination: Option<Destination>,
    /// Set when `destination` stands in for an address not given yet.
    pub estimated: bool,
    /// The date the whole order would be delivered by: its latest line's.
    pub promised: Option<Date>,
    /// Why the factory cannot plan the cart now, when it cannot.
    pub problem: Option<String>,
}

impl Destination {
    /// Where a shopper says they are, as far as they have typed it: `None`
    /// until the country is a two-letter code (what an order needs). A
    /// postal code longer than an address takes is left out.
    pub fn typed(country: &str, postal_code: &str) -> Option<Destination> {
        let country = country.trim().to_ascii_uppercase();
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()) {
            return None;
        }
        let postal_code = postal_code.trim();
        Some(Destination {
            country,
            postal_code: if postal_code.chars().count() <= 20 {
                postal_code.to_string()
            } else {
                String::new()
            },
        })
    }
}

impl App {
    /// Rates a cart for delivery to `to` (the factory's home country when
    /// `None`): each line's price and promise, delivery and the total, as
    /// placing it as an online order to that address would now give them.
    /// Nothing is booked.
    pub async fn rate_cart(
        &self,
        slug: &str,
        lines: &[CartLine],
        to: Option<Destination>,
    ) -> Result<RatedCart> {
        // A publish may retire the runtime found: rate on the new one.
        for _ in 0..3 {
            let rt = self.brand(slug).await?;
            let Some(mut rated) = rate(&rt, lines, to.clone()).await else {
                continue;
            };
            // Later than shown when the factory's own date for the line (to
            // the home country, as it was shown) moved, not for where it goes.
            for (l, r) in lines.iter().zip(&mut rated.lines) {
                let (Some(shown), Some(outcome), Some(c)) =
                    (l.shown_promise, &r.outcome, rt.catalog.product(&l.product))
                else {
                    continue;
                };
                let now = flow::quote_promise(&rt, c.product(), outcome, l.quantity).await;
                r.slipped_from = now.filter(|now| *now > shown).map(|_| shown);
            }
            return Ok(rated);
        }
        Err(Error::Unavailable {
            what: "the brand's plan (its catalog was being published)",
            source: None,
        })
    }
}

/// Rates `lines`: the cart is planned as an order on the brand's live plan
/// and taken straight back out under the same hold of the lock (nothing
/// else sees it; no copy of the plan is made). `None` when the plan was
/// retired by a publish: rate on the new one.
async fn rate(rt: &BrandRuntime, lines: &[CartLine], to: Option<Destination>) -> Option<RatedCart> {
    let f = &rt.catalog.factory;
    let mut rated = Vec::with_capacity(lines.len());
    // The lines an order would take, and where each is in the cart.
    let mut priced: Vec<PricedLine<'_>> = Vec::new();
    let mut at = Vec::new();
    for l in lines {
        let made = rt.catalog.product(&l.product).and_then(|c| {
            let o = c
                .configure_unexplained(&l.selections)
                .ok()
                .filter(|o| o.valid && o.complete && o.price.is_some())?;
            Some((c, o))
        });
        if let Some((configurator, outcome)) = made {
            at.push(rated.len());
            priced.push(PricedLine {
                configurator,
                outcome,
                quantity: l.quantity,
                recipient: None,
            });
        }
        rated.push(RatedLine {
            outcome: None,
            unit_price: None,
            // Added on an older catalog version: what no longer holds.
            problems: recheck(&rt.catalog, &l.product, &l.selections),
            promise: None,
            slipped_from: None,
        });
    }
    flow::price_volumes(&mut priced);
    let goods: Decimal = priced
        .iter()
        .map(|p| p.unit_price() * Decimal::from(p.quantity))
        .sum();
    let currency = priced.first().map_or_else(
        || String::from("EUR"),
        |p| p.configurator.product().currency.clone(),
    );

    let estimated = to.is_none();
    let destination = to.or_else(|| {
        logistics::by_carrier(f)
            .then(|| Destination::home(f))
            .flatten()
    });
    let shipping = shipping(rt, &priced, destination.as_ref(), goods);

    // Planned as the order would be: a destination no carrier reaches has
    // no date, as it has no order.
    let mut promised = None;
    let mut problem = None;
    if !priced.is_empty() && matches!(shipping, Shipping::Charged(_)) {
        let address = (!estimated)
            .then_some(destination.as_ref())
            .flatten()
            .map(address_of);
        let ship_to = address.as_ref().map_or(ShipTo::Estimate, ShipTo::Address);
        let mut plan = rt.plan.lock().await;
        if plan.retired {
            return None;
        }
        let planned = flow::plan_order(
            rt,
            &mut plan,
            &OrderId::from("rating"),
            &priced,
            ship_to,
            time::today(),
        );
        match planned {
            Ok((plotted, change)) => {
                // Taken back out before the lock goes: the plan is as it was.
                let _ = change.undo(&mut plan);
                drop(plan);
                promised = Some(plotted.promised);
                for (&i, date) in at.iter().zip(plotted.line_promised) {
                    rated[i].promise = Some(date);
                }
            }
            Err(e) => problem = Some(e.to_string()),
        }
    }

    for (i, p) in at.iter().zip(priced) {
        let line = &mut rated[*i];
        line.unit_price = Some(p.unit_price());
        line.outcome = Some(p.outcome);
    }
    let sales = &f.sales;
    let charged = match shipping {
        Shipping::Charged(c) => c,
        _ => Decimal::ZERO,
    };
    let total = goods + charged;
    Some(RatedCart {
        lines: rated,
        currency,
        goods,
        free_from: sales.free_shipping_from.filter(|_| !charged.is_zero()),
        shipping,
        total,
        tax: sales.tax_in(total),
        destination,
        estimated,
        promised,
        problem,
    })
}

/// What an online order of `lines` pays for delivery to `dest`: what the
/// brand's carriers charge (the cheapest service: its price does not depend
/// on when the parcels are ready) or its flat rate, nothing from its
/// threshold; or why it cannot be delivered there.
fn shipping(
    rt: &BrandRuntime,
    lines: &[PricedLine<'_>],
    dest: Option<&Destination>,
    goods: Decimal,
) -> Shipping {
    let f = &rt.catalog.factory;
    let sales = &f.sales;
    let carrier = match dest {
        Some(dest) if logistics::by_carrier(f) && !lines.is_empty() => {
            if logistics::offers(f, dest).is_empty() {
                let served = f
                    .carriers
                    .iter()
                    .flat_map(|c| &c.zones)
                    .any(|z| z.countries.contains(&dest.country));
                return if served {
                    Shipping::NoPostalCode
                } else {
                    Shipping::NoCountry
                };
            }
            let to = Recipient {
                address: None,
                dest: dest.clone(),
            };
            let ready = time::today().at(0, 0, 0, 0);
            let shipped: Vec<_> = lines
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let units = logistics::units(
                        i as i64 + 1,
                        l.configurator,
                        &l.outcome.configuration,
                        l.sku(),
                        l.quantity,
                    )?;
                    Some((Some(to.clone()), units, ready))
                })
                .collect();
            match logistics::charge(f, &shipped) {
                Ok(price) => Some(price),
                Err(e) => return Shipping::Refused(e.to_string()),
            }
        }
        _ => None,
    };
    Shipping::Charged(flow::shipping_for(sales, Channel::Online, goods, carrier))
}

/// The address an order to `dest` would have, as far as carriers care.
fn address_of(dest: &Destination) -> Address {
    Address {
        name: String::new(),
        line1: String::new(),
        line2: None,
        city: String::new(),
        postal_code: dest.postal_code.clone(),
        region: None,
        country: dest.country.clone(),
    }
}
