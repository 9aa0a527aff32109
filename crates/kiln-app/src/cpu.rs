//! CPU-bound work done inside a request that must keep what it borrows
//! (a bulk order's lines borrow the brand's catalog), so it cannot move to
//! `spawn_blocking`.
//!
//! [`work`] runs it through `tokio::task::block_in_place`: the async worker
//! it runs on hands its other tasks to a new worker first, so the single
//! orders placed meanwhile keep both workers. On a current-thread runtime
//! (some tests) there is no other worker to hand them to, and it simply
//! runs.

use tokio::runtime::{Handle, RuntimeFlavor};

/// Runs `f` where it does not hold up the other tasks of the runtime.
pub fn work<T>(f: impl FnOnce() -> T) -> T {
    match Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}
