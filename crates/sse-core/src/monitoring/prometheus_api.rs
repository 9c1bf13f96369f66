//! The answers of a Prometheus server's HTTP API (`/api/v1/query`,
//! `/api/v1/query_range`, `/api/v1/alerts`), read carefully: an error JSON,
//! an HTML page or another server's JSON at that address, `NaN` and `±Inf`
//! values, and huge answers all become a value or a sentence, never a panic.

use std::collections::BTreeMap;

/// Series read from one answer at most; the rest are named, not read.
pub const MAX_SERIES: usize = 2_000;
/// Points read per series of a range answer at most.
pub const MAX_POINTS: usize = 2_000;

pub type Labels = BTreeMap<String, String>;

/// One series' value at the query's time; `None` where Prometheus said `NaN`
/// (no observation in the window: an absent value, never 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub labels: Labels,
    /// Seconds since the epoch.
    pub at_s: f64,
    pub value: Option<f64>,
}

/// One series over a range.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub labels: Labels,
    /// (seconds since the epoch, value).
    pub points: Vec<(f64, Option<f64>)>,
}

/// What a query answered.
#[derive(Debug, Clone, PartialEq)]
pub enum QueryData {
    Vector(Vec<Sample>),
    Matrix(Vec<Series>),
    Scalar(Option<f64>),
}

/// A query's answer, and what was left out of it.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryAnswer {
    pub data: QueryData,
    /// "1,200 series beyond the first 2,000 left out", Prometheus' warnings.
    pub notes: Vec<String>,
}

impl QueryAnswer {
    /// The samples of an instant vector (none for a matrix or a scalar).
    pub fn samples(&self) -> &[Sample] {
        match &self.data {
            QueryData::Vector(samples) => samples,
            _ => &[],
        }
    }

    /// The one value of a scalar, or of a vector with a single series.
    pub fn single(&self) -> Option<f64> {
        match &self.data {
            QueryData::Scalar(value) => *value,
            QueryData::Vector(samples) if samples.len() == 1 => samples[0].value,
            _ => None,
        }
    }
}

/// Why an answer gives no figures.
#[derive(Debug, Clone, PartialEq)]
pub enum PromError {
    /// Prometheus refused the query (its error JSON).
    Refused { kind: String, message: String },
    /// Not the Prometheus API's answer (an HTML page, another server).
    NotPrometheus(String),
}

impl std::fmt::Display for PromError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Refused { kind, message } => {
                write!(f, "Prometheus refused the query ({kind}): {message}")
            }
            Self::NotPrometheus(detail) => write!(
                f,
                "The answer is not a Prometheus server's (is the Prometheus URL right?): {detail}"
            ),
        }
    }
}

impl std::error::Error for PromError {}

/// The first characters of `text`, for a message about it.
fn start_of(text: &str) -> String {
    let start: String = text.trim_start().chars().take(60).collect();
    if start.is_empty() {
        "it is empty".to_owned()
    } else {
        format!("it starts with \"{}\"", start.replace(['\n', '\r'], " "))
    }
}

/// The API's envelope: `data` when `status` is `success`; the refusal
/// otherwise; `NotPrometheus` for anything else.
fn envelope(text: &str) -> Result<(serde_json::Value, Vec<String>), PromError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| PromError::NotPrometheus(format!("not JSON: {}", start_of(text))))?;
    let status = value.get("status").and_then(|s| s.as_str());
    let warnings = value
        .get("warnings")
        .and_then(|w| w.as_array())
        .map(|w| {
            w.iter()
                .filter_map(|x| x.as_str())
                .map(|x| format!("Prometheus warns: {x}"))
                .collect()
        })
        .unwrap_or_default();
    match status {
        Some("success") => match value.get("data") {
            Some(data) => Ok((data.clone(), warnings)),
            None => Err(PromError::NotPrometheus("a success without data".into())),
        },
        Some("error") => Err(PromError::Refused {
            kind: value
                .get("errorType")
                .and_then(|e| e.as_str())
                .unwrap_or("error")
                .to_owned(),
            message: value
                .get("error")
                .and_then(|e| e.as_str())
                .unwrap_or("no message")
                .to_owned(),
        }),
        _ => Err(PromError::NotPrometheus(format!(
            "JSON without a Prometheus \"status\": {}",
            start_of(text)
        ))),
    }
}

