//! The one API client: the only place that builds URLs and sends requests.
//! Every request has a time limit; every failure becomes an [`ApiError`] that
//! reads as a sentence.

use std::cell::Cell;
use std::rc::Rc;

use gloo_net::http::{Headers, Request, RequestBuilder, Response};
use sse_core::api_error::ApiErrorBody;
use sse_core::config::{ConfigUpdate, ConfigUpdateAnswer, ServiceConfig};
use sse_core::dashboard_settings::DashboardSettings;
use sse_core::execution_stats::ExecutionStats;
use sse_core::health::{HealthCheckFailure, HealthReport};
use sse_core::stream::StreamRequest;

/// Time limit of one health check.
pub const HEALTH_TIMEOUT_MS: u32 = 3_000;
/// Time limit of the other requests.
pub const REQUEST_TIMEOUT_MS: u32 = 8_000;

/// Why a request did not give a usable answer.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    Network(String),
    Timeout {
        after_ms: u32,
    },
    Http {
        status: u16,
        body: ApiErrorBody,
    },
    Decode(String),
    /// The browser refused to build the request (a header value it cannot carry).
    Request(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Network(detail) => write!(f, "The service could not be reached ({detail})."),
            Self::Timeout { after_ms } => write!(
                f,
                "The service did not answer within {:.0} s.",
                f64::from(*after_ms) / 1000.0
            ),
            Self::Http { status: 401, .. } => write!(
                f,
                "The service wants an admin token (HTTP 401): set it in Settings."
            ),
            Self::Http { status, body } => {
                write!(f, "The service answered HTTP {status}: {}", body.summary())
            }
            Self::Decode(detail) => write!(f, "The service's answer could not be read: {detail}"),
            Self::Request(detail) => write!(f, "The request was not sent: {detail}"),
        }
    }
}

impl From<ApiError> for HealthCheckFailure {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Network(detail) => Self::Network(detail),
            ApiError::Timeout { after_ms } => Self::Timeout { after_ms },
            ApiError::Http { status, .. } => Self::HttpStatus { status },
            ApiError::Decode(detail) => Self::InvalidBody(detail),
            ApiError::Request(detail) => Self::Network(detail),
        }
    }
}

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
    pub async fn health(&self) -> Result<HealthReport, HealthCheckFailure> {
        let request = with_headers(Request::get(&self.url("health")), &[])?;
        let body = send(request, None, HEALTH_TIMEOUT_MS).await?;
        serde_json::from_str(&body).map_err(|e| HealthCheckFailure::InvalidBody(e.to_string()))
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

/// A JavaScript error (an `Error`, a string, or anything else) as a sentence.
pub fn describe_js_error(error: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    error
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| error.as_string())
        .unwrap_or_else(|| "unknown error".into())
}

/// `request` with `headers`, built through the browser's `Headers.set`, which
/// refuses a value it cannot carry (outside Latin-1, a line break): that becomes
/// an [`ApiError::Request`] naming the header, never an exception thrown out of
/// the WASM (gloo-net's own `header()` throws, which stops the caller's task).
fn with_headers(
    request: RequestBuilder,
    headers: &[(&str, String)],
) -> Result<RequestBuilder, ApiError> {
    let raw = web_sys::Headers::new()
        .map_err(|e| ApiError::Request(format!("no headers object: {}", describe_js_error(&e))))?;
    for (name, value) in headers {
        raw.set(name, value).map_err(|e| {
            ApiError::Request(format!(
                "the browser refused the {name} header ({})",
                describe_js_error(&e)
            ))
        })?;
    }
    Ok(request.headers(Headers::from_raw(raw)))
}

/// Loads `config.json` (served next to index.html); defaults when absent.
pub async fn load_runtime_settings() -> (DashboardSettings, Vec<String>) {
    match send(Request::get("config.json"), None, REQUEST_TIMEOUT_MS).await {
        Ok(text) => DashboardSettings::from_runtime_json(&text),
        Err(ApiError::Http { status: 404, .. }) => (DashboardSettings::default(), Vec::new()),
        Err(e) => (
            DashboardSettings::default(),
            vec![format!("config.json could not be loaded: {e}")],
        ),
    }
}

/// Sends `request` (with an optional JSON body), failing on a network error, a
/// non-2xx status or `timeout_ms`; the body text otherwise.
async fn send(
    request: RequestBuilder,
    body: Option<String>,
    timeout_ms: u32,
) -> Result<String, ApiError> {
    let controller =
        web_sys::AbortController::new().map_err(|e| ApiError::Network(format!("{e:?}")))?;
    let timed_out = Rc::new(Cell::new(false));
    // Aborts the request when it fires; dropping it (request done) cancels it.
    let _deadline = {
        let controller = controller.clone();
        let timed_out = timed_out.clone();
        gloo_timers::callback::Timeout::new(timeout_ms, move || {
            timed_out.set(true);
            controller.abort();
        })
    };
    let signal = controller.signal();
    let request = request.abort_signal(Some(&signal));
    let outcome = async {
        let response = match body {
            Some(json) => request.body(json)?.send().await?,
            None => request.send().await?,
        };
        let status = response.status();
        let text = response.text().await?;
        Ok::<_, gloo_net::Error>((status, text))
    }
    .await;
    match outcome {
        Ok((status, text)) if (200..300).contains(&status) => Ok(text),
        Ok((status, text)) => Err(ApiError::Http {
            status,
            body: ApiErrorBody::parse(&text),
        }),
        Err(_) if timed_out.get() => Err(ApiError::Timeout {
            after_ms: timeout_ms,
        }),
        Err(error) => Err(ApiError::Network(error.to_string())),
    }
}
