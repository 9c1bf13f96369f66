//! Starting, following and stopping a run from the page.

use leptos::prelude::*;
use sse_core::load::plan::may_cost_money;
use sse_core::load::report::{to_csv, to_json, RunSummary};
use sse_core::load::timeline::stage_means_between;
use sse_core::monitoring::stats_view::PollHistory;

use super::capacity::{sweep_chart, SWEEP_CHART};
use super::engine::{self, Phase};
use super::exports::Exports;
use super::live::{Live, LATENCY_CHART, STAGE_CHART};
use super::time_view::TimeView;
use super::TesterState;
use crate::browser::clock::{monotonic_ms, time_of_day};
use crate::browser::download::object_url;
use crate::browser::frame::every_frame;
use crate::charts::{self, latency::latency_chart, latency::stage_timeline_chart};
use crate::state::RunWindow;

/// How often the results and the chart follow a running test.
const RESULTS_EVERY_MS: f64 = 1_000.0;
/// The longest the results wait for a gap between open-loop arrivals.
const MAX_STALE_MS: f64 = 5_000.0;
/// What a live-view update costs the page (DOM, style, layout, paint),
/// measured at about 5 ms in headless Chromium here; and the longest it waits.
const LIVE_COST_MS: f64 = 8.0;
const LIVE_STALE_MS: f64 = 500.0;

/// Percentiles sort their samples: once a second, never per frame.
fn refresh_results(state: TesterState, run: &engine::Run) -> RunSummary {
    let summary = run.summary();
    state.results.set(Some(summary.clone()));
    show_time(state, TimeView::of(run));
    // Drawn from the run's windows in place: no copy of their samples.
    let max_s = run.elapsed_ms() / 1000.0;
    let option = latency_chart(run.stats.series.windows(), max_s);
    charts::echarts::draw_unanimated(state.chart, LATENCY_CHART, &option, true);
    draw_stage_chart(state, run);
    if !summary.steps.is_empty() {
        let unit = run.plan.load_unit();
        let chart = sweep_chart(&summary.steps, unit, run.plan.model.is_open());
        charts::echarts::draw_unanimated(state.sweep_chart, SWEEP_CHART, &chart, true);
    }
    summary
}

/// The stages' means between polls, on the latency chart's time axis.
fn draw_stage_chart(state: TesterState, run: &engine::Run) {
    let max_s = run.elapsed_ms() / 1000.0;
    let stages = state
        .stage_history
        .with_value(|history| stage_timeline_chart(history, max_s));
    charts::echarts::draw_unanimated(state.stage_chart, STAGE_CHART, &stages, true);
}

/// The run's end: final figures, exports, and the run kept in the history.
fn finish(state: TesterState) {
    let Some(current) = state.run.get_value() else {
        return;
    };
    let run = current.borrow();
    state.live.set(Some(Live::of(&run)));
    let summary = refresh_results(state, &run);
    publish_exports(state, &run, &summary);
    let started = run.started_epoch_ms;
    let ended = started + run.elapsed_ms();
    state.app.run_windows.update(|w| {
        if let Some(window) = w.iter_mut().rev().find(|w| w.start_ms == started) {
            window.end_ms = Some(ended);
        }
    });
    // A full storage keeps the run on the page, just not in the history.
    let _ = super::saved::keep_in_history(state, summary);
}

/// Where the time goes, re-rendered only when it changed.
fn show_time(state: TesterState, view: TimeView) {
    if state
        .time
        .with_untracked(|shown| shown.as_ref() != Some(&view))
    {
        state.time.set(Some(view));
    }
}

/// The exports of a finished run, with the service's side of each request
/// where its record has arrived (they are made again when more arrive).
fn publish_exports(state: TesterState, run: &engine::Run, summary: &RunSummary) {
    let rows = run.joined_rows();
    state.exports.get_untracked().revoke();
    state.exports.set(Exports {
        json: object_url(&to_json(summary, &rows), "application/json"),
        csv: object_url(&to_csv(summary, &rows), "text/csv"),
        name: format!("load-test-{}", summary.started_at_ms as u64),
    });
}