/// A value as Prometheus writes it: a string ("1.5", "NaN", "+Inf").
fn number(value: &serde_json::Value) -> Option<f64> {
    let text = value.as_str()?;
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => text.parse::<f64>().ok().filter(|v| !v.is_nan()),
    }
}

/// `[<seconds>, "<value>"]`.
fn point(pair: &serde_json::Value) -> Option<(f64, Option<f64>)> {
    let pair = pair.as_array()?;
    let at = pair.first()?.as_f64()?;
    Some((at, pair.get(1).and_then(number)))
}

fn labels(metric: Option<&serde_json::Value>) -> Labels {
    metric
        .and_then(|m| m.as_object())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads the answer of `/api/v1/query` or `/api/v1/query_range`.
pub fn parse_query(text: &str) -> Result<QueryAnswer, PromError> {
    let (data, mut notes) = envelope(text)?;
    let kind = data
        .get("resultType")
        .and_then(|t| t.as_str())
        .unwrap_or("");
    let result = data.get("result");
    let series: &[serde_json::Value] = result
        .and_then(|r| r.as_array())
        .map(Vec::as_slice)
        .unwrap_or_default();
    if series.len() > MAX_SERIES {
        notes.push(format!(
            "{} series beyond the first {MAX_SERIES} left out",
            series.len() - MAX_SERIES
        ));
    }
    let series = &series[..series.len().min(MAX_SERIES)];
    let data = match kind {
        "vector" => QueryData::Vector(
            series
                .iter()
                .filter_map(|s| {
                    let (at_s, value) = point(s.get("value")?)?;
                    Some(Sample {
                        labels: labels(s.get("metric")),
                        at_s,
                        value,
                    })
                })
                .collect(),
        ),
        "matrix" => QueryData::Matrix(
            series
                .iter()
                .map(|s| {
                    let values: &[serde_json::Value] = s
                        .get("values")
                        .and_then(|v| v.as_array())
                        .map(Vec::as_slice)
                        .unwrap_or_default();
                    Series {
                        labels: labels(s.get("metric")),
                        points: values.iter().take(MAX_POINTS).filter_map(point).collect(),
                    }
                })
                .collect(),
        ),
        "scalar" => QueryData::Scalar(result.and_then(point).and_then(|(_, v)| v)),
        other => {
            return Err(PromError::NotPrometheus(format!(
                "a result of type \"{other}\", not a vector, matrix or scalar"
            )))
        }
    };
    Ok(QueryAnswer { data, notes })
}

/// firing | pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AlertState {
    Firing,
    Pending,
}

impl AlertState {
    pub fn id(self) -> &'static str {
        match self {
            Self::Firing => "firing",
            Self::Pending => "pending",
        }
    }
}

/// An alert of the server's rules, firing or pending.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub name: String,
    pub state: AlertState,
    pub severity: Option<String>,
    pub instance: Option<String>,
    pub summary: Option<String>,
    /// When it became active, as Prometheus writes it (RFC 3339).
    pub active_at: Option<String>,
}

impl Alert {
    /// A firing alert whose severity is critical: the service is degraded.
    pub fn is_critical_firing(&self) -> bool {
        self.state == AlertState::Firing
            && self
                .severity
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("critical"))
    }
}

/// Why the service counts as degraded by its Prometheus server's alerts:
/// "Prometheus fires a critical alert: InstanceDown (app-2): Instance app-2 is
/// down"; `None` while no critical alert fires.
pub fn critical_reason(alerts: &[Alert]) -> Option<String> {
    let firing: Vec<String> = alerts
        .iter()
        .filter(|a| a.is_critical_firing())
        .map(|a| {
            let instance = a
                .instance
                .as_ref()
                .map(|i| format!(" ({i})"))
                .unwrap_or_default();
            let summary = a
                .summary
                .as_ref()
                .map(|s| format!(": {s}"))
                .unwrap_or_default();
            format!("{}{instance}{summary}", a.name)
        })
        .collect();
    match firing.len() {
        0 => None,
        1 => Some(format!("Prometheus fires a critical alert: {}", firing[0])),
        n => Some(format!(
            "Prometheus fires {n} critical alerts: {}",
            firing.join("; ")
        )),
    }
}

