//! Orders (written in groups by `writing.rs`: one transaction for many),
//! customers, payments, and the storefront's designs, carts and stores.

macro_rules! impl_orders {
    ($store:ty, $db:ty, $backend:literal) => {
        #[async_trait::async_trait]
        impl $crate::OrderStore for $store {
            async fn order_by_idempotency_key(
                &self,
                brand: &BrandId,
                key: &str,
            ) -> Result<Option<Order>> {
                let found = sqlx::query(
                    "SELECT order_id FROM order_keys WHERE brand_id = $1 AND idempotency_key = $2",
                )
                .bind(brand.as_str())
                .bind(key)
                .fetch_optional(&self.read)
                .await?;
                match found {
                    Some(row) => self.load_order(brand, "o.id", &text(&row, "order_id")?).await,
                    None => Ok(None),
                }
            }

            async fn place_orders(&self, orders: &[NewOrder]) -> Vec<Result<Placed>> {
                // One transaction for the whole batch: the commit is the
                // expensive part, and it is shared. If anything in the batch
                // fails, each order is retried alone so one bad order cannot
                // sink the others.
                if orders.len() > 1 {
                    if let Ok(placed) = self.write_batch(orders).await {
                        return placed;
                    }
                }
                let mut out = Vec::with_capacity(orders.len());
                for order in orders {
                    out.push(match self.write_batch(std::slice::from_ref(order)).await {
                        Ok(mut placed) => placed.pop().unwrap_or_else(|| {
                            Err(StoreError::Conflict("nothing was written".into()))
                        }),
                        Err(e) => match &order.idempotency_key {
                            // Lost a race with the same key: the winner stands.
                            Some(key) => {
                                match self.order_by_idempotency_key(&order.brand_id, key).await {
                                    Ok(Some(existing)) => {
                                        Ok(Placed::Existing { order_id: existing.id })
                                    }
                                    _ => Err(e),
                                }
                            }
                            None => Err(e),
                        },
                    });
                }
                out
            }

            async fn stage_order_rows(
                &self,
                brand: &BrandId,
                order: &OrderId,
                lines: &[OrderLine],
                bookings: &[BookingRow],
                work_orders: &[WorkOrderWrite],
                created_at: Timestamp,
            ) -> Result<()> {
                let b = brand.as_str();
                // Checked before anything is written.
                let created = work_orders
                    .iter()
                    .map(|w| match w {
                        WorkOrderWrite::Create { id, sku, product_id, quantity, catalog_version, operations } => {
                            Ok((id, sku, product_id, *quantity, *catalog_version, operations))
                        }
                        WorkOrderWrite::AddQuantity { id, .. } => Err(StoreError::Conflict(format!(
                            "work order {id} is already stored: quantity added to it is written with the order"
                        ))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                sqlx::query(
                    "INSERT INTO staged_orders (brand_id, order_id, started_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (brand_id, order_id) DO NOTHING",
                )
                .bind(b)
                .bind(order.as_str())
                .bind(Timestamp::now().as_millisecond())
                .execute(&mut *tx)
                .await?;
                let rows = lines.iter().map(|l| line_args(b, order.as_str(), l)).collect();
                insert_rows(&mut tx, LINE_COLUMNS, rows, "").await?;
                let rows = bookings.iter().map(|k| booking_args(b, k)).collect();
                insert_rows(&mut tx, BOOKING_COLUMNS, rows, "").await?;
                let (mut wos, mut ops) = (Vec::new(), Vec::new());
                for (id, sku, product_id, quantity, catalog_version, operations) in created {
                    use Arg::{I, S};
                    wos.push(vec![
                        S(b), S(id.as_str()), S(sku), S(product_id), I(quantity),
                        S(WorkOrderStatus::Planned.as_str()), I(created_at.as_millisecond()), I(catalog_version),
                        S(order.as_str()),
                    ]);
                    for op in operations {
                        ops.push(operation_args(b, id.as_str(), op));
                    }
                }
                insert_rows(&mut tx, "work_orders (brand_id, id, sku, product_id, quantity, \
                    status, created_at, catalog_version, staged_order_id)", wos, "").await?;
                insert_rows(&mut tx, OPERATION_COLUMNS, ops, "").await?;
                tx.commit().await?;
                Ok(())
            }

            async fn discard_staged(&self, brand: &BrandId, order: Option<&OrderId>) -> Result<u64> {
                let b = brand.as_str();
                let mut tx = self.write.begin().await?;
                fence(&mut tx, self.leases.as_deref(), brand).await?;
                // Only orders never written: the order's own transaction
                // deletes its row here first. Deleting the row before the
                // rows it names waits, on PostgreSQL, for an order claiming
                // it right now, and then finds nothing.
                let staged: Vec<String> = sqlx::query_scalar(
                    "DELETE FROM staged_orders AS s WHERE s.brand_id = $1 \
                     AND (s.order_id = $2 OR $2 = '') AND NOT EXISTS \
                     (SELECT 1 FROM orders o WHERE o.brand_id = s.brand_id AND o.id = s.order_id) \
                     RETURNING order_id",
                )
                .bind(b)
                .bind(order.map(|o| o.as_str()).unwrap_or(""))
                .fetch_all(&mut *tx)
                .await?;
                for id in &staged {
                    for sql in [
                        "DELETE FROM order_lines WHERE brand_id = $1 AND order_id = $2",
                        "DELETE FROM bookings WHERE brand_id = $1 AND order_id = $2",
                        "DELETE FROM work_order_operations AS o WHERE o.brand_id = $1 AND \
                         o.work_order_id IN (SELECT w.id FROM work_orders w \
                         WHERE w.brand_id = $1 AND w.staged_order_id = $2)",
                        "DELETE FROM work_orders WHERE brand_id = $1 AND staged_order_id = $2",
                    ] {
                        sqlx::query(sql).bind(b).bind(id).execute(&mut *tx).await?;
                    }
                }
                tx.commit().await?;
                Ok(staged.len() as u64)
            }

            async fn cancel_lines(&self, brand: &BrandId, c: &LineCancellation) -> Result<()> {
                cancel(&self.write, self.leases.as_deref(), brand, c).await
            }

            async fn replace_line(
                &self,
                brand: &BrandId,
                c: &LineCancellation,
                new: &LineReplacement,
            ) -> Result<()> {
                replace(&self.write, self.leases.as_deref(), brand, c, new).await
            }

            async fn order(&self, brand: &BrandId, order: &OrderId) -> Result<Option<Order>> {
                self.load_order(brand, "o.id", order.as_str()).await
            }

            async fn orders_by_id(&self, brand: &BrandId, orders: &[&OrderId]) -> Result<Vec<Order>> {
                let mut conn = self.read.acquire().await?;
                load_orders_in(&mut conn, brand, orders).await
            }

            async fn orders(
                &self,
                brand: &BrandId,
                query: &OrderQuery,
            ) -> Result<Vec<OrderSummary>> {
                // Every filter keeps its parameter; an unused one compares to itself.
                let on = |set: bool, sql: &'static str, unused: &'static str| {
                    if set { sql } else { unused }
                };
                let sql = format!(
                    "SELECT o.id, c.email, o.customer_verified, o.channel, o.store_id, o.status, \
                     o.total, o.currency, o.promised_date, o.created_at FROM orders o JOIN customers c \
                     ON c.brand_id = o.brand_id AND c.id = o.customer_id \
                     WHERE o.brand_id = $1 AND {} AND {} AND {} AND {} \
                     ORDER BY o.created_at DESC, o.id DESC LIMIT $6",
                    on(query.customer_email.is_some(), "c.email = $2", "$2 = $2"),
                    on(query.status.is_some(), "o.status = $3", "$3 = $3"),
                    on(query.channel.is_some(), "o.channel = $4", "$4 = $4"),
                    on(
                        query.before.is_some(),
                        "(o.created_at, o.id) < (SELECT b.created_at, b.id FROM orders b \
                         WHERE b.brand_id = $1 AND b.id = $5)",
                        "$5 = $5",
                    ),
                );
                sqlx::query(&sql)
                    .bind(brand.as_str())
                    .bind(query.customer_email.as_deref().unwrap_or(""))
                    .bind(query.status.map(|s| s.as_str()).unwrap_or(""))
                    .bind(query.channel.map(|c| c.as_str()).unwrap_or(""))
                    .bind(query.before.as_ref().map(|b| b.as_str()).unwrap_or(""))
                    .bind(query.limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(OrderSummary {
                            id: OrderId::from(text(r, "id")?),
                            customer_email: text(r, "email")?,
                            customer_verified: int(r, "customer_verified")? != 0,
                            channel: parsed(&text(r, "channel")?)?,
                            store_id: r.try_get("store_id")?,
                            status: parsed(&text(r, "status")?)?,
                            total: dec(&text(r, "total")?)?,
                            currency: text(r, "currency")?,
                            promised_date: day(&text(r, "promised_date")?)?,
                            created_at: ts(int(r, "created_at")?)?,
                        })
                    })
                    .collect()
            }

            async fn requirements(&self, brand: &BrandId) -> Result<Vec<Requirement>> {
                sqlx::query(
                    "SELECT material, gross, allocated, shortage FROM material_requirements \
                     WHERE brand_id = $1 AND consumed_at IS NULL",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(requirement_from)
                .collect()
            }

            async fn find_customers(&self, brand: &BrandId, query: &str) -> Result<Vec<Customer>> {
                let q = crate::search::CustomerQuery::new(query);
                sqlx::query(
                    "SELECT id AS customer_id, email, name AS customer_name, phone FROM customers \
                     WHERE brand_id = $1 AND (email = $2 OR phone = $3 \
                       OR ($4 <> '' AND (LOWER(name) LIKE $4 ESCAPE '\\' OR email LIKE $4 ESCAPE '\\')) \
                       OR ($5 <> '' AND REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(REPLACE(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''), '+', '') LIKE $5)) \
                     ORDER BY (email = $2) DESC, email LIMIT 20",
                )
                .bind(brand.as_str())
                .bind(q.exact_email)
                .bind(q.exact_phone)
                .bind(q.contains)
                .bind(q.phone_suffix)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(customer_from)
                .collect()
            }

            async fn set_payment_status(
                &self,
                brand: &BrandId,
                order: &OrderId,
                status: PaymentStatus,
                at: Timestamp,
            ) -> Result<()> {
                let done = sqlx::query(
                    "UPDATE payments SET status = $1, updated_at = $2 \
                     WHERE brand_id = $3 AND order_id = $4",
                )
                .bind(status.as_str())
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(order.as_str())
                .execute(&self.write)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            }

            async fn save_design(&self, brand: &BrandId, design: &Design) -> Result<()> {
                sqlx::query(
                    "INSERT INTO designs (brand_id, code, product_id, selections, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(&design.code)
                .bind(&design.product_id)
                .bind($crate::sql::to_json(&design.selections))
                .bind(design.created_at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn design(&self, brand: &BrandId, code: &str) -> Result<Option<Design>> {
                let row = sqlx::query(
                    "SELECT code, product_id, selections, created_at FROM designs \
                     WHERE brand_id = $1 AND code = $2",
                )
                .bind(brand.as_str())
                .bind(code)
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| {
                    Ok(Design {
                        code: text(&r, "code")?,
                        product_id: text(&r, "product_id")?,
                        selections: json(&text(&r, "selections")?)?,
                        created_at: ts(int(&r, "created_at")?)?,
                    })
                })
                .transpose()
            }

            async fn cart(&self, brand: &BrandId, cart_id: &str) -> Result<Option<String>> {
                Ok(sqlx::query_scalar("SELECT lines FROM carts WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(cart_id)
                    .fetch_optional(&self.read)
                    .await?)
            }

            async fn put_cart(
                &self,
                brand: &BrandId,
                cart_id: &str,
                lines: &str,
                at: Timestamp,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO carts (brand_id, id, lines, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (brand_id, id) DO UPDATE SET lines = excluded.lines, \
                     updated_at = excluded.updated_at",
                )
                .bind(brand.as_str())
                .bind(cart_id)
                .bind(lines)
                .bind(at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn delete_cart(&self, brand: &BrandId, cart_id: &str) -> Result<()> {
                sqlx::query("DELETE FROM carts WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(cart_id)
                    .execute(&self.write)
                    .await?;
                Ok(())
            }

            async fn put_store(&self, brand: &BrandId, store: &StoreLocation) -> Result<()> {
                sqlx::query(
                    "INSERT INTO stores (brand_id, id, name, address) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (brand_id, id) DO UPDATE SET name = excluded.name, \
                     address = excluded.address",
                )
                .bind(brand.as_str())
                .bind(&store.id)
                .bind(&store.name)
                .bind($crate::sql::to_json(&store.address))
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn stores(&self, brand: &BrandId) -> Result<Vec<StoreLocation>> {
                sqlx::query("SELECT id, name, address FROM stores WHERE brand_id = $1 ORDER BY name")
                    .bind(brand.as_str())
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(StoreLocation {
                            id: text(r, "id")?,
                            name: text(r, "name")?,
                            address: json(&text(r, "address")?)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use impl_orders;
