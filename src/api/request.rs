//! Sending one request: headers built without throwing, a deadline, and every
//! outcome mapped to an [`ApiError`].

use gloo_net::http::{Headers, Request, RequestBuilder};
use sse_core::contract::api_error::{ApiError, ApiErrorBody};
use sse_core::contract::dashboard_settings::DashboardSettings;

use super::REQUEST_TIMEOUT_MS;
use crate::browser::deadline::Deadline;
use crate::browser::js_error;

/// `request` with `headers`, built through the browser's `Headers.set`, which
/// refuses a value it cannot carry (outside Latin-1, a line break): that becomes
/// an [`ApiError::Request`] naming the header, never an exception thrown out of
/// the WASM (gloo-net's own `header()` throws, which stops the caller's task).
pub(super) fn with_headers(
    request: RequestBuilder,
    headers: &[(&str, String)],
) -> Result<RequestBuilder, ApiError> {
    let raw = web_sys::Headers::new()
        .map_err(|e| ApiError::Request(format!("no headers object: {}", js_error::describe(&e))))?;
    for (name, value) in headers {
        raw.set(name, value).map_err(|e| {
            ApiError::Request(format!(
                "the browser refused the {name} header ({})",
                js_error::describe(&e)
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
pub(super) async fn send(
    request: RequestBuilder,
    body: Option<String>,
    timeout_ms: u32,
) -> Result<String, ApiError> {
    match send_for_any_status(request, body, timeout_ms).await? {
        (status, text) if (200..300).contains(&status) => Ok(text),
        (status, text) => Err(ApiError::Http {
            status,
            body: ApiErrorBody::parse(&text),
        }),
    }
}

/// [`send`], the status and body of any answer (an API whose errors are its
/// own JSON reads them itself).
pub(super) async fn send_for_any_status(
    request: RequestBuilder,
    body: Option<String>,
    timeout_ms: u32,
) -> Result<(u16, String), ApiError> {
    let deadline = Deadline::after(timeout_ms).map_err(ApiError::Request)?;
    let request = request.abort_signal(Some(&deadline.signal()));
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
        Ok(answer) => Ok(answer),
        Err(_) if deadline.timed_out() => Err(ApiError::Timeout {
            after_ms: timeout_ms,
        }),
        Err(error) => Err(ApiError::Network(error.to_string())),
    }
}
