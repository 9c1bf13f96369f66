//! The pipeline's vocabulary that the service's accounts share (stage
//! timings, per-request records, the Prometheus families): its stages, how a
//! request ends, and the wall clock the records are stamped with.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use sse_core::contract::execution_stats::STAGES;

/// A pipeline stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Validation,
    CacheLookup,
    L1Cache,
    L2Cache,
    RateLimiting,
    ProviderSelection,
    LlmStreaming,
    CleanupAndCaching,
}

impl Stage {
    pub const ALL: [Stage; 8] = [
        Stage::Validation,
        Stage::CacheLookup,
        Stage::L1Cache,
        Stage::L2Cache,
        Stage::RateLimiting,
        Stage::ProviderSelection,
        Stage::LlmStreaming,
        Stage::CleanupAndCaching,
    ];

    /// The id the service reports ("1", "2.1", ...), as in sse-core's table.
    pub fn id(self) -> &'static str {
        STAGES[self as usize].0
    }
}

/// How a request ended, from the server's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ServerOutcome {
    Completed,
    CacheHit,
    ProviderError,
    QueueTimeout,
    ClientDisconnected,
    ShutDown,
    Rejected400,
    Rejected415,
    Rejected422,
    Rejected429,
    Rejected503,
}

/// Now on the wall clock, in ms since the Unix epoch.
pub fn now_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
