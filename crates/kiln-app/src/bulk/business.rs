//! Business customers: a company that orders in bulk, its buyers, its
//! billing and default shipping addresses. A quote's acceptance may name
//! one, and then only its buyers may order on its account.

use kiln_domain::{Address, BusinessCustomer, BusinessCustomerId, Buyer};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, FieldError, Result};
use crate::orders::{CustomerInput, check_address, check_person};
use crate::{App, time};

/// Most buyers one business customer has.
pub const MAX_BUYERS: usize = 50;

/// A business customer as a client sends it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessCustomerInput {
    pub company: String,
    /// The tax id on its invoices (a VAT number, say).
    #[serde(default)]
    pub tax_id: Option<String>,
    /// Who may order for it, 1 to 50; the first is the default.
    #[schema(min_items = 1, max_items = 50)]
    pub buyers: Vec<Buyer>,
    pub billing_address: Address,
    /// Where its orders go by default; the billing address when left out.
    #[serde(default)]
    pub ship_to: Option<Address>,
}

impl BusinessCustomerInput {
    /// Every problem at once, each at its field.
    pub fn check(&self) -> Vec<FieldError> {
        let mut errors = Vec::new();
        let company = self.company.trim();
        if company.is_empty() || company.chars().count() > 200 {
            errors.push(FieldError::new(
                "/company",
                "a company name of 1 to 200 characters is required",
            ));
        } else if let Err(bad) = kiln_model::text::check_text(company, None) {
            errors.push(FieldError::new("/company", format!("cannot hold {bad}")));
        }
        if let Some(tax) = &self.tax_id
            && (tax.chars().count() > 40 || kiln_model::text::check_text(tax, None).is_err())
        {
            errors.push(FieldError::new("/tax_id", "at most 40 visible characters"));
        }
        if self.buyers.is_empty() || self.buyers.len() > MAX_BUYERS {
            errors.push(FieldError::new(
                "/buyers",
                format!("1 to {MAX_BUYERS} buyers are required"),
            ));
        }
        for (i, b) in self.buyers.iter().enumerate() {
            errors.extend(check_person(&format!("/buyers/{i}"), &person(b)));
            if self.buyers[..i]
                .iter()
                .any(|o| o.email.trim().eq_ignore_ascii_case(b.email.trim()))
            {
                errors.push(FieldError::new(
                    format!("/buyers/{i}/email"),
                    "each buyer once: this email is listed before",
                ));
            }
        }
        errors.extend(check_address("/billing_address", &self.billing_address));
        if let Some(ship_to) = &self.ship_to {
            errors.extend(check_address("/ship_to", ship_to));
        }
        errors
    }
}

/// A buyer as a person the order checks take (trimmed, no blank phone).
fn person(b: &Buyer) -> CustomerInput {
    CustomerInput {
        name: b.name.trim().to_string(),
        email: b.email.trim().to_string(),
        phone: b.phone.clone().filter(|p| !p.trim().is_empty()),
    }
}

/// Whether `email` is a buyer of the business customer: only its buyers
/// order on its account.
pub(crate) fn check_buyer(customer: &BusinessCustomer, email: &str) -> Result<()> {
    let email = email.trim();
    if customer
        .buyers
        .iter()
        .any(|b| b.email.trim().eq_ignore_ascii_case(email))
    {
        Ok(())
    } else {
        Err(Error::invalid(
            "/customer/email",
            format!("`{email}` is not a buyer of {}", customer.company),
        ))
    }
}

/// The brand's business customers.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessCustomerList {
    pub business_customers: Vec<BusinessCustomer>,
}

impl App {
    /// Records a business customer of the brand.
    pub async fn add_business_customer(
        &self,
        slug: &str,
        input: BusinessCustomerInput,
    ) -> Result<BusinessCustomer> {
        let errors = input.check();
        if !errors.is_empty() {
            return Err(Error::invalid_fields(errors));
        }
        let brand = self.brand_record(slug).await?;
        let ship_to = input
            .ship_to
            .unwrap_or_else(|| input.billing_address.clone());
        let customer = BusinessCustomer {
            id: BusinessCustomerId::new(),
            company: input.company.trim().to_string(),
            tax_id: input
                .tax_id
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
            buyers: input
                .buyers
                .iter()
                .map(|b| {
                    let CustomerInput { name, email, phone } = person(b);
                    Buyer { name, email, phone }
                })
                .collect(),
            billing_address: uppercase_country(input.billing_address),
            ship_to: uppercase_country(ship_to),
            // As the store keeps it: to the millisecond.
            created_at: kiln_domain::Timestamp::from_millisecond(time::now().as_millisecond())
                .map_err(|e| Error::internal_from("the clock is out of range", e))?,
        };
        self.store
            .add_business_customer(&brand.id, &customer)
            .await?;
        Ok(customer)
    }

    pub async fn business_customer(
        &self,
        slug: &str,
        id: &BusinessCustomerId,
    ) -> Result<BusinessCustomer> {
        let brand = self.brand_record(slug).await?;
        self.store
            .business_customer(&brand.id, id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no business customer `{id}`")))
    }

    pub async fn business_customers(&self, slug: &str) -> Result<BusinessCustomerList> {
        let brand = self.brand_record(slug).await?;
        Ok(BusinessCustomerList {
            business_customers: self.store.business_customers(&brand.id).await?,
        })
    }
}

fn uppercase_country(mut a: Address) -> Address {
    a.country = a.country.trim().to_ascii_uppercase();
    a
}
