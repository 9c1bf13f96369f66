//! The statistics panel's second source, the service's Prometheus histograms
//! (`/admin/metrics`), and the service strip, in Chromium through the project's
//! nginx: against our reference backend, against answers of the original
//! service (shared/captures), and against scrapes that are no exposition.

use std::time::Duration;

use browser_tests::{
    eval, fast_fake, pick_stats_source, send_streams, start_dashboard_with_config, Browser,
    FixedAnswer, HostileService, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::Settings;

const WAIT: Duration = Duration::from_secs(30);
const FAST_POLLS: &str = r#"{"stats_poll_ms": 1000}"#;

const METRICS_CAPTURE: &str =
    include_str!("../../sse-core/tests/captures/original-admin-metrics.prom");
const STATS_CAPTURE: &str =
    include_str!("../../sse-core/tests/captures/original-execution-stats-after-2-streams.json");

fn healthy() -> FixedAnswer {
    FixedAnswer::json(
        r#"{"status":"healthy","timestamp":"2026-12-02T10:00:00Z","version":"1.0.0","environment":"development"}"#,
    )
}

/// A table cell's attribute (`data-value`, `data-estimate`) or text (`text`).
async fn cell(browser: &Browser, stage: &str, metric: &str, what: &str) -> anyhow::Result<Value> {
    let read = if what == "text" {
        "c.textContent".to_owned()
    } else {
        format!("c.getAttribute('{what}')")
    };
    eval(
        browser,
        &format!(
            "const c = document.querySelector('[data-testid=\"stage-{stage}\"] [data-metric={metric}]');
             return c ? {read} : 'no such cell';"
        ),
    )
    .await
}

async fn wait_for_cell(
    browser: &Browser,
    stage: &str,
    metric: &str,
    want: &str,
) -> anyhow::Result<()> {
    browser
        .wait_until(
            &format!(
                "(document.querySelector('[data-testid=\"stage-{stage}\"] [data-metric={metric}]') || {{}}).dataset?.value === '{want}'"
            ),
            WAIT,
            &format!("stage {stage} {metric} never became {want}"),
        )
        .await
}

#[tokio::test]
async fn the_metrics_count_every_stream_as_the_execution_stats_do() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast_fake(),
        ..Settings::default()
    })
    .await?;
    send_streams(&backend.api("stream"), "prometheus question", 0, 4).await?;
    let (nginx, _dist) = start_dashboard_with_config(&backend.origin(), FAST_POLLS)?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    // The first load shows the execution-stats: they hold data here.
    wait_for_cell(&browser, "1", "count", "4").await?;
    browser
        .wait_for_attr("metrics-chart", "data-source", "execution-stats", WAIT)
        .await?;
    pick_stats_source(&browser, "metrics").await?;
    browser
        .wait_for_attr("metrics-chart", "data-source", "metrics", WAIT)
        .await?;
    // The service's own stage ids, each counting the 4 streams.
    for stage in ["1", "2.1-2.2", "2.3", "3", "4", "5", "6"] {
        wait_for_cell(&browser, stage, "count", "4").await?;
    }
    assert_eq!(
        cell(&browser, "1", "p50", "data-estimate").await?,
        "histogram"
    );
    let p99 = cell(&browser, "5", "p99", "data-value").await?;
    let p99: f64 = p99.as_str().unwrap_or("").parse()?;
    assert!(p99 > 0.0 && p99 < 60_000.0, "stage 5 p99 {p99} ms");
    // min and max are no histogram's: absent, not 0.
    assert_eq!(cell(&browser, "1", "max", "data-value").await?, "");
    // The strip from the same scrape.
    browser
        .wait_for_attr("service-requests", "data-value", "4", WAIT)
        .await?;
    browser
        .wait_for_attr("service-success-share", "data-value", "1", WAIT)
        .await?;
    // Two more streams: the metrics follow, and so do the execution-stats.
    send_streams(&backend.api("stream"), "prometheus question", 4, 2).await?;
    wait_for_cell(&browser, "1", "count", "6").await?;
    browser
        .wait_for_attr("service-requests", "data-value", "6", WAIT)
        .await?;
    let strip = browser.text_of("service-strip").await?;
    assert!(
        strip.contains("/s"),
        "a rate since the previous poll: {strip}"
    );
    pick_stats_source(&browser, "execution-stats").await?;
    browser
        .wait_for_attr("metrics-chart", "data-source", "execution-stats", WAIT)
        .await?;
    wait_for_cell(&browser, "1", "count", "6").await?;
    wait_for_cell(&browser, "2", "count", "6").await?;
    assert_eq!(
        cell(&browser, "1", "p50", "data-estimate").await?,
        Value::Null
    );
    let disagreement = eval(
        &browser,
        "return document.querySelector('[data-testid=stats-disagreement]').hidden;",
    )
    .await?;
    assert_eq!(disagreement, true, "the counts agree: nothing to explain");
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn where_only_the_metrics_hold_data_the_panel_opens_on_them() -> anyhow::Result<()> {
    // The original service after two finished streams (shared/captures).
    let service = HostileService::start(vec![
        ("/api/v1/health", healthy()),
        (
            "/api/v1/admin/execution-stats",
            FixedAnswer::json(STATS_CAPTURE),
        ),
        (
            "/api/v1/admin/metrics",
            FixedAnswer::prometheus(METRICS_CAPTURE),
        ),
    ])
    .await?;
    let (nginx, _dist) = start_dashboard_with_config(&service.origin(), FAST_POLLS)?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_for_attr("metrics-chart", "data-source", "metrics", WAIT)
        .await?;
    for stage in ["1", "2.1-2.2", "2.3", "3", "4", "5", "5.1", "6"] {
        wait_for_cell(&browser, stage, "count", "2").await?;
    }
    // Every stream took longer than the top bucket (1 s): said so, and the
    // value is the highest finite bound, as histogram_quantile answers.
    assert_eq!(cell(&browser, "5", "p99", "text").await?, "above 1.00 s");
    assert_eq!(cell(&browser, "5", "p99", "data-value").await?, "1000");
    let slowest = browser.text_of("stats-slowest").await?;
    assert_eq!(
        slowest, "LLM streaming: above 1.00 s",
        "never the bound alone"
    );
    // Both validations took 1–5 ms: the bucket, then the interpolation.
    assert_eq!(
        cell(&browser, "1", "p50", "text").await?,
        "1.00 ms – 5.00 ms"
    );
    assert_eq!(cell(&browser, "1", "p50", "data-value").await?, "3");
    let sentence = browser.text_of("stats-disagreement").await?;
    assert!(sentence.contains("stage 1: 0 vs 2"), "{sentence}");
    assert!(sentence.contains("since the process started"), "{sentence}");
    // The service's own count (it counts some requests twice), and no cache
    // figures where the service has none: absent, not 0 %.
    browser
        .wait_for_attr("service-requests", "data-value", "4", WAIT)
        .await?;
    assert_eq!(browser.text_of("service-cache-hit-share").await?, "—");
    // For people to look at: the panel on the original's metrics.
    browser
        .screenshot_of("metrics-chart", "statistics-from-prometheus-metrics")
        .await?;
    // The fixed service has no /admin/config: its 404 is expected.
    browser.assert_clean(&["admin/config"]).await?;
    browser.close().await
}

