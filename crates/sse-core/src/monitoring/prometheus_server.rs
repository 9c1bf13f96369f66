//! The Prometheus server as a statistics source: the PromQL a Grafana user
//! would write for each figure (every cell keeps its query, shown on hover),
//! and the statistics table's rows from the answers. Percentiles are
//! `histogram_quantile` estimates over the chosen window, summed over every
//! instance the server scrapes (or `by (instance)`); a window without a
//! request shows "no requests", never 0 or NaN.

use crate::contract::execution_stats::{any_stage_name, stage_order};
use crate::format;
use crate::metrics::Statistic;
use crate::monitoring::prometheus::service::STAGE_DURATIONS;
use crate::monitoring::prometheus_api::{QueryAnswer, Sample};
use crate::monitoring::stats_source::NOT_IN_A_HISTOGRAM;
use crate::monitoring::stats_view::{column_id, Cell, Estimate, StageRow, COLUMNS};

/// Shown for a stage without a request in the window.
pub const NO_REQUESTS: &str = "no requests";

/// The range the figures are over (`stats-window`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Window {
    M1,
    #[default]
    M5,
    M15,
    H1,
}

impl Window {
    pub const ALL: [Window; 4] = [Window::M1, Window::M5, Window::M15, Window::H1];

    /// As PromQL writes it, and the control's value.
    pub fn id(self) -> &'static str {
        match self {
            Self::M1 => "1m",
            Self::M5 => "5m",
            Self::M15 => "15m",
            Self::H1 => "1h",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|w| w.id() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::M1 => "last minute",
            Self::M5 => "last 5 minutes",
            Self::M15 => "last 15 minutes",
            Self::H1 => "last hour",
        }
    }
}

/// The queries of one reading, for the whole service or `by (instance)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Queries {
    /// A label matcher every selector gets (`job="sse"`), when the server
    /// scrapes more than the service.
    pub matcher: String,
}

/// The statistics a reading asks for, in the order of its answers.
pub const READING: [Statistic; 6] = [
    Statistic::P50,
    Statistic::P90,
    Statistic::P95,
    Statistic::P99,
    Statistic::Mean,
    Statistic::Count,
];

impl Queries {
    /// `job` empty: every series of the metric.
    pub fn new(job: &str) -> Self {
        let job = job.trim();
        Self {
            matcher: if job.is_empty() {
                String::new()
            } else {
                format!("{{job=\"{}\"}}", job.replace(['"', '\\'], ""))
            },
        }
    }

    fn selector(&self, metric: &str) -> String {
        format!("{metric}{}", self.matcher)
    }

    fn by(by_instance: bool, extra: &str) -> String {
        match (by_instance, extra.is_empty()) {
            (true, true) => "by (instance, stage)".into(),
            (true, false) => format!("by (instance, stage, {extra})"),
            (false, true) => "by (stage)".into(),
            (false, false) => format!("by (stage, {extra})"),
        }
    }

    /// The query of `statistic` per stage over `window`.
    pub fn stage(&self, statistic: Statistic, window: Window, by_instance: bool) -> String {
        let w = window.id();
        let bucket = self.selector(&format!("{STAGE_DURATIONS}_bucket"));
        let sum = self.selector(&format!("{STAGE_DURATIONS}_sum"));
        let count = self.selector(&format!("{STAGE_DURATIONS}_count"));
        match statistic {
            Statistic::Mean => format!(
                "sum {by} (rate({sum}[{w}])) / sum {by} (rate({count}[{w}]))",
                by = Self::by(by_instance, "")
            ),
            Statistic::Count => {
                format!("sum {} (increase({count}[{w}]))", Self::by(by_instance, ""))
            }
            percentile => format!(
                "histogram_quantile({}, sum {} (rate({bucket}[{w}])))",
                quantile_of(percentile),
                Self::by(by_instance, "le")
            ),
        }
    }

    /// Each stage's p95 over time (for `query_range`), per `step` window.
    pub fn stage_p95_over_time(&self, step: &str) -> String {
        format!(
            "histogram_quantile(0.95, sum by (stage, le) (rate({}[{step}])))",
            self.selector(&format!("{STAGE_DURATIONS}_bucket"))
        )
    }

    /// Each stage's p95 over the `seconds` before the query's time (a load
    /// run's window, asked with `time` = its end).
    pub fn stage_p95_over_run(&self, seconds: u64) -> String {
        format!(
            "histogram_quantile(0.95, sum by (stage, le) (increase({}[{seconds}s])))",
            self.selector(&format!("{STAGE_DURATIONS}_bucket"))
        )
    }

    /// Requests per second (every status).
    pub fn request_rate(&self, window: Window) -> String {
        format!(
            "sum(rate({}[{}]))",
            self.selector("sse_requests_total"),
            window.id()
        )
    }

