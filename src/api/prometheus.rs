//! The Prometheus server's HTTP API (`/api/v1/query`, `/api/v1/query_range`,
//! `/api/v1/alerts`, `/api/v1/rules`), at the base the settings name. It never gets the
//! service's admin token, nor any header of the person's.

use gloo_net::http::Request;
use sse_core::contract::api_error::{ApiError, ApiErrorBody};
use sse_core::contract::dashboard_settings::DashboardSettings;
use sse_core::monitoring::prometheus_api::{
    parse_alerts, parse_query, parse_rule_names, Alert, PromError, QueryAnswer,
};
use sse_core::monitoring::prometheus_server::Queries;

use super::request::send_for_any_status;
use super::REQUEST_TIMEOUT_MS;

/// The largest answer read: a Prometheus answer to these queries is a few KB.
pub const MAX_ANSWER_BYTES: usize = 4 * 1024 * 1024;

/// Where the server is, and the matcher its queries carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromClient {
    base: String,
    job: String,
}

impl PromClient {
    /// The server of `settings`, if they name one.
    pub fn from_settings(settings: &DashboardSettings) -> Option<Self> {
        settings.prometheus.as_ref().map(|base| Self {
            base: base.trim_end_matches('/').to_owned(),
            job: settings.prometheus_job.clone(),
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The queries of this server's figures.
    pub fn queries(&self) -> Queries {
        Queries::new(&self.job)
    }

    /// The answer's status and text (Prometheus answers its own error JSON
    /// with 400, 422 or 503: read by the caller).
    async fn get(&self, path_and_query: &str) -> Result<(u16, String), ApiError> {
        let url = format!("{}/{path_and_query}", self.base);
        let (status, text) =
            send_for_any_status(Request::get(&url), None, REQUEST_TIMEOUT_MS).await?;
        if text.len() > MAX_ANSWER_BYTES {
            return Err(ApiError::Decode(format!(
                "the answer is {:.1} MB, more than a Prometheus answer to these queries ({} MB at most): is the Prometheus URL right?",
                text.len() as f64 / 1_048_576.0,
                MAX_ANSWER_BYTES / 1_048_576
            )));
        }
        Ok((status, text))
    }

    /// `query` at `time` (seconds since the epoch; now when `None`).
    pub async fn query(&self, query: &str, time: Option<f64>) -> Result<QueryAnswer, ApiError> {
        let mut path = format!("api/v1/query?query={}", encode(query));
        if let Some(time) = time {
            path.push_str(&format!("&time={time:.3}"));
        }
        read(self.get(&path).await?, parse_query)
    }

    /// `query` from `start` to `end` (seconds since the epoch) every `step_s`.
    pub async fn query_range(
        &self,
        query: &str,
        start: f64,
        end: f64,
        step_s: u32,
    ) -> Result<QueryAnswer, ApiError> {
        let path = format!(
            "api/v1/query_range?query={}&start={start:.3}&end={end:.3}&step={step_s}",
            encode(query)
        );
        read(self.get(&path).await?, parse_query)
    }

    /// The names of the recording rules the server evaluates.
    pub async fn recording_rule_names(&self) -> Result<Vec<String>, ApiError> {
        read(
            self.get("api/v1/rules?type=record").await?,
            parse_rule_names,
        )
    }

    /// The firing and pending alerts of its rules.
    pub async fn alerts(&self) -> Result<Vec<Alert>, ApiError> {
        read(self.get("api/v1/alerts").await?, parse_alerts)
    }
}

fn encode(query: &str) -> String {
    String::from(js_sys::encode_uri_component(query))
}

/// The answer read by `parse`; an error status whose body is not the
/// server's own error JSON (a proxy's 502 page, a 404) is said as that status.
fn read<T>(
    (status, text): (u16, String),
    parse: impl Fn(&str) -> Result<T, PromError>,
) -> Result<T, ApiError> {
    match parse(&text) {
        Ok(value) => Ok(value),
        Err(PromError::NotPrometheus(_)) if !(200..300).contains(&status) => Err(ApiError::Http {
            status,
            body: ApiErrorBody::parse(&text),
        }),
        Err(error) => Err(ApiError::Decode(error.to_string())),
    }
}
