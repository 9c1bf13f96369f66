//! `/admin/*`: runtime configuration, execution statistics, load statistics and
//! the service's other admin views. Guarded by `ADMIN_TOKEN` when it is set.

use std::sync::Arc;

use axum::extract::{Query, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use sse_core::contract::config::{QueueType, ServiceConfig};

use crate::App;

pub fn routes(app: &Arc<App>) -> Router<Arc<App>> {
    Router::new()
        .route("/admin/config", get(get_config).put(put_config))
        .route(
            "/admin/execution-stats",
            get(execution_stats).delete(reset_execution_stats),
        )
        .route(
            "/admin/load-stats",
            get(load_stats).delete(reset_load_stats),
        )
        .route(
            "/admin/circuit-breakers",
            get(|| async { Json(json!({"circuit_breakers": {}})) }),
        )
        .route("/admin/streaming-metrics", get(streaming_metrics))
        .route("/admin/prometheus-stats", get(prometheus_stats))
        .route("/admin/metrics", get(metrics))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(app),
            require_token,
        ))
}

/// Whether `given` is `expected`, in time that does not depend on where they
/// differ (only on their lengths), so that a token cannot be guessed byte by byte.
pub fn token_matches(given: Option<&[u8]>, expected: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    given.is_some_and(|given| bool::from(given.ct_eq(expected)))
}

/// With `ADMIN_TOKEN` set, every admin route needs `Authorization: Bearer <token>`.
async fn require_token(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if let Some(token) = app
        .settings
        .admin_token
        .as_deref()
        .filter(|t| !t.is_empty())
    {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "));
        if !token_matches(given, token.as_bytes()) {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                Json(json!({"detail": "Admin routes need Authorization: Bearer <ADMIN_TOKEN>"})),
            )
                .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return response;
        }
    }
    next.run(request).await
}

async fn get_config(State(app): State<Arc<App>>) -> Json<ServiceConfig> {
    Json(app.current_config())
}

fn bool_issue(key: &str, input: &Value) -> Value {
    json!({
        "type": "bool_parsing", "loc": ["body", key],
        "msg": "Input should be a valid boolean, unable to interpret input", "input": input,
    })
}

/// pydantic's lax booleans: true/false, 0/1, and the usual words.
fn lax_bool(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_u64() == Some(0) => Some(false),
        Value::Number(n) if n.as_u64() == Some(1) => Some(true),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" | "t" | "y" => Some(true),
            "false" | "0" | "no" | "off" | "f" | "n" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// As the real service: any subset of the three keys; a wrong type is a 422; an
/// unknown QUEUE_TYPE is ignored (the value stays). Unlike it, every switch takes
/// effect at once, and `warnings` says what could not be honoured.
async fn put_config(State(app): State<Arc<App>>, body: axum::body::Bytes) -> Response {
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(e) => {
            let detail = json!([{"type": "json_invalid", "loc": ["body", e.column().saturating_sub(1)],
                "msg": "JSON decode error", "input": {}, "ctx": {"error": e.to_string()}}]);
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(json!({ "detail": detail })),
            )
                .into_response();
        }
    };
    let Some(fields) = value.as_object() else {
        let detail = json!([{"type": "model_attributes_type", "loc": ["body"],
            "msg": "Input should be a valid dictionary or object to extract fields from", "input": value}]);
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": detail })),
        )
            .into_response();
    };
    let mut problems = Vec::new();
    let mut fake = None;
    let mut caching = None;
    for (key, slot) in [
        ("USE_FAKE_LLM", &mut fake),
        ("ENABLE_CACHING", &mut caching),
    ] {
        if let Some(input) = fields.get(key) {
            match lax_bool(input) {
                Some(b) => *slot = Some(b),
                None => problems.push(bool_issue(key, input)),
            }
        }
    }
    let mut queue = None;
    if let Some(input) = fields.get("QUEUE_TYPE") {
        match input.as_str() {
            Some(s) => queue = Some(s.to_ascii_lowercase()),
            None => problems.push(json!({"type": "string_type", "loc": ["body", "QUEUE_TYPE"],
                "msg": "Input should be a valid string", "input": input})),
        }
    }
    if !problems.is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({ "detail": problems })),
        )
            .into_response();
    }
    let mut warnings = Vec::new();
    let current = {
        let Ok(mut config) = app.config.write() else {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"detail": "configuration lock poisoned"})),
            )
                .into_response();
        };
        if let Some(b) = fake {
            config.use_fake_llm = b;
        }
        if let Some(b) = caching {
            config.enable_caching = b;
        }
        match queue.as_deref() {
            Some("redis") => config.queue_type = QueueType::Redis,
            Some("kafka") => config.queue_type = QueueType::Kafka,
            Some(other) => warnings.push(format!(
                "QUEUE_TYPE \"{other}\" is not a queue type (redis, kafka): unchanged"
            )),
            None => {}
        }
        config.clone()
    };
    if caching == Some(false) {
        app.l1.clear();
    }
    // Said when QUEUE_TYPE was part of the request: what the chosen queue really is.
    match current.queue_type {
        _ if queue.is_none() => {}
        QueueType::Kafka => warnings.push(
            "QUEUE_TYPE kafka is recorded, but this service has no Kafka: queued requests wait in-process".into(),
        ),
        QueueType::Redis if app.redis.is_none() => warnings.push(
            "QUEUE_TYPE redis is recorded, but no REDIS_URL is configured: queued requests wait in-process".into(),
        ),
        _ => {}
    }
    let mut answer = json!({ "status": "updated", "current_config": current });
    if !warnings.is_empty() {
        answer["warnings"] = json!(warnings);
    }
    Json(answer).into_response()
}

