//! What the statistics panel shows, computed without a browser: table rows with
//! their text and raw values from either source (the service's execution-stats
//! or its Prometheus histograms), and the per-poll history of each stage's p95.

use std::collections::{BTreeMap, VecDeque};

use crate::contract::execution_stats::{ExecutionStats, StageStats};
use crate::format;
use crate::metrics::Statistic;

/// The duration columns of the statistics table, in order (count comes last).
pub const COLUMNS: [Statistic; 7] = [
    Statistic::P50,
    Statistic::P90,
    Statistic::P95,
    Statistic::P99,
    Statistic::Mean,
    Statistic::Min,
    Statistic::Max,
];

/// A column's name in the table's hooks (`data-metric`): the service calls its
/// mean `avg`.
pub fn column_id(statistic: Statistic) -> &'static str {
    match statistic {
        Statistic::Mean => "avg",
        other => other.id(),
    }
}

/// Shown where the service does not send p90.
pub const P90_NOT_REPORTED: &str = "not reported by this service";
/// Shown for a stage that has not run.
pub const NO_EXECUTIONS: &str = "no executions";

/// The histogram bucket that holds an estimated percentile, in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// 0 for the first bucket; `-inf` below a first bound at or below zero.
    pub lower_ms: f64,
    /// `+inf` when the rank fell above the highest finite bound.
    pub upper_ms: f64,
}

impl Bucket {
    /// "between 1.00 ms and 5.00 ms", "above 1.00 s" (the `+Inf` bucket).
    pub fn text(&self) -> String {
        if self.upper_ms.is_infinite() {
            format!("above {}", format::duration_ms(Some(self.lower_ms)))
        } else if self.lower_ms.is_infinite() || self.lower_ms <= 0.0 {
            format!(
                "at most {}",
                format::duration_ms(Some(self.upper_ms.max(0.0)))
            )
        } else {
            format!(
                "{} – {}",
                format::duration_ms(Some(self.lower_ms)),
                format::duration_ms(Some(self.upper_ms))
            )
        }
    }
}

/// One cell: the text people read and the raw value (ms) for `data-value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub statistic: Statistic,
    /// The column's hook, [`column_id`] of `statistic`.
    pub metric: &'static str,
    pub text: String,
    pub value: Option<f64>,
    /// Set for a percentile estimated from histogram buckets (then `value` is
    /// `histogram_quantile`'s interpolation).
    pub estimate: Option<Estimate>,
    /// The PromQL query that gave it (the Prometheus server source), shown on hover.
    pub query: Option<String>,
}

/// How a percentile was estimated from histogram buckets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Estimate {
    /// From the scraped buckets: the bucket that bounds it is known.
    Bucket(Bucket),
    /// By the Prometheus server's `histogram_quantile` (it answers only the
    /// interpolated value).
    Quantile,
}

/// One stage's row.
#[derive(Debug, Clone, PartialEq)]
pub struct StageRow {
    pub id: String,
    pub name: String,
    pub count: u64,
    /// The PromQL query of the count (the Prometheus server source).
    pub count_query: Option<String>,
    pub cells: Vec<Cell>,
}

impl StageRow {
    /// The value of one column.
    pub fn value(&self, statistic: Statistic) -> Option<f64> {
        self.cells
            .iter()
            .find(|c| c.statistic == statistic)
            .and_then(|c| c.value)
    }
}

fn cell(statistic: Statistic, stage: &StageStats, reports_p90: bool) -> Cell {
    let metric = column_id(statistic);
    let Some(d) = &stage.durations else {
        return Cell {
            statistic,
            metric,
            text: NO_EXECUTIONS.to_owned(),
            value: None,
            estimate: None,
            query: None,
        };
    };
    let value = match statistic {
        Statistic::P50 => d.p50_ms,
        Statistic::P90 => d.p90_ms,
        Statistic::P95 => d.p95_ms,
        Statistic::P99 => d.p99_ms,
        Statistic::Mean => d.avg_ms,
        Statistic::Min => d.min_ms,
        Statistic::Max => d.max_ms,
        Statistic::Count => Some(stage.execution_count as f64),
    };
    let text = match (statistic, value) {
        (Statistic::P90, None) if !reports_p90 => P90_NOT_REPORTED.to_owned(),
        (_, value) => format::duration_ms(value),
    };
    Cell {
        statistic,
        metric,
        text,
        value,
        estimate: None,
        query: None,
    }
}

