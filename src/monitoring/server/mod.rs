//! The Prometheus server as the statistics source, a part loaded on demand
//! ([`server_view`]): per-stage p50/p90/p95/p99 and mean over a window
//! (`stats-window`: 1m, 5m, 15m, 1h) for the whole service and by instance,
//! request rate, success share, active connections, each instance's `up`, and
//! each stage's p95 over the last hour (`query_range`) with the load runs of
//! this page on its time axis. Every figure shows its PromQL on hover and in
//! `data-query`; percentiles are `histogram_quantile` estimates
//! (`data-estimate="histogram"`). A poll is one query ([`poll`]): with the
//! dashboard's recording rules on the server it costs the same for 3
//! instances or 30. Each instance's figures are asked only while shown.

use leptos::prelude::*;
use sse_core::contract::instances::testid_value;
use sse_core::format;
use sse_core::metrics::{ServerFigure, SERVER_ESTIMATE};
use sse_core::monitoring::prometheus_api::{QueryAnswer, QueryData};
use sse_core::monitoring::prometheus_server::{
    instances, server_rows, up_by_instance, Queries, Reading, Window, NO_REQUESTS, PART_LABEL,
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

mod poll;

use poll::{poll, Abilities, Answered, ServerPoll, RANGE_S, STEP_S};

const P95_CHART: &str = "stats-server-p95-chart";

crate::on_demand! {
    /// The Prometheus server's statistics (loaded when the source is picked,
    /// or at start in cluster mode when the settings name a server).
    prometheus_server, "Prometheus server view":
    pub fn server_view() -> AnyView {
        view! { <ServerStats /> }.into_any()
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
    let show_instances = RwSignal::new(false);
    let last = RwSignal::new(None::<ServerPoll>);
    // What the server can be asked, learnt once per server.
    let abilities = StoredValue::new(None::<(PromClient, Abilities)>);
    let restart = Memo::new(move |_| (app.prometheus.get(), window.get(), show_instances.get()));
    use_poller(
        restart,
        move || app.stats_poll_ms(),
        move || {
            let server = app.prometheus.get_untracked();
            let window = window.get_untracked();
            let by_instance = show_instances.get_untracked();
            let previous = last.with_untracked(|p| p.as_ref().map(|p| p.range.clone()));
            async move {
                let Some(server) = server else {
                    return;
                };
                let known = abilities
                    .get_value()
                    .filter(|(s, _)| *s == server)
                    .map(|(_, a)| a);
                let known = match known {
                    Some(known) => known,
                    None => Abilities::learn(&server).await,
                };
                let (fresh, learnt) =
                    poll(server.clone(), window, known, by_instance, previous).await;
                abilities.set_value(Some((server, learnt)));
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
                    .chain(p.by_instance.iter().flatten())
                    .chain([&p.up, &p.range.answered])
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
                <ReadingStatus last />
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
            <label
                class="hint"
                title="Each instance's figures (by (instance)): six more queries per poll, whose cost grows with the number of instances the server scrapes."
            >
                <input
                    type="checkbox"
                    data-testid="stats-server-by-instance"
                    prop:checked=move || show_instances.get()
                    on:change=move |ev| show_instances.set(event_target_checked(&ev))
                />
                " Each instance's figures"
            </label>
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
fn ReadingStatus(last: RwSignal<Option<ServerPoll>>) -> impl IntoView {
    let status = move || {
        last.with(|p| match p {
            Some(p) => format!(
                "Read {} from the Prometheus server, over the {}, in one query {}.",
                time_of_day(p.at_ms),
                p.window.label(),
                if p.recorded {
                    "of its recorded series"
                } else {
                    "of the raw series (the server lacks the dashboard's recording rules)"
                },
            ),
            None => "Asking the Prometheus server…".to_owned(),
        })
    };
    let title = move || {
        last.with(|p| {
            let Some(p) = p else {
                return String::new();
            };
            let mut title = format!(
                "Every figure of a reading is its own query (on each figure's hover), sent joined into one with `or`, each part tagged by label_replace(…, \"{PART_LABEL}\", …); all evaluated at this instant (the API's time parameter).\nSent: {}",
                p.sent
            );
            let defined = Queries::new("")
                .with_records(p.recorded)
                .recorded_definitions(p.window);
            if defined.is_empty() {
                title.push_str("\nAdd the recording rules of prometheus-rules.yml (groups sse_dashboard_records and sse_dashboard_records_long) to the server to make a reading cost the same however many instances it scrapes.");
            } else {
                title.push_str("\nThe recorded series read, as the server's rules define them (each as of the server's last evaluation of its rule: at every evaluation interval for the 1m and 5m windows, every 30 s for 15m and 1h):");
                for line in defined {
                    title.push_str("\n  ");
                    title.push_str(&line);
                }
            }
            title
        })
    };
    view! {
        <span
            class="hint"
            data-testid="stats-server-status"
            title=title
            data-time=move || {
                last.with(|p| p.as_ref().map(|p| format!("{:.3}", p.at_ms / 1000.0)))
            }
            data-recorded=move || last.with(|p| p.as_ref().map(|p| p.recorded.to_string()))
            data-range=move || last.with(|p| p.as_ref().map(|p| p.range.read.id()))
            data-query=move || last.with(|p| p.as_ref().map(|p| p.sent.clone()))
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
            if let Some(Ok(answer)) = p.as_ref().map(|p| &p.range.answered.1) {
                charts::draw_later(
                    chart,
                    P95_CHART,
                    history_chart_with_runs(&history_of(answer), true, &windows),
                    true,
                );
            }
        });
    });
    let query = move || {
        last.with(|p| {
            p.as_ref()
                .map(|p| p.range.answered.0.clone())
                .unwrap_or_default()
        })
    };
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
                .map(|p| {
                    let ok: Vec<(&str, &QueryAnswer)> = p
                        .by_instance
                        .iter()
                        .flatten()
                        .filter_map(|(q, a)| Some((q.as_str(), a.as_ref().ok()?)))
                        .collect();
                    let reading: Option<Reading<'_>> = ok.try_into().ok();
                    instances(reading.as_ref(), p.up.1.as_ref().ok())
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
                .and_then(|p| p.by_instance.as_ref())
                .and_then(|answers| rows_of(answers, Some(&own)).ok())
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
            <Show when=move || rows.with(Option::is_some)>
                <StatsTable rows source testid="stats-instance-table" />
            </Show>
        </section>
    }
}
