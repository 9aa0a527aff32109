//! Behaviour of the platform around the brands, on both backends (see
//! `common` for the harness): API keys and admin keys, immutable catalog
//! versions, and the outbox of events with the webhooks that deliver them.

#[macro_use]
mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::*;
use kiln_store::prelude::*;
use kiln_store::{
    AdminKey, ApiKeyId, AttemptOutcome, AuditAction, Brand, BrandId, Delivery, DeliveryAttempt,
    DeliveryId, DeliveryState, DueDelivery, EventId, EventType, FileKind, OrderStatus,
    PlatformEvent, Repromise, Scope, ShipmentId, Slug, TimelineEntry, TimelineEntryId,
    TimelineStatus, WebhookEndpoint, WebhookId,
};
use serde_json::{Value, json};

store_tests!(
    brand_comes_with_its_first_key,
    a_taken_slug_is_a_conflict,
    api_keys_are_listed_and_revoked,
    rotating_a_key_expires_the_old_one,
    admin_keys_are_found_by_hash,
    catalog_versions_keep_their_files,
    publishing_an_existing_version_is_a_conflict,
    publishing_seeds_only_new_materials,
    placing_an_order_writes_order_created,
    subscribed_endpoints_get_a_pending_delivery,
    operations_report_status_changes_and_completed_work_orders,
    shipments_report_created_and_delivered,
    replans_report_moved_promises,
    attempts_deliver_or_turn_a_gone_endpoint_off,
    replay_one_delivery_or_every_failed_one,
    delete_webhook_removes_its_deliveries,
);

// ---------------------------------------------------------------------------
// Fixtures.

async fn audit_actions(store: &dyn Store, brand: Option<&BrandId>) -> Vec<AuditAction> {
    let entries = store.audit_log(brand, 100).await.unwrap();
    entries.into_iter().map(|e| e.action).collect()
}

/// An endpoint of `brand` subscribed to `events`.
fn endpoint(brand: &Brand, id: &str, events: &[EventType], enabled: bool) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::from(id),
        brand_id: brand.id.clone(),
        url: format!("https://partner.example/{id}"),
        description: format!("endpoint {id}"),
        events: events.to_vec(),
        enabled,
        disabled_reason: (!enabled).then(|| "turned off".to_string()),
        secret: format!("whsec_{id}"),
        previous_secret: None,
        created_at: at(T0),
        updated_at: at(T0),
    }
}

async fn subscribe(store: &dyn Store, e: &WebhookEndpoint) {
    let entry = audit(
        Some(&e.brand_id),
        AuditAction::WebhookCreated,
        e.id.as_str(),
        T0,
    );
    store
        .create_webhook(e, &entry)
        .await
        .expect("create_webhook");
}

/// The delivery of `event` to `endpoint`, as the outbox names it.
fn delivery_id(event: &EventId, endpoint: &WebhookId) -> DeliveryId {
    DeliveryId::from(format!("{event}.{endpoint}"))
}

fn body(e: &PlatformEvent) -> Value {
    serde_json::from_str(&e.payload).expect("a JSON payload")
}

/// The brand's events of one type, oldest first.
async fn events_of(store: &dyn Store, brand: &BrandId, kind: EventType) -> Vec<PlatformEvent> {
    let mut events = store.events(brand, 1000).await.unwrap();
    events.retain(|e| e.kind == kind);
    events.reverse();
    events
}

/// The events written since the last call, by type then data id, as
/// `(type, body)`; `seen` remembers what was returned.
async fn fresh_events(
    store: &dyn Store,
    brand: &BrandId,
    seen: &mut HashSet<EventId>,
) -> Vec<(EventType, Value)> {
    let mut out: Vec<_> = store
        .events(brand, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| seen.insert(e.id.clone()))
        .map(|e| (e.kind, body(&e)))
        .collect();
    out.sort_by_key(|(kind, body)| (*kind, body["data"]["id"].to_string()));
    out
}

/// What the worker learned from the first attempt at `d`.
fn outcome(d: &DueDelivery, status: i64, ms: i64, state: DeliveryState) -> AttemptOutcome {
    AttemptOutcome {
        delivery: d.id.clone(),
        brand_id: d.brand_id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        attempt: DeliveryAttempt {
            attempt: d.attempts + 1,
            at: at(ms),
            status: Some(status),
            duration_ms: 12,
            response: format!("answer {status}"),
            error: (status >= 300).then(|| format!("HTTP {status}")),
        },
        state,
        next_attempt_at: (state == DeliveryState::Pending).then(|| at(ms + 60_000)),
        gone: status == 410,
    }
}

/// The due delivery of `event` to `endpoint`.
fn due_for<'a>(due: &'a [DueDelivery], event: &EventId, endpoint: &WebhookId) -> &'a DueDelivery {
    due.iter()
        .find(|d| &d.event_id == event && &d.endpoint_id == endpoint)
        .unwrap_or_else(|| panic!("no due delivery of {event} to {endpoint} in {due:?}"))
}

fn due_ids(due: &[DueDelivery]) -> HashSet<DeliveryId> {
    due.iter().map(|d| d.id.clone()).collect()
}

