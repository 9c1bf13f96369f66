//! One request of a run as the reports carry it: what the page (or the
//! native runner) measured, and the service's side of it where its record is
//! known (joined in `crate::load::time_breakdown`).

use serde::Serialize;

use crate::load::recorder::RequestRecord;

/// One request as exported. Times in ms; `sent_ms` from the run's start.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestRow {
    pub index: u64,
    pub sent_ms: f64,
    pub outcome: &'static str,
    pub failure_kind: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
    pub ttft_ms: Option<f64>,
    pub e2e_ms: f64,
    pub tpot_ms: Option<f64>,
    pub itl_mean_ms: Option<f64>,
    pub chunks: u64,
    pub output_chars: u64,
    pub output_tokens: u64,
    pub cache_hit: bool,
    pub pings: u64,
    pub resilience_layer: Option<String>,
    pub thread_id: Option<String>,
    pub browser_queue_ms: Option<f64>,
    pub protocol: Option<String>,
    pub instance: Option<String>,
    /// Open loop: the send minus the intended start.
    pub lateness_ms: Option<f64>,
    /// The service's side of it, where the service keeps per-request records
    /// (joined by thread id; see [`crate::load::time_breakdown`]).
    pub server: Option<ServerParts>,
}

impl RequestRow {
    pub fn new(index: u64, run_started_ms: f64, record: &RequestRecord) -> Self {
        let gaps = &record.inter_chunk_gaps_ms;
        Self {
            index,
            sent_ms: record.sent_at_ms - run_started_ms,
            outcome: record.outcome.key(),
            failure_kind: record.outcome.failure_kind(),
            message: (record.outcome.is_failure()).then(|| record.outcome.message()),
            status: record.status,
            ttft_ms: record.ttft_ms,
            e2e_ms: record.e2e_ms,
            tpot_ms: record.tpot_ms(),
            itl_mean_ms: (!gaps.is_empty()).then(|| gaps.iter().sum::<f64>() / gaps.len() as f64),
            chunks: record.chunk_count,
            output_chars: record.output_chars,
            output_tokens: record.output_tokens,
            cache_hit: record.cache_hit,
            pings: record.comments,
            resilience_layer: record.resilience_layer.clone(),
            thread_id: record.thread_id.clone(),
            browser_queue_ms: record.browser_queue_ms,
            protocol: record.protocol.clone(),
            instance: record.instance.clone(),
            lateness_ms: record.lateness_ms(),
            server: None,
        }
    }
}

/// What the export adds to a request row where the service's record is known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServerParts {
    pub instance_id: Option<String>,
    pub server_ttft_ms: Option<f64>,
    pub network_ms: Option<f64>,
    pub server_queue_ms: Option<f64>,
    pub server_stages_ms: Option<f64>,
    pub provider_first_token_ms: Option<f64>,
    /// Accepted to finished, on the service's clock.
    pub server_total_ms: Option<f64>,
}
