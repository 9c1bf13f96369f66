//! The panel's first lines: how fresh the figures are (or why they are stale),
//! the log-scale switch, and what the last answer held that is no measurement.

use leptos::prelude::*;
use sse_core::format;
use sse_core::monitoring::stats_source::StatsSource;

use super::StatsState;
use crate::browser::clock::wall_ms;
use crate::ui::Note;

/// Notes about left-out values shown at most.
const NOTES_SHOWN: usize = 5;

#[component]
pub(super) fn StatsToolbar(state: StatsState, source: Memo<StatsSource>) -> impl IntoView {
    // The age of the figures moves on by itself.
    let now = RwSignal::new(wall_ms());
    let clock = gloo_timers::callback::Interval::new(1_000, move || now.set(wall_ms()));
    let clock = send_wrapper::SendWrapper::new(clock);
    on_cleanup(move || {
        clock.take().cancel();
    });
    // The failure and the time of the last answer of the source shown.
    // The Prometheus server's view says its own (`stats-server-status`).
    let failure = move || match source.get() {
        StatsSource::ExecutionStats => state.stats_failure.get(),
        StatsSource::Metrics => state.metrics_failure.get(),
        StatsSource::PrometheusServer => None,
    };
    let fetched_at = move || match source.get() {
        StatsSource::ExecutionStats => state.stats_at.get(),
        StatsSource::Metrics => state.metrics.with(|m| m.as_ref().map(|m| m.at_ms)),
        StatsSource::PrometheusServer => None,
    };
    let stale = move || failure().is_some() && fetched_at().is_some();
    let status_line = move || {
        let age = fetched_at().map(|t| format::age((now.get() - t) / 1000.0));
        match (failure(), age) {
            (Some(error), Some(age)) => format!("Stale: last updated {age}. {error}"),
            (Some(error), None) => error,
            (None, Some(age)) => format!("Updated {age}"),
            (None, None) if source.get() == StatsSource::PrometheusServer => String::new(),
            (None, None) => "Loading…".to_owned(),
        }
    };
    let ignored = move || {
        let notes = match source.get() {
            StatsSource::ExecutionStats => {
                state.stats.with(|s| s.as_ref().map(|s| s.ignored.clone()))
            }
            StatsSource::Metrics => state
                .metrics
                .with(|m| m.as_ref().map(|m| m.metrics.notes.clone())),
            StatsSource::PrometheusServer => None,
        }
        .unwrap_or_default();
        {
            if notes.is_empty() {
                return String::new();
            }
            let mut text = format!(
                "Left out of the last answer: {}",
                notes[..notes.len().min(NOTES_SHOWN)].join("; ")
            );
            if notes.len() > NOTES_SHOWN {
                text.push_str(&format!("; and {} more", notes.len() - NOTES_SHOWN));
            }
            text + "."
        }
    };
    view! {
        <div class="panel-toolbar">
            <p
                class="panel-status"
                data-testid="stats-status"
                data-stale=move || stale().to_string()
            >
                {status_line}
            </p>
            <label
                class="toggle"
                title="A log scale shows microsecond stages beside second-long ones"
            >
                <input
                    type="checkbox"
                    data-testid="stats-log-scale"
                    prop:checked=move || state.log_scale.get()
                    on:change=move |ev| state.log_scale.set(event_target_checked(&ev))
                />
                "Log scale"
            </label>
        </div>
        <Note class="stats-ignored" testid="stats-ignored" text=Signal::derive(ignored) />
    }
}
