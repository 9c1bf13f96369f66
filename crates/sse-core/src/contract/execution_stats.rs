//! `GET /admin/execution-stats`: per-stage timings of the service's pipeline.
//!
//! Two shapes exist: the current `{"stages":{"1":S,...}}` and an older flat
//! `{"1":S,...}`. Both are accepted. `p90_duration_ms` is optional (the current
//! service does not send it) and stays `None` when absent, never 0 or NaN.
//! Unknown fields and unknown stage ids are ignored. A stage that ran zero times
//! has no durations (the service sends 0.0 for them, which is not a measurement).

use std::collections::BTreeMap;

/// The pipeline's stages, in order: id and name.
pub const STAGES: [(&str, &str); 8] = [
    ("1", "Validation"),
    ("2", "Cache lookup"),
    ("2.1", "L1 cache (in-memory)"),
    ("2.2", "L2 cache (Redis)"),
    ("3", "Rate limiting"),
    ("4", "Provider selection"),
    ("5", "LLM streaming"),
    ("6", "Cleanup & caching"),
];

/// The name of a known stage id.
pub fn stage_name(id: &str) -> Option<&'static str> {
    STAGES
        .iter()
        .find(|(known, _)| *known == id)
        .map(|(_, name)| *name)
}

/// Stage ids only the service's histograms (`sse_stage_duration_seconds`)
/// have, and their names (its `substage` label).
pub const HISTOGRAM_STAGES: [(&str, &str); 3] = [
    ("2.1-2.2", "Cache lookup"),
    ("2.3", "Cache set"),
    ("5.1", "Model validation"),
];

/// The name of a stage id of either source, for labels: the execution
/// stats' ids, then the histograms' own.
pub fn any_stage_name(id: &str) -> Option<&'static str> {
    stage_name(id).or_else(|| {
        HISTOGRAM_STAGES
            .iter()
            .find(|(known, _)| *known == id)
            .map(|(_, name)| *name)
    })
}

/// Numeric order of dotted stage ids: "2" < "2.1" < "2.1-2.2" < "2.2" <
/// "2.3" < "3" < "10" (a range sorts at its first id).
pub fn stage_order(id: &str) -> Vec<u32> {
    let first = id.split('-').next().unwrap_or(id);
    let mut order: Vec<u32> = first
        .split('.')
        .map(|part| part.parse().unwrap_or(u32::MAX))
        .collect();
    if first.len() < id.len() {
        order.push(0);
    }
    order
}

/// Durations of a stage that ran at least once, in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDurations {
    pub avg_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    /// `None` when the service does not report p90.
    pub p90_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub min_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

/// One stage's statistics.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStats {
    pub id: String,
    pub name: &'static str,
    pub execution_count: u64,
    /// `None` when the stage has not run.
    pub durations: Option<StageDurations>,
}

/// Stage statistics as one poll returned them, in pipeline order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExecutionStats {
    pub stages: Vec<StageStats>,
    /// Whether any stage carried a p90 field (the service reports p90 at all).
    pub reports_p90: bool,
    /// What the answer held that is no measurement and was left out, one
    /// sentence each (a negative count, min above max, a number beyond f64).
    pub ignored: Vec<String>,
}

/// Stands in for a number literal too large for an f64 (`1e309`), which would
/// otherwise make the whole answer unreadable.
const OUT_OF_RANGE_MARK: &str = "<number out of range>";

