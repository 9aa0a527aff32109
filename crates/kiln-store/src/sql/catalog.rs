//! Catalog versions and materials.

macro_rules! impl_catalog {
    ($store:ty, $db:ty) => {
        fn version_from(r: &DbRow) -> Result<CatalogVersion> {
            let products = text(r, "products")?;
            Ok(CatalogVersion {
                version: int(r, "version")?,
                published_at: ts(int(r, "published_at")?)?,
                published_by: text(r, "published_by")?,
                products: products.split_whitespace().map(str::to_string).collect(),
            })
        }

        async fn seed_materials_in(
            tx: &mut Tx<'_>,
            brand: &BrandId,
            materials: &[MaterialRow],
        ) -> Result<()> {
            for m in materials {
                sqlx::query(
                    "INSERT INTO materials (brand_id, id, on_hand) \
                     VALUES ($1, $2, $3) ON CONFLICT (brand_id, id) DO NOTHING",
                )
                .bind(brand.as_str())
                .bind(&m.id)
                .bind(m.on_hand.to_string())
                .execute(&mut **tx)
                .await?;
            }
            Ok(())
        }

        #[async_trait::async_trait]
        impl $crate::CatalogStore for $store {
            async fn publish_catalog(
                &self,
                brand: &BrandId,
                version: &CatalogVersion,
                files: &[CatalogFile],
                materials: &[MaterialRow],
                event: &PlatformEvent,
                entry: &AuditEntry,
            ) -> Result<()> {
                use Arg::{I, S};
                let mut tx = self.write.begin().await?;
                let latest: Option<i64> = sqlx::query_scalar(
                    "SELECT MAX(version) FROM catalog_versions WHERE brand_id = $1",
                )
                .bind(brand.as_str())
                .fetch_one(&mut *tx)
                .await?;
                if latest.unwrap_or(0) >= version.version {
                    return Err(StoreError::Conflict(format!(
                        "catalog version {} exists already; another publish came first",
                        version.version
                    )));
                }
                sqlx::query(
                    "INSERT INTO catalog_versions (brand_id, version, published_at, \
                     published_by, products) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(brand.as_str())
                .bind(version.version)
                .bind(version.published_at.as_millisecond())
                .bind(&version.published_by)
                .bind(version.products.join(" "))
                .execute(&mut *tx)
                .await?;
                let rows = files
                    .iter()
                    .map(|f| {
                        vec![
                            S(brand.as_str()),
                            I(version.version),
                            S(f.kind.as_str()),
                            S(&f.name),
                            S(&f.source),
                        ]
                    })
                    .collect();
                insert_rows(
                    &mut tx,
                    "catalog_version_files (brand_id, version, kind, name, \
                    source)",
                    rows,
                    "",
                )
                .await?;
                seed_materials_in(&mut tx, brand, materials).await?;
                outbox(&mut tx, std::slice::from_ref(event)).await?;
                audit(&mut tx, entry).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn catalog(
                &self,
                brand: &BrandId,
                version: Option<i64>,
            ) -> Result<Option<(CatalogVersion, Vec<CatalogFile>)>> {
                let row =
                    match version {
                        Some(v) => sqlx::query(
                            "SELECT * FROM catalog_versions WHERE brand_id = $1 AND version = $2",
                        )
                        .bind(brand.as_str())
                        .bind(v)
                        .fetch_optional(&self.read)
                        .await?,
                        None => {
                            sqlx::query(
                                "SELECT * FROM catalog_versions WHERE brand_id = $1 \
                             ORDER BY version DESC LIMIT 1",
                            )
                            .bind(brand.as_str())
                            .fetch_optional(&self.read)
                            .await?
                        }
                    };
                let Some(row) = row else {
                    return Ok(None);
                };
                let version = version_from(&row)?;
                let files = sqlx::query(
                    "SELECT kind, name, source FROM catalog_version_files \
                     WHERE brand_id = $1 AND version = $2 ORDER BY kind, name",
                )
                .bind(brand.as_str())
                .bind(version.version)
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| {
                    Ok(CatalogFile {
                        kind: parsed(&text(r, "kind")?)?,
                        name: text(r, "name")?,
                        source: text(r, "source")?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
                Ok(Some((version, files)))
            }

            async fn catalog_versions(&self, brand: &BrandId) -> Result<Vec<CatalogVersion>> {
                sqlx::query(
                    "SELECT * FROM catalog_versions WHERE brand_id = $1 ORDER BY version DESC",
                )
                .bind(brand.as_str())
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(version_from)
                .collect()
            }

            async fn seed_materials(
                &self,
                brand: &BrandId,
                materials: &[MaterialRow],
            ) -> Result<()> {
                let mut tx = self.write.begin().await?;
                seed_materials_in(&mut tx, brand, materials).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn materials(&self, brand: &BrandId) -> Result<Vec<MaterialRow>> {
                sqlx::query("SELECT id, on_hand FROM materials WHERE brand_id = $1 ORDER BY id")
                    .bind(brand.as_str())
                    .fetch_all(&self.read)
                    .await?
                    .iter()
                    .map(|r| {
                        Ok(MaterialRow {
                            id: text(r, "id")?,
                            on_hand: dec(&text(r, "on_hand")?)?,
                        })
                    })
                    .collect()
            }
        }
    };
}

pub(crate) use impl_catalog;
