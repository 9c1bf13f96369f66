//! `GET /admin/metrics`: the original service's Prometheus families, with its
//! names and labels, in the text format 0.0.4. Histograms are cumulative since
//! the process started (a reset of the execution-stats does not touch them) and
//! have the same bounds on every instance, so that they merge exactly.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, Opts, Registry, TextEncoder,
};

use crate::pipeline::ServerOutcome;
use crate::pipeline::Stage;

/// Stage bounds in seconds: 10 µs to 60 s, fine enough for sub-millisecond
/// stages (validation, rate limiting take microseconds here) and the seconds
/// of a stream. The original's 1 ms first bound puts all of those in one bucket.
pub const STAGE_BUCKETS: [f64; 21] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];
/// Whole-request bounds in seconds: the original's 0.01 … 10 and up to 2 min.
pub const REQUEST_BUCKETS: [f64; 13] = [
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

/// Distinct `model` label values kept; later models count as "other", so that
/// clients sending made-up model names cannot grow the exposition without end.
pub const MAX_MODEL_LABELS: usize = 32;
/// Longer model names are cut to this many characters in the label.
const MODEL_LABEL_CHARS: usize = 64;

/// The original's `stage` and `substage` labels of a stage; `None` for the
/// per-tier lookups, which the original times as one series (`2.1-2.2`).
fn labels_of(stage: Stage) -> Option<[&'static str; 2]> {
    Some(match stage {
        Stage::Validation => ["1", "Request validation"],
        Stage::CacheLookup => ["2.1-2.2", "Cache lookup"],
        Stage::L1Cache | Stage::L2Cache => return None,
        Stage::RateLimiting => ["3", "Rate limit verification"],
        Stage::ProviderSelection => ["4", "Provider selection"],
        Stage::LlmStreaming => ["5", "LLM streaming"],
        Stage::CleanupAndCaching => ["6", "Cleanup and caching"],
    })
}

/// The `status` label of a request's outcome.
fn status_of(outcome: ServerOutcome) -> &'static str {
    match outcome {
        ServerOutcome::Completed | ServerOutcome::CacheHit => "success",
        ServerOutcome::ProviderError => "error",
        ServerOutcome::QueueTimeout => "queue_timeout",
        ServerOutcome::ClientDisconnected => "client_disconnected",
        ServerOutcome::ShutDown => "shutdown",
        ServerOutcome::Rejected400 => "rejected_400",
        ServerOutcome::Rejected415 => "rejected_415",
        ServerOutcome::Rejected422 => "rejected_422",
        ServerOutcome::Rejected429 => "rate_limited",
        ServerOutcome::Rejected503 => "unavailable",
    }
}

/// A cache tier's `tier` label.
#[derive(Debug, Clone, Copy)]
pub enum CacheTier {
    L1,
    L2,
}

