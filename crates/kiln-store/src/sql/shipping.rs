//! Shipping an order whole or line by line, and its arrival: whether a
//! line may ship (made, not shipped, not cancelled) and whether the order
//! is shipped or delivered, decided in one transaction behind a lock on the
//! order's row.

macro_rules! impl_shipping {
    ($store:ty, $db:ty) => {
        /// An open line of an order, as shipping sees it.
        struct ShippableLine {
            line_no: i64,
            /// Its work order is done.
            made: bool,
            /// A shipment carries it already.
            shipped: bool,
        }

        /// The order's open lines: made, and shipped.
        async fn shippable(tx: &mut Tx<'_>, brand: &BrandId, order: &OrderId) -> Result<Vec<ShippableLine>> {
            let rows = sqlx::query(
                "SELECT l.line_no, w.status FROM order_lines l JOIN work_orders w \
                 ON w.brand_id = l.brand_id AND w.id = l.work_order_id \
                 WHERE l.brand_id = $1 AND l.order_id = $2 AND l.cancelled_at IS NULL ORDER BY l.line_no",
            )
            .bind(brand.as_str())
            .bind(order.as_str())
            .fetch_all(&mut **tx)
            .await?;
            let carried = sqlx::query("SELECT lines FROM shipments WHERE brand_id = $1 AND order_id = $2")
                .bind(brand.as_str())
                .bind(order.as_str())
                .fetch_all(&mut **tx)
                .await?;
            let mut whole = false;
            let mut shipped: Vec<i64> = Vec::new();
            for r in &carried {
                match r.try_get::<Option<String>, _>("lines")? {
                    Some(l) => shipped.extend(json::<Vec<i64>>(&l)?),
                    None => whole = true,
                }
            }
            rows.iter()
                .map(|r| {
                    let line_no = int(r, "line_no")?;
                    let status: WorkOrderStatus = parsed(&text(r, "status")?)?;
                    Ok(ShippableLine {
                        line_no,
                        made: status == WorkOrderStatus::Done,
                        shipped: whole || shipped.contains(&line_no),
                    })
                })
                .collect()
        }

        /// "line 2" or "lines 1, 3".
        fn lines_text(lines: &[i64]) -> String {
            match lines {
                [one] => format!("line {one}"),
                many => format!(
                    "lines {}",
                    many.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
            }
        }

        /// Ships an order, or the lines of it that are made (see
        /// `FactoryStore::create_shipment`).
        async fn ship(
            pool: &sqlx::Pool<$db>,
            brand: &BrandId,
            shipment: &Shipment,
        ) -> Result<Shipment> {
            let mut tx = pool.begin().await?;
            let b = brand.as_str();
            let o = shipment.order_id.as_str();
            // The order's row first, locked by an update that changes
            // nothing: two shipments of one order queue here.
            sqlx::query("UPDATE orders SET status = status WHERE brand_id = $1 AND id = $2")
                .bind(b)
                .bind(o)
                .execute(&mut *tx)
                .await?;
            let head = sqlx::query("SELECT status, ship_policy FROM orders WHERE brand_id = $1 AND id = $2")
                .bind(b)
                .bind(o)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let order_status: OrderStatus = parsed(&text(&head, "status")?)?;
            let policy: ShipPolicy = parsed(&text(&head, "ship_policy")?)?;
            let lines = shippable(&mut tx, brand, &shipment.order_id).await?;
            let unshipped: Vec<&ShippableLine> = lines.iter().filter(|l| !l.shipped).collect();
            let mut shipment = shipment.clone();
            match policy {
                ShipPolicy::Complete => {
                    if order_status != OrderStatus::Made {
                        return Err(StoreError::Conflict(format!(
                            "the order is {order_status}; it ships complete, once made"
                        )));
                    }
                    // Made whole, it may still go in several shipments: one
                    // per recipient. Lines named must be open and not shipped.
                    let all: Vec<i64> = unshipped.iter().map(|l| l.line_no).collect();
                    if shipment.lines.is_empty() {
                        shipment.lines = all;
                    } else {
                        shipment.lines.sort_unstable();
                        shipment.lines.dedup();
                        if let Some(n) = shipment.lines.iter().find(|n| !all.contains(n)) {
                            return Err(StoreError::Conflict(format!(
                                "the order has no open line {n} waiting to ship"
                            )));
                        }
                        // Every open line to the recipient of those named,
                        // and no other (no recipient: the order's address).
                        let rows = sqlx::query(
                            "SELECT line_no, recipient FROM order_lines \
                             WHERE brand_id = $1 AND order_id = $2 AND cancelled_at IS NULL",
                        )
                        .bind(b)
                        .bind(o)
                        .fetch_all(&mut *tx)
                        .await?;
                        let mut to: Vec<(i64, Option<String>)> = Vec::with_capacity(rows.len());
                        for r in &rows {
                            to.push((int(r, "line_no")?, r.try_get("recipient")?));
                        }
                        let of = |n: i64| to.iter().find(|(l, _)| *l == n).and_then(|(_, r)| r.clone());
                        let who = of(shipment.lines[0]);
                        let theirs: Vec<i64> =
                            all.iter().copied().filter(|n| of(*n) == who).collect();
                        if theirs != shipment.lines {
                            return Err(StoreError::Conflict(
                                "the order ships complete: every line to one recipient goes in \
                                 one shipment"
                                    .into(),
                            ));
                        }
                    }
                }
                ShipPolicy::AsReady => {
                    if !matches!(order_status, OrderStatus::InProduction | OrderStatus::Made) {
                        return Err(StoreError::Conflict(format!(
                            "the order is {order_status}; only lines made can be shipped"
                        )));
                    }
                    if shipment.lines.is_empty() {
                        shipment.lines =
                            unshipped.iter().filter(|l| l.made).map(|l| l.line_no).collect();
                        if shipment.lines.is_empty() {
                            return Err(StoreError::Conflict(
                                "no line of the order is made and waiting to ship".into(),
                            ));
                        }
                    }
                    for n in &shipment.lines {
                        match lines.iter().find(|l| l.line_no == *n) {
                            None => {
                                return Err(StoreError::Conflict(format!(
                                    "the order has no open line {n}"
                                )));
                            }
                            Some(l) if l.shipped => {
                                return Err(StoreError::Conflict(format!(
                                    "line {n} has shipped already"
                                )));
                            }
                            Some(l) if !l.made => {
                                return Err(StoreError::Conflict(format!(
                                    "line {n} is not made yet"
                                )));
                            }
                            Some(_) => {}
                        }
                    }
                    shipment.lines.sort_unstable();
                    shipment.lines.dedup();
                }
            }
            sqlx::query(
                "INSERT INTO shipments (brand_id, id, order_id, carrier, tracking_number, \
                 status, created_at, delivered_at, lines, service, parcels, promised_date) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(b)
            .bind(shipment.id.as_str())
            .bind(o)
            .bind(&shipment.carrier)
            .bind(&shipment.tracking_number)
            .bind(shipment.status.as_str())
            .bind(shipment.created_at.as_millisecond())
            .bind(shipment.delivered_at.map(|t| t.as_millisecond()))
            .bind($crate::sql::to_json(&shipment.lines))
            .bind(shipment.service.as_deref())
            .bind((!shipment.parcels.is_empty()).then(|| $crate::sql::to_json(&shipment.parcels)))
            .bind(shipment.promised_date.map(|d| d.to_string()))
            .execute(&mut *tx)
            .await?;
            let at = shipment.created_at;
            let every = shipment.lines.len() == unshipped.len();
            let note = format!(
                "{}{} {}",
                if every { String::new() } else { format!("{}: ", lines_text(&shipment.lines)) },
                shipment.carrier,
                shipment.tracking_number
            );
            if every {
                set_order_status(&mut tx, brand, &shipment.order_id, OrderStatus::Shipped, note, at)
                    .await?;
            } else {
                let entry = TimelineEntry {
                    id: TimelineEntryId::new(),
                    status: TimelineStatus::Shipped,
                    note: match policy {
                        ShipPolicy::AsReady => format!("{note}; the other lines ship when made"),
                        ShipPolicy::Complete => format!("{note}; the other lines follow"),
                    },
                    at,
                };
                insert_timeline(&mut tx, brand, &shipment.order_id, &entry).await?;
            }
            let event = PlatformEvent::new(brand, EventType::ShipmentCreated, at, &shipment);
            outbox(&mut tx, std::slice::from_ref(&event)).await?;
            tx.commit().await?;
            Ok(shipment)
        }

        /// Marks a shipment delivered, and its order once every line has
        /// arrived (see `FactoryStore::mark_delivered`).
        async fn deliver(
            pool: &sqlx::Pool<$db>,
            brand: &BrandId,
            shipment: &ShipmentId,
            at: Timestamp,
        ) -> Result<Shipment> {
            let mut tx = pool.begin().await?;
            let row = sqlx::query("SELECT * FROM shipments WHERE brand_id = $1 AND id = $2")
                .bind(brand.as_str())
                .bind(shipment.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
            let mut shipment = shipment_from(&row)?;
            if shipment.status == ShipmentStatus::Delivered {
                return Ok(shipment);
            }
            // Late: delivered (UTC day) after the date its lines were promised.
            let arrived = kiln_domain::utc_day(at);
            let late_days = shipment
                .promised_date
                .map(|p| i64::from((arrived - p).get_days()))
                .filter(|d| *d > 0);
            sqlx::query(
                "UPDATE shipments SET status = $1, delivered_at = $2, late_days = $3 \
                 WHERE brand_id = $4 AND id = $5",
            )
            .bind(ShipmentStatus::Delivered.as_str())
            .bind(at.as_millisecond())
            .bind(late_days)
            .bind(brand.as_str())
            .bind(shipment.id.as_str())
            .execute(&mut *tx)
            .await?;
            shipment.status = ShipmentStatus::Delivered;
            shipment.delivered_at = Some(at);
            shipment.late_days = late_days;
            let mut note = format!("{} {}", shipment.carrier, shipment.tracking_number);
            if let (Some(days), Some(promised)) = (late_days, shipment.promised_date) {
                note.push_str(&format!(
                    "; {days} day{} late (promised for {promised})",
                    if days == 1 { "" } else { "s" }
                ));
            }
            // Delivered once every line has shipped and every shipment
            // has arrived; before, the arrival goes on the timeline.
            let lines = shippable(&mut tx, brand, &shipment.order_id).await?;
            let in_transit: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM shipments WHERE brand_id = $1 AND order_id = $2 \
                 AND status <> $3",
            )
            .bind(brand.as_str())
            .bind(shipment.order_id.as_str())
            .bind(ShipmentStatus::Delivered.as_str())
            .fetch_one(&mut *tx)
            .await?;
            if in_transit == 0 && lines.iter().all(|l| l.shipped) {
                set_order_status(&mut tx, brand, &shipment.order_id, OrderStatus::Delivered, note, at)
                    .await?;
            } else {
                let entry = TimelineEntry {
                    id: TimelineEntryId::new(),
                    status: TimelineStatus::Delivered,
                    note: format!("{}: {note} delivered; more to come", lines_text(&shipment.lines)),
                    at,
                };
                insert_timeline(&mut tx, brand, &shipment.order_id, &entry).await?;
            }
            let event = PlatformEvent::new(brand, EventType::ShipmentDelivered, at, &shipment);
            outbox(&mut tx, std::slice::from_ref(&event)).await?;
            tx.commit().await?;
            Ok(shipment)
        }

        /// Records a carrier's tracking event once (the same status at the
        /// same moment again is a duplicate: false).
        async fn track(
            pool: &sqlx::Pool<$db>,
            brand: &BrandId,
            shipment: &ShipmentId,
            event: &TrackingEvent,
            received: Timestamp,
        ) -> Result<bool> {
            let mut tx = pool.begin().await?;
            let known: Option<String> =
                sqlx::query_scalar("SELECT id FROM shipments WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(shipment.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
            if known.is_none() {
                return Err(StoreError::NotFound);
            }
            let added = sqlx::query(
                "INSERT INTO tracking_events (brand_id, shipment_id, status, at, location, note, \
                 received_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
            )
            .bind(brand.as_str())
            .bind(shipment.as_str())
            .bind(event.status.as_str())
            .bind(event.at.as_millisecond())
            .bind(event.location.as_deref())
            .bind(event.note.as_deref())
            .bind(received.as_millisecond())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(added > 0)
        }

        /// A shipment's tracking events, oldest first.
        async fn tracking(
            pool: &sqlx::Pool<$db>,
            brand: &BrandId,
            shipment: &ShipmentId,
        ) -> Result<Vec<TrackingEvent>> {
            let rows = sqlx::query(
                "SELECT status, at, location, note FROM tracking_events \
                 WHERE brand_id = $1 AND shipment_id = $2 ORDER BY at, status",
            )
            .bind(brand.as_str())
            .bind(shipment.as_str())
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(TrackingEvent {
                        status: parsed(&text(r, "status")?)?,
                        at: ts(int(r, "at")?)?,
                        location: r.try_get("location")?,
                        note: r.try_get("note")?,
                    })
                })
                .collect()
        }
    };
}

pub(crate) use impl_shipping;
