//! The SSE service's own families in a scrape of `/admin/metrics`: per-stage
//! duration histograms, the overall request histogram, requests by status,
//! active connections, cache hits and misses by tier, and the queue depth.

use super::exposition::{Exposition, ExpositionError, Family, Index, MetricType};
use super::histogram::{histograms, Histogram};
use crate::contract::execution_stats::stage_order;

/// Per-stage durations, labels `stage` (the id) and `substage` (a name).
pub const STAGE_DURATIONS: &str = "sse_stage_duration_seconds";
/// Whole-request durations, label `stage="overall"`.
pub const REQUEST_DURATIONS: &str = "sse_request_duration_seconds";
/// Requests by `status` (and `model`, `provider`).
pub const REQUESTS: &str = "sse_requests_total";
pub const ACTIVE_CONNECTIONS: &str = "sse_active_connections";
/// Cache hits and misses, by the label `tier`.
pub const CACHE_HITS: &str = "sse_cache_hits_total";
pub const CACHE_MISSES: &str = "sse_cache_misses_total";
pub const QUEUE_DEPTH: &str = "sse_queue_depth";

/// The label that names a cache tier; a series without it counts as "all".
const TIER_LABEL: &str = "tier";

/// One stage's histogram: every `substage` of the stage id merged (they share
/// bounds), e.g. one "Validate model: …" series per model under `5.1`.
#[derive(Debug, Clone, PartialEq)]
pub struct StageHistogram {
    /// The service's id as it sends it (`1`, `2.1-2.2`, `5.1`).
    pub id: String,
    /// The substage names, joined with " / ".
    pub name: String,
    pub histogram: Histogram,
}

/// A counter summed by one label: (label value, sum), sorted by value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Tally(pub Vec<(String, f64)>);

impl Tally {
    pub fn get(&self, key: &str) -> Option<f64> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| *v)
    }

    /// The sum over every key; absent when the family had no series.
    pub fn total(&self) -> Option<f64> {
        (!self.0.is_empty()).then(|| self.0.iter().map(|(_, v)| v).sum())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.0.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// What one scrape says about the service.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ServiceMetrics {
    /// In pipeline order.
    pub stages: Vec<StageHistogram>,
    pub request_durations: Option<Histogram>,
    /// Requests by status, summed over the other labels (absent family = empty).
    pub requests_by_status: Tally,
    pub active_connections: Option<f64>,
    pub cache_hits: Tally,
    pub cache_misses: Tally,
    pub queue_depth: Option<f64>,
    /// Everything left out of the scrape, in sentences.
    pub notes: Vec<String>,
}

/// Sums a counter family by one label (series without it under `missing`).
fn sum_by(family: Option<&Family>, label: &str, missing: &str) -> Tally {
    let mut index = Index::default();
    let mut sums = Vec::new();
    for sample in family.iter().flat_map(|f| &f.samples) {
        // `_created` lines are timestamps, not counts.
        if sample.name.ends_with("_created") || !sample.value.is_finite() {
            continue;
        }
        let (at, new) = index.slot(sample.label(label).unwrap_or(missing), sums.len());
        if new {
            sums.push(0.0);
        }
        sums[at] += sample.value;
    }
    Tally(
        index
            .sorted()
            .map(|(k, at)| (k.to_owned(), sums[at]))
            .collect(),
    )
}

/// A gauge's value summed over its series; absent without a finite sample.
fn gauge(family: Option<&Family>) -> Option<f64> {
    family?
        .samples
        .iter()
        .map(|s| s.value)
        .filter(|v| v.is_finite())
        .reduce(|a, b| a + b)
}

/// "2.1-2.2" sorts where "2.1" does.
fn order_key(id: &str) -> Vec<u32> {
    stage_order(id.split('-').next().unwrap_or(id))
}

