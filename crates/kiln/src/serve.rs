//! `kiln serve`: open the store, seed the demo if asked, serve HTTP.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use kiln_app::{App, Config};
use kiln_store::{PostgresStore, SqliteStore, Store};

/// Where the store is: shared by every command that opens it.
#[derive(clap::Args)]
pub struct StoreArgs {
    /// `postgres://...` or `sqlite://PATH`; default: `kiln.db` in the data directory.
    #[arg(long)]
    database: Option<String>,
    /// Where the embedded database lives, and mail to staff (`mail/`).
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
}

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    #[command(flatten)]
    store: StoreArgs,
    /// Seed a demo brand with three products; print its key and a platform
    /// admin key. Allows webhooks to loopback addresses.
    #[arg(long)]
    demo: bool,
    /// Let webhooks go to loopback addresses (127.0.0.0/8, ::1, localhost).
    #[arg(long)]
    webhook_allow_loopback: bool,
    /// Let webhooks go to private networks (10/8, 172.16/12, 192.168/16,
    /// 100.64/10, fc00::/7).
    #[arg(long)]
    webhook_allow_private: bool,
    /// Send mail (staff invitations, segment mail) through this SMTP relay:
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS),
    /// `smtps://user:pass@host:465` (TLS), or `smtp://localhost:25` (plain).
    /// Default: write each message as a file under the data directory's `mail/`.
    #[arg(long, env = "KILN_SMTP_URL")]
    smtp_url: Option<String>,
    /// Where the other servers sharing a PostgreSQL database reach this one
    /// to forward a brand it plans (`http://10.0.0.5:8080`); default: the
    /// address it listens on.
    #[arg(long, env = "KILN_ADVERTISE_URL")]
    advertise_url: Option<String>,
    /// Read machine events from NATS JetStream at this URL
    /// (`nats://127.0.0.1:4222`): subjects `kiln.floor.<brand>.<work
    /// centre>.<machine>`, kept in the stream `KILN_FLOOR` until a server has
    /// stored them.
    #[arg(long, env = "KILN_NATS_URL")]
    nats: Option<String>,
    /// The floor's subjects on NATS begin with this (its stream is named
    /// after it: `KILN_FLOOR`).
    #[arg(long, default_value = crate::edge::PREFIX)]
    nats_prefix: String,
}

/// How long a brand's lease outlives its last renewal: a server that dies
/// loses its brands to another after at most this (see `kiln_store::lease`).
const LEASE_TTL: std::time::Duration = std::time::Duration::from_secs(4);

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt().with_target(false).init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

