//! The shop floor: work orders and their operations, stock and purchases,
//! shipments (written by `shipping.rs`). Each step an operator records rolls up into the orders it
//! serves, with their timeline entries and events, in one transaction.

macro_rules! impl_factory {
    ($store:ty, $db:ty) => {
        const SUGGESTION_COLUMNS: &str = "purchase_suggestions (brand_id, id, order_id, \
            material, qty, order_by, arrives, need_by)";

        fn suggestion_args<'a>(brand: &'a str, p: &'a PurchaseSuggestion) -> Vec<Arg<'a>> {
            use Arg::{O, S};
            vec![
                S(brand), S(p.id.as_str()), S(&p.order_id), S(&p.material), O(p.qty.to_string()),
                O(p.order_by.to_string()), O(p.arrives.to_string()), O(p.need_by.to_string()),
            ]
        }

        /// Work orders matching `filter` (`$2` is `key`), with operations and orders.
        async fn load_work_orders(
            conn: &mut Conn,
            brand: &BrandId,
            filter: &str,
            key: &str,
        ) -> Result<Vec<WorkOrder>> {
            let sql = format!(
                "SELECT id, sku, product_id, quantity, status, created_at FROM work_orders w \
                 WHERE brand_id = $1 AND {filter} AND {} ORDER BY created_at, id",
                $crate::sql::visible_work_order!()
            );
            let rows = sqlx::query(&sql)
                .bind(brand.as_str())
                .bind(key)
                .fetch_all(&mut *conn)
                .await?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let id = WorkOrderId::from(text(&r, "id")?);
                let operations = sqlx::query(
                    "SELECT * FROM work_order_operations \
                     WHERE brand_id = $1 AND work_order_id = $2 ORDER BY seq",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await?
                .iter()
                .map(operation_from)
                .collect::<Result<Vec<_>>>()?;
                let order_ids: Vec<String> = sqlx::query_scalar(
                    "SELECT DISTINCT order_id FROM order_lines \
                     WHERE brand_id = $1 AND work_order_id = $2 ORDER BY order_id",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_all(&mut *conn)
                .await?;
                out.push(WorkOrder {
                    id,
                    sku: text(&r, "sku")?,
                    product_id: text(&r, "product_id")?,
                    quantity: int(&r, "quantity")?,
                    status: parsed(&text(&r, "status")?)?,
                    created_at: ts(int(&r, "created_at")?)?,
                    operations,
                    order_ids: order_ids.into_iter().map(OrderId::from).collect(),
                });
            }
            Ok(out)
        }

        #[async_trait::async_trait]
        impl $crate::FactoryStore for $store {
            async fn work_orders(&self, brand: &BrandId, open_only: bool) -> Result<Vec<WorkOrder>> {
                let mut conn = self.read.acquire().await?;
                if open_only {
                    load_work_orders(&mut conn, brand, "status NOT IN ($2, 'cancelled')", "done")
                        .await
                } else {
                    load_work_orders(&mut conn, brand, "$2 = $2", "").await
                }
            }

            async fn work_order(
                &self,
                brand: &BrandId,
                id: &WorkOrderId,
            ) -> Result<Option<WorkOrder>> {
                let mut conn = self.read.acquire().await?;
                Ok(load_work_orders(&mut conn, brand, "id = $2", id.as_str()).await?.pop())
            }

            async fn planned_work_orders(
                &self,
                brand: &BrandId,
                catalog_version: i64,
            ) -> Result<Vec<(String, WorkOrderId, i64)>> {
                sqlx::query(concat!(
                    "SELECT w.sku, w.id, w.quantity FROM work_orders w WHERE w.brand_id = $1 AND w.status = $2 \
                     AND w.catalog_version = $3 AND NOT EXISTS (SELECT 1 FROM claims c \
                     WHERE c.brand_id = w.brand_id AND c.work_order_id = w.id) AND ",
                    $crate::sql::visible_work_order!(),
                    " ORDER BY w.created_at"
                ))
                .bind(brand.as_str())
                .bind(WorkOrderStatus::Planned.as_str())
                .bind(catalog_version)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        text(r, "sku")?,
                        WorkOrderId::from(text(r, "id")?),
                        r.try_get::<i64, _>("quantity")?,
                    ))
                })
                .collect()
            }

            async fn order_lines_of(
                &self,
                brand: &BrandId,
                work_order: &WorkOrderId,
            ) -> Result<Vec<LineRef>> {
                sqlx::query(
                    "SELECT order_id, line_no FROM order_lines \
                     WHERE brand_id = $1 AND work_order_id = $2 AND cancelled_at IS NULL \
                     ORDER BY order_id, line_no",
                )
                .bind(brand.as_str())
                .bind(work_order.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok(LineRef::new(OrderId::from(text(r, "order_id")?), int(r, "line_no")?)))
                .collect()
            }

            async fn record_operation(
                &self,
                brand: &BrandId,
                work_order: &WorkOrderId,
                seq: i64,
                action: OperationAction,
                at: Timestamp,
            ) -> Result<OperationChange> {
                let (b, wo) = (brand.as_str(), work_order.as_str());
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                let current: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM work_order_operations \
                     WHERE brand_id = $1 AND work_order_id = $2 AND seq = $3",
                )
                .bind(b)
                .bind(wo)
                .bind(seq)
                .fetch_optional(&mut *tx)
                .await?;
                let Some(current) = current else {
                    return Err(StoreError::NotFound);
                };
                let current: OperationStatus = parsed(&current)?;
                let earlier_open: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM work_order_operations WHERE brand_id = $1 \
                     AND work_order_id = $2 AND seq < $3 AND status <> $4",
                )
                .bind(b)
                .bind(wo)
                .bind(seq)
                .bind(OperationStatus::Done.as_str())
                .fetch_one(&mut *tx)
                .await?;
                let (next, scrap) = match (action, current) {
                    (OperationAction::Start, OperationStatus::Pending) if earlier_open == 0 => {
                        (OperationStatus::Started, 0)
                    }
                    (OperationAction::Start, OperationStatus::Pending) => {
                        return Err(StoreError::Conflict(
                            "the previous operations of this work order are not complete".into(),
                        ));
                    }
                    (OperationAction::Complete { scrap }, OperationStatus::Started) => {
                        (OperationStatus::Done, scrap)
                    }
                    (OperationAction::Start, s) => {
                        return Err(StoreError::Conflict(format!(
                            "the operation is {s}; it cannot be started"
                        )));
                    }
                    (OperationAction::Complete { .. }, s) => {
                        return Err(StoreError::Conflict(format!(
                            "the operation is {s}; it cannot be completed before it is started"
                        )));
                    }
                };
                let column = if next == OperationStatus::Started {
                    "started_at"
                } else {
                    "completed_at"
                };
                sqlx::query(&format!(
                    "UPDATE work_order_operations SET status = $1, {column} = $2, scrap = $3 \
                     WHERE brand_id = $4 AND work_order_id = $5 AND seq = $6"
                ))
                .bind(next.as_str())
                .bind(at.as_millisecond())
                .bind(scrap)
                .bind(b)
                .bind(wo)
                .bind(seq)
                .execute(&mut *tx)
                .await?;
                let open: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM work_order_operations WHERE brand_id = $1 \
                     AND work_order_id = $2 AND status <> $3",
                )
                .bind(b)
                .bind(wo)
                .bind(OperationStatus::Done.as_str())
                .fetch_one(&mut *tx)
                .await?;
                let wo_status = if open == 0 {
                    WorkOrderStatus::Done
                } else {
                    WorkOrderStatus::InProgress
                };
                sqlx::query("UPDATE work_orders SET status = $1 WHERE brand_id = $2 AND id = $3")
                    .bind(wo_status.as_str())
                    .bind(b)
                    .bind(wo)
                    .execute(&mut *tx)
                    .await?;
                let affected = sqlx::query(
                    "SELECT DISTINCT o.id, o.status FROM orders o JOIN order_lines l \
                     ON l.brand_id = o.brand_id AND l.order_id = o.id \
                     WHERE o.brand_id = $1 AND l.work_order_id = $2 AND l.cancelled_at IS NULL \
                     ORDER BY o.id",
                )
                .bind(b)
                .bind(wo)
                .fetch_all(&mut *tx)
                .await?;
                let affected = affected
                    .iter()
                    .map(|row| {
                        Ok((OrderId::from(text(row, "id")?), parsed(&text(row, "status")?)?))
                    })
                    .collect::<Result<Vec<(OrderId, OrderStatus)>>>()?;
                let (moved, consumed) = roll_up(&mut tx, brand, &affected, at).await?;
                let work_order = load_work_orders(&mut *tx, brand, "id = $2", wo)
                    .await?
                    .pop()
                    .ok_or(StoreError::NotFound)?;
                if wo_status == WorkOrderStatus::Done {
                    let event = PlatformEvent::new(brand, EventType::WorkOrderCompleted, at, &work_order);
                    outbox(&mut tx, std::slice::from_ref(&event)).await?;
                }
                tx.commit().await?;
                Ok(OperationChange { work_order, orders: moved, consumed })
            }

            async fn create_shipment(&self, brand: &BrandId, shipment: &Shipment) -> Result<Shipment> {
                ship(&self.write, brand, shipment).await
            }

            async fn mark_delivered(
                &self,
                brand: &BrandId,
                shipment: &ShipmentId,
                at: Timestamp,
            ) -> Result<Shipment> {
                deliver(&self.write, brand, shipment, at).await
            }

            async fn record_tracking(
                &self,
                brand: &BrandId,
                shipment: &ShipmentId,
                event: &TrackingEvent,
                received: Timestamp,
            ) -> Result<bool> {
                track(&self.write, brand, shipment, event, received).await
            }

            async fn tracking_events(
                &self,
                brand: &BrandId,
                shipment: &ShipmentId,
            ) -> Result<Vec<TrackingEvent>> {
                tracking(&self.read, brand, shipment).await
            }

            async fn shipment(&self, brand: &BrandId, shipment: &ShipmentId) -> Result<Option<Shipment>> {
                sqlx::query("SELECT * FROM shipments WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(shipment.as_str())
                    .fetch_optional(&self.read)
                    .await?
                    .map(|r| shipment_from(&r))
                    .transpose()
            }

            async fn suggestions(&self, brand: &BrandId) -> Result<Vec<PurchaseSuggestion>> {
                sqlx::query(
                    "SELECT * FROM purchase_suggestions WHERE brand_id = $1 \
                     AND received_at IS NULL ORDER BY order_by, material",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(suggestion_from)
                .collect()
            }

            async fn receive_purchase(
                &self,
                brand: &BrandId,
                suggestion: &SuggestionId,
                at: Timestamp,
            ) -> Result<PurchaseSuggestion> {
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                let row = sqlx::query(
                    "SELECT * FROM purchase_suggestions WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(suggestion.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .ok_or(StoreError::NotFound)?;
                let received: Option<i64> = row.try_get("received_at")?;
                if received.is_some() {
                    return Err(StoreError::Conflict(
                        "this purchase was already received".into(),
                    ));
                }
                let s = suggestion_from(&row)?;
                // Guarded: of two receipts at once (PostgreSQL reads without
                // a lock), the second updates nothing and is refused.
                let updated = sqlx::query(
                    "UPDATE purchase_suggestions SET received_at = $1 \
                     WHERE brand_id = $2 AND id = $3 AND received_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(suggestion.as_str())
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "this purchase was already received".into(),
                    ));
                }
                receive_into_stock(&mut tx, brand, &s, at).await?;
                tx.commit().await?;
                Ok(s)
            }

            async fn add_suggestions(
                &self,
                brand: &BrandId,
                suggestions: &[PurchaseSuggestion],
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                let rows = suggestions
                    .iter()
                    .map(|s| suggestion_args(brand.as_str(), s))
                    .collect();
                insert_rows(&mut tx, SUGGESTION_COLUMNS, rows, "").await?;
                tx.commit().await?;
                Ok(())
            }

            async fn material_ledger(
                &self,
                brand: &BrandId,
                material: &str,
                orders: &[&OrderId],
            ) -> Result<MaterialLedger> {
                read_ledger(&self.read, brand, material, orders).await
            }

            async fn stock_moves(&self, brand: &BrandId) -> Result<Vec<(String, Decimal)>> {
                sqlx::query(
                    "SELECT material, consumed, supplied FROM material_ledgers \
                     WHERE brand_id = $1 ORDER BY material",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    let supplied = dec(&text(r, "supplied")?)?;
                    Ok((text(r, "material")?, supplied - dec(&text(r, "consumed")?)?))
                })
                .collect()
            }
        }
    };
}

pub(crate) use impl_factory;
