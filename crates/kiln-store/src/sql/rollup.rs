//! Many orders at once, as a work order's step rolls up into every order it
//! serves: moved to a status with their timeline entries and events in a
//! few statements, whatever their number (read back by `reading.rs`).
//! A work order of hundreds of lines used to hold the single writer for
//! some twenty statements per order.

macro_rules! impl_rollup {
    ($store:ty, $db:ty, $backend:literal) => {
        /// Moves `orders` to `status`, each with a timeline entry, and
        /// reports each (`order.status_changed`, the order as it now stands),
        /// as `set_order_status` does for one.
        async fn set_orders_status(
            tx: &mut Tx<'_>,
            brand_id: &BrandId,
            orders: &[&OrderId],
            status: OrderStatus,
            note: &str,
            at: Timestamp,
        ) -> Result<()> {
            use Arg::{I, O, S};
            if orders.is_empty() {
                return Ok(());
            }
            let b = brand_id.as_str();
            let list = $crate::sql::to_json(&orders.iter().map(|i| i.as_str()).collect::<Vec<_>>());
            sqlx::query(&format!(
                "UPDATE orders SET status = $1 WHERE brand_id = $2 AND id {}",
                $crate::sql::in_json($backend, 3)
            ))
            .bind(status.as_str())
            .bind(b)
            .bind(&list)
            .execute(&mut **tx)
            .await?;
            let timeline_status = status.timeline_status();
            let entries = orders
                .iter()
                .map(|o| {
                    vec![
                        S(b),
                        S(o.as_str()),
                        O(TimelineEntryId::new().to_string()),
                        S(timeline_status.as_str()),
                        S(note),
                        I(at.as_millisecond()),
                    ]
                })
                .collect();
            insert_rows(
                tx,
                "order_events (brand_id, order_id, id, status, note, at)",
                entries,
                "",
            )
            .await?;
            let events: Vec<PlatformEvent> = load_orders_in(&mut **tx, brand_id, orders)
                .await?
                .iter()
                .map(|o| PlatformEvent::new(brand_id, EventType::OrderStatusChanged, at, o))
                .collect();
            if events.len() != orders.len() {
                return Err(StoreError::NotFound);
            }
            outbox(tx, &events).await
        }

        /// A work order's step, rolled up into the orders it serves
        /// (`affected`, with their statuses): a planned order goes into
        /// production; one whose every line's work order is done is made,
        /// and consumes its materials. Returns each order's moves, in order,
        /// and what was consumed.
        async fn roll_up(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            affected: &[(OrderId, OrderStatus)],
            at: Timestamp,
        ) -> Result<(Vec<(OrderId, OrderStatus)>, Vec<(String, Decimal)>)> {
            if affected.is_empty() {
                return Ok((Vec::new(), Vec::new()));
            }
            let ids: Vec<&str> = affected.iter().map(|(o, _)| o.as_str()).collect();
            let mut unfinished = std::collections::HashMap::new();
            for row in sqlx::query(&format!(
                "SELECT l.order_id, COUNT(*) AS n FROM order_lines l JOIN work_orders w \
                 ON w.brand_id = l.brand_id AND w.id = l.work_order_id \
                 WHERE l.brand_id = $1 AND l.order_id {} AND w.status <> $3 \
                 AND l.cancelled_at IS NULL GROUP BY l.order_id",
                $crate::sql::in_json($backend, 2)
            ))
            .bind(brand.as_str())
            .bind($crate::sql::to_json(&ids))
            .bind(WorkOrderStatus::Done.as_str())
            .fetch_all(&mut **tx)
            .await?
            {
                unfinished.insert(text(&row, "order_id")?, int(&row, "n")?);
            }
            let (mut moved, mut started, mut made) = (Vec::new(), Vec::new(), Vec::new());
            for (order, status) in affected {
                if *status == OrderStatus::Planned {
                    started.push(order);
                    moved.push((order.clone(), OrderStatus::InProduction));
                }
                let done = unfinished.get(order.as_str()).copied().unwrap_or(0) == 0;
                if done && matches!(status, OrderStatus::Planned | OrderStatus::InProduction) {
                    made.push(order);
                    moved.push((order.clone(), OrderStatus::Made));
                }
            }
            let started_note = "production started";
            set_orders_status(
                tx,
                brand,
                &started,
                OrderStatus::InProduction,
                started_note,
                at,
            )
            .await?;
            let made_note = "all items made; ready to ship";
            set_orders_status(tx, brand, &made, OrderStatus::Made, made_note, at).await?;
            let consumed = consume_orders(tx, brand, &made, at).await?;
            Ok((moved, consumed))
        }
    };
}

pub(crate) use impl_rollup;
