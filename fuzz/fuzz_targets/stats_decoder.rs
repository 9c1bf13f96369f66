//! The decoders of the service's JSON answers on arbitrary text: never panic, and
//! never report a duration that is negative, NaN or infinite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::contract::api_error::ApiErrorBody;
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::contract::health::ConnectionState;

fuzz_target!(|input: &[u8]| {
    let Ok(text) = std::str::from_utf8(input) else { return };
    if let Ok(stats) = ExecutionStats::parse(text) {
        let mut previous: Option<Vec<u32>> = None;
        for stage in &stats.stages {
            let order = sse_core::contract::execution_stats::stage_order(&stage.id);
            assert!(previous.as_ref().is_none_or(|p| p < &order), "stages out of order");
            previous = Some(order);
            if let Some(d) = &stage.durations {
                for v in [d.avg_ms, d.p50_ms, d.p90_ms, d.p95_ms, d.p99_ms, d.min_ms, d.max_ms].into_iter().flatten() {
                    assert!(v.is_finite() && v >= 0.0);
                }
            } else {
                assert_eq!(stage.execution_count, 0);
            }
        }
    }
    let parsed = ApiErrorBody::parse(text);
    let _ = (parsed.summary(), parsed.field_messages(), parsed.kind());
    let _ = ConnectionState::from_body(text).label();
});