    /// Successful requests of all, 0–1.
    pub fn success_share(&self, window: Window) -> String {
        let all = self.selector("sse_requests_total");
        let success = if self.matcher.is_empty() {
            "sse_requests_total{status=\"success\"}".to_owned()
        } else {
            all.replacen('}', ",status=\"success\"}", 1)
        };
        format!(
            "sum(rate({success}[{w}])) / sum(rate({all}[{w}]))",
            w = window.id()
        )
    }

    pub fn active_connections(&self, by_instance: bool) -> String {
        let metric = self.selector("sse_active_connections");
        if by_instance {
            format!("sum by (instance) ({metric})")
        } else {
            format!("sum({metric})")
        }
    }

    /// Whether each scraped instance answered its last scrape.
    pub fn up(&self) -> String {
        self.selector("up")
    }
}

fn quantile_of(statistic: Statistic) -> &'static str {
    match statistic {
        Statistic::P50 => "0.5",
        Statistic::P90 => "0.9",
        Statistic::P95 => "0.95",
        _ => "0.99",
    }
}

/// One reading: the answer to each of [`READING`]'s queries, with its query.
pub type Reading<'a> = [(&'a str, &'a QueryAnswer); 6];

/// The value of `stage` in `answer` (and of `instance`, when given), in
/// seconds; `None` where absent or NaN.
fn value_of(answer: &QueryAnswer, stage: &str, instance: Option<&str>) -> Option<f64> {
    answer
        .samples()
        .iter()
        .find(|s| {
            s.labels.get("stage").map(String::as_str) == Some(stage)
                && instance.is_none_or(|i| s.labels.get("instance").map(String::as_str) == Some(i))
        })
        .and_then(|s| s.value)
        .filter(|v| v.is_finite())
}

/// The stage ids in the answers, in the service's order.
fn stages(reading: &Reading<'_>, instance: Option<&str>) -> Vec<String> {
    let mut ids: Vec<String> = reading
        .iter()
        .flat_map(|(_, answer)| answer.samples())
        .filter(|s| {
            instance.is_none_or(|i| s.labels.get("instance").map(String::as_str) == Some(i))
        })
        .filter_map(|s: &Sample| s.labels.get("stage").cloned())
        .collect();
    ids.sort_by_key(|id| stage_order(id));
    ids.dedup();
    ids
}

/// The table's rows from one reading (of `instance`, when given).
pub fn server_rows(reading: &Reading<'_>, instance: Option<&str>) -> Vec<StageRow> {
    stages(reading, instance)
        .into_iter()
        .map(|id| {
            let count = value_of(reading[5].1, &id, instance).unwrap_or(0.0);
            // increase() extrapolates: 11.98 requests is 12.
            let requests = count.round().max(0.0) as u64;
            let answer_of = |statistic: Statistic| {
                READING
                    .iter()
                    .position(|s| *s == statistic)
                    .map(|i| reading[i])
            };
            let cells = COLUMNS
                .iter()
                .map(|&statistic| {
                    let Some((query, answer)) = answer_of(statistic) else {
                        // min and max: a histogram does not keep them.
                        return Cell {
                            statistic,
                            metric: column_id(statistic),
                            text: NOT_IN_A_HISTOGRAM.to_owned(),
                            value: None,
                            estimate: None,
                            query: None,
                        };
                    };
                    let ms = value_of(answer, &id, instance).map(|s| s * 1000.0);
                    let (text, value) = if requests == 0 {
                        (NO_REQUESTS.to_owned(), None)
                    } else {
                        (format::duration_ms(ms), ms)
                    };
                    Cell {
                        statistic,
                        metric: column_id(statistic),
                        text,
                        value,
                        estimate: (statistic.is_percentile() && value.is_some())
                            .then_some(Estimate::Quantile),
                        query: Some(query.to_owned()),
                    }
                })
                .collect();
            StageRow {
                name: any_stage_name(&id).unwrap_or("").to_owned(),
                id,
                count: requests,
                count_query: Some(reading[5].0.to_owned()),
                cells,
            }
        })
        .collect()
}

