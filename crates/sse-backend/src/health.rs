//! `GET /` (service info), `/health`, `/health/live`, `/health/ready`, `/health/detailed`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;
use sse_core::contract::health::{HealthReport, HealthStatus};

use crate::App;

pub fn routes() -> Router<Arc<App>> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/health/detailed", get(detailed))
}

fn now_rfc3339() -> Option<String> {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
}

/// `Some(Ok)` / `Some(Err(reason))` for a configured Redis, `None` without one.
async fn redis_status(app: &App) -> Option<Result<(), String>> {
    match &app.redis {
        Some(l2) => Some(l2.ping().await),
        None => None,
    }
}

async fn report(app: &App) -> HealthReport {
    let mut components = std::collections::BTreeMap::new();
    let redis = redis_status(app).await;
    if let Some(result) = &redis {
        components.insert(
            "redis".to_owned(),
            if result.is_ok() {
                "healthy"
            } else {
                "unhealthy"
            }
            .to_owned(),
        );
    }
    HealthReport {
        status: if matches!(redis, Some(Err(_))) {
            HealthStatus::Degraded
        } else {
            HealthStatus::Healthy
        },
        timestamp: now_rfc3339(),
        version: Some(crate::SERVICE_VERSION.to_owned()),
        components,
        instance_id: Some(app.instance_id().to_owned()),
        error: None,
    }
}

/// Always 200 while the process runs; `degraded` when Redis is configured and down.
async fn health(State(app): State<Arc<App>>) -> Json<HealthReport> {
    Json(report(&app).await)
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "alive", "timestamp": now_rfc3339() }))
}

/// 503 while a configured Redis is unreachable.
async fn ready(State(app): State<Arc<App>>) -> Response {
    match redis_status(&app).await {
        Some(Err(reason)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "not_ready", "timestamp": now_rfc3339(), "reason": reason })),
        )
            .into_response(),
        _ => Json(json!({ "status": "ready", "timestamp": now_rfc3339() })).into_response(),
    }
}

async fn detailed(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let base = report(&app).await;
    let redis = match &app.redis {
        None => json!({ "configured": false }),
        Some(l2) => match l2.size().await {
            Ok(keys) => json!({ "configured": true, "status": "healthy", "keys": keys }),
            Err(reason) => json!({ "configured": true, "status": "unhealthy", "error": reason }),
        },
    };
    let load = app.load.to_json(false, 0);
    Json(json!({
        "status": base.status,
        "timestamp": base.timestamp,
        "version": base.version,
        "uptime_s": app.started.elapsed().as_secs_f64(),
        "components": {
            "redis": redis,
            "cache": { "l1_size": app.l1.len(), "l1_capacity": app.settings.l1_capacity },
            "streams": { "active": load["active_streams"], "queued": load["queued_requests"] },
            "queue": {
                "backend": app.admission.backend_for(app.current_config().queue_type == sse_core::contract::config::QueueType::Redis).name(),
                "redis_key": app.admission.redis_queue_key(),
                "depth": app.admission.queue_depth(),
            },
        },
        "config": app.current_config(),
    }))
}

pub async fn service_info() -> Json<serde_json::Value> {
    Json(json!({
        "service": "SSE Streaming Microservice (reference implementation)",
        "version": crate::SERVICE_VERSION,
        "api": "/api/v1",
        "docs": "see the dashboard repository's shared/contract.md",
    }))
}