/// `text` with every number literal outside strings that overflows an f64
/// replaced by [`OUT_OF_RANGE_MARK`] as a JSON string, and how many there were.
fn mark_out_of_range_numbers(text: &str) -> (String, usize) {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied, mut marked) = (0, 0, 0);
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => {
                in_string = true;
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < bytes.len()
                    && matches!(bytes[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                let literal = &text[start..i];
                // serde_json's own number reader (already in the bundle) says
                // whether it overflows; a literal it cannot read stays as it is.
                let overflows = serde_json::from_str::<f64>(literal)
                    .err()
                    .is_some_and(|e| e.to_string().contains("out of range"));
                if overflows {
                    out.push_str(&text[copied..start]);
                    out.push('"');
                    out.push_str(OUT_OF_RANGE_MARK);
                    out.push('"');
                    copied = i;
                    marked += 1;
                }
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    (out, marked)
}

/// One field of a stage: a number, absent, or a note saying why it was left out.
fn number_field(
    stage: &serde_json::Map<String, serde_json::Value>,
    id: &str,
    field: &str,
    ignored: &mut Vec<String>,
) -> Option<f64> {
    match stage.get(field)? {
        serde_json::Value::Null => None,
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) if s == OUT_OF_RANGE_MARK => {
            ignored.push(format!(
                "stage {id}: {field} is beyond the range of numbers; left out"
            ));
            None
        }
        other => {
            let kind = match other {
                serde_json::Value::Bool(_) => "true or false",
                serde_json::Value::String(_) => "text",
                serde_json::Value::Array(_) => "a list",
                _ => "an object",
            };
            ignored.push(format!(
                "stage {id}: {field} is {kind}, not a number; left out"
            ));
            None
        }
    }
}

/// A duration field: finite and non-negative, or left out with a note.
fn duration_field(
    stage: &serde_json::Map<String, serde_json::Value>,
    id: &str,
    field: &str,
    ignored: &mut Vec<String>,
) -> Option<f64> {
    let value = number_field(stage, id, field, ignored)?;
    if value.is_finite() && value >= 0.0 {
        Some(value)
    } else {
        ignored.push(format!("stage {id}: {field} {value} is negative; left out"));
        None
    }
}

/// A stage's execution count; `Err` (with a note) when it is no count, which
/// makes the whole stage unreadable.
fn execution_count(
    stage: &serde_json::Map<String, serde_json::Value>,
    id: &str,
    ignored: &mut Vec<String>,
) -> Result<u64, ()> {
    let Some(value) = number_field(stage, id, "execution_count", ignored) else {
        return Ok(0);
    };
    if value >= 0.0 && value.fract() == 0.0 && value <= crate::format::LARGEST_EXACT {
        Ok(value as u64)
    } else {
        ignored.push(format!(
            "stage {id}: execution_count {value} is not a count (negative, fractional or too large); stage left out"
        ));
        Err(())
    }
}

/// Why a stats answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsDecodeError(pub String);

impl std::fmt::Display for StatsDecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unreadable execution statistics: {}", self.0)
    }
}

impl std::error::Error for StatsDecodeError {}

