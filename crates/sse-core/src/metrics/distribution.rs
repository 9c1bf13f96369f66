//! A distribution of latency samples with bounded memory.
//!
//! Percentile definition: **nearest rank**. The p-th percentile of n samples is
//! the smallest sample such that at least p% of the samples are less than or equal
//! to it: the sample at 1-based rank `ceil(p/100 * n)` in sorted order. It is
//! always a value that was observed (no interpolation), so p50 of [1, 2, 3, 4] is 2
//! and p99 of 100 samples is the 99th smallest.
//!
//! Memory: the first [`EXACT_SAMPLES`] samples are kept exactly. Beyond that all
//! samples move into a log-scale histogram whose buckets are 1% wide, and a
//! percentile is reported as the geometric middle of its bucket: at most 0.5%
//! relative error (clamped to the exact min and max). Count, sum, mean, min and
//! max are always exact. Values are milliseconds (or any non-negative unit).

/// How many samples are kept exactly before switching to the histogram.
pub const EXACT_SAMPLES: usize = 10_000;

/// Lowest value the histogram tells apart; smaller values share the first bucket.
const HISTOGRAM_FLOOR: f64 = 1e-3;
/// Bucket width ratio: each bucket's upper bound is 1% above its lower bound.
const BUCKET_RATIO: f64 = 1.01;
/// Buckets from 1e-3 up to 1e9 (about 11.6 days in ms); larger values share the last.
const BUCKETS: usize = 2_778;

#[derive(Debug, Clone, PartialEq)]
pub struct Distribution {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    samples: Vec<f64>,
    /// Present once the distribution outgrew [`EXACT_SAMPLES`].
    histogram: Option<Vec<u64>>,
}

impl Default for Distribution {
    fn default() -> Self {
        Self {
            count: 0,
            sum: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            samples: Vec::new(),
            histogram: None,
        }
    }
}

fn bucket_of(value: f64) -> usize {
    if value <= HISTOGRAM_FLOOR {
        return 0;
    }
    let index = ((value / HISTOGRAM_FLOOR).ln() / BUCKET_RATIO.ln()).floor();
    (index as usize).min(BUCKETS - 1)
}

/// The geometric middle of a bucket.
fn bucket_value(index: usize) -> f64 {
    HISTOGRAM_FLOOR * BUCKET_RATIO.powf(index as f64 + 0.5)
}

impl Distribution {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one sample. Non-finite and negative values are ignored: they are not
    /// measurements.
    pub fn record(&mut self, value: f64) {
        if !value.is_finite() || value < 0.0 {
            return;
        }
        self.count += 1;
        self.sum += value;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        match &mut self.histogram {
            Some(histogram) => histogram[bucket_of(value)] += 1,
            None => {
                self.samples.push(value);
                if self.samples.len() > EXACT_SAMPLES {
                    self.move_to_histogram();
                }
            }
        }
    }

    fn move_to_histogram(&mut self) {
        let histogram = self.histogram.get_or_insert_with(|| vec![0; BUCKETS]);
        for value in self.samples.drain(..) {
            histogram[bucket_of(value)] += 1;
        }
        self.samples = Vec::new();
    }

    /// How many values are above `threshold`: exact while the samples are kept,
    /// to the histogram's 1 % bucket beyond (the bucket holding the threshold
    /// counts as not above).
    pub fn count_above(&self, threshold: f64) -> u64 {
        match &self.histogram {
            None => self.samples.iter().filter(|v| **v > threshold).count() as u64,
            Some(histogram) => histogram[(bucket_of(threshold) + 1).min(BUCKETS)..]
                .iter()
                .sum(),
        }
    }

    /// Adds all samples of `other`.
    pub fn merge(&mut self, other: &Distribution) {
        if other.count == 0 {
            return;
        }
        self.count += other.count;
        self.sum += other.sum;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
        let stays_exact = self.histogram.is_none()
            && other.histogram.is_none()
            && self.samples.len() + other.samples.len() <= EXACT_SAMPLES;
        if stays_exact {
            self.samples.extend_from_slice(&other.samples);
            return;
        }
        self.move_to_histogram();
        if let Some(histogram) = &mut self.histogram {
            for &value in &other.samples {
                histogram[bucket_of(value)] += 1;
            }
            if let Some(theirs) = &other.histogram {
                for (mine, theirs) in histogram.iter_mut().zip(theirs) {
                    *mine += theirs;
                }
            }
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn is_exact(&self) -> bool {
        self.histogram.is_none()
    }

    pub fn min(&self) -> Option<f64> {
        (self.count > 0).then_some(self.min)
    }

    pub fn max(&self) -> Option<f64> {
        (self.count > 0).then_some(self.max)
    }

    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum / self.count as f64)
    }

    /// The nearest-rank percentile `p` (0 < p <= 100); `None` without samples.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        self.percentiles(&[p]).pop().flatten()
    }

    /// Several percentiles at once (one sort).
    pub fn percentiles(&self, ps: &[f64]) -> Vec<Option<f64>> {
        if self.count == 0 {
            return vec![None; ps.len()];
        }
        let rank = |p: f64| -> u64 {
            ((p.clamp(0.0, 100.0) / 100.0 * self.count as f64).ceil() as u64).max(1)
        };
        match &self.histogram {
            None => {
                let mut sorted = self.samples.clone();
                sorted.sort_by(f64::total_cmp);
                ps.iter()
                    .map(|&p| sorted.get(rank(p) as usize - 1).copied())
                    .collect()
            }
            Some(histogram) => ps
                .iter()
                .map(|&p| {
                    let wanted = rank(p);
                    let mut seen = 0;
                    histogram.iter().enumerate().find_map(|(index, &n)| {
                        seen += n;
                        (seen >= wanted).then(|| bucket_value(index).clamp(self.min, self.max))
                    })
                })
                .collect(),
        }
    }
}

/// The summary the dashboard shows for one metric (also what a run's
/// export and history keep of it).
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub count: u64,
    pub min: Option<f64>,
    pub mean: Option<f64>,
    pub max: Option<f64>,
    pub p50: Option<f64>,
    pub p90: Option<f64>,
    pub p95: Option<f64>,
    pub p99: Option<f64>,
}

impl Distribution {
    pub fn summary(&self) -> Summary {
        let p = self.percentiles(&[50.0, 90.0, 95.0, 99.0]);
        Summary {
            count: self.count,
            min: self.min(),
            mean: self.mean(),
            max: self.max(),
            p50: p[0],
            p90: p[1],
            p95: p[2],
            p99: p[3],
        }
    }
}