/// The table rows, in pipeline order.
pub fn stage_rows(stats: &ExecutionStats) -> Vec<StageRow> {
    stats
        .stages
        .iter()
        .map(|stage| StageRow {
            count_query: None,
            id: stage.id.clone(),
            name: stage.name.to_owned(),
            count: stage.execution_count,
            cells: COLUMNS
                .iter()
                .map(|&statistic| cell(statistic, stage, stats.reports_p90))
                .collect(),
        })
        .collect()
}

/// The chart's bars: for each percentile, one value per stage (`None` = no
/// bar). p90 is left out when no stage has one (the service does not report it).
pub fn percentile_series(rows: &[StageRow]) -> Vec<(&'static str, Vec<Option<f64>>)> {
    Statistic::PERCENTILES
        .into_iter()
        .filter(|p| *p != Statistic::P90 || rows.iter().any(|r| r.value(*p).is_some()))
        .map(|statistic| {
            let values = rows.iter().map(|row| row.value(statistic)).collect();
            (statistic.id(), values)
        })
        .collect()
}

/// What a service's execution statistics cover, as seen over the polls: a
/// history (counts never go down) or only the requests in flight (the original
/// service drops a request's timings when it ends, so its counts fall).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Coverage {
    last_counts: BTreeMap<String, u64>,
    counts_fell: bool,
}

impl Coverage {
    /// Takes one poll's answer into account.
    pub fn observe(&mut self, stats: &ExecutionStats) {
        for stage in &stats.stages {
            let before = self
                .last_counts
                .insert(stage.id.clone(), stage.execution_count);
            self.counts_fell |= before.is_some_and(|n| stage.execution_count < n);
        }
    }

    /// Whether a stage's count ever went down between two polls.
    pub fn counts_fell(&self) -> bool {
        self.counts_fell
    }

    /// The chart caption that says truly what the figures cover.
    pub fn caption(&self) -> &'static str {
        if self.counts_fell {
            "Percentiles per stage as the service reports them. This service reports only requests in flight: its counts went down between polls, so these figures cover the requests running at the last poll, not a history."
        } else {
            "Percentiles per stage, as the service reports them (its whole history since the last reset, as long as counts never go down)."
        }
    }
}

/// How durations (in ms) are plotted on a chart's value axis.
///
/// ECharts draws a bar on a log axis from the value 1, so a 0.004 ms bar would
/// hang down from 1 ms. On a log scale the values are therefore shown in the
/// largest of ms, µs and ns in which the smallest one is at least 1, and the
/// axis starts at the power of ten at or below it: every bar rises from the
/// floor. A log axis cannot show zero or a negative value: those are gaps.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ValueScale {
    pub log: bool,
    /// The axis unit.
    pub unit: &'static str,
    /// Multiplier from milliseconds to `unit`.
    pub factor: f64,
    /// Where the axis starts (in `unit`); `None` lets the chart choose.
    pub axis_min: Option<f64>,
}

impl ValueScale {
    pub fn new(log: bool, values_ms: impl IntoIterator<Item = f64>) -> Self {
        let linear = ValueScale {
            log,
            unit: "ms",
            factor: 1.0,
            axis_min: None,
        };
        if !log {
            return linear;
        }
        let Some(smallest) = values_ms
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0)
            .reduce(f64::min)
        else {
            return linear;
        };
        let (unit, factor) = if smallest >= 1.0 {
            ("ms", 1.0)
        } else if smallest >= 1e-3 {
            ("µs", 1e3)
        } else {
            ("ns", 1e6)
        };
        let floor = 10f64.powf((smallest * factor).log10().floor()).max(1.0);
        ValueScale {
            log,
            unit,
            factor,
            axis_min: Some(floor),
        }
    }

    /// The plotted value, or `None` for a gap.
    pub fn plot(&self, value_ms: Option<f64>) -> Option<f64> {
        let v = value_ms.filter(|v| v.is_finite())?;
        if self.log && v <= 0.0 {
            return None;
        }
        Some(v * self.factor)
    }
}

