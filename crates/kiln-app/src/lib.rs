//! The application layer: one function per use case, on [`App`].
//!
//! The API, the web UI, the CLI and background jobs all call these; none of
//! them owns a transaction, a rollback or a plan lock. A use case takes
//! parsed input (domain types from [`kiln_domain`]), checks the domain's
//! rules, runs the engines (`kiln-configure`, `kiln-plan`, `kiln-forecast`)
//! and writes through the store, and answers with records or an [`Error`].
//!
//! Read first: [`App::place_order`] (`orders.rs`), the spine of the platform:
//! it configures each line, plans it on the brand's live schedule under the
//! brand's plan lock ([`runtime`]), queues the order to the group-commit
//! writer ([`writer`]) and undoes the plan if the write fails.
//!
//! Where state lives: the store holds every record; each brand's compiled
//! catalog and live plan (schedule, material positions, open batches) live
//! in memory in one [`runtime::BrandRuntime`] per brand, rebuilt from the
//! store on first use. One process owns a brand's plan: two servers on one
//! database would double-book machines (lifted by the scale-out work).

pub mod brands;
pub mod bulk;
pub mod catalog;
pub mod changes;
pub mod claims;
pub mod demand;
pub mod demo;
pub mod error;
pub mod factory;
mod flow;
pub mod invitations;
pub mod keys;
pub mod labels;
pub mod live;
pub mod mail;
pub mod orders;
pub mod passport;
pub mod payment;
pub mod planning;
pub mod profiles;
pub mod runtime;
pub mod staff;
pub mod storefront;
pub mod stores;
pub mod time;
pub mod webhooks;
mod writer;

use std::sync::Arc;

use kiln_store::Store;

pub use error::{Error, FieldError, ModelError, Result};
pub use keys::{Actor, Caller};
pub use runtime::BrandRuntime;

/// What the operator decides when starting the platform.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Where webhooks may be sent: loopback and private addresses are
    /// refused unless allowed (server-side request forgery).
    pub webhook_policy: webhooks::AddressPolicy,
    /// Where mail to staff (invitations, password resets) and segment mail
    /// is written, one file per message, when no SMTP relay is given.
    pub mail_dir: Option<std::path::PathBuf>,
    /// An SMTP relay to send mail through instead
    /// (`smtp://user:pass@host:587?tls=required` for STARTTLS,
    /// `smtps://...:465` for TLS): see [`mail::SmtpMailer`].
    pub smtp_url: Option<String>,
}

/// The platform's use cases over one store.
pub struct App {
    store: Arc<dyn Store>,
    runtimes: runtime::Runtimes,
    orders: writer::OrderWriter,
    config: Config,
    /// Wakes the webhook worker when a commit wrote events.
    outbox: Arc<tokio::sync::Notify>,
    /// Recent failed sign-ins, by account and address.
    attempts: staff::Attempts,
    /// Events resolved to profiles, one lock per brand.
    profiles: Arc<profiles::ingest::Profiles>,
}

impl App {
    /// The platform on `store`. Starts the order writer on the current tokio
    /// runtime; start the webhook worker with [`App::start_webhooks`].
    pub fn new(store: Arc<dyn Store>, config: Config) -> Arc<App> {
        let outbox = Arc::new(tokio::sync::Notify::new());
        Arc::new(App {
            orders: writer::OrderWriter::spawn(store.clone(), outbox.clone()),
            profiles: Arc::new(profiles::ingest::Profiles::new(
                store.clone(),
                outbox.clone(),
            )),
            store,
            runtimes: runtime::Runtimes::default(),
            config,
            outbox,
            attempts: staff::Attempts::default(),
        })
    }

    /// Where mail is written, when it is (see [`Config::mail_dir`]).
    pub fn mail_dir(&self) -> Option<&std::path::Path> {
        self.config.mail_dir.as_deref()
    }

    /// The store, for the shell's health check.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// A brand's compiled catalog and live plan, loaded on first use; a brand
    /// that does not exist is not found.
    pub async fn brand(&self, slug: &str) -> Result<Arc<BrandRuntime>> {
        self.runtimes.get(self.store.as_ref(), slug).await
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }
}
