//! The core types against the real service's answers (shared/contract.md).

use sse_core::contract::api_error::{ApiErrorBody, FieldMessage};
use sse_core::contract::config::{
    ConfigUpdate, ConfigUpdateAnswer, KeptValue, QueueType, ServiceConfig,
};
use sse_core::contract::execution_stats::{stage_order, ExecutionStats};
use sse_core::contract::stream::StreamRequest;
use sse_core::load::recorder::{Outcome, RequestRecord, RequestRecorder};
use sse_core::sse::parser::{SseLimits, SseParser};
use sse_core::sse::stream::StreamEvent;

fn capture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/captures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn events(bytes: &[u8]) -> Vec<StreamEvent> {
    SseParser::parse_all(bytes, SseLimits::default())
        .into_iter()
        .map(|frame| StreamEvent::decode(frame.expect("valid SSE")).expect("valid event"))
        .collect()
}

/// Replays a capture into a recorder: sent at 0, headers at 5, event i at 100 + 10 i.
fn replay(bytes: &[u8], layer: &str) -> RequestRecord {
    let mut recorder = RequestRecorder::new(0.0);
    recorder.on_headers(5.0, 200, Some(layer.into()), Some("t".into()));
    let mut at = 100.0;
    for event in events(bytes) {
        recorder.on_event(at, &event);
        at += 10.0;
    }
    recorder.finish_stream_end(at)
}

#[test]
fn normal_stream_decodes_every_event_kind() {
    let decoded = events(&capture("normal_stream.sse"));
    assert_eq!(decoded.len(), 8);
    assert!(matches!(&decoded[0], StreamEvent::Status(s) if s.status == "validated"));
    match &decoded[5] {
        StreamEvent::Chunk(chunk) => {
            assert_eq!(chunk.content, "um.");
            assert_eq!(chunk.chunk_index, Some(5));
            assert_eq!(chunk.finish_reason.as_deref(), Some("stop"));
            assert!(!chunk.cached);
        }
        other => panic!("expected a chunk, got {other:?}"),
    }
    assert!(
        matches!(&decoded[6], StreamEvent::Complete(c) if c.duration_ms == Some(11454.49) && c.chunk_count == Some(5))
    );
    assert_eq!(decoded[7], StreamEvent::Done);
}

#[test]
fn normal_stream_record_has_ttft_itl_tokens_and_completes() {
    let record = replay(&capture("normal_stream.sse"), "1-Direct");
    assert_eq!(record.outcome, Outcome::Completed);
    // Content chunks are events 1, 2, 4, 5 (event 3 is empty): at 110, 120, 140, 150.
    assert_eq!(record.ttft_ms, Some(110.0));
    assert_eq!(record.inter_chunk_gaps_ms, vec![10.0, 20.0, 10.0]);
    assert_eq!(record.chunk_count, 5);
    // "Rank the ipsumum." is 17 characters: ceil(17 / 4) = 5 tokens.
    assert_eq!(record.output_chars, 17);
    assert_eq!(record.output_tokens, 5);
    // E2E ends at `complete` (event 6, at 160), not at the read's end.
    assert_eq!(record.e2e_ms, 160.0);
    // TPOT = (160 - 110) / (5 - 1).
    assert_eq!(record.tpot_ms(), Some(12.5));
    assert!(!record.cache_hit);
    assert_eq!(record.resilience_layer.as_deref(), Some("1-Direct"));
}

#[test]
fn cache_hit_with_crlf_is_one_cached_chunk() {
    let record = replay(&capture("cache_hit_crlf.sse"), "1-Direct");
    assert_eq!(record.outcome, Outcome::Completed);
    assert!(record.cache_hit);
    assert_eq!(record.chunk_count, 1);
    assert!(record.inter_chunk_gaps_ms.is_empty());
    // 58 characters -> 15 tokens; the whole answer arrives at once, so TPOT is
    // (complete at 120 - TTFT 110) / 14.
    assert_eq!(record.output_chars, 58);
    assert_eq!(record.output_tokens, 15);
    assert_eq!(record.tpot_ms(), Some(10.0 / 14.0));
}

#[test]
fn error_event_fails_the_request_although_done_follows() {
    let record = replay(&capture("in_stream_error.sse"), "1-Direct");
    assert_eq!(
        record.outcome,
        Outcome::StreamError {
            kind: "provider_error".into(),
            message: "Upstream provider failed: connection reset".into()
        }
    );
    assert!(record.outcome.is_failure());
}

