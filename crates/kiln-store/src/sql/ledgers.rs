//! Each material's first-in-first-out sequence (`material_ledgers`, and a
//! `position` on every stock move), kept as moves are written: how much has
//! been consumed and supplied so far, and where each move starts in its
//! sequence. Tracing a unit to its lots then reads its order's moves and the
//! receipts, never the material's whole history.
//!
//! Positions are handed out under the material's ledger row: the single
//! writer on SQLite, a row lock (`FOR UPDATE`) on PostgreSQL, so two
//! transactions never give out the same stretch.

macro_rules! impl_ledgers {
    ($store:ty, $db:ty, $backend:literal) => {
        /// A consumption move's id: one per order and material.
        fn consumption_id(order: &str, material: &str) -> String {
            format!("mov_{order}_{material}")
        }

        /// The ledger rows of `materials` as `(consumed, supplied)`, locked
        /// until the transaction ends (created at zero where missing).
        async fn lock_ledgers(
            tx: &mut Tx<'_>,
            brand: &str,
            materials: &[&str],
        ) -> Result<std::collections::HashMap<String, (Decimal, Decimal)>> {
            use Arg::S;
            let rows = materials
                .iter()
                .map(|m| vec![S(brand), S(m), S("0"), S("0")])
                .collect();
            insert_rows(
                tx,
                "material_ledgers (brand_id, material, consumed, supplied)",
                rows,
                " ON CONFLICT (brand_id, material) DO NOTHING",
            )
            .await?;
            let lock = if $backend == "postgres" { " FOR UPDATE" } else { "" };
            let rows = sqlx::query(&format!(
                "SELECT material, consumed, supplied FROM material_ledgers \
                 WHERE brand_id = $1 AND material {} ORDER BY material{lock}",
                $crate::sql::in_json($backend, 2)
            ))
            .bind(brand)
            .bind($crate::sql::to_json(&materials))
            .fetch_all(&mut **tx)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok((
                        text(r, "material")?,
                        (dec(&text(r, "consumed")?)?, dec(&text(r, "supplied")?)?),
                    ))
                })
                .collect()
        }

        /// Writes the ledgers' new totals (rows locked by [`lock_ledgers`]).
        async fn save_ledgers(
            tx: &mut Tx<'_>,
            brand: &str,
            totals: &std::collections::HashMap<String, (Decimal, Decimal)>,
        ) -> Result<()> {
            for (material, (consumed, supplied)) in totals {
                sqlx::query(
                    "UPDATE material_ledgers SET consumed = $1, supplied = $2 \
                     WHERE brand_id = $3 AND material = $4",
                )
                .bind(consumed.to_string())
                .bind(supplied.to_string())
                .bind(brand)
                .bind(material)
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        /// Made orders' materials leave stock: one consumption move per
        /// requirement not consumed yet (which then stops counting as
        /// allocated), placed in order of the orders' ids after everything
        /// consumed before. Returns `(material, quantity)` per move.
        async fn consume_orders(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            orders: &[&OrderId],
            at: Timestamp,
        ) -> Result<Vec<(String, Decimal)>> {
            use Arg::{I, O, S};
            if orders.is_empty() {
                return Ok(Vec::new());
            }
            let b = brand.as_str();
            let ids: Vec<&str> = orders.iter().map(|o| o.as_str()).collect();
            let rows = sqlx::query(&format!(
                "SELECT order_id, material, gross FROM material_requirements \
                 WHERE brand_id = $1 AND order_id {} AND consumed_at IS NULL \
                 ORDER BY order_id, material",
                $crate::sql::in_json($backend, 2)
            ))
            .bind(b)
            .bind($crate::sql::to_json(&ids))
            .fetch_all(&mut **tx)
            .await?;
            let mut needs = Vec::with_capacity(rows.len());
            for r in &rows {
                needs.push((text(r, "order_id")?, text(r, "material")?, dec(&text(r, "gross")?)?));
            }
            let mut materials: Vec<&str> = needs.iter().map(|(_, m, _)| m.as_str()).collect();
            materials.sort_unstable();
            materials.dedup();
            let mut totals = lock_ledgers(tx, b, &materials).await?;
            let at_ms = at.as_millisecond();
            let mut moves = Vec::with_capacity(needs.len());
            let mut out = Vec::with_capacity(needs.len());
            for (order, material, gross) in &needs {
                let total = totals.entry(material.clone()).or_default();
                let position = total.0;
                total.0 += *gross;
                moves.push(vec![
                    S(b),
                    O(consumption_id(order, material)),
                    S(material),
                    O((-*gross).to_string()),
                    S(StockMoveKind::Consumption.as_str()),
                    S(order),
                    I(at_ms),
                    O(position.to_string()),
                ]);
                out.push((material.clone(), *gross));
            }
            insert_rows(
                tx,
                "stock_moves (brand_id, id, material, qty, kind, reference, at, position)",
                moves,
                "",
            )
            .await?;
            save_ledgers(tx, b, &totals).await?;
            sqlx::query(&format!(
                "UPDATE material_requirements SET consumed_at = $1 \
                 WHERE brand_id = $2 AND order_id {} AND consumed_at IS NULL",
                $crate::sql::in_json($backend, 3)
            ))
            .bind(at_ms)
            .bind(b)
            .bind($crate::sql::to_json(&ids))
            .execute(&mut **tx)
            .await?;
            Ok(out)
        }

        /// A received purchase enters stock, placed after all supply so far.
        async fn receive_into_stock(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            suggestion: &PurchaseSuggestion,
            at: Timestamp,
        ) -> Result<()> {
            let b = brand.as_str();
            let mut totals = lock_ledgers(tx, b, &[suggestion.material.as_str()]).await?;
            let total = totals.entry(suggestion.material.clone()).or_default();
            let position = total.1;
            total.1 += suggestion.qty.max(Decimal::ZERO);
            sqlx::query(
                "INSERT INTO stock_moves (brand_id, id, material, qty, kind, reference, at, position) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(b)
            .bind(format!("mov_{}", suggestion.id))
            .bind(&suggestion.material)
            .bind(suggestion.qty.to_string())
            .bind(StockMoveKind::Receipt.as_str())
            .bind(suggestion.id.as_str())
            .bind(at.as_millisecond())
            .bind(position.to_string())
            .execute(&mut **tx)
            .await?;
            save_ledgers(tx, b, &totals).await
        }

        /// One material's ledger: what has been consumed so far, every
        /// receipt, and the consumption of `orders`.
        async fn read_ledger(
            pool: &sqlx::Pool<$db>,
            brand: &BrandId,
            material: &str,
            orders: &[&OrderId],
        ) -> Result<MaterialLedger> {
            let b = brand.as_str();
            let mut conn = pool.acquire().await?;
            let consumed: Option<String> = sqlx::query_scalar(
                "SELECT consumed FROM material_ledgers WHERE brand_id = $1 AND material = $2",
            )
            .bind(b)
            .bind(material)
            .fetch_optional(&mut *conn)
            .await?;
            let placed = |r: &DbRow, sign: Decimal| -> Result<PlacedMove> {
                let position: Option<String> = r.try_get("position")?;
                Ok(PlacedMove {
                    reference: text(r, "reference")?,
                    at: ts(int(r, "at")?)?,
                    position: dec(position.as_deref().unwrap_or("0"))?,
                    qty: dec(&text(r, "qty")?)? * sign,
                })
            };
            let receipts = sqlx::query(
                "SELECT reference, at, position, qty FROM stock_moves \
                 WHERE brand_id = $1 AND material = $2 AND kind = 'receipt' ORDER BY at, id",
            )
            .bind(b)
            .bind(material)
            .fetch_all(&mut *conn)
            .await?;
            let ids: Vec<String> =
                orders.iter().map(|o| consumption_id(o.as_str(), material)).collect();
            let consumption = sqlx::query(&format!(
                "SELECT reference, at, position, qty FROM stock_moves \
                 WHERE brand_id = $1 AND id {} ORDER BY at, id",
                $crate::sql::in_json($backend, 2)
            ))
            .bind(b)
            .bind($crate::sql::to_json(&ids))
            .fetch_all(&mut *conn)
            .await?;
            Ok(MaterialLedger {
                consumed: consumed.as_deref().map(dec).transpose()?.unwrap_or_default(),
                receipts: receipts
                    .iter()
                    .map(|r| placed(r, Decimal::ONE))
                    .collect::<Result<_>>()?,
                consumption: consumption
                    .iter()
                    .map(|r| placed(r, -Decimal::ONE))
                    .collect::<Result<_>>()?,
            })
        }

        /// Gives the moves written before ledgers existed their positions,
        /// in the order lots were told then (by time, then id), and each
        /// material its ledger row. Run once, in the migration's transaction.
        async fn backfill_ledgers(tx: &mut Tx<'_>) -> Result<()> {
            let rows = sqlx::query(
                "SELECT brand_id, id, material, qty, kind FROM stock_moves \
                 ORDER BY brand_id, material, at, id",
            )
            .fetch_all(&mut **tx)
            .await?;
            let mut totals: std::collections::BTreeMap<(String, String), (Decimal, Decimal)> =
                Default::default();
            for r in &rows {
                let (b, id, material) = (text(r, "brand_id")?, text(r, "id")?, text(r, "material")?);
                let qty = dec(&text(r, "qty")?)?;
                let kind: StockMoveKind = parsed(&text(r, "kind")?)?;
                let total = totals.entry((b.clone(), material)).or_default();
                let position = match kind {
                    StockMoveKind::Consumption => {
                        let p = total.0;
                        total.0 += -qty;
                        p
                    }
                    StockMoveKind::Receipt => {
                        let p = total.1;
                        total.1 += qty.max(Decimal::ZERO);
                        p
                    }
                };
                sqlx::query("UPDATE stock_moves SET position = $1 WHERE brand_id = $2 AND id = $3")
                    .bind(position.to_string())
                    .bind(&b)
                    .bind(&id)
                    .execute(&mut **tx)
                    .await?;
            }
            for ((b, material), (consumed, supplied)) in totals {
                sqlx::query(
                    "INSERT INTO material_ledgers (brand_id, material, consumed, supplied) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&b)
                .bind(&material)
                .bind(consumed.to_string())
                .bind(supplied.to_string())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }
    };
}

pub(crate) use impl_ledgers;