/// 5 MB that are no text format: bytes of a fixed pseudo-random sequence.
fn garbage() -> Vec<u8> {
    let mut x: u32 = 12345;
    (0..5_000_000)
        .map(|_| {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            (x >> 16) as u8
        })
        .collect()
}

#[tokio::test]
async fn a_scrape_that_is_html_cut_off_or_garbage_is_named_and_nothing_panics() -> anyhow::Result<()>
{
    let stats = r#"{"stages":{"1":{"execution_count":3,"avg_duration_ms":1.0,"p50_duration_ms":1.0,"p95_duration_ms":1.0,"p99_duration_ms":1.0,"min_duration_ms":1.0,"max_duration_ms":1.0}}}"#;
    let cut = METRICS_CAPTURE
        .find("sse_stage_duration_seconds_bucket{le=\"0.25\",stage=\"3\"")
        .map_or(METRICS_CAPTURE, |at| &METRICS_CAPTURE[..at + 40]);
    let html = FixedAnswer {
        status: 200,
        content_type: "text/html",
        body:
            b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in</body></html>"
                .to_vec(),
    };
    let service = HostileService::start(vec![
        ("/api/v1/health", healthy()),
        ("/api/v1/admin/execution-stats", FixedAnswer::json(stats)),
        // Each poll gets the next answer.
        ("/api/v1/admin/metrics", html),
        ("/api/v1/admin/metrics", FixedAnswer::prometheus(cut)),
        ("/api/v1/admin/metrics", FixedAnswer::prometheus(garbage())),
    ])
    .await?;
    let (nginx, _dist) = start_dashboard_with_config(&service.origin(), FAST_POLLS)?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    wait_for_cell(&browser, "1", "count", "3").await?;
    pick_stats_source(&browser, "metrics").await?;
    let said = |what: &'static str| {
        format!("(document.querySelector('[data-testid=stats-metrics-status]') || {{}}).textContent?.includes('{what}')")
    };
    browser
        .wait_until(&said("HTML page"), WAIT, "the HTML answer was not named")
        .await?;
    // The cut-off scrape: what it holds is shown, what it lost is named.
    wait_for_cell(&browser, "1", "count", "2").await?;
    browser
        .wait_until(
            "(document.querySelector('[data-testid=stats-ignored]') || {}).textContent?.includes('cut off')",
            WAIT,
            "the cut-off end was not named",
        )
        .await?;
    browser
        .wait_until(
            &said("not Prometheus text"),
            WAIT,
            "the garbage was not named",
        )
        .await?;
    // The last good figures stay, marked stale.
    browser
        .wait_for_attr("stats-status", "data-stale", "true", WAIT)
        .await?;
    assert_eq!(cell(&browser, "1", "count", "data-value").await?, "2");
    assert_eq!(browser.page_panic().await?, None);
    // The fixed service has no /admin/config: its 404 is expected.
    browser.assert_clean(&["admin/config"]).await?;
    browser.close().await
}

