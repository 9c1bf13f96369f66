//! Execution statistics: the service's per-stage timings, polled, as a grouped
//! bar chart of the percentiles, a chart of each stage's p95 over the session
//! (one point per poll), and a table with every figure (also for screen readers).

use charming::component::Axis;
use charming::datatype::DataPoint;
use charming::element::AxisType;
use charming::series::{Bar, Line};
use leptos::prelude::*;
use sse_core::execution_stats::{stage_name, ExecutionStats};
use sse_core::format;
use sse_core::stats_view::{percentile_series, stage_rows, P95History, ValueScale};

use crate::app::shared;
use crate::echarts::{self, ChartOption, DrawnChart};
use crate::panel::Panel;
use crate::poller::use_poller;

/// Polls kept for the p95 history chart (an hour at the default 10 s).
const HISTORY_POINTS: usize = 360;
const PERCENTILES_CHART: &str = "stage-percentiles-chart";
const HISTORY_CHART: &str = "stage-p95-history-chart";

/// Definitions shown as tooltips.
fn definition(metric: &str) -> &'static str {
    match metric {
        "p50" => "p50: half of this stage's executions took at most this long (the service's own figure).",
        "p90" => "p90: 90% of executions took at most this long. The current service does not report it.",
        "p95" => "p95: 95% of executions took at most this long.",
        "p99" => "p99: 99% of executions took at most this long; the slow tail.",
        "avg" => "avg: mean duration of the stage's executions.",
        "min" => "min: the fastest execution.",
        "max" => "max: the slowest execution.",
        _ => "count: how many times the stage ran since the service's statistics were last reset.",
    }
}

fn points(values: &[Option<f64>], scale: &ValueScale) -> Vec<DataPoint> {
    values
        .iter()
        .map(|v| match scale.plot(*v) {
            Some(v) => DataPoint::from(v),
            // "-" is ECharts' gap.
            None => DataPoint::from("-"),
        })
        .collect()
}

fn value_axis(scale: &ValueScale) -> Axis {
    let axis = Axis::new()
        .type_(if scale.log {
            AxisType::Log
        } else {
            AxisType::Value
        })
        .name(scale.unit);
    match scale.axis_min {
        Some(min) => axis.min(min),
        None => axis,
    }
}

fn scale_of<'a>(log: bool, series: impl Iterator<Item = &'a Vec<Option<f64>>>) -> ValueScale {
    ValueScale::new(log, series.flat_map(|v| v.iter().flatten().copied()))
}

fn percentiles_chart(stats: &ExecutionStats, log_scale: bool) -> ChartOption {
    let names: Vec<String> = stats
        .stages
        .iter()
        .map(|s| format!("{} {}", s.id, s.name))
        .collect();
    let series = percentile_series(stats);
    let scale = scale_of(log_scale, series.iter().map(|(_, v)| v));
    let mut chart = ChartOption::new(
        Axis::new().type_(AxisType::Category).data(names),
        value_axis(&scale),
    );
    for (metric, values) in series {
        chart = chart.bar(Bar::new().name(metric).data(points(&values, &scale)));
    }
    chart
}

fn history_chart(history: &P95History, log_scale: bool) -> ChartOption {
    let times: Vec<String> = history
        .times()
        .map(|t| {
            js_sys::Date::new(&t.into())
                .to_locale_time_string("en-GB")
                .as_string()
                .unwrap_or_default()
        })
        .collect();
    let series: Vec<(&str, Vec<Option<f64>>)> = history.series().collect();
    let scale = scale_of(log_scale, series.iter().map(|(_, v)| v));
    let mut chart = ChartOption::new(
        Axis::new().type_(AxisType::Category).data(times),
        value_axis(&scale),
    );
    for (id, values) in series {
        let name = format!("{id} {}", stage_name(id).unwrap_or(""));
        chart = chart.line(Line::new().name(name).data(points(&values, &scale)));
    }
    chart
}

