//! Whole-run statistics of a load test, and per-window series for charts.
//!
//! Latency distributions (E2E, TTFT, ITL, TPOT) take **completed** requests only:
//! a 30 s queue timeout or an instant 429 says nothing about how fast the service
//! streams, and is counted under failures instead. Throughput is completed
//! requests and output tokens (of all requests) per second of the run's wall time.
//! Whole-run percentiles come from all samples, never from averaging windows.

use std::collections::BTreeMap;

use crate::load::model::LATE_START_MS;
use crate::load::recorder::{Outcome, RequestRecord};
use crate::load::slo::{JudgedFigures, Slo};
use crate::metrics::distribution::Distribution;

/// One kind of failure: how often, and the first message seen.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FailureGroup {
    pub kind: String,
    pub status: Option<u16>,
    pub count: u64,
    pub first_message: String,
}

/// One time window of the run (for charts over time; per-window figures).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    /// Offset of the window's start from the run's start.
    pub start_ms: f64,
    pub width_ms: f64,
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub output_tokens: u64,
    pub e2e: Distribution,
    pub ttft: Distribution,
}

impl Window {
    fn absorb(&mut self, other: &Window) {
        self.completed += other.completed;
        self.failed += other.failed;
        self.aborted += other.aborted;
        self.output_tokens += other.output_tokens;
        self.e2e.merge(&other.e2e);
        self.ttft.merge(&other.ttft);
    }
}

/// Windows of equal width from the run's start. When there would be more than
/// `max_windows`, neighbours are merged and the width doubles, so a long run keeps
/// its whole history in bounded memory.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowSeries {
    width_ms: f64,
    max_windows: usize,
    windows: Vec<Window>,
}

impl WindowSeries {
    pub fn new(width_ms: f64, max_windows: usize) -> Self {
        Self {
            width_ms: width_ms.max(1.0),
            max_windows: max_windows.max(2),
            windows: Vec::new(),
        }
    }

    pub fn width_ms(&self) -> f64 {
        self.width_ms
    }

    pub fn windows(&self) -> &[Window] {
        &self.windows
    }

    fn window_at(&mut self, offset_ms: f64) -> &mut Window {
        let mut index = (offset_ms.max(0.0) / self.width_ms) as usize;
        while index >= self.max_windows {
            self.coarsen();
            index = (offset_ms.max(0.0) / self.width_ms) as usize;
        }
        while self.windows.len() <= index {
            let start_ms = self.windows.len() as f64 * self.width_ms;
            self.windows.push(Window {
                start_ms,
                width_ms: self.width_ms,
                ..Window::default()
            });
        }
        &mut self.windows[index]
    }

    fn coarsen(&mut self) {
        self.width_ms *= 2.0;
        let old = std::mem::take(&mut self.windows);
        for pair in old.chunks(2) {
            let mut merged = pair[0].clone();
            if let Some(second) = pair.get(1) {
                merged.absorb(second);
            }
            merged.start_ms = self.windows.len() as f64 * self.width_ms;
            merged.width_ms = self.width_ms;
            self.windows.push(merged);
        }
    }
}

/// One instance's share of a run (requests attributed by their answers' headers).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct InstanceShare {
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub ttft: Distribution,
    pub e2e: Distribution,
    /// The first failure's message, to say what happened there.
    pub first_failure: Option<String>,
}

