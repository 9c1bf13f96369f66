//! The reference backend's HTTP API over real sockets.

mod common;

use std::time::Duration;

use common::{body, eventually, fast_settings, get_json, put_json, stream, stream_with, Server};
use serde_json::json;
use sse_backend::settings::{Settings, StatsShape};
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::contract::health::{ConnectionState, HealthStatus};
use sse_core::load::recorder::Outcome;
use sse_core::sse::stream::StreamEvent;

#[tokio::test]
async fn health_routes_answer_the_contract() {
    let server = Server::start(fast_settings()).await;
    let response = reqwest::get(server.url("health")).await.expect("get");
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-thread-id"));
    let text = response.text().await.expect("text");
    assert!(
        matches!(
            ConnectionState::from_body(&text),
            ConnectionState::Connected { .. }
        ),
        "{text}"
    );
    assert_eq!(get_json(&server, "health/live").await["status"], "alive");
    assert_eq!(get_json(&server, "health/ready").await["status"], "ready");
    assert_eq!(
        get_json(&server, "health/detailed").await["components"]["redis"]["configured"],
        false
    );
    let root = format!("http://{}/health", server.addr);
    assert_eq!(
        reqwest::get(root).await.expect("get").status(),
        404,
        "no /health outside /api/v1"
    );
}

#[tokio::test]
async fn a_stream_has_the_contract_headers_events_and_bytes() {
    let server = Server::start(fast_settings()).await;
    let read = stream(&server, "Write a short poem about performance testing.").await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_eq!(read.header("cache-control"), Some("no-cache"));
    assert_eq!(read.header("x-accel-buffering"), Some("no"));
    assert_eq!(read.header("x-resilience-layer"), Some("1-Direct"));
    assert_eq!(read.record.outcome, Outcome::Completed);

    let thread_id = read.header("x-thread-id").expect("thread id").to_owned();
    let (first, rest) = read.events.split_first().expect("events");
    assert!(
        matches!(first, StreamEvent::Status(s) if s.status == "validated" && s.thread_id.as_deref() == Some(thread_id.as_str()))
    );
    assert_eq!(rest.last(), Some(&StreamEvent::Done));
    let chunks: Vec<_> = rest
        .iter()
        .filter_map(|e| {
            if let StreamEvent::Chunk(c) = e {
                Some(c)
            } else {
                None
            }
        })
        .collect();
    assert!(chunks.len() >= 4);
    for (i, chunk) in chunks.iter().enumerate() {
        assert_eq!(chunk.chunk_index, Some(i as u64 + 1));
        let last = i == chunks.len() - 1;
        assert_eq!(chunk.finish_reason.as_deref(), last.then_some("stop"));
    }
    match &rest[rest.len() - 2] {
        StreamEvent::Complete(c) => {
            assert_eq!(
                c.thread_id.as_deref(),
                Some(thread_id.as_str()),
                "event thread id equals the header"
            );
            assert_eq!(c.chunk_count, Some(chunks.len() as u64));
            assert_eq!(c.total_length, Some(read.text().chars().count() as u64));
            assert!(c.duration_ms.is_some_and(|d| d > 0.0));
        }
        other => panic!("expected complete, got {other:?}"),
    }
    // Byte-level format of the real service: Python's JSON spacing.
    let raw = String::from_utf8(read.raw.clone()).expect("utf-8");
    assert!(
        raw.starts_with("event: status\ndata: {\"status\": \"validated\", \"thread_id\": \""),
        "{raw}"
    );
    assert!(
        raw.contains("\"chunk_index\": 1, \"finish_reason\": null}\n\n"),
        "{raw}"
    );
    assert!(raw.ends_with("data: [DONE]\n\n"));
}

