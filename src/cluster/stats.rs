//! Cluster mode's statistics: every instance's execution-stats and Prometheus
//! metrics, polled together. The main table is the cluster: from
//! execution-stats count/min/max/mean merge exactly and percentiles stay per
//! instance; from the metrics the histograms merge, so percentiles are those
//! of all observations (bucket estimates). Below it each instance's own table
//! and a chart of each instance's requests and p95, idle or slow ones flagged.

use leptos::either::Either;
use leptos::prelude::*;
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::contract::instances::Instance;
use sse_core::format;
use sse_core::monitoring::cluster::{
    execution_stats_rows, instance_bars, merge_metrics, InstanceBar,
};
use sse_core::monitoring::prometheus::service::ServiceMetrics;
use sse_core::monitoring::stats_source::{histogram_rows, StatsSource};
use sse_core::monitoring::stats_view::{stage_rows, StageRow};

use super::{instance_clients, instances_memo};
use crate::browser::poll::use_poller;
use crate::monitoring::server::server_view;
use crate::monitoring::stats::table::StatsTable;
use crate::monitoring::stats::SourceSelect;
use crate::state::AppState;
use crate::ui::{Note, OnDemand, Panel};

/// One instance's last answers.
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    name: String,
    stats: Result<ExecutionStats, String>,
    metrics: Result<ServiceMetrics, String>,
}

impl Reading {
    fn rows(&self, source: StatsSource) -> Option<Vec<StageRow>> {
        match source {
            StatsSource::ExecutionStats => self.stats.as_ref().ok().map(stage_rows),
            StatsSource::Metrics => self.metrics.as_ref().ok().map(histogram_rows),
            StatsSource::PrometheusServer => None,
        }
    }

    fn failure(&self, source: StatsSource) -> Option<&str> {
        match source {
            StatsSource::ExecutionStats => self.stats.as_ref().err(),
            StatsSource::Metrics => self.metrics.as_ref().err(),
            StatsSource::PrometheusServer => None,
        }
        .map(String::as_str)
    }
}

/// The metrics when every instance's histograms hold observations; else the execution-stats.
fn default_source(readings: &[Reading]) -> StatsSource {
    let all_have = !readings.is_empty()
        && readings.iter().all(|r| {
            r.metrics
                .as_ref()
                .is_ok_and(|m| m.stages.iter().any(|s| s.histogram.count > 0.0))
        });
    if all_have {
        StatsSource::Metrics
    } else {
        StatsSource::ExecutionStats
    }
}

/// The cluster's rows of `source`, and what was left out (named).
fn cluster_rows(readings: &[Reading], source: StatsSource) -> (Vec<StageRow>, Vec<String>) {
    let mut notes: Vec<String> = readings
        .iter()
        .filter_map(|r| {
            r.failure(source)
                .map(|e| format!("{} is left out of the cluster: {e}", r.name))
        })
        .collect();
    let rows = match source {
        StatsSource::ExecutionStats => {
            let answered: Vec<&ExecutionStats> = readings
                .iter()
                .filter_map(|r| r.stats.as_ref().ok())
                .collect();
            execution_stats_rows(&answered)
        }
        StatsSource::Metrics => {
            let answered: Vec<(&str, &ServiceMetrics)> = readings
                .iter()
                .filter_map(|r| r.metrics.as_ref().ok().map(|m| (r.name.as_str(), m)))
                .collect();
            let (merged, merge_notes) = merge_metrics(&answered);
            notes.extend(merge_notes);
            histogram_rows(&merged)
        }
        StatsSource::PrometheusServer => Vec::new(),
    };
    (rows, notes)
}

async fn read(name: String, api: crate::api::ApiClient) -> Reading {
    let (stats, metrics) = futures::join!(api.execution_stats(), api.metrics());
    Reading {
        name,
        stats: stats.map_err(|e| e.to_string()),
        metrics: metrics.map_err(|e| e.to_string()),
    }
}

/// What the cluster's table shows, from `n` instances and `source`.
fn caption_of(n: usize, source: StatsSource) -> String {
    match source {
        StatsSource::ExecutionStats => format!(
            "The cluster of {n} instances from their execution-stats: count is the sum, min the smallest, max the largest, mean the count-weighted mean. Percentiles do not merge from these figures: see each instance below."
        ),
        StatsSource::Metrics => format!(
            "The cluster of {n} instances from their Prometheus histograms, merged bucket by bucket: percentiles are bucket estimates over every instance's observations."
        ),
        StatsSource::PrometheusServer => format!(
            "The cluster as the Prometheus server sees it ({n} instances listed here; the server's own targets below), over the chosen window."
        ),
    }
}

