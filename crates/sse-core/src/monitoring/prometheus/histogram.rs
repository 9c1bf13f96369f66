//! Prometheus histograms: bucket counts per label set, exact merging of
//! histograms with equal bounds, quantiles by `histogram_quantile`'s method and
//! the increase between two scrapes (a counter reset counts from zero).

use super::exposition::{parse_value, Family, Index, Labels, MetricType};

/// One histogram series: cumulative bucket counts.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Finite upper bounds (`le`), ascending.
    pub bounds: Vec<f64>,
    /// Observations at or below each finite bound.
    pub cumulative: Vec<f64>,
    /// Every observation: the `+Inf` bucket.
    pub count: f64,
    /// The sum of all observations (absent when the series has no `_sum`).
    pub sum: Option<f64>,
    /// When the series started (`_created`, seconds since the epoch).
    pub created: Option<f64>,
}

/// Where a quantile falls: the estimate and the bucket that bounds it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileEstimate {
    /// `histogram_quantile`'s answer (linear interpolation inside the bucket).
    pub value: f64,
    /// The bucket's lower edge (0 for the first bucket).
    pub lower: f64,
    /// The bucket's upper edge; `+Inf` when the rank is in the `+Inf` bucket
    /// (then `value` is the highest finite bound: the quantile is above it).
    pub upper: f64,
}

impl QuantileEstimate {
    /// The rank fell in the `+Inf` bucket: the true value is above `value`.
    pub fn above_highest_bound(&self) -> bool {
        self.upper.is_infinite()
    }
}

/// Why two histograms do not merge.
#[derive(Debug, Clone, PartialEq)]
pub struct DifferentBounds;

impl Histogram {
    /// An empty histogram with these finite bounds.
    pub fn empty(bounds: Vec<f64>) -> Self {
        let cumulative = vec![0.0; bounds.len()];
        Self {
            bounds,
            cumulative,
            count: 0.0,
            sum: Some(0.0),
            created: None,
        }
    }

    /// Mean observation (sum / count); absent when empty or without a sum.
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0.0)
            .then_some(self.sum? / self.count)
            .filter(|m| m.is_finite())
    }

    /// The `q`-quantile (0 < q ≤ 1) by Prometheus' `histogram_quantile`: the
    /// bucket holding rank `q · count`, linear interpolation inside it, 0 as the
    /// first bucket's lower edge (unless that bound is ≤ 0, which is answered
    /// as is), a rank in `+Inf` answered by the highest finite bound. Absent
    /// for an empty histogram, one without finite bounds, or q outside (0, 1].
    pub fn quantile(&self, q: f64) -> Option<QuantileEstimate> {
        // Written so that a NaN q or count is refused too.
        let q_in_range = q > 0.0 && q <= 1.0;
        // A count that overflowed (merged beyond f64) has no rank either.
        let observed = self.count > 0.0 && self.count.is_finite();
        if !q_in_range || !observed || self.bounds.is_empty() {
            return None;
        }
        let rank = q * self.count;
        let Some(b) = self.cumulative.iter().position(|&c| c >= rank) else {
            let highest = *self.bounds.last()?;
            return Some(QuantileEstimate {
                value: highest,
                lower: highest,
                upper: f64::INFINITY,
            });
        };
        let upper = self.bounds[b];
        if b == 0 && upper <= 0.0 {
            return Some(QuantileEstimate {
                value: upper,
                lower: f64::NEG_INFINITY,
                upper,
            });
        }
        let (lower, below) = if b == 0 {
            (0.0, 0.0)
        } else {
            (self.bounds[b - 1], self.cumulative[b - 1])
        };
        let in_bucket = self.cumulative[b] - below;
        let value = if in_bucket > 0.0 {
            // Float rounding may carry a hair past the bound: the value
            // stays in its bucket (found by the fuzz target).
            (lower + (upper - lower) * ((rank - below) / in_bucket)).min(upper)
        } else {
            upper
        };
        Some(QuantileEstimate {
            value,
            lower,
            upper,
        })
    }

    /// Adds `other`'s observations: exact when the bounds are equal (how
    /// Grafana sums instances), refused otherwise (no re-bucketing guesses).
    pub fn merge(&mut self, other: &Histogram) -> Result<(), DifferentBounds> {
        if self.bounds != other.bounds {
            return Err(DifferentBounds);
        }
        for (mine, theirs) in self.cumulative.iter_mut().zip(&other.cumulative) {
            *mine += theirs;
        }
        self.count += other.count;
        self.sum = self.sum.zip(other.sum).map(|(a, b)| a + b);
        self.created = match (self.created, other.created) {
            (Some(a), Some(b)) => Some(a.min(b)),
            _ => None,
        };
        Ok(())
    }

    /// Whether this is a restart of `earlier`'s series (a counter reset): any
    /// count went down, the bounds changed, or `_created` moved.
    pub fn reset_since(&self, earlier: &Histogram) -> bool {
        self.bounds != earlier.bounds
            || self.count < earlier.count
            || self
                .cumulative
                .iter()
                .zip(&earlier.cumulative)
                .any(|(now, then)| now < then)
            || matches!((self.created, earlier.created), (Some(a), Some(b)) if a != b)
    }

    /// The observations made since `earlier` was scraped. After a reset the
    /// series started again from zero, so everything it holds is new.
    pub fn since(&self, earlier: &Histogram) -> Histogram {
        if self.reset_since(earlier) {
            return self.clone();
        }
        Histogram {
            bounds: self.bounds.clone(),
            cumulative: self
                .cumulative
                .iter()
                .zip(&earlier.cumulative)
                .map(|(now, then)| now - then)
                .collect(),
            count: self.count - earlier.count,
            sum: self.sum.zip(earlier.sum).map(|(a, b)| a - b),
            created: self.created,
        }
    }
}

