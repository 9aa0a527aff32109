//! Orders change: lines cancelled, and a line replaced by a changed one,
//! each with the order's new totals, timeline entry and event in one
//! transaction.

macro_rules! impl_changes {
    ($store:ty, $db:ty) => {
        /// The rows cancelling lines changes: the lines, their bookings and
        /// work orders, the order's requirements, totals and payment, and
        /// the bookings of other orders whose setup moved.
        async fn cancel_rows(tx: &mut Tx<'_>, brand: &BrandId, c: &LineCancellation) -> Result<()> {
            let b = brand.as_str();
            let o = c.order_id.as_str();
            for line in &c.lines {
                sqlx::query(
                    "DELETE FROM bookings WHERE brand_id = $1 AND order_id = $2 AND line_no = $3",
                )
                .bind(b)
                .bind(o)
                .bind(*line)
                .execute(&mut **tx)
                .await?;
                sqlx::query(
                    "UPDATE order_lines SET cancelled_at = $4 \
                         WHERE brand_id = $1 AND order_id = $2 AND line_no = $3",
                )
                .bind(b)
                .bind(o)
                .bind(*line)
                .bind(c.at.as_millisecond())
                .execute(&mut **tx)
                .await?;
            }
            for (wo, left) in &c.work_orders {
                sqlx::query(
                    "UPDATE work_orders SET quantity = $3, \
                         status = CASE WHEN $3 <= 0 THEN $4 ELSE status END \
                         WHERE brand_id = $1 AND id = $2",
                )
                .bind(b)
                .bind(wo.as_str())
                .bind((*left).max(0))
                .bind(WorkOrderStatus::Cancelled.as_str())
                .execute(&mut **tx)
                .await?;
            }
            // The order's whole list, as it now stands.
            sqlx::query("DELETE FROM material_requirements WHERE brand_id = $1 AND order_id = $2")
                .bind(b)
                .bind(o)
                .execute(&mut **tx)
                .await?;
            let reqs: Vec<Vec<Arg<'_>>> = c
                .requirements
                .iter()
                .map(|r| {
                    vec![
                        Arg::S(b),
                        Arg::S(o),
                        Arg::S(&r.material),
                        Arg::O(r.gross.to_string()),
                        Arg::O(r.allocated.to_string()),
                        Arg::O(r.shortage.to_string()),
                    ]
                })
                .collect();
            insert_rows(
                tx,
                "material_requirements (brand_id, order_id, material, \
                    gross, allocated, shortage)",
                reqs,
                "",
            )
            .await?;
            sqlx::query(
                "UPDATE orders SET total = $3, shipping = $4, tax = $5, \
                     status = COALESCE($6, status) WHERE brand_id = $1 AND id = $2",
            )
            .bind(b)
            .bind(o)
            .bind(c.total.to_string())
            .bind(c.shipping.to_string())
            .bind(c.tax.to_string())
            .bind(c.status.map(|s| s.as_str()))
            .execute(&mut **tx)
            .await?;
            if let Some(amount) = c.payment_amount {
                sqlx::query(
                    "UPDATE payments SET amount = $3, updated_at = $4, \
                         instructions = COALESCE($5, instructions) \
                         WHERE brand_id = $1 AND order_id = $2 AND status <> 'paid'",
                )
                .bind(b)
                .bind(o)
                .bind(amount.to_string())
                .bind(c.at.as_millisecond())
                .bind(c.payment_instructions.as_deref())
                .execute(&mut **tx)
                .await?;
            }
            update_bookings(tx, brand, &c.rebooked).await?;
            Ok(())
        }

        /// Cancels lines (see `OrderStore::cancel_lines`).
        async fn cancel(
            pool: &sqlx::Pool<$db>,
            leases: Option<&$crate::lease::Leases>,
            brand: &BrandId,
            c: &LineCancellation,
        ) -> Result<()> {
            let mut tx = pool.begin().await?;
            fence(&mut tx, leases, brand).await?;
            cancel_rows(&mut tx, brand, c).await?;
            let entry = TimelineEntry {
                id: TimelineEntryId::new(),
                status: if c.status.is_some() {
                    TimelineStatus::Cancelled
                } else {
                    TimelineStatus::Changed
                },
                note: c.note.clone(),
                at: c.at,
            };
            insert_timeline(&mut tx, brand, &c.order_id, &entry).await?;
            report_order(&mut tx, brand, &c.order_id, c.event, c.at).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Replaces a line (see `OrderStore::replace_line`).
        async fn replace(
            pool: &sqlx::Pool<$db>,
            leases: Option<&$crate::lease::Leases>,
            brand: &BrandId,
            c: &LineCancellation,
            new: &LineReplacement,
        ) -> Result<()> {
            use Arg::{I, S};
            let (b, o) = (brand.as_str(), c.order_id.as_str());
            let mut tx = pool.begin().await?;
            fence(&mut tx, leases, brand).await?;
            cancel_rows(&mut tx, brand, c).await?;
            insert_rows(&mut tx, LINE_COLUMNS, vec![line_args(b, o, &new.line)], "").await?;
            let created = c.at.as_millisecond();
            for w in &new.work_orders {
                match w {
                    WorkOrderWrite::Create {
                        id,
                        sku,
                        product_id,
                        quantity,
                        catalog_version,
                        operations,
                    } => {
                        let wo = vec![
                            S(b),
                            S(id.as_str()),
                            S(sku),
                            S(product_id),
                            I(*quantity),
                            S(WorkOrderStatus::Planned.as_str()),
                            I(created),
                            I(*catalog_version),
                        ];
                        insert_rows(
                            &mut tx,
                            "work_orders (brand_id, id, sku, product_id, \
                            quantity, status, created_at, catalog_version)",
                            vec![wo],
                            "",
                        )
                        .await?;
                        let ops = operations
                            .iter()
                            .map(|op| operation_args(b, id.as_str(), op))
                            .collect();
                        insert_rows(&mut tx, OPERATION_COLUMNS, ops, "").await?;
                    }
                    WorkOrderWrite::AddQuantity { id, quantity } => {
                        add_quantity(&mut tx, b, id, *quantity).await?;
                    }
                }
            }
            let bookings = new.bookings.iter().map(|k| booking_args(b, k)).collect();
            insert_rows(&mut tx, BOOKING_COLUMNS, bookings, "").await?;
            update_bookings(&mut tx, brand, &new.rebooked).await?;
            let sugs = new
                .suggestions
                .iter()
                .map(|p| suggestion_args(b, p))
                .collect();
            insert_rows(&mut tx, SUGGESTION_COLUMNS, sugs, "").await?;
            sqlx::query("UPDATE orders SET promised_date = $3 WHERE brand_id = $1 AND id = $2")
                .bind(b)
                .bind(o)
                .bind(new.promised_date.to_string())
                .execute(&mut *tx)
                .await?;
            let entry = TimelineEntry {
                id: TimelineEntryId::new(),
                status: TimelineStatus::Changed,
                note: c.note.clone(),
                at: c.at,
            };
            insert_timeline(&mut tx, brand, &c.order_id, &entry).await?;
            report_order(&mut tx, brand, &c.order_id, EventType::OrderChanged, c.at).await?;
            tx.commit().await?;
            Ok(())
        }
    };
}

pub(crate) use impl_changes;