/// Named values at every successful poll of the session (bounded): each
/// stage's p95, the service strip's trend.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PollHistory {
    max_points: usize,
    /// Poll times (ms since the epoch).
    times: VecDeque<f64>,
    /// Stage id -> p95 per poll (`None` where the stage had not run).
    series: BTreeMap<String, VecDeque<Option<f64>>>,
}

impl PollHistory {
    pub fn new(max_points: usize) -> Self {
        Self {
            max_points: max_points.max(2),
            ..Self::default()
        }
    }

    /// One poll: each row's p95 (rows absent from it get a gap).
    pub fn record(&mut self, at_ms: f64, rows: &[StageRow]) {
        self.record_values(
            at_ms,
            rows.iter()
                .map(|row| (row.id.as_str(), row.value(Statistic::P95))),
        );
    }

    /// One poll of named values; a series missing from it gets a gap.
    pub fn record_values<'a>(
        &mut self,
        at_ms: f64,
        values: impl IntoIterator<Item = (&'a str, Option<f64>)>,
    ) {
        if self.times.len() == self.max_points {
            self.times.pop_front();
            for series in self.series.values_mut() {
                series.pop_front();
            }
        }
        let polls_before = self.times.len();
        self.times.push_back(at_ms);
        for (id, value) in values {
            let series = self
                .series
                .entry(id.to_owned())
                .or_insert_with(|| std::iter::repeat_n(None, polls_before).collect());
            if series.len() <= polls_before {
                series.push_back(value);
            }
        }
        // Series missing from this poll get a gap, so all stay aligned.
        for series in self.series.values_mut() {
            if series.len() < self.times.len() {
                series.push_back(None);
            }
        }
    }

    /// One series' values, oldest first (empty when unknown).
    pub fn values(&self, id: &str) -> Vec<Option<f64>> {
        self.series
            .get(id)
            .map(|v| v.iter().copied().collect())
            .unwrap_or_default()
    }

