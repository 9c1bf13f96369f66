//! A run's capacity figures: the SLO verdict with its reason, goodput, the
//! good share, late starts and dropped arrivals; for a sweep, every step, the
//! highest step that met the SLOs, and a chart of latency and goodput against
//! the offered load that shows the knee. All figures come from the core.

use charming::component::Axis;
use charming::datatype::DataPoint;
use charming::element::AxisType;
use charming::series::Line;
use leptos::prelude::*;
use sse_core::format;
use sse_core::load::report::RunSummary;
use sse_core::load::slo::percent;
use sse_core::load::sweep::{knee, load_text, StepResult};
use sse_core::metrics::{Metric, RunFigure};

use crate::charts::echarts::TwoAxisChart;

pub(super) const SWEEP_CHART: &str = "lt-sweep-chart";

fn figure(
    figure: RunFigure,
    testid: &'static str,
    value: Option<f64>,
    text: String,
) -> impl IntoView {
    view! {
        <div title=figure.definition()>
            <dt>{figure.label()}</dt>
            <dd
                data-testid=testid
                data-value=value.map(|v| v.to_string()).unwrap_or_default()
                class:absent=value.is_none()
            >
                {text}
            </dd>
        </div>
    }
}

#[component]
pub(super) fn Capacity(summary: RunSummary) -> impl IntoView {
    let verdict = summary.verdict.clone();
    let open = summary.load_model.is_open();
    let unit = if open { "req/s" } else { "concurrent" };
    view! {
        <p
            class="verdict"
            data-testid="lt-verdict"
            data-state=verdict.state.id()
            title=RunFigure::Verdict.definition()
        >
            <strong>{format!("SLO: {}", verdict.state.id())}</strong>
            {format!(" — {}", verdict.reason)}
        </p>
        <dl class="summary">
            {figure(
                RunFigure::Goodput,
                "lt-goodput",
                summary.goodput_rps,
                format::rate(summary.goodput_rps),
            )}
            {figure(
                RunFigure::GoodShare,
                "lt-good-pct",
                summary.good_pct,
                summary.good_pct.map_or_else(|| format::ABSENT.to_owned(), percent),
            )}
            {figure(
                RunFigure::LateStarts,
                "lt-late-starts",
                open.then_some(summary.late_starts as f64),
                if open { format::count(summary.late_starts) } else { format::ABSENT.to_owned() },
            )}
            {figure(
                RunFigure::Dropped,
                "lt-dropped",
                open.then_some(summary.dropped as f64),
                if open { format::count(summary.dropped) } else { format::ABSENT.to_owned() },
            )}
        </dl>
        {summary.is_sweep().then(|| view! { <Steps summary=summary.clone() unit /> })}
    }
}

/// The sweep table's columns and what each one means.
fn step_columns() -> [(&'static str, &'static str); 11] {
    [
        (
            "Offered",
            "The step's load: concurrency (closed loop) or arrivals per second (open loop).",
        ),
        (
            "Throughput",
            "Completed requests per second of the step's counted time.",
        ),
        ("Tokens/s", RunFigure::TokensPerSecond.definition()),
        ("Goodput", RunFigure::Goodput.definition()),
        ("TTFT p95", Metric::Ttft.definition()),
        ("TTFT p95 (intended)", Metric::TtftIntended.definition()),
        ("E2E p95", Metric::E2e.definition()),
        ("E2E p95 (intended)", Metric::E2eIntended.definition()),
        ("Failed", "Requests of the step that failed."),
        ("Late starts", RunFigure::LateStarts.definition()),
        (
            "Verdict",
            "The step's SLO verdict (hover a cell for the reason).",
        ),
    ]
}

#[component]
fn Steps(summary: RunSummary, unit: &'static str) -> impl IntoView {
    let knee_at = knee(&summary.steps, summary.load_model.is_open());
    let best = summary.max_sustainable;
    let cell = |metric: &'static str, v: Option<f64>, shown: fn(Option<f64>) -> String| {
        view! {
            <td
                data-metric=metric
                data-value=v.map(|v| v.to_string()).unwrap_or_default()
                class:absent=v.is_none()
            >
                {shown(v)}
            </td>
        }
    };
    let ms = move |metric, v| cell(metric, v, format::duration_ms);
    let per_s = move |metric, v| cell(metric, v, format::rate);
    let rows = summary
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            view! {
                <tr data-testid=format!("lt-step-{}", s.step) class:knee=knee_at == Some(i)>
                    <th scope="row" data-metric="offered" data-value=s.offered.to_string()>
                        {format!("{} {unit}", load_text(s.offered))}
                        {(knee_at == Some(i)).then_some(" (knee)")}
                    </th>
                    {per_s("throughput", s.throughput_rps)}
                    {per_s("tokens", s.tokens_per_s)}
                    {per_s("goodput", s.goodput_rps)}
                    {ms("ttft-p95", s.ttft.p95)}
                    {ms("ttft-intended-p95", s.ttft_intended.p95)}
                    {ms("e2e-p95", s.e2e.p95)}
                    {ms("e2e-intended-p95", s.e2e_intended.p95)}
                    <td data-metric="failed" data-value=s.failed.to_string()>
                        {format::count(s.failed)}
                    </td>
                    <td data-metric="late-starts" data-value=s.late_starts.to_string()>
                        {format::count(s.late_starts)}
                    </td>
                    <td
                        data-metric="verdict"
                        data-state=s.verdict.state.id()
                        class="verdict"
                        title=s.verdict.reason.clone()
                    >
                        {s.verdict.state.id()}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <p
            class="verdict"
            data-testid="lt-max-sustainable"
            data-value=best.map(|v| v.to_string()).unwrap_or_default()
            title=RunFigure::MaxSustainable.definition()
        >
            {summary.verdict.reason.clone()}
            {format!(
                " (the first {} s of each step are warm-up, not counted)",
                summary.warmup_ms / 1000,
            )}
        </p>
        <div class="table-scroll">
            <table class="stats-table sweep-table" data-testid="lt-steps">
                <caption>"Sweep, step by step"</caption>
                <thead>
                    <tr>
                        {step_columns()
                            .map(|(label, title)| {
                                view! {
                                    <th scope="col" title=title>
                                        {label}
                                    </th>
                                }
                            })}
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

/// Latency (left axis) and throughput and goodput (right axis) per step.
/// The knee's step is labelled as such.
pub(super) fn sweep_chart(steps: &[StepResult], unit: &str, open_loop: bool) -> TwoAxisChart {
    let knee_at = knee(steps, open_loop);
    let labels: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let knee = if knee_at == Some(i) { " (knee)" } else { "" };
            format!("{} {unit}{knee}", load_text(s.offered))
        })
        .collect();
    let line = |name: &str, axis: f64, value: fn(&StepResult) -> Option<f64>| {
        Line::new().name(name).y_axis_index(axis).data(
            steps
                .iter()
                .map(|s| value(s).map_or_else(|| DataPoint::from("-"), DataPoint::from))
                .collect::<Vec<_>>(),
        )
    };
    TwoAxisChart::new(
        Axis::new()
            .type_(AxisType::Category)
            .data(labels)
            .name("offered"),
        Axis::new().type_(AxisType::Value).name("ms"),
        Axis::new().type_(AxisType::Value).name("req/s"),
    )
    .line(line("TTFT p95 (intended)", 0.0, |s| s.ttft_intended.p95))
    .line(line("E2E p95 (intended)", 0.0, |s| s.e2e_intended.p95))
    .line(line("Throughput", 1.0, |s| s.throughput_rps))
    .line(line("Goodput", 1.0, |s| s.goodput_rps))
}
