//! The statistics panel's charts: each stage's percentiles as horizontal bars
//! (every stage's name on the axis, none skipped), and each stage's p95 at every
//! poll of the session (every stage in the legend, none paged away).

use charming::component::Axis;
use charming::datatype::DataPoint;
use charming::element::{AxisLabel, AxisType, MarkArea, MarkAreaData};
use charming::series::{Bar, Line};
use sse_core::contract::execution_stats::any_stage_name;
use sse_core::monitoring::stats_view::{percentile_series, PollHistory, StageRow, ValueScale};

use super::ChartOption;
use crate::browser::clock::time_of_day;

fn points(values: &[Option<f64>], scale: &ValueScale) -> Vec<DataPoint> {
    values
        .iter()
        .map(|v| match scale.plot(*v) {
            Some(v) => DataPoint::from(v),
            // "-" is ECharts' gap.
            None => DataPoint::from("-"),
        })
        .collect()
}

fn value_axis(scale: &ValueScale) -> Axis {
    let kind = if scale.log {
        AxisType::Log
    } else {
        AxisType::Value
    };
    let axis = Axis::new().type_(kind).name(scale.unit);
    match scale.axis_min {
        Some(min) => axis.min(min),
        None => axis,
    }
}

fn scale_of<'a>(log: bool, series: impl Iterator<Item = &'a Vec<Option<f64>>>) -> ValueScale {
    ValueScale::new(log, series.flat_map(|v| v.iter().flatten().copied()))
}

/// p50, p90 (when reported), p95 and p99 per stage, stages top to bottom.
pub fn percentiles_chart(rows: &[StageRow], log_scale: bool) -> ChartOption {
    let names: Vec<String> = rows
        .iter()
        .map(|r| format!("{} {}", r.id, r.name))
        .collect();
    let series = percentile_series(rows);
    let scale = scale_of(log_scale, series.iter().map(|(_, v)| v));
    // Horizontal bars: a name per row, all of them shown (interval 0).
    let stages = Axis::new()
        .type_(AxisType::Category)
        .data(names)
        .inverse(true)
        .axis_label(AxisLabel::new().interval(0));
    let mut chart = ChartOption::new(value_axis(&scale), stages);
    for (metric, values) in series {
        chart = chart.bar(Bar::new().name(metric).data(points(&values, &scale)));
    }
    chart
}

/// [`history_chart`] with each load run of `windows` (start and end, ms
/// since the epoch, and its name) marked as a band over the times it covers.
pub fn history_chart_with_runs(
    history: &PollHistory,
    log_scale: bool,
    windows: &[(f64, f64, String)],
) -> ChartOption {
    let times: Vec<f64> = history.times().collect();
    let bands: Vec<(MarkAreaData, MarkAreaData)> = windows
        .iter()
        .filter_map(|(start, end, name)| {
            let first = times.iter().find(|t| **t >= *start)?;
            let last = times.iter().rev().find(|t| **t <= *end).unwrap_or(first);
            Some((
                MarkAreaData::new()
                    .name(name.clone())
                    .x_axis(time_of_day(*first)),
                MarkAreaData::new().x_axis(time_of_day(last.max(*first))),
            ))
        })
        .collect();
    let mut chart = history_chart(history, log_scale);
    if !bands.is_empty() {
        chart = chart.line(
            Line::new()
                .name("load runs")
                .data(Vec::<DataPoint>::new())
                .mark_area(MarkArea::new().data(bands)),
        );
    }
    chart
}

/// Each stage's p95 at every poll of the session.
pub fn history_chart(history: &PollHistory, log_scale: bool) -> ChartOption {
    let times: Vec<String> = history.times().map(time_of_day).collect();
    let series: Vec<(&str, Vec<Option<f64>>)> = history.series().collect();
    let scale = scale_of(log_scale, series.iter().map(|(_, v)| v));
    let mut chart = ChartOption::new(
        Axis::new().type_(AxisType::Category).data(times),
        value_axis(&scale),
    )
    .wrapped_legend();
    for (id, values) in series {
        let name = format!("{id} {}", any_stage_name(id).unwrap_or(""));
        chart = chart.line(Line::new().name(name).data(points(&values, &scale)));
    }
    chart
}
