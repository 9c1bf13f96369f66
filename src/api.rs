//! The one API client: the only place that builds URLs and sends requests.

use std::cell::Cell;
use std::rc::Rc;

use gloo_net::http::Request;
use sse_core::health::{HealthCheckFailure, HealthReport};

/// Time limit of one health check.
pub const HEALTH_TIMEOUT_MS: u32 = 3_000;

/// Where the SSE service's API lives, e.g. `/api/v1` (same origin, through the
/// dashboard's nginx) or `http://127.0.0.1:8000/api/v1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiClient {
    base: String,
}

impl Default for ApiClient {
    fn default() -> Self {
        Self::new("/api/v1")
    }
}

impl ApiClient {
    pub fn new(base: &str) -> Self {
        Self {
            base: base.trim_end_matches('/').to_owned(),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// `GET /health` with a [`HEALTH_TIMEOUT_MS`] limit.
    pub async fn health(&self) -> Result<HealthReport, HealthCheckFailure> {
        let body = get_text(&self.url("health"), HEALTH_TIMEOUT_MS).await?;
        serde_json::from_str(&body).map_err(|e| HealthCheckFailure::InvalidBody(e.to_string()))
    }
}

/// GET `url`, failing on a network error, a non-2xx status or `timeout_ms`.
async fn get_text(url: &str, timeout_ms: u32) -> Result<String, HealthCheckFailure> {
    let controller = web_sys::AbortController::new()
        .map_err(|e| HealthCheckFailure::Network(format!("{e:?}")))?;
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
    let outcome = async {
        let response = Request::get(url)
            .abort_signal(Some(&controller.signal()))
            .send()
            .await?;
        if !response.ok() {
            return Ok(Err(response.status()));
        }
        response.text().await.map(Ok)
    }
    .await;
    match outcome {
        Ok(Ok(body)) => Ok(body),
        Ok(Err(status)) => Err(HealthCheckFailure::HttpStatus { status }),
        Err(_) if timed_out.get() => Err(HealthCheckFailure::Timeout {
            after_ms: timeout_ms,
        }),
        Err(error) => Err(HealthCheckFailure::Network(error.to_string())),
    }
}