#[test]
fn queue_failover_pings_then_timeout_is_a_failure_with_the_pings_counted() {
    let bytes = capture("queue_timeout.sse");
    let decoded = events(&bytes);
    assert_eq!(decoded[0], StreamEvent::Comment("ping".into()));
    let record = replay(&bytes, "3-Queue-Failover");
    assert_eq!(record.comments, 2);
    assert_eq!(
        record.outcome.failure_kind().as_deref(),
        Some("Queue timeout - server busy")
    );
    assert_eq!(record.resilience_layer.as_deref(), Some("3-Queue-Failover"));
    assert_eq!(record.ttft_ms, None);
}

#[test]
fn stream_cut_before_the_end_is_ended_early_and_cut_after_complete_is_completed() {
    let full = capture("normal_stream.sse");
    let text = String::from_utf8(full).expect("utf-8");
    let before_complete = &text[..text.find("event: complete").expect("has complete")];
    assert_eq!(
        replay(before_complete.as_bytes(), "1-Direct").outcome,
        Outcome::EndedEarly
    );
    let before_done = &text[..text.find("data: [DONE]").expect("has done")];
    assert_eq!(
        replay(before_done.as_bytes(), "1-Direct").outcome,
        Outcome::Completed
    );
}

#[test]
fn network_timeout_and_abort_outcomes() {
    let mut recorder = RequestRecorder::new(0.0);
    recorder.on_headers(1.0, 200, None, None);
    let record = recorder
        .clone()
        .finish_network_error(50.0, "connection reset".into());
    assert_eq!(record.outcome.message(), "network error: connection reset");
    assert_eq!(record.e2e_ms, 50.0);
    assert_eq!(
        recorder.clone().finish_timeout(60_000.0, 60_000).outcome,
        Outcome::TimedOut { after_ms: 60_000 }
    );
    let aborted = recorder.finish_aborted(70.0);
    assert_eq!(aborted.outcome, Outcome::Aborted);
    assert!(!aborted.outcome.is_failure());
}

#[test]
fn malformed_chunk_makes_the_request_malformed_not_completed() {
    let frames = SseParser::parse_all(
        b"event: chunk\ndata: {not json\n\ndata: [DONE]\n\n",
        SseLimits::default(),
    );
    let mut recorder = RequestRecorder::new(0.0);
    for frame in frames {
        match StreamEvent::decode(frame.expect("valid SSE")) {
            Ok(event) => recorder.on_event(10.0, &event),
            Err(error) => recorder.on_malformed(error.to_string()),
        }
    }
    // `[DONE]` arrived, but the numbers of a stream with an unreadable chunk are not trusted.
    let record = recorder.finish_stream_end(20.0);
    assert!(
        matches!(&record.outcome, Outcome::Malformed { message } if message.contains("malformed \"chunk\" event")),
        "{:?}",
        record.outcome
    );
    assert!(record.outcome.is_failure());
}

#[test]
fn http_429_and_503_bodies_become_failures_with_their_message() {
    let record = RequestRecorder::new(0.0).finish_http_status(
        3.0,
        429,
        r#"{"error":"rate_limit_exceeded","message":"Too many requests","retry_after":60}"#,
    );
    assert_eq!(record.status, Some(429));
    assert_eq!(
        record.outcome.failure_kind().as_deref(),
        Some("http_429:rate_limit_exceeded")
    );
    assert_eq!(
        record.outcome.message(),
        "HTTP 429: Too many requests (retry after 60 s)"
    );
    let record = RequestRecorder::new(0.0).finish_http_status(3.0, 502, "<html>Bad Gateway</html>");
    assert_eq!(
        record.outcome.message(),
        "HTTP 502: (an HTML page \"Bad Gateway\", probably from a proxy in front of the service)"
    );
}

#[test]
fn config_422_becomes_a_per_field_message() {
    let body = String::from_utf8(capture("validation_422.json")).expect("utf-8");
    let parsed = ApiErrorBody::parse(&body);
    assert_eq!(
        parsed.field_messages(),
        vec![FieldMessage {
            field: Some("USE_FAKE_LLM".into()),
            message:
                "Input should be a valid boolean, unable to interpret input (got \"notabool\")"
                    .into()
        }]
    );
}

