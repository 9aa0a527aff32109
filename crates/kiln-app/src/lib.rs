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
mod cpu;
pub mod demand;
pub mod demo;
pub mod error;
pub mod factory;
pub mod floor;
mod flow;
pub mod invitations;
pub mod keys;
pub mod labels;
pub mod live;
pub mod logistics;
pub mod mail;
pub mod orders;
pub mod passport;
pub mod payment;
pub mod planning;
pub mod profiles;
pub mod purchasing;
pub mod rating;
pub mod runtime;
pub mod shipping;
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
    /// Events resolved to profiles, one lock per brand.
    profiles: Arc<profiles::ingest::Profiles>,
    /// Bulk acceptances being placed, by Idempotency-Key: a retry waits.
    bulk_in_flight: bulk::in_flight::InFlight,
    /// API keys checked in the last second (see [`keys::KeyCache`]).
    keys: keys::KeyCache,
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
            bulk_in_flight: Default::default(),
            keys: Default::default(),
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
    /// that does not exist is not found. Where servers share the database,
    /// only the holder of the brand's lease plans it: this takes the lease
    /// (rebuilding the plan from the store when it was just taken), or says
    /// where the brand is served ([`Error::Elsewhere`]).
    pub async fn brand(&self, slug: &str) -> Result<Arc<BrandRuntime>> {
        let store = self.store.as_ref();
        if store.leases().is_none() {
            return self.runtimes.get(store, slug).await;
        }
        if let Some(rt) = self.held_here(slug).await {
            return Ok(rt);
        }
        let brand = store
            .brand_by_slug(slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no brand `{slug}`")))?;
        match store.take_lease(&brand.id).await? {
            kiln_store::Lease::Held { fresh, epoch } => {
                if fresh {
                    tracing::info!(
                        brand = slug,
                        epoch,
                        "took the brand's lease; its plan is rebuilt from the store"
                    );
                    self.runtimes.retire(std::slice::from_ref(&brand.id)).await;
                }
                self.runtimes.get(store, slug).await
            }
            kiln_store::Lease::Elsewhere { address, .. } => {
                self.runtimes.retire(std::slice::from_ref(&brand.id)).await;
                Err(Error::Elsewhere {
                    address: Some(address),
                })
            }
        }
    }

    /// The brand's record alone, for use cases that read or write the store
    /// without its plan or catalog: any server serves them, without a lease.
    pub(crate) async fn brand_record(&self, slug: &str) -> Result<kiln_domain::Brand> {
        self.store
            .brand_by_slug(slug)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no brand `{slug}`")))
    }

    /// The brand's id: from the plan this server holds, else from the store.
    pub(crate) async fn brand_id_here_or_stored(&self, slug: &str) -> Result<kiln_domain::BrandId> {
        if let Some(rt) = self.held_here(slug).await {
            return Ok(rt.brand.id.clone());
        }
        Ok(self.brand_record(slug).await?.id)
    }

    /// The brand's runtime if this server has it loaded and may serve it:
    /// its lease is still valid here (or the store has no leases).
    async fn held_here(&self, slug: &str) -> Option<Arc<BrandRuntime>> {
        let rt = self.runtimes.peek(slug).await?;
        let leases = self.store.leases();
        leases
            .is_none_or(|leases| leases.valid(&rt.brand.id))
            .then_some(rt)
    }

    /// Renews this server's brand leases every quarter of their time to
    /// live, and forgets the plans of brands another server took. Does
    /// nothing for a store without leases.
    pub fn start_leases(self: &Arc<Self>) {
        let Some(leases) = self.store.leases() else {
            return;
        };
        let every = leases.ttl() / 4;
        let app = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(app) = app.upgrade() else { return };
                match app.store.renew_leases().await {
                    Ok(lost) if !lost.is_empty() => {
                        tracing::warn!(brands = ?lost, "another server took these brands' leases");
                        app.runtimes.retire(&lost).await;
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(error = %e, "renewing brand leases failed; they lapse unless renewed")
                    }
                }
            }
        });
    }

    /// Before a clean shutdown: writes every queued order, then gives the
    /// brand leases back so other servers take the brands at once.
    pub async fn release_leases(&self) -> Result<()> {
        if self.store.leases().is_none() {
            return Ok(());
        }
        self.orders.flush().await;
        self.store.release_leases().await?;
        Ok(())
    }

    /// Whether other servers may share this one's database: brands are then
    /// planned under leases, and requests for a brand another server plans
    /// are forwarded there.
    pub fn shares_database(&self) -> bool {
        self.store.leases().is_some()
    }

    /// Whether the store answers.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }
}
