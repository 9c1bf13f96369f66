//! The Prometheus server as a statistics source: the PromQL a Grafana user
//! would write for each figure (every cell keeps its query, shown on hover),
//! and the statistics table's rows from the answers. Percentiles are
//! `histogram_quantile` estimates over the chosen window, summed over every
//! instance the server scrapes (or `by (instance)`); a window without a
//! request shows "no requests", never 0 or NaN.

use crate::contract::execution_stats::{any_stage_name, stage_order};
use crate::format;
use crate::metrics::{ServerFigure, Statistic};
use crate::monitoring::prometheus::service::STAGE_DURATIONS;
use crate::monitoring::prometheus_api::{QueryAnswer, QueryData, Sample, Series};
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
    /// The server evaluates [`recording_rules`]: the whole service's figures
    /// read their recorded series (a few per stage, however many instances)
    /// instead of every instance's buckets.
    pub recorded: bool,
}

/// One of the dashboard's recording rules (prometheus-rules.yml, in one of
/// [`RECORDING_GROUPS`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRule {
    pub record: String,
    pub expr: String,
}

/// A group of the dashboard's recording rules: the windows it records, and
/// how often the server evaluates it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordingGroup {
    pub name: &'static str,
    /// `None`: at the server's evaluation interval.
    pub interval: Option<&'static str>,
    pub windows: &'static [Window],
}

/// The short windows at every evaluation; the long ones, which 30 s hardly
/// moves, every 30 s (measured with an hour of samples at 10 instances:
/// 18 ms of server time per second, where every window at every 5 s
/// evaluation would take about 49).
pub const RECORDING_GROUPS: [RecordingGroup; 2] = [
    RecordingGroup {
        name: "sse_dashboard_records",
        interval: None,
        windows: &[Window::M1, Window::M5],
    },
    RecordingGroup {
        name: "sse_dashboard_records_long",
        interval: Some("30s"),
        windows: &[Window::M15, Window::H1],
    },
];

impl RecordingGroup {
    pub fn rules(&self) -> Vec<RecordingRule> {
        self.windows
            .iter()
            .flat_map(|&w| {
                Recorded::ALL.map(|r| RecordingRule {
                    record: r.name(w),
                    expr: r.expr(w),
                })
            })
            .collect()
    }
}

/// What a recorded series holds, per (job, stage) and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Recorded {
    BucketRate,
    SumRate,
    CountRate,
    CountIncrease,
}

impl Recorded {
    const ALL: [Recorded; 4] = [
        Recorded::BucketRate,
        Recorded::SumRate,
        Recorded::CountRate,
        Recorded::CountIncrease,
    ];

    /// `level:metric:operations`, as Prometheus' naming practice has it.
    fn name(self, window: Window) -> String {
        let (series, op) = match self {
            Self::BucketRate => ("bucket", "rate"),
            Self::SumRate => ("sum", "rate"),
            Self::CountRate => ("count", "rate"),
            Self::CountIncrease => ("count", "increase"),
        };
        format!("job_stage:{STAGE_DURATIONS}_{series}:{op}{}", window.id())
    }

    fn expr(self, window: Window) -> String {
        let w = window.id();
        match self {
            Self::BucketRate => {
                format!("sum by (job, stage, le) (rate({STAGE_DURATIONS}_bucket[{w}]))")
            }
            Self::SumRate => format!("sum by (job, stage) (rate({STAGE_DURATIONS}_sum[{w}]))"),
            Self::CountRate => {
                format!("sum by (job, stage) (rate({STAGE_DURATIONS}_count[{w}]))")
            }
            Self::CountIncrease => {
                format!("sum by (job, stage) (increase({STAGE_DURATIONS}_count[{w}]))")
            }
        }
    }
}

/// The dashboard's recording rules: per window, each stage's bucket rates,
/// sum and count rates and count increase, summed over the instances of a
/// job. Evaluated by the server at its rule intervals, they make a reading
/// cost the same for 3 instances or 300.
pub fn recording_rules() -> Vec<RecordingRule> {
    RECORDING_GROUPS.iter().flat_map(|g| g.rules()).collect()
}

/// Whether the recording rules the server has (`/api/v1/rules?type=record`'s
/// names) include every one of [`recording_rules`].
pub fn has_every_recording_rule(names: &[String]) -> bool {
    recording_rules()
        .iter()
        .all(|rule| names.contains(&rule.record))
}

/// The label that tells the parts of a combined query's answer apart.
pub const PART_LABEL: &str = "dashboard_part";

