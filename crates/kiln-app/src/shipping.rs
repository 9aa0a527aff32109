//! Shipping an order and following it to the door.
//!
//! A brand with carriers (`[carrier.*]`) lets Kiln do the work: the lines to
//! ship are grouped by where they go, each group's SKUs packed into parcels,
//! and the cheapest service that still meets the lines' promise chosen
//! (the fastest, flagged late, when none can); the built-in manual carrier
//! numbers the shipment. A carrier's tracking events (`picked_up` ..
//! `delivered`) are recorded once each; `delivered` delivers the shipment,
//! and the order with its last one, and says by how many days it was late.
//! Without carriers, the carrier and tracking number are typed by hand.

use kiln_domain::{
    LineRef, OrderId, OrderLine, ParcelContent, ShipPolicy, Shipment, ShipmentId, ShipmentParcel,
    ShipmentStatus, Timestamp, TrackingEvent, TrackingStatus, WorkOrderStatus,
};

use crate::error::{Error, FieldError, Found, NamedNotFound, Result};
use crate::logistics::{self, Destination};
use crate::{App, time};

/// What to ship: every field optional for a brand with carriers.
#[derive(Debug, Clone, Default)]
pub struct ShipRequest {
    /// A carrier's id (or, without carriers, any name); none: Kiln chooses.
    pub carrier: Option<String>,
    /// None: the manual carrier numbers it.
    pub tracking_number: Option<String>,
    /// The lines to ship; empty: every line ready to go to one destination.
    pub lines: Vec<i64>,
}

/// The most a location or note of a tracking event may hold.
const MAX_TRACKING_TEXT: usize = 200;

