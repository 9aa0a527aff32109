//! The catalog: products and configuring them, and product managers
//! publishing new catalog versions.
//!
//! Every publish is a new immutable version. A placed order keeps the SKU,
//! price, materials and routing of the version its lines were configured
//! against (they are stored with it); work orders batch only lines of one
//! version. Publishing rebuilds the brand's live plan around the new
//! catalog under the plan lock, so no order plans against half of each.

use std::collections::HashSet;

use kiln_configure::{Outcome, Selections};
use kiln_domain::{
    AuditAction, Brand, CatalogFile, CatalogVersion, EventType, FileKind, MaterialRow,
    PlatformEvent,
};
use kiln_model::OptionKind;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::brands::audit_entry;
use crate::error::{Error, FieldError, ModelError, Result};
use crate::flow;
use crate::keys::Actor;
use crate::orders::escape;
use crate::runtime::{BrandRuntime, check_off_thread};
use crate::{App, time};

#[derive(Serialize, ToSchema)]
pub struct ProductSummary {
    pub id: String,
    pub name: String,
    pub description: String,
    pub currency: String,
    /// Decimal text: money is never a float.
    #[schema(value_type = String)]
    pub base_price: rust_decimal::Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct ProductDetail {
    #[serde(flatten)]
    pub summary: ProductSummary,
    /// The catalog version this description belongs to.
    pub catalog_version: i64,
    /// Base components: always part of the product.
    pub components: Vec<NamedItem>,
    pub options: Vec<OptionDetail>,
    /// The rules between options, by their message.
    pub rules: Vec<NamedItem>,
}

#[derive(Serialize, ToSchema)]
pub struct NamedItem {
    pub id: String,
    pub name: String,
}

#[derive(Serialize, ToSchema)]
pub struct OptionDetail {
    pub id: String,
    pub name: String,
    /// `choice`, `color`, `text` or `number`.
    pub kind: String,
    pub optional: bool,
    pub default: Option<String>,
    pub values: Vec<NamedItem>,
    pub max_length: Option<u32>,
    pub min: Option<String>,
    pub max: Option<String>,
    pub unit: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Configured {
    /// Valid values with reasons, price, SKU, BOM, routing and preview.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// The earliest delivery date the factory can promise for this
    /// configuration now (ISO date), when it is valid and complete.
    #[schema(value_type = Option<String>, format = Date)]
    pub promised_date: Option<jiff::civil::Date>,
    /// The catalog version it was configured against.
    pub catalog_version: i64,
}

/// One model file as a product manager uploads it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceFile {
    /// The file's name, e.g. `mug.toml`: errors point into it.
    pub name: String,
    pub source: String,
}

/// What a publish made.
#[derive(Serialize, ToSchema)]
pub struct Published {
    pub version: i64,
    pub products: Vec<ProductSummary>,
    /// What changed since the version before: `{change, subject, product, id, detail}`.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
}

/// One version with its files.
#[derive(Serialize, ToSchema)]
pub struct VersionFiles {
    #[serde(flatten)]
    pub version: CatalogVersion,
    pub files: Vec<CatalogFile>,
}

/// The difference between two versions.
#[derive(Serialize, ToSchema)]
pub struct VersionDiff {
    pub from: i64,
    pub to: i64,
    /// `{change, subject, product, id, detail}`: options, values, rules,
    /// prices, BOM lines and operations added, removed or changed.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<Change>,
}

/// The delivery date the factory could promise now for a configured
/// product, without booking anything (the storefront shows it as it redraws).
pub async fn quote(
    rt: &BrandRuntime,
    product: &kiln_model::Product,
    outcome: &Outcome,
    quantity: u32,
) -> Option<jiff::civil::Date> {
    flow::quote_promise(rt, product, outcome, quantity).await
}

/// One difference between two catalog versions.
pub type Change = kiln_model::Change;

fn changes_between(
    before: &kiln_model::CheckReport,
    after: &kiln_model::CheckReport,
) -> Vec<Change> {
    kiln_model::diff(before, after).changes
}

/// Most files one catalog holds.
const MAX_FILES: usize = 200;

fn summary(p: &kiln_model::Product) -> ProductSummary {
    ProductSummary {
        id: p.id.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        currency: p.currency.clone(),
        base_price: p.base_price,
    }
}

fn detail(rt: &BrandRuntime, p: &kiln_model::Product) -> ProductDetail {
    let item = |id: &str, name: &str| NamedItem {
        id: id.into(),
        name: name.into(),
    };
    ProductDetail {
        summary: summary(p),
        catalog_version: rt.catalog.version,
        components: p.components.iter().map(|c| item(&c.id, &c.name)).collect(),
        options: p
            .options
            .iter()
            .map(|o| {
                let (max_length, min, max, unit) = match &o.kind {
                    OptionKind::Text { max_length, .. } => (Some(*max_length), None, None, None),
                    OptionKind::Number { min, max, unit } => (
                        None,
                        Some(min.to_string()),
                        Some(max.to_string()),
                        Some(unit.clone()),
                    ),
                    _ => (None, None, None, None),
                };
                OptionDetail {
                    id: o.id.clone(),
                    name: o.name.clone(),
                    kind: o.kind.name().into(),
                    optional: o.optional,
                    default: o.default.clone(),
                    values: o
                        .kind
                        .values()
                        .iter()
                        .map(|v| item(&v.id, &v.label))
                        .collect(),
                    max_length,
                    min,
                    max,
                    unit,
                }
            })
            .collect(),
        rules: p.rules.iter().map(|r| item(&r.id, &r.message)).collect(),
    }
}

/// Whether a model file declares a product (else it is a factory file).
fn kind_of(source: &str) -> FileKind {
    let product = source
        .lines()
        .any(|l| l.split('#').next().is_some_and(|l| l.trim() == "[product]"));
    if product {
        FileKind::Product
    } else {
        FileKind::Factory
    }
}

fn model_errors(diagnostics: &[kiln_model::Diagnostic]) -> Error {
    let errors: Vec<ModelError> = diagnostics
        .iter()
        .map(|d| ModelError {
            file: d.file.clone(),
            line: d.span.line,
            column: d.span.column,
            message: d.message.clone(),
        })
        .collect();
    Error::InvalidModel {
        detail: match errors.len() {
            1 => format!("the catalog has an error: {}", diagnostics[0]),
            n => format!("the catalog has {n} errors; nothing was published"),
        },
        errors,
    }
}

fn check_files(files: &[SourceFile]) -> Result<()> {
    let mut errors = Vec::new();
    if files.is_empty() {
        errors.push(FieldError::new(
            "/files",
            "a catalog needs at least one file",
        ));
    }
    if files.len() > MAX_FILES {
        errors.push(FieldError::new(
            "/files",
            format!("at most {MAX_FILES} files"),
        ));
    }
    let mut seen = HashSet::new();
    for (i, f) in files.iter().enumerate() {
        let name = f.name.trim();
        let ok_name = !name.is_empty()
            && name.len() <= 100
            && !name.contains(['/', '\\'])
            && !name.chars().any(char::is_control);
        if !ok_name {
            errors.push(FieldError::new(
                format!("/files/{i}/name"),
                "a file name of 1 to 100 characters, without slashes",
            ));
        } else if !seen.insert(name) {
            errors.push(FieldError::new(
                format!("/files/{i}/name"),
                format!("`{name}` appears twice"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::invalid_fields(errors))
    }
}

impl App {
    pub async fn products(&self, slug: &str) -> Result<Vec<ProductSummary>> {
        let rt = self.brand(slug).await?;
        Ok(rt
            .catalog
            .products
            .iter()
            .map(|c| summary(c.product()))
            .collect())
    }

    pub async fn product(&self, slug: &str, product: &str) -> Result<ProductDetail> {
        let rt = self.brand(slug).await?;
        let p = rt.product(product)?.product();
        Ok(detail(&rt, p))
    }

    /// Configures a product: valid values, reasons, price, SKU, BOM, routing,
    /// preview, and the delivery date the factory could promise now.
    pub async fn configure(
        &self,
        slug: &str,
        product: &str,
        selections: &Selections,
        quantity: Option<u32>,
    ) -> Result<Configured> {
        let rt = self.brand(slug).await?;
        let configurator = rt.product(product)?;
        let mut outcome = configurator.configure(selections).map_err(|e| {
            Error::invalid(format!("/selections/{}", escape(e.option())), e.to_string())
        })?;
        let quantity = quantity.unwrap_or(1);
        if !(1..=flow::MAX_QUANTITY).contains(&quantity) {
            return Err(Error::invalid(
                "/quantity",
                format!("the quantity must be from 1 to {}", flow::MAX_QUANTITY),
            ));
        }
        if quantity > 1 && outcome.price.is_some() {
            // Its quantity breaks, as one line of that many units.
            let units = kiln_configure::Units {
                line: quantity,
                order: quantity,
            };
            outcome.price = Some(configurator.price_at(&outcome.configuration, units));
        }
        let promised_date = if outcome.valid && outcome.complete {
            flow::quote_promise(&rt, configurator.product(), &outcome, quantity).await
        } else {
            None
        };
        Ok(Configured {
            outcome,
            promised_date,
            catalog_version: rt.catalog.version,
        })
    }

    /// Publishes a new catalog version: every file checked together, as
    /// `kiln model check` does (a product whose rules together leave no
    /// valid configuration is an error at each conflicting rule); any error
    /// refuses the whole upload, each at its file, line and column, and
    /// nothing changes.
    pub async fn publish_catalog(
        &self,
        actor: &Actor,
        brand: &Brand,
        files: Vec<SourceFile>,
    ) -> Result<Published> {
        check_files(&files)?;
        let pairs: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.name.trim().to_string(), f.source.clone()))
            .collect();
        for _ in 0..3 {
            let old = self.brand(brand.slug.as_str()).await?;
            let version = old.catalog.version + 1;
            let catalog = check_off_thread(version, pairs.clone())
                .await?
                .map_err(|d| model_errors(&d))?;
            let mut plan = old.plan_settled().await;
            if plan.retired {
                // Another publish came first: check against its version.
                continue;
            }
            // Acknowledged orders are in the store before the plan is rebuilt.
            self.orders.flush().await;
            self.check_open_work(brand, &catalog).await?;
            let stored: HashSet<String> = self
                .store
                .materials(&brand.id)
                .await?
                .into_iter()
                .map(|m| m.id)
                .collect();
            let seeded: Vec<MaterialRow> = catalog
                .factory
                .materials
                .iter()
                .filter(|m| !stored.contains(&m.id))
                .map(|m| MaterialRow {
                    id: m.id.clone(),
                    on_hand: m.on_hand,
                })
                .collect();
            let products: Vec<ProductSummary> = catalog
                .products
                .iter()
                .map(|c| summary(c.product()))
                .collect();
            let changes = {
                let (before, after) = (old.catalog.report(), catalog.report());
                changes_between(&before, &after)
            };
            let record = CatalogVersion {
                version,
                published_at: time::now(),
                published_by: actor.to_string(),
                products: products.iter().map(|p| p.id.clone()).collect(),
            };
            let stored_files: Vec<CatalogFile> = pairs
                .iter()
                .map(|(name, source)| CatalogFile {
                    kind: kind_of(source),
                    name: name.clone(),
                    source: source.clone(),
                })
                .collect();
            let new =
                BrandRuntime::with_catalog(self.store.as_ref(), brand.clone(), catalog).await?;
            let event = PlatformEvent::new(
                &brand.id,
                EventType::CatalogPublished,
                record.published_at,
                &serde_json::json!({
                    "version": version,
                    "products": &record.products,
                    "changes": &changes,
                }),
            );
            let entry = audit_entry(
                Some(&brand.id),
                actor,
                AuditAction::CatalogPublished,
                format!("v{version}"),
                format!(
                    "catalog version {version} published: {} products, {} changes",
                    products.len(),
                    changes.len()
                ),
            );
            self.store
                .publish_catalog(&brand.id, &record, &stored_files, &seeded, &event, &entry)
                .await?;
            {
                let mut new_plan = new.plan.lock().await;
                for m in &seeded {
                    new_plan.position(&m.id).on_hand += m.on_hand;
                    let on_hand = new_plan.position(&m.id).on_hand;
                    new_plan.mrp.set_on_hand(&m.id, on_hand);
                }
                // The forecast carries over to the new version's plan.
                let (weeks, forecast) = plan.mrp.forecast_input();
                new_plan.mrp.set_forecast(weeks, &forecast);
            }
            plan.retired = true;
            self.runtimes
                .replace(brand.slug.as_str(), std::sync::Arc::new(new))
                .await;
            drop(plan);
            self.outbox.notify_one();
            return Ok(Published {
                version,
                products,
                changes,
            });
        }
        Err(Error::Conflict(
            "other publishes of this catalog kept coming first; try again".into(),
        ))
    }

    /// Refuses a factory that drops work centres (or machines) that open
    /// work is booked on.
    async fn check_open_work(
        &self,
        brand: &Brand,
        catalog: &crate::runtime::Catalog,
    ) -> Result<()> {
        let mut errors = Vec::new();
        let mut seen = HashSet::new();
        for row in self.store.scheduled_bookings(&brand.id).await? {
            let b = &row.booking;
            if b.seq == 0 || !seen.insert((b.work_center.clone(), b.machine)) {
                continue;
            }
            match catalog.factory.work_center(&b.work_center) {
                None => errors.push(format!(
                    "work centre `{}` has open work booked; it cannot be removed until that work is done",
                    b.work_center
                )),
                Some(w) if b.machine >= i64::from(w.machines) => errors.push(format!(
                    "work centre `{}` has open work booked on machine {}; it needs at least {} machines until that work is done",
                    b.work_center,
                    b.machine + 1,
                    b.machine + 1
                )),
                Some(_) => {}
            }
        }
        errors.sort();
        errors.dedup();
        if errors.is_empty() {
            return Ok(());
        }
        Err(Error::Conflict(errors.join("; ")))
    }

    /// Every version, newest first.
    pub async fn catalog_versions(&self, brand: &Brand) -> Result<Vec<CatalogVersion>> {
        Ok(self.store.catalog_versions(&brand.id).await?)
    }

    /// One version with its files.
    pub async fn catalog_version(&self, brand: &Brand, version: i64) -> Result<VersionFiles> {
        let (version, files) = self
            .store
            .catalog(&brand.id, Some(version))
            .await?
            .ok_or_else(|| Error::NotFound(format!("no catalog version {version}")))?;
        Ok(VersionFiles { version, files })
    }

    /// What changed from one version to another.
    pub async fn catalog_diff(&self, brand: &Brand, from: i64, to: i64) -> Result<VersionDiff> {
        let a = self.catalog_version(brand, from).await?;
        let b = self.catalog_version(brand, to).await?;
        let changes = tokio::task::spawn_blocking(move || {
            let read = |v: &VersionFiles| {
                let files: Vec<(String, String)> = v
                    .files
                    .iter()
                    .map(|f| (f.name.clone(), f.source.clone()))
                    .collect();
                kiln_model::check(&files)
            };
            changes_between(&read(&a), &read(&b))
        })
        .await
        .map_err(|e| Error::internal_from("comparing catalog versions", e))?;
        Ok(VersionDiff { from, to, changes })
    }

    /// Checks model files as a publish would, without publishing.
    pub async fn check_catalog(&self, files: Vec<SourceFile>) -> Result<Vec<ProductSummary>> {
        check_files(&files)?;
        let pairs = files.into_iter().map(|f| (f.name, f.source)).collect();
        let catalog = check_off_thread(0, pairs)
            .await?
            .map_err(|d| model_errors(&d))?;
        Ok(catalog
            .products
            .iter()
            .map(|c| summary(c.product()))
            .collect())
    }
}