/// Reads the answer of `/api/v1/alerts`: the firing and pending alerts,
/// firing first.
pub fn parse_alerts(text: &str) -> Result<Vec<Alert>, PromError> {
    let (data, _) = envelope(text)?;
    let list = data
        .get("alerts")
        .and_then(|a| a.as_array())
        .ok_or_else(|| PromError::NotPrometheus("an answer without \"alerts\"".into()))?;
    let mut alerts: Vec<Alert> = list
        .iter()
        .take(MAX_SERIES)
        .filter_map(|a| {
            let (annotations, labels) = (labels(a.get("annotations")), labels(a.get("labels")));
            let state = match a.get("state").and_then(|s| s.as_str()) {
                Some("firing") => AlertState::Firing,
                Some("pending") => AlertState::Pending,
                _ => return None,
            };
            Some(Alert {
                name: labels.get("alertname")?.clone(),
                state,
                severity: labels.get("severity").cloned(),
                instance: labels.get("instance").cloned(),
                summary: annotations
                    .get("summary")
                    .or_else(|| annotations.get("description"))
                    .cloned(),
                active_at: a
                    .get("activeAt")
                    .and_then(|t| t.as_str())
                    .map(str::to_owned),
            })
        })
        .collect();
    alerts.sort_by_key(|a| (a.state != AlertState::Firing, a.name.clone()));
    Ok(alerts)
}

