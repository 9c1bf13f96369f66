//! The Prometheus reader on damaged and arbitrary text (property tests; the
//! fuzz target `fuzz/fuzz_targets/prometheus_text.rs` does the same longer):
//! it never panics, and every estimate lies in the bucket said to bound it.

#![cfg(not(target_arch = "wasm32"))]

use proptest::prelude::*;
use sse_core::monitoring::prometheus::service::ServiceMetrics;

const CAPTURE: &str = include_str!("captures/original-admin-metrics.prom");

fn check(text: &str) -> Result<(), TestCaseError> {
    let Ok(metrics) = ServiceMetrics::parse(text) else {
        return Ok(());
    };
    for stage in &metrics.stages {
        let h = &stage.histogram;
        prop_assert!(h.cumulative.windows(2).all(|w| w[0] <= w[1]));
        for q in [0.5, 0.9, 0.95, 0.99] {
            if let Some(e) = h.quantile(q) {
                prop_assert!(e.lower <= e.value && e.value <= e.upper, "{:?}", e);
            }
        }
    }
    Ok(())
}

/// Pieces the text format is made of, to build texts that are nearly right.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "sse_stage_duration_seconds_bucket",
        "sse_stage_duration_seconds_count",
        "sse_stage_duration_seconds_sum",
        "# TYPE sse_stage_duration_seconds histogram",
        "# HELP x y",
        "{",
        "}",
        ",",
        "=",
        "\"",
        "\\",
        "le=\"+Inf\"",
        "le=\"0.5\"",
        "stage=\"1\"",
        " ",
        "\t",
        "\n",
        "\r\n",
        "1",
        "0.25",
        "-3",
        "+Inf",
        "NaN",
        "1e309",
        "#",
    ])
}

proptest! {
    #[test]
    fn damaged_captures_never_panic(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..20)) {
        let mut bytes = CAPTURE.as_bytes().to_vec();
        for (at, byte) in edits {
            let at = at.index(bytes.len());
            bytes[at] = byte;
        }
        check(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn texts_of_format_pieces_never_panic(pieces in prop::collection::vec(token(), 0..200)) {
        check(&pieces.concat())?;
    }

    #[test]
    fn a_capture_cut_anywhere_keeps_what_came_before(cut in any::<prop::sample::Index>()) {
        let at = cut.index(CAPTURE.len());
        if let Ok(metrics) = ServiceMetrics::parse(&CAPTURE[..at]) {
            for stage in &metrics.stages {
                prop_assert!(stage.histogram.count <= 2.0);
            }
        }
    }
}
