//! Bulk quotes: stored whole (as JSON) with who is accepting them.

macro_rules! impl_bulk {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::BulkStore for $store {
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
