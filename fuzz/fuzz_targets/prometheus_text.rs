//! The Prometheus text reader and the histogram maths on arbitrary text: never
//! panic, and every quantile lies inside the bucket that is said to bound it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::monitoring::prometheus::service::ServiceMetrics;

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let Ok(metrics) = ServiceMetrics::parse(&text) else { return };
    for stage in &metrics.stages {
        let h = &stage.histogram;
        assert!(h.cumulative.windows(2).all(|w| w[0] <= w[1]), "not cumulative");
        for q in [0.5, 0.9, 0.95, 0.99] {
            if let Some(e) = h.quantile(q) {
                assert!(e.lower <= e.value && e.value <= e.upper, "{e:?}");
            }
        }
        let mut twice = h.clone();
        twice.merge(h).expect("equal bounds merge");
        for q in [0.5, 0.99] {
            if let Some(e) = twice.quantile(q) {
                assert!(e.lower <= e.value && e.value <= e.upper, "merged {e:?}");
            }
        }
        // What came after a scrape is never a negative count.
        assert!(!(twice.since(h).count < 0.0));
    }
});
