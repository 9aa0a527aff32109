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

        impl $store {
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
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO passport_keys (brand_id, kid, public_key, secret, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(&key.kid)
                .bind(&key.public_key)
                .bind(secret)
                .bind(key.created_at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
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

            async fn work_orders_without_units(&self, brand: &BrandId) -> Result<Vec<WorkOrderId>> {
                let ids: Vec<String> = sqlx::query_scalar(
                    "SELECT w.id FROM work_orders w WHERE w.brand_id = $1 AND w.status = $2 \
                     AND NOT EXISTS (SELECT 1 FROM units u WHERE u.brand_id = w.brand_id \
                     AND u.work_order_id = w.id) ORDER BY w.created_at, w.id",
                )
                .bind(brand.as_str())
                .bind(WorkOrderStatus::Done.as_str())
                .fetch_all(&self.read)
                .await?;
                Ok(ids.into_iter().map(WorkOrderId::from).collect())
            }
        }
    };
}

pub(crate) use impl_passports;
