//! The one API client: the only place that builds URLs and sends requests.
//! Every request has a time limit; every failure becomes an [`ApiError`] (the
//! core's one error type of API calls) that reads as a sentence.

mod metrics_reader;
pub mod prometheus;
mod request;

use gloo_net::http::{Request, Response};
pub use sse_core::contract::api_error::ApiError;
use sse_core::contract::config::{ConfigUpdate, ConfigUpdateAnswer, ServiceConfig};
use sse_core::contract::dashboard_settings::DashboardSettings;
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::contract::health::HealthReport;
use sse_core::contract::stream::StreamRequest;
use sse_core::load::time_breakdown::{parse_load_stats, LoadStatsAnswer};
use sse_core::monitoring::prometheus::service::ServiceMetrics;

pub use request::load_runtime_settings;
use request::{send, with_headers};

/// Time limit of one health check.
pub const HEALTH_TIMEOUT_MS: u32 = 3_000;
/// Time limit of the other requests.
pub const REQUEST_TIMEOUT_MS: u32 = 8_000;

/// Where the SSE service's API lives and how to authenticate admin requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    base: String,
    admin_token: Option<String>,
}

impl Default for ApiClient {
    fn default() -> Self {
        Self::from_settings(&DashboardSettings::default())
    }
}

impl ApiClient {
    pub fn from_settings(settings: &DashboardSettings) -> Self {
        Self {
            base: settings.api_base.trim_end_matches('/').to_owned(),
            admin_token: settings.admin_token.clone(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// The headers of an admin request: the token, when there is one.
    fn admin_headers(&self) -> Vec<(&'static str, String)> {
        self.admin_token
            .iter()
            .map(|token| ("Authorization", format!("Bearer {token}")))
            .collect()
    }

    /// `GET /health`.
    pub async fn health(&self) -> Result<HealthReport, ApiError> {
        let request = with_headers(Request::get(&self.url("health")), &[])?;
        let body = send(request, None, HEALTH_TIMEOUT_MS).await?;
        serde_json::from_str(&body).map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// `GET` of an admin route, with the token.
    async fn admin_get(&self, path: &str) -> Result<String, ApiError> {
        let request = with_headers(Request::get(&self.url(path)), &self.admin_headers())?;
        send(request, None, REQUEST_TIMEOUT_MS).await
    }

    /// `GET /admin/execution-stats` (either shape).
    pub async fn execution_stats(&self) -> Result<ExecutionStats, ApiError> {
        let body = self.admin_get("admin/execution-stats").await?;
        ExecutionStats::parse(&body).map_err(|e| ApiError::Decode(e.0))
    }

    /// `GET /admin/metrics` as text, unread.
    pub async fn metrics_text(&self) -> Result<String, ApiError> {
        self.admin_get("admin/metrics").await
    }

    /// `GET /admin/metrics`: the service's Prometheus exposition, read (by
    /// the Prometheus reader, loaded with the first answer to read).
    pub async fn metrics(&self) -> Result<ServiceMetrics, ApiError> {
        let body = self.metrics_text().await?;
        metrics_reader::read_metrics(body)
            .await
            .map_err(|e| ApiError::Decode(e.to_string()))?
    }

    /// `GET /admin/load-stats` (our reference backend's own account of its
    /// load), with the per-request records finished after `after` when
    /// `requests` is set. The original service has no such route (404).
    pub async fn load_stats(
        &self,
        requests: bool,
        after: u64,
    ) -> Result<LoadStatsAnswer, ApiError> {
        let path = if requests {
            format!("admin/load-stats?requests=true&after={after}")
        } else {
            "admin/load-stats".to_owned()
        };
        let body = self.admin_get(&path).await?;
        parse_load_stats(&body).map_err(ApiError::Decode)
    }

    /// `GET /admin/config`.
    pub async fn config(&self) -> Result<ServiceConfig, ApiError> {
        let body = self.admin_get("admin/config").await?;
        serde_json::from_str(&body).map_err(|e| ApiError::Decode(e.to_string()))
    }

    /// `PUT /admin/config` with only the keys in `update`.
    pub async fn update_config(&self, update: &ConfigUpdate) -> Result<ConfigAnswer, ApiError> {
        let json = serde_json::to_string(update).map_err(|e| ApiError::Decode(e.to_string()))?;
        self.update_config_raw(json).await
    }

    /// `PUT /admin/config` with a body the person wrote.
    pub async fn update_config_raw(&self, json: String) -> Result<ConfigAnswer, ApiError> {
        let mut headers = self.admin_headers();
        headers.push(("Content-Type", "application/json".into()));
        let request = with_headers(Request::put(&self.url("admin/config")), &headers)?;
        let body = send(request, Some(json), REQUEST_TIMEOUT_MS).await?;
        let answer: ConfigUpdateAnswer =
            serde_json::from_str(&body).map_err(|e| ApiError::Decode(e.to_string()))?;
        // Our reference backend adds `warnings`; the real service does not.
        let warnings = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("warnings").cloned())
            .and_then(|w| serde_json::from_value(w).ok())
            .unwrap_or_default();
        Ok(ConfigAnswer { answer, warnings })
    }
}

impl ApiClient {
    /// The URL of `POST /stream` for one load-test request. `tag` makes each
    /// request's URL unique (the service ignores the query), so that the
    /// browser's Resource Timing entry of that request can be found.
    pub fn stream_url(&self, tag: &str) -> String {
        format!("{}?lt={tag}", self.url("stream"))
    }

    /// The URL of the health check (its Resource Timing entries tell the protocol).
    pub fn health_url(&self) -> String {
        self.url("health")
    }

    /// `POST /stream` to `url` (from [`Self::stream_url`]): the answer with its
    /// body unread, for the caller to read as a stream. No time limit here:
    /// the caller aborts through `signal`.
    pub async fn open_stream(
        &self,
        url: &str,
        request: &StreamRequest,
        user: Option<&str>,
        signal: &web_sys::AbortSignal,
    ) -> Result<Response, String> {
        let json = serde_json::to_string(request).map_err(|e| e.to_string())?;
        let mut headers = vec![
            ("Content-Type", "application/json".to_owned()),
            ("Accept", "text/event-stream".to_owned()),
        ];
        if let Some(user) = user {
            headers.push(("X-User-ID", user.to_owned()));
        }
        with_headers(Request::post(url), &headers)
            .map_err(|e| e.to_string())?
            .abort_signal(Some(signal))
            .body(json)
            .map_err(|e| e.to_string())?
            .send()
            .await
            .map_err(|e| e.to_string())
    }
}

/// The answer to a config update.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigAnswer {
    pub answer: ConfigUpdateAnswer,
    pub warnings: Vec<String>,
}
