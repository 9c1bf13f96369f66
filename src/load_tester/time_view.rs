//! Where the time goes: the TTFT breakdown of the median and the p95
//! request, each part's share over the run, waterfalls of the slowest
//! requests and of any request picked, all from the core's
//! [`sse_core::time_breakdown`] (the join, the clock offset, the parts).

use leptos::prelude::*;
use sse_core::format;
use sse_core::load::report::RequestRow;
use sse_core::load::request_row::ServerParts;
use sse_core::load::time_breakdown::{
    slowest, Breakdown, ClockOffsets, ServerSide, TtftParts, Waterfall,
};
use sse_core::metrics::{TtftPart, CLOCK_OFFSET, PART_SHARE};

use super::engine::Run;
use super::TesterState;

/// Waterfalls drawn without asking, and rows in the request table.
const SLOWEST_SHOWN: usize = 3;
const TABLE_ROWS: usize = 20;

/// What the section shows, computed from a run (once a second while it runs).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TimeView {
    side: ServerSide,
    matched: usize,
    rows: usize,
    offsets: ClockOffsets,
    /// Instances the records came from, and addresses asked.
    instances: usize,
    sources: usize,
    breakdown: Breakdown,
    slowest: Vec<Waterfall>,
    table: Vec<RequestRow>,
}

impl TimeView {
    /// While the run lasts only the breakdown (a few cells): the waterfalls
    /// and the table would cost the page's main thread, which sends the
    /// requests, tens of milliseconds each second.
    pub fn of(run: &Run) -> Self {
        let ended = run.phase == super::engine::Phase::Finished;
        let shown = |n: usize| if ended { n } else { 0 };
        let origin = run.origin_epoch_ms();
        let offsets = ClockOffsets::estimate(&run.rows, &run.server, origin);
        let waterfall = |row: &RequestRow| Waterfall::of(row, run.server.of(row), origin, &offsets);
        Self {
            side: run.server.side.clone(),
            matched: run.server.matched(&run.rows),
            rows: run.rows.len(),
            breakdown: Breakdown::of(&run.rows, &run.server),
            slowest: slowest(&run.rows, shown(SLOWEST_SHOWN))
                .into_iter()
                .map(waterfall)
                .collect(),
            table: slowest(&run.rows, shown(TABLE_ROWS))
                .into_iter()
                .map(|row| RequestRow {
                    server: run
                        .server
                        .of(row)
                        .map(|record| ServerParts::of(row, record)),
                    ..row.clone()
                })
                .collect(),
            offsets,
            instances: run.server.instances().len(),
            sources: run.server.sources(),
        }
    }
}

/// The waterfall of request `index` of the run on the page, if it has ended.
fn waterfall_of(state: TesterState, index: u64) -> Option<Waterfall> {
    state.run.with_value(|run| {
        let run = run.as_ref()?.borrow();
        let row = run.rows.iter().find(|r| r.index == index)?;
        let origin = run.origin_epoch_ms();
        let offsets = ClockOffsets::estimate(&run.rows, &run.server, origin);
        Some(Waterfall::of(row, run.server.of(row), origin, &offsets))
    })
}

#[component]
pub(super) fn TimeSection(state: TesterState) -> impl IntoView {
    move || {
        state.time.get().map(|view| {
            let TimeView {
                side,
                matched,
                rows,
                offsets,
                instances,
                sources,
                breakdown,
                slowest,
                table,
            } = view;
            // Behind a balancer each poll reaches one instance: say why some
            // requests may stay unjoined.
            let balanced = if instances > sources {
                format!(" The records came from {instances} instances through one address (a balancer): each poll reaches one of them, so some requests may stay unjoined; list the instances (cluster mode) to ask each.")
            } else {
                String::new()
            };
            let side_note = match &side {
                ServerSide::Offered => (
                    "joined",
                    format!("{matched} of {rows} requests joined to the service's own records by thread id.{balanced}"),
                ),
                ServerSide::NotOffered(why) => (
                    "unavailable",
                    format!("The service's side is not available: {why}. Only the page's side is shown; the parts measured by the service are left out, not guessed."),
                ),
                ServerSide::Unknown => ("waiting", "Waiting for the service's records…".to_owned()),
            };
            view! {
                <section class="time-goes" aria-label="Where the time goes">
                    <h3>"Where the time goes"</h3>
                    <p
                        data-testid="lt-server-side"
                        data-state=side_note.0
                        data-value=matched.to_string()
                        role="note"
                    >
                        {side_note.1}
                    </p>
                    <ClockLines offsets />
                    <BreakdownTable breakdown />
                    <div class="waterfalls">
                        {slowest
                            .into_iter()
                            .map(|w| view! { <WaterfallView waterfall=w note="slowest" /> })
                            .collect_view()}
                        {move || {
                            state
                                .picked
                                .get()
                                .and_then(|index| waterfall_of(state, index))
                                .map(|w| view! { <WaterfallView waterfall=w note="picked" /> })
                        }}
                    </div>
                    {(!table.is_empty()).then(|| view! { <RequestTable state table /> })}
                </section>
            }
        })
    }
}

