//! The console's platform pages: the catalog (versions, the difference
//! between two, an upload with every error shown at its line) and webhooks
//! (each endpoint's delivery log, replays).

use std::sync::Arc;

use askama::Template;
use axum::Router;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use kiln_app::Error as AppError;
use kiln_app::catalog::SourceFile;
use kiln_domain::{DeliveryId, WebhookId};
use serde::Deserialize;

use super::console::require;
use super::{UiResult, long_date, page};
use crate::AppState;
use crate::error::ApiError;

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console/catalog", get(catalog).post(upload))
        .route("/console/webhooks", get(webhooks))
        .route("/console/webhooks/{webhook}/replay", post(replay))
}

/// One line of an uploaded file, with the errors found on it.
pub struct SourceLine {
    number: usize,
    text: String,
    errors: Vec<String>,
}

pub struct FileView {
    name: String,
    lines: Vec<SourceLine>,
    /// Errors without a line in this file (none in practice).
    other: Vec<String>,
}

pub struct VersionRow {
    version: i64,
    published: String,
    by: String,
    products: String,
}

#[derive(Template)]
#[template(path = "console_catalog.html")]
struct CatalogPage {
    brand: String,
    notice: String,
    problem: String,
    versions: Vec<VersionRow>,
    from: i64,
    to: i64,
    /// (what, subject, product, detail)
    changes: Vec<(String, String, String, String)>,
    /// The rejected upload, file by file, with errors at their lines.
    files: Vec<FileView>,
}

#[derive(Deserialize)]
struct CatalogQuery {
    from: Option<i64>,
    to: Option<i64>,
}

async fn catalog_page(
    state: &AppState,
    rt: &kiln_app::BrandRuntime,
    q: CatalogQuery,
) -> UiResult<CatalogPage> {
    let versions = state.app.catalog_versions(&rt.brand).await?;
    let latest = versions.first().map_or(0, |v| v.version);
    let to = q.to.unwrap_or(latest);
    let from = q.from.unwrap_or(to - 1);
    let changes = if from >= 1 && to >= 1 && from != to {
        match state.app.catalog_diff(&rt.brand, from, to).await {
            Ok(d) => d
                .changes
                .into_iter()
                .map(|c| {
                    let v = serde_json::to_value(&c).unwrap_or_default();
                    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
                    (s("change"), s("subject"), s("product"), s("detail"))
                })
                .collect(),
            Err(AppError::NotFound(_)) => Vec::new(),
            Err(e) => return Err(e.into()),
        }
    } else {
        Vec::new()
    };
    Ok(CatalogPage {
        brand: rt.brand.slug.to_string(),
        notice: String::new(),
        problem: String::new(),
        versions: versions
            .into_iter()
            .map(|v| VersionRow {
                version: v.version,
                published: format!(
                    "{} {}",
                    long_date(kiln_app::time::day_of(v.published_at)),
                    v.published_at.strftime("%H:%M UTC")
                ),
                by: v.published_by,
                products: v.products.join(", "),
            })
            .collect(),
        from,
        to,
        changes,
        files: Vec::new(),
    })
}

async fn catalog(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<CatalogQuery>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut view = catalog_page(&state, &rt, q).await?;
    if let Some((super::Flash::Notice, text)) = super::flash_of(&headers) {
        view.notice = text;
    }
    Ok(super::spend_flash(&headers, page(&view)))
}

