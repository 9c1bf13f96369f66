//! Instance identity: every answer names the instance that gave it
//! (`x-instance-id`), and so does /health, so that a client behind a
//! balancer can tell the instances apart.

mod common;

use common::{fast_settings, get_json, stream, Server};
use sse_backend::settings::Settings;

async fn header_of(response: reqwest::Response) -> Option<String> {
    response
        .headers()
        .get("x-instance-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

#[tokio::test]
async fn every_answer_names_the_instance_by_its_address_by_default() {
    let server = Server::start(fast_settings()).await;
    let own = server.addr.to_string();
    let client = reqwest::Client::new();
    for path in ["health", "admin/config", "admin/metrics", "no/such/route"] {
        let answer = client.get(server.url(path)).send().await.expect("get");
        assert_eq!(
            header_of(answer).await.as_deref(),
            Some(own.as_str()),
            "{path}"
        );
    }
    let invalid = client
        .post(server.url("stream"))
        .json(&serde_json::json!({ "query": "" }))
        .send()
        .await
        .expect("post");
    assert_eq!(invalid.status(), 422);
    assert_eq!(header_of(invalid).await.as_deref(), Some(own.as_str()));
    let read = stream(&server, "which instance?").await;
    assert_eq!(read.header("x-instance-id"), Some(own.as_str()));
    assert_eq!(get_json(&server, "health").await["instance_id"], own);
}

#[tokio::test]
async fn an_instance_id_given_is_the_one_answered() {
    let server = Server::start(Settings {
        instance_id: Some("app-2".into()),
        ..fast_settings()
    })
    .await;
    let answer = reqwest::get(server.url("health")).await.expect("get");
    assert_eq!(header_of(answer).await.as_deref(), Some("app-2"));
    assert_eq!(get_json(&server, "health").await["instance_id"], "app-2");
}
