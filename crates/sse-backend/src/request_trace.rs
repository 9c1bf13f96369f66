//! One request's own timeline, as `/admin/load-stats?requests=true` lists it:
//! when each stage started and how long it took, the failover-queue wait, and
//! the provider's first token.
//!
//! Every time is epoch milliseconds rounded to the microsecond, derived from one
//! wall-clock reading at acceptance plus a monotonic clock, so a clock step in
//! the middle of a request cannot reorder its own events.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::pipeline::now_ms;
use crate::pipeline::Stage;

/// One stage of one request.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StageSpan {
    /// "1", "2", "2.1", "2.2", "3", "4", "5", "6" (stage 2 spans 2.1 and 2.2).
    pub stage: &'static str,
    pub started_at_ms: f64,
    pub duration_ms: f64,
}

#[derive(Debug, Clone)]
pub struct Trace {
    base: Instant,
    base_epoch_ms: f64,
    pub stages: Vec<StageSpan>,
    /// When the request entered the failover queue and how long it waited there.
    pub queued: Option<(f64, f64)>,
    pub provider_first_token_at_ms: Option<f64>,
}

/// Milliseconds rounded to the microsecond.
fn to_us(ms: f64) -> f64 {
    (ms * 1000.0).round() / 1000.0
}

impl Trace {
    /// Starts the timeline now (the request was accepted).
    pub fn begin() -> Self {
        Self {
            base: Instant::now(),
            base_epoch_ms: now_ms(),
            stages: Vec::new(),
            queued: None,
            provider_first_token_at_ms: None,
        }
    }

    pub fn accepted_at_ms(&self) -> f64 {
        to_us(self.base_epoch_ms)
    }

    /// `instant` as epoch ms on this request's timeline.
    pub fn at_ms(&self, instant: Instant) -> f64 {
        let since = instant.saturating_duration_since(self.base);
        to_us(self.base_epoch_ms + since.as_secs_f64() * 1000.0)
    }

    pub fn now_ms(&self) -> f64 {
        self.at_ms(Instant::now())
    }

    pub fn stage(&mut self, stage: Stage, started: Instant, took: Duration) {
        self.stages.push(StageSpan {
            stage: stage.id(),
            started_at_ms: self.at_ms(started),
            duration_ms: to_us(took.as_secs_f64() * 1000.0),
        });
    }

    pub fn queued(&mut self, entered: Instant, waited: Duration) {
        self.queued = Some((self.at_ms(entered), to_us(waited.as_secs_f64() * 1000.0)));
    }

    pub fn provider_first_token(&mut self) {
        let now = self.now_ms();
        self.provider_first_token_at_ms.get_or_insert(now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_on_one_timeline_in_microseconds() {
        let mut trace = Trace::begin();
        let started = trace.base + Duration::from_micros(1_500);
        trace.stage(Stage::Validation, started, Duration::from_micros(250));
        let span = &trace.stages[0];
        assert_eq!(span.stage, "1");
        assert!((span.started_at_ms - trace.accepted_at_ms() - 1.5).abs() < 0.0015);
        assert_eq!(span.duration_ms, 0.25);
        // Before the base reads as the base, never earlier.
        assert_eq!(trace.at_ms(trace.base), trace.accepted_at_ms());
    }

    #[test]
    fn the_first_token_is_kept_once() {
        let mut trace = Trace::begin();
        trace.provider_first_token();
        let first = trace.provider_first_token_at_ms;
        std::thread::sleep(Duration::from_millis(2));
        trace.provider_first_token();
        assert_eq!(trace.provider_first_token_at_ms, first);
        assert!(first.is_some_and(|t| t >= trace.accepted_at_ms()));
    }
}
