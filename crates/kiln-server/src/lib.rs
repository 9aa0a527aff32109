//! The HTTP shell around the engines: the JSON API under `/api/v1`, its
//! OpenAPI document, health and metrics, and the order flow that ties the
//! configurator, the planner and the store together.

pub mod analytics;
pub mod api;
pub mod auth;
pub mod demo;
pub mod disruption;
pub mod error;
mod extract;
pub mod flow;
mod ids;
pub mod live;
pub mod material_plan;
pub mod payment;
pub mod resequence;
pub mod runtime;
pub mod schedule;
mod ui;
mod writer;

use std::sync::{Arc, OnceLock};

use axum::Router;
use kiln_store::Store;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub use runtime::Runtimes;

/// What every request handler shares.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub runtimes: Runtimes,
    pub orders: writer::OrderWriter,
    metrics: PrometheusHandle,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>) -> Arc<AppState> {
        Arc::new(AppState {
            orders: writer::OrderWriter::spawn(store.clone()),
            store,
            runtimes: Runtimes::default(),
            metrics: metrics_handle(),
        })
    }
}

/// The process-wide Prometheus recorder, installed on first use.
fn metrics_handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Only fails if another recorder is installed; then ours just stays empty.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// The whole application: API, OpenAPI document, health and metrics.
pub fn app(state: Arc<AppState>) -> Router {
    api::router(state)
}

/// Serves `app` on `listener` until ctrl-c or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown())
        .await
}

async fn shutdown() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