/// Opens the store. A server on PostgreSQL passes `holder`: the database may
/// be shared with other servers, and brands are planned under leases.
pub async fn open_store(
    args: &StoreArgs,
    holder: Option<kiln_store::Holder>,
) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match args.database.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store = PostgresStore::open(url)
                .await
                .context("opening PostgreSQL")?;
            match holder {
                Some(holder) => Arc::new(store.with_leases(holder, LEASE_TTL)),
                None => Arc::new(store),
            }
        }
        Some(url) if url.starts_with("sqlite:") => {
            Arc::new(SqliteStore::open(url).await.context("opening SQLite")?)
        }
        Some(other) => {
            anyhow::bail!("--database must be a postgres:// or sqlite:// URL, not `{other}`")
        }
        None => Arc::new(
            SqliteStore::open_dir(&args.data_dir)
                .await
                .with_context(|| format!("opening the database in {}", args.data_dir.display()))?,
        ),
    })
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let floor = match &args.nats {
        Some(url) => Some((url.clone(), crate::edge::Floor::new(&args.nats_prefix)?)),
        None => None,
    };
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let addr = listener.local_addr()?;
    let holder = kiln_store::Holder {
        id: uuid::Uuid::new_v4().to_string(),
        address: advertised(&args, addr)?,
    };
    let store = open_store(&args.store, Some(holder)).await?;
    let mut config = Config::default();
    config.webhook_policy.allow_loopback = args.webhook_allow_loopback || args.demo;
    config.webhook_policy.allow_private = args.webhook_allow_private;
    // Invitations and password resets, one file each (see kiln_app::mail).
    config.mail_dir = Some(args.store.data_dir.join("mail"));
    if let Some(url) = &args.smtp_url {
        kiln_app::mail::SmtpMailer::from_url(url)
            .map_err(|e| anyhow::anyhow!("--smtp-url: {e}"))?;
        config.smtp_url = Some(url.clone());
    }
    let first_start = !store.has_admin_keys().await?;
    let app = App::new(store.clone(), config);
    if args.demo || first_start {
        let key = app
            .mint_admin_key(if args.demo { "demo" } else { "first start" })
            .await
            .context("minting a platform admin key")?;
        println!("platform admin key: {key}");
        if !args.demo {
            println!("  (shown once: keep it; `kiln admin key` mints another)");
        }
    }
    if args.demo {
        let (brand, key) = app.seed_demo().await.context("seeding the demo")?;
        println!("demo brand: {}  ({})", brand.slug, brand.name);
        println!("demo brand key: {key}");
        let publishable = app
            .issue_key(
                &kiln_app::Actor::Cli,
                &brand,
                "storefront (publishable)",
                vec![kiln_domain::Scope::OrdersOnline],
            )
            .await
            .context("issuing the demo's publishable key")?;
        println!("demo publishable key: {}", publishable.api_key);
        let write_key = app
            .create_write_key(
                brand.slug.as_str(),
                &kiln_app::Actor::Cli,
                kiln_app::profiles::WriteKeyInput {
                    name: "demo tracking".into(),
                },
            )
            .await
            .context("making the demo's write key")?;
        println!("demo write key: {}", write_key.write_key);
        let staff = app
            .seed_demo_staff(brand.slug.as_str())
            .await
            .context("seeding the demo's staff")?;
        for m in &staff {
            match m.stores.first() {
                Some(store) => println!("demo staff: {} {} store {store}", m.role, m.email),
                None => println!("demo staff: {} {}", m.role, m.email),
            }
        }
        println!("demo staff password: {}", kiln_app::staff::DEMO_PASSWORD);
        println!(
            "try: curl http://{addr}/api/v1/brands/{}/products",
            brand.slug
        );
    }
    app.start_leases();
    app.start_webhooks();
    app.start_segment_sweeper();
    app.start_mail_worker();
    if let Some((url, floor)) = floor {
        crate::edge::consume::start(app.clone(), url, floor);
    }
    if args.nats.is_some() || store.leases().is_some() {
        // Another server may keep events for a brand this one plans.
        app.start_floor_applier();
    }
    println!(
        "kiln listening on http://{addr} ({} database)",
        store.backend()
    );
    kiln_server::serve(listener, kiln_server::AppState::new(app.clone())).await?;
    // Every request answered: give the brands to the other servers at once.
    if let Err(e) = app.release_leases().await {
        tracing::warn!(error = %e.chain(), "giving the brand leases back failed; they expire");
    }
    Ok(())
}

/// The URL other servers forward to: `--advertise-url`, else the address
/// listened on (loopback for an unspecified address, with a warning).
fn advertised(args: &ServeArgs, addr: std::net::SocketAddr) -> anyhow::Result<String> {
    if let Some(url) = &args.advertise_url {
        let parsed = reqwest::Url::parse(url)
            .with_context(|| format!("--advertise-url `{url}` is not a URL"))?;
        anyhow::ensure!(
            matches!(parsed.scheme(), "http" | "https") && parsed.host().is_some(),
            "--advertise-url `{url}` must be an http:// or https:// URL with a host"
        );
        return Ok(url.trim_end_matches('/').to_string());
    }
    if addr.ip().is_unspecified() {
        if args
            .store
            .database
            .as_deref()
            .is_some_and(|d| d.starts_with("postgres"))
        {
            tracing::warn!(
                "listening on {addr} without --advertise-url: other servers will forward to 127.0.0.1"
            );
        }
        return Ok(format!("http://127.0.0.1:{}", addr.port()));
    }
    Ok(format!("http://{addr}"))
}
