//! A decided repair or remake as an after-sales order: the one line it
//! plans, and who it is for.

use kiln_domain::{Channel, ClaimId, Customer, CustomerId, Order, Unit};

use super::configuration_of;
use crate::error::{Error, Result};
use crate::flow::PricedLine;
use crate::orders::Who;
use crate::runtime::BrandRuntime;

/// What a decided claim sends back through the factory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Job {
    /// The unit through the product's `[[repair_operation]]` routing.
    Repair,
    /// A new unit: the same SKU through its production routing.
    Remake,
}

/// A repair or remake, placed as an after-sales order: one unit, free of
/// charge, for the original order's customer and address, planned on the
/// live schedule like any other order so its date is a real promise.
pub(crate) struct AfterSalesJob {
    pub claim: ClaimId,
    pub kind: Job,
    pub unit: Unit,
    pub original: Order,
}

impl AfterSalesJob {
    /// The one line to plan: the unit's configuration, configured again
    /// against the current catalog (its SKU must not have changed), with the
    /// repair routing and no material for a repair.
    pub(crate) fn priced<'a>(&self, rt: &'a BrandRuntime) -> Result<Vec<PricedLine<'a>>> {
        let c = rt.product(&self.unit.product_id)?;
        let configuration = configuration_of(&self.unit);
        let mut outcome = c
            .configure_unexplained(&configuration)
            .ok()
            .filter(|o| o.valid && o.complete)
            .ok_or_else(|| {
                Error::Conflict(format!(
                    "unit {}'s configuration no longer holds in the current catalog; refund or reject",
                    self.unit.serial
                ))
            })?;
        if outcome.sku.as_deref() != Some(self.unit.sku.as_str()) {
            return Err(Error::Conflict(format!(
                "the current catalog makes unit {}'s configuration another SKU ({}); refund or reject",
                self.unit.serial,
                outcome.sku.as_deref().unwrap_or("none")
            )));
        }
        if self.kind == Job::Repair {
            let routing = c.repair_routing(&configuration);
            if routing.is_empty() {
                return Err(Error::Conflict(format!(
                    "{} declares no repair routing ([[repair_operation]]); remake, refund or reject",
                    c.product().name
                )));
            }
            outcome.routing = routing;
            outcome.bom.clear();
            outcome.sku = Some(format!("REPAIR-{}", self.unit.sku));
        }
        // Free of charge.
        outcome.price = None;
        Ok(vec![PricedLine {
            configurator: c,
            outcome,
            quantity: 1,
            recipient: None,
        }])
    }

    /// The original order's customer, address and store.
    pub(crate) fn who(&self) -> Who {
        let o = &self.original;
        let what = match self.kind {
            Job::Repair => "repair",
            Job::Remake => "remake",
        };
        Who {
            customer: Customer {
                id: CustomerId::new(),
                ..o.customer.clone()
            },
            channel: Channel::AfterSales,
            store_id: o.store_id.clone(),
            ship_to: o.ship_to.clone(),
            first: format!(
                "{what} of unit {} (order {}) under claim {}",
                self.unit.serial, o.id, self.claim
            ),
            // The brand decided the claim.
            proven: true,
            ship_policy: kiln_domain::ShipPolicy::Complete,
        }
    }
}
