//! The incremental SSE parser against the SSE standard's rules and bad input.

use sse_core::sse::parser::{SseError, SseEvent, SseFrame, SseLimits, SseParser};

fn parse(bytes: &[u8]) -> Vec<Result<SseFrame, SseError>> {
    SseParser::parse_all(bytes, SseLimits::default())
}

fn event(event: &str, data: &str) -> Result<SseFrame, SseError> {
    Ok(SseFrame::Event(SseEvent {
        event: event.into(),
        data: data.into(),
        id: None,
    }))
}

fn feed_in_pieces(
    bytes: &[u8],
    cuts: &[usize],
    limits: SseLimits,
) -> Vec<Result<SseFrame, SseError>> {
    let mut parser = SseParser::new(limits);
    let mut out = Vec::new();
    let mut start = 0;
    for &cut in cuts {
        parser.feed(&bytes[start..cut], &mut |f| out.push(f));
        start = cut;
    }
    parser.feed(&bytes[start..], &mut |f| out.push(f));
    parser.finish(&mut |f| out.push(f));
    out
}

#[test]
fn lf_crlf_and_cr_line_ends_give_the_same_events() {
    let lf = parse(b"event: a\ndata: 1\n\ndata: 2\n\n");
    let crlf = parse(b"event: a\r\ndata: 1\r\n\r\ndata: 2\r\n\r\n");
    let cr = parse(b"event: a\rdata: 1\r\rdata: 2\r\r");
    assert_eq!(lf, vec![event("a", "1"), event("message", "2")]);
    assert_eq!(crlf, lf);
    assert_eq!(cr, lf);
}

#[test]
fn crlf_split_between_reads_is_one_line_end() {
    let mut parser = SseParser::default();
    let mut out = Vec::new();
    parser.feed(b"data: x\r", &mut |f| out.push(f));
    parser.feed(b"\n\r", &mut |f| out.push(f));
    parser.feed(b"\ndata: y\n\n", &mut |f| out.push(f));
    assert_eq!(out, vec![event("message", "x"), event("message", "y")]);
}

#[test]
fn multi_line_data_is_joined_with_lf_and_one_space_is_stripped() {
    assert_eq!(
        parse(b"data:a\ndata:  b\ndata\n\n"),
        vec![event("message", "a\n b\n")]
    );
}

#[test]
fn comments_are_reported_and_do_not_dispatch() {
    assert_eq!(
        parse(b": ping\n:raw\n\ndata: x\n\n"),
        vec![
            Ok(SseFrame::Comment("ping".into())),
            Ok(SseFrame::Comment("raw".into())),
            event("message", "x")
        ]
    );
}

