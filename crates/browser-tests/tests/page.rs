//! The dashboard page in headless Chromium, served by the project's nginx.conf.

use std::time::Duration;

use browser_tests::{
    eval, open_dashboard, start_dashboard, unreachable_origin, Browser, InProcessBackend,
};
use sse_backend::settings::Settings;

const WAIT: Duration = Duration::from_secs(20);
/// The panels' failed API loads are expected while the backend is down.
const API_PATH: &str = "/api/v1/";

#[tokio::test]
async fn page_loads_with_header_and_the_four_component_areas() -> anyhow::Result<()> {
    let (_nginx, mut browser) = open_dashboard(&unreachable_origin()?).await?;

    let header = browser.wait_for_testid("app-header", WAIT).await?;
    assert!(header.text().await?.contains("SSE Performance Dashboard"));
    for testid in [
        "status-indicator",
        "metrics-chart",
        "config-panel",
        "load-tester",
    ] {
        browser.wait_for_testid(testid, WAIT).await?;
    }
    assert_eq!(browser.client().title().await?, "SSE Performance Dashboard");
    // ECharts (custom build from the npm lockfile) arrives asynchronously as the
    // global charming needs; the app does not wait for it.
    browser
        .wait_until(
            "typeof window.echarts?.init === 'function'",
            WAIT,
            "ECharts never loaded",
        )
        .await?;
    assert_eq!(
        eval(
            &browser,
            "return document.querySelector('script[src*=echarts]').async;"
        )
        .await?,
        true
    );

    browser.assert_clean(&[API_PATH]).await?;
    browser.close().await
}

#[tokio::test]
async fn status_shows_disconnected_with_the_reason_when_no_backend_runs() -> anyhow::Result<()> {
    let (_nginx, mut browser) = open_dashboard(&unreachable_origin()?).await?;

    browser
        .wait_for_attr("status-indicator", "data-state", "disconnected", WAIT)
        .await?;
    let indicator = browser.wait_for_testid("status-indicator", WAIT).await?;
    assert!(indicator.text().await?.contains("Disconnected"));
    // nginx answers 502 Bad Gateway when nothing listens behind /api/.
    let reason = indicator.attr("title").await?.unwrap_or_default();
    assert!(reason.contains("HTTP 502"), "hover text: {reason:?}");

    browser.assert_clean(&[API_PATH]).await?;
    browser.close().await
}

#[tokio::test]
async fn status_shows_connected_with_the_reference_backend() -> anyhow::Result<()> {
    let backend = InProcessBackend::start().await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;

    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    let version = browser
        .wait_for_testid("status-version", WAIT)
        .await?
        .text()
        .await?;
    assert_eq!(version, format!("v{}", sse_backend::SERVICE_VERSION));

    // With a healthy backend not even a failed load is acceptable.
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn status_recovers_when_the_backend_stops_and_comes_back() -> anyhow::Result<()> {
    // A fixed port, so that the backend can return at the same origin.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let nginx = start_dashboard(&format!("http://{addr}"))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sse_backend::serve(listener, Settings::default(), async {
        let _ = stopped.await;
    }));
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;

    let _ = stop.send(());
    server.await??;
    browser
        .wait_for_attr("status-indicator", "data-state", "disconnected", WAIT)
        .await?;

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let _again = tokio::spawn(sse_backend::serve(
        listener,
        Settings::default(),
        std::future::pending(),
    ));
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;

    browser.assert_clean(&[API_PATH]).await?;
    browser.close().await
}

#[tokio::test]
async fn deep_links_get_the_app_and_nginx_answers_its_own_health() -> anyhow::Result<()> {
    let nginx = start_dashboard(&unreachable_origin()?)?;
    let mut browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/some/deep/link", nginx.url()))
        .await?;
    browser.wait_for_testid("status-indicator", WAIT).await?;

    browser.goto(&format!("{}/health", nginx.url())).await?;
    let body = eval(&browser, "return document.body.innerText;").await?;
    assert_eq!(body, r#"{"status":"ok"}"#);

    browser.assert_clean(&[API_PATH]).await?;
    browser.close().await
}

/// The harness itself must be able to fail: an error logged by the page and a
/// recorded panic are both reported.
#[tokio::test]
async fn harness_reports_console_errors_and_page_panics() -> anyhow::Result<()> {
    let (_nginx, mut browser) = open_dashboard(&unreachable_origin()?).await?;
    browser.wait_for_testid("status-indicator", WAIT).await?;

    eval(&browser, "console.error('injected failure'); return null;").await?;
    let error = browser
        .assert_clean(&[API_PATH])
        .await
        .expect_err("a console error must fail the check");
    assert!(error.to_string().contains("injected failure"), "{error}");

    eval(
        &browser,
        "document.documentElement.setAttribute('data-panic', 'injected panic'); return null;",
    )
    .await?;
    let error = browser
        .assert_clean(&[API_PATH])
        .await
        .expect_err("a panic must fail the check");
    assert!(error.to_string().contains("injected panic"), "{error}");
    browser.close().await
}