/// How much a counter grew between two scrapes: a value that went down is a
/// restart, so its whole new value counts (Prometheus' reset rule).
pub fn counter_increase(earlier: f64, now: f64) -> f64 {
    if now >= earlier {
        now - earlier
    } else {
        now
    }
}

/// Per second between two scrapes `seconds` apart (no extrapolation);
/// absent when no time passed.
pub fn counter_rate(earlier: f64, now: f64, seconds: f64) -> Option<f64> {
    (seconds > 0.0).then(|| counter_increase(earlier, now) / seconds)
}

/// A histogram family's series with their labels (without `le`), in the
/// order they first appear, and a sentence for every series left out.
pub fn histograms(family: &Family) -> (Vec<(Labels, Histogram)>, Vec<String>) {
    #[derive(Default)]
    struct Parts {
        /// (bound, count), kept sorted by bound as they come.
        buckets: Vec<(f64, f64)>,
        count: Option<f64>,
        sum: Option<f64>,
        created: Option<f64>,
        problem: Option<&'static str>,
    }
    let mut notes = Vec::new();
    if family.kind != MetricType::Histogram {
        notes.push(format!("{} is not declared a histogram", family.name));
        return (Vec::new(), notes);
    }
    let mut index = Index::default();
    let mut series: Vec<(Labels, Parts)> = Vec::new();
    for sample in &family.samples {
        let suffix = sample.name.get(family.name.len()..).unwrap_or("");
        let mut labels = sample.labels.clone();
        let le = labels
            .iter()
            .position(|(n, _)| n == "le")
            .map(|at| labels.remove(at).1);
        let key = label_key(&labels);
        let (at, new) = index.slot(&key, series.len());
        if new {
            series.push((labels, Parts::default()));
        }
        let parts = &mut series[at].1;
        match (suffix, le) {
            ("_bucket", Some(le)) => match parse_value(&le) {
                // A count that is infinite, NaN or negative is no count (an
                // infinite one would make every rank fall in its bucket).
                Some(_) if !(sample.value.is_finite() && sample.value >= 0.0) => {
                    parts.problem = Some("a bucket's count is no count");
                }
                Some(bound) if !bound.is_nan() => {
                    let at = parts.buckets.partition_point(|(b, _)| *b < bound);
                    if parts.buckets.get(at).is_some_and(|(b, _)| *b == bound) {
                        parts.problem = Some("a bucket appears twice");
                    } else {
                        parts.buckets.insert(at, (bound, sample.value));
                    }
                }
                _ => parts.problem = Some("a bucket's le is not a number"),
            },
            ("_bucket", None) => parts.problem = Some("a bucket has no le label"),
            ("_count", _) => parts.count = Some(sample.value),
            ("_sum", _) => parts.sum = Some(sample.value),
            ("_created", _) => parts.created = Some(sample.value),
            _ => {}
        }
    }
    let mut out = Vec::with_capacity(series.len());
    for (labels, mut parts) in series {
        let name = series_name(&family.name, &labels);
        let infinite = parts
            .buckets
            .last()
            .filter(|(b, _)| b.is_infinite() && *b > 0.0)
            .map(|(_, c)| *c);
        let problem = parts.problem.or(match infinite {
            None => Some("it has no +Inf bucket (cut off?)"),
            Some(c) if !c.is_finite() || c < 0.0 => Some("its +Inf bucket is no count"),
            _ => None,
        });
        if let Some(problem) = problem {
            notes.push(format!("{name} was left out: {problem}"));
            continue;
        }
        let count = infinite.unwrap_or(0.0);
        if parts.count.is_some_and(|c| c != count) {
            notes.push(format!(
                "{name}: its _count differs from its +Inf bucket; the bucket is used"
            ));
        }
        parts.buckets.pop();
        // Cumulative counts never go down; Prometheus evens out a bucket
        // that does (float error in a rate), and so does this.
        let mut highest: f64 = 0.0;
        let mut evened = false;
        let cumulative = parts
            .buckets
            .iter()
            .map(|(_, c)| {
                evened |= *c < highest;
                highest = highest.max(*c);
                highest
            })
            .collect();
        if evened || highest > count {
            notes.push(format!("{name}: bucket counts were not cumulative"));
        }
        out.push((
            labels,
            Histogram {
                bounds: parts.buckets.iter().map(|(b, _)| *b).collect(),
                cumulative,
                count: count.max(highest),
                sum: parts.sum,
                created: parts.created,
            },
        ));
    }
    (out, notes)
}