/// Reads the answer of `/api/v1/rules?type=record`: the names of the
/// recording rules the server evaluates.
pub fn parse_rule_names(text: &str) -> Result<Vec<String>, PromError> {
    let (data, _) = envelope(text)?;
    let groups = data
        .get("groups")
        .and_then(|g| g.as_array())
        .ok_or_else(|| PromError::NotPrometheus("an answer without rule \"groups\"".into()))?;
    Ok(groups
        .iter()
        .filter_map(|g| g.get("rules")?.as_array())
        .flatten()
        .filter(|r| r.get("type").and_then(|t| t.as_str()) != Some("alerting"))
        .filter_map(|r| r.get("name")?.as_str().map(str::to_owned))
        .take(MAX_SERIES)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_vector_reads_with_nan_as_absent_and_infinity_kept() {
        let text = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"stage":"1"},"value":[1700000000.5,"0.0025"]},
            {"metric":{"stage":"5"},"value":[1700000000.5,"NaN"]},
            {"metric":{"stage":"6"},"value":[1700000000.5,"+Inf"]}]}}"#;
        let answer = parse_query(text).expect("reads");
        let samples = answer.samples();
        assert_eq!(samples.len(), 3);
        assert_eq!(samples[0].labels["stage"], "1");
        assert_eq!(samples[0].value, Some(0.0025));
        assert_eq!(samples[1].value, None, "NaN is no value");
        assert_eq!(samples[2].value, Some(f64::INFINITY));
        assert_eq!(samples[0].at_s, 1_700_000_000.5);
    }

    #[test]
    fn a_matrix_and_a_scalar_read() {
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"stage":"1"},"values":[[1,"1"],[2,"NaN"],[3,"2"]]}]}}"#;
        let QueryData::Matrix(series) = parse_query(matrix).expect("reads").data else {
            panic!("a matrix");
        };
        assert_eq!(
            series[0].points,
            vec![(1.0, Some(1.0)), (2.0, None), (3.0, Some(2.0))]
        );
        let scalar = r#"{"status":"success","data":{"resultType":"scalar","result":[1,"42"]}}"#;
        assert_eq!(parse_query(scalar).expect("reads").single(), Some(42.0));
    }

    #[test]
    fn errors_and_foreign_answers_are_named() {
        let refused =
            r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#;
        assert_eq!(
            parse_query(refused).map(|_| ()),
            Err(PromError::Refused {
                kind: "bad_data".into(),
                message: "parse error at char 5".into()
            })
        );
        let html = "<!doctype html><html><title>Login</title>";
        assert!(parse_query(html).is_err_and(|e| e
            .to_string()
            .contains("not JSON: it starts with \"<!doctype html>")));
        assert!(
            parse_query(r#"{"users":[]}"#).is_err_and(|e| matches!(e, PromError::NotPrometheus(_)))
        );
        assert!(parse_query("").is_err_and(|e| e.to_string().contains("it is empty")));
        let string = r#"{"status":"success","data":{"resultType":"string","result":[1,"x"]}}"#;
        assert!(parse_query(string).is_err());
    }

    #[test]
    fn a_huge_answer_is_cut_and_says_so() {
        let series: Vec<String> = (0..MAX_SERIES + 5)
            .map(|i| format!(r#"{{"metric":{{"i":"{i}"}},"value":[1,"1"]}}"#))
            .collect();
        let text = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
            series.join(",")
        );
        let answer = parse_query(&text).expect("reads");
        assert_eq!(answer.samples().len(), MAX_SERIES);
        assert_eq!(
            answer.notes,
            vec![format!("5 series beyond the first {MAX_SERIES} left out")]
        );
    }

    #[test]
    fn recording_rule_names_read_and_alerting_rules_are_not_among_them() {
        // The shape Prometheus 2.42 answers (fields cut).
        let text = r#"{"status":"success","data":{"groups":[
            {"name":"application_health","file":"rules.yml","rules":[],"interval":5},
            {"name":"sse_dashboard_records","file":"rules.yml","interval":5,"rules":[
              {"name":"job_stage:sse_stage_duration_seconds_bucket:rate1m","query":"sum by (job, stage, le) (rate(sse_stage_duration_seconds_bucket[1m]))","health":"ok","type":"recording"},
              {"name":"HighErrorRate","query":"x > 5","type":"alerting"},
              {"name":"job:up:sum","query":"sum by (job) (up)","type":"recording"}]}]}}"#;
        assert_eq!(
            parse_rule_names(text).expect("reads"),
            [
                "job_stage:sse_stage_duration_seconds_bucket:rate1m",
                "job:up:sum"
            ]
        );
        assert!(matches!(
            parse_rule_names(r#"{"status":"success","data":{"alerts":[]}}"#),
            Err(PromError::NotPrometheus(_))
        ));
        assert!(matches!(
            parse_rule_names("<html>404</html>"),
            Err(PromError::NotPrometheus(_))
        ));
    }

    #[test]
    fn alerts_read_firing_first_with_their_labels() {
        let text = r#"{"status":"success","data":{"alerts":[
            {"labels":{"alertname":"HighP95Latency","severity":"warning"},"annotations":{"summary":"p95 over 1 s"},"state":"pending","activeAt":"2026-12-04T10:00:00Z","value":"1.2"},
            {"labels":{"alertname":"InstanceDown","severity":"critical","instance":"127.0.0.1:8001"},"annotations":{"summary":"app-1 is down"},"state":"firing","activeAt":"2026-12-04T09:59:00Z","value":"0"},
            {"labels":{"severity":"critical"},"state":"firing"},
            {"labels":{"alertname":"Odd"},"state":"inactive"}]}}"#;
        let alerts = parse_alerts(text).expect("reads");
        assert_eq!(alerts.len(), 2, "no name or no known state: left out");
        assert_eq!(alerts[0].name, "InstanceDown");
        assert!(alerts[0].is_critical_firing());
        assert_eq!(alerts[0].instance.as_deref(), Some("127.0.0.1:8001"));
        assert_eq!(alerts[1].state, AlertState::Pending);
        assert_eq!(alerts[1].summary.as_deref(), Some("p95 over 1 s"));
        assert!(parse_alerts(r#"{"status":"success","data":{}}"#).is_err());
        assert_eq!(
            critical_reason(&alerts).as_deref(),
            Some("Prometheus fires a critical alert: InstanceDown (127.0.0.1:8001): app-1 is down")
        );
        assert_eq!(
            critical_reason(&alerts[1..]),
            None,
            "a pending warning is no reason"
        );
    }
}