/// One query asking every one of `parts`, so that a reading is one request:
/// `label_replace(part, "dashboard_part", "<index>", "", "") or …`. Each
/// part's answer is the one it would get alone ([`split_parts`]).
pub fn combined(parts: &[&str]) -> String {
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| format!("label_replace({part}, \"{PART_LABEL}\", \"{i}\", \"\", \"\")"))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The answer of a [`combined`] query of `parts` parts, as each part's own
/// answer (its samples without [`PART_LABEL`], the answer's notes on each).
pub fn split_parts(answer: &QueryAnswer, parts: usize) -> Vec<QueryAnswer> {
    let mut answers: Vec<Vec<Sample>> = vec![Vec::new(); parts];
    for sample in answer.samples() {
        let mut sample = sample.clone();
        let part = sample
            .labels
            .remove(PART_LABEL)
            .and_then(|p| p.parse::<usize>().ok());
        if let Some(own) = part.and_then(|p| answers.get_mut(p)) {
            own.push(sample);
        }
    }
    answers
        .into_iter()
        .map(|samples| QueryAnswer {
            data: QueryData::Vector(samples),
            notes: answer.notes.clone(),
        })
        .collect()
}

/// `range` (a matrix) with each series of `point` (an instant answer at
/// `at_s`) one point longer, and the points before `from_s` dropped: a
/// range query's answer one step later, without asking for the whole range
/// again. A series new in `point` starts there; one left with no point goes.
pub fn extend_range(
    range: &QueryAnswer,
    point: &QueryAnswer,
    at_s: f64,
    from_s: f64,
) -> QueryAnswer {
    let mut series: Vec<Series> = match &range.data {
        QueryData::Matrix(series) => series.clone(),
        _ => Vec::new(),
    };
    for sample in point.samples() {
        match series.iter_mut().find(|s| s.labels == sample.labels) {
            Some(own) => own.points.push((at_s, sample.value)),
            None => series.push(Series {
                labels: sample.labels.clone(),
                points: vec![(at_s, sample.value)],
            }),
        }
    }
    for own in &mut series {
        own.points.retain(|(t, _)| *t >= from_s);
    }
    series.retain(|s| !s.points.is_empty());
    QueryAnswer {
        data: QueryData::Matrix(series),
        notes: point.notes.clone(),
    }
}

/// The queries of one reading of the whole service: the table's figures in
/// [`READING`]'s order, the strip's, and `up`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingQueries {
    pub table: [String; 6],
    pub strip: [(ServerFigure, String); 3],
    pub up: String,
}

impl ReadingQueries {
    /// Every query, in the order of [`split_parts`]' answers: the table's,
    /// the strip's, `up`.
    pub fn parts(&self) -> Vec<&str> {
        self.table
            .iter()
            .map(String::as_str)
            .chain(self.strip.iter().map(|(_, q)| q.as_str()))
            .chain(std::iter::once(self.up.as_str()))
            .collect()
    }

