//! The statistics view with both sources and the service strip: mounted by
//! the on-demand module in place of the first-load view ([`super::light`]).

use leptos::prelude::*;
use sse_core::monitoring::stats_source::StatsSource;

use super::{charts, source, strip, summary, table, toolbar, StatsState};
use crate::browser::poll::{stats_interval_ms, use_poller};
use crate::state::AppState;

const METRICS_CAPTION: &str = "Percentiles per stage estimated from the service's histogram buckets (Prometheus histogram_quantile), over every request since the service process started; the table gives the bucket that bounds each. A bar at a stage's highest bucket bound may stand for more: the table then says \"above\".";
const METRICS_HISTORY_CAPTION: &str = "p95 per stage of the requests between two polls (histogram estimate, as Grafana plots histogram_quantile over a rate); a gap where a stage saw no request.";

/// The service strip's styles, shipped with this view (the first load's
/// stylesheet does not carry them).
const STYLE: &str = include_str!("../../../style/stats_full.css");

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
    let interval = move || stats_interval_ms(app.settings.with_untracked(|s| s.stats_poll_ms));
    use_poller(app.api, interval, move || {
        let api = app.api.get_untracked();
        async move {
            state.poll_stats(api).await;
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
    let (stats_caption, stats_history_caption) = charts::execution_stats_captions(state);
    let caption = Signal::derive(move || match source.get() {
        StatsSource::ExecutionStats => stats_caption.get(),
        StatsSource::Metrics => METRICS_CAPTION.to_owned(),
    });
    let history_caption = Signal::derive(move || match source.get() {
        StatsSource::ExecutionStats => stats_history_caption.get(),
        StatsSource::Metrics => METRICS_HISTORY_CAPTION.to_owned(),
    });
    view! {
        <div class="stats-view">
            <style>{STYLE}</style>
            <strip::ServiceStrip state />
            <toolbar::StatsToolbar state source />
            <source::SourcePicker state source />
            <summary::StatsSummary rows />
            <charts::StageCharts state rows source caption history_caption />
            <table::StatsTable rows source />
        </div>
    }
}

/// The browser benchmark of the Prometheus reader (`cargo bench -p
/// browser-tests --bench prometheus`): the median milliseconds of `rounds`
/// plain line splits of `text` (the baseline) and of as many reads with the
/// stage histograms merged, as `{"baseline_ms":…,"parse_ms":…,"stages":…}`.
pub fn prometheus_bench(text: &str, rounds: u32) -> String {
    use crate::browser::clock::monotonic_ms;
    use sse_core::monitoring::prometheus::service::ServiceMetrics;

    fn median(mut run: impl FnMut() -> usize, rounds: u32) -> (f64, usize) {
        let mut times = Vec::new();
        let mut out = 0;
        for _ in 0..rounds.max(1) {
            let start = monotonic_ms();
            out = std::hint::black_box(run());
            times.push(monotonic_ms() - start);
        }
        times.sort_by(f64::total_cmp);
        (times[times.len() / 2], out)
    }
    let (baseline, _) = median(|| text.lines().map(str::len).sum(), rounds);
    let (parse, stages) = median(
        || ServiceMetrics::parse(text).map_or(0, |m| m.stages.len()),
        rounds,
    );
    format!(r#"{{"baseline_ms":{baseline},"parse_ms":{parse},"stages":{stages}}}"#)
}
