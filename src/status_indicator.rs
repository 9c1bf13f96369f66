//! The backend status indicator in the header: polls `/health` and shows
//! Checking / Connected / Degraded / Disconnected.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::health::ConnectionState;

use crate::api::ApiClient;

/// How often the indicator checks the service.
pub const HEALTH_POLL_INTERVAL: Duration = Duration::from_secs(5);

#[component]
pub fn StatusIndicator() -> impl IntoView {
    let api = use_context::<ApiClient>().unwrap_or_default();
    let state = RwSignal::new(ConnectionState::Checking);
    let last_check = RwSignal::new(None::<String>);
    // A slow check must not overlap the next one.
    let in_flight = StoredValue::new(false);

    let check = move || {
        if in_flight.get_value() {
            return;
        }
        in_flight.set_value(true);
        // After a failure, say that we are trying again rather than keep "Disconnected".
        if matches!(state.get_untracked(), ConnectionState::Disconnected { .. }) {
            state.set(ConnectionState::Checking);
        }
        let api = api.clone();
        spawn_local(async move {
            let outcome = api.health().await;
            state.set(ConnectionState::from_check(outcome));
            last_check.set(Some(now_time_of_day()));
            in_flight.set_value(false);
        });
    };
    check();
    if let Ok(handle) = set_interval_with_handle(check, HEALTH_POLL_INTERVAL) {
        on_cleanup(move || handle.clear());
    }

    let details = move || {
        state.with(|s| match s {
            ConnectionState::Checking => "Checking the SSE service's /health".to_owned(),
            ConnectionState::Connected { version } => {
                format!(
                    "The SSE service reports healthy (version {})",
                    version.as_deref().unwrap_or("unknown")
                )
            }
            ConnectionState::Degraded { reason, .. } => {
                format!("The SSE service answers but is {reason}")
            }
            ConnectionState::Disconnected { reason } => {
                format!("Cannot reach the SSE service: {reason}")
            }
        })
    };
    let version = move || {
        state.with(|s| match s {
            ConnectionState::Connected { version: Some(v) }
            | ConnectionState::Degraded {
                version: Some(v), ..
            } => {
                format!("v{v}")
            }
            _ => String::new(),
        })
    };

    view! {
        <div
            class="status-indicator"
            data-testid="status-indicator"
            data-state=move || state.with(|s| s.key())
            title=details
            role="status"
            aria-live="polite"
        >
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">{move || state.with(|s| s.label())}</span>
            <span class="status-meta">
                <span data-testid="status-version">{version}</span>
                <span data-testid="status-last-check">
                    {move || last_check.get().map(|t| format!("checked {t}")).unwrap_or_default()}
                </span>
            </span>
            <span class="visually-hidden">{details}</span>
        </div>
    }
}

fn now_time_of_day() -> String {
    js_sys::Date::new_0()
        .to_locale_time_string("en-GB")
        .as_string()
        .unwrap_or_default()
}
