//! Importing past sales (from the shop a brand used before), so forecasts
//! have history from day one; and the demand use cases on [`App`].

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use utoipa::ToSchema;

use super::{Demand, demand, suggest_purchases};
use crate::App;
use crate::error::{Error, Result};

/// Most lines one import takes.
pub const MAX_IMPORT: usize = 10_000;

/// One line of past sales as a brand imports it.
#[derive(serde::Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    /// Your id for the line: importing it again does nothing.
    pub id: String,
    /// `YYYY-MM-DD`.
    pub day: String,
    pub product: String,
    #[serde(default)]
    pub selections: BTreeMap<String, String>,
    pub quantity: u32,
    /// The store it was sold at (one of the brand's stores); none for
    /// online sales.
    #[serde(default)]
    pub store: Option<String>,
    /// The sale (receipt, invoice) the line belongs to, so a store's
    /// traffic counts sales, not lines; default: the line's own id.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// What an import did.
#[derive(Serialize, ToSchema)]
pub struct Imported {
    pub received: usize,
    /// New lines; the rest were imported before.
    pub added: u64,
}

impl App {
    /// Forecasts per product and option value, material needs, hot products.
    pub async fn demand(&self, slug: &str) -> Result<Demand> {
        let rt = self.brand(slug).await?;
        demand(self, &rt).await
    }

    /// Suggests purchases for what the forecast needs beyond what is available.
    pub async fn forecast_purchases(
        &self,
        slug: &str,
    ) -> Result<Vec<kiln_domain::PurchaseSuggestion>> {
        let rt = self.brand(slug).await?;
        suggest_purchases(self, &rt).await
    }

    /// Imports past sales; every line is checked against the catalog, and
    /// one bad line refuses the whole import, naming each bad field.
    pub async fn import_sales(&self, slug: &str, input: &[SaleInput]) -> Result<Imported> {
        use crate::error::FieldError;
        let rt = self.brand(slug).await?;
        if input.len() > MAX_IMPORT {
            return Err(Error::invalid(
                "/lines",
                format!("at most {MAX_IMPORT} lines per import"),
            ));
        }
        let stores: std::collections::HashSet<String> = self
            .store
            .stores(&rt.brand.id)
            .await?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut errors = Vec::new();
        let mut lines = Vec::with_capacity(input.len());
        for (i, l) in input.iter().enumerate() {
            let at = |field: &str| format!("/lines/{i}/{field}");
            if l.id.trim().is_empty() || l.id.len() > 100 {
                errors.push(FieldError::new(at("id"), "1 to 100 characters"));
            }
            let day = l.day.parse::<Date>();
            match day {
                Err(_) => errors.push(FieldError::new(at("day"), "not a date (YYYY-MM-DD)")),
                Ok(d) if d > crate::time::today() => errors.push(FieldError::new(
                    at("day"),
                    "a past sale cannot be dated after today",
                )),
                Ok(_) => {}
            }
            if let Some(store) = &l.store
                && !stores.contains(store)
            {
                errors.push(FieldError::new(
                    at("store"),
                    "not one of the brand's stores",
                ));
            }
            if l.ticket
                .as_ref()
                .is_some_and(|t| t.trim().is_empty() || t.len() > 100)
            {
                errors.push(FieldError::new(at("ticket"), "1 to 100 characters"));
            }
            if l.quantity == 0 || l.quantity > 1_000_000 {
                errors.push(FieldError::new(at("quantity"), "between 1 and 1000000"));
            }
            match rt.catalog.product(&l.product) {
                None => errors.push(FieldError::new(at("product"), "no such product")),
                Some(c) => match (c.configure_unexplained(&l.selections), day) {
                    (Ok(o), Ok(day)) if o.valid => lines.push(kiln_domain::SalesLine {
                        id: l.id.trim().to_string(),
                        when: kiln_domain::SaleTime::Day(day),
                        product_id: l.product.clone(),
                        selections: o.configuration,
                        quantity: i64::from(l.quantity),
                        store_id: l.store.clone(),
                        ticket: l.ticket.as_ref().map(|t| t.trim().to_string()),
                    }),
                    (Ok(o), _) if !o.valid => errors.push(FieldError::new(
                        at("selections"),
                        "these selections break the product's rules",
                    )),
                    (Err(e), _) => errors.push(FieldError::new(at("selections"), e.to_string())),
                    _ => {}
                },
            }
        }
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let added = self.store.add_sales_history(&rt.brand.id, &lines).await?;
        Ok(Imported {
            received: lines.len(),
            added,
        })
    }
}