#[test]
fn stream_422_lists_every_field_and_json_invalid_names_no_field() {
    let body = String::from_utf8(capture("stream_422.json")).expect("utf-8");
    let messages = ApiErrorBody::parse(&body).field_messages();
    let fields: Vec<_> = messages.iter().map(|m| m.field.clone()).collect();
    assert_eq!(fields, vec![Some("query".into()), Some("model".into())]);
    assert_eq!(messages[1].message, "Field required");
    let body = String::from_utf8(capture("json_invalid_422.json")).expect("utf-8");
    let parsed = ApiErrorBody::parse(&body);
    assert_eq!(parsed.field_messages()[0].field.as_deref(), Some("14"));
    assert_eq!(parsed.summary(), "14: JSON decode error");
    assert_eq!(
        ApiErrorBody::parse(r#"{"detail":"Internal error"}"#).summary(),
        "Internal error"
    );
}

#[test]
fn config_round_trip_diff_and_kept_values() {
    let loaded: ServiceConfig =
        serde_json::from_str(r#"{"USE_FAKE_LLM":true,"ENABLE_CACHING":true,"QUEUE_TYPE":"redis"}"#)
            .expect("config");
    let mut edited = loaded.clone();
    edited.enable_caching = false;
    edited.queue_type = QueueType::Other("rabbitmq".into());
    let update = ConfigUpdate::between(&loaded, &edited);
    assert_eq!(
        serde_json::to_string(&update).expect("json"),
        r#"{"ENABLE_CACHING":false,"QUEUE_TYPE":"rabbitmq"}"#
    );
    let answer: ConfigUpdateAnswer = serde_json::from_str(
        r#"{"status":"updated","current_config":{"USE_FAKE_LLM":true,"ENABLE_CACHING":false,"QUEUE_TYPE":"redis"}}"#,
    )
    .expect("answer");
    assert_eq!(
        update.not_applied(&answer.current_config),
        vec![KeptValue {
            key: "QUEUE_TYPE",
            sent: "rabbitmq".into(),
            kept: "redis".into()
        }]
    );
    assert!(ConfigUpdate::between(&loaded, &loaded).is_empty());
}

#[test]
fn wrapped_stats_have_no_p90_and_unrun_stages_have_no_durations() {
    let body = String::from_utf8(capture("stats_wrapped.json")).expect("utf-8");
    let stats = ExecutionStats::parse(&body).expect("stats");
    let ids: Vec<_> = stats.stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1", "2", "2.1", "2.2", "3", "4", "5", "6"]);
    assert!(!stats.reports_p90);
    let validation = &stats.stages[0];
    assert_eq!(validation.name, "Validation");
    let durations = validation.durations.as_ref().expect("ran once");
    assert_eq!(durations.p50_ms, Some(2.55));
    assert_eq!(durations.p90_ms, None);
    assert_eq!(stats.stages[1].execution_count, 0);
    assert_eq!(stats.stages[1].durations, None);
    assert_eq!(stats.stages[6].name, "LLM streaming");
}

#[test]
fn flat_old_stats_with_p90_unknown_stage_and_fields() {
    let body = String::from_utf8(capture("stats_flat_old.json")).expect("utf-8");
    let stats = ExecutionStats::parse(&body).expect("stats");
    let ids: Vec<_> = stats.stages.iter().map(|s| s.id.as_str()).collect();
    // "10" is not a stage of this pipeline; the rest is in numeric order.
    assert_eq!(ids, ["1", "2", "2.2"]);
    assert!(stats.reports_p90);
    assert_eq!(
        stats.stages[2].durations.as_ref().and_then(|d| d.p90_ms),
        Some(1.8)
    );
    assert_eq!(stats.stages[2].name, "L2 cache (Redis)");
}

#[test]
fn stats_decoder_rejects_non_objects_and_keeps_order_numeric() {
    assert!(ExecutionStats::parse("[]").is_err());
    assert!(ExecutionStats::parse(r#"{"stages":3}"#).is_err());
    assert!(ExecutionStats::parse("not json").is_err());
    assert_eq!(ExecutionStats::parse("{}").expect("empty").stages, vec![]);
    let mut ids = vec!["10", "2.2", "2", "1", "2.10", "2.1"];
    ids.sort_by_key(|id| stage_order(id));
    assert_eq!(ids, ["1", "2", "2.1", "2.2", "2.10", "10"]);
}

#[test]
fn stream_request_validation_matches_the_service() {
    let ok = StreamRequest {
        query: "Write a short poem about performance testing.".into(),
        model: "gpt-3.5-turbo".into(),
        provider: Some("fake".into()),
    };
    assert!(ok.problems().is_empty());
    assert_eq!(
        serde_json::to_string(&ok).expect("json"),
        r#"{"query":"Write a short poem about performance testing.","model":"gpt-3.5-turbo","provider":"fake"}"#
    );
    let bad = StreamRequest {
        query: "x".repeat(100_001),
        model: "  ".into(),
        provider: None,
    };
    let fields: Vec<_> = bad.problems().into_iter().filter_map(|p| p.field).collect();
    assert_eq!(fields, ["query", "model"]);
}
