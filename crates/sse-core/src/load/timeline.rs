//! The service's stages next to the client's latency during a run. The load
//! tester polls `/admin/execution-stats` every few seconds while it runs; each
//! poll gives, per stage, the mean duration of the executions since the
//! previous poll, exactly, from the cumulative count and mean (what a
//! percentile cannot do: percentiles of two polls do not subtract).

use crate::contract::execution_stats::ExecutionStats;

/// Each stage of `later` with the mean duration (ms) of its executions since
/// `earlier`; `None` where none ran between the two, or where the counts went
/// down (a service that forgets finished requests, or a reset), which leaves
/// the interval unmeasurable.
pub fn stage_means_between(
    earlier: &ExecutionStats,
    later: &ExecutionStats,
) -> Vec<(String, Option<f64>)> {
    later
        .stages
        .iter()
        .map(|stage| {
            let before = earlier.stages.iter().find(|s| s.id == stage.id);
            let (count_before, mean_before) = before.map_or((0, Some(0.0)), |s| {
                (
                    s.execution_count,
                    s.durations.as_ref().and_then(|d| d.avg_ms).or(Some(0.0)),
                )
            });
            let mean_now = stage.durations.as_ref().and_then(|d| d.avg_ms);
            let mean = match (mean_before, mean_now) {
                (Some(before), Some(now)) if stage.execution_count > count_before => {
                    let added = (stage.execution_count - count_before) as f64;
                    let total = now * stage.execution_count as f64 - before * count_before as f64;
                    Some((total / added).max(0.0))
                }
                _ => None,
            };
            (stage.id.clone(), mean)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(stages: &[(&str, u64, f64)]) -> ExecutionStats {
        let body = serde_json::json!({
            "stages": stages.iter().map(|(id, count, avg)| {
                ((*id).to_owned(), serde_json::json!({
                    "avg_duration_ms": avg, "p50_duration_ms": avg, "p95_duration_ms": avg,
                    "p99_duration_ms": avg, "min_duration_ms": avg, "max_duration_ms": avg,
                    "execution_count": count,
                }))
            }).collect::<serde_json::Map<_, _>>()
        });
        ExecutionStats::parse(&body.to_string()).expect("stats")
    }

    fn mean_of(means: &[(String, Option<f64>)], id: &str) -> Option<f64> {
        means.iter().find(|(s, _)| s == id).and_then(|(_, m)| *m)
    }

    #[test]
    fn the_mean_of_the_interval_comes_from_the_cumulative_figures() {
        // 10 executions averaging 2 ms, then 30 averaging 4 ms: the 20 new ones averaged 5 ms.
        let means = stage_means_between(&stats(&[("1", 10, 2.0)]), &stats(&[("1", 30, 4.0)]));
        assert!(
            (mean_of(&means, "1").unwrap_or(0.0) - 5.0).abs() < 1e-9,
            "{means:?}"
        );
    }

    #[test]
    fn an_idle_interval_or_a_falling_count_is_no_measurement() {
        let before = stats(&[("1", 10, 2.0), ("5", 4, 900.0)]);
        let means = stage_means_between(&before, &stats(&[("1", 10, 2.0), ("5", 2, 800.0)]));
        assert_eq!(mean_of(&means, "1"), None);
        assert_eq!(mean_of(&means, "5"), None);
        // A stage seen for the first time: all its executions are new.
        let means = stage_means_between(&ExecutionStats::default(), &stats(&[("3", 4, 1.5)]));
        assert_eq!(mean_of(&means, "3"), Some(1.5));
    }
}
