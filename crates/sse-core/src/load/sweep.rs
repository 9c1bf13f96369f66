//! A sweep: the same load at rising levels (concurrency in a closed loop,
//! requests/s in an open one), each step for a fixed time, to find the most
//! load the service carries within its SLOs and where it breaks (the knee).
//!
//! Each step's first seconds are warm-up: requests whose intended start falls
//! in them are sent but not counted, so a step is not judged by the queue the
//! previous step left or by connections still being opened.

use serde::{Deserialize, Serialize};

use crate::load::run_stats::RunStats;
use crate::load::slo::{goodput, Slo, Verdict, VerdictState};
use crate::metrics::distribution::Summary;

/// Steps a sweep may have.
pub const MAX_STEPS: usize = 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPlan {
    /// Offered load per step, rising.
    pub steps: Vec<f64>,
    pub step_ms: u64,
    pub warmup_ms: u64,
    /// Stop after two failing steps in a row.
    pub stop_early: bool,
}

/// Reads "5,10,20,40" (commas or spaces) as rising loads within `1..=max`.
pub fn parse_steps(text: &str, max: f64, whole: bool) -> Result<Vec<f64>, String> {
    let mut steps = Vec::new();
    for part in text.split([',', ' ']).filter(|p| !p.trim().is_empty()) {
        let part = part.trim();
        let value: f64 = part
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| format!("\"{part}\" is not a number."))?;
        if whole && value.fract() != 0.0 {
            return Err(format!("{part}: a concurrency is a whole number."));
        }
        if !(value > 0.0 && value <= max) {
            return Err(format!(
                "{part} is out of range: each step is above 0 and at most {max}."
            ));
        }
        if steps.last().is_some_and(|last| value <= *last) {
            return Err(format!(
                "Steps rise: {part} does not come after {}.",
                steps.last().copied().unwrap_or(0.0)
            ));
        }
        steps.push(value);
    }
    if steps.is_empty() {
        return Err("List at least one step, e.g. 5,10,20,40.".into());
    }
    if steps.len() > MAX_STEPS {
        return Err(format!(
            "At most {MAX_STEPS} steps; {} were listed.",
            steps.len()
        ));
    }
    Ok(steps)
}

/// One step's figures (requests of the warm-up excluded).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepResult {
    /// 1-based.
    pub step: usize,
    /// Concurrency (closed) or requests/s (open) asked for.
    pub offered: f64,
    /// The counted part of the step: from the warm-up's end to the last end.
    pub measured_ms: f64,
    pub requests: u64,
    pub completed: u64,
    pub failed: u64,
    pub late_starts: u64,
    pub dropped: u64,
    /// Completed requests per second of the measured time.
    pub throughput_rps: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub goodput_rps: Option<f64>,
    pub good_pct: Option<f64>,
    pub ttft: Summary,
    pub e2e: Summary,
    pub ttft_intended: Summary,
    pub e2e_intended: Summary,
    pub verdict: Verdict,
}

impl StepResult {
    /// `stats` holds the step's counted requests only, started at the warm-up's end.
    pub fn new(step: usize, offered: f64, stats: &RunStats, slo: &Slo) -> Self {
        let measured_ms = stats.wall_ms(None);
        let judged = stats.judged();
        Self {
            step,
            offered,
            measured_ms,
            requests: stats.requests,
            completed: stats.completed,
            failed: stats.failed,
            late_starts: stats.late_starts,
            dropped: stats.dropped,
            throughput_rps: stats.requests_per_s(None),
            tokens_per_s: stats.tokens_per_s(None),
            goodput_rps: goodput(stats.good, measured_ms),
            good_pct: judged.good_pct(),
            ttft: stats.ttft.summary(),
            e2e: stats.e2e.summary(),
            ttft_intended: stats.ttft_intended.summary(),
            e2e_intended: stats.e2e_intended.summary(),
            verdict: slo.verdict(&judged),
        }
    }

    pub fn passed(&self) -> bool {
        self.verdict.state == VerdictState::Pass
    }
}

