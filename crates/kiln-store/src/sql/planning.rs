//! The live schedule's bookings (one row per operation of an order line),
//! the open requirements and lines the live material plan is rebuilt from,
//! downtimes and replans, and the sales history demand sensing reads.

macro_rules! impl_planning {
    ($store:ty, $db:ty) => {
        const BOOKING_COLUMNS: &str = "bookings (brand_id, order_id, line_no, operation, \
            work_center, day, minutes, seq, machine, setup_start, start_at, end_at, \
            setup_minutes, changeover, release_at, due_day, made_on_machine)";

        fn booking_args<'a>(brand: &'a str, k: &'a BookingRow) -> Vec<Arg<'a>> {
            use Arg::{I, O, OptI, S};
            let day = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
            vec![
                S(brand), S(k.order_id.as_str()), I(k.line_no), S(&k.operation),
                S(&k.work_center), O(day(k.day)), I(k.minutes), I(k.seq), I(k.machine),
                I(k.setup_start), I(k.start_at), I(k.end_at), I(k.setup_minutes),
                I(k.changeover), I(k.release_at), O(day(k.due_day)), OptI(k.made_on),
            ]
        }

        /// A replan's writes: each moved order's bookings replaced and its
        /// promise updated, and where the customer must hear of it, a
        /// timeline entry and an `order.promise_moved` event.
        async fn write_replan(tx: &mut Tx<'_>, brand: &BrandId, repromises: &[Repromise]) -> Result<()> {
            let b = brand.as_str();
            let mut bookings: Vec<Vec<Arg<'_>>> = Vec::new();
            for r in repromises {
                sqlx::query("DELETE FROM bookings WHERE brand_id = $1 AND order_id = $2")
                    .bind(b)
                    .bind(r.order_id.as_str())
                    .execute(&mut **tx)
                    .await?;
                sqlx::query("UPDATE orders SET promised_date = $1 WHERE brand_id = $2 AND id = $3")
                    .bind(r.promised_date.to_string())
                    .bind(b)
                    .bind(r.order_id.as_str())
                    .execute(&mut **tx)
                    .await?;
                for k in &r.bookings {
                    bookings.push(booking_args(b, k));
                }
            }
            insert_rows(tx, BOOKING_COLUMNS, bookings, "").await?;
            for r in repromises {
                if let Some(entry) = &r.event {
                    insert_timeline(tx, brand, &r.order_id, entry).await?;
                    report_order(tx, brand, &r.order_id, EventType::OrderPromiseMoved, entry.at).await?;
                }
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::PlanningStore for $store {
            async fn open_requirements(
                &self,
                brand: &BrandId,
            ) -> Result<Vec<(OrderId, Requirement)>> {
                sqlx::query(
                    "SELECT order_id, material, gross, allocated, shortage \
                     FROM material_requirements WHERE brand_id = $1 AND consumed_at IS NULL \
                     ORDER BY order_id, material",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((OrderId::from(text(r, "order_id")?), requirement_from(r)?)))
                .collect()
            }

            async fn open_lines(&self, brand: &BrandId) -> Result<Vec<(OrderId, OrderLine)>> {
                sqlx::query(
                    "SELECT l.order_id, l.line_no, l.product_id, l.selections, l.sku, l.quantity, \
                     l.unit_price, l.work_order_id, l.catalog_version, l.promised_date, \
                     l.recipient, l.cancelled_at \
                     FROM (SELECT DISTINCT order_id FROM material_requirements \
                           WHERE brand_id = $1 AND consumed_at IS NULL) AS r \
                     CROSS JOIN order_lines l \
                     WHERE l.brand_id = $1 AND l.order_id = r.order_id AND l.cancelled_at IS NULL \
                     ORDER BY l.order_id, l.line_no",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| Ok((OrderId::from(text(r, "order_id")?), line_from(r)?)))
                .collect()
            }

            async fn bookings(&self, brand: &BrandId) -> Result<Vec<BookingRow>> {
                sqlx::query(
                    "SELECT order_id, line_no, operation, work_center, day, minutes, seq, \
                     machine, setup_start, start_at, end_at, setup_minutes, changeover, \
                     release_at, due_day, made_on_machine FROM bookings WHERE brand_id = $1 \
                     ORDER BY order_id, line_no, seq, day",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(booking_from)
                .collect()
            }

            async fn scheduled_bookings(&self, brand: &BrandId) -> Result<Vec<ScheduledBooking>> {
                sqlx::query(
                    "SELECT b.order_id, b.line_no, b.operation, b.work_center, b.day, b.minutes, \
                     b.seq, b.machine, b.setup_start, b.start_at, b.end_at, b.setup_minutes, \
                     b.changeover, b.release_at, b.due_day, b.made_on_machine, l.sku, l.product_id, \
                     COALESCE(w.status, 'pending') AS op_status, w.completed_at, \
                     o.promised_date \
                     FROM orders o CROSS JOIN bookings b CROSS JOIN order_lines l \
                     LEFT JOIN work_order_operations w ON w.brand_id = b.brand_id \
                       AND w.work_order_id = l.work_order_id AND w.seq = b.seq \
                     WHERE o.brand_id = $1 AND o.status IN ('planned', 'in_production', 'made') \
                       AND b.brand_id = o.brand_id AND b.order_id = o.id \
                       AND l.brand_id = b.brand_id AND l.order_id = b.order_id \
                       AND l.line_no = b.line_no \
                     ORDER BY b.order_id, b.line_no, b.seq, b.day",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(ScheduledBooking {
                        booking: booking_from(r)?,
                        sku: text(r, "sku")?,
                        product_id: text(r, "product_id")?,
                        status: parsed(&text(r, "op_status")?)?,
                        completed_at: opt_ts(r.try_get("completed_at")?)?,
                        promised_date: day(&text(r, "promised_date")?)?,
                    })
                })
                .collect()
            }

            async fn downtimes(&self, brand: &BrandId) -> Result<Vec<Downtime>> {
                sqlx::query(
                    "SELECT id, work_center, from_day, to_day, reason, created_at \
                     FROM downtimes WHERE brand_id = $1 ORDER BY from_day, created_at, id",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(Downtime {
                        id: DowntimeId::from(text(r, "id")?),
                        work_center: text(r, "work_center")?,
                        from_day: day(&text(r, "from_day")?)?,
                        to_day: day(&text(r, "to_day")?)?,
                        reason: text(r, "reason")?,
                        created_at: ts(int(r, "created_at")?)?,
                    })
                })
                .collect()
            }

            async fn cancel_downtime(
                &self,
                brand: &BrandId,
                id: &DowntimeId,
                entry: &AuditEntry,
            ) -> Result<bool> {
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                let gone = sqlx::query("DELETE FROM downtimes WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(id.as_str())
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if gone == 0 {
                    return Ok(false);
                }
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn open_promises(&self, brand: &BrandId) -> Result<Vec<OpenPromise>> {
                let rows = sqlx::query(
                    "SELECT o.id, o.promised_date, o.created_at, l.line_no, l.product_id \
                     FROM orders o JOIN order_lines l \
                       ON l.brand_id = o.brand_id AND l.order_id = o.id \
                     WHERE o.brand_id = $1 AND o.status = $2 \
                     ORDER BY o.promised_date, o.created_at, o.id, l.line_no",
                )
                .bind(brand.as_str())
                .bind(OrderStatus::Planned.as_str())
                .fetch_all(&self.read)
                .await?;
                let mut out: Vec<OpenPromise> = Vec::new();
                for r in &rows {
                    let id = text(r, "id")?;
                    let line = (int(r, "line_no")?, text(r, "product_id")?);
                    match out.last_mut() {
                        Some(o) if o.order_id == id.as_str() => o.lines.push(line),
                        _ => out.push(OpenPromise {
                            order_id: OrderId::from(id),
                            promised_date: day(&text(r, "promised_date")?)?,
                            created_at: ts(int(r, "created_at")?)?,
                            lines: vec![line],
                        }),
                    }
                }
                Ok(out)
            }

            async fn rebook(&self, brand: &BrandId, rows: &[BookingRow]) -> Result<()> {
                if rows.is_empty() {
                    return Ok(());
                }
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                update_bookings(&mut tx, brand, rows).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn record_late_purchase(
                &self,
                brand: &BrandId,
                suggestion: &SuggestionId,
                arrives: Date,
                repromises: &[Repromise],
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
                let mut s = suggestion_from(&row)?;
                // Guarded as a receipt is: a purchase received meanwhile stays.
                let updated = sqlx::query(
                    "UPDATE purchase_suggestions SET arrives = $1 \
                     WHERE brand_id = $2 AND id = $3 AND received_at IS NULL",
                )
                .bind(arrives.to_string())
                .bind(brand.as_str())
                .bind(suggestion.as_str())
                .execute(&mut *tx)
                .await?;
                if updated.rows_affected() == 0 {
                    return Err(StoreError::Conflict(
                        "this purchase was already received".into(),
                    ));
                }
                s.arrives = arrives;
                write_replan(&mut tx, brand, repromises).await?;
                tx.commit().await?;
                Ok(s)
            }

            async fn record_replan(
                &self,
                brand: &BrandId,
                downtime: Option<&Downtime>,
                repromises: &[Repromise],
            ) -> Result<()> {
                let b = brand.as_str();
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                if let Some(d) = downtime {
                    sqlx::query(
                        "INSERT INTO downtimes (brand_id, id, work_center, from_day, to_day, \
                         reason, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(b)
                    .bind(d.id.as_str())
                    .bind(&d.work_center)
                    .bind(d.from_day.to_string())
                    .bind(d.to_day.to_string())
                    .bind(&d.reason)
                    .bind(d.created_at.as_millisecond())
                    .execute(&mut *tx)
                    .await?;
                }
                write_replan(&mut tx, brand, repromises).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_sales_history(&self, brand: &BrandId, lines: &[SalesLine]) -> Result<u64> {
                let b = brand.as_str();
                let mut tx = self.write.begin().await?;
                let before: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM sales_history WHERE brand_id = $1")
                        .bind(b)
                        .fetch_one(&mut *tx)
                        .await?;
                insert_sales(&mut tx, brand, lines).await?;
                let after: i64 =
                    sqlx::query_scalar("SELECT COUNT(*) FROM sales_history WHERE brand_id = $1")
                        .bind(b)
                        .fetch_one(&mut *tx)
                        .await?;
                tx.commit().await?;
                Ok((after - before).max(0) as u64)
            }

            async fn last_sale(
                &self,
                brand: &BrandId,
            ) -> Result<(Option<Date>, Option<Timestamp>)> {
                let last_day: Option<String> = sqlx::query_scalar(
                    "SELECT MAX(day) FROM (SELECT MAX(day) AS day FROM sales_history \
                     WHERE brand_id = $1 UNION ALL SELECT MAX(day) FROM till_sales \
                     WHERE brand_id = $1) AS d",
                )
                .bind(brand.as_str())
                .fetch_one(&self.read)
                .await?;
                let last_order: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(created_at) FROM orders WHERE brand_id = $1 AND channel <> $2",
                )
                .bind(brand.as_str())
                .bind(Channel::AfterSales.as_str())
                .fetch_one(&self.read)
                .await?;
                Ok((
                    last_day.as_deref().map(day).transpose()?,
                    last_order.map(ts).transpose()?,
                ))
            }

            async fn sales_lines(
                &self,
                brand: &BrandId,
                since: Date,
                since_at: Timestamp,
            ) -> Result<Vec<SalesLine>> {
                let mut out: Vec<SalesLine> = sqlx::query(
                    "SELECT id, day, product_id, selections, quantity, store_id, ticket FROM sales_history \
                     WHERE brand_id = $1 AND day >= $2 ORDER BY day, id",
                )
                .bind(brand.as_str())
                .bind(since.to_string())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(SalesLine {
                        id: text(r, "id")?,
                        when: SaleTime::Day(day(&text(r, "day")?)?),
                        product_id: text(r, "product_id")?,
                        selections: json(&text(r, "selections")?)?,
                        quantity: int(r, "quantity")?,
                        store_id: r.try_get("store_id")?,
                        ticket: r.try_get("ticket")?,
                    })
                })
                .collect::<Result<_>>()?;
                let tills = sqlx::query(
                    "SELECT id, day, store_id, ticket, lines FROM till_sales \
                     WHERE brand_id = $1 AND day >= $2 ORDER BY day, id",
                )
                .bind(brand.as_str())
                .bind(since.to_string())
                .fetch_all(&self.read)
                .await?;
                for r in &tills {
                    let sale = StoreSale {
                        id: text(r, "id")?,
                        day: day(&text(r, "day")?)?,
                        store_id: text(r, "store_id")?,
                        ticket: text(r, "ticket")?,
                        lines: json(&text(r, "lines")?)?,
                    };
                    out.extend(sale.sales_lines());
                }
                let orders = sqlx::query(
                    "SELECT o.id, o.created_at, o.store_id, l.line_no, l.product_id, l.selections, l.quantity \
                     FROM orders o JOIN order_lines l ON l.brand_id = o.brand_id \
                     AND l.order_id = o.id WHERE o.brand_id = $1 AND o.created_at >= $2 \
                     AND o.channel <> $3 ORDER BY o.created_at, o.id, l.line_no",
                )
                .bind(brand.as_str())
                .bind(since_at.as_millisecond())
                // Repairs and remakes are not demand.
                .bind(Channel::AfterSales.as_str())
                .fetch_all(&self.read)
                .await?;
                for r in &orders {
                    out.push(SalesLine {
                        id: format!("{}#{}", text(r, "id")?, int(r, "line_no")?),
                        when: SaleTime::At(ts(int(r, "created_at")?)?),
                        product_id: text(r, "product_id")?,
                        selections: json(&text(r, "selections")?)?,
                        quantity: int(r, "quantity")?,
                        store_id: r.try_get("store_id")?,
                        ticket: Some(text(r, "id")?),
                    });
                }
                Ok(out)
            }
        }
    };
}

pub(crate) use impl_planning;
