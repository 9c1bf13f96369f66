//! The SSE parser on arbitrary bytes: never panics, honours its limits, gives the
//! same frames however the bytes are split, and every event decodes without panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sse_core::sse::parser::{SseFrame, SseLimits, SseParser};
use sse_core::sse::stream::StreamEvent;

fuzz_target!(|input: &[u8]| {
    // The first byte chooses the piece size, the rest is the stream.
    let Some((&piece, bytes)) = input.split_first() else { return };
    let limits = SseLimits { max_line_bytes: 512, max_event_bytes: 1024 };
    let whole = SseParser::parse_all(bytes, limits);

    let mut parser = SseParser::new(limits);
    let mut split = Vec::new();
    for part in bytes.chunks(usize::from(piece).max(1)) {
        parser.feed(part, &mut |f| split.push(f));
    }
    parser.finish(&mut |f| split.push(f));
    assert_eq!(whole, split, "splitting changed the frames");

    for frame in whole.into_iter().flatten() {
        if let SseFrame::Event(event) = &frame {
            assert!(event.data.len() <= limits.max_event_bytes);
        }
        let _ = StreamEvent::decode(frame);
    }
});
