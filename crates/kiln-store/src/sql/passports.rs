//! Passport signing keys and units with their passports.

macro_rules! impl_passports {
    ($store:ty, $db:ty) => {
        const UNIT_COLUMNS: &str = "serial, work_order_id, order_id, line_no, product_id, sku, \
            made_at, kid, passport";

        fn unit_from(r: &<$db as sqlx::Database>::Row) -> Result<Unit> {
            Ok(Unit {
                serial: text(r, "serial")?,
                work_order_id: WorkOrderId::from(text(r, "work_order_id")?),
                order_id: OrderId::from(text(r, "order_id")?),
                line_no: int(r, "line_no")?,
                product_id: text(r, "product_id")?,
                sku: text(r, "sku")?,
                made_at: ts(int(r, "made_at")?)?,
                kid: text(r, "kid")?,
                passport: text(r, "passport")?,
            })
        }

        const CLAIM_COLUMNS: &str = "id, serial, order_id, kind, reason, parts, in_warranty, \
            status, note, work_order_id, created_at, decided_at, after_sales_order_id, \
            promised_date";

        fn claim_from(r: &<$db as sqlx::Database>::Row) -> Result<Claim> {
            Ok(Claim {
                id: ClaimId::from(text(r, "id")?),
                serial: text(r, "serial")?,
                order_id: OrderId::from(text(r, "order_id")?),
                kind: parsed(&text(r, "kind")?)?,
                reason: text(r, "reason")?,
                parts: json(&text(r, "parts")?)?,
                in_warranty: int(r, "in_warranty")? != 0,
                status: parsed(&text(r, "status")?)?,
                note: text(r, "note")?,
                work_order_id: r
                    .try_get::<Option<String>, _>("work_order_id")?
                    .map(WorkOrderId::from),
                created_at: ts(int(r, "created_at")?)?,
                decided_at: opt_ts(r.try_get("decided_at")?)?,
                after_sales_order_id: r
                    .try_get::<Option<String>, _>("after_sales_order_id")?
                    .map(OrderId::from),
                promised_date: r
                    .try_get::<Option<String>, _>("promised_date")?
                    .map(|d| day(&d))
                    .transpose()?,
            })
        }

        impl $store {
            async fn claims_where(
                &self,
                brand: &BrandId,
                column: &str,
                value: &str,
            ) -> Result<Vec<Claim>> {
                let sql = format!(
                    "SELECT {CLAIM_COLUMNS} FROM claims WHERE brand_id = $1 AND {column} = $2 \
                     ORDER BY created_at, id"
                );
                sqlx::query(&sql)
                    .bind(brand.as_str())
                    .bind(value)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(claim_from)
                    .collect()
            }

            async fn units_where(
                &self,
                brand: &BrandId,
                column: &str,
                value: &str,
            ) -> Result<Vec<Unit>> {
                let sql = format!(
                    "SELECT {UNIT_COLUMNS} FROM units WHERE brand_id = $1 AND {column} = $2 \
                     ORDER BY serial"
                );
                sqlx::query(&sql)
                    .bind(brand.as_str())
                    .bind(value)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(unit_from)
                    .collect()
            }
        }

        #[async_trait::async_trait]
        impl $crate::PassportStore for $store {
            async fn passport_keys(&self, brand: &BrandId) -> Result<Vec<(PassportKey, String)>> {
                sqlx::query(
                    "SELECT kid, public_key, secret, created_at, revoked_at FROM passport_keys \
                     WHERE brand_id = $1 ORDER BY created_at, kid",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok((
                        PassportKey {
                            kid: text(r, "kid")?,
                            public_key: text(r, "public_key")?,
                            created_at: ts(int(r, "created_at")?)?,
                            revoked_at: opt_ts(r.try_get("revoked_at")?)?,
                        },
                        text(r, "secret")?,
                    ))
                })
                .collect()
            }

            async fn add_passport_key(
                &self,
                brand: &BrandId,
                key: &PassportKey,
                secret: &str,
                entry: Option<&AuditEntry>,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO passport_keys (brand_id, kid, public_key, secret, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(&key.kid)
                .bind(&key.public_key)
                .bind(secret)
                .bind(key.created_at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                if let Some(entry) = entry {
                    audit(&mut tx, entry).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn revoke_passport_key(
                &self,
                brand: &BrandId,
                kid: &str,
                at: Timestamp,
                entry: &AuditEntry,
            ) -> Result<bool> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE passport_keys SET revoked_at = $1 \
                     WHERE brand_id = $2 AND kid = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(kid)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if done != 1 {
                    return Ok(false);
                }
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn add_units(&self, brand: &BrandId, units: &[Unit]) -> Result<()> {
                use Arg::{I, S};
                let b = brand.as_str();
                let rows = units
                    .iter()
                    .map(|u| {
                        vec![
                            S(b),
                            S(&u.serial),
                            S(u.work_order_id.as_str()),
                            S(u.order_id.as_str()),
                            I(u.line_no),
                            S(&u.product_id),
                            S(&u.sku),
                            I(u.made_at.as_millisecond()),
                            S(&u.kid),
                            S(&u.passport),
                        ]
                    })
                    .collect();
                let mut tx = self.write.begin().await?;
                insert_rows(
                    &mut tx,
                    "units (brand_id, serial, work_order_id, order_id, line_no, product_id, sku, \
                     made_at, kid, passport)",
                    rows,
                    "",
                )
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn unit(&self, brand: &BrandId, serial: &str) -> Result<Option<Unit>> {
                Ok(self
                    .units_where(brand, "serial", serial)
                    .await?
                    .into_iter()
                    .next())
            }

            async fn brands_with_unit(&self, serial: &str) -> Result<Vec<Brand>> {
                sqlx::query(
                    "SELECT b.id, b.slug, b.name FROM units u JOIN brands b ON b.id = u.brand_id \
                     WHERE u.serial = $1 ORDER BY b.slug",
                )
                .bind(serial)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(brand_from)
                .collect()
            }

            async fn units_of_work_order(
                &self,
                brand: &BrandId,
                wo: &WorkOrderId,
            ) -> Result<Vec<Unit>> {
                self.units_where(brand, "work_order_id", wo.as_str()).await
            }

            async fn units_of_order(&self, brand: &BrandId, order: &OrderId) -> Result<Vec<Unit>> {
                self.units_where(brand, "order_id", order.as_str()).await
            }

            async fn units(&self, brand: &BrandId) -> Result<Vec<Unit>> {
                self.units_where(brand, "brand_id", brand.as_str()).await
            }

            async fn claims(&self, brand: &BrandId) -> Result<Vec<Claim>> {
                self.claims_where(brand, "brand_id", brand.as_str()).await
            }

            async fn add_claim(
                &self,
                brand: &BrandId,
                claim: &Claim,
                entry: &TimelineEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                sqlx::query(
                    "INSERT INTO claims (brand_id, id, serial, order_id, kind, reason, parts, \
                     in_warranty, status, note, work_order_id, created_at, decided_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, NULL)",
                )
                .bind(brand.as_str())
                .bind(claim.id.as_str())
                .bind(&claim.serial)
                .bind(claim.order_id.as_str())
                .bind(claim.kind.as_str())
                .bind(&claim.reason)
                .bind($crate::sql::to_json(&claim.parts))
                .bind(i64::from(claim.in_warranty))
                .bind(claim.status.as_str())
                .bind(&claim.note)
                .bind(claim.created_at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                insert_timeline(&mut tx, brand, &claim.order_id, entry).await?;
                let event = PlatformEvent::new(brand, EventType::ClaimOpened, entry.at, claim);
                outbox(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn claim(&self, brand: &BrandId, id: &ClaimId) -> Result<Option<Claim>> {
                Ok(self.claims_where(brand, "id", id.as_str()).await?.into_iter().next())
            }

            async fn claims_of_unit(&self, brand: &BrandId, serial: &str) -> Result<Vec<Claim>> {
                self.claims_where(brand, "serial", serial).await
            }

            async fn claims_of_work_order(
                &self,
                brand: &BrandId,
                wo: &WorkOrderId,
            ) -> Result<Vec<Claim>> {
                self.claims_where(brand, "work_order_id", wo.as_str()).await
            }

            async fn decide_claim(
                &self,
                brand: &BrandId,
                claim: &Claim,
                entry: &TimelineEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let decided = sqlx::query(
                    "UPDATE claims SET status = $1, note = $2, work_order_id = $3, decided_at = $4, \
                     after_sales_order_id = $5, promised_date = $6 \
                     WHERE brand_id = $7 AND id = $8 AND status = $9",
                )
                .bind(claim.status.as_str())
                .bind(&claim.note)
                .bind(claim.work_order_id.as_ref().map(|w| w.as_str().to_string()))
                .bind(claim.decided_at.map(|t| t.as_millisecond()))
                .bind(claim.after_sales_order_id.as_ref().map(|o| o.as_str().to_string()))
                .bind(claim.promised_date.map(|d| d.to_string()))
                .bind(brand.as_str())
                .bind(claim.id.as_str())
                .bind(ClaimStatus::Open.as_str())
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if decided != 1 {
                    return Err(StoreError::Conflict(format!(
                        "claim {} was decided already",
                        claim.id
                    )));
                }
                insert_timeline(&mut tx, brand, &claim.order_id, entry).await?;
                let event = PlatformEvent::new(brand, EventType::ClaimDecided, entry.at, claim);
                outbox(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn work_orders_without_units(&self, brand: &BrandId) -> Result<Vec<WorkOrderId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT w.id FROM work_orders w WHERE w.brand_id = $1 AND w.status = $2 \
                     AND EXISTS (SELECT 1 FROM order_lines l WHERE l.brand_id = w.brand_id \
                     AND l.work_order_id = w.id) \
                     AND NOT EXISTS (SELECT 1 FROM units u WHERE u.brand_id = w.brand_id \
                     AND u.work_order_id = w.id) \
                     AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.brand_id = w.brand_id \
                     AND c.work_order_id = w.id AND c.status = $3) ORDER BY w.created_at, w.id",
                )
                .bind(brand.as_str())
                .bind(WorkOrderStatus::Done.as_str())
                .bind(ClaimStatus::Repair.as_str())
                .fetch_all(&self.read)
                .await?;
                Ok(ids.into_iter().map(WorkOrderId::from).collect())
            }
        }
    };
}

pub(crate) use impl_passports;
