//! Percentiles, bounded distributions, run statistics and window series.

use sse_core::load::recorder::{Outcome, RequestRecord};
use sse_core::load::run_stats::RunStats;
use sse_core::metrics::distribution::{Distribution, EXACT_SAMPLES};

fn distribution(values: &[f64]) -> Distribution {
    let mut d = Distribution::new();
    for &v in values {
        d.record(v);
    }
    d
}

#[test]
fn nearest_rank_percentiles_match_hand_computed_values() {
    // Sorted: 15 20 35 40 50. Rank = ceil(p/100 * 5).
    let d = distribution(&[50.0, 15.0, 40.0, 20.0, 35.0]);
    assert_eq!(d.percentile(5.0), Some(15.0)); // rank ceil(0.25) = 1
    assert_eq!(d.percentile(30.0), Some(20.0)); // rank ceil(1.5) = 2
    assert_eq!(d.percentile(40.0), Some(20.0)); // rank 2 exactly
    assert_eq!(d.percentile(50.0), Some(35.0)); // rank ceil(2.5) = 3
    assert_eq!(d.percentile(100.0), Some(50.0));
    // 1..=100: p50 is the 50th value, p90 the 90th, p99 the 99th.
    let d = distribution(&(1..=100).map(f64::from).collect::<Vec<_>>());
    assert_eq!(
        d.percentiles(&[50.0, 90.0, 95.0, 99.0]),
        vec![Some(50.0), Some(90.0), Some(95.0), Some(99.0)]
    );
    // Four values: p50 is the 2nd (no interpolation).
    assert_eq!(
        distribution(&[1.0, 2.0, 3.0, 4.0]).percentile(50.0),
        Some(2.0)
    );
}

#[test]
fn empty_distribution_has_no_figures_and_bad_values_are_ignored() {
    let mut d = Distribution::new();
    assert_eq!(d.summary().p50, None);
    assert_eq!(d.mean(), None);
    d.record(f64::NAN);
    d.record(f64::INFINITY);
    d.record(-1.0);
    assert_eq!(d.count(), 0);
    d.record(0.0);
    let s = d.summary();
    assert_eq!(
        (s.count, s.min, s.max, s.mean, s.p99),
        (1, Some(0.0), Some(0.0), Some(0.0), Some(0.0))
    );
}

#[test]
fn min_max_mean_are_exact() {
    let s = distribution(&[3.0, 1.0, 2.0, 6.0]).summary();
    assert_eq!((s.min, s.mean, s.max), (Some(1.0), Some(3.0), Some(6.0)));
}

#[test]
fn beyond_the_exact_cap_percentiles_stay_within_half_a_percent() {
    // A spread of latencies from 0.5 ms to ~50 s, deterministic.
    let n = EXACT_SAMPLES * 5;
    let values: Vec<f64> = (0..n)
        .map(|i| 0.5 * 1.0002f64.powi((i * 7919 % n) as i32))
        .collect();
    let d = distribution(&values);
    assert!(!d.is_exact());
    let exact = {
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        move |p: f64| sorted[((p / 100.0 * n as f64).ceil() as usize).max(1) - 1]
    };
    for p in [1.0, 25.0, 50.0, 90.0, 95.0, 99.0, 99.9, 100.0] {
        let got = d.percentile(p).expect("has samples");
        let want = exact(p);
        let error = (got - want).abs() / want;
        assert!(
            error <= 0.005,
            "p{p}: got {got}, exact {want}, relative error {error}"
        );
    }
    let s = d.summary();
    assert_eq!(s.min, values.iter().copied().reduce(f64::min));
    assert_eq!(s.max, values.iter().copied().reduce(f64::max));
    assert_eq!(s.count, n as u64);
}

#[test]
fn merging_gives_the_same_answers_as_recording_everything_in_one() {
    let a: Vec<f64> = (0..3000).map(|i| f64::from(i) * 0.7).collect();
    let b: Vec<f64> = (0..9000).map(|i| f64::from(i) * 1.3 + 5.0).collect();
    let mut merged = distribution(&a);
    merged.merge(&distribution(&b));
    let all = distribution(&[a, b].concat());
    assert_eq!(merged.count(), all.count());
    assert_eq!(merged.summary(), all.summary());
}