    /// The one query sent for the reading.
    pub fn combined(&self) -> String {
        combined(&self.parts())
    }
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
            recorded: false,
        }
    }

    /// These queries reading the dashboard's recorded series when `recorded`.
    pub fn with_records(self, recorded: bool) -> Self {
        Self { recorded, ..self }
    }

    /// One reading of the whole service over `window`.
    pub fn reading(&self, window: Window) -> ReadingQueries {
        ReadingQueries {
            table: READING.map(|s| self.stage(s, window, false)),
            strip: [
                (ServerFigure::RequestRate, self.request_rate(window)),
                (ServerFigure::SuccessShare, self.success_share(window)),
                (
                    ServerFigure::ActiveConnections,
                    self.active_connections(false),
                ),
            ],
            up: self.up(),
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
        if self.recorded && !by_instance {
            return self.recorded_stage(statistic, window);
        }
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

    /// The whole service's `statistic` from the recorded series.
    fn recorded_stage(&self, statistic: Statistic, window: Window) -> String {
        let series = |r: Recorded| self.selector(&r.name(window));
        match statistic {
            Statistic::Mean => format!(
                "sum by (stage) ({}) / sum by (stage) ({})",
                series(Recorded::SumRate),
                series(Recorded::CountRate)
            ),
            Statistic::Count => {
                format!("sum by (stage) ({})", series(Recorded::CountIncrease))
            }
            percentile => format!(
                "histogram_quantile({}, sum by (stage, le) ({}))",
                quantile_of(percentile),
                series(Recorded::BucketRate)
            ),
        }
    }

    /// Each stage's p95 over time (for `query_range`), each point over the
    /// minute before it.
    pub fn stage_p95_over_time(&self) -> String {
        self.stage_p95_of_minute(None)
    }

    /// One point of [`Self::stage_p95_over_time`]: its value at `at_s`
    /// (the `@` modifier, on by default from Prometheus 2.33), which a range query would
    /// answer for that step.
    pub fn stage_p95_at(&self, at_s: f64) -> String {
        self.stage_p95_of_minute(Some(at_s))
    }

    fn stage_p95_of_minute(&self, at_s: Option<f64>) -> String {
        let at = at_s.map(|t| format!(" @ {t:.3}")).unwrap_or_default();
        let buckets = if self.recorded {
            format!(
                "{}{at}",
                self.selector(&Recorded::BucketRate.name(Window::M1))
            )
        } else {
            format!(
                "rate({}[1m]{at})",
                self.selector(&format!("{STAGE_DURATIONS}_bucket"))
            )
        };
        format!("histogram_quantile(0.95, sum by (stage, le) ({buckets}))")
    }

    /// What the recorded series of these queries hold, for a hover: `name =
    /// expr` per series read (none when the queries read the raw series).
    pub fn recorded_definitions(&self, window: Window) -> Vec<String> {
        if !self.recorded {
            return Vec::new();
        }
        let mut windows = vec![window];
        if window != Window::M1 {
            windows.push(Window::M1);
        }
        windows
            .into_iter()
            .flat_map(|w| Recorded::ALL.map(|r| format!("{} = {}", r.name(w), r.expr(w))))
            .collect()
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

/// The instances named by a reading (`by (instance)`) or by `up` (an
/// instance down has no figures but is named), in natural order (app-2
/// before app-10, as an operator counts them).
pub fn instances(reading: Option<&Reading<'_>>, up: Option<&QueryAnswer>) -> Vec<String> {
    let mut names: Vec<String> = reading
        .into_iter()
        .flat_map(|r| r.iter().map(|(_, answer)| *answer))
        .chain(up)
        .flat_map(QueryAnswer::samples)
        .filter_map(|s| s.labels.get("instance").cloned())
        .collect();
    names.sort_by(|a, b| alphanumeric_sort::compare_str(a, b));
    names.dedup();
    names
}

/// `up` per instance: (instance, answered its last scrape), in natural order.
pub fn up_by_instance(answer: &QueryAnswer) -> Vec<(String, bool)> {
    let mut up: Vec<(String, bool)> = answer
        .samples()
        .iter()
        .filter_map(|s| Some((s.labels.get("instance")?.clone(), s.value? >= 1.0)))
        .collect();
    up.sort_by(|a, b| alphanumeric_sort::compare_str(&a.0, &b.0).then(a.1.cmp(&b.1)));
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
    fn recorded_series_answer_the_whole_service_and_instances_stay_raw() {
        let q = Queries::new("sse-app").with_records(true);
        assert_eq!(
            q.stage(Statistic::P95, Window::M5, false),
            "histogram_quantile(0.95, sum by (stage, le) (job_stage:sse_stage_duration_seconds_bucket:rate5m{job=\"sse-app\"}))"
        );
        assert_eq!(
            q.stage(Statistic::Mean, Window::H1, false),
            "sum by (stage) (job_stage:sse_stage_duration_seconds_sum:rate1h{job=\"sse-app\"}) / sum by (stage) (job_stage:sse_stage_duration_seconds_count:rate1h{job=\"sse-app\"})"
        );
        assert_eq!(
            q.stage(Statistic::Count, Window::M15, false),
            "sum by (stage) (job_stage:sse_stage_duration_seconds_count:increase15m{job=\"sse-app\"})"
        );
        assert_eq!(
            q.stage(Statistic::P50, Window::M5, true),
            Queries::new("sse-app").stage(Statistic::P50, Window::M5, true)
        );
        assert_eq!(
            q.stage_p95_over_time(),
            "histogram_quantile(0.95, sum by (stage, le) (job_stage:sse_stage_duration_seconds_bucket:rate1m{job=\"sse-app\"}))"
        );
        assert_eq!(
            Queries::new("").stage_p95_over_time(),
            "histogram_quantile(0.95, sum by (stage, le) (rate(sse_stage_duration_seconds_bucket[1m])))"
        );
        // Every recorded series a query reads is one of the rules, and the
        // hover defines each.
        let rules = recording_rules();
        assert_eq!(rules.len(), 16);
        let defined = q.recorded_definitions(Window::M5);
        assert_eq!(defined.len(), 8);
        assert!(defined.contains(&"job_stage:sse_stage_duration_seconds_bucket:rate5m = sum by (job, stage, le) (rate(sse_stage_duration_seconds_bucket[5m]))".to_owned()));
        for query in q.reading(Window::M5).table {
            let read = query
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .filter(|w| w.starts_with("job_stage:"));
            for name in read {
                assert!(rules.iter().any(|r| r.record == name), "{name}");
            }
        }
        assert!(Queries::new("").recorded_definitions(Window::M5).is_empty());
        let names: Vec<String> = rules.iter().map(|r| r.record.clone()).collect();
        assert!(has_every_recording_rule(&names));
        assert!(!has_every_recording_rule(&names[1..]));
    }

    #[test]
    fn a_range_grows_by_one_step_and_drops_its_oldest() {
        let q = Queries::new("sse-app").with_records(true);
        assert_eq!(
            q.stage_p95_at(1_700_000_030.0),
            "histogram_quantile(0.95, sum by (stage, le) (job_stage:sse_stage_duration_seconds_bucket:rate1m{job=\"sse-app\"} @ 1700000030.000))"
        );
        assert_eq!(
            Queries::new("").stage_p95_at(60.0),
            "histogram_quantile(0.95, sum by (stage, le) (rate(sse_stage_duration_seconds_bucket[1m] @ 60.000)))"
        );
        let range = parse_query(
            r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"stage":"1"},"values":[[0,"0.1"],[30,"0.2"],[60,"0.3"]]},
            {"metric":{"stage":"2"},"values":[[0,"0.5"]]}]}}"#,
        )
        .expect("reads");
        let point = parse_query(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"stage":"1"},"value":[90,"0.4"]},
            {"metric":{"stage":"5"},"value":[90,"NaN"]}]}}"#,
        )
        .expect("reads");
        let grown = extend_range(&range, &point, 90.0, 30.0);
        let QueryData::Matrix(series) = &grown.data else {
            panic!("a matrix: {grown:?}");
        };
        // Stage 2 had only its dropped point; stage 5 starts (absent, never 0).
        assert_eq!(series.len(), 2);
        assert_eq!(series[0].labels.get("stage").map(String::as_str), Some("1"));
        assert_eq!(
            series[0].points,
            vec![(30.0, Some(0.2)), (60.0, Some(0.3)), (90.0, Some(0.4))]
        );
        assert_eq!(series[1].labels.get("stage").map(String::as_str), Some("5"));
        assert_eq!(series[1].points, vec![(90.0, None)]);
    }

    #[test]
    fn a_combined_answer_splits_into_each_parts_own() {
        let reading = Queries::new("").reading(Window::M5);
        let parts = reading.parts();
        assert_eq!(parts.len(), 10);
        let query = reading.combined();
        assert!(query.starts_with(
            "label_replace(histogram_quantile(0.5, sum by (stage, le) (rate(sse_stage_duration_seconds_bucket[5m]))), \"dashboard_part\", \"0\", \"\", \"\") or label_replace("
        ));
        assert!(query.ends_with("label_replace(up, \"dashboard_part\", \"9\", \"\", \"\")"));
        let answer = parse_query(
            r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"stage":"1","dashboard_part":"2"},"value":[1,"0.0025"]},
            {"metric":{"stage":"5","dashboard_part":"2"},"value":[1,"NaN"]},
            {"metric":{"dashboard_part":"6"},"value":[1,"4.5"]},
            {"metric":{"instance":"a:1","job":"sse","dashboard_part":"9"},"value":[1,"0"]},
            {"metric":{"dashboard_part":"42"},"value":[1,"1"]},
            {"metric":{"stage":"1"},"value":[1,"1"]}]}}"#,
        )
        .expect("reads");
        let split = split_parts(&answer, parts.len());
        assert_eq!(split.len(), 10);
        assert_eq!(split[2].samples().len(), 2);
        assert_eq!(
            split[2].samples()[0]
                .labels
                .get("stage")
                .map(String::as_str),
            Some("1")
        );
        assert!(split[2]
            .samples()
            .iter()
            .all(|s| !s.labels.contains_key(PART_LABEL)));
        assert_eq!(split[6].single(), Some(4.5));
        assert_eq!(up_by_instance(&split[9]), vec![("a:1".into(), false)]);
        // Parts without a series answer nothing; unknown parts are dropped.
        assert!(split[0].samples().is_empty());
        assert_eq!(split.iter().map(|a| a.samples().len()).sum::<usize>(), 4);
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
        assert_eq!(instances(Some(&reading), None), ["a:1", "b:2"]);
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

    #[test]
    fn instances_come_in_the_order_an_operator_counts_them() {
        let answer = vector(&[
            ("1", Some("app-10"), "1"),
            ("1", Some("app-2"), "1"),
            ("1", Some("app-1"), "1"),
        ]);
        let reading: Reading<'_> = std::array::from_fn(|_| ("q", &answer));
        assert_eq!(
            instances(Some(&reading), None),
            ["app-1", "app-2", "app-10"]
        );
        // An instance down has no figures; `up` names it, in its place.
        let down = vector(&[("1", Some("app-3"), "0"), ("1", Some("app-1"), "1")]);
        assert_eq!(
            instances(Some(&reading), Some(&down)),
            ["app-1", "app-2", "app-3", "app-10"]
        );
        assert_eq!(instances(None, Some(&down)), ["app-1", "app-3"]);
        let up = up_by_instance(&answer);
        let names: Vec<&str> = up.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["app-1", "app-2", "app-10"]);
    }
}
