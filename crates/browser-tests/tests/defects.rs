//! Defects seen when the dashboard was pointed at the original service
//! (shared/contract.md), each checked in Chromium through the project's nginx.

use std::time::Duration;

use browser_tests::{
    eval, fast_fake, open_dashboard, run_load_test, start_dashboard_with_config,
    unreachable_origin, Browser, FixedAnswer, HostileService, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};

const WAIT: Duration = Duration::from_secs(20);

async fn one_stream(backend: &InProcessBackend) -> anyhow::Result<()> {
    let answer = reqwest::Client::new()
        .post(backend.api("stream"))
        .json(&serde_json::json!({ "query": "hello", "model": "gpt-3.5-turbo" }))
        .send()
        .await?;
    answer.text().await?;
    Ok(())
}

/// The ECharts option of the chart drawn in the element with `id`.
async fn chart_option(browser: &Browser, id: &str) -> anyhow::Result<Value> {
    browser
        .wait_until(
            &format!("window.echarts && echarts.getInstanceByDom(document.getElementById('{id}'))"),
            WAIT,
            "the chart was not drawn",
        )
        .await?;
    eval(
        browser,
        &format!("return echarts.getInstanceByDom(document.getElementById('{id}')).getOption();"),
    )
    .await
}

#[tokio::test]
async fn every_stage_is_named_on_the_bar_chart_and_in_the_history_legend() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast_fake(),
        ..Settings::default()
    })
    .await?;
    one_stream(&backend).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    let bars = chart_option(&browser, "stage-percentiles-chart").await?;
    // Stages are the category axis, every label shown (interval 0).
    let stages = &bars["yAxis"][0];
    assert_eq!(stages["type"], "category", "{bars}");
    assert_eq!(stages["axisLabel"]["interval"], 0, "{stages}");
    let names: Vec<&str> = stages["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(names.len(), 8, "{names:?}");
    assert!(names.contains(&"3 Rate limiting") && names.contains(&"4 Provider selection"));
    // No paging legend: every stage's entry is in view.
    let history = chart_option(&browser, "stage-p95-history-chart").await?;
    assert_eq!(
        history["legend"][0]["type"], "plain",
        "{}",
        history["legend"]
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

fn stats_with_count(count: u64) -> FixedAnswer {
    FixedAnswer::json(format!(
        r#"{{"stages":{{"1":{{"execution_count":{count},"avg_duration_ms":2.0,"p50_duration_ms":2.0,"p95_duration_ms":2.0,"p99_duration_ms":2.0,"min_duration_ms":2.0,"max_duration_ms":2.0}}}}}}"#
    ))
}

fn healthy() -> FixedAnswer {
    FixedAnswer::json(r#"{"status":"healthy","version":"1.0.0","components":{"redis":"healthy"}}"#)
}

#[tokio::test]
async fn a_service_whose_counts_fall_is_not_said_to_report_a_history() -> anyhow::Result<()> {
    // The original service: counts of requests in flight, going down between polls.
    let service = HostileService::start(vec![
        ("/api/v1/health", healthy()),
        ("/api/v1/admin/execution-stats", stats_with_count(5)),
        ("/api/v1/admin/execution-stats", stats_with_count(2)),
        (
            "/api/v1/admin/config",
            FixedAnswer::json(
                r#"{"USE_FAKE_LLM":true,"ENABLE_CACHING":true,"QUEUE_TYPE":"redis"}"#,
            ),
        ),
    ])
    .await?;
    let (nginx, _copy) =
        start_dashboard_with_config(&service.origin(), r#"{"stats_poll_ms": 1000}"#)?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_until(
            "[...document.querySelectorAll('[data-testid=metrics-chart] figcaption')].some(c => c.textContent.includes('only requests in flight'))",
            WAIT,
            "the caption still claims a history",
        )
        .await?;
    let captions = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid=metrics-chart] figcaption')].map(c => c.textContent).join(' | ');",
    )
    .await?;
    assert!(
        !captions.to_string().contains("whole history"),
        "{captions}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_proxy_error_page_is_named_never_shown_as_markup() -> anyhow::Result<()> {
    // nginx answers 502 with its HTML page when the backend is down.
    let (_nginx, mut browser) = open_dashboard(&unreachable_origin()?).await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=stats-status]')?.textContent.includes('502')",
            WAIT,
            "no 502 in the statistics panel",
        )
        .await?;
    let status = browser.text_of("stats-status").await?;
    assert!(
        status.contains("HTTP 502") && status.contains("502 Bad Gateway"),
        "{status}"
    );
    assert!(status.contains("proxy"), "{status}");
    assert!(!status.contains('<'), "markup shown: {status}");
    browser.assert_clean(&["/api/v1/"]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_disconnected_status_keeps_its_label_while_checking_again() -> anyhow::Result<()> {
    let (nginx, _copy) =
        start_dashboard_with_config(&unreachable_origin()?, r#"{"health_poll_ms": 1000}"#)?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "disconnected", WAIT)
        .await?;
    // Sample the state every 50 ms over three more checks.
    let seen = eval(
        &browser,
        "const states = new Set();
         const el = () => document.querySelector('[data-testid=status-indicator]');
         for (let i = 0; i < 70; i++) {
             states.add(el().dataset.state + '/' + el().querySelector('.status-label').textContent);
             await new Promise(r => setTimeout(r, 50));
         }
         return [...states];",
    )
    .await?;
    assert_eq!(
        seen,
        serde_json::json!(["disconnected/Disconnected"]),
        "{seen}"
    );
    browser.assert_clean(&["/api/v1/"]).await?;
    browser.close().await
}

#[tokio::test]
async fn the_ended_rate_shows_while_every_request_fails() -> anyhow::Result<()> {
    let failing = "event: error\ndata: {\"error\":\"provider_error\",\"message\":\"down\"}\n\ndata: [DONE]\n\n";
    let service = HostileService::start(vec![
        ("/api/v1/health", healthy()),
        (
            "/api/v1/admin/execution-stats",
            FixedAnswer::json(r#"{"stages":{}}"#),
        ),
        (
            "/api/v1/admin/config",
            FixedAnswer::json(
                r#"{"USE_FAKE_LLM":true,"ENABLE_CACHING":true,"QUEUE_TYPE":"redis"}"#,
            ),
        ),
        ("/api/v1/stream", FixedAnswer::event_stream(failing)),
    ])
    .await?;
    let (_nginx, mut browser) = open_dashboard(&service.origin()).await?;
    run_load_test(&browser, 2, 10).await?;
    let rates = eval(
        &browser,
        "const v = id => document.querySelector(`[data-testid=${id}]`).dataset.value;
         return [v('lt-rps'), v('lt-ended-rps'), v('lt-failed')];",
    )
    .await?;
    let number = |i: usize| rates[i].as_str().and_then(|v| v.parse::<f64>().ok());
    assert_eq!(number(0), Some(0.0), "no request completed: {rates}");
    assert!(
        number(1).is_some_and(|v| v > 0.0),
        "the ended rate: {rates}"
    );
    assert_eq!(number(2), Some(10.0), "{rates}");
    browser
        .assert_clean(&[browser_tests::NO_LOAD_STATS])
        .await?;
    browser.close().await
}

#[tokio::test]
async fn a_run_the_service_queued_and_failed_says_why_in_words() -> anyhow::Result<()> {
    // One stream per user; the rest wait in the queue and time out.
    let backend = InProcessBackend::start_with(Settings {
        per_user_limit: 1,
        queue_timeout_ms: 300,
        enable_caching: false,
        fake: FakeLlmSettings {
            ttft_min_ms: 1_000,
            ttft_max_ms: 1_000,
            ..fast_fake()
        },
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser_tests::open_load_tester(&browser, WAIT).await?;
    browser.fill("lt-concurrency", "5").await?;
    browser.fill("lt-total", "5").await?;
    // Every request as the same user (behind nginx: its address), as the
    // original service's users were seen.
    let per_worker = eval(
        &browser,
        "return document.querySelector('[data-testid=lt-user-per-worker]').checked;",
    )
    .await?;
    if per_worker == true {
        browser.click("lt-user-per-worker").await?;
    }
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await?;
    browser.wait_for_testid("lt-explanation", WAIT).await?;
    let text = browser.text_of("lt-explanation").await?;
    assert!(
        text.starts_with("4 of 5 requests were queued by the service"),
        "{text}"
    );
    assert!(
        text.contains("X-User-ID") && text.contains("One user per worker"),
        "{text}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}