/// Statistics of a whole run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStats {
    started_at_ms: f64,
    last_end_ms: f64,
    pub e2e: Distribution,
    pub ttft: Distribution,
    pub itl: Distribution,
    pub tpot: Distribution,
    pub requests: u64,
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub output_tokens: u64,
    pub output_chars: u64,
    pub cache_hits: u64,
    /// Outcome key -> requests.
    pub by_outcome: BTreeMap<&'static str, u64>,
    /// HTTP status -> requests (requests that got an answer).
    pub by_status: BTreeMap<u16, u64>,
    /// `x-resilience-layer` value (`1-Direct`, `3-Queue-Failover`, `none`) -> requests.
    pub by_resilience_layer: BTreeMap<String, u64>,
    failures: BTreeMap<String, FailureGroup>,
    pub series: WindowSeries,
    /// Time requests waited inside the browser before being sent (all requests
    /// whose Resource Timing entry the browser exposed).
    pub browser_queue: Distribution,
    /// Protocol (`h2`, `http/1.1`) -> requests, where the browser told.
    pub by_protocol: BTreeMap<String, u64>,
    /// Instance -> its requests (only those whose answer named an instance).
    pub by_instance: BTreeMap<String, InstanceShare>,
    /// The targets requests are judged by.
    pub slo: Slo,
    /// E2E and TTFT from the intended start (completed requests).
    pub e2e_intended: Distribution,
    pub ttft_intended: Distribution,
    /// Open loop: send minus intended start, of every sent request.
    pub lateness: Distribution,
    /// Open loop: requests sent more than [`LATE_START_MS`] after their arrival.
    pub late_starts: u64,
    /// Completed requests that met every target.
    pub good: u64,
    /// Open loop: arrivals never sent (the duration ended or Stop came first).
    pub dropped: u64,
}

/// Default chart window: 1 s, at most 600 windows before they are merged.
pub const DEFAULT_WINDOW_MS: f64 = 1_000.0;
pub const DEFAULT_MAX_WINDOWS: usize = 600;

impl RunStats {
    pub fn new(started_at_ms: f64) -> Self {
        Self::with_windows(started_at_ms, DEFAULT_WINDOW_MS, DEFAULT_MAX_WINDOWS)
    }

    pub fn with_windows(started_at_ms: f64, width_ms: f64, max_windows: usize) -> Self {
        Self {
            started_at_ms,
            last_end_ms: started_at_ms,
            e2e: Distribution::new(),
            ttft: Distribution::new(),
            itl: Distribution::new(),
            tpot: Distribution::new(),
            requests: 0,
            completed: 0,
            failed: 0,
            aborted: 0,
            output_tokens: 0,
            output_chars: 0,
            cache_hits: 0,
            by_outcome: BTreeMap::new(),
            by_status: BTreeMap::new(),
            by_resilience_layer: BTreeMap::new(),
            failures: BTreeMap::new(),
            series: WindowSeries::new(width_ms, max_windows),
            browser_queue: Distribution::new(),
            by_protocol: BTreeMap::new(),
            by_instance: BTreeMap::new(),
            slo: Slo::default(),
            e2e_intended: Distribution::new(),
            ttft_intended: Distribution::new(),
            lateness: Distribution::new(),
            late_starts: 0,
            good: 0,
            dropped: 0,
        }
    }

    /// The same statistics, judging requests by `slo`.
    pub fn judged_by(mut self, slo: Slo) -> Self {
        self.slo = slo;
        self
    }

    /// What the verdict needs.
    pub fn judged(&self) -> JudgedFigures {
        JudgedFigures {
            good: self.good,
            judged: self.completed + self.failed,
            ttft_p95_ms: self.ttft_intended.percentile(95.0),
            e2e_p95_ms: self.e2e_intended.percentile(95.0),
            tpot_p95_ms: self.tpot.percentile(95.0),
        }
    }