fn stage_histograms(family: &Family, notes: &mut Vec<String>) -> Vec<StageHistogram> {
    let (series, series_notes) = histograms(family);
    notes.extend(series_notes);
    let mut stages: Vec<StageHistogram> = Vec::new();
    for (labels, histogram) in series {
        let find = |name: &str| {
            labels
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        let id = find("stage").unwrap_or_else(|| "?".to_owned());
        let name = find("substage").unwrap_or_default();
        match stages.iter_mut().find(|s| s.id == id) {
            Some(stage) => {
                if stage.histogram.merge(&histogram).is_err() {
                    notes.push(format!(
                        "stage {id} \"{name}\" has other bucket bounds than its other substages; left out"
                    ));
                } else if !name.is_empty() && !stage.name.split(" / ").any(|n| n == name) {
                    stage.name = format!("{} / {name}", stage.name);
                }
            }
            None => {
                // Kept in pipeline order as they come.
                let order = order_key(&id);
                let at = stages.partition_point(|s| order_key(&s.id) <= order);
                stages.insert(
                    at,
                    StageHistogram {
                        id,
                        name,
                        histogram,
                    },
                );
            }
        }
    }
    stages
}

impl ServiceMetrics {
    /// Reads a scrape's text.
    pub fn parse(text: &str) -> Result<Self, ExpositionError> {
        Ok(Self::from_exposition(&Exposition::parse(text)?))
    }

    pub fn from_exposition(exposition: &Exposition) -> Self {
        let mut notes = exposition.notes();
        let family = |name: &str| exposition.family(name);
        let histogram_family = |name: &str, notes: &mut Vec<String>| {
            let f = family(name)?;
            if f.kind == MetricType::Histogram {
                Some(f)
            } else {
                notes.push(format!("{name} is not declared a histogram; left out"));
                None
            }
        };
        let stages = histogram_family(STAGE_DURATIONS, &mut notes)
            .map(|f| stage_histograms(f, &mut notes))
            .unwrap_or_default();
        let request_durations = histogram_family(REQUEST_DURATIONS, &mut notes).and_then(|f| {
            let (series, series_notes) = histograms(f);
            notes.extend(series_notes);
            series.into_iter().map(|(_, h)| h).reduce(|mut a, b| {
                if a.merge(&b).is_err() {
                    notes.push(format!(
                        "{REQUEST_DURATIONS} series with other bounds; left out"
                    ));
                }
                a
            })
        });
        Self {
            stages,
            request_durations,
            requests_by_status: sum_by(family(REQUESTS), "status", "unlabelled"),
            active_connections: gauge(family(ACTIVE_CONNECTIONS)),
            cache_hits: sum_by(family(CACHE_HITS), TIER_LABEL, "all"),
            cache_misses: sum_by(family(CACHE_MISSES), TIER_LABEL, "all"),
            queue_depth: gauge(family(QUEUE_DEPTH)),
            notes,
        }
    }

    /// Whether any stage histogram holds an observation.
    pub fn has_stage_data(&self) -> bool {
        self.stages.iter().any(|s| s.histogram.count > 0.0)
    }

    pub fn stage(&self, id: &str) -> Option<&StageHistogram> {
        self.stages.iter().find(|s| s.id == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPTURE: &str = include_str!("../../../tests/captures/original-admin-metrics.prom");

    #[test]
    fn the_capture_gives_the_stage_counts_and_sums_it_holds() {
        let m = ServiceMetrics::parse(CAPTURE).expect("capture parses");
        let ids: Vec<&str> = m.stages.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["1", "2.1-2.2", "2.3", "3", "4", "5", "5.1", "6"]);
        for s in &m.stages {
            assert_eq!(s.histogram.count, 2.0, "stage {}", s.id);
        }
        let sum = |id: &str| m.stage(id).and_then(|s| s.histogram.sum);
        assert_eq!(sum("1"), Some(0.00235));
        assert_eq!(sum("5"), Some(46.39730000000001));
        assert_eq!(sum("5.1"), Some(5.9999999999999995e-05));
        assert_eq!(
            m.stage("5.1").map(|s| s.name.as_str()),
            Some("Validate model: gpt-3.5-turbo")
        );
        // Stage 5 (12–35 s streams) sits above the 1 s top bucket.
        let p50 = m
            .stage("5")
            .and_then(|s| s.histogram.quantile(0.5))
            .expect("p50");
        assert_eq!(p50.value, 1.0);
        assert!(p50.above_highest_bound());
        let overall = m.request_durations.as_ref().expect("overall");
        assert_eq!((overall.count, overall.bounds.len()), (2.0, 10));
        assert_eq!(m.requests_by_status.get("success"), Some(4.0));
        assert_eq!(m.active_connections, Some(0.0));
        // Declared but empty families are absent, not zero.
        assert!(m.cache_hits.is_empty() && m.queue_depth.is_none());
        assert_eq!(m.notes, Vec::<String>::new());
    }

    #[test]
    fn substages_of_one_stage_merge_and_odd_bounds_are_named() {
        let text = "# TYPE sse_stage_duration_seconds histogram\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: a\",le=\"1\"} 1\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: a\",le=\"+Inf\"} 1\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: b\",le=\"1\"} 2\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: b\",le=\"+Inf\"} 3\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: c\",le=\"2\"} 2\n\
            sse_stage_duration_seconds_bucket{stage=\"5.1\",substage=\"Validate model: c\",le=\"+Inf\"} 3\n";
        let m = ServiceMetrics::parse(text).expect("parses");
        let s = m.stage("5.1").expect("5.1");
        assert_eq!(s.histogram.count, 4.0);
        assert_eq!(s.name, "Validate model: a / Validate model: b");
        assert!(m.notes[0].contains("other bucket bounds"), "{:?}", m.notes);
    }

    #[test]
    fn counters_sum_by_their_label() {
        let text = "# TYPE sse_cache_hits_total counter\n\
            sse_cache_hits_total{tier=\"l1\",model=\"a\"} 2\nsse_cache_hits_total{tier=\"l1\",model=\"b\"} 3\n\
            sse_cache_hits_total{tier=\"l2\"} 1\nsse_cache_hits_created{tier=\"l2\"} 1.7e9\n\
            sse_queue_depth 4\n";
        let m = ServiceMetrics::parse(text).expect("parses");
        assert_eq!(m.cache_hits.get("l1"), Some(5.0));
        assert_eq!(m.cache_hits.get("l2"), Some(1.0));
        assert_eq!(m.queue_depth, Some(4.0));
        assert!(!m.has_stage_data());
    }
}