/// Labels as one map key: each name and value length-prefixed, so that no two
/// label sets share a key whatever their values hold.
fn label_key(labels: &Labels) -> String {
    let mut key = String::new();
    for (name, value) in labels {
        key.push_str(&format!("{}:{name}={}:{value},", name.len(), value.len()));
    }
    key
}

fn series_name(family: &str, labels: &Labels) -> String {
    let labels: Vec<String> = labels.iter().map(|(n, v)| format!("{n}=\"{v}\"")).collect();
    format!("{family}{{{}}}", labels.join(","))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitoring::prometheus::exposition::Exposition;

    fn hist(bounds: &[f64], cumulative: &[f64], count: f64) -> Histogram {
        Histogram {
            bounds: bounds.to_vec(),
            cumulative: cumulative.to_vec(),
            count,
            sum: Some(0.0),
            created: None,
        }
    }

    #[test]
    fn quantiles_by_hand() {
        // 10 observations: 2 in (0, 1], 6 in (1, 2], 2 in (2, 4].
        let h = hist(&[1.0, 2.0, 4.0], &[2.0, 8.0, 10.0], 10.0);
        // p50: rank 5, bucket (1, 2]: 1 + 1 · (5 − 2) / 6 = 1.5.
        let p50 = h.quantile(0.5).expect("p50");
        assert_eq!((p50.value, p50.lower, p50.upper), (1.5, 1.0, 2.0));
        // p10: rank 1 in the first bucket, from 0: 0 + 1 · 1 / 2 = 0.5.
        assert_eq!(h.quantile(0.1).expect("p10").value, 0.5);
        // p95: rank 9.5 in (2, 4]: 2 + 2 · 1.5 / 2 = 3.5.
        assert_eq!(h.quantile(0.95).expect("p95").value, 3.5);
        // p100: rank 10, the top of the last finite bucket.
        assert_eq!(h.quantile(1.0).expect("p100").value, 4.0);
    }

    #[test]
    fn an_interpolation_never_leaves_its_bucket() {
        // 0.001 + 0.009 · 1 rounds to 0.010000000000000002 in f64.
        let h = hist(&[0.001, 0.01], &[0.0, 3.0], 3.0);
        let top = h.quantile(1.0).expect("p100");
        assert!(top.value <= top.upper, "{top:?}");
        assert_eq!(top.value, 0.01);
    }

    #[test]
    fn a_rank_in_inf_answers_the_highest_finite_bound() {
        // All in +Inf (the original's 12–35 s streams against a 10 s top bucket).
        let h = hist(&[0.5, 1.0, 10.0], &[0.0, 0.0, 0.0], 2.0);
        let p50 = h.quantile(0.5).expect("p50");
        assert_eq!(p50.value, 10.0);
        assert!(p50.above_highest_bound());
        // Part in +Inf: p99 of 9 below 1 and 1 above 10.
        let h = hist(&[1.0, 10.0], &[9.0, 9.0], 10.0);
        assert!(h.quantile(0.99).expect("p99").above_highest_bound());
        assert!(!h.quantile(0.5).expect("p50").above_highest_bound());
    }

    #[test]
    fn an_empty_histogram_has_no_quantile_and_no_mean() {
        let h = hist(&[1.0], &[0.0], 0.0);
        assert_eq!(h.quantile(0.5), None);
        assert_eq!(h.mean(), None);
        assert_eq!(hist(&[], &[], 3.0).quantile(0.5), None, "only +Inf");
        assert_eq!(hist(&[1.0], &[1.0], 1.0).quantile(0.0), None);
        assert_eq!(hist(&[1.0], &[1.0], f64::INFINITY).quantile(0.5), None);
    }

    #[test]
    fn a_first_bound_at_or_below_zero_is_answered_as_is() {
        let h = hist(&[-1.0, 1.0], &[5.0, 10.0], 10.0);
        assert_eq!(h.quantile(0.2).expect("p20").value, -1.0);
    }

    #[test]
    fn merging_adds_counts_only_for_equal_bounds() {
        let mut a = hist(&[1.0, 2.0], &[1.0, 2.0], 3.0);
        a.sum = Some(4.0);
        let mut b = hist(&[1.0, 2.0], &[0.0, 4.0], 4.0);
        b.sum = Some(6.0);
        a.merge(&b).expect("merges");
        assert_eq!(
            (a.cumulative.clone(), a.count, a.sum),
            (vec![1.0, 6.0], 7.0, Some(10.0))
        );
        assert_eq!(a.mean(), Some(10.0 / 7.0));
        assert_eq!(
            a.merge(&hist(&[1.0, 5.0], &[0.0, 0.0], 0.0)),
            Err(DifferentBounds)
        );
    }

    #[test]
    fn increases_between_scrapes_handle_resets() {
        assert_eq!(counter_increase(10.0, 15.0), 5.0);
        assert_eq!(counter_increase(10.0, 3.0), 3.0, "restarted from zero");
        assert_eq!(counter_rate(10.0, 30.0, 10.0), Some(2.0));
        assert_eq!(counter_rate(10.0, 30.0, 0.0), None);
        let before = hist(&[1.0], &[4.0], 5.0);
        let after = hist(&[1.0], &[6.0], 8.0);
        let window = after.since(&before);
        assert_eq!((window.cumulative, window.count), (vec![2.0], 3.0));
        let restarted = hist(&[1.0], &[1.0], 1.0);
        assert_eq!(restarted.since(&after), restarted);
        let mut recreated = after.clone();
        recreated.created = Some(2.0);
        let mut first = before.clone();
        first.created = Some(1.0);
        assert!(recreated.reset_since(&first));
    }

    #[test]
    fn a_bucket_count_that_is_no_count_leaves_the_series_out() {
        // Found by the fuzz target: an `Inf` count made every quantile NaN.
        for count in ["Inf", "NaN", "-1"] {
            let text = format!(
                "# TYPE d histogram\nd_bucket{{le=\"0.001\"}} {count}\nd_bucket{{le=\"+Inf\"}} 2\n"
            );
            let e = Exposition::parse(&text).expect("parses");
            let (series, notes) = histograms(e.family("d").expect("d"));
            assert!(series.is_empty(), "{count}");
            assert!(notes[0].contains("is no count"), "{notes:?}");
        }
    }

    #[test]
    fn series_are_read_per_label_set_and_broken_ones_named() {
        let text = "# TYPE d histogram\n\
            d_bucket{s=\"a\",le=\"0.1\"} 1\nd_bucket{s=\"a\",le=\"+Inf\"} 3\nd_sum{s=\"a\"} 0.9\nd_count{s=\"a\"} 3\n\
            d_bucket{s=\"b\",le=\"0.1\"} 1\n\
            d_bucket{s=\"c\",le=\"1\"} 5\nd_bucket{s=\"c\",le=\"0.1\"} 6\nd_bucket{s=\"c\",le=\"+Inf\"} 6\n";
        let e = Exposition::parse(text).expect("parses");
        let (series, notes) = histograms(e.family("d").expect("d"));
        let find = |v: &str| {
            series
                .iter()
                .find(|(l, _)| l == &vec![("s".to_owned(), v.to_owned())])
                .map(|(_, h)| h.clone())
                .expect("series")
        };
        let a = find("a");
        assert_eq!(
            (a.bounds.clone(), a.cumulative.clone(), a.count),
            (vec![0.1], vec![1.0], 3.0)
        );
        assert_eq!(a.sum, Some(0.9));
        assert!(notes
            .iter()
            .any(|n| n.contains("s=\"b\"") && n.contains("no +Inf")));
        // Out of order in the text: sorted by le, and the non-cumulative 6 > 5 evened out.
        let c = find("c");
        assert_eq!(c.cumulative, vec![6.0, 6.0]);
        assert!(notes.iter().any(|n| n.contains("not cumulative")));
    }
}