    /// Adds one finished request.
    pub fn add(&mut self, record: &RequestRecord) {
        self.requests += 1;
        self.last_end_ms = self.last_end_ms.max(record.ended_at_ms);
        self.output_tokens += record.output_tokens;
        self.output_chars += record.output_chars;
        self.cache_hits += u64::from(record.cache_hit);
        *self.by_outcome.entry(record.outcome.key()).or_default() += 1;
        if let Some(status) = record.status {
            *self.by_status.entry(status).or_default() += 1;
        }
        let layer = record
            .resilience_layer
            .clone()
            .unwrap_or_else(|| "none".to_owned());
        *self.by_resilience_layer.entry(layer).or_default() += 1;
        if let Some(queue) = record.browser_queue_ms {
            self.browser_queue.record(queue);
        }
        if let Some(protocol) = &record.protocol {
            *self.by_protocol.entry(protocol.clone()).or_default() += 1;
        }

        if let Some(late) = record.lateness_ms() {
            self.lateness.record(late);
            self.late_starts += u64::from(late > LATE_START_MS);
        }
        let latencies = record.latencies();
        if latencies.completed {
            self.e2e_intended.record(latencies.e2e_ms);
            if let Some(ttft) = latencies.ttft_ms {
                self.ttft_intended.record(ttft);
            }
        }
        self.good += u64::from(self.slo.is_good(&latencies));

        if let Some(instance) = &record.instance {
            let share = self.by_instance.entry(instance.clone()).or_default();
            match &record.outcome {
                Outcome::Completed => {
                    share.completed += 1;
                    share.e2e.record(record.e2e_ms);
                    if let Some(ttft) = record.ttft_ms {
                        share.ttft.record(ttft);
                    }
                }
                Outcome::Aborted => share.aborted += 1,
                failure => {
                    share.failed += 1;
                    share.first_failure.get_or_insert_with(|| failure.message());
                }
            }
        }

        let window = self
            .series
            .window_at(record.ended_at_ms - self.started_at_ms);
        window.output_tokens += record.output_tokens;
        match &record.outcome {
            Outcome::Completed => {
                self.completed += 1;
                window.completed += 1;
                window.e2e.record(record.e2e_ms);
                if let Some(ttft) = record.ttft_ms {
                    window.ttft.record(ttft);
                }
                self.e2e.record(record.e2e_ms);
                if let Some(ttft) = record.ttft_ms {
                    self.ttft.record(ttft);
                }
                for &gap in &record.inter_chunk_gaps_ms {
                    self.itl.record(gap);
                }
                if let Some(tpot) = record.tpot_ms() {
                    self.tpot.record(tpot);
                }
            }
            Outcome::Aborted => {
                self.aborted += 1;
                window.aborted += 1;
            }
            failure => {
                self.failed += 1;
                window.failed += 1;
                let kind = failure
                    .failure_kind()
                    .unwrap_or_else(|| failure.key().to_owned());
                let status = match failure {
                    Outcome::HttpStatus { status, .. } => Some(*status),
                    _ => None,
                };
                self.failures
                    .entry(kind.clone())
                    .or_insert_with(|| FailureGroup {
                        kind,
                        status,
                        count: 0,
                        first_message: failure.message(),
                    })
                    .count += 1;
            }
        }
    }

    /// Failures grouped by kind, most frequent first.
    pub fn failure_groups(&self) -> Vec<FailureGroup> {
        let mut groups: Vec<FailureGroup> = self.failures.values().cloned().collect();
        groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.kind.cmp(&b.kind)));
        groups
    }

    /// Wall time from the run's start to `now_ms` (or to the last request's end).
    pub fn wall_ms(&self, now_ms: Option<f64>) -> f64 {
        (now_ms.unwrap_or(self.last_end_ms) - self.started_at_ms).max(0.0)
    }

    /// Completed requests per second over the wall time; `None` before any time passed.
    pub fn requests_per_s(&self, now_ms: Option<f64>) -> Option<f64> {
        let wall = self.wall_ms(now_ms);
        (wall > 0.0).then(|| self.completed as f64 / (wall / 1000.0))
    }

    /// Output tokens per second over the wall time.
    pub fn tokens_per_s(&self, now_ms: Option<f64>) -> Option<f64> {
        let wall = self.wall_ms(now_ms);
        (wall > 0.0).then(|| self.output_tokens as f64 / (wall / 1000.0))
    }
}
