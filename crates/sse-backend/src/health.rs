//! `/health`, `/health/live`, `/health/ready`.

use axum::{routing::get, Json, Router};
use serde_json::json;
use sse_core::health::{HealthReport, HealthStatus};

pub fn routes() -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

fn now_rfc3339() -> Option<String> {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

async fn health() -> Json<HealthReport> {
    // No external components yet: the process answering is the whole health.
    Json(HealthReport {
        status: HealthStatus::Healthy,
        timestamp: now_rfc3339(),
        version: Some(crate::SERVICE_VERSION.to_owned()),
        components: Default::default(),
        error: None,
    })
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "alive", "timestamp": now_rfc3339() }))
}

async fn ready() -> Json<serde_json::Value> {
    Json(json!({ "status": "ready", "timestamp": now_rfc3339() }))
}
