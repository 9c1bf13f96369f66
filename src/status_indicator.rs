//! The backend status indicator in the header: polls `/health` and shows
//! Checking / Connected / Degraded / Disconnected, the last check time and the
//! service's version; the reason is on hover. What the service says (version,
//! error text) is shown bounded and without bidi controls: it is not ours.

use leptos::prelude::*;
use sse_core::format::display_text;
use sse_core::health::ConnectionState;

use crate::app::shared;
use crate::poller::use_poller;

/// Characters of the version shown in the header (the tooltip has more).
const VERSION_CHARS: usize = 24;
/// Characters of the tooltip.
const TOOLTIP_CHARS: usize = 300;

#[component]
pub fn StatusIndicator() -> impl IntoView {
    let shared = shared();
    let state = RwSignal::new(ConnectionState::Checking);
    let last_check = RwSignal::new(None::<String>);

    use_poller(
        shared.api,
        move || shared.settings.with_untracked(|s| s.health_poll_ms),
        move || {
            // After a failure, say that we are trying again rather than keep "Disconnected".
            if matches!(state.get_untracked(), ConnectionState::Disconnected { .. }) {
                state.set(ConnectionState::Checking);
            }
            let api = shared.api.get_untracked();
            async move {
                let next = ConnectionState::from_check(api.health().await);
                let was_reachable = matches!(
                    state.get_untracked(),
                    ConnectionState::Connected { .. } | ConnectionState::Degraded { .. }
                );
                let reachable = matches!(
                    next,
                    ConnectionState::Connected { .. } | ConnectionState::Degraded { .. }
                );
                state.set(next);
                last_check.set(Some(now_time_of_day()));
                if reachable && !was_reachable {
                    shared.connections.update(|n| *n += 1);
                }
            }
        },
    );

    let details = move || {
        let text = state.with(|s| match s {
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
        });
        display_text(&text, TOOLTIP_CHARS)
    };
    let version = move || {
        state.with(|s| match s {
            ConnectionState::Connected { version: Some(v) }
            | ConnectionState::Degraded {
                version: Some(v), ..
            } => {
                format!("v{}", display_text(v, VERSION_CHARS))
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
