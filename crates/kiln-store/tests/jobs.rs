//! Periodic work on a brand claimed per period (`claim_brand_job`), on both
//! backends: whoever claims a period first runs it, anyone else that period
//! is told no, and each claim says when the job last ran.

#[macro_use]
mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use kiln_store::JobClaim;
use kiln_store::prelude::*;

store_tests!(a_periodic_job_is_claimed_once_per_period);

async fn a_periodic_job_is_claimed_once_per_period(store: Arc<dyn Store>) {
    let (a, b) = (
        brand(store.as_ref(), "alpha").await,
        brand(store.as_ref(), "bravo").await,
    );
    let at = |s: i64| kiln_store::timestamp_ms(T0 + s * 1000).expect("a time");
    let claim = |brand: &kiln_store::BrandId, job: &'static str, s: i64| {
        let (store, brand) = (store.clone(), brand.clone());
        async move {
            store
                .claim_brand_job(&brand, job, Duration::from_secs(60), at(s))
                .await
                .expect("no error")
        }
    };
    assert_eq!(
        claim(&a.id, "sweep", 0).await,
        Some(JobClaim { previous: None }),
        "the first claim: never ran before"
    );
    assert_eq!(claim(&a.id, "sweep", 0).await, None, "claimed already");
    assert_eq!(claim(&a.id, "sweep", 59).await, None, "within the period");
    // Another job, and another brand's, are their own.
    assert!(claim(&a.id, "entries", 10).await.is_some());
    assert!(claim(&b.id, "sweep", 10).await.is_some());
    assert_eq!(
        claim(&a.id, "sweep", 60).await,
        Some(JobClaim {
            previous: Some(at(0))
        }),
        "the next period, with the last run"
    );
    // A claim given back (its job failed): the period is due again, from
    // the run before it; one given back after another claim changes nothing.
    store
        .return_brand_job(&a.id, "sweep", at(60), Some(at(0)))
        .await
        .expect("given back");
    assert_eq!(
        claim(&a.id, "sweep", 61).await,
        Some(JobClaim {
            previous: Some(at(0))
        }),
        "due again after the claim was given back"
    );
    store
        .return_brand_job(&a.id, "sweep", at(60), Some(at(0)))
        .await
        .expect("no error");
    assert_eq!(
        claim(&a.id, "sweep", 62).await,
        None,
        "the later claim stands"
    );
    // A last run stamped by a clock ahead of this one is due, not waited for.
    assert!(claim(&b.id, "ahead", 500).await.is_some());
    assert!(
        claim(&b.id, "ahead", 100).await.is_some(),
        "a clock behind still claims"
    );
    // Servers claiming one period at once: exactly one wins.
    let racing: Vec<_> = (0..8)
        .map(|_| tokio::spawn(claim(&a.id, "sweep", 200)))
        .collect();
    let mut won = Vec::new();
    for r in racing {
        won.push(r.await.expect("the claim ran"));
    }
    assert_eq!(won.iter().filter(|c| c.is_some()).count(), 1, "{won:?}");
}
