//! Several instances seen as one service: the exact merges of their stage
//! statistics. From execution-stats only what merges exactly (count = sum,
//! min = min, max = max, mean = count-weighted mean); percentiles never
//! (they are not averaged: they stay per instance). From Prometheus
//! histograms everything, by adding the bucket counts of equal bounds.

use crate::contract::config::ServiceConfig;
use crate::contract::execution_stats::{stage_order, ExecutionStats};
use crate::contract::health::ConnectionState;
use crate::format;
use crate::metrics::Statistic;
use crate::monitoring::prometheus::service::{ServiceMetrics, StageHistogram};
use crate::monitoring::stats_view::{column_id, Cell, StageRow, COLUMNS, NO_EXECUTIONS};

/// Shown in the cluster's percentile cells of the execution-stats source.
pub const PER_INSTANCE_ONLY: &str = "per instance only";

/// One stage of the cluster from the instances' execution-stats.
#[derive(Debug, Clone, PartialEq)]
struct Merged {
    id: String,
    name: &'static str,
    count: u64,
    min_ms: Option<f64>,
    max_ms: Option<f64>,
    /// Σ (mean × count) and Σ count over the instances that sent a mean;
    /// `exact` is false once an instance that ran the stage sent none.
    weighted_sum: f64,
    exact: bool,
}

fn combine(a: Option<f64>, b: Option<f64>, pick: fn(f64, f64) -> f64) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// The cluster's rows from each instance's execution-stats, in pipeline order.
pub fn execution_stats_rows(instances: &[&ExecutionStats]) -> Vec<StageRow> {
    let mut merged: Vec<Merged> = Vec::new();
    for stats in instances {
        for stage in &stats.stages {
            let at = match merged.iter().position(|m| m.id == stage.id) {
                Some(at) => at,
                None => {
                    let order = stage_order(&stage.id);
                    let at = merged.partition_point(|m| stage_order(&m.id) <= order);
                    merged.insert(
                        at,
                        Merged {
                            id: stage.id.clone(),
                            name: stage.name,
                            count: 0,
                            min_ms: None,
                            max_ms: None,
                            weighted_sum: 0.0,
                            exact: true,
                        },
                    );
                    at
                }
            };
            let m = &mut merged[at];
            let Some(d) = stage
                .durations
                .as_ref()
                .filter(|_| stage.execution_count > 0)
            else {
                continue;
            };
            m.count = m.count.saturating_add(stage.execution_count);
            m.min_ms = combine(m.min_ms, d.min_ms, f64::min);
            m.max_ms = combine(m.max_ms, d.max_ms, f64::max);
            match d.avg_ms {
                Some(avg) => m.weighted_sum += avg * stage.execution_count as f64,
                None => m.exact = false,
            }
        }
    }
    merged.into_iter().map(row).collect()
}

fn row(m: Merged) -> StageRow {
    let ran = m.count > 0;
    let cells = COLUMNS
        .iter()
        .map(|&statistic| {
            let value = match statistic {
                Statistic::Min => m.min_ms,
                Statistic::Max => m.max_ms,
                Statistic::Mean => (m.exact && ran).then(|| m.weighted_sum / m.count as f64),
                _ => None,
            };
            let text = if !ran {
                NO_EXECUTIONS.to_owned()
            } else if matches!(statistic, Statistic::Min | Statistic::Max | Statistic::Mean) {
                format::duration_ms(value)
            } else {
                PER_INSTANCE_ONLY.to_owned()
            };
            Cell {
                statistic,
                metric: column_id(statistic),
                text,
                value,
                estimate: None,
                query: None,
            }
        })
        .collect();
    StageRow {
        count_query: None,
        id: m.id,
        name: m.name.to_owned(),
        count: m.count,
        cells,
    }
}

