//! The monitoring panels (status, execution statistics, configuration) in
//! Chromium, through the project's nginx.conf, against the reference backend.

use std::time::{Duration, Instant};

use browser_tests::{eval, fast_fake, open_dashboard, start_dashboard, Browser, InProcessBackend};
use fantoccini::Locator;
use sse_backend::settings::{Settings, StatsShape};
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::monitoring::stats_view::{stage_rows, NO_EXECUTIONS, P90_NOT_REPORTED};

const WAIT: Duration = Duration::from_secs(20);
/// Failed loads that are expected while the backend is down.
const API: &str = "/api/v1/";

fn fast() -> Settings {
    Settings {
        fake: fast_fake(),
        ..Settings::default()
    }
}

async fn run_streams(backend: &InProcessBackend, queries: &[&str]) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for query in queries {
        let response = client
            .post(backend.api("stream"))
            .json(&serde_json::json!({ "query": query, "model": "gpt-3.5-turbo" }))
            .send()
            .await?;
        assert_eq!(response.status(), 200);
        response.text().await?;
    }
    Ok(())
}

/// The table's cells as (testid of the row, metric, text, data-value).
async fn table_cells(browser: &Browser) -> anyhow::Result<Vec<(String, String, String, String)>> {
    let value = eval(
        browser,
        "return [...document.querySelectorAll('[data-testid=stats-table] tbody tr')].flatMap(tr =>
            [...tr.querySelectorAll('td')].map(td => [tr.dataset.testid, td.dataset.metric, td.textContent.trim(), td.dataset.value ?? '']));",
    )
    .await?;
    Ok(serde_json::from_value(value)?)
}

