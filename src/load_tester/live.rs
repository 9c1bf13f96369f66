//! The live view of a run: counters and rates (taken from the run at most once
//! per animation frame), progress, and the latency per one-second window.

use leptos::prelude::*;
use sse_core::format;
use sse_core::metrics::RunFigure;

use super::capacity::SWEEP_CHART;
use super::engine::{self, Phase};
use super::TesterState;
use crate::charts::ChartFigure;
use crate::ui::Figure;

pub(super) const LATENCY_CHART: &str = "lt-latency-chart";
pub(super) const STAGE_CHART: &str = "lt-stage-chart";

/// What the live counters show.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Live {
    pub phase: Phase,
    /// How far the run is, and of what: ended requests of the total, or
    /// (a run bounded by time, a sweep) ms of the planned time.
    pub progress: (f64, f64),
    pub active: u64,
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub tokens: u64,
    pub elapsed_ms: f64,
    pub requests_per_s: Option<f64>,
    /// Completed, failed and aborted requests per second: the service's pace
    /// also while requests fail.
    pub ended_per_s: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub protocol: Option<String>,
    /// "step 2 of 4: 10 req/s" in a sweep.
    pub step: Option<String>,
    /// Open loop: arrivals waiting for a free slot now.
    pub waiting: u64,
}

impl Live {
    pub fn of(run: &engine::Run) -> Self {
        let elapsed_ms = run.elapsed_ms();
        let tokens = run.live_tokens();
        let per_s = |n: u64| (elapsed_ms > 0.0).then(|| n as f64 / (elapsed_ms / 1000.0));
        let s = &run.stats;
        Self {
            phase: run.phase,
            progress: run.progress(),
            active: run.active(),
            completed: s.completed,
            failed: s.failed,
            aborted: s.aborted,
            tokens,
            elapsed_ms,
            requests_per_s: per_s(s.completed),
            ended_per_s: per_s(s.completed + s.failed + s.aborted),
            tokens_per_s: per_s(tokens),
            protocol: s
                .by_protocol
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(p, _)| p.clone()),
            step: run.step_text(),
            waiting: run.waiting(),
        }
    }
}

#[component]
pub(super) fn LiveView(state: TesterState) -> impl IntoView {
    let live = state.live;
    view! {
        <div class="live" data-testid="lt-live">
            <progress
                data-testid="lt-progress"
                max=move || live.with(|l| l.as_ref().map_or(1.0, |l| l.progress.1).to_string())
                value=move || live.with(|l| l.as_ref().map_or(0.0, |l| l.progress.0).to_string())
            ></progress>
            <p
                class="run-step"
                data-testid="lt-step-now"
                hidden=move || live.with(|l| l.as_ref().is_none_or(|l| l.step.is_none()))
            >
                {move || live.with(|l| l.as_ref().and_then(|l| l.step.clone()))}
            </p>
            <Counters state />
            <ChartFigure
                id=LATENCY_CHART
                testid="lt-latency-chart"
                label="Line chart of E2E p50 and p95 and TTFT p50 per one-second window of the run"
                caption="Latency over the run, per 1 s window of request end times (a window's percentile is not the run's)."
                    .to_owned()
            />
            <ChartFigure
                id=STAGE_CHART
                testid="lt-stage-chart"
                label="Line chart of each service stage's mean duration between two statistics polls of the run, on the latency chart's time axis"
                caption=sse_core::metrics::STAGE_INTERVAL_MEAN.to_owned()
            />
            <div hidden=move || !state.form.with(|f| !f.sweep_steps.trim().is_empty())>
                <ChartFigure
                    id=SWEEP_CHART
                    testid="lt-sweep-chart"
                    label="Line chart of TTFT and E2E p95 from the intended start, throughput and goodput against each sweep step's offered load"
                    caption="Latency (left axis) and throughput and goodput (right axis) per sweep step: the knee is where latency leaves its low-load level or goodput stops growing."
                        .to_owned()
                />
            </div>
        </div>
    }
}

/// The live counters and rates of the run.
#[component]
fn Counters(state: TesterState) -> impl IntoView {
    let live = state.live;
    let count = move |testid: &'static str,
                      label: &'static str,
                      definition: &'static str,
                      value: fn(&Live) -> u64| {
        let raw = Signal::derive(move || live.with(|l| l.as_ref().map(|l| value(l) as f64)));
        let text = Signal::derive(move || {
            live.with(|l| {
                l.as_ref()
                    .map_or_else(|| format::ABSENT.to_owned(), |l| format::count(value(l)))
            })
        });
        view! { <Figure label definition testid raw text /> }
    };
    let rate = move |testid: &'static str,
                     label: &'static str,
                     definition: &'static str,
                     value: fn(&Live) -> Option<f64>| {
        let raw = Signal::derive(move || live.with(|l| l.as_ref().and_then(value)));
        let text = Signal::derive(move || format::rate(raw.get()));
        view! { <Figure label definition testid raw text /> }
    };
    let elapsed = Signal::derive(move || live.with(|l| l.as_ref().map(|l| l.elapsed_ms)));
    view! {
        <dl class="summary counters">
            {count("lt-active", "Active", "Requests in flight now.", |l| l.active)}
            {count(
                "lt-completed",
                "Completed",
                "Requests whose stream ended with `complete` or `[DONE]` and no error event.",
                |l| l.completed,
            )}
            {count(
                "lt-failed",
                "Failed",
                "Non-2xx answers, error events inside 200 streams, unreadable or cut streams, network errors and timeouts.",
                |l| l.failed,
            )}
            {count(
                "lt-aborted",
                "Aborted",
                "Requests stopped by Stop: neither completed nor failed.",
                |l| l.aborted,
            )}
            {count(
                "lt-waiting",
                "Waiting",
                "Open loop: arrivals waiting now for a free slot (the cap on requests in flight is reached); they start late.",
                |l| l.waiting,
            )}
            {count(
                "lt-tokens",
                RunFigure::OutputTokens.label(),
                RunFigure::OutputTokens.definition(),
                |l| l.tokens,
            )}
            {rate(
                "lt-rps",
                RunFigure::RequestsPerSecond.label(),
                RunFigure::RequestsPerSecond.definition(),
                |l| l.requests_per_s,
            )}
            {rate(
                "lt-ended-rps",
                "Ended/s",
                "Requests that ended (completed, failed or aborted) per second over the run's wall time: the pace also while requests fail.",
                |l| l.ended_per_s,
            )}
            {rate(
                "lt-tps",
                RunFigure::TokensPerSecond.label(),
                RunFigure::TokensPerSecond.definition(),
                |l| l.tokens_per_s,
            )}
            <Figure
                label="Elapsed"
                definition="Wall time of the run so far."
                testid="lt-elapsed"
                raw=elapsed
                text=Signal::derive(move || format::duration_ms(elapsed.get()))
            />
        </dl>
    }
}
