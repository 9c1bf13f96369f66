//! The run's clocks: a monotonic one for every duration (ms since the
//! runner's start, like the browser's `performance.now()`), and the wall
//! clock for the run's id.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Monotonic milliseconds since the clock was made; cheap to copy into tasks.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: Instant,
}

impl Clock {
    pub fn new() -> Self {
        Self {
            origin: Instant::now(),
        }
    }

    pub fn now_ms(&self) -> f64 {
        self.origin.elapsed().as_secs_f64() * 1000.0
    }

    /// The monotonic instant of `ms` on this clock.
    pub fn instant(&self, ms: f64) -> Instant {
        self.origin + std::time::Duration::from_secs_f64(ms.max(0.0) / 1000.0)
    }
}

/// Now on the wall clock, ms since the Unix epoch.
pub fn wall_ms() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}
