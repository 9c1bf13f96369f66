//! The load tester's charts over the run's time: the client latency per
//! one-second window, and the service's stages per statistics poll, on one
//! x axis (seconds since the run started) so that a stage that slows under
//! load stands above the latency it causes.

use charming::component::Axis;
use charming::datatype::{CompositeValue, DataPoint};
use charming::element::AxisType;
use charming::series::Line;
use sse_core::contract::execution_stats::any_stage_name;
use sse_core::load::run_stats::Window;
use sse_core::monitoring::stats_view::PollHistory;

use super::ChartOption;

/// Seconds since the run started, 0 to `max_s`: the same on both charts.
fn run_axis(max_s: f64) -> Axis {
    Axis::new()
        .type_(AxisType::Value)
        .name("s")
        .min(0)
        .max(max_s.max(1.0).ceil())
}

/// A point at `x_s` seconds; "-" (ECharts' gap) where there is no value.
fn point(x_s: f64, value: Option<f64>) -> DataPoint {
    let y = value.map_or_else(|| CompositeValue::from("-"), CompositeValue::from);
    DataPoint::from(CompositeValue::from(vec![CompositeValue::from(x_s), y]))
}

/// E2E p50 and p95 and TTFT p50 of each window of request end times.
pub fn latency_chart(windows: &[Window], max_s: f64) -> ChartOption {
    let line = |name: &str, value: &dyn Fn(&Window) -> Option<f64>| {
        Line::new().name(name).data(
            windows
                .iter()
                .map(|w| point(w.start_ms / 1000.0, value(w)))
                .collect::<Vec<_>>(),
        )
    };
    ChartOption::new(
        run_axis(max_s),
        Axis::new().type_(AxisType::Value).name("ms"),
    )
    .line(line("E2E p50 (per window)", &|w| w.e2e.percentile(50.0)))
    .line(line("E2E p95 (per window)", &|w| w.e2e.percentile(95.0)))
    .line(line("TTFT p50 (per window)", &|w| w.ttft.percentile(50.0)))
}

/// Each stage's mean duration between two statistics polls of the run (log
/// scale: validation takes microseconds, LLM streaming seconds).
pub fn stage_timeline_chart(history: &PollHistory, max_s: f64) -> ChartOption {
    let times: Vec<f64> = history.times().map(|t| t / 1000.0).collect();
    let mut chart = ChartOption::new(
        run_axis(max_s),
        Axis::new().type_(AxisType::Log).name("ms (log)"),
    )
    .wrapped_legend();
    for (id, values) in history.series() {
        let name = format!("{id} {}", any_stage_name(id).unwrap_or(""));
        let data: Vec<DataPoint> = times
            .iter()
            .zip(values)
            // A log axis has no 0: a stage measured at 0 ms is drawn as a gap.
            .map(|(t, v)| point(*t, v.filter(|v| *v > 0.0)))
            .collect();
        chart = chart.line(Line::new().name(name).data(data));
    }
    chart
}
