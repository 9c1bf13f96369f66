//! The health routes, over a real socket.

use sse_core::health::{ConnectionState, HealthReport, HealthStatus};

async fn start() -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(sse_backend::serve(listener, async {
        let _ = stopped.await;
    }));
    (format!("http://{addr}/api/v1"), stop)
}

#[tokio::test]
async fn health_answers_the_contract_shape() {
    let (base, _stop) = start().await;
    let response = reqwest::get(format!("{base}/health"))
        .await
        .expect("request");
    assert_eq!(response.status(), 200);
    let body = response.text().await.expect("body");
    let report: HealthReport = serde_json::from_str(&body).expect("health report");
    assert_eq!(report.status, HealthStatus::Healthy);
    assert_eq!(
        report.version.as_deref(),
        Some(sse_backend::SERVICE_VERSION)
    );
    assert!(
        report
            .timestamp
            .as_deref()
            .is_some_and(|t| t.ends_with('Z')),
        "{body}"
    );
    assert!(matches!(
        ConnectionState::from_body(&body),
        ConnectionState::Connected { .. }
    ));
}

#[tokio::test]
async fn liveness_and_readiness_answer() {
    let (base, _stop) = start().await;
    for (path, word) in [("health/live", "alive"), ("health/ready", "ready")] {
        let response = reqwest::get(format!("{base}/{path}"))
            .await
            .expect("request");
        assert_eq!(response.status(), 200, "{path}");
        let body: serde_json::Value = response.json().await.expect("json");
        assert_eq!(body["status"], word, "{path}");
    }
}

#[tokio::test]
async fn health_is_only_under_the_api_prefix() {
    let (base, _stop) = start().await;
    let root = base.trim_end_matches("/api/v1");
    let response = reqwest::get(format!("{root}/health"))
        .await
        .expect("request");
    assert_eq!(response.status(), 404);
}
