//! The Prometheus server as the statistics source, a part loaded on demand
//! ([`server_view`]): per-stage p50/p90/p95/p99 and mean over a window
//! (`stats-window`: 1m, 5m, 15m, 1h) for the whole service and by instance,
//! request rate, success share, active connections, each instance's `up`, and
//! each stage's p95 over the last hour (`query_range`) with the load runs of
//! this page on its time axis. Every figure shows its PromQL on hover and in
//! `data-query`; percentiles are `histogram_quantile` estimates
//! (`data-estimate="histogram"`). The poll costs the same for 3 instances or 30.

use leptos::prelude::*;
use sse_core::contract::instances::testid_value;
use sse_core::format;
use sse_core::metrics::{ServerFigure, SERVER_ESTIMATE};
use sse_core::monitoring::prometheus_api::{QueryAnswer, QueryData};
use sse_core::monitoring::prometheus_server::{
    instances, server_rows, up_by_instance, Queries, Reading, Window, NO_REQUESTS, READING,
};
use sse_core::monitoring::stats_source::StatsSource;
use sse_core::monitoring::stats_view::{PollHistory, StageRow};

use crate::api::prometheus::PromClient;
use crate::browser::clock::{time_of_day, wall_ms};
use crate::browser::poll::use_poller;
use crate::charts::stages::history_chart_with_runs;
use crate::charts::{self, ChartFigure, DrawnChart};
use crate::monitoring::stats::table::StatsTable;
use crate::state::AppState;
use crate::ui::Note;

const P95_CHART: &str = "stats-server-p95-chart";
/// The time series: the last hour, a point every 30 s.
const RANGE_S: f64 = 3_600.0;
const STEP_S: u32 = 30;

crate::on_demand! {
    /// The Prometheus server's statistics (loaded when the source is picked,
    /// or at start in cluster mode when the settings name a server).
    prometheus_server, "Prometheus server view":
    pub fn server_view() -> AnyView {
        view! { <ServerStats /> }.into_any()
    }
}

/// One query and what it answered.
type Answered = (String, Result<QueryAnswer, String>);

/// One poll of the server.
#[derive(Debug, Clone, PartialEq)]
struct ServerPoll {
    whole: Vec<Answered>,
    by_instance: Vec<Answered>,
    /// The strip's figures, each with its query and answer.
    strip: Vec<(ServerFigure, Answered)>,
    up: Answered,
    range: Answered,
    at_ms: f64,
}

/// `query` evaluated at `at` (seconds since the epoch).
async fn ask(server: &PromClient, query: String, at: f64) -> Answered {
    let answer = server
        .query(&query, Some(at))
        .await
        .map_err(|e| e.to_string());
    (query, answer)
}

/// Every query of a poll is evaluated at one instant (as Grafana does for a
/// refresh), so the figures agree with each other and can be asked again.
async fn poll(server: PromClient, window: Window) -> ServerPoll {
    let q: Queries = server.queries();
    let at = (wall_ms() / 1000.0 * 1000.0).round() / 1000.0;
    let whole = READING.map(|s| ask(&server, q.stage(s, window, false), at));
    let by_instance = READING.map(|s| ask(&server, q.stage(s, window, true), at));
    let strip = [
        (ServerFigure::RequestRate, q.request_rate(window)),
        (ServerFigure::SuccessShare, q.success_share(window)),
        (ServerFigure::ActiveConnections, q.active_connections(false)),
    ]
    .map(|(id, query)| {
        let server = server.clone();
        async move { (id, ask(&server, query, at).await) }
    });
    let now = at;
    let range_query = q.stage_p95_over_time("1m");
    let range = async {
        let answer = server
            .query_range(&range_query, now - RANGE_S, now, STEP_S)
            .await
            .map_err(|e| e.to_string());
        (range_query.clone(), answer)
    };
    let (whole, by_instance, strip, up, range) = futures::join!(
        futures::future::join_all(whole),
        futures::future::join_all(by_instance),
        futures::future::join_all(strip),
        ask(&server, q.up(), at),
        range
    );
    ServerPoll {
        whole,
        by_instance,
        strip,
        up,
        range,
        at_ms: at * 1000.0,
    }
}

/// The rows of a reading when every query of it answered; else why not.
fn rows_of(answers: &[Answered], instance: Option<&str>) -> Result<Vec<StageRow>, String> {
    let mut ok = Vec::new();
    for (query, answer) in answers {
        match answer {
            Ok(answer) => ok.push((query.as_str(), answer)),
            Err(e) => return Err(e.clone()),
        }
    }
    let reading: Reading<'_> = ok
        .try_into()
        .map_err(|_| "the reading is incomplete".to_owned())?;
    Ok(server_rows(&reading, instance))
}

