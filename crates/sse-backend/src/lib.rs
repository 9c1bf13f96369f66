//! The reference SSE Streaming Microservice: the same API contract as the real
//! service (`shared/contract.md`), served by axum, without its defects: stage
//! timings survive requests, config switches take effect at once, queued requests
//! are delivered, overload answers 429/503, and the thread id in events equals the
//! `x-thread-id` header. Routes live under `/api/v1`.

pub mod admin;
pub mod admission;
pub mod cache;
pub mod exposition;
pub mod fake_llm;
pub mod health;
pub mod load_stats;
pub mod pipeline;
pub mod provider;
pub mod request_trace;
pub mod server;
pub mod settings;
pub mod sse_format;
pub mod stage_timings;
pub mod streaming;
pub mod validation;

use std::sync::{Arc, RwLock};
use std::time::Instant;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::routing::{get, post};
use axum::Router;
use sse_core::contract::config::{QueueType, ServiceConfig};
use tokio_util::sync::CancellationToken;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::admission::Admission;
use crate::cache::{L1Cache, RedisStore};
use crate::exposition::Exposition;
use crate::load_stats::{LoadStats, RequestTimings};
use crate::pipeline::ServerOutcome;
use crate::settings::Settings;
use crate::stage_timings::StageTimings;

/// Version reported by `/health`.
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The service's shared state.
#[derive(Debug)]
pub struct App {
    pub settings: Settings,
    pub config: RwLock<ServiceConfig>,
    pub timings: StageTimings,
    pub load: LoadStats,
    /// The Prometheus families of `/admin/metrics` (cumulative, never reset).
    pub exposition: Exposition,
    pub admission: Arc<Admission>,
    pub l1: L1Cache,
    /// Redis (REDIS_URL): the L2 cache and, with QUEUE_TYPE redis, the queue order.
    pub redis: Option<Arc<RedisStore>>,
    /// Cancelled when the service shuts down: open streams end with an error event.
    pub shutdown: CancellationToken,
    pub started: Instant,
    /// `--instance-id`, else the listen address (set when serving starts).
    instance_id: std::sync::OnceLock<String>,
}

impl App {
    pub fn new(settings: Settings) -> Result<Arc<Self>, String> {
        let redis = match &settings.redis_url {
            Some(url) => Some(Arc::new(RedisStore::new(url, settings.cache_ttl())?)),
            None => None,
        };
        let exposition = Exposition::new();
        Ok(Arc::new(Self {
            timings: StageTimings::new(exposition.clone()),
            exposition,
            config: RwLock::new(ServiceConfig {
                use_fake_llm: settings.use_fake_llm,
                enable_caching: settings.enable_caching,
                queue_type: QueueType::Redis,
            }),
            load: LoadStats::default(),
            admission: Admission::new(
                settings.per_user_limit,
                settings.global_limit,
                settings.queue_capacity,
                settings.rate_limit_per_minute,
                redis.clone(),
            ),
            l1: L1Cache::new(settings.l1_capacity, settings.cache_ttl()),
            redis,
            shutdown: CancellationToken::new(),
            started: Instant::now(),
            instance_id: std::sync::OnceLock::new(),
            settings,
        }))
    }

    /// A request that ended before any stream (400, 415, 422, 429, 503).
    pub fn request_rejected(&self, outcome: ServerOutcome, model: &str) {
        self.load.rejected(outcome);
        self.exposition.request_ended(model, "none", outcome, None);
    }

    /// A request whose stream ended, as `provider` served it.
    pub fn request_finished(&self, timings: RequestTimings, model: &str, provider: &str) {
        let took = (timings.finished_at_ms - timings.accepted_at_ms).max(0.0) / 1000.0;
        self.exposition.request_ended(
            model,
            provider,
            timings.outcome,
            Some(std::time::Duration::from_secs_f64(took)),
        );
        self.exposition
            .chunks_streamed(provider, timings.chunks_sent);
        self.load.finished(timings);
    }

    /// The name of this instance in `x-instance-id` and /health.
    pub fn instance_id(&self) -> &str {
        self.settings
            .instance_id
            .as_deref()
            .or(self.instance_id.get().map(String::as_str))
            .unwrap_or("unknown")
    }

    pub fn current_config(&self) -> ServiceConfig {
        self.config
            .read()
            .map(|c| c.clone())
            .unwrap_or_else(|e| e.into_inner().clone())
    }
}

/// The whole application, ready to serve.
pub fn router(app: Arc<App>) -> Router {
    // Only the origins given (`--cors-origins`): a page elsewhere may neither read
    // the admin routes nor change the configuration from a visitor's browser.
    let origins: Vec<HeaderValue> = app
        .settings
        .cors_origins
        .iter()
        .map(|o| o.trim().trim_end_matches('/'))
        .filter(|o| !o.is_empty() && *o != "*")
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::DELETE,
            Method::OPTIONS,
        ])
        .allow_headers([
            header::CONTENT_TYPE,
            header::AUTHORIZATION,
            HeaderName::from_static("x-user-id"),
        ])
        .expose_headers([
            HeaderName::from_static("x-thread-id"),
            HeaderName::from_static("x-instance-id"),
            HeaderName::from_static("x-resilience-layer"),
        ]);
    let api = Router::new()
        .route("/stream", post(streaming::stream))
        .merge(health::routes())
        .merge(admin::routes(&app));
    Router::new()
        .route("/", get(health::service_info))
        .nest("/api/v1", api)
        .layer(axum::middleware::from_fn(thread_id_header))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&app),
            instance_id_header,
        ))
        .layer(cors)
        .with_state(app)
}

/// Every answer carries an `x-thread-id` (streams set their own, equal to the
/// thread id in their events).
async fn thread_id_header(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if !response.headers().contains_key("x-thread-id") {
        if let Ok(value) = header::HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            response.headers_mut().insert("x-thread-id", value);
        }
    }
    response
}

/// Every answer names the instance that gave it (`x-instance-id`): behind a
/// balancer nothing else tells which one answered.
async fn instance_id_header(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if let Ok(value) = header::HeaderValue::from_str(app.instance_id()) {
        response.headers_mut().insert("x-instance-id", value);
    }
    response
}

/// Serves on an already bound listener until `shutdown` resolves; then open
/// streams end with an `error` event and the server stops once they are closed.
pub async fn serve(
    listener: tokio::net::TcpListener,
    settings: Settings,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = App::new(settings).map_err(std::io::Error::other)?;
    serve_app(listener, app, shutdown).await
}

/// As [`serve`], with state the caller keeps (tests read it).
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(local) = listener.local_addr() {
        let _ = app.instance_id.set(local.to_string());
    }
    let token = app.shutdown.clone();
    tokio::spawn(async move {
        shutdown.await;
        token.cancel();
    });
    let limits = server::Timeouts {
        header_read: app.settings.header_read_timeout(),
        idle: app.settings.idle_timeout(),
    };
    let stopped = app.shutdown.clone();
    server::serve(listener, router(app), limits, stopped).await
}