/// Whether the person agrees to send to a provider that may cost money.
fn confirmed(provider: &str, total: u64) -> bool {
    if !may_cost_money(provider) {
        return true;
    }
    let shown = if provider.is_empty() {
        "(service default)"
    } else {
        provider
    };
    let question = format!(
        "Requests to the provider \"{shown}\" may go to a real, paid LLM: {total} requests. Continue?"
    );
    web_sys::window()
        .and_then(|w| w.confirm_with_message(&question).ok())
        .unwrap_or(false)
}

pub(super) fn start(state: TesterState) {
    let form = state.form.get_untracked();
    let Ok(plan) = form.plan() else {
        return;
    };
    if !confirmed(
        plan.request.provider.as_deref().unwrap_or_default(),
        plan.total,
    ) {
        return;
    }
    state.exports.get_untracked().revoke();
    state.exports.set(Exports::default());
    state.results.set(None);
    charts::echarts::draw_unanimated(state.chart, LATENCY_CHART, &latency_chart(&[], 0.0), true);
    state
        .stage_history
        .set_value(PollHistory::new(MAX_STAGE_POLLS));
    let current = engine::start(plan, form, state.api.get_untracked(), move || finish(state));
    // The run's window on the Prometheus server's time axis, open while it runs.
    let started = current.borrow().started_epoch_ms;
    state.app.run_windows.update(|w| {
        w.push(RunWindow {
            start_ms: started,
            end_ms: None,
            label: format!("browser run at {}", time_of_day(started)),
        })
    });
    state.live.set(Some(Live::of(&current.borrow())));
    state.run.set_value(Some(current.clone()));
    state.time.set(None);
    state.picked.set(None);
    // The service's record counters are read before the first request can
    // end (over HTTP/1.1 busy connections could otherwise hold the read back
    // until some of the run's records were already counted in).
    let following = current.clone();
    engine::start_when(&current, async move {
        let asked = record_baselines(state, &following).await;
        wasm_bindgen_futures::spawn_local(follow_server_records(state, following, asked));
    });
    follow_stage_statistics(state, current.clone());
    // The view follows the run once per frame, and only when something changed.
    let (mut shown_version, mut shown_at, mut results_at) = (u64::MAX, 0.0, 0.0);
    let mut refresh_cost = 0.0;
    every_frame(move || {
        let run = current.borrow();
        let now = monotonic_ms();
        if run.phase == Phase::Finished {
            return false;
        }
        // In an open loop the page's work (a DOM update costs a style, layout
        // and paint; a refresh sorts every sample and redraws the chart) waits
        // for a gap between arrivals it fits in, so that it does not hold the
        // next send back; never longer than a bound.
        let gap = run.next_arrival_in_ms();
        let fits = |cost: f64| gap.is_none_or(|gap| gap > cost);
        let live_due = run.version != shown_version || now - shown_at > 250.0;
        if live_due && (fits(LIVE_COST_MS) || now - shown_at > LIVE_STALE_MS) {
            state.live.set(Some(Live::of(&run)));
            (shown_version, shown_at) = (run.version, now);
        }
        if now - results_at > RESULTS_EVERY_MS
            && (fits(refresh_cost + LIVE_COST_MS) || now - results_at > MAX_STALE_MS)
        {
            refresh_results(state, &run);
            results_at = now;
            refresh_cost = monotonic_ms() - now;
        }
        true
    });
}

pub(super) fn stop(state: TesterState) {
    if let Some(current) = state.run.get_value() {
        engine::stop(&current);
        state.live.set(Some(Live::of(&current.borrow())));
    }
}

/// How often the service's per-request records are fetched during a run.
const RECORDS_EVERY_MS: u32 = 2_000;
/// After the run: the service files a record when its side of the request
/// is done (after the last event the page read), so it is asked again.
const FINAL_RECORDS_AFTER_MS: [u32; 2] = [300, 1_500];

/// Where each source's records of the run will start (its `last_seq` now),
/// read from every source at once; the sources that answered. In cluster
/// mode each instance is a source, asked on its own address (through a
/// balancer each poll would reach only one of them).
async fn record_baselines(
    state: TesterState,
    current: &engine::SharedRun,
) -> Vec<(String, crate::api::ApiClient)> {
    let Some(api) = state.api.try_get_untracked() else {
        return Vec::new();
    };
    let cluster = state
        .app
        .settings
        .try_with_untracked(|s| !s.instances.is_empty())
        .unwrap_or(false);
    let sources = if cluster {
        crate::cluster::instance_clients(state.app)
    } else {
        vec![(String::new(), api)]
    };
    let answers = futures::future::join_all(
        sources
            .iter()
            .map(|(_, api)| async move { api.load_stats(false, 0).await }),
    )
    .await;
    let mut asked = Vec::new();
    for ((source, api), answer) in sources.into_iter().zip(answers) {
        match answer {
            Ok(answer) => {
                current
                    .borrow_mut()
                    .server
                    .baseline(&source, answer.last_seq);
                asked.push((source, api));
            }
            Err(error) => current
                .borrow_mut()
                .server
                .not_offered(not_offered_because(&error)),
        }
    }
    asked
}

