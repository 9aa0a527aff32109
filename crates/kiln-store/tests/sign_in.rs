//! Failed sign-ins counted in the store, on both backends: by key, within
//! the window asked for, forgotten once older than the window or when the
//! account signs in.

#[macro_use]
mod common;

use std::sync::Arc;

use common::*;
use kiln_store::prelude::*;

store_tests!(failures_count_by_key_within_the_window);

async fn failures_count_by_key_within_the_window(store: Arc<dyn Store>) {
    let s = |secs: i64| at(T0 + secs * 1000);
    let (account, address) = ("account:ada@example.com", "address:192.0.2.7");
    for t in [0, 10, 20] {
        store
            .record_sign_in_failure(&[account, address], s(t), s(t - 900))
            .await
            .unwrap();
    }
    let count = |key: &'static str, since: i64| {
        let store = store.clone();
        async move { store.sign_in_failures(key, s(since)).await.unwrap() }
    };
    assert_eq!(count(account, -900).await, 3);
    assert_eq!(count(address, 10).await, 2, "only those since then");
    assert_eq!(count("account:bob@example.com", -900).await, 0);

    // A failure much later forgets those before its window, for every key.
    store
        .record_sign_in_failure(&["account:bob@example.com"], s(2000), s(1100))
        .await
        .unwrap();
    assert_eq!(count(account, 0).await, 0);
    assert_eq!(count("account:bob@example.com", 1100).await, 1);

    // Signing in clears the account's failures, not the address's.
    store
        .record_sign_in_failure(&[account, address], s(2001), s(1101))
        .await
        .unwrap();
    store.clear_sign_in_failures(account).await.unwrap();
    assert_eq!(count(account, 1101).await, 0);
    assert_eq!(count(address, 1101).await, 1);
}
