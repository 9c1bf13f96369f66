//! Service-level objectives of a load test: per-request targets (TTFT, E2E,
//! TPOT; an absent target is no target), the share of requests that must meet
//! them, goodput and the verdict.
//!
//! A request is **good** when it completed and met every target. TTFT and E2E
//! are judged from the request's intended start (its arrival in an open loop),
//! because that is what a user arriving then waited; in a closed loop the
//! intended start is the send. Goodput is good requests per second of the
//! measured time, as vLLM's `--goodput` defines it. The good share is good
//! requests of those that completed or failed (requests aborted by Stop are
//! neither).

use serde::{Deserialize, Serialize};

use crate::format;

pub const DEFAULT_GOOD_PCT: f64 = 95.0;

/// Targets per request, and the share of good requests a run must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    pub ttft_ms: Option<f64>,
    pub e2e_ms: Option<f64>,
    pub tpot_ms: Option<f64>,
    /// Percent of judged requests that must be good (0–100].
    pub good_pct: f64,
}

impl Default for Slo {
    fn default() -> Self {
        Self {
            ttft_ms: None,
            e2e_ms: None,
            tpot_ms: None,
            good_pct: DEFAULT_GOOD_PCT,
        }
    }
}

/// What one request measured, as the targets see it.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RequestLatencies {
    pub completed: bool,
    /// From the intended start.
    pub ttft_ms: Option<f64>,
    /// From the intended start.
    pub e2e_ms: f64,
    pub tpot_ms: Option<f64>,
}

/// The p95 of each judged latency over a run (or a step).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct JudgedFigures {
    /// Good requests, and requests that completed or failed.
    pub good: u64,
    pub judged: u64,
    pub ttft_p95_ms: Option<f64>,
    pub e2e_p95_ms: Option<f64>,
    pub tpot_p95_ms: Option<f64>,
}

impl JudgedFigures {
    /// Good requests of the judged ones, in percent; absent when none was judged.
    pub fn good_pct(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.good as f64 / self.judged as f64 * 100.0)
    }
}

/// pass | fail | none (no target set, or nothing to judge).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictState {
    Pass,
    Fail,
    None,
}

impl VerdictState {
    /// The `data-state` of `lt-verdict`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::None => "none",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    pub state: VerdictState,
    /// In words: "p95 TTFT 1.80 s over the 1.00 s target; 71 % good, 95 % needed".
    pub reason: String,
}

/// A share in percent as it reads: `71 %`, `98.5 %`.
pub fn percent(value: f64) -> String {
    let text = format!("{value:.1}");
    format!("{} %", text.strip_suffix(".0").unwrap_or(&text))
}

impl Slo {
    pub fn has_targets(&self) -> bool {
        self.ttft_ms.is_some() || self.e2e_ms.is_some() || self.tpot_ms.is_some()
    }

    /// Whether a request met every target (see the module notes). With no
    /// target, every completed request is good. An answer of one token has no
    /// TPOT and so cannot miss its target.
    pub fn is_good(&self, request: &RequestLatencies) -> bool {
        let within = |value: Option<f64>, target: Option<f64>| match (value, target) {
            (_, None) | (None, Some(_)) => true,
            (Some(v), Some(t)) => v <= t,
        };
        request.completed
            && within(Some(request.e2e_ms), self.e2e_ms)
            && request
                .ttft_ms
                .map_or(self.ttft_ms.is_none(), |v| within(Some(v), self.ttft_ms))
            && within(request.tpot_ms, self.tpot_ms)
    }

    /// The verdict on a run's (or a step's) figures.
    pub fn verdict(&self, figures: &JudgedFigures) -> Verdict {
        let none = |reason: &str| Verdict {
            state: VerdictState::None,
            reason: reason.to_owned(),
        };
        if !self.has_targets() {
            return none("no SLO target set");
        }
        if figures.judged == 0 {
            return none("no request completed or failed");
        }
        let share = figures.good_pct().unwrap_or(0.0);
        let mut parts: Vec<String> = [
            ("TTFT", figures.ttft_p95_ms, self.ttft_ms),
            ("E2E", figures.e2e_p95_ms, self.e2e_ms),
            ("TPOT", figures.tpot_p95_ms, self.tpot_ms),
        ]
        .into_iter()
        .filter_map(|(name, p95, target)| {
            let target = target?;
            let shown = format::duration_ms(Some(target));
            Some(match p95 {
                Some(v) if v > target => format!(
                    "p95 {name} {} over the {shown} target",
                    format::duration_ms(Some(v))
                ),
                Some(v) => format!("p95 {name} {} within {shown}", format::duration_ms(Some(v))),
                None => format!("no {name} measured for the {shown} target"),
            })
        })
        .collect();
        let pass = share >= self.good_pct;
        parts.push(format!(
            "{} good ({} of {}), {} needed",
            percent(share),
            figures.good,
            figures.judged,
            percent(self.good_pct)
        ));
        Verdict {
            state: if pass {
                VerdictState::Pass
            } else {
                VerdictState::Fail
            },
            reason: parts.join("; "),
        }
    }
}