// ---------------------------------------------------------------------------
// API keys and admin keys.

async fn brand_comes_with_its_first_key(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let (key, found) = store
        .api_key_by_hash(&first_key_hash("alpha"))
        .await
        .unwrap()
        .expect("the first key");
    assert_eq!(found, a);
    let issued = new_key(
        &a.id,
        "key_alpha",
        &first_key_hash("alpha"),
        &[Scope::Admin],
        T0,
    );
    assert_eq!(key, issued.key);
    assert!(key.active(at(T0 + 1)));
    assert_eq!(store.api_keys(&a.id).await.unwrap(), vec![issued.key]);
    assert_eq!(
        audit_actions(store, Some(&a.id)).await,
        [AuditAction::BrandCreated]
    );
    assert_eq!(store.api_key_by_hash(&"f".repeat(64)).await.unwrap(), None);
}

async fn a_taken_slug_is_a_conflict(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let other = Brand {
        id: BrandId::from("brd_other"),
        slug: Slug::parse("alpha").unwrap(),
        name: "Another alpha".into(),
    };
    let key = new_key(&other.id, "key_other", "other-hash", &[Scope::Admin], T0);
    let entry = audit(Some(&other.id), AuditAction::BrandCreated, "alpha", T0);
    assert_conflict(
        store.create_brand(&other, &key, &entry).await,
        "a second brand `alpha`",
    );
    // Nothing of the refused brand was written: not its key, not its audit entry.
    assert_eq!(store.brands().await.unwrap(), vec![a]);
    assert_eq!(store.api_key_by_hash("other-hash").await.unwrap(), None);
    assert!(store.api_keys(&other.id).await.unwrap().is_empty());
    assert_eq!(
        audit_actions(store, None).await,
        [AuditAction::BrandCreated]
    );
}

