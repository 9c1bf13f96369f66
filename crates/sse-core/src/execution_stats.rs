//! `GET /admin/execution-stats`: per-stage timings of the service's pipeline.
//!
//! Two shapes exist: the current `{"stages":{"1":S,...}}` and an older flat
//! `{"1":S,...}`. Both are accepted. `p90_duration_ms` is optional (the current
//! service does not send it) and stays `None` when absent, never 0 or NaN.
//! Unknown fields and unknown stage ids are ignored. A stage that ran zero times
//! has no durations (the service sends 0.0 for them, which is not a measurement).

use std::collections::BTreeMap;

use serde::Deserialize;

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

/// Numeric order of dotted stage ids: "2" < "2.1" < "2.2" < "3" < "10".
pub fn stage_order(id: &str) -> Vec<u32> {
    id.split('.')
        .map(|part| part.parse().unwrap_or(u32::MAX))
        .collect()
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
}

#[derive(Debug, Deserialize)]
struct RawStage {
    #[serde(default)]
    avg_duration_ms: Option<f64>,
    #[serde(default)]
    p50_duration_ms: Option<f64>,
    #[serde(default)]
    p90_duration_ms: Option<f64>,
    #[serde(default)]
    p95_duration_ms: Option<f64>,
    #[serde(default)]
    p99_duration_ms: Option<f64>,
    #[serde(default)]
    min_duration_ms: Option<f64>,
    #[serde(default)]
    max_duration_ms: Option<f64>,
    #[serde(default)]
    execution_count: Option<u64>,
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

/// A finite, non-negative number or nothing.
fn measurement(value: Option<f64>) -> Option<f64> {
    value.filter(|v| v.is_finite() && *v >= 0.0)
}

impl ExecutionStats {
    pub fn parse(body: &str) -> Result<Self, StatsDecodeError> {
        let value: serde_json::Value =
            serde_json::from_str(body).map_err(|e| StatsDecodeError(e.to_string()))?;
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
            let Ok(raw) = serde_json::from_value::<RawStage>(raw.clone()) else {
                continue;
            };
            reports_p90 |= raw.p90_duration_ms.is_some();
            let execution_count = raw.execution_count.unwrap_or(0);
            let durations = (execution_count > 0).then(|| StageDurations {
                avg_ms: measurement(raw.avg_duration_ms),
                p50_ms: measurement(raw.p50_duration_ms),
                p90_ms: measurement(raw.p90_duration_ms),
                p95_ms: measurement(raw.p95_duration_ms),
                p99_ms: measurement(raw.p99_duration_ms),
                min_ms: measurement(raw.min_duration_ms),
                max_ms: measurement(raw.max_duration_ms),
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
        })
    }
}