/// The instances' stage histograms merged per stage id, and a sentence for
/// each instance's series that could not merge (other bucket bounds): that
/// stage's cluster figures then leave the instance out and say so.
pub fn merge_metrics(instances: &[(&str, &ServiceMetrics)]) -> (ServiceMetrics, Vec<String>) {
    let mut stages: Vec<StageHistogram> = Vec::new();
    let mut notes = Vec::new();
    for (name, metrics) in instances {
        for stage in &metrics.stages {
            match stages.iter_mut().find(|s| s.id == stage.id) {
                Some(merged) => {
                    if merged.histogram.merge(&stage.histogram).is_err() {
                        notes.push(format!(
                            "stage {} of {name} has other bucket bounds: left out of the cluster",
                            stage.id
                        ));
                    }
                }
                None => {
                    let order = stage_order(stage.id.split('-').next().unwrap_or(&stage.id));
                    let at = stages.partition_point(|s| {
                        stage_order(s.id.split('-').next().unwrap_or(&s.id)) <= order
                    });
                    stages.insert(at, stage.clone());
                }
            }
        }
    }
    let merged = ServiceMetrics {
        stages,
        notes: notes.clone(),
        ..ServiceMetrics::default()
    };
    (merged, notes)
}

/// One instance beside the others, for the chart that makes an idle or a
/// slow instance stand out.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceBar {
    pub name: String,
    /// Requests it reports (stage 1, validation, sees every request; else the
    /// largest stage count).
    pub requests: u64,
    /// Its own p95 of the LLM-streaming stage (5), else of its slowest stage;
    /// `None` when it reports none. Each instance's own: never averaged.
    pub p95_ms: Option<f64>,
    /// `idle` (no requests while others have some), `slow` (p95 above 1.5 ×
    /// the median of the instances' p95), or `None`.
    pub flag: Option<&'static str>,
}

/// How much slower than the median p95 marks an instance `slow`.
pub const SLOW_FACTOR: f64 = 1.5;

/// The bars of each instance's rows (its own source: execution-stats or histograms).
pub fn instance_bars(instances: &[(String, Vec<StageRow>)]) -> Vec<InstanceBar> {
    let mut bars: Vec<InstanceBar> = instances
        .iter()
        .map(|(name, rows)| {
            let requests = rows
                .iter()
                .find(|r| r.id == "1")
                .map(|r| r.count)
                .unwrap_or_else(|| rows.iter().map(|r| r.count).max().unwrap_or(0));
            let p95 = |r: &StageRow| r.value(Statistic::P95);
            let p95_ms = rows
                .iter()
                .find(|r| r.id == "5")
                .and_then(p95)
                .or_else(|| rows.iter().filter_map(p95).reduce(f64::max));
            InstanceBar {
                name: name.clone(),
                requests,
                p95_ms,
                flag: None,
            }
        })
        .collect();
    let busy = bars.iter().any(|b| b.requests > 0);
    let mut p95s: Vec<f64> = bars.iter().filter_map(|b| b.p95_ms).collect();
    p95s.sort_by(f64::total_cmp);
    let median = (p95s.len() >= 2).then(|| {
        let mid = p95s.len() / 2;
        if p95s.len().is_multiple_of(2) {
            (p95s[mid - 1] + p95s[mid]) / 2.0
        } else {
            p95s[mid]
        }
    });
    for bar in &mut bars {
        bar.flag = if busy && bar.requests == 0 {
            Some("idle")
        } else if matches!((bar.p95_ms, median), (Some(p), Some(m)) if p > SLOW_FACTOR * m) {
            Some("slow")
        } else {
            None
        };
    }
    bars
}

/// The status of several instances as one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterHealth {
    /// `connected` (every instance healthy), `degraded` (some down or
    /// degraded), `disconnected` (none answers), `checking` (no answer yet).
    pub key: &'static str,
    pub healthy: usize,
    pub total: usize,
    /// "2 of 3 healthy".
    pub label: String,
    /// One sentence per instance that is not healthy, naming it.
    pub problems: Vec<String>,
}

impl ClusterHealth {
    /// This state, degraded by `reason` (a critical alert of the Prometheus
    /// server): every instance healthy becomes degraded; the reason is named.
    pub fn degraded_by(mut self, reason: Option<String>) -> Self {
        if let Some(reason) = reason {
            if matches!(self.key, "connected" | "degraded") {
                self.key = "degraded";
                self.problems.push(reason);
            }
        }
        self
    }
}

