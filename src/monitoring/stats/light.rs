//! The statistics panel of the first load: the execution-stats, and the way to
//! the full view (both sources, the service strip) in the on-demand module.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::dashboard_settings::DashboardSettings;
use sse_core::monitoring::prometheus::service::has_stage_observations;
use sse_core::monitoring::stats_source::StatsSource;
use sse_core::monitoring::stats_view::stage_rows;

use super::{charts, summary, table, toolbar, StatsState};
use crate::browser::js_error;
use crate::browser::poll::{stats_interval_ms, use_poller};
use crate::monitoring::on_demand::{self, OnDemandModule};
use crate::state::AppState;
use crate::ui::{FieldError, Panel};

const FULL_VIEW_ROOT: &str = "stats-full-root";

/// Where the full view is.
#[derive(Debug, Clone, PartialEq)]
enum FullView {
    /// Not asked for.
    Closed,
    Loading,
    Open,
    Failed(String),
}

/// Mounts the full view (the module is loaded); the first-load view is gone by
/// then, so that no hook or chart element exists twice.
fn mount_full_view(
    module: &OnDemandModule,
    settings: DashboardSettings,
    source: Option<StatsSource>,
) -> Result<(), String> {
    let source = source.map(StatsSource::id).unwrap_or_default();
    module
        .mount_stats(
            FULL_VIEW_ROOT,
            settings.api_base,
            settings.admin_token,
            sse_core::contract::instances::list_text(&settings.instances),
            source,
        )
        .map_err(|e| format!("cannot show the metrics: {}", js_error::describe(&e)))
}

/// The execution-stats alone, and whether the metrics are worth the full view:
/// `wants_full` is called when they hold observations that the execution-stats
/// do not (no finished request there, or counts that went down).
#[component]
fn ExecutionStatsView(wants_full: Callback<Option<StatsSource>>) -> impl IntoView {
    let app = AppState::get();
    let state = StatsState::new();
    let interval = move || stats_interval_ms(app.settings.with_untracked(|s| s.stats_poll_ms));
    use_poller(app.api, interval, move || {
        let api = app.api.get_untracked();
        async move {
            if !state.poll_stats(api.clone()).await {
                return;
            }
            let empty = state.stats.with_untracked(|s| {
                s.as_ref()
                    .is_none_or(|s| s.stages.iter().all(|st| st.execution_count == 0))
            });
            if empty || state.coverage.with_untracked(|c| c.counts_fell()) {
                // A quick look, not a reading: the reader is in the module.
                if let Ok(text) = api.metrics_text().await {
                    if has_stage_observations(&text) {
                        wants_full.run(None);
                    }
                }
            }
        }
    });
    let rows = Memo::new(move |_| state.stats.with(|s| s.as_ref().map(stage_rows)));
    let source = Memo::new(|_| StatsSource::ExecutionStats);
    let (caption, history_caption) = charts::execution_stats_captions(state);
    view! {
        <toolbar::StatsToolbar state source />
        <div class="stats-source">
            <label>
                "Source "
                <select
                    data-testid="stats-source"
                    on:change=move |ev| {
                        if let Some(picked @ StatsSource::Metrics) = StatsSource::from_id(
                            &event_target_value(&ev),
                        ) {
                            wants_full.run(Some(picked));
                        }
                    }
                >
                    <option value="execution-stats" selected>
                        "Execution stats"
                    </option>
                    <option value="metrics">"Prometheus metrics (loads its reader)"</option>
                </select>
            </label>
        </div>
        <summary::StatsSummary rows />
        <charts::StageCharts state rows source caption history_caption />
        <table::StatsTable rows source />
    }
}

#[component]
pub fn MetricsChart() -> impl IntoView {
    let app = AppState::get();
    let full = RwSignal::new(FullView::Closed);
    let module = StoredValue::new_local(None::<OnDemandModule>);
    let push_error = RwSignal::new(None::<String>);
    let wants_full = Callback::new(move |source: Option<StatsSource>| {
        // After a failure only the person's pick tries again, not every poll.
        let may_load = match full.get_untracked() {
            FullView::Closed => true,
            FullView::Failed(_) => source.is_some(),
            FullView::Loading | FullView::Open => false,
        };
        if !may_load {
            return;
        }
        full.set(FullView::Loading);
        spawn_local(async move {
            let loaded = match on_demand::load().await {
                Ok(loaded) => loaded,
                Err(error) => return full.set(FullView::Failed(error)),
            };
            full.set(FullView::Open);
            // Let the first-load view go before the full one comes.
            gloo_timers::future::TimeoutFuture::new(0).await;
            match mount_full_view(&loaded, app.settings.get_untracked(), source) {
                Ok(()) => module.set_value(Some(loaded)),
                Err(error) => full.set(FullView::Failed(error)),
            }
        });
    });
    Effect::new(move |_| {
        let settings = app.settings.get();
        module.with_value(|m| {
            if let Some(m) = m {
                push_error.set(on_demand::push_settings(m, &settings));
            }
        });
    });
    let open = Memo::new(move |_| full.with(|f| *f == FullView::Open));
    let failure = move || match full.get() {
        FullView::Failed(e) => Some(format!("The metrics view did not load: {e}")),
        _ => push_error.get(),
    };
    view! {
        <Panel testid="metrics-chart" title="Statistics" attr:data-source="execution-stats">
            // Re-rendered only when `open` changes (a memo), as <Show> would, for less code.
            {move || (!open.get()).then(|| view! { <ExecutionStatsView wants_full /> })}
            <FieldError testid="stats-full-error".to_owned() error=Signal::derive(failure) />
            <div id=FULL_VIEW_ROOT></div>
        </Panel>
    }
}
