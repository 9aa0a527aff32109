//! The storefront's own use cases: saved designs behind short codes, carts
//! kept server-side, the customer's order page behind its secret link, and
//! store mode's stores and customer lookup. A design or cart made on an
//! older catalog version is checked again on the current one
//! ([`App::recheck`]), which says what no longer holds.

use kiln_configure::Selections;
use kiln_domain::{Customer, Design, Order, OrderId, StoreLocation};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::runtime::Catalog;
use crate::{App, time};

/// One line of a shopper's cart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    pub product: String,
    pub selections: Selections,
    pub quantity: u32,
    /// The delivery date the shopper was shown when adding the line, so the
    /// cart can say when the factory can no longer keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown_promise: Option<jiff::civil::Date>,
}

/// Short, unambiguous, unguessable enough for a shared link.
fn design_code() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let bits = uuid::Uuid::new_v4().as_u128();
    (0..10)
        .map(|i| ALPHABET[((bits >> (i * 5)) % ALPHABET.len() as u128) as usize] as char)
        .collect()
}

/// What no longer holds of a configuration made on an older catalog
/// version, in the shopper's words: a product gone, an option or value no
/// longer offered, a rule it now breaks. Empty when it still holds.
pub fn recheck(catalog: &Catalog, product: &str, selections: &Selections) -> Vec<String> {
    let Some(c) = catalog.product(product) else {
        return vec![format!("`{product}` is no longer sold")];
    };
    let mut problems = Vec::new();
    let p = c.product();
    let mut kept = Selections::new();
    for (option, value) in selections {
        match p.option(option) {
            None => problems.push(format!("{} no longer has the option `{option}`", p.name)),
            Some(o)
                if !o.kind.values().is_empty()
                    && !o.kind.values().iter().any(|v| &v.id == value) =>
            {
                problems.push(format!("{}: {value} is no longer offered", o.name))
            }
            Some(_) => {
                kept.insert(option.clone(), value.clone());
            }
        }
    }
    match c.configure(&kept) {
        Err(e) => problems.push(e.to_string()),
        Ok(o) if !o.valid => {
            let rules: Vec<String> = o
                .conflict
                .map(|c| c.rules.into_iter().map(|r| r.message).collect())
                .unwrap_or_default();
            problems.push(format!(
                "these choices now break a rule: {}",
                rules.join("; ")
            ));
        }
        Ok(o) if !o.complete => {
            for opt in o
                .options
                .iter()
                .filter(|x| x.value.is_none() && !x.optional)
            {
                problems.push(format!("{} now needs a choice", opt.name));
            }
        }
        Ok(_) => {}
    }
    problems
}

impl App {
    /// Saves what the customer chose behind a short code.
    pub async fn save_design(
        &self,
        slug: &str,
        product: &str,
        chosen: Selections,
    ) -> Result<Design> {
        let rt = self.brand(slug).await?;
        rt.product(product)?;
        let design = Design {
            code: design_code(),
            product_id: product.to_string(),
            selections: chosen,
            created_at: time::now(),
        };
        self.store.save_design(&rt.brand.id, &design).await?;
        Ok(design)
    }

    pub async fn design(&self, slug: &str, code: &str) -> Result<Design> {
        let brand = self.brand_record(slug).await?;
        self.store
            .design(&brand.id, code)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no saved design `{code}`")))
    }

    /// A cart's lines; an unknown cart is empty.
    pub async fn cart(&self, slug: &str, cart: &str) -> Result<Vec<CartLine>> {
        let brand = self.brand_record(slug).await?;
        Ok(match self.store.cart(&brand.id, cart).await? {
            // A cart that no longer reads (hand-edited, an old format) starts over.
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => Vec::new(),
        })
    }

    pub async fn put_cart(&self, slug: &str, cart: &str, lines: &[CartLine]) -> Result<()> {
        let brand = self.brand_record(slug).await?;
        let json =
            serde_json::to_string(lines).map_err(|e| Error::internal_from("writing a cart", e))?;
        Ok(self
            .store
            .put_cart(&brand.id, cart, &json, time::now())
            .await?)
    }

    pub async fn clear_cart(&self, slug: &str, cart: &str) -> Result<()> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.delete_cart(&brand.id, cart).await?)
    }

    /// The order behind a customer's secret link.
    pub async fn order_for_customer(
        &self,
        slug: &str,
        id: &OrderId,
        token: Option<&str>,
    ) -> Result<Order> {
        let brand = self.brand_record(slug).await?;
        let not_found =
            || Error::NotFound("no such order; check the link in your confirmation".into());
        let o = self
            .store
            .order(&brand.id, id)
            .await?
            .ok_or_else(not_found)?;
        // The token in the customer's link is the only way in without a key.
        if o.access_token.is_empty() || token != Some(o.access_token.as_str()) {
            return Err(not_found());
        }
        Ok(o)
    }

    pub async fn stores(&self, slug: &str) -> Result<Vec<StoreLocation>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.stores(&brand.id).await?)
    }

    /// Customers a clerk searches for: by email or phone as stored, by part
    /// of a name or an email, or by a phone number in any common format.
    pub async fn find_customers(&self, slug: &str, query: &str) -> Result<Vec<Customer>> {
        let brand = self.brand_record(slug).await?;
        Ok(self.store.find_customers(&brand.id, query).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo(mug: &str) -> Catalog {
        let mut files: Vec<(String, String)> = crate::demo::FILES
            .iter()
            .map(|(n, s)| (n.to_string(), s.to_string()))
            .collect();
        for f in &mut files {
            if f.0 == "mug.toml" {
                f.1 = mug.to_string();
            }
        }
        let report = kiln_model::check(&files);
        assert!(report.diagnostics.is_empty(), "{:?}", report.diagnostics);
        Catalog::compile(2, report)
    }

    fn mug() -> &'static str {
        crate::demo::FILES
            .iter()
            .find(|(n, _)| *n == "mug.toml")
            .unwrap()
            .1
    }

    fn chosen(pairs: &[(&str, &str)]) -> Selections {
        pairs
            .iter()
            .map(|(o, v)| (o.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_configuration_that_still_holds_has_nothing_to_say() {
        let catalog = demo(mug());
        assert!(recheck(&catalog, "mug", &chosen(&[("size", "L")])).is_empty());
    }

    #[test]
    fn what_no_longer_holds_is_said_in_words() {
        // The next version drops the sage glaze.
        let smaller = mug().replace("\"#81b29a\" = \"Sage\", ", "");
        assert_ne!(smaller, mug(), "the fixture really changes the mug");
        let catalog = demo(&smaller);
        let said = recheck(&catalog, "mug", &chosen(&[("glaze", "#81b29a")]));
        assert_eq!(said.len(), 1, "{said:?}");
        assert!(said[0].contains("#81b29a is no longer offered"), "{said:?}");
        let gone = recheck(&catalog, "teapot", &chosen(&[]));
        assert_eq!(gone, ["`teapot` is no longer sold"]);
        let unknown = recheck(&catalog, "mug", &chosen(&[("handle", "left")]));
        assert!(
            unknown[0].contains("no longer has the option `handle`"),
            "{unknown:?}"
        );
    }
}
