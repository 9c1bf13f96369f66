//! Starting, following and stopping a run from the page.

use leptos::prelude::*;
use sse_core::load_plan::may_cost_money;
use sse_core::run_report::{history_to_json, history_with, to_csv, to_json, RunSummary};

use super::capacity::{sweep_chart, SWEEP_CHART};
use super::engine::{self, Phase};
use super::exports::Exports;
use super::live::{Live, LATENCY_CHART};
use super::{TesterState, HISTORY_KEY};
use crate::browser::clock::monotonic_ms;
use crate::browser::download::object_url;
use crate::browser::frame::every_frame;
use crate::browser::storage;
use crate::charts::{self, latency::latency_chart};

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
    // Drawn from the run's windows in place: no copy of their samples.
    let option = latency_chart(run.stats.series.windows());
    charts::echarts::draw_unanimated(state.chart, LATENCY_CHART, &option, true);
    if !summary.steps.is_empty() {
        let unit = run.plan.load_unit();
        let chart = sweep_chart(&summary.steps, unit, run.plan.model.is_open());
        charts::echarts::draw_unanimated(state.sweep_chart, SWEEP_CHART, &chart, true);
    }
    summary
}

/// The run's end: final figures, exports, and the run kept in the history.
fn finish(state: TesterState) {
    let Some(current) = state.run.get_value() else {
        return;
    };
    let run = current.borrow();
    state.live.set(Some(Live::of(&run)));
    let summary = refresh_results(state, &run);
    state.exports.get_untracked().revoke();
    state.exports.set(Exports {
        json: object_url(&to_json(&summary, &run.rows), "application/json"),
        csv: object_url(&to_csv(&summary, &run.rows), "text/csv"),
        name: format!("load-test-{}", summary.started_at_ms as u64),
    });
    let updated = history_with(state.history.get_untracked(), summary);
    // A full storage keeps the run on the page, just not in the history.
    let _ = storage::write(HISTORY_KEY, Some(&history_to_json(&updated)));
    state.history.set(updated);
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
    charts::echarts::draw_unanimated(state.chart, LATENCY_CHART, &latency_chart(&[]), true);
    let current = engine::start(plan, form, state.api.get_untracked(), move || finish(state));
    state.live.set(Some(Live::of(&current.borrow())));
    state.run.set_value(Some(current.clone()));
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
