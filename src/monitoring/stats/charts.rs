//! The two charts of the panel, created once and updated in place when the
//! figures or the scale change. ECharts loads asynchronously (the page does not
//! wait for it): the charts appear once it is there.

use leptos::prelude::*;
use sse_core::monitoring::stats_source::StatsSource;
use sse_core::monitoring::stats_view::StageRow;

use super::StatsState;
use crate::charts::stages::{history_chart, percentiles_chart};
use crate::charts::{self, ChartFigure, DrawnChart};

const PERCENTILES_CHART: &str = "stage-percentiles-chart";
const HISTORY_CHART: &str = "stage-p95-history-chart";

/// Becomes true once the ECharts script has run.
fn echarts_ready() -> RwSignal<bool> {
    let ready = RwSignal::new(charts::loaded());
    if !ready.get_untracked() {
        let watcher = gloo_timers::callback::Interval::new(100, move || {
            if !ready.get_untracked() && charts::loaded() {
                ready.set(true);
            }
        });
        let watcher = send_wrapper::SendWrapper::new(watcher);
        on_cleanup(move || {
            watcher.take().cancel();
        });
    }
    ready
}

#[component]
pub(super) fn StageCharts(
    state: StatsState,
    rows: Memo<Option<Vec<StageRow>>>,
    source: Memo<StatsSource>,
    /// What the bars show, for the source shown.
    caption: Signal<String>,
    /// What the history shows, for the source shown.
    history_caption: Signal<String>,
) -> impl IntoView {
    let bars = StoredValue::new_local(None::<DrawnChart>);
    let lines = StoredValue::new_local(None::<DrawnChart>);
    let ready = echarts_ready();
    Effect::new(move |_| {
        ready.track();
        state.history_version.track();
        let log = state.log_scale.get();
        let source = source.get();
        rows.with(|rows| {
            if let Some(rows) = rows {
                charts::draw_later(bars, PERCENTILES_CHART, percentiles_chart(rows, log), true);
                state.histories.with_value(|h| {
                    let history = match source {
                        StatsSource::Metrics => &h.metrics_window,
                        // The server's own time series is drawn by its view.
                        StatsSource::ExecutionStats | StatsSource::PrometheusServer => {
                            &h.execution_stats
                        }
                    };
                    charts::draw_later(lines, HISTORY_CHART, history_chart(history, log), true)
                });
            }
        });
    });
    view! {
        <div class="chart-row">
            <ChartFigure
                id=PERCENTILES_CHART
                testid="stats-chart"
                caption
                label="Bar chart of each stage's p50, p90 (when reported), p95 and p99 in milliseconds; the table below has the same figures"
            />
            <ChartFigure
                id=HISTORY_CHART
                testid="stats-history-chart"
                caption=history_caption
                label="Line chart of each stage's p95 at every poll of this session"
            />
        </div>
    }
}

/// The captions of the execution-stats source.
pub(super) fn execution_stats_captions(state: StatsState) -> (Signal<String>, Signal<String>) {
    (
        Signal::derive(move || state.coverage.with(|c| c.caption().to_owned())),
        Signal::derive(|| {
            "p95 per stage at each poll of this session (one point per poll, not per request)."
                .to_owned()
        }),
    )
}
