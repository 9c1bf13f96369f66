//! Throughput of the SSE parser and event decoding on a realistic `/stream`
//! answer, on one core, natively.
//!
//! Prints the median of several rounds in events/s for:
//! - baseline: a plain scan of the same bytes for line ends (the least any parser
//!   must do), measured in the same run so that the ratio survives a noisy machine;
//! - parse: `SseParser` alone, fed in 1,460-byte pieces (one TCP segment);
//! - parse + decode + record: the dashboard's whole per-event path (JSON decoding
//!   into `StreamEvent` and `RequestRecorder::on_event`).
//!
//! Target: at least 1,000,000 chunk events/s for the whole path.

use std::hint::black_box;
use std::time::Instant;

use sse_core::load::recorder::RequestRecorder;
use sse_core::sse::parser::{SseFrame, SseParser};
use sse_core::sse::stream::StreamEvent;

const EVENTS: usize = 200_000;
const ROUNDS: usize = 9;
const PIECE: usize = 1_460;

/// The service's formatting: spaces after `,` and `:`, 2-6 characters per chunk.
fn realistic_stream() -> Vec<u8> {
    let words = [
        "Rank ", "the ", "ipsum", " do", "lor ", "sit", " amet", ", ", "um.",
    ];
    let mut s = String::new();
    s.push_str("event: status\ndata: {\"status\": \"validated\", \"thread_id\": \"d2cd7a1e-5b1c-4f0e-9a57-2f0e3c1d9b11\"}\n\n");
    for i in 1..=EVENTS {
        let finish = if i == EVENTS { "\"stop\"" } else { "null" };
        s.push_str(&format!(
            "event: chunk\ndata: {{\"content\": \"{}\", \"chunk_index\": {i}, \"finish_reason\": {finish}}}\n\n",
            words[i % words.len()]
        ));
    }
    s.push_str("event: complete\ndata: {\"thread_id\": \"d2cd7a1e-5b1c-4f0e-9a57-2f0e3c1d9b11\", \"chunk_count\": 200000, \"total_length\": 800000, \"duration_ms\": 11454.49}\n\ndata: [DONE]\n\n");
    s.into_bytes()
}

fn median_rate(mut run: impl FnMut() -> usize) -> (f64, usize) {
    let mut rates: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            let events = black_box(run());
            events as f64 / start.elapsed().as_secs_f64()
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[ROUNDS / 2], run())
}

fn main() {
    let bytes = realistic_stream();
    println!(
        "stream: {} events, {:.1} MB, fed in {PIECE}-byte pieces; median of {ROUNDS} rounds, one core",
        EVENTS + 3,
        bytes.len() as f64 / 1e6
    );

    let (baseline, _) = median_rate(|| {
        // Every event is three line ends; count them as the baseline's "events".
        bytes
            .chunks(PIECE)
            .map(|piece| piece.iter().filter(|&&b| b == b'\n').count())
            .sum::<usize>()
            / 3
    });

    let (parse, parsed) = median_rate(|| {
        let mut parser = SseParser::default();
        let mut events = 0;
        let mut count = |frame: Result<SseFrame, _>| events += usize::from(frame.is_ok());
        for piece in bytes.chunks(PIECE) {
            parser.feed(piece, &mut count);
        }
        parser.finish(&mut count);
        events
    });

    let (full, decoded) = median_rate(|| {
        let mut parser = SseParser::default();
        let mut recorder = RequestRecorder::new(0.0);
        let mut events = 0;
        let mut at = 0.0;
        let mut handle = |frame: Result<SseFrame, _>| {
            at += 0.001;
            match frame.map(StreamEvent::decode) {
                Ok(Ok(event)) => {
                    recorder.on_event(at, &event);
                    events += 1;
                }
                _ => recorder.on_malformed("bad event".into()),
            }
        };
        for piece in bytes.chunks(PIECE) {
            parser.feed(piece, &mut handle);
        }
        parser.finish(&mut handle);
        let record = recorder.finish_stream_end(at);
        assert!(!record.outcome.is_failure(), "{:?}", record.outcome);
        events
    });

    assert_eq!(parsed, EVENTS + 3);
    assert_eq!(decoded, EVENTS + 3);
    println!("{:<34} {:>14} {:>10}", "path", "events/s", "vs scan");
    for (name, rate) in [
        ("baseline: scan for line ends", baseline),
        ("parse (SseParser)", parse),
        ("parse + decode + record", full),
    ] {
        println!("{name:<34} {rate:>14.0} {:>9.2}x", rate / baseline);
    }
    let verdict = if full >= 1_000_000.0 {
        "meets"
    } else {
        "MISSES"
    };
    println!("target 1,000,000 events/s for parse + decode + record: {verdict} ({full:.0})");
}
