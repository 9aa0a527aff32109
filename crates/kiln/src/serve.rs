//! `kiln serve`: open the store, seed the demo if asked, serve HTTP.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use kiln_store::{PostgresStore, SqliteStore, Store};

#[derive(clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: String,
    /// `postgres://...` or `sqlite://PATH`; default: `kiln.db` in the data directory.
    #[arg(long)]
    database: Option<String>,
    /// Where the embedded database lives.
    #[arg(long, default_value = "data")]
    data_dir: PathBuf,
    /// Seed a demo brand with three products and print its API key.
    #[arg(long)]
    demo: bool,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    tracing_subscriber::fmt().with_target(false).init();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(serve(args))?;
    Ok(ExitCode::SUCCESS)
}

async fn open_store(args: &ServeArgs) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match args.database.as_deref() {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(
                PostgresStore::open(url)
                    .await
                    .context("opening PostgreSQL")?,
            )
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
    let store = open_store(&args).await?;
    let listener = tokio::net::TcpListener::bind(&args.addr)
        .await
        .with_context(|| format!("listening on {}", args.addr))?;
    let addr = listener.local_addr()?;
    if args.demo {
        let (brand, key) = kiln_server::demo::seed(store.as_ref())
            .await
            .context("seeding the demo")?;
        println!("demo brand: {}  ({})", brand.slug, brand.name);
        println!("demo brand key: {key}");
        println!(
            "try: curl http://{addr}/api/v1/brands/{}/products",
            brand.slug
        );
    }
    println!(
        "kiln listening on http://{addr} ({} database)",
        store.backend()
    );
    kiln_server::serve(listener, kiln_server::AppState::new(store)).await?;
    Ok(())
}