async fn check_table_matches_backend(settings: Settings) -> anyhow::Result<()> {
    let reports_p90 = settings.stats_p90;
    let backend = InProcessBackend::start_with(settings).await?;
    run_streams(&backend, &["one", "two", "one"]).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser.wait_for_testid("stage-1", WAIT).await?;

    let json = reqwest::get(backend.api("admin/execution-stats"))
        .await?
        .text()
        .await?;
    let stats = ExecutionStats::parse(&json).map_err(anyhow::Error::msg)?;
    assert_eq!(stats.reports_p90, reports_p90);
    let shown = table_cells(&browser).await?;
    let mut compared = 0;
    for row in stage_rows(&stats) {
        let testid = format!("stage-{}", row.id);
        for cell in &row.cells {
            let (_, _, text, value) = shown
                .iter()
                .find(|(t, m, _, _)| *t == testid && m == cell.metric)
                .unwrap_or_else(|| panic!("no cell {testid}/{}", cell.metric));
            // The raw value equals the backend's JSON number, to the last digit.
            assert_eq!(
                *value,
                cell.value.map(|v| v.to_string()).unwrap_or_default(),
                "{testid}/{}",
                cell.metric
            );
            assert_eq!(*text, cell.text, "{testid}/{}", cell.metric);
            assert!(!text.contains("NaN"));
            compared += 1;
        }
        let (_, _, _, count) = shown
            .iter()
            .find(|(t, m, _, _)| *t == testid && m == "count")
            .expect("count cell");
        assert_eq!(*count, row.count.to_string());
    }
    assert_eq!(compared, 8 * 7, "every stage and metric was compared");
    // Stage 2.2 (no Redis) never ran; p90 only when the service reports it.
    let l2 = shown
        .iter()
        .find(|(t, m, _, _)| t == "stage-2.2" && m == "p50")
        .expect("cell");
    assert_eq!(l2.2, NO_EXECUTIONS);
    let p90 = shown
        .iter()
        .find(|(t, m, _, _)| t == "stage-1" && m == "p90")
        .expect("cell");
    if reports_p90 {
        assert!(!p90.3.is_empty());
    } else {
        assert_eq!((p90.2.as_str(), p90.3.as_str()), (P90_NOT_REPORTED, ""));
    }
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn stats_table_equals_the_backend_json_in_the_wrapped_shape_with_p90() -> anyhow::Result<()> {
    check_table_matches_backend(fast()).await
}

#[tokio::test]
async fn stats_table_equals_the_backend_json_in_the_old_flat_shape() -> anyhow::Result<()> {
    check_table_matches_backend(Settings {
        stats_shape: StatsShape::Flat,
        ..fast()
    })
    .await
}

#[tokio::test]
async fn stats_table_marks_p90_as_not_reported_when_the_service_omits_it() -> anyhow::Result<()> {
    check_table_matches_backend(Settings {
        stats_p90: false,
        ..fast()
    })
    .await
}

#[tokio::test]
async fn status_goes_disconnected_after_a_kill_and_connected_after_a_restart() -> anyhow::Result<()>
{
    let backend = InProcessBackend::start_with(fast()).await?;
    let addr = backend.addr();
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;

    backend.kill().await;
    let killed = Instant::now();
    browser
        .wait_for_attr("status-indicator", "data-state", "disconnected", WAIT)
        .await?;
    // One poll interval (5 s) plus the check's time limit (3 s), and a margin.
    let took = killed.elapsed();
    assert!(
        took <= Duration::from_secs(9),
        "disconnected after {took:?}"
    );
    let reason = browser
        .wait_for_testid("status-indicator", WAIT)
        .await?
        .attr("title")
        .await?
        .unwrap_or_default();
    assert!(reason.contains("502"), "{reason}");

    let listener = tokio::net::TcpListener::bind(addr).await?;
    let _restarted = InProcessBackend::start_on(listener, fast()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // The configuration panel reloads after the reconnect and shows the values again.
    wait_for_config_loaded(&browser).await?;
    assert_eq!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=cfg-fake-llm]').checked;"
        )
        .await?,
        true
    );
    browser.assert_clean(&[API]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_config_round_trip_changes_the_backend_behaviour() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    wait_for_config_loaded(&browser).await?;
    browser.click("cfg-caching").await?;
    assert!(browser.text_of("cfg-unsaved").await?.contains("Unsaved"));
    browser.click("cfg-apply").await?;
    browser
        .wait_for_attr("cfg-message", "data-kind", "info", WAIT)
        .await?;

    let config: serde_json::Value = reqwest::get(backend.api("admin/config"))
        .await?
        .json()
        .await?;
    assert_eq!(config["ENABLE_CACHING"], false);
    // Caching off: the same question twice is no cache hit.
    run_streams(&backend, &["same", "same"]).await?;
    let load: serde_json::Value = reqwest::get(backend.api("admin/load-stats"))
        .await?
        .json()
        .await?;
    assert_eq!(load["totals_by_outcome"]["completed"], 2);
    assert!(
        load["totals_by_outcome"].get("cache_hit").is_none(),
        "{load}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn controls_are_disabled_while_saving() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    wait_for_config_loaded(&browser).await?;
    // Every request now takes 1.5 s longer: long enough to look at the panel mid-save.
    browser.add_latency(1_500).await?;
    browser.click("cfg-fake-llm").await?;
    browser.click("cfg-apply").await?;
    let during = eval(
        &browser,
        "const q = id => document.querySelector(`[data-testid=${id}]`);
         return [q('cfg-fake-llm').disabled, q('cfg-caching').disabled, q('cfg-apply').disabled,
                 q('cfg-raw-send').disabled, q('cfg-queue-redis').closest('fieldset').disabled,
                 document.querySelector('.config-form').getAttribute('aria-busy')];",
    )
    .await?;
    assert_eq!(
        during,
        serde_json::json!([true, true, true, true, true, "true"])
    );
    browser
        .wait_for_attr("cfg-message", "data-kind", "info", WAIT)
        .await?;
    let after = eval(
        &browser,
        "const q = id => document.querySelector(`[data-testid=${id}]`);
         return [q('cfg-fake-llm').disabled, q('cfg-caching').disabled, q('cfg-raw-send').disabled,
                 document.querySelector('.config-form').getAttribute('aria-busy')];",
    )
    .await?;
    assert_eq!(after, serde_json::json!([false, false, false, "false"]));
    let config: serde_json::Value = reqwest::get(backend.api("admin/config"))
        .await?
        .json()
        .await?;
    assert_eq!(config["USE_FAKE_LLM"], false, "the save went through");
    browser.assert_clean(&[]).await?;
    browser.close().await
}

/// What the first load may fetch (bytes over the wire, gzip where nginx
/// compressed): the monitoring panels with both statistics sources and the
/// Prometheus reader, the API's first answers and ECharts. The two-module
/// build fetched 400 KB, then its 479 KB on-demand module as soon as the
/// execution-stats held no finished request (always, with the original
/// service); README, "Load testing".
const FIRST_LOAD_BUDGET: u64 = 480_000;

#[tokio::test]
async fn first_load_stays_in_its_budget_and_fetches_no_part_it_does_not_show() -> anyhow::Result<()>
{
    let backend = InProcessBackend::start_with(fast()).await?;
    run_streams(&backend, &["a"]).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    browser
        .wait_until(
            "document.querySelector('#stage-percentiles-chart canvas') !== null",
            WAIT,
            "the chart was never drawn",
        )
        .await?;
    // The service strip is read by the Prometheus reader: the first load is whole.
    browser
        .wait_until(
            "document.querySelector('[data-testid=service-requests]')?.dataset.value > 0",
            WAIT,
            "the service strip was never filled",
        )
        .await?;
    // Resource Timing: the bytes that came over the wire for the document and
    // everything it loaded (bodies as sent, so gzip where nginx compressed).
    let entries = eval(
        &browser,
        "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
            .map(e => [new URL(e.name).pathname, e.encodedBodySize, e.decodedBodySize]);",
    )
    .await?;
    let entries: Vec<(String, u64, u64)> = serde_json::from_value(entries)?;
    let mut total = 0;
    println!("{:<56} {:>10} {:>10}", "first load", "wire B", "decoded B");
    for (path, encoded, decoded) in &entries {
        println!("{path:<56} {encoded:>10} {decoded:>10}");
        total += encoded;
        if *decoded > 10_000 && (path.ends_with(".wasm") || path.ends_with(".js")) {
            assert!(encoded * 2 < *decoded, "{path} did not come compressed");
        }
    }
    println!("{:<56} {total:>10}", "total");
    for kind in [".wasm", ".js", ".css", "/config.json"] {
        assert!(
            entries.iter().any(|(p, _, _)| p.ends_with(kind)),
            "no {kind} among {entries:?}"
        );
    }
    assert!(total <= FIRST_LOAD_BUDGET, "first load is {total} B");
    // The parts a single service's first view does not show load when asked for.
    // No Prometheus server named: neither its view nor its alerts are fetched.
    for part in [
        "split_load_tester",
        "split_cluster",
        "split_instances_editor",
        "split_prometheus_server",
        "split_prometheus_alerts",
    ] {
        assert!(
            !entries.iter().any(|(p, _, _)| p.contains(part)),
            "{part} in {entries:?}"
        );
    }
    assert!(
        entries
            .iter()
            .any(|(p, _, _)| p.contains("split_prometheus_reader")),
        "the reader's part came with the metrics"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

/// The whole app, every part included, is smaller than the two-module build's
/// first load plus its on-demand module (397,654 + 479,481 B, measured with
/// scripts/build-bundle on 577f807): the parts share one runtime.
#[test]
fn the_whole_app_is_smaller_than_the_two_module_build() -> anyhow::Result<()> {
    let dist = browser_tests::dist_dir()?;
    let mut total = 0;
    for entry in std::fs::read_dir(&dist)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "gz") {
            total += std::fs::metadata(&path)?.len();
        }
    }
    println!("the whole app, gzip: {total} B");
    assert!(total > 300_000, "{dist:?} holds the bundle");
    assert!(total <= 397_654 + 479_481, "the whole app is {total} B");
    Ok(())
}

/// Until the configuration is loaded (its switches are enabled).
async fn wait_for_config_loaded(browser: &Browser) -> anyhow::Result<()> {
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-caching]')?.disabled === false",
            WAIT,
            "the configuration never loaded",
        )
        .await
}

