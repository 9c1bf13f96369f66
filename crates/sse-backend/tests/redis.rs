//! The L2 cache and health against a real Redis (Debian's redis-server, started
//! by the test on a free port).

mod common;

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use common::{fast_settings, get_json, stream, Server};
use dashboard_ops::process::{find_program, free_local_port, Supervised};
use sse_backend::settings::Settings;

fn start_redis(port: u16, dir: &std::path::Path) -> Supervised {
    let binary = find_program("redis-server").expect("redis-server is installed by scripts/setup");
    let mut command = Command::new(binary);
    command
        .args([
            "--bind",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .current_dir(dir);
    Supervised::spawn_listening(
        "redis-server",
        command,
        &dir.join(format!("redis-{port}.log")),
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(10),
    )
    .expect("redis listens")
}

fn with_redis(port: u16) -> Settings {
    Settings {
        redis_url: Some(format!("redis://127.0.0.1:{port}/")),
        ..fast_settings()
    }
}

#[tokio::test]
async fn an_answer_cached_by_one_instance_is_an_l2_hit_for_another() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_local_port().expect("port");
    let _redis = start_redis(port, dir.path());
    let first = Server::start(with_redis(port)).await;
    let second = Server::start(with_redis(port)).await;

    let original = stream(&first, "shared question").await;
    assert!(!original.record.cache_hit);
    // The second instance has an empty L1: the hit must come from Redis.
    let hit = stream(&second, "shared question").await;
    assert!(hit.record.cache_hit);
    assert_eq!(hit.text(), original.text());
    let stats = get_json(&second, "admin/execution-stats").await;
    assert_eq!(
        stats["stages"]["2.2"]["execution_count"], 1,
        "one L2 lookup"
    );
    assert_eq!(
        stats["stages"]["5"]["execution_count"], 0,
        "no LLM streaming for a hit"
    );
    let detailed = get_json(&second, "health/detailed").await;
    assert_eq!(detailed["components"]["redis"]["status"], "healthy");
}

#[tokio::test]
async fn health_is_degraded_while_redis_is_down_and_recovers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_local_port().expect("port");
    let mut redis = start_redis(port, dir.path());
    let server = Server::start(with_redis(port)).await;
    let health = get_json(&server, "health").await;
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["components"]["redis"], "healthy");

    redis.stop(Duration::from_secs(2));
    let health = get_json(&server, "health").await;
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["components"]["redis"], "unhealthy");
    let ready = reqwest::get(server.url("health/ready")).await.expect("get");
    assert_eq!(ready.status(), 503);
    // Streams still work without Redis (only the L2 copy is lost).
    let read = stream(&server, "while redis is down").await;
    assert_eq!(
        read.record.outcome,
        sse_core::load::recorder::Outcome::Completed
    );

    let _redis = start_redis(port, dir.path());
    let mut healthy = false;
    for _ in 0..50 {
        if get_json(&server, "health").await["status"] == "healthy" {
            healthy = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(healthy, "health returns to healthy when Redis is back");
    assert_eq!(
        reqwest::get(server.url("health/ready"))
            .await
            .expect("get")
            .status(),
        200
    );
}

#[tokio::test]
async fn with_queue_type_redis_the_queue_order_lives_in_redis_and_requests_are_delivered() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_local_port().expect("port");
    let _redis = start_redis(port, dir.path());
    let server = Server::start(Settings {
        per_user_limit: 1,
        queue_ping_ms: 20,
        fake: sse_backend::settings::FakeLlmSettings {
            ttft_min_ms: 400,
            ttft_max_ms: 400,
            ..fast_settings().fake
        },
        ..with_redis(port)
    })
    .await;
    let detailed = get_json(&server, "health/detailed").await;
    assert_eq!(detailed["components"]["queue"]["backend"], "redis");
    let key = detailed["components"]["queue"]["redis_key"]
        .as_str()
        .expect("key")
        .to_owned();

    let redis = sse_backend::cache::RedisStore::new(
        &format!("redis://127.0.0.1:{port}/"),
        Duration::from_secs(60),
    )
    .expect("client");
    let client = reqwest::Client::new();
    let first_body = common::body("first");
    let second_body = common::body("second");
    let (first, second, seen_in_redis) = tokio::join!(
        common::stream_with(&client, &server, &first_body, Some("alice")),
        async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            common::stream_with(&client, &server, &second_body, Some("alice")).await
        },
        async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            redis.list(&key).await.expect("LRANGE")
        }
    );
    assert_eq!(
        seen_in_redis.len(),
        1,
        "the queued request is in Redis: {seen_in_redis:?}"
    );
    assert!(seen_in_redis[0].ends_with(":alice"));
    assert_eq!(
        second.header("x-resilience-layer"),
        Some("3-Queue-Failover")
    );
    assert_eq!(
        first.record.outcome,
        sse_core::load::recorder::Outcome::Completed
    );
    assert_eq!(
        second.record.outcome,
        sse_core::load::recorder::Outcome::Completed
    );
    let mut emptied = false;
    for _ in 0..50 {
        if redis.list_len(&key).await.expect("LLEN") == 0 {
            emptied = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(emptied, "a delivered request leaves the Redis queue");
}
