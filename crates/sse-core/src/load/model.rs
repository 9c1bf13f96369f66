//! How a load test sends: a closed loop (N workers, each sending its next
//! request when its previous one ended) or an open loop (requests arrive on a
//! schedule, at a constant rate or as a seeded Poisson process, whatever the
//! service is doing). The open-loop [`Schedule`] decides which requests start
//! now; it takes the clock as an argument, so it is tested natively.
//!
//! Every open-loop request has an intended start (its arrival). It starts then,
//! unless the cap on requests in flight is reached or the page was busy: then it
//! starts late (a *late start*), and its lateness is part of what a user
//! arriving then would have waited. Arrivals still waiting when the run's
//! duration is over are dropped (never sent), as k6 drops iterations.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

/// A start later than this after its arrival is a late start (ms). Timers in a
/// busy page fire a few ms late; a start held by the cap is always late.
pub const LATE_START_MS: f64 = 10.0;

/// The load model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadModel {
    /// N workers, each sending its next request when its previous one ended.
    #[default]
    Closed,
    /// Requests at a fixed interval, 1/rate.
    Constant,
    /// Requests at exponentially distributed intervals of mean 1/rate (seeded).
    Poisson,
}

impl LoadModel {
    pub const ALL: [LoadModel; 3] = [Self::Closed, Self::Constant, Self::Poisson];

    /// The form's and the exports' name (`lt-mode` values).
    pub fn id(self) -> &'static str {
        match self {
            Self::Closed => "closed",
            Self::Constant => "constant",
            Self::Poisson => "poisson",
        }
    }

    pub fn from_id(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.id() == id.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Closed => "Closed loop (concurrency)",
            Self::Constant => "Open loop, constant rate",
            Self::Poisson => "Open loop, Poisson arrivals",
        }
    }

    pub fn is_open(self) -> bool {
        self != Self::Closed
    }
}

/// Arrival times of an open loop, in ms from the run's start.
#[derive(Debug, Clone)]
pub struct Arrivals {
    model: LoadModel,
    interval_ms: f64,
    rng: fastrand::Rng,
    index: u64,
    last_ms: f64,
}

impl Arrivals {
    /// `rate_per_s` > 0; the seed matters for Poisson only.
    pub fn new(model: LoadModel, rate_per_s: f64, seed: u64) -> Self {
        Self {
            model,
            interval_ms: 1000.0 / rate_per_s.max(1e-9),
            rng: fastrand::Rng::with_seed(seed),
            index: 0,
            last_ms: 0.0,
        }
    }
}

impl Iterator for Arrivals {
    type Item = f64;

    /// The next arrival. Constant: k / rate (multiplied, so no drift adds up);
    /// Poisson: the previous one plus an exponential draw (inverse CDF of a
    /// uniform in (0, 1]). A closed loop has no arrivals.
    fn next(&mut self) -> Option<f64> {
        let at = match self.model {
            LoadModel::Closed => return None,
            LoadModel::Constant => self.index as f64 * self.interval_ms,
            LoadModel::Poisson if self.index == 0 => 0.0,
            LoadModel::Poisson => {
                let uniform = 1.0 - self.rng.f64();
                self.last_ms - uniform.ln() * self.interval_ms
            }
        };
        self.index += 1;
        self.last_ms = at;
        Some(at)
    }
}

/// A request the schedule lets start now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Start {
    /// 0-based, in arrival order.
    pub index: u64,
    /// The arrival, ms from the run's start.
    pub intended_ms: f64,
}

/// Bounds of an open-loop run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpenLoop {
    pub model: LoadModel,
    pub rate_per_s: f64,
    pub seed: u64,
    /// Arrivals stop at this many requests.
    pub max_requests: u64,
    /// Arrivals stop after this long (ms from the start); waiting ones are dropped then.
    pub duration_ms: Option<f64>,
    pub max_in_flight: u32,
}

/// Which open-loop requests start when (see the module notes).
#[derive(Debug, Clone)]
pub struct Schedule {
    bounds: OpenLoop,
    arrivals: Arrivals,
    /// The next arrival not yet due.
    upcoming: Option<f64>,
    /// Arrived, waiting for a free slot (intended times, oldest first).
    waiting: VecDeque<Start>,
    arrived: u64,
    dropped: u64,
    stopped: bool,
}