#[component]
pub fn ClusterStats() -> impl IntoView {
    let app = AppState::get();
    let instances = instances_memo(app);
    let readings = RwSignal::new(Vec::<Reading>::new());
    let chosen = RwSignal::new(None::<StatsSource>);
    // The instances are asked one by one only for their own sources: the
    // server's view asks the server alone, whatever the number of instances.
    let from_server = RwSignal::new(false);
    use_poller(
        instances,
        move || app.stats_poll_ms(),
        move || {
            let clients = instance_clients(app);
            let skip = from_server.get_untracked();
            async move {
                if skip {
                    return;
                }
                let fresh =
                    futures::future::join_all(clients.into_iter().map(|(n, api)| read(n, api)))
                        .await;
                readings.set(fresh);
            }
        },
    );
    // With a Prometheus server, it is the default source of a cluster.
    let source = Memo::new(move |_| {
        chosen.get().unwrap_or_else(|| {
            if app.prometheus.with(Option::is_some) {
                StatsSource::PrometheusServer
            } else {
                readings.with(|r| default_source(r))
            }
        })
    });
    Effect::new(move |_| from_server.set(source.get() == StatsSource::PrometheusServer));
    let cluster = Memo::new(move |_| {
        readings.with(|r| (!r.is_empty()).then(|| cluster_rows(r, source.get())))
    });
    let rows = Memo::new(move |_| cluster.with(|c| c.as_ref().map(|(rows, _)| rows.clone())));
    let notes = Signal::derive(move || {
        cluster.with(|c| {
            c.as_ref()
                .map(|(_, notes)| notes.join(" "))
                .unwrap_or_default()
        })
    });
    let bars = Memo::new(move |_| {
        readings.with(|r| {
            instance_bars(
                &r.iter()
                    .filter_map(|r| r.rows(source.get()).map(|rows| (r.name.clone(), rows)))
                    .collect::<Vec<_>>(),
            )
        })
    });
    let caption = move || caption_of(instances.with(Vec::len), source.get());
    view! {
        <Panel
            testid="metrics-chart"
            title="Statistics (cluster)"
            attr:data-source=move || source.get().id()
        >
            <div class="cluster-stats" data-testid="stats-cluster">
                <div class="stats-source">
                    <SourceSelect source chosen />
                </div>
                <p class="panel-note" data-testid="stats-cluster-caption">
                    {caption}
                </p>
                {move || {
                    if source.get() == StatsSource::PrometheusServer {
                        Either::Left(
                            view! { <OnDemand load=server_view testid="stats-server-error" /> },
                        )
                    } else {
                        Either::Right(
                            view! {
                                <Note
                                    class="panel-note warning"
                                    testid="stats-cluster-note"
                                    text=notes
                                />
                                <StatsTable rows source />
                                <InstanceChart bars />
                                <For
                                    each=move || instances.get()
                                    key=|i: &Instance| i.name.clone()
                                    let(instance)
                                >
                                    <InstanceTable name=instance.name readings source />
                                </For>
                            },
                        )
                    }
                }}
            </div>
        </Panel>
    }
}

/// One instance's own table (its own percentiles, as it reports them).
#[component]
fn InstanceTable(
    name: String,
    readings: RwSignal<Vec<Reading>>,
    source: Memo<StatsSource>,
) -> impl IntoView {
    let testid = format!("stats-instance-{name}");
    let label = name.clone();
    let own = name.clone();
    let reading = Memo::new(move |_| readings.with(|r| r.iter().find(|r| r.name == own).cloned()));
    let rows = Memo::new(move |_| reading.with(|r| r.as_ref().and_then(|r| r.rows(source.get()))));
    let failure = Signal::derive(move || {
        reading.with(|r| {
            r.as_ref()
                .and_then(|r| r.failure(source.get()).map(|e| format!("Not read: {e}")))
                .unwrap_or_default()
        })
    });
    view! {
        <section class="instance-stats" data-testid=testid aria-label=label>
            <h3>{name}</h3>
            <Note class="panel-note warning" testid="stats-instance-error" text=failure />
            <StatsTable rows source testid="stats-instance-table" />
        </section>
    }
}

/// Each instance's requests and p95 as bars against the largest: an idle or
/// slow instance is flagged and coloured.
#[component]
fn InstanceChart(bars: Memo<Vec<InstanceBar>>) -> impl IntoView {
    let row = move |bar: InstanceBar, most: u64, slowest: f64| {
        let share = |v: f64, of: f64| if of > 0.0 { 100.0 * v / of } else { 0.0 };
        let flag = bar.flag.unwrap_or("");
        view! {
            <tr data-testid=format!("stats-bar-{}", bar.name) data-flag=flag class=flag>
                <th scope="row">{bar.name.clone()} {bar.flag.map(|f| format!(" ({f})"))}</th>
                <td data-metric="requests" data-value=bar.requests.to_string()>
                    <span
                        class="bar"
                        style=format!("width:{:.1}%", share(bar.requests as f64, most as f64))
                    ></span>
                    {format::count(bar.requests)}
                </td>
                <td
                    data-metric="p95"
                    data-value=bar.p95_ms.map(|v| v.to_string()).unwrap_or_default()
                >
                    <span
                        class="bar"
                        style=format!("width:{:.1}%", share(bar.p95_ms.unwrap_or(0.0), slowest))
                    ></span>
                    {format::duration_ms(bar.p95_ms)}
                </td>
            </tr>
        }
    };
    view! {
        <div class="table-scroll">
            <table class="stats-table instance-chart" data-testid="stats-instances-chart">
                <caption>
                    "Instances side by side: requests each reports (stage 1) and its own p95 of LLM streaming (stage 5, else its slowest stage). idle = no requests while others have some; slow = p95 above 1.5 × the instances' median."
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Instance"</th>
                        <th scope="col">"requests"</th>
                        <th scope="col">"p95"</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        let bars = bars.get();
                        let most = bars.iter().map(|b| b.requests).max().unwrap_or(0);
                        let slowest = bars.iter().filter_map(|b| b.p95_ms).fold(0.0, f64::max);
                        bars.into_iter().map(|b| row(b, most, slowest)).collect_view()
                    }}
                </tbody>
            </table>
        </div>
    }
}
