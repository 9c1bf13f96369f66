//! The Prometheus server's API answers on arbitrary text: never panic; what is
//! read keeps its bounds (no more series than the cap, NaN never a value), a
//! combined answer splits into its parts without inventing a sample or
//! keeping the part label, a range grows by a point without panicking, and
//! the server source's rows from it are well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::monitoring::prometheus_api::{
    parse_alerts, parse_query, parse_rule_names, MAX_SERIES,
};
use sse_core::monitoring::prometheus_server::{
    extend_range, server_rows, split_parts, Reading, PART_LABEL,
};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let _ = parse_alerts(&text);
    let _ = parse_rule_names(&text);
    let Ok(answer) = parse_query(&text) else { return };
    assert!(answer.samples().len() <= MAX_SERIES);
    assert!(answer.samples().iter().all(|s| s.value.is_none_or(|v| !v.is_nan())));
    let parts = split_parts(&answer, 10);
    assert_eq!(parts.len(), 10);
    let split: usize = parts.iter().map(|p| p.samples().len()).sum();
    assert!(split <= answer.samples().len());
    assert!(parts
        .iter()
        .all(|p| p.samples().iter().all(|s| !s.labels.contains_key(PART_LABEL))));
    let _ = extend_range(&answer, &parts[0], 1.0, 0.0);
    let reading: Reading<'_> = std::array::from_fn(|_| ("q", &answer));
    for row in server_rows(&reading, None) {
        assert!(row.cells.iter().all(|c| c.value.is_none_or(f64::is_finite)));
    }
});
