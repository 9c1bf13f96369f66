//! A run's results: every metric's statistics (definitions from the core's
//! metric enum), the run's other figures, failures by kind, and why most of the
//! run failed when the service queued it.

use leptos::prelude::*;
use sse_core::contract::instances::testid_value;
use sse_core::format;
use sse_core::load::report::{InstanceSummary, RunSummary};
use sse_core::load::run_stats::FailureGroup;
use sse_core::metrics::{Metric, RunFigure, Statistic};

use super::exports::{ExportLinks, Exports};
use crate::state::AppState;

/// The duration columns (count comes last, as a number of values).
const COLUMNS: [Statistic; 7] = Statistic::DURATIONS;

fn metric_row(summary: &RunSummary, metric: Metric) -> impl IntoView {
    let id = metric.id();
    let figures = *summary.metric(metric);
    view! {
        <tr data-testid=format!("lt-{id}")>
            <th scope="row" title=metric.definition()>
                {metric.label()}
            </th>
            {COLUMNS
                .map(|statistic| {
                    let value = statistic.of(&figures);
                    view! {
                        <td
                            data-testid=format!("lt-{id}-{}", statistic.id())
                            title=statistic.definition()
                            data-value=value.map(|v| v.to_string()).unwrap_or_default()
                            class:absent=value.is_none()
                        >
                            {format::duration_ms(value)}
                        </td>
                    }
                })}
            <td
                data-testid=format!("lt-{id}-count")
                data-value=figures.count.to_string()
                title=Statistic::Count.definition()
            >
                {format::count(figures.count)}
            </td>
        </tr>
    }
}

#[component]
pub(super) fn Results(summary: RunSummary, exports: RwSignal<Exports>) -> impl IntoView {
    let explanation = summary.queue_explanation();
    let ended = summary.end_sentence();
    view! {
        <section class="results" data-testid="lt-results" aria-label="Results">
            <h3>"Results" {summary.stopped.then_some(" (stopped early)")}</h3>
            {ended
                .map(|text| {
                    view! {
                        <p
                            class="run-end"
                            data-testid="lt-ended-by"
                            data-state=summary.ended_by.map(|r| r.id()).unwrap_or_default()
                        >
                            {text}
                        </p>
                    }
                })}
            {explanation
                .map(|text| {
                    view! {
                        <p class="run-explanation" role="note" data-testid="lt-explanation">
                            {text}
                        </p>
                    }
                })}
            <div class="table-scroll">
                <table class="stats-table">
                    <thead>
                        <tr>
                            <th scope="col">"Metric"</th>
                            {COLUMNS
                                .map(|s| {
                                    view! {
                                        <th scope="col" title=s.definition()>
                                            {s.id()}
                                        </th>
                                    }
                                })}
                            <th scope="col" title=Statistic::Count.definition()>
                                "count"
                            </th>
                        </tr>
                    </thead>
                    <tbody>{Metric::ALL.map(|m| metric_row(&summary, m))}</tbody>
                </table>
            </div>
            <super::capacity::Capacity summary=summary.clone() />
            <RunFigures summary=summary.clone() />
            <Instances instances=summary.by_instance.clone() />
            <Failures failures=summary.failures.clone() />
            // Once the run has ended: its window is then known.
            {summary
                .ended_by
                .is_some()
                .then(|| view! { <super::server_window::ServerWindow summary=summary.clone() /> })}
            <ExportLinks exports />
        </section>
    }
}