impl ExecutionStats {
    pub fn parse(body: &str) -> Result<Self, StatsDecodeError> {
        let mut ignored = Vec::new();
        let value: serde_json::Value = match serde_json::from_str(body) {
            Ok(value) => value,
            // One absurd number (`1e309`) must not cost the rest of the answer.
            Err(error) if error.to_string().contains("number out of range") => {
                // Each marked number is named by the field that held it (below).
                let (marked, _) = mark_out_of_range_numbers(body);
                serde_json::from_str(&marked).map_err(|e| StatsDecodeError(e.to_string()))?
            }
            Err(error) => return Err(StatsDecodeError(error.to_string())),
        };
        let object = value
            .as_object()
            .ok_or_else(|| StatsDecodeError("the answer is not a JSON object".into()))?;
        // Current shape wraps the stages; the older one has them at the top level.
        let stages = match object.get("stages") {
            Some(serde_json::Value::Object(stages)) => stages,
            Some(_) => return Err(StatsDecodeError("\"stages\" is not an object".into())),
            None => object,
        };
        let mut found = BTreeMap::new();
        let mut reports_p90 = false;
        for (id, raw) in stages {
            let Some(name) = stage_name(id) else { continue };
            // A stage entry of the wrong shape is skipped like an unknown one.
            let serde_json::Value::Object(raw) = raw else {
                continue;
            };
            let notes = &mut ignored;
            reports_p90 |= raw.contains_key("p90_duration_ms");
            let Ok(execution_count) = execution_count(raw, id, notes) else {
                continue;
            };
            let durations = (execution_count > 0).then(|| {
                let mut field = |name: &str| duration_field(raw, id, name, notes);
                let mut durations = StageDurations {
                    avg_ms: field("avg_duration_ms"),
                    p50_ms: field("p50_duration_ms"),
                    p90_ms: field("p90_duration_ms"),
                    p95_ms: field("p95_duration_ms"),
                    p99_ms: field("p99_duration_ms"),
                    min_ms: field("min_duration_ms"),
                    max_ms: field("max_duration_ms"),
                };
                if let (Some(min), Some(max)) = (durations.min_ms, durations.max_ms) {
                    if min > max {
                        notes.push(format!(
                            "stage {id}: min ({min} ms) is above max ({max} ms); both left out"
                        ));
                        durations.min_ms = None;
                        durations.max_ms = None;
                    }
                }
                durations
            });
            found.insert(
                stage_order(id),
                StageStats {
                    id: id.clone(),
                    name,
                    execution_count,
                    durations,
                },
            );
        }
        Ok(Self {
            stages: found.into_values().collect(),
            reports_p90,
            ignored,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage(json: &str) -> String {
        format!(
            r#"{{"stages":{{"1":{{"execution_count":2,"avg_duration_ms":1.5,"min_duration_ms":1.0,"max_duration_ms":2.0}},"3":{json}}}}}"#
        )
    }

    #[test]
    fn a_number_beyond_f64_costs_only_its_own_field() {
        let stats = ExecutionStats::parse(&stage(
            r#"{"execution_count":1,"p95_duration_ms":1e309,"p50_duration_ms":-1e400,"avg_duration_ms":4.0}"#,
        ))
        .expect("the rest of the answer is read");
        assert_eq!(stats.stages.len(), 2);
        let d = stats.stages[1].durations.as_ref().expect("durations");
        assert_eq!((d.p95_ms, d.p50_ms, d.avg_ms), (None, None, Some(4.0)));
        assert_eq!(stats.ignored.len(), 2, "{:?}", stats.ignored);
        assert!(stats.ignored[0].contains("stage 3"), "{:?}", stats.ignored);
        // A 1e309 inside a string is text, not a number.
        let (marked, n) = mark_out_of_range_numbers(r#"{"a":"1e309","b":[1e999,2]}"#);
        assert_eq!(n, 1);
        assert_eq!(
            marked,
            format!(r#"{{"a":"1e309","b":["{OUT_OF_RANGE_MARK}",2]}}"#)
        );
    }

    #[test]
    fn negative_counts_and_min_above_max_are_named_not_dropped_silently() {
        let stats =
            ExecutionStats::parse(&stage(r#"{"execution_count":-5,"avg_duration_ms":1.0}"#))
                .expect("reads");
        assert_eq!(stats.stages.len(), 1, "stage 3 is left out");
        assert!(
            stats.ignored[0].contains("stage 3: execution_count -5"),
            "{:?}",
            stats.ignored
        );

        let stats = ExecutionStats::parse(&stage(
            r#"{"execution_count":3,"min_duration_ms":9.0,"max_duration_ms":2.0,"p50_duration_ms":-2.0,"avg_duration_ms":"slow"}"#,
        ))
        .expect("reads");
        let d = stats.stages[1].durations.as_ref().expect("durations");
        assert_eq!(
            (d.min_ms, d.max_ms, d.p50_ms, d.avg_ms),
            (None, None, None, None)
        );
        assert_eq!(stats.ignored.len(), 3, "{:?}", stats.ignored);
        assert!(stats
            .ignored
            .iter()
            .any(|n| n.contains("min (9 ms) is above max (2 ms)")));
        assert!(stats
            .ignored
            .iter()
            .any(|n| n.contains("avg_duration_ms is text")));
    }

    #[test]
    fn huge_but_finite_durations_are_kept_for_the_view_to_call_out_of_range() {
        let stats =
            ExecutionStats::parse(&stage(r#"{"execution_count":1,"max_duration_ms":1e300}"#))
                .expect("reads");
        let d = stats.stages[1].durations.as_ref().expect("durations");
        assert_eq!(d.max_ms, Some(1e300));
        assert!(stats.ignored.is_empty());
        assert_eq!(
            crate::format::duration_ms(d.max_ms),
            "1.00e300 ms (out of range)"
        );
    }

    #[test]
    fn every_stage_id_of_either_source_has_a_name() {
        for id in ["1", "2.1", "2.1-2.2", "2.3", "5", "5.1", "6"] {
            assert!(any_stage_name(id).is_some(), "{id}");
        }
        assert_eq!(any_stage_name("2.3"), Some("Cache set"));
        assert_eq!(any_stage_name("9"), None);
        // The execution stats keep reading only their own ids.
        assert_eq!(stage_name("2.3"), None);
    }

    #[test]
    fn stage_ids_sort_by_number_and_a_range_at_its_first_id() {
        let mut ids = ["10", "2.3", "3", "2.2", "2.1-2.2", "2.1", "2", "x"];
        ids.sort_by_key(|id| stage_order(id));
        assert_eq!(ids, ["2", "2.1", "2.1-2.2", "2.2", "2.3", "3", "10", "x"]);
    }
}