/// The stage p95 series of a range answer as a history (times in ms).
fn history_of(answer: &QueryAnswer) -> PollHistory {
    let mut history = PollHistory::new(RANGE_S as usize / STEP_S as usize + 2);
    let QueryData::Matrix(series) = &answer.data else {
        return history;
    };
    let mut times: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|(t, _)| *t))
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    for t in times {
        history.record_values(
            t * 1000.0,
            series.iter().filter_map(|s| {
                let stage = s.labels.get("stage")?;
                let value = s
                    .points
                    .iter()
                    .find(|(at, _)| *at == t)
                    .and_then(|(_, v)| *v)
                    .filter(|v| v.is_finite())
                    .map(|v| v * 1000.0);
                Some((stage.as_str(), value))
            }),
        );
    }
    history
}

/// A strip figure: its text, raw value, definition and query.
fn strip_item(figure: ServerFigure, answered: &Answered) -> impl IntoView {
    let (query, answer) = answered;
    let value = answer.as_ref().ok().and_then(QueryAnswer::single);
    let text = match figure {
        ServerFigure::RequestRate => format::rate(value),
        ServerFigure::SuccessShare => {
            value.map_or_else(|| NO_REQUESTS.to_owned(), |v| format!("{:.1} %", v * 100.0))
        }
        _ => value.map_or_else(|| format::ABSENT.to_owned(), |v| format!("{v:.0}")),
    };
    let title = match answer {
        Ok(_) => format!("{}\nPromQL: {query}", figure.definition()),
        Err(e) => format!("{}\nPromQL: {query}\nNot read: {e}", figure.definition()),
    };
    let (id, label) = (figure.id(), figure.label());
    view! {
        <div class="strip-item" title=title>
            <dt>{label}</dt>
            <dd
                data-testid=format!("server-{id}")
                data-value=value.map(|v| v.to_string()).unwrap_or_default()
                data-query=query.clone()
            >
                {text}
            </dd>
        </div>
    }
}

#[component]
fn ServerStats() -> impl IntoView {
    let app = AppState::get();
    let window = RwSignal::new(Window::default());
    let last = RwSignal::new(None::<ServerPoll>);
    let restart = Memo::new(move |_| (app.prometheus.get(), window.get()));
    use_poller(
        restart,
        move || app.stats_poll_ms(),
        move || {
            let server = app.prometheus.get_untracked();
            let window = window.get_untracked();
            async move {
                let Some(server) = server else {
                    return;
                };
                let fresh = poll(server, window).await;
                last.try_set(Some(fresh));
            }
        },
    );
    let whole = Memo::new(move |_| last.with(|p| p.as_ref().map(|p| rows_of(&p.whole, None))));
    let rows =
        Memo::new(move |_| whole.with(|w| w.as_ref().and_then(|r| r.as_ref().ok().cloned())));
    let source = Memo::new(|_| StatsSource::PrometheusServer);
    let problem = Signal::derive(move || {
        let server = app
            .prometheus
            .with(|p| p.as_ref().map(|p| p.base().to_owned()));
        let failed = last.with(|p| {
            p.as_ref().and_then(|p| {
                p.whole
                    .iter()
                    .chain(&p.by_instance)
                    .chain(std::iter::once(&p.up))
                    .chain(std::iter::once(&p.range))
                    .find_map(|(_, a)| a.as_ref().err().cloned())
            })
        });
        match (server, failed) {
            (Some(base), Some(e)) => format!("The Prometheus server at {base} did not answer every query: {e}"),
            (None, _) => "No Prometheus server is set (config.json \"prometheus\", PROMETHEUS_URL, or Settings).".to_owned(),
            _ => String::new(),
        }
    });
    view! {
        <div class="server-stats" data-testid="stats-server">
            <div class="stats-source">
                <WindowPicker window />
                <ReadingStatus last window />
            </div>
            <Note class="panel-note warning" testid="stats-server-problem" text=problem />
            <dl class="service-strip" data-testid="server-strip">
                {move || {
                    last.with(|p| {
                        p.as_ref()
                            .map(|p| {
                                p.strip.iter().map(|(f, a)| strip_item(*f, a)).collect_view()
                            })
                    })
                }}
            </dl>
            <p class="hint">{SERVER_ESTIMATE}</p>
            <StatsTable rows source />
            <P95Chart last />
            <ServerInstances last />
        </div>
    }
}

/// The range every figure is computed over.
#[component]
fn WindowPicker(window: RwSignal<Window>) -> impl IntoView {
    view! {
        <label title="The range each figure is computed over (the [window] of rate() and increase()).">
            "Window "
            <select
                data-testid="stats-window"
                on:change=move |ev| {
                    if let Some(w) = Window::from_id(&event_target_value(&ev)) {
                        window.set(w);
                    }
                }
            >
                {Window::ALL
                    .map(|w| {
                        view! {
                            <option value=w.id() selected=w == Window::default()>
                                {w.label()}
                            </option>
                        }
                    })}
            </select>
        </label>
    }
}