/// Good requests per second of `measured_ms`; absent before any time passed.
pub fn goodput(good: u64, measured_ms: f64) -> Option<f64> {
    (measured_ms > 0.0).then(|| good as f64 / (measured_ms / 1000.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ttft: f64, e2e: f64, tpot: Option<f64>) -> RequestLatencies {
        RequestLatencies {
            completed: true,
            ttft_ms: Some(ttft),
            e2e_ms: e2e,
            tpot_ms: tpot,
        }
    }

    #[test]
    fn a_request_is_good_when_it_completed_within_every_target() {
        let slo = Slo {
            ttft_ms: Some(1_000.0),
            e2e_ms: Some(5_000.0),
            tpot_ms: Some(50.0),
            ..Slo::default()
        };
        assert!(
            slo.is_good(&request(1_000.0, 5_000.0, Some(50.0))),
            "bounds are within"
        );
        assert!(!slo.is_good(&request(1_000.1, 100.0, None)));
        assert!(!slo.is_good(&request(10.0, 5_001.0, None)));
        assert!(!slo.is_good(&request(10.0, 100.0, Some(51.0))));
        assert!(
            slo.is_good(&request(10.0, 100.0, None)),
            "one token: no TPOT"
        );
        let failed = RequestLatencies {
            completed: false,
            ..request(1.0, 1.0, None)
        };
        assert!(!slo.is_good(&failed));
        assert!(Slo::default().is_good(&request(1e9, 1e9, Some(1e9))));
        let no_first_token = RequestLatencies {
            ttft_ms: None,
            ..request(0.0, 10.0, None)
        };
        assert!(!slo.is_good(&no_first_token), "a TTFT target needs a TTFT");
    }

    #[test]
    fn goodput_and_the_verdict_on_hand_made_samples() {
        let slo = Slo {
            ttft_ms: Some(1_000.0),
            ..Slo::default()
        };
        // 100 requests over 10 s: TTFT k*20 ms for k = 1..=100, so 50 are within 1 s.
        let samples: Vec<RequestLatencies> = (1..=100)
            .map(|k| request(f64::from(k) * 20.0, 3_000.0, None))
            .collect();
        let good = samples.iter().filter(|r| slo.is_good(r)).count() as u64;
        assert_eq!(good, 50);
        assert_eq!(goodput(good, 10_000.0), Some(5.0));
        assert_eq!(goodput(good, 0.0), None);
        let figures = JudgedFigures {
            good,
            judged: 100,
            ttft_p95_ms: Some(1_900.0),
            ..JudgedFigures::default()
        };
        let verdict = slo.verdict(&figures);
        assert_eq!(verdict.state, VerdictState::Fail);
        assert_eq!(
            verdict.reason,
            "p95 TTFT 1.90 s over the 1.00 s target; 50 % good (50 of 100), 95 % needed"
        );
        let lenient = Slo {
            good_pct: 50.0,
            ..slo.clone()
        };
        assert_eq!(lenient.verdict(&figures).state, VerdictState::Pass);
        let all_good = JudgedFigures {
            good: 97,
            judged: 98,
            ttft_p95_ms: Some(420.0),
            ..figures
        };
        assert_eq!(
            slo.verdict(&all_good).reason,
            "p95 TTFT 420.0 ms within 1.00 s; 99 % good (97 of 98), 95 % needed"
        );
        assert_eq!(Slo::default().verdict(&figures).state, VerdictState::None);
        let nothing = JudgedFigures::default();
        assert_eq!(
            slo.verdict(&nothing).reason,
            "no request completed or failed"
        );
        assert_eq!(percent(98.54), "98.5 %");
    }
}
