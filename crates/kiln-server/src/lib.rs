//! The HTTP shell: the JSON API under `/api/v1` with its OpenAPI document,
//! health and metrics, and the web UI. Handlers parse, authorize (the
//! extractors in [`auth`]), call one use case of [`kiln_app::App`] and
//! render; they never own a transaction or a plan lock.

pub mod api;
pub mod auth;
pub mod barcode;
pub mod error;
mod extract;
mod forward;
mod guard;
pub mod shipping_label;
mod ui;

use std::sync::{Arc, OnceLock};

use axum::Router;
use kiln_app::App;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// What every request handler shares.
pub struct AppState {
    pub app: Arc<App>,
    metrics: PrometheusHandle,
    /// Sends a brand's requests to the server that plans it ([`forward`]).
    forwarder: reqwest::Client,
}

impl AppState {
    pub fn new(app: Arc<App>) -> Arc<AppState> {
        let forwarder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(std::time::Duration::from_secs(2))
            .timeout(std::time::Duration::from_secs(30))
            .build()
            // Only fails when the TLS backend cannot start: then forwarding
            // uses the defaults, without our timeouts.
            .unwrap_or_default();
        Arc::new(AppState {
            app,
            metrics: metrics_handle(),
            forwarder,
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

/// The whole application: API, OpenAPI document, health, metrics and web UI.
pub fn app(state: Arc<AppState>) -> Router {
    api::router(state)
}

/// Serves `app` on `listener` until ctrl-c or SIGTERM.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    // The peer's address, for limiting sign-in attempts per address.
    let app = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, app)
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
