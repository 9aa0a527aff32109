//! A store's sales in the event stream. A tracked `Order Completed` (or
//! `Order Refunded`) that names a store, as a till or `kiln import sales`
//! sends it, becomes a [`StoreSale`] (read back as lines of the brand's sales
//! history), so the store's demand reaches its strategy and the brand's
//! forecasts. Kiln's own events report orders stored already and add nothing.
//!
//! The store is `context.store_id` or `properties.store_id`; the lines are
//! the e-commerce spec's `properties.products` (`product_id`, `quantity`,
//! and Kiln's `selections`), the sale is `properties.order_id`.

use std::collections::BTreeMap;

use kiln_domain::{Address, StoreLocation, StoreSale, StoreSaleLine};
use serde_json::Value;

use super::tracking::Call;
use crate::time;

/// Longest store id taken from an event.
const MAX_STORE_ID: usize = 64;
/// Most lines one event adds.
const MAX_LINES: usize = 1000;

/// The store's sale `call` reports, if it is one.
pub(crate) fn of(call: &Call) -> Option<StoreSale> {
    let sign = match call.name.as_deref() {
        Some("Order Completed") => 1,
        Some("Order Refunded") => -1,
        _ => return None,
    };
    if call.own {
        return None;
    }
    let body = serde_json::from_str::<Value>(&call.body).ok()?;
    let properties = body.get("properties");
    let store = [body.get("context"), properties]
        .into_iter()
        .flatten()
        .find_map(|o| text(o.get("store_id")?))
        .filter(|s| s.len() <= MAX_STORE_ID)?;
    let ticket = properties
        .and_then(|p| text(p.get("order_id")?))
        .unwrap_or_else(|| call.message_id.clone());
    let day = time::day_of(call.at);
    let products = properties
        .and_then(|p| p.get("products"))
        .and_then(Value::as_array);
    let lines: Vec<StoreSaleLine> = products
        .into_iter()
        .flatten()
        .take(MAX_LINES)
        .filter_map(|item| {
            let product_id = text(item.get("product_id")?)?;
            let quantity = match item.get("quantity") {
                None => 1,
                Some(q) => {
                    let q = q.as_f64()?.abs().round();
                    if !(1.0..=1e9).contains(&q) {
                        return None;
                    }
                    q as i64
                }
            };
            let selections: BTreeMap<String, String> = item
                .get("selections")
                .and_then(Value::as_object)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            Some(StoreSaleLine {
                product_id,
                selections,
                quantity: sign * quantity,
            })
        })
        .collect();
    (!lines.is_empty()).then(|| StoreSale {
        id: call.message_id.clone(),
        day,
        store_id: store,
        ticket,
        lines,
    })
}

/// The stores `sales` name, as new stores to add if the brand lacks them:
/// named by their id until someone gives them a name and an address.
pub(crate) fn stores(sales: &[StoreSale]) -> Vec<StoreLocation> {
    let mut ids: Vec<&str> = sales.iter().map(|s| s.store_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    ids.into_iter()
        .map(|id| StoreLocation {
            id: id.to_string(),
            name: id.to_string(),
            address: Address {
                name: id.to_string(),
                line1: String::new(),
                line2: None,
                city: String::new(),
                postal_code: String::new(),
                region: None,
                country: String::new(),
            },
        })
        .collect()
}

/// A non-empty string or a number, as text.
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kiln_domain::CallType;

    fn call(name: &str, body: Value, own: bool) -> Call {
        let at: kiln_domain::Timestamp = "2026-11-30T10:00:00Z".parse().unwrap();
        Call {
            message_id: "m1".into(),
            kind: CallType::Track,
            name: Some(name.into()),
            identifiers: Vec::new(),
            traits: None,
            at,
            received_at: at,
            body: body.to_string(),
            own,
        }
    }

    #[test]
    fn a_stores_order_becomes_lines_of_its_sale() {
        let body = serde_json::json!({
            "context": {"store_id": "berlin"},
            "properties": {"order_id": 5001, "products": [
                {"product_id": "mug", "quantity": 2, "selections": {"glaze": "blue"}},
                {"product_id": 85123, "quantity": 1.2},
                {"quantity": 3},
                {"product_id": "plate", "quantity": 0},
            ]},
        });
        let sale = of(&call("Order Completed", body, false)).unwrap();
        assert_eq!(stores(std::slice::from_ref(&sale)).len(), 1);
        let lines: Vec<_> = sale.sales_lines().collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].quantity, 2);
        assert_eq!(lines[0].selections["glaze"], "blue");
        assert_eq!(lines[0].store_id.as_deref(), Some("berlin"));
        assert_eq!(lines[0].ticket(), "5001");
        assert_eq!(lines[1].product_id, "85123");
        assert_eq!(lines[1].id, "m1#1");
        assert_eq!(
            lines[0].when,
            kiln_domain::SaleTime::Day("2026-11-30".parse().unwrap())
        );
    }

    #[test]
    fn a_refund_counts_back_and_others_add_nothing() {
        let body = serde_json::json!({
            "properties": {"store_id": "london", "products": [{"product_id": "mug", "quantity": -2}]},
        });
        assert_eq!(
            of(&call("Order Refunded", body.clone(), false))
                .unwrap()
                .lines[0]
                .quantity,
            -2
        );
        assert!(of(&call("Order Completed", body.clone(), true)).is_none());
        assert!(of(&call("Product Viewed", body, false)).is_none());
        let online = serde_json::json!({"properties": {"products": [{"product_id": "mug"}]}});
        assert!(of(&call("Order Completed", online, false)).is_none());
    }
}
