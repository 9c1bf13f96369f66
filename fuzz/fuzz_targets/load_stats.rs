//! The service's per-request records on arbitrary text, joined to a request
//! the page measured: never panic, and a breakdown whose parts are all known
//! sums to the request's TTFT.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::load::recorder::RequestRecorder;
use sse_core::load::report::RequestRow;
use sse_core::sse::stream::StreamEvent;
use sse_core::contract::stream::ChunkData;
use sse_core::load::time_breakdown::{
    parse_load_stats, Breakdown, ClockOffsets, ServerRecords, Waterfall,
};

fuzz_target!(|input: &[u8]| {
    let text = String::from_utf8_lossy(input);
    let Ok(answer) = parse_load_stats(&text) else { return };
    let mut records = ServerRecords::default();
    records.merge(answer);
    // One request per thread id the records name, each with TTFT 100 ms.
    let rows: Vec<RequestRow> = (0..4_u64)
        .map(|i| {
            let mut recorder = RequestRecorder::new(i as f64 * 10.0);
            let thread = ["a", "b", "t0", "x"][i as usize].to_owned();
            recorder.on_headers(i as f64 * 10.0 + 1.0, 200, None, Some(thread));
            let chunk = StreamEvent::Chunk(ChunkData {
                content: "abc".into(),
                chunk_index: None,
                finish_reason: None,
                cached: false,
            });
            recorder.on_event(i as f64 * 10.0 + 100.0, &chunk);
            recorder.on_event(i as f64 * 10.0 + 150.0, &StreamEvent::Done);
            let mut record = recorder.finish_stream_end(i as f64 * 10.0 + 150.0);
            record.browser_queue_ms = Some(1.0);
            RequestRow::new(i, 0.0, &record)
        })
        .collect();
    let offsets = ClockOffsets::estimate(&rows, &records, 1_000.0);
    for offset in offsets.0.values() {
        let _ = offset.sentence();
    }
    for row in &rows {
        let _ = Waterfall::of(row, records.of(row), 1_000.0, &offsets);
    }
    let breakdown = Breakdown::of(&rows, &records);
    for parts in [breakdown.median, breakdown.p95].into_iter().flatten() {
        if parts.is_complete() {
            let sum: f64 = parts.parts.iter().flatten().sum();
            let scale = parts.parts.iter().flatten().fold(parts.ttft_ms.abs(), |m, p| m.max(p.abs()));
            assert!((sum - parts.ttft_ms).abs() <= 1e-9 * scale.max(1.0), "{parts:?}");
        }
    }
});