async fn api_keys_are_listed_and_revoked(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let ci = new_key(
        &a.id,
        "key_ci",
        "ci-hash",
        &[Scope::OrdersWrite, Scope::FactoryRead],
        T0 + 1,
    );
    let entry = audit(Some(&a.id), AuditAction::KeyIssued, "key_ci", T0 + 1);
    store.add_api_key(&ci, &entry).await.unwrap();
    let (found, owner) = store.api_key_by_hash("ci-hash").await.unwrap().unwrap();
    assert_eq!((&found, &owner), (&ci.key, &a));
    assert!(found.grants(Scope::OrdersRead) && !found.grants(Scope::Admin));
    let listed = store.api_keys(&a.id).await.unwrap();
    let listed: Vec<_> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(listed, ["key_alpha", "key_ci"]);
    let listed = store.api_keys(&b.id).await.unwrap();
    let listed: Vec<_> = listed.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(listed, ["key_bravo"]);

    let key_ci = ApiKeyId::from("key_ci");
    let entry = audit(Some(&a.id), AuditAction::KeyRevoked, "key_ci", T0 + 10);
    let revoked = store
        .revoke_api_key(&a.id, &key_ci, at(T0 + 10), &entry)
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(T0 + 10)));
    assert!(!revoked.active(at(T0 + 11)));
    // The key is still found by its hash, revoked, so a request can be told why.
    let (found, _) = store.api_key_by_hash("ci-hash").await.unwrap().unwrap();
    assert_eq!(found, revoked);
    assert_eq!(
        audit_actions(store, Some(&a.id)).await,
        [
            AuditAction::KeyRevoked,
            AuditAction::KeyIssued,
            AuditAction::BrandCreated
        ]
    );
    // Revoking again keeps the first time.
    let entry = audit(Some(&a.id), AuditAction::KeyRevoked, "key_ci", T0 + 20);
    let again = store
        .revoke_api_key(&a.id, &key_ci, at(T0 + 20), &entry)
        .await
        .unwrap();
    assert_eq!(again.revoked_at, Some(at(T0 + 10)));

    // Another brand's key, or no key at all, is not found; nothing is written.
    let audited = store.audit_log(None, 100).await.unwrap().len();
    let entry = audit(Some(&b.id), AuditAction::KeyRevoked, "key_alpha", T0 + 30);
    assert_not_found(
        store
            .revoke_api_key(&b.id, &ApiKeyId::from("key_alpha"), at(T0 + 30), &entry)
            .await,
        "bravo revoking alpha's key",
    );
    assert_not_found(
        store
            .revoke_api_key(&a.id, &ApiKeyId::from("key_nope"), at(T0 + 30), &entry)
            .await,
        "revoking a key that does not exist",
    );
    let (alpha_key, _) = store
        .api_key_by_hash(&first_key_hash("alpha"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(alpha_key.revoked_at, None);
    assert_eq!(store.audit_log(None, 100).await.unwrap().len(), audited);
}

async fn rotating_a_key_expires_the_old_one(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let key_alpha = ApiKeyId::from("key_alpha");
    let next = new_key(&a.id, "key_next", "next-hash", &[Scope::Admin], T0 + 5);
    let entry = audit(Some(&a.id), AuditAction::KeyRotated, "key_alpha", T0 + 5);
    let old = store
        .rotate_api_key(&key_alpha, at(T0 + 1000), &next, &entry)
        .await
        .unwrap();
    assert_eq!(old.id, key_alpha);
    assert_eq!(old.expires_at, Some(at(T0 + 1000)));
    assert_eq!(old.revoked_at, None);
    assert!(old.active(at(T0 + 999)) && !old.active(at(T0 + 1000)));
    let (found, owner) = store.api_key_by_hash("next-hash").await.unwrap().unwrap();
    assert_eq!((found, owner), (next.key.clone(), a.clone()));
    let (found, _) = store
        .api_key_by_hash(&first_key_hash("alpha"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, old);
    assert_eq!(store.api_keys(&a.id).await.unwrap(), vec![old, next.key]);
    assert_eq!(
        audit_actions(store, Some(&a.id)).await[0],
        AuditAction::KeyRotated
    );

    // A revoked key, or another brand's, is not rotated: the new key is not issued.
    let entry = audit(Some(&a.id), AuditAction::KeyRevoked, "key_next", T0 + 6);
    store
        .revoke_api_key(&a.id, &ApiKeyId::from("key_next"), at(T0 + 6), &entry)
        .await
        .unwrap();
    let refused = new_key(
        &a.id,
        "key_refused",
        "refused-hash",
        &[Scope::Admin],
        T0 + 7,
    );
    let entry = audit(Some(&a.id), AuditAction::KeyRotated, "key_next", T0 + 7);
    assert_not_found(
        store
            .rotate_api_key(&ApiKeyId::from("key_next"), at(T0 + 99), &refused, &entry)
            .await,
        "rotating a revoked key",
    );
    assert_not_found(
        store
            .rotate_api_key(&ApiKeyId::from("key_bravo"), at(T0 + 99), &refused, &entry)
            .await,
        "alpha rotating bravo's key",
    );
    assert_eq!(store.api_key_by_hash("refused-hash").await.unwrap(), None);
    let (bravo_key, _) = store
        .api_key_by_hash(&first_key_hash("bravo"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bravo_key.expires_at, None);
    assert_eq!(store.api_keys(&b.id).await.unwrap().len(), 1);
}

async fn admin_keys_are_found_by_hash(store: Arc<dyn Store>) {
    let store = store.as_ref();
    assert!(
        !store.has_admin_keys().await.unwrap(),
        "a new store has none"
    );
    let a = brand(store, "alpha").await;
    let admin = AdminKey {
        id: ApiKeyId::from("key_admin"),
        label: "platform".into(),
        created_at: at(T0),
        revoked_at: None,
    };
    store.add_admin_key(&admin, "admin-hash").await.unwrap();
    assert!(store.has_admin_keys().await.unwrap());
    assert_eq!(
        store.admin_key_by_hash("admin-hash").await.unwrap(),
        Some(admin)
    );
    assert_eq!(store.admin_key_by_hash("nope").await.unwrap(), None);
    // Admin keys and brand keys are apart.
    assert_eq!(store.api_key_by_hash("admin-hash").await.unwrap(), None);
    assert_eq!(
        store
            .admin_key_by_hash(&first_key_hash("alpha"))
            .await
            .unwrap(),
        None
    );
    // The platform's audit log holds every brand's entries.
    brand(store, "bravo").await;
    assert_eq!(audit_actions(store, None).await.len(), 2);
    assert_eq!(audit_actions(store, Some(&a.id)).await.len(), 1);
}

// ---------------------------------------------------------------------------
// Catalog versions.

async fn catalog_versions_keep_their_files(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let factory = file(FileKind::Factory, "factory.toml", "f1");
    let mug = |source| file(FileKind::Product, "mug.toml", source);
    let plate = file(FileKind::Product, "plate.toml", "p1");
    let v1 = catalog_version(1, &["mug"], T0 + 1);
    let v2 = catalog_version(2, &["mug", "plate"], T0 + 10);
    publish(store, &a.id, &v1, &[mug("m1"), factory.clone()], &[])
        .await
        .unwrap();
    publish(
        store,
        &a.id,
        &v2,
        &[plate.clone(), mug("m2"), factory.clone()],
        &[],
    )
    .await
    .unwrap();

    let latest = (v2.clone(), vec![factory.clone(), mug("m2"), plate]);
    assert_eq!(store.catalog(&a.id, None).await.unwrap(), Some(latest));
    let old = (v1.clone(), vec![factory, mug("m1")]);
    assert_eq!(store.catalog(&a.id, Some(1)).await.unwrap(), Some(old));
    assert_eq!(store.catalog(&a.id, Some(3)).await.unwrap(), None);
    assert_eq!(
        store.catalog_versions(&a.id).await.unwrap(),
        vec![v2.clone(), v1.clone()]
    );

    // Each publish lands in the outbox, and in the audit log.
    let published = events_of(store, &a.id, EventType::CatalogPublished).await;
    let versions: Vec<_> = published.iter().map(|e| body(e)["data"].clone()).collect();
    assert_eq!(
        versions,
        [
            serde_json::to_value(&v1).unwrap(),
            serde_json::to_value(&v2).unwrap()
        ]
    );
    assert_eq!(published[1].at, at(T0 + 10));
    assert_eq!(body(&published[1])["type"], "catalog.published");
    assert_eq!(
        audit_actions(store, Some(&a.id)).await,
        [
            AuditAction::CatalogPublished,
            AuditAction::CatalogPublished,
            AuditAction::BrandCreated
        ]
    );
}

async fn publishing_an_existing_version_is_a_conflict(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let v1 = catalog_version(1, &["mug"], T0);
    let files = [file(FileKind::Product, "mug.toml", "m1")];
    publish(store, &a.id, &v1, &files, &[material("clay", "10")])
        .await
        .unwrap();
    let audited = store.audit_log(None, 100).await.unwrap().len();

    let rival = catalog_version(1, &["vase"], T0 + 5);
    let rival_files = [file(FileKind::Product, "vase.toml", "v1")];
    assert_conflict(
        publish(
            store,
            &a.id,
            &rival,
            &rival_files,
            &[material("glaze", "5")],
        )
        .await,
        "publishing version 1 twice",
    );
    // Nothing of the refused publish was written.
    assert_eq!(
        store.catalog(&a.id, Some(1)).await.unwrap(),
        Some((v1.clone(), files.to_vec()))
    );
    assert_eq!(store.catalog_versions(&a.id).await.unwrap(), vec![v1]);
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![material("clay", "10")]
    );
    assert_eq!(store.events(&a.id, 100).await.unwrap().len(), 1);
    assert_eq!(store.audit_log(None, 100).await.unwrap().len(), audited);

    // Versions only go up.
    let v2 = catalog_version(2, &["mug"], T0 + 10);
    publish(store, &a.id, &v2, &files, &[]).await.unwrap();
    assert_conflict(
        publish(store, &a.id, &rival, &rival_files, &[]).await,
        "publishing version 1 after version 2",
    );
    // Version numbers are each brand's own.
    publish(store, &b.id, &rival, &rival_files, &[])
        .await
        .unwrap();
    assert_eq!(
        store.catalog(&b.id, None).await.unwrap(),
        Some((rival, rival_files.to_vec()))
    );
}

async fn publishing_seeds_only_new_materials(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let files = [file(FileKind::Product, "mug.toml", "m1")];
    let v1 = catalog_version(1, &["mug"], T0);
    publish(
        store,
        &a.id,
        &v1,
        &files,
        &[material("clay", "10"), material("box", "5")],
    )
    .await
    .unwrap();
    // A new version declares clay again with another stock, and glaze.
    let v2 = catalog_version(2, &["mug"], T0 + 10);
    publish(
        store,
        &a.id,
        &v2,
        &files,
        &[material("clay", "99"), material("glaze", "3")],
    )
    .await
    .unwrap();
    assert_eq!(
        store.materials(&a.id).await.unwrap(),
        vec![
            material("box", "5"),
            material("clay", "10"),
            material("glaze", "3")
        ]
    );
}

// ---------------------------------------------------------------------------
// The outbox.

async fn placing_an_order_writes_order_created(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    placed_order(store, &a, "ord_1").await;
    let events = store.events(&a.id, 100).await.unwrap();
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert!(e.id.as_str().starts_with(EventId::PREFIX), "{}", e.id);
    assert_eq!(
        (&e.brand_id, e.kind, e.at),
        (&a.id, EventType::OrderCreated, at(T0))
    );
    // The body is the order as the API shows it.
    let stored = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(
        body(e),
        json!({
            "type": "order.created",
            "timestamp": at(T0),
            "data": serde_json::to_value(&stored).unwrap(),
        })
    );
    assert!(store.events(&b.id, 100).await.unwrap().is_empty());
    assert_eq!(store.next_due().await.unwrap(), None, "nobody subscribed");

    // A refused placement writes no event; a batch writes one per order.
    assert_conflict(
        store
            .place_order(&order(
                &a,
                "ord_2",
                None,
                "bob@example.com",
                1,
                add_to("wo_missing", 1),
            ))
            .await,
        "adding to a missing work order",
    );
    assert_eq!(store.events(&a.id, 100).await.unwrap().len(), 1);
    let batch = [
        order(
            &a,
            "ord_3",
            None,
            "cy@example.com",
            1,
            create_wo("wo_3", "A", 1, 1),
        ),
        order(
            &a,
            "ord_4",
            None,
            "dee@example.com",
            1,
            create_wo("wo_4", "B", 1, 1),
        ),
    ];
    for placed in store.place_orders(&batch).await {
        placed.unwrap();
    }
    let created = events_of(store, &a.id, EventType::OrderCreated).await;
    let mut orders: Vec<_> = created
        .iter()
        .map(|e| body(e)["data"]["id"].clone())
        .collect();
    orders.sort_by_key(|id| id.to_string());
    assert_eq!(orders, [json!("ord_1"), json!("ord_3"), json!("ord_4")]);

    // A returning customer's order shows the customer as stored, whatever
    // name the new order gave.
    let mut returning = order(
        &a,
        "ord_5",
        None,
        "ada@example.com",
        1,
        create_wo("wo_5", "C", 1, 1),
    );
    returning.customer.name = "Ada King".into();
    returning.customer.phone = None;
    returning.created_at = at(T0 + 1);
    store.place_order(&returning).await.unwrap();
    let event = store.events(&a.id, 1).await.unwrap().remove(0);
    let stored = store.order(&a.id, &ord("ord_5")).await.unwrap().unwrap();
    assert_eq!(stored.customer.name, "Ada Lovelace");
    assert_eq!(body(&event)["data"], serde_json::to_value(&stored).unwrap());
}

async fn subscribed_endpoints_get_a_pending_delivery(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let created = [EventType::OrderCreated];
    let sub = endpoint(&a, "wh_sub", &created, true);
    let shipments = endpoint(&a, "wh_shipments", &[EventType::ShipmentCreated], true);
    let off = endpoint(&a, "wh_off", &created, false);
    let bravo = endpoint(&b, "wh_bravo", &created, true);
    for e in [&sub, &shipments, &off, &bravo] {
        subscribe(store, e).await;
    }
    assert_eq!(
        store.webhooks(&a.id).await.unwrap(),
        vec![off.clone(), shipments.clone(), sub.clone()],
        "by creation, then id"
    );
    assert_eq!(store.webhook(&b.id, &sub.id).await.unwrap(), None);

    placed_order(store, &a, "ord_1").await;
    let event = store.events(&a.id, 1).await.unwrap().remove(0);
    let id = delivery_id(&event.id, &sub.id);
    assert_eq!(
        store.deliveries(&a.id, &sub.id, 10).await.unwrap(),
        vec![Delivery {
            id: id.clone(),
            endpoint_id: sub.id.clone(),
            event_id: event.id.clone(),
            event_type: EventType::OrderCreated,
            state: DeliveryState::Pending,
            attempts: 0,
            next_attempt_at: Some(at(T0)),
            last_status: None,
            last_error: None,
            created_at: at(T0),
        }]
    );
    // Not subscribed, turned off, or another brand's: no delivery.
    for (brand, e) in [(&a, &shipments), (&a, &off), (&b, &bravo)] {
        assert!(
            store
                .deliveries(&brand.id, &e.id, 10)
                .await
                .unwrap()
                .is_empty(),
            "{}",
            e.id
        );
    }

    let due = store.due_deliveries(at(T0), 10, &[]).await.unwrap();
    assert_eq!(
        due,
        vec![DueDelivery {
            id: id.clone(),
            brand_id: a.id.clone(),
            endpoint_id: sub.id.clone(),
            event_id: event.id.clone(),
            url: sub.url.clone(),
            secret: sub.secret.clone(),
            previous_secret: None,
            payload: event.payload.clone(),
            attempts: 0,
        }]
    );
    assert!(
        store
            .due_deliveries(at(T0 - 1), 10, &[])
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .due_deliveries(at(T0), 10, std::slice::from_ref(&id))
            .await
            .unwrap()
            .is_empty(),
        "in flight"
    );
    assert_eq!(store.next_due().await.unwrap(), Some(at(T0)));

    // The fan-out is part of the placement: a refused one leaves none.
    assert_conflict(
        store
            .place_order(&order(
                &a,
                "ord_2",
                None,
                "bob@example.com",
                1,
                add_to("wo_missing", 1),
            ))
            .await,
        "adding to a missing work order",
    );
    assert_eq!(store.deliveries(&a.id, &sub.id, 10).await.unwrap().len(), 1);

    // Subscribing later gets the events from then on.
    let widened = WebhookEndpoint {
        events: vec![EventType::OrderCreated, EventType::ShipmentCreated],
        updated_at: at(T0 + 1),
        ..shipments.clone()
    };
    let entry = audit(
        Some(&a.id),
        AuditAction::WebhookUpdated,
        "wh_shipments",
        T0 + 1,
    );
    store.update_webhook(&widened, &entry).await.unwrap();
    assert_eq!(
        store.webhook(&a.id, &shipments.id).await.unwrap(),
        Some(widened.clone())
    );
    placed_order(store, &a, "ord_3").await;
    assert_eq!(store.deliveries(&a.id, &sub.id, 10).await.unwrap().len(), 2);
    assert_eq!(
        store
            .deliveries(&a.id, &widened.id, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(
        store
            .deliveries(&a.id, &off.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn operations_report_status_changes_and_completed_work_orders(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let mut seen = HashSet::new();
    store
        .place_order(&order(
            &a,
            "ord_1",
            None,
            "ada@example.com",
            1,
            create_wo("wo_1", "MUG-M", 1, 2),
        ))
        .await
        .unwrap();
    store
        .place_order(&order(
            &a,
            "ord_2",
            None,
            "bob@example.com",
            1,
            add_to("wo_1", 1),
        ))
        .await
        .unwrap();
    let placed = fresh_events(store, &a.id, &mut seen).await;
    assert_eq!(placed.len(), 2);

    // Starting the first operation moves both orders into production.
    start(store, &a, "wo_1", 1, T0 + 100).await.unwrap();
    let moved = fresh_events(store, &a.id, &mut seen).await;
    assert_eq!(moved.len(), 2, "{moved:?}");
    for ((kind, body), id) in moved.iter().zip(["ord_1", "ord_2"]) {
        assert_eq!(*kind, EventType::OrderStatusChanged);
        assert_eq!(body["type"], "order.status_changed");
        assert_eq!(body["timestamp"], json!(at(T0 + 100)));
        // The order as it now stands, its new status and timeline entry included.
        let stored = store.order(&a.id, &ord(id)).await.unwrap().unwrap();
        assert_eq!(stored.status, OrderStatus::InProduction);
        assert_eq!(body["data"], serde_json::to_value(&stored).unwrap());
        assert_eq!(body["data"]["status"], "in_production");
    }

    // Steps that move no order and finish no work order report nothing.
    complete(store, &a, "wo_1", 1, T0 + 200).await.unwrap();
    start(store, &a, "wo_1", 2, T0 + 300).await.unwrap();
    assert_eq!(fresh_events(store, &a.id, &mut seen).await, []);
    // A refused step neither.
    assert_conflict(
        start(store, &a, "wo_1", 2, T0 + 301).await,
        "starting a started operation",
    );
    assert_eq!(fresh_events(store, &a.id, &mut seen).await, []);

    // The last operation done: the orders are made and the work order completed.
    let change = complete(store, &a, "wo_1", 2, T0 + 400).await.unwrap();
    let done = fresh_events(store, &a.id, &mut seen).await;
    let kinds: Vec<_> = done.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [
            EventType::OrderStatusChanged,
            EventType::OrderStatusChanged,
            EventType::WorkOrderCompleted
        ]
    );
    assert_eq!(done[0].1["data"]["status"], "made");
    assert_eq!(done[1].1["data"]["status"], "made");
    let completed = &done[2].1;
    assert_eq!(completed["type"], "work_order.completed");
    assert_eq!(
        completed["data"],
        serde_json::to_value(&change.work_order).unwrap()
    );
    assert_eq!(completed["data"]["status"], "done");
}

async fn shipments_report_created_and_delivered(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    made_order(store, &a, "ord_1").await;
    let mut seen = HashSet::new();
    fresh_events(store, &a.id, &mut seen).await;

    let shipped = store
        .create_shipment(&a.id, &shipment("shp_1", "ord_1", T0 + 30))
        .await
        .unwrap();
    let events = fresh_events(store, &a.id, &mut seen).await;
    let kinds: Vec<_> = events.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [EventType::OrderStatusChanged, EventType::ShipmentCreated]
    );
    let (order_body, shipment_body) = (&events[0].1, &events[1].1);
    assert_eq!(order_body["data"]["status"], "shipped");
    assert_eq!(
        order_body["data"]["shipments"],
        json!([serde_json::to_value(&shipped).unwrap()])
    );
    assert_eq!(
        shipment_body["data"],
        serde_json::to_value(&shipped).unwrap()
    );
    assert_eq!(shipment_body["timestamp"], json!(at(T0 + 30)));

    // A refused shipment reports nothing.
    assert_conflict(
        store
            .create_shipment(&a.id, &shipment("shp_2", "ord_1", T0 + 35))
            .await,
        "shipping a shipped order",
    );
    assert_eq!(fresh_events(store, &a.id, &mut seen).await, []);

    let shp_1 = ShipmentId::from("shp_1");
    let delivered = store
        .mark_delivered(&a.id, &shp_1, at(T0 + 40))
        .await
        .unwrap();
    let events = fresh_events(store, &a.id, &mut seen).await;
    let kinds: Vec<_> = events.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(
        kinds,
        [EventType::OrderStatusChanged, EventType::ShipmentDelivered]
    );
    assert_eq!(events[0].1["data"]["status"], "delivered");
    assert_eq!(
        events[1].1["data"],
        serde_json::to_value(&delivered).unwrap()
    );
    assert_eq!(events[1].1["type"], "shipment.delivered");
    // Delivering again reports nothing.
    store
        .mark_delivered(&a.id, &shp_1, at(T0 + 50))
        .await
        .unwrap();
    assert_eq!(fresh_events(store, &a.id, &mut seen).await, []);
}

async fn replans_report_moved_promises(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    placed_order(store, &a, "ord_1").await;
    placed_order(store, &a, "ord_2").await;
    let mut seen = HashSet::new();
    fresh_events(store, &a.id, &mut seen).await;

    let repromise = |id: &str, promised: &str, entry: Option<TimelineEntry>| Repromise {
        order_id: ord(id),
        promised_date: day(promised),
        bookings: vec![booking(id)],
        event: entry,
    };
    let entry = TimelineEntry {
        id: TimelineEntryId::from("evt_moved"),
        status: TimelineStatus::PromiseMoved,
        note: "2026-01-15 -> 2026-01-17".into(),
        at: at(T0 + 5),
    };
    // ord_2 is rebooked on the same day: no entry for its customer, no event.
    let replan = [
        repromise("ord_1", "2026-01-17", Some(entry)),
        repromise("ord_2", "2026-01-15", None),
    ];
    store.record_replan(&a.id, None, &replan).await.unwrap();
    let events = fresh_events(store, &a.id, &mut seen).await;
    assert_eq!(events.len(), 1, "{events:?}");
    let (kind, body) = &events[0];
    assert_eq!(*kind, EventType::OrderPromiseMoved);
    assert_eq!(body["type"], "order.promise_moved");
    assert_eq!(body["timestamp"], json!(at(T0 + 5)));
    let stored = store.order(&a.id, &ord("ord_1")).await.unwrap().unwrap();
    assert_eq!(body["data"], serde_json::to_value(&stored).unwrap());
    assert_eq!(body["data"]["promised_date"], "2026-01-17");
}

// ---------------------------------------------------------------------------
// Deliveries.

async fn attempts_deliver_or_turn_a_gone_endpoint_off(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let created = [EventType::OrderCreated];
    let (up, gone) = (
        endpoint(&a, "wh_up", &created, true),
        endpoint(&a, "wh_gone", &created, true),
    );
    subscribe(store, &up).await;
    subscribe(store, &gone).await;
    placed_order(store, &a, "ord_1").await;
    placed_order(store, &a, "ord_2").await;
    let events = events_of(store, &a.id, EventType::OrderCreated).await;
    let (first, second) = (&events[0].id, &events[1].id);
    let due = store.due_deliveries(at(T0), 10, &[]).await.unwrap();
    assert_eq!(due.len(), 4);

    // A failed attempt leaves the delivery pending until its next time.
    let retry = outcome(
        due_for(&due, second, &up.id),
        503,
        T0 + 1,
        DeliveryState::Pending,
    );
    store
        .record_attempts(std::slice::from_ref(&retry))
        .await
        .unwrap();
    let due_now = store.due_deliveries(at(T0 + 2), 10, &[]).await.unwrap();
    assert!(!due_ids(&due_now).contains(&retry.delivery));
    assert_eq!(due_now.len(), 3);

    // A 2xx delivers; the endpoint being back, its waiting retry goes now.
    // A 410 fails the delivery and turns the endpoint off.
    let ok = outcome(
        due_for(&due, first, &up.id),
        200,
        T0 + 5,
        DeliveryState::Delivered,
    );
    let gone_now = outcome(
        due_for(&due, first, &gone.id),
        410,
        T0 + 5,
        DeliveryState::Failed,
    );
    store
        .record_attempts(&[ok.clone(), gone_now.clone()])
        .await
        .unwrap();
    let deliveries = store.deliveries(&a.id, &up.id, 10).await.unwrap();
    let delivered = deliveries.iter().find(|d| d.id == ok.delivery).unwrap();
    assert_eq!(delivered.state, DeliveryState::Delivered);
    assert_eq!(delivered.attempts, 1);
    assert_eq!(delivered.last_status, Some(200));
    assert_eq!(delivered.next_attempt_at, None);
    let retried = deliveries.iter().find(|d| d.id == retry.delivery).unwrap();
    assert_eq!(retried.state, DeliveryState::Pending);
    assert_eq!(retried.last_status, Some(503));
    assert_eq!(retried.next_attempt_at, Some(at(T0 + 5)), "sent again now");
    assert_eq!(
        store.delivery_attempts(&a.id, &ok.delivery).await.unwrap(),
        vec![ok.attempt.clone()]
    );
    let off = store.webhook(&a.id, &gone.id).await.unwrap().unwrap();
    assert!(!off.enabled);
    assert!(off.disabled_reason.is_some());
    let failed = store.deliveries(&a.id, &gone.id, 10).await.unwrap();
    let failed = failed.iter().find(|d| d.id == gone_now.delivery).unwrap();
    assert_eq!(
        (failed.state, failed.last_status),
        (DeliveryState::Failed, Some(410))
    );

    // The gone endpoint's other delivery is still pending, but not due.
    let due = store.due_deliveries(at(T0 + 10), 10, &[]).await.unwrap();
    assert_eq!(due_ids(&due), HashSet::from([retry.delivery.clone()]));
    assert_eq!(store.next_due().await.unwrap(), Some(at(T0 + 5)));
    // And it gets no new ones.
    placed_order(store, &a, "ord_3").await;
    assert_eq!(
        store.deliveries(&a.id, &gone.id, 10).await.unwrap().len(),
        2
    );
    assert_eq!(store.deliveries(&a.id, &up.id, 10).await.unwrap().len(), 3);
}

async fn replay_one_delivery_or_every_failed_one(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let hook = endpoint(&a, "wh_1", &[EventType::OrderCreated], true);
    subscribe(store, &hook).await;
    placed_order(store, &a, "ord_1").await;
    placed_order(store, &a, "ord_2").await;
    placed_order(store, &a, "ord_3").await;
    let events = events_of(store, &a.id, EventType::OrderCreated).await;
    let due = store.due_deliveries(at(T0), 10, &[]).await.unwrap();
    let failed = outcome(
        due_for(&due, &events[0].id, &hook.id),
        500,
        T0 + 1,
        DeliveryState::Failed,
    );
    let delivered = outcome(
        due_for(&due, &events[1].id, &hook.id),
        204,
        T0 + 1,
        DeliveryState::Delivered,
    );
    let waiting = due_for(&due, &events[2].id, &hook.id).id.clone();
    store
        .record_attempts(&[failed.clone(), delivered.clone()])
        .await
        .unwrap();
    let state = |id: DeliveryId| {
        let (brand, endpoint) = (&a.id, &hook.id);
        async move {
            let all = store.deliveries(brand, endpoint, 10).await.unwrap();
            let d = all.into_iter().find(|d| d.id == id).unwrap();
            (d.state, d.next_attempt_at)
        }
    };

    // Every failed delivery, none other: the delivered one and the one never tried stay.
    let replayed = |ms| audit(Some(&a.id), AuditAction::WebhookReplayed, "wh_1", ms);
    let n = store
        .replay(&a.id, &hook.id, None, at(T0 + 100), &replayed(T0 + 100))
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        state(failed.delivery.clone()).await,
        (DeliveryState::Pending, Some(at(T0 + 100)))
    );
    assert_eq!(
        state(delivered.delivery.clone()).await,
        (DeliveryState::Delivered, None)
    );
    assert_eq!(
        state(waiting.clone()).await,
        (DeliveryState::Pending, Some(at(T0)))
    );

    // One named delivery, even a delivered one.
    let n = store
        .replay(
            &a.id,
            &hook.id,
            Some(&delivered.delivery),
            at(T0 + 200),
            &replayed(T0 + 200),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        state(delivered.delivery.clone()).await,
        (DeliveryState::Pending, Some(at(T0 + 200)))
    );
    let due = store.due_deliveries(at(T0 + 200), 10, &[]).await.unwrap();
    assert_eq!(
        due_ids(&due),
        HashSet::from([failed.delivery.clone(), delivered.delivery.clone(), waiting])
    );
    let again = due_for(&due, &events[0].id, &hook.id);
    assert_eq!(again.attempts, 1, "the attempt count goes on");

    // Another brand's endpoint, or no such delivery: not found, not audited.
    assert_not_found(
        store
            .replay(
                &a.id,
                &hook.id,
                Some(&DeliveryId::from("dlv_nope")),
                at(T0 + 300),
                &replayed(T0 + 300),
            )
            .await,
        "replaying a delivery that does not exist",
    );
    assert_not_found(
        store
            .replay(
                &b.id,
                &hook.id,
                Some(&failed.delivery),
                at(T0 + 300),
                &replayed(T0 + 300),
            )
            .await,
        "bravo replaying alpha's delivery",
    );
    let actions = audit_actions(store, Some(&a.id)).await;
    let replays = actions
        .iter()
        .filter(|a| **a == AuditAction::WebhookReplayed)
        .count();
    assert_eq!(replays, 2);
}

async fn delete_webhook_removes_its_deliveries(store: Arc<dyn Store>) {
    let store = store.as_ref();
    let a = brand(store, "alpha").await;
    let b = brand(store, "bravo").await;
    let created = [EventType::OrderCreated];
    let (doomed, kept) = (
        endpoint(&a, "wh_doomed", &created, true),
        endpoint(&a, "wh_kept", &created, true),
    );
    subscribe(store, &doomed).await;
    subscribe(store, &kept).await;
    placed_order(store, &a, "ord_1").await;
    assert_eq!(
        store.due_deliveries(at(T0), 10, &[]).await.unwrap().len(),
        2
    );

    let deleted = audit(
        Some(&a.id),
        AuditAction::WebhookDeleted,
        "wh_doomed",
        T0 + 1,
    );
    store
        .delete_webhook(&a.id, &doomed.id, &deleted)
        .await
        .unwrap();
    assert_eq!(store.webhook(&a.id, &doomed.id).await.unwrap(), None);
    assert_eq!(store.webhooks(&a.id).await.unwrap(), vec![kept.clone()]);
    assert!(
        store
            .deliveries(&a.id, &doomed.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.due_deliveries(at(T0), 10, &[]).await.unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].endpoint_id, kept.id);
    assert_eq!(
        audit_actions(store, Some(&a.id)).await[0],
        AuditAction::WebhookDeleted
    );
    // Its subscriptions went too: later events are not fanned out to it.
    placed_order(store, &a, "ord_2").await;
    let due = store.due_deliveries(at(T0), 10, &[]).await.unwrap();
    assert!(due.iter().all(|d| d.endpoint_id == kept.id), "{due:?}");
    assert_eq!(due.len(), 2);

    assert_not_found(
        store.delete_webhook(&a.id, &doomed.id, &deleted).await,
        "deleting it twice",
    );
    let entry = audit(Some(&b.id), AuditAction::WebhookDeleted, "wh_kept", T0 + 2);
    assert_not_found(
        store.delete_webhook(&b.id, &kept.id, &entry).await,
        "bravo deleting alpha's endpoint",
    );
    assert_eq!(store.webhooks(&a.id).await.unwrap(), vec![kept]);
}