impl App {
    /// Ships an order. An order that ships complete goes once made; one that
    /// ships as ready goes line by line (`lines`, or every line made and not
    /// yet shipped). Lines going to different recipients go in different
    /// shipments: without `lines`, one request ships one destination's. The
    /// order is shipped once every line is, and delivered once every
    /// shipment is.
    pub async fn ship(&self, slug: &str, order: &OrderId, req: &ShipRequest) -> Result<Shipment> {
        let rt = self.brand(slug).await?;
        let f = &rt.catalog.factory;
        let carrier = req
            .carrier
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty());
        let tracking = req
            .tracking_number
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        if !logistics::by_carrier(f) {
            let mut errors = Vec::new();
            if carrier.is_none() {
                errors.push(FieldError::new("/carrier", "a carrier is required"));
            }
            if tracking.is_none() {
                errors.push(FieldError::new(
                    "/tracking_number",
                    "a tracking number is required",
                ));
            }
            if !errors.is_empty() {
                return Err(Error::invalid_fields(errors));
            }
        }
        if let Some(c) = carrier
            && logistics::by_carrier(f)
            && tracking.is_none()
            && !f.carriers.iter().any(|k| k.id == c)
        {
            let known: Vec<&str> = f.carriers.iter().map(|k| k.id.as_str()).collect();
            return Err(Error::invalid(
                "/carrier",
                format!(
                    "unknown carrier `{c}` (carriers are: {}); another carrier needs its \
                     tracking number",
                    known.join(", ")
                ),
            ));
        }
        let mut lines = req.lines.clone();
        lines.sort_unstable();
        lines.dedup();
        let mut shipment = Shipment {
            id: ShipmentId::new(),
            order_id: order.clone(),
            carrier: carrier.unwrap_or_default().to_string(),
            tracking_number: tracking.unwrap_or_default().to_string(),
            lines,
            service: None,
            parcels: Vec::new(),
            promised_date: None,
            late_days: None,
            status: ShipmentStatus::InTransit,
            created_at: time::now(),
            delivered_at: None,
        };
        let o = self
            .store
            .order(&rt.brand.id, order)
            .await
            .found(|| format!("no order `{order}`"))?;
        // The promise it is held to: its lines' (the whole order's when
        // none are named); a brand with carriers narrows it below.
        shipment.promised_date = o
            .lines
            .iter()
            .filter(|l| shipment.lines.is_empty() || shipment.lines.contains(&l.line_no))
            .filter_map(|l| l.promised_date)
            .max()
            .or(Some(o.promised_date));
        if logistics::by_carrier(f) {
            // Shipping as ready without naming lines: the lines made.
            let mut made = Vec::new();
            if o.ship_policy == ShipPolicy::AsReady && req.lines.is_empty() {
                let mut seen = Vec::new();
                for l in &o.lines {
                    if seen.contains(&l.work_order_id) {
                        continue;
                    }
                    seen.push(l.work_order_id.clone());
                    let wo = self
                        .store
                        .work_order(&rt.brand.id, &l.work_order_id)
                        .await?;
                    if wo.is_some_and(|w| w.status == WorkOrderStatus::Done) {
                        made.push(l.work_order_id.clone());
                    }
                }
                shipment.lines = o
                    .lines
                    .iter()
                    .filter(|l| made.contains(&l.work_order_id))
                    .map(|l| l.line_no)
                    .collect();
                if shipment.lines.is_empty() {
                    return Err(Error::Conflict(
                        "no line of the order is made and waiting to ship".into(),
                    ));
                }
            }
            self.plan_shipment(&rt, &o, &mut shipment, carrier, !req.lines.is_empty())?;
        }
        let stored = self
            .store
            .create_shipment(&rt.brand.id, &shipment)
            .await
            .or_not_found(|| format!("no order `{order}`"))?;
        let shipped = o
            .lines
            .iter()
            .filter(|l| stored.lines.is_empty() || stored.lines.contains(&l.line_no))
            .map(|l| LineRef::new(o.id.clone(), l.line_no));
        rt.plan.lock().await.ship(shipped);
        self.outbox.notify_one();
        Ok(stored)
    }

    /// Fills in a carrier brand's shipment: its lines (one destination's),
    /// parcels, service, promise and, for the manual carrier, its number.
    fn plan_shipment(
        &self,
        rt: &crate::runtime::BrandRuntime,
        o: &kiln_domain::Order,
        shipment: &mut Shipment,
        carrier: Option<&str>,
        named: bool,
    ) -> Result<()> {
        let f = &rt.catalog.factory;
        let shipped: Vec<i64> = o
            .shipments
            .iter()
            .flat_map(|s| {
                if s.lines.is_empty() {
                    o.lines.iter().map(|l| l.line_no).collect()
                } else {
                    s.lines.clone()
                }
            })
            .collect();
        let open: Vec<&OrderLine> = o
            .lines
            .iter()
            .filter(|l| l.cancelled_at.is_none() && !shipped.contains(&l.line_no))
            .filter(|l| shipment.lines.is_empty() || shipment.lines.contains(&l.line_no))
            .collect();
        // One shipment goes to one recipient (the same address, not just
        // the same postal code).
        let recipient_of = |l: &OrderLine| l.recipient.clone().unwrap_or_else(|| o.ship_to.clone());
        if named
            && let Some(n) = shipment
                .lines
                .iter()
                .find(|n| !open.iter().any(|l| l.line_no == **n))
        {
            return Err(Error::Conflict(if shipped.contains(n) {
                format!("line {n} has shipped already")
            } else {
                format!("the order has no open line {n}")
            }));
        }
        let Some(first) = open.first() else {
            return Err(Error::Conflict(
                "no line of the order is waiting to ship".into(),
            ));
        };
        let recipient = recipient_of(first);
        let dest = Destination::of(&recipient);
        let all = open.len();
        let lines: Vec<&OrderLine> = open
            .into_iter()
            .filter(|l| recipient_of(l) == recipient)
            .collect();
        if named && lines.len() != all {
            return Err(Error::invalid(
                "/lines",
                "these lines go to different recipients: ship each recipient's lines apart",
            ));
        }
        shipment.lines = lines.iter().map(|l| l.line_no).collect();
        shipment.promised_date = lines
            .iter()
            .filter_map(|l| l.promised_date)
            .max()
            .or(shipment.promised_date);
        let now = time::now().to_zoned(jiff::tz::TimeZone::UTC).datetime();
        // A carrier the brand declares: its cheapest service; one it does
        // not (with its own tracking number): packed all the same.
        let declared = carrier.filter(|c| f.carriers.iter().any(|k| k.id == *c));
        let planned = logistics::for_shipment(
            f,
            &rt.catalog,
            &lines,
            &dest,
            now,
            shipment.promised_date,
            declared,
        )?;
        if carrier.is_none() || declared.is_some() {
            shipment.carrier = planned.choice.carrier.clone();
            shipment.service = Some(planned.choice.service.clone());
        }
        if shipment.tracking_number.is_empty() {
            shipment.tracking_number = manual_tracking_number(&shipment.carrier);
        }
        shipment.parcels = planned
            .parcels
            .into_iter()
            .map(|p| ShipmentParcel {
                packaging: p.packaging,
                sku: p.sku,
                contents: p
                    .contents
                    .into_iter()
                    .map(|(line_no, units)| ParcelContent { line_no, units })
                    .collect(),
                weight_g: p.weight_g,
            })
            .collect();
        Ok(())
    }

    /// Marks a shipment delivered now (the console's button; a carrier
    /// sends a `delivered` tracking event instead).
    pub async fn deliver(&self, slug: &str, shipment: &ShipmentId) -> Result<Shipment> {
        let brand = self.brand_record(slug).await?;
        let delivered = self
            .store
            .mark_delivered(&brand.id, shipment, time::now())
            .await
            .or_not_found(|| format!("no shipment `{shipment}`"))?;
        self.outbox.notify_one();
        Ok(delivered)
    }

    /// Records a carrier's tracking event: once (the same status at the same
    /// time again changes nothing), and `delivered` delivers the shipment at
    /// the event's time. Returns the shipment as it stands.
    pub async fn track_shipment(
        &self,
        slug: &str,
        shipment: &ShipmentId,
        event: TrackingEvent,
    ) -> Result<Shipment> {
        let mut errors = Vec::new();
        for (path, text) in [("/location", &event.location), ("/note", &event.note)] {
            if let Some(t) = text
                && (t.chars().count() > MAX_TRACKING_TEXT || t.chars().any(char::is_control))
            {
                errors.push(FieldError::new(
                    path,
                    format!(
                        "at most {MAX_TRACKING_TEXT} characters, none of them control characters"
                    ),
                ));
            }
        }
        let now = time::now();
        if event.at
            > now
                .saturating_add(jiff::SignedDuration::from_hours(1))
                .unwrap_or(now)
        {
            errors.push(FieldError::new("/at", "an event cannot be in the future"));
        }
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let brand = self.brand_record(slug).await?;
        let current = self
            .store
            .shipment(&brand.id, shipment)
            .await
            .found(|| format!("no shipment `{shipment}`"))?;
        if event.at < current.created_at {
            return Err(Error::invalid(
                "/at",
                format!(
                    "the event is before the shipment was made ({})",
                    current.created_at
                ),
            ));
        }
        self.store
            .record_tracking(&brand.id, shipment, &event, now)
            .await
            .or_not_found(|| format!("no shipment `{shipment}`"))?;
        let at: Timestamp = event.at;
        let current = if event.status == TrackingStatus::Delivered {
            let s = self
                .store
                .mark_delivered(&brand.id, shipment, at)
                .await
                .or_not_found(|| format!("no shipment `{shipment}`"))?;
            self.outbox.notify_one();
            s
        } else {
            self.store
                .shipment(&brand.id, shipment)
                .await
                .found(|| format!("no shipment `{shipment}`"))?
        };
        Ok(current)
    }

    /// A shipment and its tracking events.
    pub async fn shipment(
        &self,
        slug: &str,
        shipment: &ShipmentId,
    ) -> Result<(Shipment, Vec<TrackingEvent>)> {
        let brand = self.brand_record(slug).await?;
        let s = self
            .store
            .shipment(&brand.id, shipment)
            .await
            .found(|| format!("no shipment `{shipment}`"))?;
        let events = self.store.tracking_events(&brand.id, shipment).await?;
        Ok((s, events))
    }
}