impl Schedule {
    pub fn new(bounds: OpenLoop) -> Self {
        let mut arrivals = Arrivals::new(bounds.model, bounds.rate_per_s, bounds.seed);
        let upcoming = arrivals.next();
        let mut schedule = Self {
            bounds,
            arrivals,
            upcoming: None,
            waiting: VecDeque::new(),
            arrived: 0,
            dropped: 0,
            stopped: false,
        };
        schedule.upcoming = upcoming.filter(|at| schedule.within(*at));
        schedule
    }

    fn within(&self, at_ms: f64) -> bool {
        self.arrived < self.bounds.max_requests && self.bounds.duration_ms.is_none_or(|d| at_ms < d)
    }

    /// The requests that start at `now_ms` (from the run's start) with
    /// `in_flight` requests running: every due arrival, oldest first, as long
    /// as the cap allows.
    pub fn due(&mut self, now_ms: f64, in_flight: u32) -> Vec<Start> {
        if self.stopped {
            return Vec::new();
        }
        while let Some(at) = self.upcoming.filter(|at| *at <= now_ms) {
            self.waiting.push_back(Start {
                index: self.arrived,
                intended_ms: at,
            });
            self.arrived += 1;
            self.upcoming = self.arrivals.next().filter(|next| self.within(*next));
        }
        let free = self.bounds.max_in_flight.saturating_sub(in_flight) as usize;
        let n = free.min(self.waiting.len());
        let starts = self.waiting.drain(..n).collect();
        if self.bounds.duration_ms.is_some_and(|d| now_ms >= d) {
            // The run's time is over: what still waits for a slot is never sent
            // (an arrival whose timer merely fired late still starts, late).
            self.dropped += self.waiting.len() as u64;
            self.waiting.clear();
        }
        starts
    }

    /// When to look again (ms from the run's start): the next arrival, or the
    /// end of the duration while arrivals wait for a slot; `None` when only a
    /// request's end can change anything (or nothing can).
    pub fn next_wake_ms(&self) -> Option<f64> {
        if self.stopped {
            return None;
        }
        match (self.upcoming, self.waiting.is_empty()) {
            (Some(at), _) => Some(at),
            (None, false) => self.bounds.duration_ms,
            (None, true) => None,
        }
    }

    /// Whether every arrival has started or been dropped.
    pub fn is_done(&self) -> bool {
        self.stopped || (self.upcoming.is_none() && self.waiting.is_empty())
    }

    /// No more starts (the person pressed Stop); waiting arrivals are dropped.
    pub fn stop(&mut self) {
        self.dropped += self.waiting.len() as u64;
        self.waiting.clear();
        self.upcoming = None;
        self.stopped = true;
    }

    /// Arrivals so far (started, waiting or dropped).
    pub fn arrived(&self) -> u64 {
        self.arrived
    }

    /// Arrivals never sent: still waiting when the duration ended, or at Stop.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    pub fn waiting(&self) -> usize {
        self.waiting.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(model: LoadModel, rate: f64, max_requests: u64) -> OpenLoop {
        OpenLoop {
            model,
            rate_per_s: rate,
            seed: 7,
            max_requests,
            duration_ms: None,
            max_in_flight: 1_000,
        }
    }