fn record(
    ended_at_ms: f64,
    outcome: Outcome,
    e2e_ms: f64,
    status: Option<u16>,
    layer: &str,
) -> RequestRecord {
    RequestRecord {
        sent_at_ms: ended_at_ms - e2e_ms,
        headers_at_ms: Some(ended_at_ms - e2e_ms + 1.0),
        status,
        resilience_layer: Some(layer.into()),
        thread_id: None,
        ttft_ms: Some(e2e_ms / 10.0),
        inter_chunk_gaps_ms: vec![5.0, 7.0],
        e2e_ms,
        ended_at_ms,
        chunk_count: 3,
        output_chars: 40,
        output_tokens: 10,
        cache_hit: false,
        comments: 0,
        outcome,
        browser_queue_ms: Some(e2e_ms / 100.0),
        protocol: Some("h2".into()),
        instance: None,
        intended_at_ms: None,
    }
}

#[test]
fn run_stats_judge_open_loop_requests_from_their_intended_start() {
    use sse_core::load::slo::{Slo, VerdictState};
    let slo = Slo {
        ttft_ms: Some(150.0),
        good_pct: 60.0,
        ..Slo::default()
    };
    let mut stats = RunStats::new(0.0).judged_by(slo.clone());
    // Three completed requests of E2E 1 s and TTFT 100 ms: on time, 5 ms
    // late (not a late start), 200 ms late (its TTFT from arrival is 300 ms).
    for (end, lateness) in [(1_000.0, 0.0), (2_000.0, 5.0), (3_000.0, 200.0)] {
        let mut r = record(end, Outcome::Completed, 1_000.0, Some(200), "1-Direct");
        r.ttft_ms = Some(100.0);
        r.intended_at_ms = Some(r.sent_at_ms - lateness);
        stats.add(&r);
    }
    let mut failed = record(4_000.0, Outcome::EndedEarly, 10.0, Some(200), "1-Direct");
    failed.intended_at_ms = Some(failed.sent_at_ms);
    stats.add(&failed);
    assert_eq!(stats.late_starts, 1);
    assert_eq!(stats.lateness.count(), 4);
    assert_eq!(stats.lateness.max(), Some(200.0));
    assert_eq!(stats.e2e.max(), Some(1_000.0), "from the send");
    assert_eq!(stats.e2e_intended.max(), Some(1_200.0), "from the arrival");
    assert_eq!(stats.ttft_intended.max(), Some(300.0));
    assert_eq!(
        stats.good, 2,
        "the late one missed the TTFT target; the failed one is not good"
    );
    let judged = stats.judged();
    assert_eq!((judged.good, judged.judged), (2, 4));
    let verdict = slo.verdict(&judged);
    assert_eq!(verdict.state, VerdictState::Fail, "{}", verdict.reason);
    assert_eq!(
        verdict.reason,
        "p95 TTFT 300.0 ms over the 150.0 ms target; 50 % good (2 of 4), 60 % needed"
    );
    // A closed loop has no intended start: no lateness, intended = actual.
    let mut closed = RunStats::new(0.0);
    closed.add(&record(
        1_000.0,
        Outcome::Completed,
        900.0,
        Some(200),
        "1-Direct",
    ));
    assert_eq!(closed.lateness.count(), 0);
    assert_eq!(closed.e2e_intended.max(), closed.e2e.max());
}

#[test]
fn run_stats_count_outcomes_statuses_layers_and_failure_groups() {
    let mut stats = RunStats::new(0.0);
    stats.add(&record(
        1_000.0,
        Outcome::Completed,
        900.0,
        Some(200),
        "1-Direct",
    ));
    stats.add(&record(
        2_000.0,
        Outcome::Completed,
        1_500.0,
        Some(200),
        "3-Queue-Failover",
    ));
    let queue_timeout = Outcome::StreamError {
        kind: "Queue timeout - server busy".into(),
        message: "waited".into(),
    };
    stats.add(&record(
        2_500.0,
        queue_timeout.clone(),
        30_000.0,
        Some(200),
        "3-Queue-Failover",
    ));
    stats.add(&record(
        2_600.0,
        queue_timeout,
        30_000.0,
        Some(200),
        "3-Queue-Failover",
    ));
    let limited = Outcome::HttpStatus {
        status: 429,
        kind: "rate_limit_exceeded".into(),
        message: "Too many requests".into(),
    };
    stats.add(&record(3_000.0, limited, 3.0, Some(429), "none"));
    stats.add(&record(
        4_000.0,
        Outcome::Aborted,
        50.0,
        Some(200),
        "1-Direct",
    ));

    assert_eq!(
        (stats.requests, stats.completed, stats.failed, stats.aborted),
        (6, 2, 3, 1)
    );
    assert_eq!(stats.by_status.get(&200), Some(&5));
    assert_eq!(stats.by_status.get(&429), Some(&1));
    assert_eq!(stats.by_resilience_layer.get("3-Queue-Failover"), Some(&3));
    assert_eq!(stats.by_outcome.get("stream_error"), Some(&2));
    let groups = stats.failure_groups();
    assert_eq!(groups[0].kind, "Queue timeout - server busy");
    assert_eq!(groups[0].count, 2);
    assert_eq!(
        groups[0].first_message,
        "error event Queue timeout - server busy: waited"
    );
    assert_eq!(groups[1].status, Some(429));
    // Latency figures take completed requests only.
    assert_eq!(stats.e2e.count(), 2);
    assert_eq!(stats.e2e.summary().max, Some(1_500.0));
    assert_eq!(stats.itl.count(), 4);
    // TPOT = (e2e - ttft) / 9: (900 - 90) / 9 = 90 and (1500 - 150) / 9 = 150.
    assert_eq!(stats.tpot.summary().p99, Some(150.0));
    // Throughput over the 4 s the run took: 2 completed, 60 tokens (all requests).
    assert_eq!(stats.requests_per_s(None), Some(0.5));
    assert_eq!(stats.tokens_per_s(None), Some(15.0));
    assert_eq!(stats.requests_per_s(Some(8_000.0)), Some(0.25));
}