#[component]
pub fn MetricsChart() -> impl IntoView {
    let shared = shared();
    let stats = RwSignal::new(None::<ExecutionStats>);
    let fetched_at = RwSignal::new(None::<f64>);
    let failure = RwSignal::new(None::<String>);
    let history = StoredValue::new_local(P95History::new(HISTORY_POINTS));
    let history_version = RwSignal::new(0_u64);
    let log_scale = RwSignal::new(true);
    let now = RwSignal::new(js_sys::Date::now());
    let bars = StoredValue::new_local(None::<DrawnChart>);
    let lines = StoredValue::new_local(None::<DrawnChart>);

    use_poller(
        shared.api,
        move || shared.settings.with_untracked(|s| s.stats_poll_ms),
        move || {
            let api = shared.api.get_untracked();
            async move {
                match api.execution_stats().await {
                    Ok(fresh) => {
                        let at = js_sys::Date::now();
                        history.update_value(|h| h.record(at, &fresh));
                        history_version.update(|v| *v += 1);
                        stats.set(Some(fresh));
                        fetched_at.set(Some(at));
                        failure.set(None);
                    }
                    // The last good figures stay, marked stale.
                    Err(error) => failure.set(Some(error.to_string())),
                }
            }
        },
    );
    // The age of the figures moves on by itself.
    let clock = gloo_timers::callback::Interval::new(1_000, move || now.set(js_sys::Date::now()));
    let clock = send_wrapper::SendWrapper::new(clock);
    on_cleanup(move || {
        clock.take().cancel();
    });

    // ECharts loads asynchronously (the page does not wait for it): note when it is there.
    let echarts_ready = RwSignal::new(echarts::loaded());
    if !echarts_ready.get_untracked() {
        let watcher = gloo_timers::callback::Interval::new(100, move || {
            if !echarts_ready.get_untracked() && echarts::loaded() {
                echarts_ready.set(true);
            }
        });
        let watcher = send_wrapper::SendWrapper::new(watcher);
        on_cleanup(move || {
            watcher.take().cancel();
        });
    }

    // Charts: created once, updated in place when data or scale change.
    Effect::new(move |_| {
        echarts_ready.track();
        let log = log_scale.get();
        history_version.track();
        stats.with(|s| {
            if let Some(s) = s {
                echarts::draw(bars, PERCENTILES_CHART, &percentiles_chart(s, log), true);
                history.with_value(|h| {
                    echarts::draw(lines, HISTORY_CHART, &history_chart(h, log), true)
                });
            }
        });
    });
    let stale = move || failure.with(Option::is_some) && stats.with(Option::is_some);
    let status_line = move || {
        let age = fetched_at
            .get()
            .map(|t| format::age((now.get() - t) / 1000.0));
        match (failure.get(), age) {
            (Some(error), Some(age)) => format!("Stale: last updated {age}. {error}"),
            (Some(error), None) => error,
            (None, Some(age)) => format!("Updated {age}"),
            (None, None) => "Loading…".to_owned(),
        }
    };
    // What the last answer held that is no measurement, in one sentence.
    let ignored = move || {
        stats.with(|s| {
            let Some(s) = s.as_ref().filter(|s| !s.ignored.is_empty()) else {
                return String::new();
            };
            const SHOWN: usize = 5;
            let mut text = format!(
                "Left out of the last answer: {}",
                s.ignored[..s.ignored.len().min(SHOWN)].join("; ")
            );
            if s.ignored.len() > SHOWN {
                text.push_str(&format!("; and {} more", s.ignored.len() - SHOWN));
            }
            text.push('.');
            text
        })
    };
    let summary = move || {
        stats.with(|s| {
            s.as_ref().map(|s| {
                let total = s
                    .stages
                    .iter()
                    .find(|st| st.id == "1")
                    .map_or(0, |st| st.execution_count);
                let ran = s.stages.iter().filter(|st| st.execution_count > 0).count();
                let slowest = s
                    .stages
                    .iter()
                    .filter_map(|st| {
                        st.durations
                            .as_ref()
                            .and_then(|d| d.p95_ms)
                            .map(|p| (st.name, p))
                    })
                    .max_by(|a, b| a.1.total_cmp(&b.1));
                (total, ran, s.stages.len(), slowest)
            })
        })
    };

    view! {
        <Panel testid="metrics-chart" title="Execution statistics">
            <div class="panel-toolbar">
                <p class="panel-status" data-testid="stats-status" data-stale=move || stale().to_string()>
                    {status_line}
                </p>
                <label class="toggle" title="A log scale shows microsecond stages beside second-long ones">
                    <input
                        type="checkbox"
                        data-testid="stats-log-scale"
                        prop:checked=move || log_scale.get()
                        on:change=move |ev| log_scale.set(event_target_checked(&ev))
                    />
                    "Log scale"
                </label>
            </div>
            <p class="stats-ignored" data-testid="stats-ignored" role="note" hidden=move || ignored().is_empty()>
                {move || ignored()}
            </p>
            <Show when=move || summary().is_some()>
                {move || summary().map(|(requests, ran, stages, slowest)| view! {
                    <dl class="summary">
                        <div title="Executions of stage 1 (validation): one per request the service accepted.">
                            <dt>"Requests validated"</dt>
                            <dd data-testid="stats-requests" data-value=requests.to_string()>{format::count(requests)}</dd>
                        </div>
                        <div title="Stages with at least one execution.">
                            <dt>"Stages that ran"</dt>
                            <dd data-testid="stats-stages-ran" data-value=ran.to_string()>{format!("{ran} of {stages}")}</dd>
                        </div>
                        <div title="The stage with the highest p95.">
                            <dt>"Slowest stage (p95)"</dt>
                            <dd data-testid="stats-slowest" data-value=slowest.map(|s| s.1.to_string()).unwrap_or_default()>
                                {slowest.map(|(name, p)| format!("{name}: {}", format::duration_ms(Some(p)))).unwrap_or_else(|| format::ABSENT.to_owned())}
                            </dd>
                        </div>
                    </dl>
                })}
            </Show>
            <div class="chart-row">
            <figure class="chart-figure">
                <div id=PERCENTILES_CHART class="chart" data-testid="stats-chart" role="img"
                    aria-label="Bar chart of each stage's p50, p90 (when reported), p95 and p99 in milliseconds; the table below has the same figures"></div>
                <figcaption>"Percentiles per stage, as the service reports them (whole history since its last reset)."</figcaption>
            </figure>
            <figure class="chart-figure">
                <div id=HISTORY_CHART class="chart" data-testid="stats-history-chart" role="img"
                    aria-label="Line chart of each stage's p95 at every poll of this session"></div>
                <figcaption>"p95 per stage at each poll of this session (one point per poll, not per request)."</figcaption>
            </figure>
            </div>
            <div class="table-scroll">
                <table class="stats-table" data-testid="stats-table">
                    <caption class="visually-hidden">"Execution statistics per pipeline stage, in milliseconds"</caption>
                    <thead>
                        <tr>
                            <th scope="col">"Stage"</th>
                            {["p50", "p90", "p95", "p99", "avg", "min", "max", "count"].map(|m| view! {
                                <th scope="col" title=definition(m)>{m}</th>
                            })}
                        </tr>
                    </thead>
                    <tbody>
                        <For
                            each=move || stats.with(|s| s.as_ref().map(stage_rows).unwrap_or_default())
                            key=|row| format!("{}:{}:{:?}", row.id, row.count, row.cells.iter().map(|c| c.value).collect::<Vec<_>>())
                            let(row)
                        >
                            <tr data-testid=format!("stage-{}", row.id)>
                                <th scope="row">{format!("{} {}", row.id, row.name)}</th>
                                {row.cells.into_iter().map(|cell| view! {
                                    <td
                                        data-metric=cell.metric
                                        data-value=cell.value.map(|v| v.to_string()).unwrap_or_default()
                                        title=definition(cell.metric)
                                        class:absent=cell.value.is_none()
                                    >
                                        {cell.text}
                                    </td>
                                }).collect_view()}
                                <td data-metric="count" data-value=row.count.to_string() title=definition("count")>
                                    {format::count(row.count)}
                                </td>
                            </tr>
                        </For>
                    </tbody>
                </table>
            </div>
        </Panel>
    }
}
