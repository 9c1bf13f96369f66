//! The warning shown while HTTP/1.1 holds requests back inside the browser,
//! with the browser wait measured as a distribution (a p50 alone hides the
//! queue: 60 ms at p50 with 15 s at p90 was seen).

use leptos::prelude::*;
use sse_core::load::plan::HTTP1_CONNECTIONS_PER_HOST;

use super::TesterState;

#[component]
pub(super) fn ProtocolWarning(state: TesterState) -> impl IntoView {
    let text = move || {
        let protocol = state.protocol().map_or_else(
            || "HTTP/1.1 (or a protocol the browser does not report)".to_owned(),
            |p| p.to_uppercase(),
        );
        let measured = state
            .results
            .with(|r| r.as_ref().and_then(|r| r.browser_wait_sentence()))
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        format!(
            "The API is reached over {protocol}: the browser sends at most \
             {HTTP1_CONNECTIONS_PER_HOST} requests at a time to one host, so at concurrency {} \
             the others wait inside the browser and their latency includes that wait{measured}. \
             Open the dashboard over HTTPS (HTTP/2) for true concurrency (README: \"Why HTTP/2\").",
            state.concurrency()
        )
    };
    view! {
        <Show when=move || state.capped()>
            <p class="protocol-warning" role="status" data-testid="lt-protocol-warning">
                {text}
            </p>
        </Show>
    }
}
