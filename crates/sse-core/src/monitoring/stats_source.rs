//! The statistics panel's two sources: the service's `/admin/execution-stats`
//! (its own percentiles) and its Prometheus histograms from `/admin/metrics`
//! (cumulative since the process started; percentiles estimated from buckets).
//! Which one is shown by default, the rows of the histogram source, and the
//! sentence that says why the two disagree.

use crate::contract::execution_stats::{stage_name, ExecutionStats};
use crate::format;
use crate::metrics::Statistic;
use crate::monitoring::prometheus::histogram::Histogram;
use crate::monitoring::prometheus::service::{ServiceMetrics, StageHistogram};
use crate::monitoring::stats_view::{
    column_id, Bucket, Cell, Coverage, Estimate, StageRow, COLUMNS, NO_EXECUTIONS,
};

/// Where the panel's figures come from (`data-source` of `metrics-chart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatsSource {
    ExecutionStats,
    Metrics,
    /// The Prometheus server that scrapes the service (when the settings name one).
    PrometheusServer,
}

impl StatsSource {
    pub const ALL: [StatsSource; 3] = [
        StatsSource::ExecutionStats,
        StatsSource::Metrics,
        StatsSource::PrometheusServer,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::ExecutionStats => "execution-stats",
            Self::Metrics => "metrics",
            Self::PrometheusServer => "prometheus-server",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::ExecutionStats => "Execution stats",
            Self::Metrics => "Prometheus metrics",
            Self::PrometheusServer => "Prometheus server",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::ExecutionStats => "GET /admin/execution-stats: the service's own per-stage percentiles. What they cover is the service's choice (the original keeps only requests in flight).",
            Self::Metrics => "GET /admin/metrics: the sse_stage_duration_seconds histograms, cumulative since the service process started. Percentiles are estimated from the buckets by Prometheus' histogram_quantile method and shown with the bucket that bounds them.",
            Self::PrometheusServer => "The Prometheus server that scrapes every instance: PromQL over a window (rate/increase of sse_stage_duration_seconds), the whole service and by instance, restarts and history included. Percentiles are histogram_quantile estimates; each figure's query is shown on hover.",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// Shown for min and max, which a histogram does not keep.
pub const NOT_IN_A_HISTOGRAM: &str = "not kept by a histogram";

/// The quantile of each percentile column.
fn quantile_of(statistic: Statistic) -> Option<f64> {
    match statistic {
        Statistic::P50 => Some(0.5),
        Statistic::P90 => Some(0.9),
        Statistic::P95 => Some(0.95),
        Statistic::P99 => Some(0.99),
        _ => None,
    }
}

fn histogram_cell(statistic: Statistic, histogram: &Histogram) -> Cell {
    let metric = column_id(statistic);
    let plain = |text: String, value| Cell {
        statistic,
        metric,
        text,
        value,
        estimate: None,
        query: None,
    };
    if histogram.count <= 0.0 {
        return plain(NO_EXECUTIONS.to_owned(), None);
    }
    if let Some(q) = quantile_of(statistic) {
        let Some(e) = histogram.quantile(q) else {
            return plain(format::ABSENT.to_owned(), None);
        };
        let bucket = Bucket {
            lower_ms: e.lower * 1000.0,
            upper_ms: e.upper * 1000.0,
        };
        return Cell {
            statistic,
            metric,
            text: bucket.text(),
            value: Some(e.value * 1000.0),
            estimate: Some(Estimate::Bucket(bucket)),
            query: None,
        };
    }
    match statistic {
        Statistic::Mean => {
            let mean = histogram.mean().map(|s| s * 1000.0);
            plain(format::duration_ms(mean), mean)
        }
        Statistic::Count => plain(
            format::count_of(Some(histogram.count)),
            Some(histogram.count),
        ),
        _ => plain(NOT_IN_A_HISTOGRAM.to_owned(), None),
    }
}

fn histogram_row(stage: &StageHistogram) -> StageRow {
    let name = if stage.name.is_empty() {
        stage_name(&stage.id).unwrap_or("").to_owned()
    } else {
        format::display_text(&stage.name, 60)
    };
    StageRow {
        count_query: None,
        id: stage.id.clone(),
        name,
        count: count_of(stage.histogram.count),
        cells: COLUMNS
            .iter()
            .map(|&statistic| histogram_cell(statistic, &stage.histogram))
            .collect(),
    }
}

fn count_of(value: f64) -> u64 {
    if value.is_finite() && value > 0.0 {
        value.min(format::LARGEST_EXACT).round() as u64
    } else {
        0
    }
}

/// The table rows of the histogram source: cumulative since the process started.
pub fn histogram_rows(metrics: &ServiceMetrics) -> Vec<StageRow> {
    metrics.stages.iter().map(histogram_row).collect()
}

/// The rows of the observations made between two scrapes (a reset counts
/// from zero): each stage's p95 over the last poll interval, as Grafana's
/// `histogram_quantile(0.95, rate(…[interval]))` would plot it.
pub fn window_rows(now: &ServiceMetrics, earlier: &ServiceMetrics) -> Vec<StageRow> {
    now.stages
        .iter()
        .map(|stage| {
            let window = match earlier.stage(&stage.id) {
                Some(before) => stage.histogram.since(&before.histogram),
                None => stage.histogram.clone(),
            };
            histogram_row(&StageHistogram {
                id: stage.id.clone(),
                name: stage.name.clone(),
                histogram: window,
            })
        })
        .collect()
}

/// The source shown until the person picks one: the metrics when they hold
/// stage data and the execution-stats hold none or only requests in flight;
/// the execution-stats (the service's exact figures) otherwise.
pub fn default_source(
    stats: Option<&ExecutionStats>,
    coverage: &Coverage,
    metrics: Option<&ServiceMetrics>,
) -> StatsSource {
    let metrics_hold_data = metrics.is_some_and(ServiceMetrics::has_stage_data);
    let stats_hold_data =
        stats.is_some_and(|s| s.stages.iter().any(|stage| stage.execution_count > 0));
    if metrics_hold_data && (!stats_hold_data || coverage.counts_fell()) {
        StatsSource::Metrics
    } else {
        StatsSource::ExecutionStats
    }
}

/// The execution-stats id that times the same work as a metrics stage id: the
/// metrics' `2.1-2.2` is one series for the whole cache lookup, stage `2`.
fn execution_stats_id(metrics_id: &str) -> &str {
    match metrics_id {
        "2.1-2.2" => "2",
        other => other,
    }
}

/// One sentence saying why the two sources' counts differ; `None` when every
/// stage both time has the same count.
pub fn disagreement(
    stats: &ExecutionStats,
    coverage: &Coverage,
    metrics: &ServiceMetrics,
) -> Option<String> {
    let mut differences = Vec::new();
    let (mut fewer, mut more) = (false, false);
    for stage in &metrics.stages {
        let id = execution_stats_id(&stage.id);
        let Some(theirs) = stats.stages.iter().find(|s| s.id == id) else {
            continue;
        };
        let counted = count_of(stage.histogram.count);
        if theirs.execution_count != counted {
            fewer |= theirs.execution_count < counted;
            more |= theirs.execution_count > counted;
            differences.push(format!(
                "stage {}: {} vs {}",
                stage.id,
                format::count(theirs.execution_count),
                format::count(counted)
            ));
        }
    }
    if differences.is_empty() {
        return None;
    }
    let shown: Vec<&str> = differences.iter().take(3).map(String::as_str).collect();
    let counts = format!(
        "The two sources count differently ({}{} executions, execution-stats vs metrics)",
        shown.join(", "),
        if differences.len() > 3 { ", …" } else { "" }
    );
    let why = if coverage.counts_fell() {
        "this service's execution-stats cover only the requests in flight (their counts went down between polls), while the metrics count every request since the process started."
    } else if fewer && !more {
        "the execution-stats cover less (they were reset, or keep only recent or running requests), while the metrics count every request since the process started."
    } else {
        "the metrics count since this process started and the execution-stats kept more; behind a load balancer the two answers may also come from different instances."
    };
    Some(format!("{counts}: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURE: &str = include_str!("../../tests/captures/original-admin-metrics.prom");
    const STATS_AFTER_TWO: &str =
        include_str!("../../tests/captures/original-execution-stats-after-2-streams.json");

    #[test]
    fn histogram_cells_say_estimate_with_their_bucket_in_ms() {
        let metrics = ServiceMetrics::parse(CAPTURE).expect("capture");
        let rows = histogram_rows(&metrics);
        let validation = &rows[0];
        assert_eq!((validation.id.as_str(), validation.count), ("1", 2));
        assert_eq!(validation.name, "Request validation");
        // Both observations in (1 ms, 5 ms]: p50 rank 1 of 2 → 3 ms.
        let p50 = &validation.cells[0];
        assert_eq!(p50.value, Some(3.0));
        assert_eq!(
            p50.estimate,
            Some(Estimate::Bucket(Bucket {
                lower_ms: 1.0,
                upper_ms: 5.0
            }))
        );
        assert_eq!(p50.text, "1.00 ms – 5.00 ms");
        let mean = &validation.cells[4];
        assert_eq!(
            (mean.metric, mean.value, mean.estimate),
            ("avg", Some(1.175), None)
        );
        assert_eq!(validation.cells[5].text, NOT_IN_A_HISTOGRAM);
        // LLM streaming: all in +Inf → the highest finite bound, "above 1.00 s".
        let streaming = rows.iter().find(|r| r.id == "5").expect("5");
        assert_eq!(streaming.cells[3].value, Some(1000.0));
        assert_eq!(streaming.cells[3].text, "above 1.00 s");
    }

    #[test]
    fn the_original_defaults_to_metrics_and_says_why_the_sources_disagree() {
        let metrics = ServiceMetrics::parse(CAPTURE).expect("capture");
        let stats = ExecutionStats::parse(STATS_AFTER_TWO).expect("stats");
        let mut coverage = Coverage::default();
        coverage.observe(&stats);
        assert_eq!(
            default_source(Some(&stats), &coverage, Some(&metrics)),
            StatsSource::Metrics
        );
        let sentence = disagreement(&stats, &coverage, &metrics).expect("they disagree");
        assert!(sentence.contains("stage 1: 0 vs 2"), "{sentence}");
        assert!(
            sentence.contains("every request since the process started"),
            "{sentence}"
        );
        // Without metrics, or with metrics holding nothing, execution-stats stay.
        assert_eq!(
            default_source(Some(&stats), &coverage, None),
            StatsSource::ExecutionStats
        );
    }

    #[test]
    fn equal_counts_agree_and_an_in_flight_service_is_named() {
        let metrics = ServiceMetrics::parse(CAPTURE).expect("capture");
        let two = |n: u64| {
            ExecutionStats::parse(&format!(
                r#"{{"stages":{{"1":{{"execution_count":{n},"avg_duration_ms":1.0}},"2":{{"execution_count":{n},"avg_duration_ms":1.0}}}}}}"#
            ))
            .expect("stats")
        };
        let mut coverage = Coverage::default();
        coverage.observe(&two(2));
        assert_eq!(disagreement(&two(2), &coverage, &metrics), None);
        assert_eq!(
            default_source(Some(&two(2)), &coverage, Some(&metrics)),
            StatsSource::ExecutionStats,
            "both hold data: the service's exact figures"
        );
        coverage.observe(&two(1));
        let sentence = disagreement(&two(1), &coverage, &metrics).expect("disagree");
        assert!(
            sentence.contains("only the requests in flight"),
            "{sentence}"
        );
        assert!(sentence.contains("stage 2.1-2.2: 1 vs 2"), "{sentence}");
        assert_eq!(
            default_source(Some(&two(1)), &coverage, Some(&metrics)),
            StatsSource::Metrics
        );
    }

    #[test]
    fn a_window_holds_only_what_came_after_the_earlier_scrape() {
        let earlier = ServiceMetrics::parse(CAPTURE).expect("capture");
        let now = ServiceMetrics::parse(&CAPTURE.replace(
            "sse_stage_duration_seconds_bucket{le=\"+Inf\",stage=\"1\",substage=\"Request validation\"} 2.0",
            "sse_stage_duration_seconds_bucket{le=\"+Inf\",stage=\"1\",substage=\"Request validation\"} 3.0",
        ))
        .expect("later");
        let rows = window_rows(&now, &earlier);
        assert_eq!(rows[0].count, 1);
        // The one new observation is above 1 s: p95 is "above 1.00 s".
        assert_eq!(rows[0].cells[2].text, "above 1.00 s");
        assert_eq!(rows[1].count, 0);
        assert_eq!(rows[1].cells[2].value, None);
    }
}