/// The highest offered load whose step passed; `None` when none did.
pub fn max_sustainable(steps: &[StepResult]) -> Option<f64> {
    steps
        .iter()
        .filter(|s| s.passed())
        .map(|s| s.offered)
        .reduce(f64::max)
}

/// "highest load meeting the SLOs: 20 req/s" or "none of the steps met them".
pub fn max_sustainable_sentence(steps: &[StepResult], unit: &str) -> String {
    if steps.iter().all(|s| s.verdict.state == VerdictState::None) {
        return "no SLO target set: no step was judged".into();
    }
    match max_sustainable(steps) {
        Some(load) => format!("highest load meeting the SLOs: {} {unit}", load_text(load)),
        None => "none of the steps met them".into(),
    }
}

/// A load as typed: `20`, `2.5`.
pub fn load_text(load: f64) -> String {
    if load.fract() == 0.0 && load.abs() < 1e15 {
        format!("{load:.0}")
    } else {
        let text = format!("{load:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Whether a sweep that asked to stop early should stop after `steps`: the
/// last two failed.
pub fn should_stop_early(plan: &SweepPlan, steps: &[StepResult]) -> bool {
    plan.stop_early
        && steps.len() >= 2
        && steps[steps.len() - 2..]
            .iter()
            .all(|s| s.verdict.state == VerdictState::Fail)
}

/// Latency of a step for the knee: p95 E2E from the intended start.
fn latency(step: &StepResult) -> Option<f64> {
    step.e2e_intended.p95
}

/// How far above the lowest step's latency counts as the service saturating.
pub const KNEE_LATENCY_FACTOR: f64 = 2.0;
/// Throughput under this share of the offered rate (open loop) is saturation.
pub const KNEE_THROUGHPUT_SHARE: f64 = 0.9;

/// The knee: the last step before the service saturates, by the index in
/// `steps`. A step saturates when its p95 E2E (intended) is over
/// [`KNEE_LATENCY_FACTOR`] × the first step's, when its throughput stops
/// growing (not 5 % above the step before), or, in an open loop, when it is
/// under [`KNEE_THROUGHPUT_SHARE`] of the offered rate. `None` when the first
/// step already saturates or there are fewer than two steps; the last index
/// when none does (no knee within the sweep: then the knee is not reached).
pub fn knee(steps: &[StepResult], open_loop: bool) -> Option<usize> {
    let base = latency(steps.first()?)?;
    if steps.len() < 2 {
        return None;
    }
    let saturated = |i: usize| {
        let step = &steps[i];
        let slow = latency(step).is_none_or(|l| l > base * KNEE_LATENCY_FACTOR);
        let throughput = step.throughput_rps.unwrap_or(0.0);
        let flat = i > 0 && throughput < steps[i - 1].throughput_rps.unwrap_or(0.0) * 1.05;
        let short = open_loop && throughput < step.offered * KNEE_THROUGHPUT_SHARE;
        slow || flat || short
    };
    match (0..steps.len()).find(|i| saturated(*i)) {
        Some(0) => None,
        Some(i) => Some(i - 1),
        None => Some(steps.len() - 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::slo::Verdict;

    fn step(offered: f64, throughput: f64, p95: f64, state: VerdictState) -> StepResult {
        StepResult {
            step: 0,
            offered,
            measured_ms: 10_000.0,
            requests: 0,
            completed: 0,
            failed: 0,
            late_starts: 0,
            dropped: 0,
            throughput_rps: Some(throughput),
            tokens_per_s: None,
            goodput_rps: None,
            good_pct: None,
            ttft: Summary::default(),
            e2e: Summary::default(),
            ttft_intended: Summary::default(),
            e2e_intended: Summary {
                p95: Some(p95),
                ..Summary::default()
            },
            verdict: Verdict {
                state,
                reason: String::new(),
            },
        }
    }

    #[test]
    fn steps_are_read_rising_and_bounded() {
        assert_eq!(
            parse_steps("5,10, 20 40", 128.0, true),
            Ok(vec![5.0, 10.0, 20.0, 40.0])
        );
        assert_eq!(parse_steps("0.5,1.5", 128.0, false), Ok(vec![0.5, 1.5]));
        assert_eq!(
            parse_steps("10,5", 128.0, true),
            Err("Steps rise: 5 does not come after 10.".into())
        );
        assert!(parse_steps("2.5", 128.0, true).is_err());
        assert!(parse_steps("200", 128.0, true)
            .unwrap_err()
            .contains("at most 128"));
        assert!(parse_steps("x", 128.0, true).unwrap_err().contains("\"x\""));
        assert!(parse_steps(" , ", 128.0, true).is_err());
        assert!(parse_steps("NaN", 128.0, false).is_err());
        let many: Vec<String> = (1..=21).map(|i| i.to_string()).collect();
        assert!(parse_steps(&many.join(","), 128.0, true).is_err());
    }

    #[test]
    fn the_knee_on_synthetic_curves() {
        use VerdictState::*;
        // An open loop that carries 5, 10, 20 req/s and saturates at 40.
        let open = [
            step(5.0, 5.0, 1_000.0, Pass),
            step(10.0, 10.0, 1_050.0, Pass),
            step(20.0, 19.6, 1_200.0, Pass),
            step(40.0, 24.0, 6_000.0, Fail),
            step(80.0, 24.5, 20_000.0, Fail),
        ];
        assert_eq!(knee(&open, true), Some(2));
        assert_eq!(max_sustainable(&open), Some(20.0));
        // A closed loop: latency grows slowly, throughput flattens at 16.
        let closed = [
            step(4.0, 4.0, 1_000.0, Pass),
            step(8.0, 8.0, 1_010.0, Pass),
            step(16.0, 8.2, 1_900.0, Pass),
            step(32.0, 8.2, 3_800.0, Fail),
        ];
        assert_eq!(
            knee(&closed, false),
            Some(1),
            "throughput stopped growing at 16"
        );
        // Latency doubling alone is a knee too.
        let slow = [step(1.0, 1.0, 100.0, Pass), step(2.0, 2.0, 250.0, Fail)];
        assert_eq!(knee(&slow, true), Some(0));
        // No knee inside the sweep; saturated from the start; too few steps.
        let linear: Vec<StepResult> = (1..=4)
            .map(|k| step(f64::from(k) * 10.0, f64::from(k) * 10.0, 1_000.0, Pass))
            .collect();
        assert_eq!(knee(&linear, true), Some(3));
        let saturated = [step(10.0, 2.0, 100.0, Fail), step(20.0, 2.0, 200.0, Fail)];
        assert_eq!(knee(&saturated, true), Option::None);
        assert_eq!(knee(&linear[..1], true), Option::None);
    }

    #[test]
    fn the_highest_passing_step_and_stopping_after_two_failures() {
        use VerdictState::*;
        let steps = [
            step(5.0, 5.0, 1.0, Pass),
            step(10.0, 10.0, 1.0, Fail),
            step(20.0, 20.0, 1.0, Pass),
            step(40.0, 20.0, 1.0, Fail),
        ];
        assert_eq!(max_sustainable(&steps), Some(20.0));
        assert_eq!(
            max_sustainable_sentence(&steps, "req/s"),
            "highest load meeting the SLOs: 20 req/s"
        );
        let failing = [step(5.0, 5.0, 1.0, Fail), step(10.0, 5.0, 1.0, Fail)];
        assert_eq!(
            max_sustainable_sentence(&failing, "req/s"),
            "none of the steps met them"
        );
        let plan = SweepPlan {
            steps: vec![5.0, 10.0, 20.0],
            step_ms: 10_000,
            warmup_ms: 2_000,
            stop_early: true,
        };
        assert!(should_stop_early(&plan, &failing));
        assert!(
            !should_stop_early(&plan, &steps),
            "fail, pass, fail is not two in a row"
        );
        assert!(!should_stop_early(&plan, &failing[..1]));
        let keep_going = SweepPlan {
            stop_early: false,
            ..plan
        };
        assert!(!should_stop_early(&keep_going, &failing));
        let unjudged = [step(5.0, 5.0, 1.0, None)];
        assert_eq!(
            max_sustainable_sentence(&unjudged, "req/s"),
            "no SLO target set: no step was judged"
        );
    }
}
