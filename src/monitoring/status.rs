//! The backend status indicator in the header: polls `/health` and shows
//! Checking / Connected / Degraded / Disconnected, the last check time and the
//! service's version; the reason is on hover. A check in progress keeps the
//! last known state (the dot pulses) instead of flipping the label. What the
//! service says (version, error text) is shown bounded and without bidi
//! controls: it is not ours.

use leptos::prelude::*;
use sse_core::contract::health::ConnectionState;
use sse_core::format::display_text;

use crate::browser::clock::{time_of_day, wall_ms};
use crate::browser::poll::use_poller;
use crate::state::AppState;

/// Characters of the version shown in the header (the tooltip has more).
const VERSION_CHARS: usize = 24;
/// Characters of the tooltip.
const TOOLTIP_CHARS: usize = 300;

fn is_reachable(state: &ConnectionState) -> bool {
    matches!(
        state,
        ConnectionState::Connected { .. } | ConnectionState::Degraded { .. }
    )
}

fn details(state: &ConnectionState) -> String {
    let text = match state {
        ConnectionState::Checking => "Checking the SSE service's /health".to_owned(),
        ConnectionState::Connected { version } => format!(
            "The SSE service reports healthy (version {})",
            version.as_deref().unwrap_or("unknown")
        ),
        ConnectionState::Degraded { reason, .. } => {
            format!("The SSE service answers but is {reason}")
        }
        ConnectionState::Disconnected { reason } => {
            format!("Cannot reach the SSE service: {reason}")
        }
    };
    display_text(&text, TOOLTIP_CHARS)
}

fn version(state: &ConnectionState) -> String {
    match state {
        ConnectionState::Connected { version: Some(v) }
        | ConnectionState::Degraded {
            version: Some(v), ..
        } => format!("v{}", display_text(v, VERSION_CHARS)),
        _ => String::new(),
    }
}

#[component]
pub fn StatusIndicator() -> impl IntoView {
    let app = AppState::get();
    let state = RwSignal::new(ConnectionState::Checking);
    let checking = RwSignal::new(false);
    let last_check = RwSignal::new(None::<f64>);
    use_poller(
        app.api,
        move || app.settings.with_untracked(|s| s.health_poll_ms),
        move || {
            checking.set(true);
            let api = app.api.get_untracked();
            async move {
                let next = ConnectionState::from_check(api.health().await);
                let reconnected = is_reachable(&next) && !state.with_untracked(is_reachable);
                state.set(next);
                checking.set(false);
                last_check.set(Some(wall_ms()));
                if reconnected {
                    app.connections.update(|n| *n += 1);
                }
            }
        },
    );
    // A critical alert of the Prometheus server degrades a healthy service.
    let shown = Memo::new(move |_| state.get().degraded_by(app.critical_alerts()));
    let details = move || shown.with(details);
    view! {
        <div
            class="status-indicator"
            data-testid="status-indicator"
            role="status"
            aria-live="polite"
            data-state=move || shown.with(|s| s.key())
            data-checking=move || checking.get().to_string()
            title=details
        >
            <span class="status-dot" aria-hidden="true"></span>
            <span class="status-label">{move || shown.with(|s| s.label())}</span>
            <span class="status-meta">
                <span data-testid="status-version">{move || shown.with(version)}</span>
                <span data-testid="status-last-check">
                    {move || {
                        last_check
                            .get()
                            .map(|t| format!("checked {}", time_of_day(t)))
                            .unwrap_or_default()
                    }}
                </span>
            </span>
            <span class="visually-hidden">{details}</span>
        </div>
    }
}
