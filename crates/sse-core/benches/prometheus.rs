//! Parsing and merging a busy service's `/admin/metrics` scrape natively:
//! a synthetic exposition of about 200 KB and 3,000 series (the service's
//! stage histograms for several models and many HTTP handlers).
//!
//! Prints the median of several rounds for:
//! - baseline: a plain split of the same text into lines (the least any
//!   reader must do), measured in the same run so that the ratio survives a
//!   noisy machine;
//! - parse + merge: `ServiceMetrics::parse` (the text read into families, the
//!   stage histograms built and the series of each stage merged).
//!
//! The same figures in Chromium: `cargo bench -p browser-tests --bench prometheus`.

use std::hint::black_box;
use std::time::Instant;

use sse_core::monitoring::prometheus::service::ServiceMetrics;
use sse_core::monitoring::prometheus::synthetic;

const ROUNDS: usize = 15;

fn median_ms(mut run: impl FnMut() -> usize) -> f64 {
    let mut times: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            black_box(run());
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[ROUNDS / 2]
}

fn main() {
    let (text, series) = synthetic::exposition(200_000);
    println!(
        "exposition: {} bytes, {series} series; median of {ROUNDS} rounds, one core",
        text.len()
    );
    let baseline = median_ms(|| text.lines().map(str::len).sum());
    let parse = median_ms(|| match ServiceMetrics::parse(&text) {
        Ok(m) => m.stages.len(),
        Err(_) => 0,
    });
    let metrics = ServiceMetrics::parse(&text).expect("the synthetic exposition parses");
    assert_eq!(metrics.stages.len(), 8);
    println!("{}", synthetic::report(text.len(), baseline, parse));
}