impl CacheTier {
    fn label(self) -> &'static str {
        match self {
            Self::L1 => "l1",
            Self::L2 => "l2",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Exposition {
    registry: Registry,
    stage_durations: HistogramVec,
    request_durations: HistogramVec,
    requests: IntCounterVec,
    cache_hits: IntCounterVec,
    cache_misses: IntCounterVec,
    chunks: IntCounterVec,
    active_connections: IntGauge,
    queue_depth: IntGauge,
    models: Arc<Mutex<BTreeSet<String>>>,
}

impl Default for Exposition {
    fn default() -> Self {
        Self::new()
    }
}

impl Exposition {
    pub fn new() -> Self {
        // The names and labels are constants: these cannot fail.
        let histogram = |name: &str, help: &str, buckets: &[f64], labels: &[&str]| {
            HistogramVec::new(
                HistogramOpts::new(name, help).buckets(buckets.to_vec()),
                labels,
            )
            .expect("a valid histogram")
        };
        let counter = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter")
        };
        let gauge = |name: &str, help: &str| IntGauge::new(name, help).expect("a valid gauge");
        let out = Self {
            registry: Registry::new(),
            stage_durations: histogram(
                "sse_stage_duration_seconds",
                "Stage execution duration in seconds",
                &STAGE_BUCKETS,
                &["stage", "substage"],
            ),
            request_durations: histogram(
                "sse_request_duration_seconds",
                "Request duration in seconds",
                &REQUEST_BUCKETS,
                &["stage"],
            ),
            requests: counter(
                "sse_requests_total",
                "Total number of SSE stream requests",
                &["model", "provider", "status"],
            ),
            cache_hits: counter("sse_cache_hits_total", "Cache hits by tier", &["tier"]),
            cache_misses: counter("sse_cache_misses_total", "Cache misses by tier", &["tier"]),
            chunks: counter(
                "sse_chunks_streamed_total",
                "Chunk events streamed",
                &["provider"],
            ),
            active_connections: gauge("sse_active_connections", "Streams being served now"),
            queue_depth: gauge("sse_queue_depth", "Requests waiting in the failover queue"),
            models: Arc::default(),
        };
        for collector in [
            Box::new(out.stage_durations.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(out.request_durations.clone()),
            Box::new(out.requests.clone()),
            Box::new(out.cache_hits.clone()),
            Box::new(out.cache_misses.clone()),
            Box::new(out.chunks.clone()),
            Box::new(out.active_connections.clone()),
            Box::new(out.queue_depth.clone()),
        ] {
            out.registry
                .register(collector)
                .expect("each family is registered once");
        }
        out
    }

    pub fn stage(&self, stage: Stage, took: Duration) {
        if let Some(labels) = labels_of(stage) {
            self.stage_durations
                .with_label_values(&labels)
                .observe(took.as_secs_f64());
        }
    }

    /// Stage 2.3 of the original, the cache write (inside cleanup here; the
    /// execution-stats have no such stage).
    pub fn cache_set(&self, took: Duration) {
        self.stage_durations
            .with_label_values(&["2.3", "Cache set"])
            .observe(took.as_secs_f64());
    }

    /// A request's end: counted by status, its duration observed when it streamed.
    pub fn request_ended(
        &self,
        model: &str,
        provider: &str,
        outcome: ServerOutcome,
        took: Option<Duration>,
    ) {
        let model = self.model_label(model);
        self.requests
            .with_label_values(&[model.as_str(), provider, status_of(outcome)])
            .inc();
        if let Some(took) = took {
            self.request_durations
                .with_label_values(&["overall"])
                .observe(took.as_secs_f64());
        }
    }

    /// `model` as a label value: one of the first [`MAX_MODEL_LABELS`] seen, or "other".
    fn model_label(&self, model: &str) -> String {
        let model: String = model.chars().take(MODEL_LABEL_CHARS).collect();
        let Ok(mut models) = self.models.lock() else {
            return "other".to_owned();
        };
        if models.contains(&model) || models.len() < MAX_MODEL_LABELS {
            models.insert(model.clone());
            model
        } else {
            "other".to_owned()
        }
    }

    pub fn cache_lookup(&self, tier: CacheTier, hit: bool) {
        let family = if hit {
            &self.cache_hits
        } else {
            &self.cache_misses
        };
        family.with_label_values(&[tier.label()]).inc();
    }

    pub fn chunks_streamed(&self, provider: &str, chunks: u64) {
        self.chunks.with_label_values(&[provider]).inc_by(chunks);
    }

    /// The exposition text, with the gauges read now.
    pub fn render(&self, active_connections: u64, queue_depth: usize) -> String {
        self.active_connections
            .set(i64::try_from(active_connections).unwrap_or(i64::MAX));
        self.queue_depth
            .set(i64::try_from(queue_depth).unwrap_or(i64::MAX));
        let mut out = Vec::new();
        // Encoding into memory fails only on a broken metric, which these are not.
        if TextEncoder::new()
            .encode(&self.registry.gather(), &mut out)
            .is_err()
        {
            return String::new();
        }
        String::from_utf8(out).unwrap_or_default()
    }
}