#[tokio::test]
async fn invalid_requests_are_422_in_fastapi_shape() {
    let server = Server::start(fast_settings()).await;
    let client = reqwest::Client::new();
    let cases = [
        (
            json!({"query": "", "model": "m"}),
            "string_too_short",
            "query",
        ),
        (json!({"query": "q"}), "missing", "model"),
        (json!({"query": "q", "model": "  "}), "value_error", "model"),
        (
            json!({"query": "q", "model": "m", "provider": "nonexistent"}),
            "value_error",
            "provider",
        ),
    ];
    for (request, kind, field) in cases {
        let read = stream_with(&client, &server, &request, None).await;
        assert_eq!(read.status, 422, "{request}");
        let detail: serde_json::Value = serde_json::from_slice(&read.raw).expect("json");
        assert_eq!(detail["detail"][0]["type"], kind, "{request}");
        assert_eq!(
            detail["detail"][0]["loc"],
            json!(["body", field]),
            "{request}"
        );
    }
    let response = client
        .post(server.url("stream"))
        .header("content-type", "application/json")
        .body("{\"query\": ")
        .send()
        .await
        .expect("send");
    assert_eq!(response.status(), 422);
    let detail: serde_json::Value = response.json().await.expect("json");
    assert_eq!(detail["detail"][0]["type"], "json_invalid");
    // Extra fields such as `stream: true` are ignored.
    let read = stream_with(
        &client,
        &server,
        &json!({"query": "q", "model": "m", "stream": true}),
        None,
    )
    .await;
    assert_eq!(read.record.outcome, Outcome::Completed);
}

#[tokio::test]
async fn second_identical_request_is_a_cache_hit_until_caching_is_turned_off() {
    let server = Server::start(fast_settings()).await;
    let first = stream(&server, "cache me").await;
    assert!(!first.record.cache_hit);
    let second = stream(&server, "cache me").await;
    assert!(second.record.cache_hit);
    assert_eq!(second.record.chunk_count, 1, "a hit is one chunk");
    assert_eq!(second.text(), first.text());
    assert_eq!(second.record.outcome, Outcome::Completed);

    let (status, answer) =
        put_json(&server, "admin/config", &json!({"ENABLE_CACHING": false})).await;
    assert_eq!(status, 200);
    assert_eq!(answer["current_config"]["ENABLE_CACHING"], false);
    let third = stream(&server, "cache me").await;
    assert!(!third.record.cache_hit, "caching off means no hits");
    put_json(&server, "admin/config", &json!({"ENABLE_CACHING": true})).await;
    let fourth = stream(&server, "cache me").await;
    assert!(
        !fourth.record.cache_hit,
        "caching off wrote nothing and cleared L1"
    );

    let load = get_json(&server, "admin/load-stats").await;
    assert_eq!(load["totals_by_outcome"]["cache_hit"], 1);
    assert_eq!(load["totals_by_outcome"]["completed"], 3);
}

#[tokio::test]
async fn config_put_semantics_match_the_contract() {
    let server = Server::start(fast_settings()).await;
    assert_eq!(
        get_json(&server, "admin/config").await,
        json!({"USE_FAKE_LLM": true, "ENABLE_CACHING": true, "QUEUE_TYPE": "redis"})
    );
    let (status, answer) = put_json(
        &server,
        "admin/config",
        &json!({"USE_FAKE_LLM": "notabool"}),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer,
        json!({"detail": [{"type": "bool_parsing", "loc": ["body", "USE_FAKE_LLM"],
            "msg": "Input should be a valid boolean, unable to interpret input", "input": "notabool"}]})
    );
    let (status, answer) =
        put_json(&server, "admin/config", &json!({"QUEUE_TYPE": "rabbitmq"})).await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["current_config"]["QUEUE_TYPE"], "redis",
        "unknown queue type ignored"
    );
    assert!(answer["warnings"][0]
        .as_str()
        .is_some_and(|w| w.contains("rabbitmq")));
    let (status, answer) = put_json(&server, "admin/config", &json!({})).await;
    assert_eq!((status, answer["status"].as_str()), (200, Some("updated")));
    let (_, answer) = put_json(
        &server,
        "admin/config",
        &json!({"QUEUE_TYPE": "kafka", "unknown": 1}),
    )
    .await;
    assert_eq!(answer["current_config"]["QUEUE_TYPE"], "kafka");
    assert!(answer["warnings"][0]
        .as_str()
        .is_some_and(|w| w.contains("no Kafka")));
}

#[tokio::test]
async fn fake_llm_off_without_a_key_fails_the_stream_clearly() {
    let server = Server::start(fast_settings()).await;
    put_json(&server, "admin/config", &json!({"USE_FAKE_LLM": false})).await;
    let read = stream_with(
        &reqwest::Client::new(),
        &server,
        &json!({"query": "q", "model": "gpt-4o"}),
        None,
    )
    .await;
    assert_eq!(read.status, 200);
    match &read.record.outcome {
        Outcome::StreamError { kind, message } => {
            assert_eq!(kind, "provider_not_configured");
            assert!(message.contains("OPENAI_API_KEY"), "{message}");
        }
        other => panic!("expected an error event, got {other:?}"),
    }
    assert_eq!(read.events.last(), Some(&StreamEvent::Done));
}

