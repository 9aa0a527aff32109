//! Every JSON body the API takes, parsed the way its route parses it, for
//! hostile-input tests: the property test below and the cargo-fuzz target
//! `api_bodies` (`fuzz/`) throw arbitrary bytes and content types at
//! [`answer`], which must give a client error or success, never a panic
//! or a 500.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::extract::{json_declared, parse_json};

/// The bodies, by the name of the type a route takes.
pub const BODIES: &[&str] = &[
    "OrderRequest",
    "ConfigureRequest",
    "CatalogUpload",
    "NewBrand",
    "NewKey",
    "Rotation",
    "WebhookInput",
    "WebhookChange",
    "SecretRotation",
    "ReplayRequest",
    "ShipmentRequest",
    "CompleteRequest",
    "DowntimeRequest",
    "ResequenceRequest",
    "SalesImport",
    "ClaimRequest",
    "DecisionRequest",
    "Acceptance",
    "LineChange",
    "BusinessCustomerInput",
];

/// What the API answers a request whose body is `bytes`, declared as
/// `content_type`, on a route that takes the body `BODIES[which % len]`,
/// as far as reading the body goes: 415 for a body not declared as JSON,
/// 400 or 422 for one that does not parse or fails its field checks, 200
/// for one that would go on to the use case.
pub fn answer(which: usize, content_type: Option<&str>, bytes: &[u8]) -> StatusCode {
    let mut headers = HeaderMap::new();
    if let Some(v) = content_type.and_then(|c| HeaderValue::from_str(c).ok()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    let result = json_declared(&headers).and_then(|()| parse(which % BODIES.len(), bytes));
    match result {
        Ok(()) => StatusCode::OK,
        Err(e) => e.into_response().status(),
    }
}

fn parse(which: usize, bytes: &[u8]) -> Result<(), ApiError> {
    fn body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
        parse_json(bytes)
    }
    match BODIES[which] {
        "OrderRequest" => {
            let req: kiln_app::orders::OrderRequest = body(bytes)?;
            let errors = kiln_app::orders::check_request(&req);
            if !errors.is_empty() {
                return Err(kiln_app::Error::invalid_fields(errors).into());
            }
        }
        "ConfigureRequest" => {
            body::<super::products::ConfigureRequest>(bytes)?;
        }
        "CatalogUpload" => {
            body::<super::catalog::CatalogUpload>(bytes)?;
        }
        "NewBrand" => {
            body::<super::platform::NewBrand>(bytes)?;
        }
        "NewKey" => {
            body::<super::platform::NewKey>(bytes)?;
        }
        "Rotation" => {
            body::<super::platform::Rotation>(bytes)?;
        }
        "WebhookInput" => {
            body::<kiln_app::webhooks::WebhookInput>(bytes)?;
        }
        "WebhookChange" => {
            body::<kiln_app::webhooks::WebhookChange>(bytes)?;
        }
        "SecretRotation" => {
            body::<super::webhooks::SecretRotation>(bytes)?;
        }
        "ReplayRequest" => {
            body::<super::webhooks::ReplayRequest>(bytes)?;
        }
        "ShipmentRequest" => {
            body::<super::factory::ShipmentRequest>(bytes)?;
        }
        "CompleteRequest" => {
            body::<super::factory::CompleteRequest>(bytes)?;
        }
        "DowntimeRequest" => {
            body::<super::planning::DowntimeRequest>(bytes)?;
        }
        "ResequenceRequest" => {
            body::<super::planning::ResequenceRequest>(bytes)?;
        }
        "SalesImport" => {
            body::<super::demand::SalesImport>(bytes)?;
        }
        "ClaimRequest" => {
            body::<kiln_app::claims::ClaimRequest>(bytes)?;
        }
        "DecisionRequest" => {
            body::<super::passports::DecisionRequest>(bytes)?;
        }
        "Acceptance" => {
            let a: kiln_app::bulk::Acceptance = body(bytes)?;
            let errors = a.check();
            if !errors.is_empty() {
                return Err(kiln_app::Error::invalid_fields(errors).into());
            }
        }
        "LineChange" => {
            body::<kiln_app::changes::LineChange>(bytes)?.check()?;
        }
        "BusinessCustomerInput" => {
            let b: kiln_app::bulk::business::BusinessCustomerInput = body(bytes)?;
            let errors = b.check();
            if !errors.is_empty() {
                return Err(kiln_app::Error::invalid_fields(errors).into());
            }
        }
        other => unreachable!("{other} is listed in BODIES but not parsed"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn client_error_or_ok(status: StatusCode) -> bool {
        status == StatusCode::OK || status.is_client_error()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn any_bytes_get_a_client_error(which in 0..BODIES.len(), bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let status = answer(which, Some("application/json"), &bytes);
            prop_assert!(client_error_or_ok(status), "{} -> {status}", BODIES[which]);
        }

        #[test]
        fn any_json_gets_a_client_error(which in 0..BODIES.len(), json in json_value()) {
            let bytes = serde_json::to_vec(&json).unwrap();
            let status = answer(which, Some("application/json; charset=utf-8"), &bytes);
            prop_assert!(client_error_or_ok(status), "{} {json} -> {status}", BODIES[which]);
        }

        #[test]
        fn a_body_not_declared_as_json_is_415(which in 0..BODIES.len(), ct in "[a-z/+;= -]{0,30}") {
            prop_assume!(!ct.trim().to_ascii_lowercase().starts_with("application/"));
            prop_assert_eq!(answer(which, Some(&ct), b"{}"), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        }
    }

    /// JSON shaped like the bodies: objects with their field names, strings,
    /// numbers at the edges, nesting.
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let names = prop::sample::select(vec![
            "customer",
            "name",
            "email",
            "phone",
            "ship_to",
            "line1",
            "city",
            "postal_code",
            "country",
            "channel",
            "store_id",
            "lines",
            "product",
            "selections",
            "quantity",
            "files",
            "source",
            "slug",
            "label",
            "scopes",
            "url",
            "events",
            "kind",
            "reason",
            "parts",
            "decision",
            "note",
            "work_center",
            "from",
            "to",
            "carrier",
            "scrap",
        ]);
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::from),
            prop_oneof![
                Just(0i64),
                Just(-1),
                Just(1),
                Just(i64::MAX),
                Just(i64::MIN),
                any::<i64>()
            ]
            .prop_map(serde_json::Value::from),
            any::<f64>().prop_map(serde_json::Value::from),
            ".{0,40}".prop_map(serde_json::Value::from),
        ];
        leaf.prop_recursive(4, 48, 8, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
                prop::collection::btree_map(names.clone(), inner, 0..8).prop_map(|m| {
                    serde_json::Value::Object(
                        m.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                    )
                }),
            ]
        })
    }
}