/// Decides the cluster's state from each instance's last check.
pub fn cluster_health(instances: &[(String, ConnectionState)]) -> ClusterHealth {
    let total = instances.len();
    let count = |key: &str| instances.iter().filter(|(_, s)| s.key() == key).count();
    let healthy = count("connected");
    let down = count("disconnected");
    let checking = count("checking");
    let key = if total == 0 || checking == total {
        "checking"
    } else if healthy == total {
        "connected"
    } else if down + checking == total {
        "disconnected"
    } else {
        "degraded"
    };
    let problems = instances
        .iter()
        .filter_map(|(name, state)| match state {
            ConnectionState::Degraded { reason, .. } => {
                Some(format!("{name}: answers but is {reason}"))
            }
            ConnectionState::Disconnected { reason } => {
                Some(format!("{name}: cannot be reached ({reason})"))
            }
            _ => None,
        })
        .collect();
    ClusterHealth {
        key,
        healthy,
        total,
        label: format!("{healthy} of {total} healthy"),
        problems,
    }
}

/// Each instance's configuration as read back, compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigAgreement {
    /// The configuration most instances hold (the first one's on a tie).
    pub common: Option<ServiceConfig>,
    /// One sentence per instance that differs from `expected` (or from
    /// `common` when nothing was sent) or could not be read, naming it.
    pub differences: Vec<String>,
}

fn config_text(config: &ServiceConfig) -> String {
    format!(
        "USE_FAKE_LLM {}, ENABLE_CACHING {}, QUEUE_TYPE {}",
        config.use_fake_llm,
        config.enable_caching,
        config.queue_type.as_str()
    )
}

/// The keys where `a` and `b` differ, as `KEY = a_value`.
fn differing_keys(a: &ServiceConfig, b: &ServiceConfig) -> Vec<String> {
    let mut keys = Vec::new();
    if a.use_fake_llm != b.use_fake_llm {
        keys.push(format!("USE_FAKE_LLM = {}", a.use_fake_llm));
    }
    if a.enable_caching != b.enable_caching {
        keys.push(format!("ENABLE_CACHING = {}", a.enable_caching));
    }
    if a.queue_type != b.queue_type {
        keys.push(format!("QUEUE_TYPE = {}", a.queue_type.as_str()));
    }
    keys
}

/// Compares the instances' configurations with `expected` (what was just
/// sent to all), or with each other when nothing was sent.
pub fn config_agreement(
    instances: &[(String, Result<ServiceConfig, String>)],
    expected: Option<&ServiceConfig>,
) -> ConfigAgreement {
    let read: Vec<&ServiceConfig> = instances
        .iter()
        .filter_map(|(_, c)| c.as_ref().ok())
        .collect();
    let common = read
        .iter()
        .max_by_key(|c| {
            // max_by_key keeps the last maximum: rank ties by earliest position.
            let votes = read.iter().filter(|o| o == c).count();
            let first = read.iter().position(|o| o == *c).unwrap_or(0);
            (votes, usize::MAX - first)
        })
        .map(|c| (*c).clone());
    let reference = expected.cloned().or_else(|| common.clone());
    let differences = instances
        .iter()
        .filter_map(|(name, config)| match (config, &reference) {
            (Err(error), _) => Some(format!("{name}: could not be read ({error})")),
            (Ok(config), Some(reference)) if config != reference => {
                let keys = differing_keys(config, reference).join(", ");
                Some(match expected {
                    Some(_) => format!("{name} differs from what was sent: it holds {keys}"),
                    None => format!("{name} differs from the others: it holds {keys}"),
                })
            }
            _ => None,
        })
        .collect();
    ConfigAgreement {
        common,
        differences,
    }
}

