//! Bulk quotes: stored whole (as JSON) with who is accepting them; and
//! business customers.

macro_rules! impl_bulk {
    ($store:ty, $db:ty) => {
        fn business_customer_from(r: &<$db as sqlx::Database>::Row) -> Result<BusinessCustomer> {
            Ok(BusinessCustomer {
                id: BusinessCustomerId::from(text(r, "id")?),
                company: text(r, "company")?,
                tax_id: r.try_get::<Option<String>, _>("tax_id")?,
                buyers: json(&text(r, "buyers")?)?,
                billing_address: json(&text(r, "billing_address")?)?,
                ship_to: json(&text(r, "ship_to")?)?,
                created_at: ts(int(r, "created_at")?)?,
            })
        }

        #[async_trait::async_trait]
        impl $crate::BulkStore for $store {
            async fn add_business_customer(
                &self,
                brand: &BrandId,
                c: &BusinessCustomer,
            ) -> Result<()> {
                sqlx::query(
                    "INSERT INTO business_customers (brand_id, id, company, tax_id, buyers, \
                     billing_address, ship_to, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                )
                .bind(brand.as_str())
                .bind(c.id.as_str())
                .bind(&c.company)
                .bind(c.tax_id.as_deref())
                .bind($crate::sql::to_json(&c.buyers))
                .bind($crate::sql::to_json(&c.billing_address))
                .bind($crate::sql::to_json(&c.ship_to))
                .bind(c.created_at.as_millisecond())
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn business_customer(
                &self,
                brand: &BrandId,
                id: &BusinessCustomerId,
            ) -> Result<Option<BusinessCustomer>> {
                let row = sqlx::query(
                    "SELECT * FROM business_customers WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.read)
                .await?;
                row.as_ref().map(business_customer_from).transpose()
            }

            async fn business_customers(&self, brand: &BrandId) -> Result<Vec<BusinessCustomer>> {
                sqlx::query(
                    "SELECT * FROM business_customers WHERE brand_id = $1 ORDER BY company, id",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(business_customer_from)
                .collect()
            }

            async fn put_bulk_quote(&self, brand: &BrandId, quote: &BulkQuote) -> Result<()> {
                sqlx::query(
                    "INSERT INTO bulk_quotes (brand_id, id, created_at, valid_until, quote) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(quote.id.as_str())
                .bind(quote.created_at.as_millisecond())
                .bind(quote.valid_until.as_millisecond())
                .bind($crate::sql::to_json(quote))
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn bulk_quote(&self, brand: &BrandId, id: &QuoteId) -> Result<Option<BulkQuote>> {
                let row = sqlx::query(
                    "SELECT quote, order_id FROM bulk_quotes WHERE brand_id = $1 AND id = $2",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .fetch_optional(&self.write)
                .await?;
                row.map(|r| {
                    let mut quote: BulkQuote = json(&text(&r, "quote")?)?;
                    quote.order_id = r
                        .try_get::<Option<String>, _>("order_id")?
                        .map(OrderId::from);
                    Ok(quote)
                })
                .transpose()
            }

            async fn claim_bulk_quote(
                &self,
                brand: &BrandId,
                id: &QuoteId,
                key: &str,
            ) -> Result<bool> {
                let claimed = sqlx::query(
                    "UPDATE bulk_quotes SET accepting_key = $3 WHERE brand_id = $1 AND id = $2 \
                     AND (accepting_key IS NULL OR accepting_key = $3)",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .bind(key)
                .execute(&self.write)
                .await?;
                Ok(claimed.rows_affected() == 1)
            }

            async fn release_bulk_quote(
                &self,
                brand: &BrandId,
                id: &QuoteId,
                key: &str,
            ) -> Result<()> {
                sqlx::query(
                    "UPDATE bulk_quotes SET accepting_key = NULL WHERE brand_id = $1 AND id = $2 \
                     AND accepting_key = $3 AND order_id IS NULL",
                )
                .bind(brand.as_str())
                .bind(id.as_str())
                .bind(key)
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn set_bulk_quote_order(
                &self,
                brand: &BrandId,
                id: &QuoteId,
                order: &OrderId,
            ) -> Result<()> {
                sqlx::query("UPDATE bulk_quotes SET order_id = $3 WHERE brand_id = $1 AND id = $2")
                    .bind(brand.as_str())
                    .bind(id.as_str())
                    .bind(order.as_str())
                    .execute(&self.write)
                    .await?;
                Ok(())
            }
        }
    };
}

pub(crate) use impl_bulk;