#[tokio::test]
async fn when_the_prometheus_reader_cannot_load_the_execution_stats_stay_and_it_is_said(
) -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast_fake(),
        ..Settings::default()
    })
    .await?;
    send_streams(&backend.api("stream"), "prometheus question", 0, 1).await?;
    let (nginx, _dist) = start_dashboard_with_config(&backend.origin(), FAST_POLLS)?;
    let mut browser = Browser::launch().await?;
    // The reader's part (loaded on demand) never arrives.
    browser.block_urls(&["*split_prometheus_reader*"]).await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    wait_for_cell(&browser, "1", "count", "1").await?;
    pick_stats_source(&browser, "metrics").await?;
    browser
        .wait_until(
            "(document.querySelector('[data-testid=stats-metrics-status]')?.textContent ?? '').includes('reader')",
            WAIT,
            "the failed load was not said",
        )
        .await?;
    let said = browser.text_of("stats-metrics-status").await?;
    assert!(said.contains("Prometheus reader did not load"), "{said}");
    // The execution-stats are still there and still polled.
    pick_stats_source(&browser, "execution-stats").await?;
    send_streams(&backend.api("stream"), "prometheus question", 1, 1).await?;
    wait_for_cell(&browser, "1", "count", "2").await?;
    assert_eq!(browser.page_panic().await?, None);
    // The blocked fetch, and the part loader's report of it.
    browser
        .assert_clean_but(
            &["split_prometheus_reader"],
            &["TypeError: Failed to fetch"],
        )
        .await?;
    browser.close().await
}
