//! Execution statistics: the service's per-stage timings, polled, as bars of
//! each stage's percentiles, each stage's p95 over the session (one point per
//! poll), and a table with every figure (also for screen readers).

mod charts;
mod summary;
mod table;
mod toolbar;

use leptos::prelude::*;
use sse_core::execution_stats::ExecutionStats;
use sse_core::stats_view::{Coverage, PollHistory};

use crate::browser::clock::wall_ms;
use crate::browser::poll::use_poller;
use crate::state::AppState;
use crate::ui::Panel;

/// Polls kept for the p95 history chart (an hour at the default 10 s).
const HISTORY_POINTS: usize = 360;

/// What the panel's parts share.
#[derive(Clone, Copy)]
struct StatsState {
    stats: RwSignal<Option<ExecutionStats>>,
    fetched_at: RwSignal<Option<f64>>,
    failure: RwSignal<Option<String>>,
    history: StoredValue<PollHistory, LocalStorage>,
    /// Bumped when `history` changes (it is no signal: not copied per poll).
    history_version: RwSignal<u64>,
    coverage: RwSignal<Coverage>,
    log_scale: RwSignal<bool>,
}

impl StatsState {
    fn new() -> Self {
        Self {
            stats: RwSignal::new(None),
            fetched_at: RwSignal::new(None),
            failure: RwSignal::new(None),
            history: StoredValue::new_local(PollHistory::new(HISTORY_POINTS)),
            history_version: RwSignal::new(0),
            coverage: RwSignal::new(Coverage::default()),
            log_scale: RwSignal::new(true),
        }
    }

    fn take(&self, fresh: ExecutionStats) {
        let at = wall_ms();
        self.history.update_value(|h| h.record(at, &fresh));
        self.history_version.update(|v| *v += 1);
        self.coverage.update(|c| c.observe(&fresh));
        self.stats.set(Some(fresh));
        self.fetched_at.set(Some(at));
        self.failure.set(None);
    }
}

#[component]
pub fn MetricsChart() -> impl IntoView {
    let app = AppState::get();
    let state = StatsState::new();
    use_poller(
        app.api,
        move || app.settings.with_untracked(|s| s.stats_poll_ms),
        move || {
            let api = app.api.get_untracked();
            async move {
                match api.execution_stats().await {
                    Ok(fresh) => state.take(fresh),
                    // The last good figures stay, marked stale.
                    Err(error) => state.failure.set(Some(error.to_string())),
                }
            }
        },
    );
    view! {
        <Panel testid="metrics-chart" title="Execution statistics">
            <toolbar::StatsToolbar state />
            <summary::StatsSummary stats=state.stats />
            <charts::StageCharts state />
            <table::StatsTable stats=state.stats />
        </Panel>
    }
}
