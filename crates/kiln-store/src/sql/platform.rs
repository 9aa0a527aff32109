//! Brands, API keys, platform admin keys and the audit log.

macro_rules! impl_platform {
    ($store:ty, $db:ty) => {
        const KEY_COLUMNS: &str = "k.id AS key_id, k.brand_id, k.label, k.scopes, k.prefix, \
            k.created_at AS key_created_at, k.expires_at, k.revoked_at";

        fn api_key_from(r: &DbRow) -> Result<ApiKey> {
            Ok(ApiKey {
                id: ApiKeyId::from(text(r, "key_id")?),
                brand_id: BrandId::from(text(r, "brand_id")?),
                label: text(r, "label")?,
                scopes: $crate::sql::scopes_of(&text(r, "scopes")?)?,
                prefix: text(r, "prefix")?,
                created_at: ts(int(r, "key_created_at")?)?,
                expires_at: opt_ts(r.try_get("expires_at")?)?,
                revoked_at: opt_ts(r.try_get("revoked_at")?)?,
            })
        }

        async fn insert_key(tx: &mut Tx<'_>, key: &$crate::NewApiKey) -> Result<()> {
            let k = &key.key;
            sqlx::query(
                "INSERT INTO api_keys (id, brand_id, key_hash, label, created_at, scopes, \
                 prefix, expires_at, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(k.id.as_str())
            .bind(k.brand_id.as_str())
            .bind(&key.hash)
            .bind(&k.label)
            .bind(k.created_at.as_millisecond())
            .bind($crate::sql::scopes_text(&k.scopes))
            .bind(&k.prefix)
            .bind(k.expires_at.map(|t| t.as_millisecond()))
            .bind(k.revoked_at.map(|t| t.as_millisecond()))
            .execute(&mut **tx)
            .await?;
            Ok(())
        }

        impl $store {
            async fn key_row(&self, brand: &BrandId, id: &ApiKeyId) -> Result<ApiKey> {
                let sql = format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.brand_id = $1 AND k.id = $2"
                );
                let row = sqlx::query(&sql)
                    .bind(brand.as_str())
                    .bind(id.as_str())
                    .fetch_optional(&self.write)
                    .await?
                    .ok_or(StoreError::NotFound)?;
                api_key_from(&row)
            }
        }

        #[async_trait::async_trait]
        impl $crate::PlatformStore for $store {
            async fn create_brand(
                &self,
                brand: &Brand,
                key: &$crate::NewApiKey,
                entry: &AuditEntry,
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                let taken: Option<String> =
                    sqlx::query_scalar("SELECT id FROM brands WHERE slug = $1")
                        .bind(brand.slug.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                if taken.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "the slug `{}` is taken",
                        brand.slug
                    )));
                }
                sqlx::query(
                    "INSERT INTO brands (id, slug, name, created_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(brand.id.as_str())
                .bind(brand.slug.as_str())
                .bind(&brand.name)
                .bind(entry.at.as_millisecond())
                .execute(&mut *tx)
                .await?;
                insert_key(&mut tx, key).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn brand_by_slug(&self, slug: &str) -> Result<Option<Brand>> {
                let row = sqlx::query("SELECT id, slug, name FROM brands WHERE slug = $1")
                    .bind(slug)
                    .fetch_optional(&self.read)
                    .await?;
                row.as_ref().map(brand_from).transpose()
            }

            async fn brands(&self) -> Result<Vec<Brand>> {
                sqlx::query("SELECT id, slug, name FROM brands ORDER BY slug")
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(brand_from)
                    .collect()
            }

            async fn add_api_key(&self, key: &$crate::NewApiKey, entry: &AuditEntry) -> Result<()> {
                let mut tx = self.write.begin().await?;
                insert_key(&mut tx, key).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn api_keys(&self, brand: &BrandId) -> Result<Vec<ApiKey>> {
                let sql = format!(
                    "SELECT {KEY_COLUMNS} FROM api_keys k WHERE k.brand_id = $1 \
                     ORDER BY k.created_at, k.id"
                );
                sqlx::query(&sql)
                    .bind(brand.as_str())
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(api_key_from)
                    .collect()
            }

            async fn api_key_by_hash(&self, hash: &str) -> Result<Option<(ApiKey, Brand)>> {
                let sql = format!(
                    "SELECT {KEY_COLUMNS}, b.id, b.slug, b.name FROM api_keys k \
                     JOIN brands b ON b.id = k.brand_id WHERE k.key_hash = $1"
                );
                let row = sqlx::query(&sql)
                    .bind(hash)
                    .fetch_optional(&self.read)
                    .await?;
                row.map(|r| Ok((api_key_from(&r)?, brand_from(&r)?)))
                    .transpose()
            }

            async fn revoke_api_key(
                &self,
                brand: &BrandId,
                id: &ApiKeyId,
                at: Timestamp,
                entry: &AuditEntry,
            ) -> Result<ApiKey> {
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE api_keys SET revoked_at = $1 \
                     WHERE brand_id = $2 AND id = $3 AND revoked_at IS NULL",
                )
                .bind(at.as_millisecond())
                .bind(brand.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    // Revoked before (nothing to record again), or no such key.
                    drop(tx);
                    return self.key_row(brand, id).await;
                }
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                self.key_row(brand, id).await
            }

            async fn rotate_api_key(
                &self,
                old: &ApiKeyId,
                old_expires: Timestamp,
                new: &$crate::NewApiKey,
                entry: &AuditEntry,
            ) -> Result<ApiKey> {
                let brand = &new.key.brand_id;
                let mut tx = self.write.begin().await?;
                let done = sqlx::query(
                    "UPDATE api_keys SET expires_at = $1 WHERE brand_id = $2 AND id = $3 \
                     AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)",
                )
                .bind(old_expires.as_millisecond())
                .bind(brand.as_str())
                .bind(old.as_str())
                .execute(&mut *tx)
                .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound);
                }
                insert_key(&mut tx, new).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                self.key_row(brand, old).await
            }

            async fn add_admin_key(&self, key: &AdminKey, hash: &str) -> Result<()> {
                sqlx::query(
                    "INSERT INTO admin_keys (id, key_hash, label, created_at, revoked_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(key.id.as_str())
                .bind(hash)
                .bind(&key.label)
                .bind(key.created_at.as_millisecond())
                .bind(key.revoked_at.map(|t| t.as_millisecond()))
                .execute(&self.write)
                .await?;
                Ok(())
            }

            async fn admin_key_by_hash(&self, hash: &str) -> Result<Option<AdminKey>> {
                let row = sqlx::query(
                    "SELECT id, label, created_at, revoked_at FROM admin_keys WHERE key_hash = $1",
                )
                .bind(hash)
                .fetch_optional(&self.read)
                .await?;
                row.map(|r| {
                    Ok(AdminKey {
                        id: ApiKeyId::from(text(&r, "id")?),
                        label: text(&r, "label")?,
                        created_at: ts(int(&r, "created_at")?)?,
                        revoked_at: opt_ts(r.try_get("revoked_at")?)?,
                    })
                })
                .transpose()
            }

            async fn has_admin_keys(&self) -> Result<bool> {
                let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM admin_keys")
                    .fetch_one(&self.read)
                    .await?;
                Ok(n > 0)
            }

            async fn audit_log(
                &self,
                brand: Option<&BrandId>,
                limit: i64,
            ) -> Result<Vec<AuditEntry>> {
                let filter = if brand.is_some() { "brand_id = $1" } else { "$1 = $1" };
                let sql = format!(
                    "SELECT id, brand_id, actor, action, subject, detail, at FROM audit_log \
                     WHERE {filter} ORDER BY at DESC, id DESC LIMIT $2"
                );
                sqlx::query(&sql)
                    .bind(brand.map_or("", |b| b.as_str()))
                    .bind(limit)
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        let brand: Option<String> = r.try_get("brand_id")?;
                        Ok(AuditEntry {
                            id: AuditId::from(text(r, "id")?),
                            brand_id: brand.map(BrandId::from),
                            actor: text(r, "actor")?,
                            action: parsed(&text(r, "action")?)?,
                            subject: text(r, "subject")?,
                            detail: text(r, "detail")?,
                            at: ts(int(r, "at")?)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use impl_platform;
