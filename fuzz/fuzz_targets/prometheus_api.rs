//! The Prometheus server's API answers on arbitrary text: never panic; what is
//! read keeps its bounds (no more series than the cap, NaN never a value), and
//! the server source's rows from it are well formed.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::monitoring::prometheus_api::{parse_alerts, parse_query, MAX_SERIES};
use sse_core::monitoring::prometheus_server::{server_rows, Reading};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let _ = parse_alerts(&text);
    let Ok(answer) = parse_query(&text) else { return };
    assert!(answer.samples().len() <= MAX_SERIES);
    assert!(answer.samples().iter().all(|s| s.value.is_none_or(|v| !v.is_nan())));
    let reading: Reading<'_> = std::array::from_fn(|_| ("q", &answer));
    for row in server_rows(&reading, None) {
        assert!(row.cells.iter().all(|c| c.value.is_none_or(f64::is_finite)));
    }
});