#[test]
fn window_series_assigns_by_end_time_and_coarsens_instead_of_growing() {
    let mut stats = RunStats::with_windows(0.0, 1_000.0, 4);
    stats.add(&record(
        500.0,
        Outcome::Completed,
        100.0,
        Some(200),
        "1-Direct",
    ));
    stats.add(&record(
        1_500.0,
        Outcome::Completed,
        300.0,
        Some(200),
        "1-Direct",
    ));
    stats.add(&record(
        1_700.0,
        Outcome::Completed,
        500.0,
        Some(200),
        "1-Direct",
    ));
    let windows = stats.series.windows();
    assert_eq!(windows.len(), 2);
    assert_eq!(
        (windows[1].completed, windows[1].e2e.percentile(50.0)),
        (2, Some(300.0))
    );

    // 6.5 s is beyond 4 windows of 1 s: the series now has 2 s windows.
    stats.add(&record(
        6_500.0,
        Outcome::Completed,
        700.0,
        Some(200),
        "1-Direct",
    ));
    assert_eq!(stats.series.width_ms(), 2_000.0);
    let windows = stats.series.windows();
    assert_eq!(windows.len(), 4);
    assert_eq!(windows[0].completed, 3);
    assert_eq!(windows[0].e2e.count(), 3);
    assert_eq!(windows[3].start_ms, 6_000.0);
    // Whole-run figures are not affected by windowing.
    assert_eq!(stats.e2e.percentile(50.0), Some(300.0));
    let total: u64 = windows.iter().map(|w| w.completed).sum();
    assert_eq!(total, 4);
}

#[test]
fn count_above_is_exact_with_samples_and_close_with_the_histogram() {
    let mut d = sse_core::metrics::distribution::Distribution::new();
    for v in [5.0, 50.0, 100.0, 150.0, 2_000.0] {
        d.record(v);
    }
    assert_eq!(d.count_above(100.0), 2);
    for i in 0..20_000 {
        d.record(if i % 4 == 0 { 1_000.0 } else { 10.0 });
    }
    assert_eq!(d.count_above(100.0), 5_000 + 2);
}

#[test]
fn run_stats_split_per_instance_and_leave_unattributed_requests_out() {
    let mut stats = RunStats::new(0.0);
    let on = |instance: Option<&str>, outcome: Outcome, e2e: f64| RequestRecord {
        instance: instance.map(str::to_owned),
        ..record(e2e + 10.0, outcome, e2e, Some(200), "1-Direct")
    };
    for e2e in [100.0, 200.0, 300.0] {
        stats.add(&on(Some("app-1"), Outcome::Completed, e2e));
    }
    stats.add(&on(Some("app-2"), Outcome::Completed, 1_000.0));
    stats.add(&on(Some("app-2"), Outcome::EndedEarly, 50.0));
    stats.add(&on(None, Outcome::Completed, 5.0));
    assert_eq!(
        stats.by_instance.len(),
        2,
        "no answer named an instance: left out"
    );
    let one = &stats.by_instance["app-1"];
    assert_eq!((one.completed, one.failed), (3, 0));
    assert_eq!(one.e2e.summary().p50, Some(200.0));
    assert_eq!(one.ttft.summary().p50, Some(20.0));
    let two = &stats.by_instance["app-2"];
    assert_eq!((two.completed, two.failed), (1, 1));
    // Each instance's own percentile, never one of the whole run.
    assert_eq!(two.e2e.summary().p50, Some(1_000.0));
    assert!(two.first_failure.is_some());
    assert_eq!(stats.completed, 5);
}