/// A stand-in for the OpenAI API (a third party), speaking its streaming format.
async fn openai_stand_in() -> (String, tokio::task::JoinHandle<()>) {
    use axum::routing::post;
    let router = axum::Router::new().route(
        "/v1/chat/completions",
        post(
            |headers: axum::http::HeaderMap, body: axum::Json<serde_json::Value>| async move {
                assert_eq!(
                    headers.get("authorization").and_then(|v| v.to_str().ok()),
                    Some("Bearer test-key")
                );
                assert_eq!(body["stream"], true);
                let model = body["model"].as_str().unwrap_or_default().to_owned();
                let mut sse = String::new();
                for word in ["Hello", " from", " ", model.as_str()] {
                    sse.push_str(&format!(
                        "data: {}\n\n",
                        json!({"choices": [{"delta": {"content": word}, "finish_reason": null}]})
                    ));
                }
                sse.push_str(&format!(
                    "data: {}\n\n",
                    json!({"choices": [{"delta": {}, "finish_reason": "stop"}]})
                ));
                sse.push_str("data: [DONE]\n\n");
                ([("content-type", "text/event-stream")], sse)
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (format!("http://{addr}/v1"), task)
}

#[tokio::test]
async fn fake_llm_off_with_a_key_streams_from_the_openai_compatible_api() {
    let (base_url, _stand_in) = openai_stand_in().await;
    let server = Server::start(Settings {
        use_fake_llm: false,
        openai_base_url: base_url,
        openai_api_key: Some("test-key".into()),
        ..fast_settings()
    })
    .await;
    let read = stream_with(
        &reqwest::Client::new(),
        &server,
        &json!({"query": "q", "model": "gpt-4o", "provider": "openai"}),
        None,
    )
    .await;
    assert_eq!(read.record.outcome, Outcome::Completed);
    assert_eq!(read.text(), "Hello from gpt-4o");
}

#[tokio::test]
async fn execution_stats_accumulate_per_stage_and_reset() {
    let server = Server::start(fast_settings()).await;
    for i in 0..3 {
        stream(&server, &format!("distinct {i}")).await;
    }
    stream(&server, "distinct 0").await; // a cache hit: stages 1, 2, 2.1 only
    let body = reqwest::get(server.url("admin/execution-stats"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    let stats = ExecutionStats::parse(&body).expect("stats");
    assert!(stats.reports_p90);
    let count = |id: &str| {
        stats
            .stages
            .iter()
            .find(|s| s.id == id)
            .map(|s| s.execution_count)
    };
    assert_eq!(count("1"), Some(4));
    assert_eq!(count("2"), Some(4));
    assert_eq!(count("2.1"), Some(4));
    assert_eq!(count("2.2"), Some(0), "no Redis, no L2 lookups");
    for id in ["3", "4", "5", "6"] {
        assert_eq!(count(id), Some(3), "stage {id}");
    }
    let streaming = stats
        .stages
        .iter()
        .find(|s| s.id == "5")
        .and_then(|s| s.durations.clone())
        .expect("timed");
    assert!(
        streaming.p50_ms.is_some_and(|p| p >= 5.0),
        "stage 5 includes the fake TTFT: {streaming:?}"
    );
    let response = reqwest::Client::new()
        .delete(server.url("admin/execution-stats"))
        .send()
        .await
        .expect("delete");
    assert_eq!(response.status(), 200);
    let after =
        ExecutionStats::parse(&get_json(&server, "admin/execution-stats").await.to_string())
            .expect("stats");
    assert!(after.stages.iter().all(|s| s.execution_count == 0));
}

#[tokio::test]
async fn compatibility_switch_answers_the_old_flat_shape_without_p90() {
    let server = Server::start(Settings {
        stats_shape: StatsShape::Flat,
        stats_p90: false,
        ..fast_settings()
    })
    .await;
    stream(&server, "q").await;
    let raw = get_json(&server, "admin/execution-stats").await;
    assert!(raw.get("stages").is_none());
    assert_eq!(raw["1"]["stage_id"], "1");
    assert!(raw["1"].get("p90_duration_ms").is_none());
    let stats = ExecutionStats::parse(&raw.to_string()).expect("stats");
    assert!(!stats.reports_p90);
    assert_eq!(stats.stages[0].execution_count, 1);
}

#[tokio::test]
async fn over_the_user_limit_requests_queue_with_pings_and_are_delivered() {
    let server = Server::start(Settings {
        per_user_limit: 1,
        queue_ping_ms: 20,
        fake: sse_backend::settings::FakeLlmSettings {
            ttft_min_ms: 150,
            ttft_max_ms: 150,
            ..fast_settings().fake
        },
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    let one = body("one");
    let (first, second) = tokio::join!(stream_with(&client, &server, &one, Some("alice")), async {
        tokio::time::sleep(Duration::from_millis(30)).await;
        stream_with(&client, &server, &body("two"), Some("alice")).await
    });
    assert_eq!(first.header("x-resilience-layer"), Some("1-Direct"));
    assert_eq!(
        second.header("x-resilience-layer"),
        Some("3-Queue-Failover")
    );
    assert!(
        second.record.comments >= 2,
        "pings while queued: {}",
        second.record.comments
    );
    assert_eq!(first.record.outcome, Outcome::Completed);
    assert_eq!(
        second.record.outcome,
        Outcome::Completed,
        "queued requests really stream"
    );
    // Another user is not affected by alice's limit.
    let bob = stream_with(&client, &server, &body("three"), Some("bob")).await;
    assert_eq!(bob.header("x-resilience-layer"), Some("1-Direct"));
}

#[tokio::test]
async fn queue_timeout_ends_with_the_error_event_and_no_done_and_a_full_queue_is_503() {
    let server = Server::start(Settings {
        global_limit: 1,
        queue_capacity: 1,
        queue_timeout_ms: 100,
        fake: sse_backend::settings::FakeLlmSettings {
            ttft_min_ms: 600,
            ttft_max_ms: 600,
            ..fast_settings().fake
        },
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    let long_body = body("long");
    let (long, queued, rejected) = tokio::join!(
        stream_with(&client, &server, &long_body, Some("a")),
        async {
            tokio::time::sleep(Duration::from_millis(30)).await;
            stream_with(&client, &server, &body("waits"), Some("b")).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(60)).await;
            stream_with(&client, &server, &body("no room"), Some("c")).await
        }
    );
    assert_eq!(long.record.outcome, Outcome::Completed);
    assert_eq!(
        queued.record.outcome.failure_kind().as_deref(),
        Some("Queue timeout - server busy")
    );
    assert!(!queued.events.contains(&StreamEvent::Done));
    assert_eq!(rejected.status, 503);
    assert_eq!(
        rejected.record.outcome.failure_kind().as_deref(),
        Some("http_503:service_unavailable")
    );
    let load = get_json(&server, "admin/load-stats").await;
    assert_eq!(load["totals_by_outcome"]["queue_timeout"], 1);
    assert_eq!(load["totals_by_outcome"]["rejected503"], 1);
    assert_eq!(load["peak_queued_requests"], 1);
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let server = Server::start(Settings {
        rate_limit_per_minute: Some(2),
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    for i in 0..2 {
        assert_eq!(
            stream_with(&client, &server, &body(&format!("r{i}")), Some("u"))
                .await
                .status,
            200
        );
    }
    let limited = stream_with(&client, &server, &body("r3"), Some("u")).await;
    assert_eq!(limited.status, 429);
    let retry_after: u64 = limited
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry_after));
    let body: serde_json::Value = serde_json::from_slice(&limited.raw).expect("json");
    assert_eq!(body["error"], "rate_limit_exceeded");
}

#[tokio::test]
async fn admin_token_guards_admin_routes_only() {
    let server = Server::start(Settings {
        admin_token: Some("s3cret".into()),
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    let denied = client
        .get(server.url("admin/config"))
        .send()
        .await
        .expect("get");
    assert_eq!(denied.status(), 401);
    let wrong = client
        .get(server.url("admin/config"))
        .bearer_auth("nope")
        .send()
        .await
        .expect("get");
    assert_eq!(wrong.status(), 401);
    let allowed = client
        .get(server.url("admin/config"))
        .bearer_auth("s3cret")
        .send()
        .await
        .expect("get");
    assert_eq!(allowed.status(), 200);
    assert_eq!(
        client
            .get(server.url("health"))
            .send()
            .await
            .expect("get")
            .status(),
        200
    );
}

#[tokio::test]
async fn cors_allows_a_configured_origin_with_credentials_and_exposes_the_thread_id() {
    let server = Server::start(Settings {
        cors_origins: vec!["http://localhost:3001".into(), "http://example.test".into()],
        ..fast_settings()
    })
    .await;
    let response = reqwest::Client::new()
        .request(reqwest::Method::OPTIONS, server.url("stream"))
        .header("origin", "http://localhost:3001")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some("http://localhost:3001")
    );
    assert_eq!(
        header("access-control-allow-credentials").as_deref(),
        Some("true")
    );
    let response = reqwest::Client::new()
        .get(server.url("health"))
        .header("origin", "http://example.test")
        .send()
        .await
        .expect("get");
    let exposed = response
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    assert!(exposed.contains("x-thread-id"), "{exposed}");
}

#[tokio::test]
async fn load_stats_report_peak_concurrency_and_per_request_timings() {
    let server = Server::start(Settings {
        fake: sse_backend::settings::FakeLlmSettings {
            ttft_min_ms: 100,
            ttft_max_ms: 100,
            ..fast_settings().fake
        },
        ..fast_settings()
    })
    .await;
    let client = reqwest::Client::new();
    let reads = futures_util::future::join_all((0..8).map(|i| {
        let client = client.clone();
        let server = &server;
        async move { stream_with(&client, server, &body(&format!("p{i}")), None).await }
    }))
    .await;
    assert!(reads.iter().all(|r| r.record.outcome == Outcome::Completed));
    let load = get_json(&server, "admin/load-stats?requests=true").await;
    assert_eq!(load["peak_active_streams"], 8);
    assert_eq!(load["active_streams"], 0);
    assert_eq!(load["totals_by_outcome"]["completed"], 8);
    let requests = load["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 8);
    let chunks: u64 = reads.iter().map(|r| r.record.chunk_count).sum();
    assert_eq!(load["chunks_sent"], chunks);
    for request in requests {
        let accepted = request["accepted_at_ms"].as_f64().expect("accepted");
        let first = request["first_chunk_at_ms"].as_f64().expect("first chunk");
        let finished = request["finished_at_ms"].as_f64().expect("finished");
        assert!(
            accepted + 100.0 <= first + 1.0 && first <= finished,
            "{request}"
        );
    }
    reqwest::Client::new()
        .delete(server.url("admin/load-stats"))
        .send()
        .await
        .expect("reset");
    assert_eq!(
        get_json(&server, "admin/load-stats").await["requests_total"],
        0
    );
}

/// Every stage of a request that waited in the failover queue, on one timeline.
#[tokio::test]
async fn per_request_records_hold_each_stage_the_queue_wait_and_the_first_token() {
    let server = Server::start(Settings {
        per_user_limit: 1,
        enable_caching: false,
        instance_id: Some("app-7".into()),
        fake: sse_backend::settings::FakeLlmSettings {
            ttft_min_ms: 80,
            ttft_max_ms: 80,
            gap_min_ms: 10,
            gap_max_ms: 10,
            answer_min_chars: 40,
            answer_max_chars: 40,
            ..fast_settings().fake
        },
        ..fast_settings()
    })
    .await;
    let before = get_json(&server, "admin/load-stats").await["last_seq"]
        .as_u64()
        .expect("last_seq");
    let client = reqwest::Client::new();
    let reads = futures_util::future::join_all((0..2).map(|i| {
        let client = client.clone();
        let server = &server;
        async move { stream_with(&client, server, &body(&format!("q{i}")), None).await }
    }))
    .await;
    assert!(reads.iter().all(|r| r.record.outcome == Outcome::Completed));
    let load = get_json(
        &server,
        &format!("admin/load-stats?requests=true&after={before}"),
    )
    .await;
    let requests = load["requests"].as_array().expect("requests");
    assert_eq!(requests.len(), 2, "{load}");
    let (queued, direct): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) = requests
        .iter()
        .partition(|r| r["resilience_layer"] == "3-Queue-Failover");
    let (queued, direct) = (queued[0], direct[0]);
    assert_eq!(direct["queue_wait_ms"], 0.0);
    assert!(direct["queued_at_ms"].is_null());
    // It waited for the other stream to end: at least its time to the first token.
    let waited = queued["queue_wait_ms"].as_f64().expect("queue wait");
    assert!(waited >= 80.0, "{queued}");
    for request in [queued, direct] {
        assert_eq!(request["instance_id"], "app-7");
        let at = |key: &str| request[key].as_f64().unwrap_or(f64::NAN);
        let stages: Vec<(&str, f64, f64)> = request["stages"]
            .as_array()
            .expect("stages")
            .iter()
            .map(|s| {
                (
                    s["stage"].as_str().unwrap_or(""),
                    s["started_at_ms"].as_f64().unwrap_or(f64::NAN),
                    s["duration_ms"].as_f64().unwrap_or(f64::NAN),
                )
            })
            .collect();
        let ids: Vec<&str> = stages.iter().map(|s| s.0).collect();
        // Caching is off: no stage 2.
        assert_eq!(ids, ["1", "3", "4", "5", "6"], "{request}");
        let stage = |id: &str| stages.iter().find(|s| s.0 == id).copied();
        let (_, provider_start, _) = stage("5").expect("stage 5");
        let first_token = at("provider_first_token_at_ms");
        assert!(
            (first_token - provider_start - 80.0).abs() < 20.0,
            "{request}"
        );
        assert!(at("accepted_at_ms") <= stages[0].1);
        assert!(first_token <= at("first_chunk_at_ms"));
        assert!(at("first_chunk_at_ms") <= at("finished_at_ms"));
        // Microseconds, no finer.
        assert_eq!((at("accepted_at_ms") * 1000.0).fract(), 0.0);
        for (_, started, took) in &stages {
            assert!(
                *started >= at("accepted_at_ms") && *took >= 0.0,
                "{request}"
            );
        }
    }
    let queued_at = queued["queued_at_ms"].as_f64().expect("queued at");
    let (_, stage4_start, _) = queued["stages"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["stage"] == "4"))
        .map(|s| ("4", s["started_at_ms"].as_f64().unwrap_or(0.0), 0.0))
        .expect("stage 4");
    assert!(queued_at + waited <= stage4_start + 0.01, "{queued}");
    let seqs: Vec<u64> = requests.iter().filter_map(|r| r["seq"].as_u64()).collect();
    assert_eq!(seqs, [before + 1, before + 2]);
    let later = get_json(
        &server,
        &format!("admin/load-stats?requests=true&after={}", before + 2),
    )
    .await;
    assert_eq!(later["requests"].as_array().map(Vec::len), Some(0));
}

#[tokio::test]
async fn request_records_can_be_turned_off_like_a_service_without_them() {
    let server = Server::start(Settings {
        request_records: false,
        ..fast_settings()
    })
    .await;
    let read = stream(&server, "one").await;
    assert_eq!(read.record.outcome, Outcome::Completed);
    let load = get_json(&server, "admin/load-stats?requests=true").await;
    assert!(load.get("requests").is_none(), "{load}");
    assert_eq!(load["requests_total"], 1);
}

#[tokio::test]
async fn shutdown_ends_open_streams_with_an_error_event() {
    let mut server = Server::start(Settings {
        fake: sse_backend::settings::FakeLlmSettings {
            gap_min_ms: 50,
            gap_max_ms: 50,
            answer_min_chars: 400,
            answer_max_chars: 400,
            ..fast_settings().fake
        },
        ..fast_settings()
    })
    .await;
    let app = std::sync::Arc::clone(&server.app);
    let client = reqwest::Client::new();
    let reader = {
        let request = body("long answer");
        let url = server.url("stream");
        tokio::spawn(async move {
            client
                .post(url)
                .json(&request)
                .send()
                .await
                .expect("send")
                .text()
                .await
        })
    };
    assert!(eventually(Duration::from_secs(5), || app.load.active() == 1).await);
    tokio::time::sleep(Duration::from_millis(100)).await;
    server.shut_down();
    let text = tokio::time::timeout(Duration::from_secs(5), reader)
        .await
        .expect("ends")
        .expect("task")
        .expect("body");
    assert!(
        text.contains("event: error\ndata: {\"error\": \"server_shutdown\""),
        "{text}"
    );
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn other_admin_views_answer() {
    let server = Server::start(fast_settings()).await;
    assert_eq!(
        get_json(&server, "admin/circuit-breakers").await,
        json!({"circuit_breakers": {}})
    );
    assert_eq!(
        get_json(&server, "admin/streaming-metrics").await["active_streams"],
        0
    );
    let prometheus = get_json(&server, "admin/prometheus-stats").await;
    assert_eq!(prometheus["connections"]["limit"], 10_000);
    let metrics = reqwest::get(server.url("admin/metrics"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    assert!(metrics.contains("sse_active_connections 0"), "{metrics}");
    let info: serde_json::Value = reqwest::get(format!("http://{}/", server.addr))
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(info["api"], "/api/v1");
    let health = get_json(&server, "health").await;
    assert_eq!(
        serde_json::from_value::<HealthStatus>(health["status"].clone()).expect("status"),
        HealthStatus::Healthy
    );
}