    #[test]
    fn poisson_arrivals_are_reproducible_with_their_seed_and_have_the_expected_rate_and_spread() {
        let draws = 10_000;
        let take = |seed| -> Vec<f64> {
            Arrivals::new(LoadModel::Poisson, 20.0, seed)
                .take(draws + 1)
                .collect()
        };
        let (a, b, c) = (take(42), take(42), take(43));
        assert_eq!(a, b, "same seed, same arrivals");
        assert_ne!(a, c, "another seed, other arrivals");
        let gaps: Vec<f64> = a.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|g| *g >= 0.0));
        let n = gaps.len() as f64;
        let mean = gaps.iter().sum::<f64>() / n;
        let sd = (gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>() / n).sqrt();
        // Exponential gaps of mean 50 ms: the sample mean's standard error is
        // 50 / sqrt(10 000) = 0.5 ms, so ±2 ms is 4 standard errors. The
        // coefficient of variation of an exponential is 1 (its standard error
        // here is about 0.01).
        assert!((mean - 50.0).abs() < 2.0, "mean gap {mean}");
        let cv = sd / mean;
        assert!((cv - 1.0).abs() < 0.05, "coefficient of variation {cv}");
        // Constant arrivals have no spread at all.
        let constant: Vec<f64> = Arrivals::new(LoadModel::Constant, 20.0, 42)
            .take(5)
            .collect();
        assert_eq!(constant, [0.0, 50.0, 100.0, 150.0, 200.0]);
        assert_eq!(Arrivals::new(LoadModel::Closed, 20.0, 1).next(), None);
    }

    #[test]
    fn a_constant_rate_on_an_idle_clock_starts_everything_on_time() {
        let mut schedule = Schedule::new(open(LoadModel::Constant, 20.0, 10));
        let mut started = Vec::new();
        while let Some(wake) = schedule.next_wake_ms() {
            // An idle page: the timer fires exactly when asked.
            for start in schedule.due(wake, 0) {
                started.push(wake - start.intended_ms);
            }
        }
        assert_eq!(started.len(), 10);
        assert!(
            started.iter().all(|lateness| *lateness == 0.0),
            "{started:?}"
        );
        assert!(schedule.is_done());
        assert_eq!((schedule.arrived(), schedule.dropped()), (10, 0));
    }

    #[test]
    fn the_cap_holds_arrivals_back_until_a_slot_frees_and_the_duration_drops_the_rest() {
        let mut schedule = Schedule::new(OpenLoop {
            max_in_flight: 2,
            duration_ms: Some(1_000.0),
            ..open(LoadModel::Constant, 10.0, 100)
        });
        // 0 ms: one arrival, two free slots.
        assert_eq!(schedule.due(0.0, 0).len(), 1);
        // 350 ms, late timer: arrivals at 100, 200, 300 are due; one slot free.
        let starts = schedule.due(350.0, 1);
        assert_eq!(
            starts,
            [Start {
                index: 1,
                intended_ms: 100.0
            }]
        );
        assert_eq!(schedule.waiting(), 2);
        // Both end at 500: the two oldest waiting start (200, 300), 400 and 500 wait.
        let starts = schedule.due(500.0, 0);
        assert_eq!(
            starts.iter().map(|s| s.intended_ms).collect::<Vec<_>>(),
            [200.0, 300.0]
        );
        // Nothing ends; at the end of the duration the waiting are dropped.
        assert_eq!(schedule.next_wake_ms(), Some(600.0));
        assert!(schedule.due(1_000.0, 2).is_empty());
        assert_eq!(schedule.arrived(), 10, "arrivals at 0, 100, …, 900");
        assert_eq!(schedule.dropped(), 6);
        assert!(schedule.is_done());
        // A timer that fires after the end still starts an arrival that has a slot.
        let mut late_timer = Schedule::new(OpenLoop {
            duration_ms: Some(100.0),
            ..open(LoadModel::Constant, 20.0, 100)
        });
        assert_eq!(late_timer.due(0.0, 0).len(), 1);
        assert_eq!(late_timer.due(103.0, 0).len(), 1, "the arrival at 50 ms");
        assert_eq!(late_timer.dropped(), 0);
        assert!(late_timer.is_done());
        assert_eq!(schedule.next_wake_ms(), None);
    }

    #[test]
    fn stop_ends_the_schedule_at_once() {
        let mut schedule = Schedule::new(OpenLoop {
            max_in_flight: 1,
            ..open(LoadModel::Poisson, 100.0, 1_000)
        });
        assert_eq!(schedule.due(0.0, 0).len(), 1);
        let _ = schedule.due(200.0, 1);
        let waiting = schedule.waiting() as u64;
        assert!(waiting > 0);
        schedule.stop();
        assert!(schedule.is_done());
        assert!(schedule.due(10_000.0, 0).is_empty());
        assert_eq!(schedule.dropped(), waiting);
        assert_eq!(LoadModel::from_id("poisson"), Some(LoadModel::Poisson));
        assert_eq!(LoadModel::from_id("x"), None);
    }
}