/// Publishes the uploaded files as the next version; on any error the page
/// shows every file with each error at its line, and nothing is published.
async fn upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    mut form: Multipart,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut files = Vec::new();
    while let Some(field) = form
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("files", format!("the upload could not be read: {e}")))?
    {
        let name = field.file_name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| {
            ApiError::invalid("files", format!("the upload could not be read: {e}"))
        })?;
        if name.is_empty() && bytes.is_empty() {
            continue;
        }
        let source = String::from_utf8(bytes.to_vec())
            .map_err(|_| ApiError::invalid("files", format!("`{name}` is not UTF-8 text")))?;
        files.push(SourceFile { name, source });
    }
    let sources = files.clone();
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    match state.app.publish_catalog(&actor, &rt.brand, files).await {
        Ok(p) => Ok(super::redirect_with(
            "/console/catalog",
            super::Flash::Notice,
            &format!("Published version {}", p.version),
        )),
        Err(AppError::InvalidModel { detail, errors }) => {
            let mut view = catalog_page(
                &state,
                &rt,
                CatalogQuery {
                    from: None,
                    to: None,
                },
            )
            .await?;
            view.problem = detail;
            // Only the files at fault, each whole with its errors at their lines.
            view.files = sources
                .iter()
                .filter(|f| errors.iter().any(|e| e.file == f.name))
                .map(|f| FileView {
                    name: f.name.clone(),
                    lines: f
                        .source
                        .lines()
                        .enumerate()
                        .map(|(i, text)| SourceLine {
                            number: i + 1,
                            text: text.to_string(),
                            errors: errors
                                .iter()
                                .filter(|e| e.file == f.name && e.line as usize == i + 1)
                                .map(|e| format!("column {}: {}", e.column, e.message))
                                .collect(),
                        })
                        .collect(),
                    other: errors
                        .iter()
                        .filter(|e| {
                            e.file == f.name
                                && (e.line == 0 || e.line as usize > f.source.lines().count())
                        })
                        .map(|e| e.message.clone())
                        .collect(),
                })
                .collect();
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&view)).into_response())
        }
        Err(AppError::Invalid { detail, .. } | AppError::Conflict(detail)) => {
            let mut view = catalog_page(
                &state,
                &rt,
                CatalogQuery {
                    from: None,
                    to: None,
                },
            )
            .await?;
            view.problem = detail;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, page(&view)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub struct DeliveryRow {
    event: String,
    kind: String,
    state: String,
    attempts: i64,
    last: String,
    next: String,
}

pub struct EndpointView {
    id: String,
    url: String,
    events: String,
    state: String,
    deliveries: Vec<DeliveryRow>,
    failed: usize,
}

#[derive(Template)]
#[template(path = "console_webhooks.html")]
struct WebhooksPage {
    brand: String,
    notice: String,
    endpoints: Vec<EndpointView>,
}

async fn webhooks(State(state): State<Arc<AppState>>, headers: HeaderMap) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let mut endpoints = Vec::new();
    for e in state.app.webhooks(&rt.brand).await? {
        let deliveries = state.app.deliveries(&rt.brand, &e.id, 50).await?;
        let failed = deliveries
            .iter()
            .filter(|d| {
                d.state == kiln_domain::DeliveryState::Failed
                    || (d.attempts > 0 && d.state == kiln_domain::DeliveryState::Pending)
            })
            .count();
        endpoints.push(EndpointView {
            id: e.id.to_string(),
            url: e.url,
            events: e
                .events
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            state: if e.enabled {
                "on".into()
            } else {
                format!("off: {}", e.disabled_reason.unwrap_or_default())
            },
            failed,
            deliveries: deliveries
                .into_iter()
                .map(|d| DeliveryRow {
                    event: d.event_id.to_string(),
                    kind: d.event_type.to_string(),
                    state: d.state.to_string(),
                    attempts: d.attempts,
                    last: match (d.last_status, d.last_error) {
                        (Some(s), _) => format!("HTTP {s}"),
                        (None, Some(e)) => e,
                        (None, None) => "–".into(),
                    },
                    next: d
                        .next_attempt_at
                        .filter(|_| d.state == kiln_domain::DeliveryState::Pending)
                        .map(|t| t.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
                        .unwrap_or_default(),
                })
                .collect(),
        });
    }
    let notice = match super::flash_of(&headers) {
        Some((super::Flash::Notice, text)) => text,
        _ => String::new(),
    };
    let view = page(&WebhooksPage {
        brand: rt.brand.slug.to_string(),
        notice,
        endpoints,
    });
    Ok(super::spend_flash(&headers, view))
}

#[derive(Deserialize)]
struct ReplayForm {
    #[serde(default)]
    delivery: String,
}

async fn replay(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(webhook): Path<String>,
    axum::Form(form): axum::Form<ReplayForm>,
) -> UiResult<Response> {
    let rt = require(&state, &headers).await?;
    let actor = super::staff::actor_of(&state, &headers, &rt).await?;
    let delivery = Some(form.delivery.trim())
        .filter(|d| !d.is_empty())
        .map(DeliveryId::from);
    let n = state
        .app
        .replay(
            &actor,
            &rt.brand,
            &WebhookId::from(webhook),
            delivery.as_ref(),
        )
        .await?;
    Ok(super::redirect_with(
        "/console/webhooks",
        super::Flash::Notice,
        &format!("{n} deliveries sent again"),
    ))
}
