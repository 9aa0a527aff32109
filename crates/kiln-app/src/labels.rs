//! Labels to print: each unit's serial, what it is, its warranty and the
//! QR code's content (the GS1 Digital Link URI with the signed summary),
//! alone or, for an order, with the shipping label: where it goes.

use kiln_domain::{Address, OrderId, WorkOrderId};

use crate::App;
use crate::error::Result;

/// Which units to label.
#[derive(Debug, Clone)]
pub enum LabelsOf {
    Unit(String),
    /// Every unit of the order, with its shipping label.
    Order(OrderId),
    WorkOrder(WorkOrderId),
}

/// One unit's label.
#[derive(Debug, Clone)]
pub struct Label {
    pub serial: String,
    pub product: String,
    pub sku: String,
    /// `YYYY-MM-DD`.
    pub made: String,
    /// `YYYY-MM-DD`, or `None` without a warranty.
    pub warranty_until: Option<String>,
    /// What the QR code holds.
    pub uri: String,
}

/// Where an order's parcel goes.
#[derive(Debug, Clone)]
pub struct ShippingLabel {
    pub order_id: OrderId,
    pub name: String,
    pub ship_to: Address,
    /// Carrier and tracking number of its latest shipment, if shipped.
    pub tracking: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct Labels {
    pub units: Vec<Label>,
    pub shipping: Option<ShippingLabel>,
}

impl App {
    /// The labels of `of`, their codes on the public address `base`.
    pub async fn labels(&self, slug: &str, of: LabelsOf, base: &str) -> Result<Labels> {
        let (units, shipping) = match &of {
            LabelsOf::Unit(serial) => {
                let view = self.passport(slug, serial).await?;
                (vec![(view.serial, view.payload)], None)
            }
            LabelsOf::Order(id) => {
                let order = self.order(slug, id).await?;
                let units = self.units_of_order(slug, id).await?;
                let shipping = ShippingLabel {
                    order_id: order.id.clone(),
                    name: order.customer.name.clone(),
                    ship_to: order.ship_to.clone(),
                    tracking: order
                        .shipments
                        .last()
                        .map(|s| (s.carrier.clone(), s.tracking_number.clone())),
                };
                (with_payloads(units), Some(shipping))
            }
            LabelsOf::WorkOrder(id) => {
                self.work_order(slug, id).await?;
                (
                    with_payloads(self.units_of_work_order(slug, id).await?),
                    None,
                )
            }
        };
        let mut out = Vec::with_capacity(units.len());
        for (serial, p) in units {
            let day = |v: &serde_json::Value| v.as_str().map(|s| s.chars().take(10).collect());
            out.push(Label {
                uri: self.label_uri(slug, &serial, base).await?,
                product: p["product"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                sku: p["sku"].as_str().unwrap_or_default().to_string(),
                made: day(&p["made_at"]).unwrap_or_default(),
                warranty_until: day(&p["warranty_until"]),
                serial,
            });
        }
        Ok(Labels {
            units: out,
            shipping,
        })
    }
}

fn with_payloads(units: Vec<kiln_domain::Unit>) -> Vec<(String, serde_json::Value)> {
    units
        .into_iter()
        .map(|u| {
            let p = crate::passport::payload_of(&u);
            (u.serial, p)
        })
        .collect()
}
