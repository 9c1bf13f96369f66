//! The statistics view with both sources and the service strip: mounted by
//! the on-demand module in place of the first-load view ([`super::light`]).

use leptos::prelude::*;
use sse_core::stats_source::StatsSource;

use super::{charts, source, strip, summary, table, toolbar, StatsState};
use crate::browser::poll::use_poller;
use crate::state::AppState;

/// Where the panel's root says which source it shows (`data-source`): the
/// root is the first-load bundle's element, this view is mounted inside it.
fn mark_source(source: StatsSource) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| {
        d.query_selector("[data-testid=metrics-chart]")
            .ok()
            .flatten()
    }) {
        let _ = root.set_attribute("data-source", source.id());
    }
}

#[component]
pub fn StatsView(
    /// The source the person picked before this view came; `None` = default.
    source: Option<StatsSource>,
) -> impl IntoView {
    let app = AppState::get();
    let state = StatsState::new();
    state.chosen.set(source);
    let interval = move || app.settings.with_untracked(|s| s.stats_poll_ms);
    use_poller(app.api, interval, move || {
        let api = app.api.get_untracked();
        async move {
            match api.execution_stats().await {
                Ok(fresh) => state.take_stats(fresh),
                // The last good figures stay, marked stale.
                Err(error) => state.stats_failure.set(Some(error.to_string())),
            }
        }
    });
    use_poller(app.api, interval, move || {
        let api = app.api.get_untracked();
        async move {
            match api.metrics().await {
                Ok(fresh) => state.take_metrics(fresh),
                Err(error) => state.metrics_failure.set(Some(error.to_string())),
            }
        }
    });
    let rows = Memo::new(move |_| state.rows());
    let source = Memo::new(move |_| state.source());
    Effect::new(move |_| mark_source(source.get()));
    view! {
        <div class="stats-view">
            <strip::ServiceStrip state />
            <toolbar::StatsToolbar state source />
            <source::SourcePicker state source />
            <summary::StatsSummary rows />
            <charts::StageCharts state rows source />
            <table::StatsTable rows source />
        </div>
    }
}