/// When the shown reading was taken, and over which window.
#[component]
fn ReadingStatus(last: RwSignal<Option<ServerPoll>>, window: RwSignal<Window>) -> impl IntoView {
    let status = move || {
        last.with(|p| match p {
            Some(p) => format!(
                "Read {} from the Prometheus server, over the {}.",
                time_of_day(p.at_ms),
                window.get().label()
            ),
            None => "Asking the Prometheus server…".to_owned(),
        })
    };
    view! {
        <span
            class="hint"
            data-testid="stats-server-status"
            title="Every query of a reading is evaluated at this instant (the API's time parameter)."
            data-time=move || {
                last.with(|p| p.as_ref().map(|p| format!("{:.3}", p.at_ms / 1000.0)))
            }
        >
            {status}
        </span>
    }
}

/// Each stage's p95 over the last hour, with this page's load runs on it.
#[component]
fn P95Chart(last: RwSignal<Option<ServerPoll>>) -> impl IntoView {
    let app = AppState::get();
    let chart = StoredValue::new_local(None::<DrawnChart>);
    Effect::new(move |_| {
        let windows: Vec<(f64, f64, String)> = app.run_windows.with(|w| {
            w.iter()
                .map(|r| {
                    (
                        r.start_ms,
                        r.end_ms.unwrap_or_else(wall_ms),
                        r.label.clone(),
                    )
                })
                .collect()
        });
        last.with(|p| {
            if let Some(Ok(answer)) = p.as_ref().map(|p| &p.range.1) {
                charts::draw_later(
                    chart,
                    P95_CHART,
                    history_chart_with_runs(&history_of(answer), true, &windows),
                    true,
                );
            }
        });
    });
    let query = move || last.with(|p| p.as_ref().map(|p| p.range.0.clone()).unwrap_or_default());
    view! {
        <ChartFigure
            id=P95_CHART
            testid="stats-server-p95-chart"
            caption=Signal::derive(move || {
                format!(
                    "p95 per stage over the last hour, from the Prometheus server (a point every 30 s, each over the minute before it; histogram estimate). PromQL: {}",
                    query(),
                )
            })
            label="Line chart of each stage's p95 over the last hour, load runs of this page shaded"
        />
        <ul class="run-windows">
            <For
                each=move || app.run_windows.get()
                key=|w| (w.start_ms.to_bits(), w.end_ms.map(f64::to_bits))
                let(w)
            >
                <li
                    data-testid="stats-run-window"
                    data-start-ms=w.start_ms.to_string()
                    data-end-ms=w.end_ms.map(|e| e.to_string()).unwrap_or_default()
                >
                    {format!(
                        "{}: {} – {}",
                        w.label,
                        time_of_day(w.start_ms),
                        w.end_ms.map_or_else(|| "running".to_owned(), time_of_day),
                    )}
                </li>
            </For>
        </ul>
    }
}

/// Each instance's own table (`by (instance)`) and whether its last scrape answered.
#[component]
fn ServerInstances(last: RwSignal<Option<ServerPoll>>) -> impl IntoView {
    let names = Memo::new(move |_| {
        last.with(|p| {
            p.as_ref()
                .and_then(|p| {
                    let ok: Vec<(&str, &QueryAnswer)> = p
                        .by_instance
                        .iter()
                        .filter_map(|(q, a)| Some((q.as_str(), a.as_ref().ok()?)))
                        .collect();
                    let reading: Reading<'_> = ok.try_into().ok()?;
                    let mut names = instances(&reading);
                    // Instances down have no figures but are named.
                    if let Ok(up) = &p.up.1 {
                        for (name, _) in up_by_instance(up) {
                            if !names.contains(&name) {
                                names.push(name);
                            }
                        }
                    }
                    Some(names)
                })
                .unwrap_or_default()
        })
    });
    view! {
        <For each=move || names.get() key=|n| n.clone() let(name)>
            <ServerInstance name last />
        </For>
    }
}

#[component]
fn ServerInstance(name: String, last: RwSignal<Option<ServerPoll>>) -> impl IntoView {
    let own = name.clone();
    let rows = Memo::new(move |_| {
        last.with(|p| {
            p.as_ref()
                .and_then(|p| rows_of(&p.by_instance, Some(&own)).ok())
        })
    });
    let own = name.clone();
    let up = Memo::new(move |_| {
        last.with(|p| {
            p.as_ref()
                .and_then(|p| p.up.1.as_ref().ok())
                .and_then(|up| up_by_instance(up).into_iter().find(|(n, _)| *n == own))
                .map(|(_, up)| up)
        })
    });
    let query = move || last.with(|p| p.as_ref().map(|p| p.up.0.clone()).unwrap_or_default());
    let source = Memo::new(|_| StatsSource::PrometheusServer);
    view! {
        <section
            class="instance-stats"
            data-testid=format!("stats-instance-{}", testid_value(&name))
            data-up=move || up.get().map(|u| if u { "1" } else { "0" }).unwrap_or_default()
            aria-label=name.clone()
        >
            <h3 title=move || {
                format!("{}\nPromQL: {}", ServerFigure::Up.definition(), query())
            }>
                {name.clone()}
                {move || match up.get() {
                    Some(true) => " (up)",
                    Some(false) => " (down: its last scrape failed)",
                    None => "",
                }}
            </h3>
            <StatsTable rows source testid="stats-instance-table" />
        </section>
    }
}
