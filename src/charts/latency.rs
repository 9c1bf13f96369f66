//! The load tester's latency over the run, per one-second window.

use charming::component::Axis;
use charming::datatype::DataPoint;
use charming::element::AxisType;
use charming::series::Line;
use sse_core::run_stats::Window;

use super::ChartOption;

/// E2E p50 and p95 and TTFT p50 of each window of request end times.
pub fn latency_chart(windows: &[Window]) -> ChartOption {
    let labels: Vec<String> = windows
        .iter()
        .map(|w| format!("{:.0} s", w.start_ms / 1000.0))
        .collect();
    let line = |name: &str, value: &dyn Fn(&Window) -> Option<f64>| {
        Line::new().name(name).data(
            windows
                .iter()
                .map(|w| value(w).map_or_else(|| DataPoint::from("-"), DataPoint::from))
                .collect::<Vec<_>>(),
        )
    };
    ChartOption::new(
        Axis::new().type_(AxisType::Category).data(labels),
        Axis::new().type_(AxisType::Value).name("ms"),
    )
    .line(line("E2E p50 (per window)", &|w| w.e2e.percentile(50.0)))
    .line(line("E2E p95 (per window)", &|w| w.e2e.percentile(95.0)))
    .line(line("TTFT p50 (per window)", &|w| w.ttft.percentile(50.0)))
}
