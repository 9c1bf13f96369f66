//! The `stats-source` control: execution-stats or Prometheus metrics, the
//! default being the one that holds data; beside it, why the two disagree and
//! why a source is not there.

use leptos::prelude::*;
use sse_core::metrics::HISTOGRAM_ESTIMATE;
use sse_core::monitoring::stats_source::{disagreement, StatsSource};

use super::StatsState;
use crate::state::AppState;
use crate::ui::Note;

/// The statistics source, of one service or of the cluster: every source,
/// the Prometheus server only where the settings name one.
#[component]
pub fn SourceSelect(
    source: Memo<StatsSource>,
    chosen: RwSignal<Option<StatsSource>>,
) -> impl IntoView {
    let app = AppState::get();
    view! {
        <label>
            "Source "
            <select
                data-testid="stats-source"
                prop:value=move || source.get().id()
                on:change=move |ev| chosen.set(StatsSource::from_id(&event_target_value(&ev)))
            >
                {move || {
                    StatsSource::ALL
                        .into_iter()
                        .filter(|s| {
                            *s != StatsSource::PrometheusServer
                                || app.prometheus.with(Option::is_some)
                        })
                        .map(|s| {
                            view! {
                                <option value=s.id() title=s.definition()>
                                    {s.label()}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

#[component]
pub(super) fn SourcePicker(state: StatsState, source: Memo<StatsSource>) -> impl IntoView {
    let why_default = move || {
        if state.chosen.get().is_some() {
            return String::new();
        }
        match source.get() {
            StatsSource::Metrics => {
                "(default: the execution-stats hold no finished request)".to_owned()
            }
            StatsSource::ExecutionStats => "(default: the service's own figures)".to_owned(),
            StatsSource::PrometheusServer => String::new(),
        }
    };
    let disagreement = move || {
        state.stats.with(|s| {
            state.coverage.with(|c| {
                state.metrics.with(|m| match (s, m) {
                    (Some(s), Some(m)) => disagreement(s, c, &m.metrics).unwrap_or_default(),
                    _ => String::new(),
                })
            })
        })
    };
    let metrics_problem = move || {
        state
            .metrics_failure
            .get()
            .map(|e| format!("Prometheus metrics (/admin/metrics): {e}"))
            .unwrap_or_default()
    };
    view! {
        <div class="stats-source">
            <SourceSelect source chosen=state.chosen />
            <span class="hint">{why_default}</span>
        </div>
        <p class="hint" hidden=move || source.get() != StatsSource::Metrics>
            {HISTOGRAM_ESTIMATE}
        </p>
        <Note
            class="stats-disagreement"
            testid="stats-disagreement"
            text=Signal::derive(disagreement)
        />
        <Note
            class="stats-ignored"
            testid="stats-metrics-status"
            text=Signal::derive(metrics_problem)
        />
    }
}
