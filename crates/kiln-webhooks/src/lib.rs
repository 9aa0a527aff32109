//! `kiln-webhooks`: outgoing webhooks as the [Standard Webhooks 1.0] specification says.
//!
//! A webhook tells a customer's server that something happened ("order placed"), by an
//! HTTP `POST` of a JSON body to a URL the customer registered. This crate is the pure,
//! storage-free part of sending them:
//!
//! - [`secret`]: the endpoint's `whsec_` signing secret, and the HMAC-SHA256
//!   `webhook-signature` that lets the receiver check a delivery came from us, unchanged.
//! - [`policy`]: which URLs and IP addresses webhooks may go to, so a customer's URL
//!   cannot reach our internal network (server-side request forgery).
//! - [`retry`]: when to try again after a failure, over more than three days.
//! - [`send`]: one delivery attempt over HTTP, with the policy enforced on the addresses
//!   actually connected to, and the outcome in plain words.
//!
//! What to send, when, and recording attempts belong to the caller: it gives each event
//! a message id (kept across retries), signs with the current time on every attempt,
//! and uses [`retry::delay_after`] to schedule the next one.
//!
//! [Standard Webhooks 1.0]: https://www.standardwebhooks.com

pub mod policy;
pub mod retry;
pub mod secret;
pub mod send;

pub use policy::{AddressPolicy, Refused, UrlError};
pub use retry::{MAX_ATTEMPTS, delay_after};
pub use secret::{Secret, SecretError, headers};
pub use send::{Attempt, Sender, SenderError};