/// One line per instance's clock; `data-value` is the first one's offset.
#[component]
fn ClockLines(offsets: ClockOffsets) -> impl IntoView {
    let first = offsets.0.values().next().map(|o| o.estimate_ms.to_string());
    let named = offsets.0.len() > 1;
    first.map(|first| {
        view! {
            <div data-testid="lt-clock-offset" data-value=first title=CLOCK_OFFSET>
                {offsets
                    .0
                    .into_iter()
                    .map(|(instance, offset)| {
                        let name = if named { format!("{instance}: ") } else { String::new() };
                        view! { <p data-instance=instance>{name} {offset.sentence()}</p> }
                    })
                    .collect_view()}
            </div>
        }
    })
}

fn part_cell(parts: Option<&TtftParts>, part: TtftPart) -> impl IntoView {
    let value = parts.and_then(|p| p.part(part));
    view! {
        <td
            data-metric=part.id()
            data-value=value.map(|v| v.to_string())
            class:absent=value.is_none()
            title=part.definition()
        >
            {match value {
                Some(v) => format::duration_ms(Some(v)),
                None => "not measured".to_owned(),
            }}
        </td>
    }
}

fn parts_row(label: &'static str, kind: &'static str, parts: Option<TtftParts>) -> impl IntoView {
    let heading = match &parts {
        Some(p) => format!(
            "{label}: #{} (TTFT {})",
            p.index,
            format::duration_ms(Some(p.ttft_ms))
        ),
        None => format!("{label}: no completed request with a first token"),
    };
    view! {
        <tr
            data-row=kind
            data-index=parts.as_ref().map(|p| p.index.to_string())
            data-value=parts.as_ref().map(|p| p.ttft_ms.to_string())
        >
            <th scope="row">{heading}</th>
            {TtftPart::ALL.map(|part| part_cell(parts.as_ref(), part))}
        </tr>
    }
}

#[component]
fn BreakdownTable(breakdown: Breakdown) -> impl IntoView {
    let share_row: Vec<AnyView> = match breakdown.shares {
        Some(shares) => TtftPart::ALL
            .iter()
            .map(|part| {
                let share = shares[*part as usize];
                view! {
                    <td data-share=part.id() data-value=share.to_string() title=PART_SHARE>
                        {sse_core::load::slo::percent(share * 100.0)}
                    </td>
                }
                .into_any()
            })
            .collect(),
        None => vec![view! {
            <td colspan="5" class="absent">
                "no request with every part known"
            </td>
        }
        .into_any()],
    };
    view! {
        <table class="stats-table breakdown" data-testid="lt-breakdown">
            <caption>"TTFT, part by part: each row's parts sum to its TTFT"</caption>
            <thead>
                <tr>
                    <th scope="col">"Request"</th>
                    {TtftPart::ALL
                        .map(|part| {
                            view! {
                                <th scope="col" title=part.definition()>
                                    {part.label()}
                                </th>
                            }
                        })}
                </tr>
            </thead>
            <tbody>
                {parts_row("median request", "median", breakdown.median)}
                {parts_row("p95 request", "p95", breakdown.p95)} <tr data-row="share">
                    <th scope="row" title=PART_SHARE>
                        {format!("share over {} requests", breakdown.shares_over)}
                    </th>
                    {share_row}
                </tr>
            </tbody>
        </table>
    }
}

