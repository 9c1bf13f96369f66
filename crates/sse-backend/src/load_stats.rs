//! The server's own account of the load it carried, so that a client's
//! measurements can be checked against it (`GET /admin/load-stats`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;
use std::time::Instant;

use serde::Serialize;

use crate::pipeline::{now_ms, ServerOutcome};
use crate::request_trace::StageSpan;

/// Per-request timings kept for the endpoint (the most recent ones).
pub const KEPT_REQUESTS: usize = 10_000;

/// One request as the server saw it. Times are milliseconds since the Unix
/// epoch on the server's clock, to the microsecond (see [`crate::request_trace`]).
#[derive(Debug, Clone, Serialize)]
pub struct RequestTimings {
    /// Order of finishing, from 1, over the process' life (a reset keeps counting):
    /// `?after=<seq>` asks for the newer ones only.
    pub seq: u64,
    pub thread_id: String,
    /// The instance that served it (`--instance-id`, else host:port).
    pub instance_id: String,
    pub user: String,
    pub resilience_layer: &'static str,
    pub accepted_at_ms: f64,
    /// When it entered the failover queue; absent when it never queued.
    pub queued_at_ms: Option<f64>,
    /// Time spent in the failover queue (0 when it never queued).
    pub queue_wait_ms: f64,
    /// Each stage that ran, in order, with its start and duration.
    pub stages: Vec<StageSpan>,
    /// When the provider's first token reached the service.
    pub provider_first_token_at_ms: Option<f64>,
    /// When the first chunk event was handed to the connection.
    pub first_chunk_at_ms: Option<f64>,
    pub finished_at_ms: f64,
    pub chunks_sent: u64,
    pub outcome: ServerOutcome,
}

#[derive(Debug, Default)]
struct Inner {
    active: u64,
    peak_active: u64,
    queued: u64,
    peak_queued: u64,
    totals: BTreeMap<ServerOutcome, u64>,
    chunks_sent: u64,
    requests: VecDeque<RequestTimings>,
    last_seq: u64,
}

#[derive(Debug)]
pub struct LoadStats {
    inner: Mutex<Inner>,
    since: Mutex<(Instant, f64)>,
}

impl Default for LoadStats {
    fn default() -> Self {
        Self {
            inner: Mutex::default(),
            since: Mutex::new((Instant::now(), now_ms())),
        }
    }
}

/// Counts one stream as active while it lives.
#[derive(Debug)]
pub struct ActiveStream<'a> {
    stats: &'a LoadStats,
}

impl Drop for ActiveStream<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.stats.inner.lock() {
            inner.active = inner.active.saturating_sub(1);
        }
    }
}

/// Counts one request as queued while it waits.
#[derive(Debug)]
pub struct QueuedRequest<'a> {
    stats: &'a LoadStats,
}

impl Drop for QueuedRequest<'_> {
    fn drop(&mut self) {
        if let Ok(mut inner) = self.stats.inner.lock() {
            inner.queued = inner.queued.saturating_sub(1);
        }
    }
}

impl LoadStats {
    pub fn stream_started(&self) -> ActiveStream<'_> {
        if let Ok(mut inner) = self.inner.lock() {
            inner.active += 1;
            inner.peak_active = inner.peak_active.max(inner.active);
        }
        ActiveStream { stats: self }
    }

    pub fn queued(&self) -> QueuedRequest<'_> {
        if let Ok(mut inner) = self.inner.lock() {
            inner.queued += 1;
            inner.peak_queued = inner.peak_queued.max(inner.queued);
        }
        QueuedRequest { stats: self }
    }

    pub fn active(&self) -> u64 {
        self.inner.lock().map_or(0, |i| i.active)
    }

    pub fn finished(&self, mut timings: RequestTimings) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.last_seq += 1;
            timings.seq = inner.last_seq;
            *inner.totals.entry(timings.outcome).or_default() += 1;
            inner.chunks_sent += timings.chunks_sent;
            if inner.requests.len() == KEPT_REQUESTS {
                inner.requests.pop_front();
            }
            inner.requests.push_back(timings);
        }
    }

    /// Counts a request rejected before any stream (422, 429, 503).
    pub fn rejected(&self, outcome: ServerOutcome) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner.totals.entry(outcome).or_default() += 1;
        }
    }

    /// Clears totals, peaks and kept requests (gauges of live streams stay).
    pub fn reset(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            inner.peak_active = inner.active;
            inner.peak_queued = inner.queued;
            inner.totals.clear();
            inner.chunks_sent = 0;
            inner.requests.clear();
        }
        if let Ok(mut since) = self.since.lock() {
            *since = (Instant::now(), now_ms());
        }
    }

    /// The `/admin/load-stats` answer; `with_requests` adds the kept per-request
    /// timings whose `seq` is above `after` (0: all of them).
    pub fn to_json(&self, with_requests: bool, after: u64) -> serde_json::Value {
        let since = self
            .since
            .lock()
            .map(|s| *s)
            .unwrap_or((Instant::now(), now_ms()));
        let Ok(inner) = self.inner.lock() else {
            return serde_json::json!({ "error": "statistics unavailable" });
        };
        let totals: BTreeMap<String, u64> = inner
            .totals
            .iter()
            .map(|(outcome, n)| {
                let key = serde_json::to_value(outcome)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (key, *n)
            })
            .collect();
        let mut answer = serde_json::json!({
            "active_streams": inner.active,
            "peak_active_streams": inner.peak_active,
            "queued_requests": inner.queued,
            "peak_queued_requests": inner.peak_queued,
            "requests_total": inner.totals.values().sum::<u64>(),
            "totals_by_outcome": totals,
            "chunks_sent": inner.chunks_sent,
            "since_ms": since.1,
            "last_seq": inner.last_seq,
            "uptime_ms": since.0.elapsed().as_secs_f64() * 1000.0,
        });
        if with_requests {
            let newer = inner.requests.partition_point(|r| r.seq <= after);
            let chosen: Vec<&RequestTimings> = inner.requests.range(newer..).collect();
            answer["requests"] = serde_json::to_value(chosen).unwrap_or_default();
        }
        answer
    }
}
