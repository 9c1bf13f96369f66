//! `GET /admin/metrics` read back with the dashboard's own Prometheus reader:
//! the original's families, names and labels, with counts that agree with the
//! execution-stats and the requests sent.

mod common;

use std::time::Duration;

use common::{body, fast_settings, stream, stream_with, Server};
use sse_backend::exposition::{MAX_MODEL_LABELS, REQUEST_BUCKETS, STAGE_BUCKETS};
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::monitoring::prometheus::exposition::{Exposition, MetricType};
use sse_core::monitoring::prometheus::service::ServiceMetrics;

async fn scrape(server: &Server) -> (String, ServiceMetrics) {
    let response = reqwest::get(server.url("admin/metrics"))
        .await
        .expect("get");
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    let text = response.text().await.expect("text");
    let metrics = ServiceMetrics::parse(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    (text, metrics)
}

async fn execution_stats(server: &Server) -> ExecutionStats {
    let text = reqwest::get(server.url("admin/execution-stats"))
        .await
        .expect("get")
        .text()
        .await
        .expect("text");
    ExecutionStats::parse(&text).expect("stats")
}

#[tokio::test]
async fn after_n_streams_every_stage_counts_n_and_agrees_with_execution_stats() {
    let server = Server::start(fast_settings()).await;
    const N: u64 = 5;
    for i in 0..N {
        let read = stream(&server, &format!("metrics question {i}")).await;
        assert_eq!(read.status, 200);
    }
    // Stage 6 (cleanup) is timed after the last event was sent.
    let mut metrics = scrape(&server).await.1;
    for _ in 0..50 {
        if metrics
            .stage("6")
            .is_some_and(|s| s.histogram.count == N as f64)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        metrics = scrape(&server).await.1;
    }
    let ids: Vec<&str> = metrics.stages.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["1", "2.1-2.2", "2.3", "3", "4", "5", "6"]);
    let stats = execution_stats(&server).await;
    for stage in &metrics.stages {
        assert_eq!(stage.histogram.count, N as f64, "stage {}", stage.id);
        assert_eq!(
            stage.histogram.bounds,
            STAGE_BUCKETS.to_vec(),
            "stage {}",
            stage.id
        );
        let same = if stage.id == "2.1-2.2" {
            "2"
        } else {
            stage.id.as_str()
        };
        // 2.1-2.2 is the whole lookup (stage 2 there); 2.3, the cache write,
        // has no stage of its own in the execution-stats.
        match stats.stages.iter().find(|s| s.id == same) {
            Some(theirs) => assert_eq!(theirs.execution_count, N, "execution-stats stage {same}"),
            None => assert_eq!(stage.id, "2.3"),
        }
        // The sum is the stages' real time: positive, and validation is sub-millisecond.
        assert!(
            stage.histogram.sum.is_some_and(|s| s > 0.0),
            "stage {}",
            stage.id
        );
    }
    let validation = metrics.stage("1").expect("1");
    assert_eq!(validation.name, "Request validation");
    let p99 = validation.histogram.quantile(0.99).expect("p99");
    assert!(
        p99.upper <= 0.001,
        "validation p99 bucket {p99:?}: finer than the original's 1 ms"
    );
    let overall = metrics.request_durations.as_ref().expect("overall");
    assert_eq!(
        (overall.count, overall.bounds.clone()),
        (N as f64, REQUEST_BUCKETS.to_vec())
    );
    assert_eq!(metrics.requests_by_status.get("success"), Some(N as f64));
    assert_eq!(metrics.active_connections, Some(0.0));
    assert_eq!(metrics.queue_depth, Some(0.0));
    assert_eq!(metrics.cache_misses.get("l1"), Some(N as f64));
    assert_eq!(metrics.notes, Vec::<String>::new());
}

#[tokio::test]
async fn families_have_the_original_names_types_and_labels() {
    let server = Server::start(fast_settings()).await;
    stream(&server, "labels question").await;
    let again = stream(&server, "labels question").await;
    assert!(!again.text().is_empty());
    let (text, metrics) = scrape(&server).await;
    let exposition = Exposition::parse(&text).expect("parses");
    for (name, kind) in [
        ("sse_stage_duration_seconds", MetricType::Histogram),
        ("sse_request_duration_seconds", MetricType::Histogram),
        ("sse_requests_total", MetricType::Counter),
        ("sse_active_connections", MetricType::Gauge),
        ("sse_cache_hits_total", MetricType::Counter),
        ("sse_cache_misses_total", MetricType::Counter),
        ("sse_queue_depth", MetricType::Gauge),
        ("sse_chunks_streamed_total", MetricType::Counter),
    ] {
        let family = exposition
            .family(name)
            .unwrap_or_else(|| panic!("{name} in {text}"));
        assert_eq!(family.kind, kind, "{name}");
    }
    let requests = exposition.family("sse_requests_total").expect("requests");
    let labels: Vec<&str> = requests.samples[0]
        .labels
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(labels, ["model", "provider", "status"]);
    assert_eq!(requests.samples[0].label("model"), Some("gpt-3.5-turbo"));
    let stage = exposition
        .family("sse_stage_duration_seconds")
        .expect("stages");
    assert!(stage
        .samples
        .iter()
        .all(|s| s.label("stage").is_some() && s.label("substage").is_some()));
    // The repeated prompt was a cache hit, answered by the "cache" provider.
    assert_eq!(metrics.cache_hits.get("l1"), Some(1.0));
    assert!(
        text.contains("provider=\"cache\",status=\"success\""),
        "{text}"
    );
}

#[tokio::test]
async fn a_reset_of_execution_stats_keeps_the_cumulative_histograms() {
    let server = Server::start(fast_settings()).await;
    stream(&server, "reset question").await;
    let client = reqwest::Client::new();
    let reset = client
        .delete(server.url("admin/execution-stats"))
        .send()
        .await
        .expect("reset");
    assert!(reset.status().is_success(), "{}", reset.status());
    assert!(execution_stats(&server)
        .await
        .stages
        .iter()
        .all(|s| s.execution_count == 0));
    let (_, metrics) = scrape(&server).await;
    assert_eq!(metrics.stage("1").map(|s| s.histogram.count), Some(1.0));
}

#[tokio::test]
async fn made_up_model_names_cannot_grow_the_exposition_without_end() {
    let server = Server::start(fast_settings()).await;
    let client = reqwest::Client::new();
    for i in 0..(MAX_MODEL_LABELS + 8) {
        let mut request = body(&format!("model {i}"));
        request["model"] = serde_json::json!(format!("made-up-model-{i}-{}", "x".repeat(200)));
        assert_eq!(
            stream_with(&client, &server, &request, None).await.status,
            200
        );
    }
    let (text, metrics) = scrape(&server).await;
    let exposition = Exposition::parse(&text).expect("parses");
    let requests = exposition.family("sse_requests_total").expect("requests");
    let models: std::collections::BTreeSet<&str> = requests
        .samples
        .iter()
        .filter_map(|s| s.label("model"))
        .collect();
    assert_eq!(models.len(), MAX_MODEL_LABELS + 1, "{models:?}");
    assert!(models.contains("other"));
    assert!(models.iter().all(|m| m.chars().count() <= 64));
    assert_eq!(
        metrics.requests_by_status.get("success"),
        Some((MAX_MODEL_LABELS + 8) as f64)
    );
}