    pub fn times(&self) -> impl Iterator<Item = f64> + '_ {
        self.times.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub fn series(&self) -> impl Iterator<Item = (&str, Vec<Option<f64>>)> {
        self.series
            .iter()
            .map(|(id, v)| (id.as_str(), v.iter().copied().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_says_in_flight_once_a_count_falls() {
        let stats = |count: u64| {
            ExecutionStats::parse(&format!(
                r#"{{"stages":{{"1":{{"execution_count":{count},"avg_duration_ms":1.0}}}}}}"#
            ))
            .expect("stats")
        };
        let mut coverage = Coverage::default();
        coverage.observe(&stats(2));
        coverage.observe(&stats(5));
        assert!(!coverage.counts_fell());
        assert!(coverage.caption().contains("whole history"));
        coverage.observe(&stats(1));
        assert!(coverage.counts_fell());
        assert!(coverage.caption().contains("only requests in flight"));
        // It stays said for the session.
        coverage.observe(&stats(9));
        assert!(coverage.counts_fell());
    }

    #[test]
    fn log_scale_picks_a_unit_in_which_every_bar_rises_from_the_floor() {
        let scale = ValueScale::new(true, [0.004, 2.6, 1500.0, 0.0]);
        assert_eq!((scale.unit, scale.factor), ("µs", 1e3));
        // 0.004 ms = 4 µs: the axis starts at 1 µs, the log baseline.
        assert_eq!(scale.axis_min, Some(1.0));
        assert_eq!(scale.plot(Some(0.004)), Some(4.0));
        assert_eq!(scale.plot(Some(0.0)), None, "a log axis has no zero");
        let ms = ValueScale::new(true, [25.0, 3000.0]);
        assert_eq!((ms.unit, ms.axis_min), ("ms", Some(10.0)));
        let ns = ValueScale::new(true, [0.0002]);
        assert_eq!(
            (ns.unit, ns.plot(Some(0.0002)), ns.axis_min),
            ("ns", Some(200.0), Some(100.0))
        );
    }

    #[test]
    fn linear_scale_keeps_milliseconds_and_zero() {
        let scale = ValueScale::new(false, [0.004, 2.6]);
        assert_eq!(
            (scale.unit, scale.factor, scale.axis_min),
            ("ms", 1.0, None)
        );
        assert_eq!(scale.plot(Some(0.0)), Some(0.0));
        assert_eq!(scale.plot(None), None);
        assert_eq!(scale.plot(Some(f64::NAN)), None);
        assert_eq!(
            ValueScale::new(true, [0.0, f64::NAN]).axis_min,
            None,
            "nothing positive to scale by"
        );
    }

    const WRAPPED_NO_P90: &str = r#"{"stages":{"1":{"avg_duration_ms":2.55,"p50_duration_ms":2.55,"p95_duration_ms":2.6,"p99_duration_ms":2.7,"min_duration_ms":2.5,"max_duration_ms":2.8,"execution_count":3},"2":{"avg_duration_ms":0.0,"p50_duration_ms":0.0,"p95_duration_ms":0.0,"p99_duration_ms":0.0,"min_duration_ms":0.0,"max_duration_ms":0.0,"execution_count":0}}}"#;

    #[test]
    fn rows_say_not_reported_and_no_executions_instead_of_zero() {
        let stats = ExecutionStats::parse(WRAPPED_NO_P90).expect("stats");
        let rows = stage_rows(&stats);
        assert_eq!(rows[0].name, "Validation");
        let p90 = &rows[0].cells[1];
        assert_eq!(
            (p90.metric, p90.text.as_str(), p90.value),
            ("p90", P90_NOT_REPORTED, None)
        );
        let p50 = &rows[0].cells[0];
        assert_eq!((p50.text.as_str(), p50.value), ("2.55 ms", Some(2.55)));
        assert!(rows[1]
            .cells
            .iter()
            .all(|c| c.text == NO_EXECUTIONS && c.value.is_none()));
        assert_eq!(rows[1].count, 0);
    }

    #[test]
    fn series_leave_out_p90_when_absent_and_have_gaps_for_idle_stages() {
        let stats = ExecutionStats::parse(WRAPPED_NO_P90).expect("stats");
        let series = percentile_series(&stage_rows(&stats));
        let names: Vec<_> = series.iter().map(|(m, _)| *m).collect();
        assert_eq!(names, ["p50", "p95", "p99"]);
        assert_eq!(series[1].1, vec![Some(2.6), None]);
    }

    #[test]
    fn history_is_bounded_and_aligned() {
        let stats = ExecutionStats::parse(WRAPPED_NO_P90).expect("stats");
        let mut history = PollHistory::new(3);
        for i in 0..5 {
            history.record(f64::from(i) * 10_000.0, &stage_rows(&stats));
        }
        assert_eq!(history.len(), 3);
        assert_eq!(
            history.times().collect::<Vec<_>>(),
            vec![20_000.0, 30_000.0, 40_000.0]
        );
        let series: Vec<_> = history.series().collect();
        assert_eq!(series[0], ("1", vec![Some(2.6); 3]));
        assert_eq!(series[1], ("2", vec![None; 3]));
        // A stage that appears later is padded at the front.
        let later = ExecutionStats::parse(
            r#"{"stages":{"5":{"p95_duration_ms":900.0,"execution_count":1}}}"#,
        )
        .expect("stats");
        history.record(50_000.0, &stage_rows(&later));
        let five: Vec<_> = history.series().filter(|(id, _)| *id == "5").collect();
        assert_eq!(five[0].1, vec![None, None, Some(900.0)]);
        let one: Vec<_> = history.series().filter(|(id, _)| *id == "1").collect();
        assert_eq!(one[0].1, vec![Some(2.6), Some(2.6), None]);
    }
}