/// The sentence of `cfg-message` after reading every instance back.
pub fn agreement_message(agreement: &ConfigAgreement, total: usize, sent: bool) -> String {
    match (&agreement.common, agreement.differences.is_empty(), sent) {
        (Some(config), true, true) => format!(
            "Applied to all {total} instances; each now reports {}.",
            config_text(config)
        ),
        (Some(config), true, false) => format!(
            "All {total} instances report {}.",
            config_text(config)
        ),
        (_, _, true) => format!(
            "Not applied everywhere. {}.",
            agreement.differences.join("; ")
        ),
        (_, _, false) => format!(
            "The instances differ. {}. Apply sends the settings shown to every instance to bring them in line.",
            agreement.differences.join("; ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::stats_source::histogram_rows;

    fn stats(count: u64, avg: f64, min: f64, max: f64) -> ExecutionStats {
        ExecutionStats::parse(&format!(
            r#"{{"stages":{{"1":{{"execution_count":{count},"avg_duration_ms":{avg},"p50_duration_ms":{avg},"p95_duration_ms":{max},"p99_duration_ms":{max},"min_duration_ms":{min},"max_duration_ms":{max}}}}}}}"#
        ))
        .expect("stats")
    }

    #[test]
    fn execution_stats_merge_exactly_and_percentiles_stay_per_instance() {
        let a = stats(3, 2.0, 1.0, 4.0);
        let b = stats(1, 6.0, 0.5, 9.0);
        let idle = stats(0, 0.0, 0.0, 0.0);
        let rows = execution_stats_rows(&[&a, &b, &idle]);
        let one = &rows[0];
        assert_eq!(one.count, 4);
        assert_eq!(one.value(Statistic::Min), Some(0.5));
        assert_eq!(one.value(Statistic::Max), Some(9.0));
        // (2 · 3 + 6 · 1) / 4 = 3, not the mean of the means (4).
        assert_eq!(one.value(Statistic::Mean), Some(3.0));
        for p in Statistic::PERCENTILES {
            let cell = one.cells.iter().find(|c| c.statistic == p).expect("cell");
            assert_eq!((cell.value, cell.text.as_str()), (None, PER_INSTANCE_ONLY));
        }
        let none = execution_stats_rows(&[&idle]);
        assert_eq!(none[0].cells[0].text, NO_EXECUTIONS);
    }

    #[test]
    fn histograms_of_equal_bounds_merge_into_cluster_percentiles() {
        let text = |n: u32| {
            format!(
                "# TYPE sse_stage_duration_seconds histogram\n\
                 sse_stage_duration_seconds_bucket{{stage=\"1\",substage=\"v\",le=\"0.001\"}} {n}\n\
                 sse_stage_duration_seconds_bucket{{stage=\"1\",substage=\"v\",le=\"+Inf\"}} {}\n\
                 sse_stage_duration_seconds_sum{{stage=\"1\",substage=\"v\"}} 0.5\n",
                n + 2
            )
        };
        let a = ServiceMetrics::parse(&text(2)).expect("a");
        let b = ServiceMetrics::parse(&text(6)).expect("b");
        let (merged, notes) = merge_metrics(&[("app-1", &a), ("app-2", &b)]);
        assert!(notes.is_empty());
        let h = &merged.stages[0].histogram;
        assert_eq!(
            (h.cumulative.clone(), h.count, h.sum),
            (vec![8.0], 12.0, Some(1.0))
        );
        // The merged p50 is the p50 of all 12 observations, not an average.
        let rows = histogram_rows(&merged);
        assert_eq!(rows[0].count, 12);
        assert_eq!(rows[0].value(Statistic::P50), Some(0.75));
        let other = ServiceMetrics::parse(&text(1).replace("0.001", "0.002")).expect("c");
        let (_, notes) = merge_metrics(&[("app-1", &a), ("app-3", &other)]);
        assert!(notes[0].contains("app-3"), "{notes:?}");
    }

    fn config(fake: bool, caching: bool) -> ServiceConfig {
        ServiceConfig {
            use_fake_llm: fake,
            enable_caching: caching,
            queue_type: crate::contract::config::QueueType::Redis,
        }
    }

    #[test]
    fn cluster_health_counts_and_names_what_is_down() {
        let up = ConnectionState::Connected { version: None };
        let down = ConnectionState::Disconnected {
            reason: "refused".into(),
        };
        let named = |states: Vec<ConnectionState>| {
            states
                .into_iter()
                .enumerate()
                .map(|(i, s)| (format!("app-{}", i + 1), s))
                .collect::<Vec<_>>()
        };
        let all = cluster_health(&named(vec![up.clone(), up.clone(), up.clone()]));
        assert_eq!(
            (all.key, all.healthy, all.label.as_str()),
            ("connected", 3, "3 of 3 healthy")
        );
        let some = cluster_health(&named(vec![up.clone(), down.clone(), up.clone()]));
        assert_eq!((some.key, some.healthy), ("degraded", 2));
        assert_eq!(
            some.problems,
            vec!["app-2: cannot be reached (refused)".to_owned()]
        );
        let none = cluster_health(&named(vec![down.clone(), ConnectionState::Checking]));
        assert_eq!(
            (none.key, none.label.as_str()),
            ("disconnected", "0 of 2 healthy")
        );
        let waiting = cluster_health(&named(vec![ConnectionState::Checking]));
        assert_eq!(waiting.key, "checking");
        let degraded = ConnectionState::Degraded {
            version: None,
            reason: "degraded".into(),
        };
        assert_eq!(cluster_health(&named(vec![degraded])).key, "degraded");
    }

    #[test]
    fn config_agreement_names_every_instance_that_differs() {
        let same = config(true, true);
        let instances = vec![
            ("app-1".to_owned(), Ok(same.clone())),
            ("app-2".to_owned(), Ok(config(true, false))),
            ("app-3".to_owned(), Ok(same.clone())),
        ];
        let polled = config_agreement(&instances, None);
        assert_eq!(polled.common, Some(same.clone()));
        assert_eq!(
            polled.differences,
            vec!["app-2 differs from the others: it holds ENABLE_CACHING = false".to_owned()]
        );
        assert!(agreement_message(&polled, 3, false).contains("bring them in line"));
        let sent = config(false, true);
        let after = config_agreement(&instances, Some(&sent));
        assert_eq!(after.differences.len(), 3, "{after:?}");
        assert!(after.differences[1].starts_with("app-2 differs from what was sent"));
        let all = vec![
            ("app-1".to_owned(), Ok(sent.clone())),
            ("app-2".to_owned(), Err("HTTP 502".to_owned())),
        ];
        let agreement = config_agreement(&all, Some(&sent));
        assert_eq!(
            agreement.differences,
            vec!["app-2: could not be read (HTTP 502)".to_owned()]
        );
        let fine = config_agreement(&all[..1], Some(&sent));
        assert!(agreement_message(&fine, 1, true).starts_with("Applied to all 1 instances"));
        // A tie goes to the first instance's configuration.
        let tie = config_agreement(
            &[
                ("a".to_owned(), Ok(config(false, false))),
                ("b".to_owned(), Ok(same.clone())),
            ],
            None,
        );
        assert_eq!(tie.common, Some(config(false, false)));
    }

    #[test]
    fn bars_flag_the_idle_and_the_slow_instance() {
        let rows = |count: u64, p95: f64| {
            execution_stats_rows(&[&ExecutionStats::parse(&format!(
                r#"{{"stages":{{"5":{{"execution_count":{count},"avg_duration_ms":{p95},"p50_duration_ms":{p95},"p95_duration_ms":{p95},"p99_duration_ms":{p95},"min_duration_ms":1,"max_duration_ms":{p95}}}}}}}"#
            ))
            .expect("stats")])
        };
        // The cluster merge leaves p95 out; an instance's own rows keep it.
        let own = |count: u64, p95: f64| {
            crate::monitoring::stats_view::stage_rows(
                &ExecutionStats::parse(&format!(
                    r#"{{"stages":{{"5":{{"execution_count":{count},"avg_duration_ms":{p95},"p50_duration_ms":{p95},"p95_duration_ms":{p95},"p99_duration_ms":{p95},"min_duration_ms":1,"max_duration_ms":{p95}}}}}}}"#
                ))
                .expect("stats"),
            )
        };
        assert_eq!(rows(1, 10.0)[0].value(Statistic::P95), None);
        let bars = instance_bars(&[
            ("app-1".into(), own(5, 100.0)),
            ("app-2".into(), own(5, 400.0)),
            ("app-3".into(), own(0, 0.0)),
            ("app-4".into(), own(5, 110.0)),
        ]);
        let flags: Vec<_> = bars.iter().map(|b| b.flag).collect();
        assert_eq!(flags, vec![None, Some("slow"), Some("idle"), None]);
        assert_eq!(bars[0].requests, 5);
        assert_eq!(bars[1].p95_ms, Some(400.0));
    }
}