/// What a shipment's label and packing list print.
#[derive(Debug, Clone)]
pub struct ShipmentLabel {
    pub brand_name: String,
    pub shipment: Shipment,
    /// Who receives it and where.
    pub ship_to: kiln_domain::Address,
    /// The carrier's and the service's names, as the model gives them.
    pub carrier_name: String,
    pub service_name: Option<String>,
    /// (line, product name, SKU, units) of every line it carries.
    pub contents: Vec<(i64, String, String, i64)>,
}

impl App {
    /// A shipment's label: where it goes, by whom, and what is in it.
    pub async fn shipment_label(&self, slug: &str, id: &ShipmentId) -> Result<ShipmentLabel> {
        let rt = self.brand(slug).await?;
        let shipment = self
            .store
            .shipment(&rt.brand.id, id)
            .await
            .found(|| format!("no shipment `{id}`"))?;
        let order = self
            .store
            .order(&rt.brand.id, &shipment.order_id)
            .await
            .found(|| format!("no order `{}`", shipment.order_id))?;
        let carried =
            |l: &&OrderLine| shipment.lines.is_empty() || shipment.lines.contains(&l.line_no);
        let lines: Vec<&OrderLine> = order.lines.iter().filter(carried).collect();
        let ship_to = lines
            .first()
            .and_then(|l| l.recipient.clone())
            .unwrap_or_else(|| order.ship_to.clone());
        let f = &rt.catalog.factory;
        let carrier = f.carriers.iter().find(|c| c.id == shipment.carrier);
        let service_name = shipment.service.as_ref().map(|s| {
            carrier
                .and_then(|c| c.services.iter().find(|v| &v.id == s))
                .map_or_else(|| s.clone(), |v| v.name.clone())
        });
        let contents = lines
            .iter()
            .map(|l| {
                let name = rt
                    .catalog
                    .product(&l.product_id)
                    .map_or_else(|| l.product_id.clone(), |c| c.product().name.clone());
                (l.line_no, name, l.sku.clone(), l.quantity)
            })
            .collect();
        Ok(ShipmentLabel {
            brand_name: rt.brand.name.clone(),
            carrier_name: carrier.map_or_else(|| shipment.carrier.clone(), |c| c.name.clone()),
            service_name,
            ship_to,
            contents,
            shipment,
        })
    }
}

/// The built-in manual carrier's tracking number: the carrier's first
/// letters and twelve digits, readable over the phone and as a barcode.
fn manual_tracking_number(carrier: &str) -> String {
    let prefix: String = carrier
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(4)
        .collect::<String>()
        .to_ascii_uppercase();
    let n = uuid::Uuid::new_v4().as_u128() % 1_000_000_000_000;
    format!("{}{n:012}", if prefix.is_empty() { "KLN" } else { &prefix })
}