#[component]
fn WaterfallView(waterfall: Waterfall, note: &'static str) -> impl IntoView {
    let span = waterfall.end_ms.max(1.0);
    let pct = move |ms: f64| (ms / span * 100.0).clamp(0.0, 100.0);
    let caption = format!(
        "Request #{} ({note}): 0 is its fetch(), {} to the end{}",
        waterfall.index,
        format::duration_ms(Some(waterfall.end_ms)),
        if waterfall.page_only {
            "; the page's side only"
        } else {
            ""
        }
    );
    view! {
        <figure class="waterfall" data-testid=format!("lt-waterfall-{}", waterfall.index)>
            <figcaption>{caption}</figcaption>
            {waterfall
                .bars
                .into_iter()
                .map(|bar| {
                    let took = bar.end_ms - bar.start_ms;
                    let title = format!(
                        "{}: {} ({} → {} after fetch, {} clock)",
                        bar.label,
                        format::duration_ms(Some(took)),
                        format::duration_ms(Some(bar.start_ms)),
                        format::duration_ms(Some(bar.end_ms)),
                        if bar.side == sse_core::load::time_breakdown::Side::Page {
                            "page's"
                        } else {
                            "service's, offset applied"
                        },
                    );
                    let style = format!(
                        "left:{:.2}%;width:max({:.2}%,1px)",
                        pct(bar.start_ms),
                        pct(bar.end_ms) - pct(bar.start_ms),
                    );
                    let label = bar.label.clone();
                    view! {
                        <div class="wf-row" title=title data-bar=label data-value=took.to_string()>
                            <span class="wf-label">{bar.label}</span>
                            <span class="wf-track">
                                <span
                                    class=format!("wf-bar wf-{}", bar.side.word())
                                    style=style
                                ></span>
                            </span>
                        </div>
                    }
                })
                .collect_view()}
        </figure>
    }
}

#[component]
fn RequestTable(state: TesterState, table: Vec<RequestRow>) -> impl IntoView {
    // The typed number lives in the tester's state: this table is rebuilt
    // whenever the figures change, and a signal of its own would go with it.
    let typed = state.pick_text;
    let show_typed = move |_| {
        if let Ok(index) = typed.get_untracked().trim().parse::<u64>() {
            state.picked.set(Some(index));
        }
    };
    view! {
        <table class="stats-table requests" data-testid="lt-requests">
            <caption>{format!("The {} slowest requests by TTFT", table.len())}</caption>
            <thead>
                <tr>
                    <th scope="col">"#"</th>
                    <th scope="col">"Outcome"</th>
                    <th scope="col" title=sse_core::metrics::Metric::Ttft.definition()>
                        "TTFT"
                    </th>
                    <th scope="col" title=sse_core::metrics::Metric::E2e.definition()>
                        "E2E"
                    </th>
                    <th scope="col">"Layer"</th>
                    <th scope="col" title=TtftPart::ServerQueue.definition()>
                        "Queue"
                    </th>
                    <th scope="col"></th>
                </tr>
            </thead>
            <tbody>
                {table
                    .into_iter()
                    .map(|row| {
                        let index = row.index;
                        let queue = row.server.as_ref().and_then(|s| s.server_queue_ms);
                        view! {
                            <tr data-testid=format!("lt-request-{index}")>
                                <td>{index}</td>
                                <td>{row.outcome}</td>
                                <td>{format::duration_ms(row.ttft_ms)}</td>
                                <td>{format::duration_ms(Some(row.e2e_ms))}</td>
                                <td>{row.resilience_layer.unwrap_or_default()}</td>
                                <td>{format::duration_ms(queue)}</td>
                                <td>
                                    <button
                                        type="button"
                                        data-testid=format!("lt-pick-{index}")
                                        on:click=move |_| state.picked.set(Some(index))
                                    >
                                        "Waterfall"
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <p class="pick">
            <label>
                "Any request, by #: "
                <input
                    type="number"
                    min="0"
                    data-testid="lt-pick-index"
                    prop:value=move || typed.get()
                    on:input=move |e| typed.set(event_target_value(&e))
                />
            </label>
            <button type="button" data-testid="lt-pick" on:click=show_typed>
                "Show its waterfall"
            </button>
        </p>
    }
}
