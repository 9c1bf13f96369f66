//! The service's own stage p95 over a run's window, from the Prometheus
//! server (when the settings name one): `histogram_quantile(0.95, …
//! increase(…[window]))` evaluated at the window's end. The server scrapes
//! every few seconds, so the window runs to [`AFTER_END_S`] after the run's
//! end, and the query waits until then: the last scrape is in it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use sse_core::contract::execution_stats::{any_stage_name, stage_order};
use sse_core::format;
use sse_core::load::report::RunSummary;
use sse_core::metrics::ServerFigure;
use sse_core::monitoring::prometheus_api::QueryAnswer;

use crate::browser::clock::{time_of_day, wall_ms};
use crate::state::AppState;

/// Seconds after the run's end that the window takes in (Prometheus' default
/// scrape interval; the one-machine topology scrapes every 5 s).
pub const AFTER_END_S: f64 = 15.0;

/// (stage, p95 in ms) of the answer.
type Figures = Vec<(String, Option<f64>)>;

/// Each stage's value in ms, in stage order (absent where the server said NaN).
fn stage_figures(answer: &QueryAnswer) -> Figures {
    let mut figures: Figures = answer
        .samples()
        .iter()
        .filter_map(|s| {
            let ms = s.value.filter(|v| v.is_finite()).map(|v| v * 1000.0);
            Some((s.labels.get("stage")?.clone(), ms))
        })
        .collect();
    figures.sort_by_key(|(id, _)| stage_order(id));
    figures
}

#[component]
pub(super) fn ServerWindow(summary: RunSummary) -> impl IntoView {
    let app = AppState::get();
    let answer = RwSignal::new(None::<Result<Figures, String>>);
    let end_ms = summary.started_at_ms + summary.wall_ms + AFTER_END_S * 1000.0;
    let seconds = ((summary.wall_ms / 1000.0) + AFTER_END_S).ceil() as u64;
    let server = app.prometheus.get_untracked();
    let query = server
        .as_ref()
        .map(|s| s.queries().stage_p95_over_run(seconds))
        .unwrap_or_default();
    if let Some(server) = server {
        let query = query.clone();
        spawn_local(async move {
            let wait = (end_ms - wall_ms()).max(0.0);
            gloo_timers::future::TimeoutFuture::new(wait as u32).await;
            let read = server
                .query(&query, Some(end_ms / 1000.0))
                .await
                .map(|a| stage_figures(&a))
                .map_err(|e| e.to_string());
            answer.try_set(Some(read));
        });
    }
    let said = move || {
        answer.with(|a| match a {
            None => format!(
                "Waiting for the Prometheus server's scrapes after the run (until {})…",
                time_of_day(end_ms)
            ),
            Some(Err(e)) => format!("Not read from the Prometheus server: {e}"),
            Some(Ok(f)) if f.is_empty() => {
                "The Prometheus server holds no stage observation in the run's window.".to_owned()
            }
            Some(Ok(_)) => String::new(),
        })
    };
    let rows = move || {
        answer.with(|a| {
            a.as_ref()
                .and_then(|r| r.as_ref().ok())
                .cloned()
                .unwrap_or_default()
        })
    };
    let caption = format!(
        "The service's p95 per stage over the run's window and {AFTER_END_S:.0} s after it (the server's scrapes), from the Prometheus server: a histogram estimate. PromQL, at {}: {query}",
        time_of_day(end_ms)
    );
    view! {
        <section
            class="server-window"
            data-testid="lt-server-p95"
            data-query=query.clone()
            data-start-ms=summary.started_at_ms.to_string()
            data-end-ms=end_ms.to_string()
            hidden=move || app.prometheus.with(Option::is_none)
        >
            <h4 title=ServerFigure::RunWindowP95
                .definition()>{ServerFigure::RunWindowP95.label()} " (Prometheus)"</h4>
            <p class="hint" role="status">
                {said}
            </p>
            <table class="stats-table">
                <caption>{caption}</caption>
                <tbody>
                    <For each=rows key=|(id, _)| id.clone() let((id, p95))>
                        <tr data-testid=format!("lt-server-p95-{id}")>
                            <th scope="row">
                                {format!("{id} {}", any_stage_name(&id).unwrap_or(""))}
                            </th>
                            <td
                                data-metric="p95"
                                data-estimate="histogram"
                                data-value=p95.map(|v| v.to_string()).unwrap_or_default()
                            >
                                {p95
                                    .map_or_else(
                                        || "no requests".to_owned(),
                                        |v| format::duration_ms(Some(v)),
                                    )}
                            </td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </section>
    }
}