/// The instances in a reading (`by (instance)`), sorted.
pub fn instances(reading: &Reading<'_>) -> Vec<String> {
    let mut names: Vec<String> = reading
        .iter()
        .flat_map(|(_, answer)| answer.samples())
        .filter_map(|s| s.labels.get("instance").cloned())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// `up` per instance: (instance, answered its last scrape).
pub fn up_by_instance(answer: &QueryAnswer) -> Vec<(String, bool)> {
    let mut up: Vec<(String, bool)> = answer
        .samples()
        .iter()
        .filter_map(|s| Some((s.labels.get("instance")?.clone(), s.value? >= 1.0)))
        .collect();
    up.sort();
    up
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::prometheus_api::parse_query;

    fn vector(samples: &[(&str, Option<&str>, &str)]) -> QueryAnswer {
        let result: Vec<String> = samples
            .iter()
            .map(|(stage, instance, value)| {
                let instance = instance
                    .map(|i| format!(r#","instance":"{i}""#))
                    .unwrap_or_default();
                format!(
                    r#"{{"metric":{{"stage":"{stage}"{instance}}},"value":[1700000000,"{value}"]}}"#
                )
            })
            .collect();
        parse_query(&format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
            result.join(",")
        ))
        .expect("a vector")
    }

    #[test]
    fn the_queries_are_the_ones_grafana_users_write() {
        let q = Queries::new("");
        assert_eq!(
            q.stage(Statistic::P95, Window::M5, false),
            "histogram_quantile(0.95, sum by (stage, le) (rate(sse_stage_duration_seconds_bucket[5m])))"
        );
        assert_eq!(
            q.stage(Statistic::P99, Window::H1, true),
            "histogram_quantile(0.99, sum by (instance, stage, le) (rate(sse_stage_duration_seconds_bucket[1h])))"
        );
        assert_eq!(
            q.stage(Statistic::Mean, Window::M1, false),
            "sum by (stage) (rate(sse_stage_duration_seconds_sum[1m])) / sum by (stage) (rate(sse_stage_duration_seconds_count[1m]))"
        );
        assert_eq!(
            q.stage(Statistic::Count, Window::M15, false),
            "sum by (stage) (increase(sse_stage_duration_seconds_count[15m]))"
        );
        let job = Queries::new("sse");
        assert_eq!(
            job.success_share(Window::M5),
            "sum(rate(sse_requests_total{job=\"sse\",status=\"success\"}[5m])) / sum(rate(sse_requests_total{job=\"sse\"}[5m]))"
        );
        assert_eq!(job.up(), "up{job=\"sse\"}");
        assert_eq!(
            q.stage_p95_over_run(12),
            "histogram_quantile(0.95, sum by (stage, le) (increase(sse_stage_duration_seconds_bucket[12s])))"
        );
    }

    #[test]
    fn rows_keep_their_queries_and_a_quiet_window_says_no_requests() {
        let q = Queries::new("");
        let answers: Vec<QueryAnswer> = vec![
            vector(&[("1", None, "0.001"), ("5", None, "NaN")]),
            vector(&[("1", None, "0.002"), ("5", None, "NaN")]),
            vector(&[("1", None, "0.0025"), ("5", None, "NaN")]),
            vector(&[("1", None, "0.004"), ("5", None, "NaN")]),
            vector(&[("1", None, "0.0012"), ("5", None, "NaN")]),
            vector(&[("1", None, "11.97"), ("5", None, "0")]),
        ];
        let queries: Vec<String> = READING
            .iter()
            .map(|s| q.stage(*s, Window::M5, false))
            .collect();
        let reading: Reading<'_> = std::array::from_fn(|i| (queries[i].as_str(), &answers[i]));
        let rows = server_rows(&reading, None);
        assert_eq!(rows.len(), 2);
        let validation = &rows[0];
        assert_eq!((validation.id.as_str(), validation.count), ("1", 12));
        let p95 = &validation.cells[2];
        assert_eq!(p95.value, Some(2.5));
        assert_eq!(p95.estimate, Some(Estimate::Quantile));
        assert_eq!(p95.query.as_deref(), Some(queries[2].as_str()));
        let streaming = &rows[1];
        assert_eq!(streaming.count, 0);
        assert!(streaming.cells[..5]
            .iter()
            .all(|c| c.text == NO_REQUESTS && c.value.is_none()));
        assert_eq!(streaming.count_query.as_deref(), Some(queries[5].as_str()));
        assert_eq!(validation.cells[5].text, NOT_IN_A_HISTOGRAM, "min");
    }

    #[test]
    fn a_reading_by_instance_gives_each_instance_its_rows_and_up() {
        let answers: Vec<QueryAnswer> = (0..6)
            .map(|_| vector(&[("1", Some("a:1"), "3"), ("1", Some("b:2"), "5")]))
            .collect();
        let reading: Reading<'_> = std::array::from_fn(|i| ("q", &answers[i]));
        assert_eq!(instances(&reading), ["a:1", "b:2"]);
        let rows = server_rows(&reading, Some("b:2"));
        assert_eq!(rows[0].count, 5);
        let up = parse_query(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"instance":"b:2","job":"sse"},"value":[1,"0"]},
            {"metric":{"instance":"a:1","job":"sse"},"value":[1,"1"]}]}}"#,
        )
        .expect("reads");
        assert_eq!(
            up_by_instance(&up),
            vec![("a:1".into(), true), ("b:2".into(), false)]
        );
    }
}
