//! The statistics panel: the service strip, both sources, the source picker,
//! the summary, the charts and the table.

use leptos::either::Either;
use leptos::prelude::*;
use sse_core::monitoring::stats_source::StatsSource;

use super::{charts, source, strip, summary, table, toolbar, StatsState};
use crate::browser::poll::use_poller;
use crate::monitoring::server::server_view;
use crate::state::AppState;
use crate::ui::{OnDemand, Panel};

const METRICS_CAPTION: &str = "Percentiles per stage estimated from the service's histogram buckets (Prometheus histogram_quantile), over every request since the service process started; the table gives the bucket that bounds each. A bar at a stage's highest bucket bound may stand for more: the table then says \"above\".";
const METRICS_HISTORY_CAPTION: &str = "p95 per stage of the requests between two polls (histogram estimate, as Grafana plots histogram_quantile over a rate); a gap where a stage saw no request.";

#[component]
pub fn MetricsChart() -> impl IntoView {
    let app = AppState::get();
    let state = StatsState::new();
    let interval = move || app.stats_poll_ms();
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
                Err(error) if !state.metrics_failure.is_disposed() => {
                    state.metrics_failure.set(Some(error.to_string()))
                }
                Err(_) => {}
            }
        }
    });
    let rows = Memo::new(move |_| state.rows());
    let source = Memo::new(move |_| state.source());
    let (stats_caption, stats_history_caption) = charts::execution_stats_captions(state);
    let caption = Signal::derive(move || match source.get() {
        StatsSource::Metrics => METRICS_CAPTION.to_owned(),
        _ => stats_caption.get(),
    });
    let history_caption = Signal::derive(move || match source.get() {
        StatsSource::Metrics => METRICS_HISTORY_CAPTION.to_owned(),
        _ => stats_history_caption.get(),
    });
    // The server's figures are its own view (a part loaded on demand).
    let from_server = Memo::new(move |_| source.get() == StatsSource::PrometheusServer);
    let figures = move || {
        if from_server.get() {
            Either::Left(view! { <OnDemand load=server_view testid="stats-server-error" /> })
        } else {
            Either::Right(view! {
                <strip::ServiceStrip state />
                <summary::StatsSummary rows />
                <charts::StageCharts state rows source caption history_caption />
                <table::StatsTable rows source />
            })
        }
    };
    view! {
        <Panel
            testid="metrics-chart"
            title="Statistics"
            attr:data-source=move || source.get().id()
            attr:data-poll-ms=move || {
                app.settings.track();
                app.run_stats_poll_ms.track();
                app.stats_poll_ms()
            }
        >
            <toolbar::StatsToolbar state source />
            <source::SourcePicker state source />
            {figures}
        </Panel>
    }
}
