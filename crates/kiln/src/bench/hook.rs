//! What the order and webhook benchmarks share: the order they place, and a
//! webhook receiver in the bench's own process, subscribed to
//! `order.created` for the run.

use anyhow::Context;
use serde_json::{Value, json};

/// Order number `n` of a benchmark: one unit of `product`, defaults chosen.
pub fn order(n: u64, product: &str, email_prefix: &str) -> Value {
    json!({
        "customer": {"name": "Bench Buyer", "email": format!("{email_prefix}{}@example.com", n % 1000)},
        "ship_to": {"name": "Bench Buyer", "line1": "1 Test Street", "city": "Leeds",
                    "postal_code": "LS1 1AA", "country": "GB"},
        "channel": "online",
        "lines": [{"product": product, "selections": {}, "quantity": 1}],
    })
}

/// A receiver serving `router`'s `/hook` on 127.0.0.1, subscribed to the
/// brand's `order.created` until [`Subscription::cancel`].
pub struct Subscription {
    url: String,
    key: String,
}

impl Subscription {
    /// `brand` is the brand's API base, `.../api/v1/brands/{slug}`.
    pub async fn start(
        client: &reqwest::Client,
        brand: &str,
        key: &str,
        router: axum::Router,
    ) -> anyhow::Result<Subscription> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let hook = format!("http://{}/hook", listener.local_addr()?);
        tokio::spawn(async move { axum::serve(listener, router).await });
        let made: Value = client
            .post(format!("{brand}/webhooks"))
            .bearer_auth(key)
            .json(&json!({"url": hook, "events": ["order.created"], "description": "kiln bench"}))
            .send()
            .await?
            .error_for_status()
            .context("subscribing the receiver (does the server allow loopback webhooks?)")?
            .json()
            .await?;
        let id = made["id"].as_str().unwrap_or_default();
        Ok(Subscription {
            url: format!("{brand}/webhooks/{id}"),
            key: key.to_string(),
        })
    }

    /// Deletes the subscription (best effort: the bench's figures stand).
    pub async fn cancel(self, client: &reqwest::Client) {
        let _ = client.delete(&self.url).bearer_auth(&self.key).send().await;
    }
}