/// The run split per instance that served it: an uneven balancer or a slow
/// instance shows here. Percentiles are each instance's own (never averaged).
#[component]
fn Instances(instances: Vec<InstanceSummary>) -> impl IntoView {
    if instances.is_empty() {
        return None;
    }
    let watched = AppState::get()
        .settings
        .with_untracked(|s| !s.instances.is_empty());
    let hidden = (instances.len() > 1 && !watched).then(|| {
        view! {
            <p class="run-explanation" role="note" data-testid="lt-instances-note">
                {format!(
                    "The answers came from {} different instances behind one address: a balancer hides them. List them in Settings → Instances to watch each one.",
                    instances.len(),
                )}
            </p>
        }
    });
    let ms = |v: Option<f64>| {
        view! {
            <td data-value=v.map(|v| v.to_string()).unwrap_or_default() class:absent=v.is_none()>
                {format::duration_ms(v)}
            </td>
        }
    };
    let rows = instances
        .into_iter()
        .map(|i| {
            let failure = i.first_failure.clone().unwrap_or_default();
            view! {
                <tr data-testid=format!("lt-instance-{}", testid_value(&i.instance))>
                    <th scope="row">{i.instance.clone()}</th>
                    <td data-metric="completed" data-value=i.completed.to_string()>
                        {format::count(i.completed)}
                    </td>
                    <td data-metric="failed" data-value=i.failed.to_string() title=failure>
                        {format::count(i.failed)}
                    </td>
                    {[
                        ("ttft-p50", i.ttft.p50),
                        ("ttft-p95", i.ttft.p95),
                        ("e2e-p50", i.e2e.p50),
                        ("e2e-p95", i.e2e.p95),
                    ]
                        .map(|(metric, v)| ms(v).attr("data-metric", metric))}
                </tr>
            }
        })
        .collect_view();
    Some(view! {
        <div class="table-scroll">
            {hidden} <table class="stats-table" data-testid="lt-instances">
                <caption>
                    "Per instance (x-instance-id, else the balancer's x-upstream-addr)"
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Instance"</th>
                        <th scope="col" title="Requests this instance completed.">
                            "completed"
                        </th>
                        <th
                            scope="col"
                            title="Requests that failed after this instance answered (hover a count: the first failure)."
                        >
                            "failed"
                        </th>
                        <th scope="col" title=Metric::Ttft.definition()>
                            "TTFT p50"
                        </th>
                        <th scope="col" title=Metric::Ttft.definition()>
                            "TTFT p95"
                        </th>
                        <th scope="col" title=Metric::E2e.definition()>
                            "E2E p50"
                        </th>
                        <th scope="col" title=Metric::E2e.definition()>
                            "E2E p95"
                        </th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    })
}

/// Cache hits, resilience layers and protocols of the run.
#[component]
fn RunFigures(summary: RunSummary) -> impl IntoView {
    let protocols = summary
        .by_protocol
        .iter()
        .map(|(p, n)| format!("{p}: {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    view! {
        <dl class="summary">
            <div title=RunFigure::CacheHits.definition()>
                <dt>{RunFigure::CacheHits.label()}</dt>
                <dd data-testid="lt-cache-hits" data-value=summary.cache_hits.to_string()>
                    {format::count(summary.cache_hits)}
                </dd>
            </div>
            {summary
                .by_resilience_layer
                .into_iter()
                .map(|(layer, n)| {
                    view! {
                        <div title="x-resilience-layer: 1-Direct = served at once; 3-Queue-Failover = waited in the service's queue; none = no answer headers.">
                            <dt>{format!("Layer {layer}")}</dt>
                            <dd data-testid=format!("lt-layer-{layer}") data-value=n.to_string()>
                                {format::count(n)}
                            </dd>
                        </div>
                    }
                })
                .collect_view()}
            <div title="The protocol of the requests, as the browser reports it (Resource Timing nextHopProtocol).">
                <dt>"Protocol"</dt>
                <dd data-testid="lt-protocol">
                    {if protocols.is_empty() { format::ABSENT.to_owned() } else { protocols }}
                </dd>
            </div>
        </dl>
    }
}

/// Failures grouped by kind and status, with the first message of each.
#[component]
fn Failures(failures: Vec<FailureGroup>) -> impl IntoView {
    (!failures.is_empty()).then(|| {
        view! {
            <table class="stats-table failures" data-testid="lt-failures">
                <caption>"Failures by kind"</caption>
                <thead>
                    <tr>
                        <th scope="col">"Kind"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Count"</th>
                        <th scope="col">"First message"</th>
                    </tr>
                </thead>
                <tbody>
                    {failures
                        .into_iter()
                        .map(|f| {
                            view! {
                                <tr
                                    data-testid="lt-failure"
                                    data-kind=f.kind.clone()
                                    data-status=f.status.map(|s| s.to_string()).unwrap_or_default()
                                    data-count=f.count.to_string()
                                >
                                    <th scope="row">{f.kind.clone()}</th>
                                    <td>
                                        {f
                                            .status
                                            .map_or_else(
                                                || format::ABSENT.to_owned(),
                                                |s| s.to_string(),
                                            )}
                                    </td>
                                    <td>{format::count(f.count)}</td>
                                    <td class="message">{f.first_message}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        }
    })
}