async fn send_raw_config(browser: &Browser, json: &str) -> anyhow::Result<()> {
    eval(
        browser,
        "document.querySelector('.raw-config').open = true; return null;",
    )
    .await?;
    browser.fill("cfg-raw", json).await?;
    browser.click("cfg-raw-send").await
}

#[tokio::test]
async fn a_422_is_shown_at_its_field_and_an_ignored_value_is_reported() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;

    send_raw_config(&browser, r#"{"USE_FAKE_LLM": "notabool"}"#).await?;
    browser
        .wait_for_attr("cfg-message", "data-kind", "error", WAIT)
        .await?;
    let field = browser.text_of("cfg-error-USE_FAKE_LLM").await?;
    assert!(field.contains("Input should be a valid boolean"), "{field}");
    assert!(field.contains("notabool"), "{field}");

    send_raw_config(&browser, r#"{"QUEUE_TYPE": "rabbitmq"}"#).await?;
    browser
        .wait_for_attr("cfg-message", "data-kind", "warning", WAIT)
        .await?;
    let message = browser.text_of("cfg-message").await?;
    assert!(
        message.contains("kept QUEUE_TYPE = redis although rabbitmq was sent"),
        "{message}"
    );
    // The 422 was an answer, not a page error: only the console's failed-load line.
    browser.assert_clean(&["/api/v1/admin/config"]).await?;
    browser.close().await
}

#[tokio::test]
async fn screenshots_in_light_and_dark_themes() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    run_streams(&backend, &["a", "b", "a"]).await?;
    let nginx = start_dashboard(&backend.origin())?;
    let mut browser = Browser::launch().await?;
    for scheme in ["light", "dark"] {
        browser.emulate_color_scheme(scheme).await?;
        browser.goto(&format!("{}/", nginx.url())).await?;
        browser
            .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
            .await?;
        browser.wait_for_testid("stage-1", WAIT).await?;
        // The page follows the system setting.
        let dark = eval(
            &browser,
            "return matchMedia('(prefers-color-scheme: dark)').matches;",
        )
        .await?;
        assert_eq!(dark, scheme == "dark");
        tokio::time::sleep(Duration::from_millis(800)).await; // chart animation
        let path = browser.screenshot(&format!("dashboard-{scheme}")).await?;
        assert!(
            std::fs::metadata(&path)?.len() > 10_000,
            "{path:?} looks empty"
        );
    }
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn the_header_and_figures_do_not_wait_for_echarts() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    run_streams(&backend, &["x"]).await?;
    let nginx = start_dashboard(&backend.origin())?;
    let mut browser = Browser::launch().await?;
    // ECharts never arrives: the status, the table and the config still work.
    browser.block_urls(&["*echarts*"]).await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    wait_for_config_loaded(&browser).await?;
    assert_eq!(
        eval(&browser, "return typeof window.echarts;").await?,
        "undefined"
    );
    let chart_children = eval(
        &browser,
        "return document.getElementById('stage-percentiles-chart').children.length;",
    )
    .await?;
    assert_eq!(
        chart_children, 0,
        "no chart without ECharts, and no error either"
    );
    browser.assert_clean(&["echarts"]).await?;
    browser.close().await
}

