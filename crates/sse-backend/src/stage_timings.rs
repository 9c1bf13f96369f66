//! Cumulative per-stage timings of the pipeline. Unlike the existing service's,
//! they survive the request: every request adds to them until they are reset.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{json, Map, Value};
use sse_core::metrics::distribution::Distribution;

use crate::exposition::Exposition;
use crate::pipeline::Stage;
use crate::settings::StatsShape;

#[derive(Debug, Default)]
pub struct StageTimings {
    stages: Mutex<BTreeMap<Stage, Distribution>>,
    /// Every timing also goes to the Prometheus histograms, which a reset keeps.
    exposition: Exposition,
}

impl StageTimings {
    pub fn new(exposition: Exposition) -> Self {
        Self {
            stages: Mutex::default(),
            exposition,
        }
    }

    pub fn record(&self, stage: Stage, took: Duration) {
        self.exposition.stage(stage, took);
        if let Ok(mut stages) = self.stages.lock() {
            stages
                .entry(stage)
                .or_default()
                .record(took.as_secs_f64() * 1000.0);
        }
    }

    /// Times `work` as `stage`.
    pub fn time<T>(&self, stage: Stage, work: impl FnOnce() -> T) -> T {
        let start = std::time::Instant::now();
        let out = work();
        self.record(stage, start.elapsed());
        out
    }

    pub fn reset(&self) {
        if let Ok(mut stages) = self.stages.lock() {
            stages.clear();
        }
    }

    /// The `/admin/execution-stats` answer.
    pub fn to_json(&self, shape: StatsShape, with_p90: bool) -> Value {
        let stages = self.stages.lock().map(|s| s.clone()).unwrap_or_default();
        let mut out = Map::new();
        for stage in Stage::ALL {
            let d = stages.get(&stage).cloned().unwrap_or_default();
            let s = d.summary();
            // Stages that have not run report zeros, as the real service does.
            let ms = |v: Option<f64>| (v.unwrap_or(0.0) * 1e6).round() / 1e6;
            let mut entry = json!({
                "avg_duration_ms": ms(s.mean),
                "p50_duration_ms": ms(s.p50),
                "p95_duration_ms": ms(s.p95),
                "p99_duration_ms": ms(s.p99),
                "min_duration_ms": ms(s.min),
                "max_duration_ms": ms(s.max),
                "execution_count": s.count,
            });
            if with_p90 {
                entry["p90_duration_ms"] = json!(ms(s.p90));
            }
            if shape == StatsShape::Flat {
                entry["stage_id"] = json!(stage.id());
                entry["success_rate"] = json!(1.0);
            }
            out.insert(stage.id().to_owned(), entry);
        }
        match shape {
            StatsShape::Wrapped => json!({ "stages": out }),
            StatsShape::Flat => Value::Object(out),
        }
    }
}