/// Asks each source for its records finished since the last look: every 2 s
/// while the run lasts and twice after its end.
async fn follow_server_records(
    state: TesterState,
    current: engine::SharedRun,
    asked: Vec<(String, crate::api::ApiClient)>,
) {
    if asked.is_empty() {
        return;
    }
    let mut finals = FINAL_RECORDS_AFTER_MS.iter();
    loop {
        let finished = current.borrow().phase == Phase::Finished;
        let wait = if finished {
            match finals.next() {
                Some(ms) => *ms,
                None => break,
            }
        } else {
            RECORDS_EVERY_MS
        };
        gloo_timers::future::TimeoutFuture::new(wait).await;
        if !is_current(state, &current) {
            return;
        }
        let polls = asked.iter().map(|(source, api)| {
            let after = current.borrow().server.after(source);
            async move { (source, api.load_stats(true, after).await) }
        });
        let answers = futures::future::join_all(polls).await;
        // The page may have moved on while the answers came.
        if !is_current(state, &current) {
            return;
        }
        for (source, answer) in answers {
            match answer {
                Ok(answer) => current.borrow_mut().server.merge_from(source, answer),
                Err(error) => current
                    .borrow_mut()
                    .server
                    .not_offered(not_offered_because(&error)),
            }
        }
        let run = current.borrow();
        if run.phase == Phase::Finished {
            show_time(state, TimeView::of(&run));
            if let Some(summary) = state.results.get_untracked() {
                publish_exports(state, &run, &summary);
            }
        }
    }
}

/// Whether `run` is still the one on the page (a new run replaces it; a
/// load tester taken off the page takes its state with it).
fn is_current(state: TesterState, run: &engine::SharedRun) -> bool {
    state
        .run
        .try_with_value(|shown| {
            shown
                .as_ref()
                .is_some_and(|shown| std::rc::Rc::ptr_eq(shown, run))
        })
        .unwrap_or(false)
}

fn not_offered_because(error: &crate::api::ApiError) -> String {
    match error {
        crate::api::ApiError::Http { status: 404, .. } => {
            "the service has no /admin/load-stats (the original service keeps no per-request records)".into()
        }
        other => format!("its per-request records could not be read: {other}"),
    }
}

/// Stage points kept for the run's chart (an hour at 2 s).
const MAX_STAGE_POLLS: usize = 1_800;

/// Polls the service's stage statistics while the run lasts (at the form's
/// interval, which the statistics panels follow meanwhile), once more at its
/// end, and keeps each stage's mean between two polls for the run's chart.
fn follow_stage_statistics(state: TesterState, current: engine::SharedRun) {
    let every = current.borrow().plan.stats_every_ms;
    state.app.run_stats_poll_ms.set(Some(every));
    wasm_bindgen_futures::spawn_local(async move {
        let Some(api) = state.api.try_get_untracked() else {
            return;
        };
        let mut previous = api.execution_stats().await.ok();
        loop {
            gloo_timers::future::TimeoutFuture::new(every).await;
            if !is_current(state, &current) {
                return;
            }
            let finished = current.borrow().phase == Phase::Finished;
            let answer = api.execution_stats().await;
            if !is_current(state, &current) {
                return;
            }
            if let Ok(now) = answer {
                let at = monotonic_ms() - current.borrow().started_ms;
                if let Some(before) = &previous {
                    let means = stage_means_between(before, &now);
                    state.stage_history.update_value(|history| {
                        history.record_values(at, means.iter().map(|(id, m)| (id.as_str(), *m)));
                    });
                }
                previous = Some(now);
            }
            if finished {
                break;
            }
        }
        state.app.run_stats_poll_ms.set(None);
        draw_stage_chart(state, &current.borrow());
    });
}
