//! The last runs (kept in this browser) and two of them side by side.

use leptos::prelude::*;
use sse_core::format;
use sse_core::load::report::{compare, RunSummary};

use super::import::{drop_target, ImportReport};
use super::TesterState;
use crate::browser::clock::time_of_day;

fn run_label(summary: &RunSummary) -> String {
    let load = match summary.rate_per_s {
        Some(rate) => format!("{} {rate} req/s", summary.load_model.id()),
        None => format!("{} ×", summary.concurrency),
    };
    let sweep = if summary.is_sweep() {
        format!(" · sweep of {}", summary.steps.len())
    } else {
        String::new()
    };
    format!(
        "{} · {load} {}{sweep} · {}",
        time_of_day(summary.started_at_ms),
        summary.requests,
        summary.provider.as_deref().unwrap_or("default")
    )
}

fn cell(value: Option<f64>, unit: &str) -> String {
    match unit {
        "ms" => format::duration_ms(value),
        "/s" => format::rate(value),
        _ => format::count_of(value),
    }
}

/// The saved runs, newest first (`lt-history-<k>`, k from 1), each saying who ran it.
#[component]
fn SavedRuns(history: RwSignal<Vec<RunSummary>>) -> impl IntoView {
    move || {
        history.with(|h| {
            h.iter()
                .enumerate()
                .map(|(i, run)| {
                    let origin = run.origin.id();
                    view! {
                        <li data-testid=format!("lt-history-{}", i + 1) data-origin=origin>
                            <span class="origin" title="Who ran it: this page, or sse-load">
                                {origin}
                            </span>
                            " "
                            {run_label(run)}
                        </li>
                    }
                })
                .collect_view()
        })
    }
}

#[component]
pub(super) fn History(state: TesterState) -> impl IntoView {
    let history = state.history;
    let import_message = RwSignal::new(String::new());
    let (drag_over, dropped) = drop_target(state, import_message);
    // A is the older run by default, B the newer.
    let (compare_a, compare_b) = (RwSignal::new(None::<usize>), RwSignal::new(None::<usize>));
    let options = move || {
        history.with(|h| {
            h.iter()
                .enumerate()
                .map(|(i, r)| view! { <option value=i.to_string()>{run_label(r)}</option> })
                .collect_view()
        })
    };
    let pick = |target: RwSignal<Option<usize>>| {
        move |ev: leptos::ev::Event| target.set(event_target_value(&ev).parse().ok())
    };
    let shown = |target: RwSignal<Option<usize>>, default: usize| {
        move || target.get().unwrap_or(default).to_string()
    };
    view! {
        <details
            class="history"
            data-testid="lt-history"
            open=move || history.with(|h| h.len() >= 2)
            on:dragover=drag_over
            on:drop=dropped
        >
            <summary>
                {move || format!("Last runs ({}) and comparison", history.with(Vec::len))}
            </summary>
            <ImportReport state message=import_message />
            <ol class="saved-runs">
                <SavedRuns history />
            </ol>
            <div class="compare-pickers">
                <label>
                    "A "
                    <select
                        data-testid="lt-compare-a"
                        on:change=pick(compare_a)
                        prop:value=shown(compare_a, 1)
                    >
                        {options}
                    </select>
                </label>
                <label>
                    "B "
                    <select
                        data-testid="lt-compare-b"
                        on:change=pick(compare_b)
                        prop:value=shown(compare_b, 0)
                    >
                        {options}
                    </select>
                </label>
            </div>
            <Comparison history compare_a compare_b />
            <button
                type="button"
                class="secondary"
                data-testid="lt-rerun"
                title="Runs A again with its plan as it was typed: load model, rate, seed, SLOs and sweep."
                prop:disabled=move || {
                    state.running()
                        || history
                            .with(|h| {
                                h.get(compare_a.get().unwrap_or(1)).is_none_or(|r| r.form.is_none())
                            })
                }
                on:click=move |_| {
                    let form = history
                        .with_untracked(|h| {
                            h.get(compare_a.get_untracked().unwrap_or(1))
                                .and_then(|r| r.form.clone())
                        });
                    if let Some(form) = form {
                        state.form.set(form);
                        state.form_generation.update(|g| *g += 1);
                        super::run::start(state);
                    }
                }
            >
                "Run A again"
            </button>
            <p class="hint">
                "Kept in this browser (localStorage), the last 10 runs, imported reports included. A is the older run by default."
            </p>
        </details>
    }
}

/// The two picked runs figure by figure, with the change from A to B.
#[component]
fn Comparison(
    history: RwSignal<Vec<RunSummary>>,
    compare_a: RwSignal<Option<usize>>,
    compare_b: RwSignal<Option<usize>>,
) -> impl IntoView {
    let rows = move || {
        history.with(|h| {
            let a = h.get(compare_a.get().unwrap_or(1))?;
            let b = h.get(compare_b.get().unwrap_or(0))?;
            Some(compare(a, b))
        })
    };
    move || {
        rows().map(|rows| {
            view! {
                <table class="stats-table" data-testid="lt-compare">
                    <thead>
                        <tr>
                            <th scope="col">"Figure"</th>
                            <th scope="col">"A"</th>
                            <th scope="col">"B"</th>
                            <th scope="col" title="(B − A) / A">
                                "Change"
                            </th>
                        </tr>
                    </thead>
                    <tbody>
                        {rows
                            .into_iter()
                            .map(|r| {
                                view! {
                                    <tr data-testid="lt-compare-row" data-label=r.label.clone()>
                                        <th scope="row">{r.label.clone()}</th>
                                        <td data-value=r
                                            .a
                                            .map(|v| v.to_string())
                                            .unwrap_or_default()>{cell(r.a, r.unit)}</td>
                                        <td data-value=r
                                            .b
                                            .map(|v| v.to_string())
                                            .unwrap_or_default()>{cell(r.b, r.unit)}</td>
                                        <td>
                                            {r
                                                .change_percent
                                                .map_or_else(
                                                    || format::ABSENT.to_owned(),
                                                    |c| format!("{c:+.1}%"),
                                                )}
                                        </td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            }
        })
    }
}