#[tokio::test]
async fn an_admin_token_set_in_the_settings_unlocks_the_admin_panels() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        admin_token: Some("t0ken".into()),
        ..fast()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // Without the token the panels say what to do.
    browser
        .wait_until(
            "document.querySelector('[data-testid=stats-status]')?.textContent.includes('admin token')",
            WAIT,
            "no hint about the admin token",
        )
        .await?;
    eval(
        &browser,
        "document.querySelector('[data-testid=settings]').open = true; return null;",
    )
    .await?;
    let token = browser
        .client()
        .find(Locator::Css("[data-testid=settings-admin-token]"))
        .await?;
    token.send_keys("t0ken").await?;
    browser.click("settings-save").await?;
    // The next polls carry the token: the configuration loads.
    wait_for_config_loaded(&browser).await?;
    browser.assert_clean(&["/api/v1/admin/"]).await?;
    browser.close().await
}

/// The bar chart's canvas width in CSS pixels (0 until the chart is drawn), as JavaScript.
const CHART_WIDTH: &str =
    "(document.querySelector('#stage-percentiles-chart canvas')?.getBoundingClientRect().width ?? 0)";

/// The chart's width now.
async fn chart_width(browser: &Browser) -> anyhow::Result<f64> {
    let width = eval(browser, &format!("return {CHART_WIDTH};")).await?;
    Ok(width.as_f64().unwrap_or(0.0))
}

#[tokio::test]
async fn charts_are_drawn_once_and_follow_their_container() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    run_streams(&backend, &["x"]).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_until(
            &format!("{CHART_WIDTH} > 0"),
            WAIT,
            "the chart was never drawn",
        )
        .await?;
    let before = chart_width(&browser).await?;
    // Switching the scale updates the same chart: still one canvas.
    browser.click("stats-log-scale").await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let canvases = eval(
        &browser,
        "return document.querySelectorAll('#stage-percentiles-chart canvas').length;",
    )
    .await?;
    assert_eq!(canvases, 1);
    // The container narrows (not the window): the chart follows.
    eval(
        &browser,
        "document.getElementById('stage-percentiles-chart').style.width = '320px'; return null;",
    )
    .await?;
    browser
        .wait_until(
            &format!("Math.abs({CHART_WIDTH} - 320) <= 1"),
            WAIT,
            "the chart did not follow its container",
        )
        .await?;
    assert!(before > 320.0, "{before}");
    browser.assert_clean(&[]).await?;
    browser.close().await
}

/// Health checks nginx has proxied so far (from its access log).
fn health_requests(nginx: &dashboard_ops::local_stack::Nginx) -> usize {
    std::fs::read_to_string(nginx.runtime_dir().join("access.log"))
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("GET /api/v1/health "))
        .count()
}

#[tokio::test]
async fn polling_pauses_in_a_hidden_tab_and_checks_at_once_when_shown() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(fast()).await?;
    let (nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    let dashboard_tab = browser.client().window().await?;
    // Another tab in front hides the dashboard's (chromedriver brings the tab it
    // switches to to the front).
    let other = browser.client().new_window(true).await?;
    browser.client().switch_to_window(other.handle).await?;
    browser.client().goto("about:blank").await?;
    let before = health_requests(&nginx);
    // Two poll intervals (5 s each) pass without a check.
    tokio::time::sleep(Duration::from_secs(11)).await;
    assert_eq!(
        health_requests(&nginx),
        before,
        "no health checks while hidden"
    );
    // Bringing the dashboard back checks at once.
    browser.client().switch_to_window(dashboard_tab).await?;
    let deadline = Instant::now() + Duration::from_secs(2);
    while health_requests(&nginx) == before {
        anyhow::ensure!(
            Instant::now() < deadline,
            "no check within 2 s of being shown"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        eval(&browser, "return document.visibilityState;").await?,
        "visible"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}