#[test]
fn id_persists_and_retry_is_taken_only_when_digits() {
    let mut parser = SseParser::default();
    let mut out = Vec::new();
    parser.feed(
        b"id: 7\nretry: 1500\ndata: a\n\nretry: 2x\ndata: b\n\nid: bad\0id\ndata: c\n\n",
        &mut |f| out.push(f),
    );
    let ids: Vec<_> = out
        .iter()
        .map(|f| match f {
            Ok(SseFrame::Event(e)) => e.id.clone(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        ids,
        vec![Some("7".into()), Some("7".into()), Some("7".into())]
    );
    assert_eq!(parser.retry_ms(), Some(1500));
}

#[test]
fn event_without_data_is_not_dispatched_and_its_type_is_reset() {
    assert_eq!(
        parse(b"event: ping\n\ndata: x\n\n"),
        vec![event("message", "x")]
    );
    // An empty event type means the default.
    assert_eq!(parse(b"event:\ndata: x\n\n"), vec![event("message", "x")]);
}

#[test]
fn unknown_fields_and_lines_without_colon_are_ignored() {
    assert_eq!(
        parse(b"foo: bar\nbaz\ndata: x\n\n"),
        vec![event("message", "x")]
    );
}

#[test]
fn leading_bom_is_skipped_even_split_and_only_at_the_start() {
    let mut parser = SseParser::default();
    let mut out = Vec::new();
    parser.feed(&[0xEF], &mut |f| out.push(f));
    parser.feed(&[0xBB, 0xBF], &mut |f| out.push(f));
    parser.feed(b"data: x\n\n", &mut |f| out.push(f));
    assert_eq!(out, vec![event("message", "x")]);
    // A second BOM is content (and the field name then is not "data").
    assert_eq!(parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: x\n\n"), vec![]);
}

#[test]
fn final_event_without_blank_line_is_dispatched_at_end_of_stream() {
    assert_eq!(
        parse(b"data: a\n\ndata: [DONE]"),
        vec![event("message", "a"), event("message", "[DONE]")]
    );
    assert_eq!(parse(b"data: [DONE]\n"), vec![event("message", "[DONE]")]);
}

#[test]
fn invalid_utf8_is_an_error_on_that_event_only() {
    let out = parse(b"event: chunk\ndata: \xff\xfe\n\ndata: ok\n\n");
    assert_eq!(
        out,
        vec![
            Err(SseError::InvalidUtf8 {
                event: Some("chunk".into())
            }),
            event("message", "ok")
        ]
    );
}

#[test]
fn utf8_character_split_across_reads_is_decoded() {
    let bytes = "data: café ✓\n\n".as_bytes();
    for cut in 0..bytes.len() {
        assert_eq!(
            feed_in_pieces(bytes, &[cut], SseLimits::default()),
            vec![event("message", "café ✓")],
            "cut at {cut}"
        );
    }
}

#[test]
fn over_long_line_is_an_error_and_parsing_goes_on() {
    let limits = SseLimits {
        max_line_bytes: 16,
        max_event_bytes: 1024,
    };
    let mut bytes = b"data: ".to_vec();
    bytes.extend(std::iter::repeat_n(b'x', 10_000));
    bytes.extend_from_slice(b"\n\ndata: after\n\n");
    // Fed in small pieces, the buffer never holds more than the limit.
    let cuts: Vec<usize> = (1..bytes.len()).step_by(7).collect();
    assert_eq!(
        feed_in_pieces(&bytes, &cuts, limits),
        vec![
            Err(SseError::LineTooLong { limit: 16 }),
            event("message", "after")
        ]
    );
}

#[test]
fn over_large_event_is_an_error_and_parsing_goes_on() {
    let limits = SseLimits {
        max_line_bytes: 64,
        max_event_bytes: 20,
    };
    let bytes = b"data: 0123456789\ndata: 0123456789\ndata: 0123456789\n\ndata: small\n\n";
    assert_eq!(
        SseParser::parse_all(bytes, limits),
        vec![
            Err(SseError::EventTooLarge { limit: 20 }),
            event("message", "small")
        ]
    );
}

/// A valid stream mixing every feature: event types, multi-line data, comments,
/// ids, retry, CRLF and CR line ends, non-ASCII text.
fn rich_stream() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"\xEF\xBB\xBF: hello\r\n\r\n");
    s.extend_from_slice(b"event: status\r\ndata: {\"status\": \"validated\"}\r\n\r\n");
    for i in 0..20 {
        s.extend_from_slice(
            format!("id: {i}\nevent: chunk\ndata: {{\"content\": \"é{i}✓\"}}\n\n").as_bytes(),
        );
    }
    s.extend_from_slice(b"retry: 10\rdata: line1\rdata: line2\r\r: ping\n\n");
    s.extend_from_slice(b"data: [DONE]\n\n");
    s
}

#[cfg(not(target_arch = "wasm32"))]
mod property {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_split_yields_the_same_events_as_the_whole(cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..12)) {
            let bytes = rich_stream();
            let whole = SseParser::parse_all(&bytes, SseLimits::default());
            let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(bytes.len() + 1)).collect();
            cuts.sort_unstable();
            prop_assert_eq!(feed_in_pieces(&bytes, &cuts, SseLimits::default()), whole);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_respect_limits(bytes in proptest::collection::vec(any::<u8>(), 0..2048), piece in 1usize..64) {
            let limits = SseLimits { max_line_bytes: 100, max_event_bytes: 200 };
            let cuts: Vec<usize> = (piece..bytes.len()).step_by(piece).collect();
            for frame in feed_in_pieces(&bytes, &cuts, limits).into_iter().flatten() {
                if let SseFrame::Event(event) = frame {
                    prop_assert!(event.data.len() <= 200);
                }
            }
        }
    }
}

#[test]
fn rich_stream_parses_to_the_expected_frames() {
    let frames = parse(&rich_stream());
    assert_eq!(frames.len(), 1 + 1 + 20 + 1 + 1 + 1);
    assert_eq!(frames[0], Ok(SseFrame::Comment("hello".into())));
    // The last id (19) persists onto the events after it.
    let with_id = |data: &str| {
        Ok(SseFrame::Event(SseEvent {
            event: "message".into(),
            data: data.into(),
            id: Some("19".into()),
        }))
    };
    assert_eq!(frames[22], with_id("line1\nline2"));
    assert_eq!(frames[23], Ok(SseFrame::Comment("ping".into())));
    assert_eq!(frames[24], with_id("[DONE]"));
}