async fn execution_stats(State(app): State<Arc<App>>) -> Json<Value> {
    Json(
        app.timings
            .to_json(app.settings.stats_shape, app.settings.stats_p90),
    )
}

async fn reset_execution_stats(State(app): State<Arc<App>>) -> Json<Value> {
    app.timings.reset();
    Json(json!({"status": "reset"}))
}

#[derive(serde::Deserialize)]
struct LoadStatsQuery {
    #[serde(default)]
    requests: bool,
    /// Only the records that finished after this `seq`.
    #[serde(default)]
    after: u64,
}

async fn load_stats(
    State(app): State<Arc<App>>,
    Query(query): Query<LoadStatsQuery>,
) -> Json<Value> {
    Json(
        app.load
            .to_json(query.requests && app.settings.request_records, query.after),
    )
}

async fn reset_load_stats(State(app): State<Arc<App>>) -> Json<Value> {
    app.load.reset();
    Json(json!({"status": "reset"}))
}

async fn streaming_metrics(State(app): State<Arc<App>>) -> Json<Value> {
    let load = app.load.to_json(false, 0);
    Json(json!({
        "active_streams": load["active_streams"],
        "peak_active_streams": load["peak_active_streams"],
        "queued_requests": load["queued_requests"],
        "chunks_sent": load["chunks_sent"],
        "totals_by_outcome": load["totals_by_outcome"],
    }))
}

async fn prometheus_stats(State(app): State<Arc<App>>) -> Json<Value> {
    let load = app.load.to_json(false, 0);
    let uptime_s = load["uptime_ms"].as_f64().unwrap_or(0.0) / 1000.0;
    let total = load["requests_total"].as_u64().unwrap_or(0);
    Json(json!({
        "connections": { "active": load["active_streams"], "limit": app.admission.global_limit() },
        "queue": {
            "depth": app.admission.queue_depth(),
            "backend": app.admission.backend_for(app.current_config().queue_type == QueueType::Redis).name(),
        },
        "cache": { "l1_size": app.l1.len(), "l2_configured": app.redis.is_some() },
        "throughput": {
            "requests_total": total,
            "requests_per_second": if uptime_s > 0.0 { total as f64 / uptime_s } else { 0.0 },
            "chunks_sent": load["chunks_sent"],
        },
    }))
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let text = app
        .exposition
        .render(app.load.active(), app.admission.queue_depth());
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
