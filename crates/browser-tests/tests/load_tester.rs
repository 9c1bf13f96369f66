//! The load tester in Chromium, through the project's nginx.conf, against the
//! reference backend: its counts against the backend's own, failures of each
//! kind, Stop, a backend that dies mid-run, exports and the run history.

use std::time::Duration;

use browser_tests::{
    eval, open_dashboard, open_load_tester, Browser, InProcessBackend, ProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};

const WAIT: Duration = Duration::from_secs(30);

/// Fast fake streams: ~10 chunks a few ms apart.
fn fast() -> FakeLlmSettings {
    FakeLlmSettings {
        ttft_min_ms: 5,
        ttft_max_ms: 10,
        gap_min_ms: 1,
        gap_max_ms: 3,
        answer_min_chars: 30,
        answer_max_chars: 60,
        ..FakeLlmSettings::realistic()
    }
}

/// Streams that last a few seconds.
fn slow() -> FakeLlmSettings {
    FakeLlmSettings {
        ttft_min_ms: 20,
        ttft_max_ms: 40,
        gap_min_ms: 40,
        gap_max_ms: 60,
        answer_min_chars: 400,
        answer_max_chars: 500,
        ..FakeLlmSettings::realistic()
    }
}

async fn plan(browser: &Browser, concurrency: u32, total: u64) -> anyhow::Result<()> {
    open_load_tester(browser, WAIT).await?;
    browser
        .fill("lt-concurrency", &concurrency.to_string())
        .await?;
    browser.fill("lt-total", &total.to_string()).await
}

async fn value(browser: &Browser, testid: &str) -> anyhow::Result<String> {
    let v = eval(
        browser,
        &format!("return document.querySelector('[data-testid={testid}]')?.dataset.value ?? null;"),
    )
    .await?;
    Ok(v.as_str().unwrap_or_default().to_owned())
}

async fn count(browser: &Browser, testid: &str) -> anyhow::Result<u64> {
    let text = value(browser, testid).await?;
    text.parse()
        .map_err(|_| anyhow::anyhow!("{testid} has data-value {text:?}"))
}

async fn wait_finished(browser: &Browser) -> anyhow::Result<()> {
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await
}

async fn load_stats(origin: &str) -> anyhow::Result<Value> {
    Ok(reqwest::get(format!("{origin}/api/v1/admin/load-stats"))
        .await?
        .json()
        .await?)
}

/// The failure groups shown: (kind, status, count).
async fn failures(browser: &Browser) -> anyhow::Result<Vec<(String, String, u64)>> {
    let v = eval(
        browser,
        "return [...document.querySelectorAll('[data-testid=lt-failure]')].map(tr =>
            [tr.dataset.kind, tr.dataset.status, Number(tr.dataset.count)]);",
    )
    .await?;
    Ok(serde_json::from_value(v)?)
}

/// The text behind an export link (fetched from its blob URL in the page).
async fn export(browser: &Browser, testid: &str) -> anyhow::Result<String> {
    let v = eval(
        browser,
        &format!(
            "const a = document.querySelector('[data-testid={testid}]');
             return a ? fetch(a.href).then(r => r.text()) : null;"
        ),
    )
    .await?;
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no {testid} link"))
}

#[tokio::test]
async fn counts_equal_the_backends_totals_and_the_run_exports() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast(),
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 5, 40).await?;
    // Caching would answer repeated prompts from the cache: off, every request streams.
    reqwest::Client::new()
        .put(backend.api("admin/config"))
        .json(&serde_json::json!({ "ENABLE_CACHING": false }))
        .send()
        .await?;
    browser.click("lt-start").await?;
    wait_finished(&browser).await?;

    let server = load_stats(&backend.origin()).await?;
    assert_eq!(server["totals_by_outcome"]["completed"], 40, "{server}");
    assert_eq!(count(&browser, "lt-completed").await?, 40);
    assert_eq!(count(&browser, "lt-failed").await?, 0);
    assert_eq!(count(&browser, "lt-aborted").await?, 0);
    assert_eq!(count(&browser, "lt-active").await?, 0);
    assert!(
        server["peak_active_streams"].as_u64() <= Some(5),
        "{server}"
    );
    let tokens = count(&browser, "lt-tokens").await?;
    assert!(tokens >= 40 * 30 / 4, "{tokens} tokens");
    for metric in ["e2e", "ttft"] {
        let p50: f64 = value(&browser, &format!("lt-{metric}-p50"))
            .await?
            .parse()?;
        let p99: f64 = value(&browser, &format!("lt-{metric}-p99"))
            .await?
            .parse()?;
        assert!(p50 > 0.0 && p50 <= p99, "{metric}: p50 {p50}, p99 {p99}");
    }
    assert_eq!(count(&browser, "lt-e2e-count").await?, 40);
    assert_eq!(count(&browser, "lt-layer-1-Direct").await?, 40);
    assert!(failures(&browser).await?.is_empty());

    let json: Value = serde_json::from_str(&export(&browser, "lt-export-json").await?)?;
    assert_eq!(json["requests"].as_array().map(Vec::len), Some(40));
    assert_eq!(json["summary"]["completed"], 40);
    let csv = export(&browser, "lt-export-csv").await?;
    let rows = csv.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(rows, 41, "header + one row per request");
    // The thread ids the browser saw are the server's.
    let server_ids: Vec<String> = reqwest::get(backend.api("admin/load-stats?requests=true"))
        .await?
        .json::<Value>()
        .await?["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["thread_id"].as_str().map(str::to_owned))
        .collect();
    for request in json["requests"].as_array().into_iter().flatten() {
        let id = request["thread_id"].as_str().unwrap_or_default();
        assert!(
            server_ids.iter().any(|s| s == id),
            "{id} unknown to the server"
        );
    }
    // Plain http: the page says HTTP/1.1 limits concurrency beyond 6.
    assert!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=lt-protocol-warning]') === null;"
        )
        .await?
            == true
    );
    browser.fill("lt-concurrency", "20").await?;
    browser.wait_for_testid("lt-protocol-warning", WAIT).await?;
    assert!(browser
        .text_of("lt-protocol-warning")
        .await?
        .contains("HTTP/1.1"));
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn the_form_refuses_absurd_values_with_a_message() -> anyhow::Result<()> {
    let backend = InProcessBackend::start().await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 129, 10).await?;
    browser
        .wait_for_testid("lt-error-concurrency", WAIT)
        .await?;
    let message = browser.text_of("lt-error-concurrency").await?;
    assert_eq!(
        message,
        "Concurrency must be from 1 to 128; 129 is out of range."
    );
    let disabled = "return document.querySelector('[data-testid=lt-start]').disabled;";
    assert_eq!(eval(&browser, disabled).await?, true);
    // A number field holds what a number input accepts: "1e9" is one, not a whole count.
    browser.fill("lt-total", "1e9").await?;
    browser.fill("lt-concurrency", "4").await?;
    assert_eq!(
        browser.text_of("lt-error-total").await?,
        "Total requests must be a whole number from 1 to 100000; \"1e9\" is not."
    );
    assert_eq!(eval(&browser, disabled).await?, true);
    browser.fill("lt-total", "10").await?;
    browser.fill("lt-model", " ").await?;
    assert_eq!(
        browser.text_of("lt-error-model").await?,
        "The model must not be blank."
    );
    browser.fill("lt-model", "gpt-3.5-turbo").await?;
    assert_eq!(eval(&browser, disabled).await?, false);
    assert_eq!(
        load_stats(&backend.origin()).await?["totals_by_outcome"],
        serde_json::json!({})
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn stop_aborts_every_request_in_flight() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: slow(),
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 4, 100).await?;
    browser.click("lt-start").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=lt-active]')?.dataset.value === '4'",
            WAIT,
            "never 4 requests in flight",
        )
        .await?;
    browser.click("lt-stop").await?;
    wait_finished(&browser).await?;
    assert_eq!(count(&browser, "lt-active").await?, 0);
    let aborted = count(&browser, "lt-aborted").await?;
    let completed = count(&browser, "lt-completed").await?;
    assert!(aborted >= 4, "{aborted} aborted");
    assert_eq!(
        count(&browser, "lt-failed").await?,
        0,
        "an abort is no failure"
    );
    assert!(completed + aborted < 100, "the run stopped sending");
    // The server sees the streams end: none left open.
    let mut server = load_stats(&backend.origin()).await?;
    for _ in 0..50 {
        if server["active_streams"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        server = load_stats(&backend.origin()).await?;
    }
    assert_eq!(server["active_streams"], 0, "{server}");
    assert!(browser
        .text_of("lt-results")
        .await?
        .contains("stopped early"));
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_backend_killed_mid_run_fails_every_request_and_keeps_the_results() -> anyhow::Result<()>
{
    let mut backend = ProcessBackend::start(&[
        ("FAKE_TTFT_MIN_MS", "20"),
        ("FAKE_TTFT_MAX_MS", "40"),
        ("FAKE_GAP_MIN_MS", "40"),
        ("FAKE_GAP_MAX_MS", "60"),
        ("FAKE_ANSWER_MIN_CHARS", "400"),
        ("FAKE_ANSWER_MAX_CHARS", "500"),
    ])?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 5, 10).await?;
    browser.click("lt-start").await?;
    browser
        .wait_until(
            "Number(document.querySelector('[data-testid=lt-tokens]')?.dataset.value) > 20",
            WAIT,
            "the streams never got going",
        )
        .await?;
    assert_eq!(count(&browser, "lt-active").await?, 5);
    backend.kill();
    wait_finished(&browser).await?;
    assert_eq!(count(&browser, "lt-completed").await?, 0);
    assert_eq!(count(&browser, "lt-failed").await?, 10);
    assert_eq!(count(&browser, "lt-active").await?, 0);
    let groups = failures(&browser).await?;
    // The five cut streams, then five answers of nginx without its backend.
    let cut = groups.iter().find(|g| g.0 == "network").map_or(0, |g| g.2);
    let bad_gateway = groups
        .iter()
        .filter(|g| g.1 == "502")
        .map(|g| g.2)
        .sum::<u64>();
    assert_eq!((cut, bad_gateway), (5, 5), "{groups:?}");
    let text = browser.text_of("lt-failures").await?;
    assert!(text.contains("the stream broke off"), "{text}");
    let json: Value = serde_json::from_str(&export(&browser, "lt-export-json").await?)?;
    assert_eq!(json["summary"]["failed"], 10);
    browser.assert_clean(&["/api/v1/"]).await?;
    browser.close().await
}

async fn run_and_collect(
    backend: &InProcessBackend,
    concurrency: u32,
    total: u64,
    provider: Option<&str>,
    user_per_worker: bool,
) -> anyhow::Result<(Browser, Vec<(String, String, u64)>, impl Sized)> {
    let (nginx, browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, concurrency, total).await?;
    if let Some(provider) = provider {
        browser.fill("lt-provider", provider).await?;
    }
    if !user_per_worker {
        browser.click("lt-user-per-worker").await?;
    }
    browser.click("lt-start").await?;
    if provider.is_some_and(|p| p != "fake") {
        // A paid provider: the page asks first.
        let text = browser.client().get_alert_text().await?;
        assert!(text.contains("paid"), "{text}");
        browser.client().accept_alert().await?;
    }
    wait_finished(&browser).await?;
    let groups = failures(&browser).await?;
    Ok((browser, groups, nginx))
}

#[tokio::test]
async fn overload_answers_and_stream_errors_are_failures_of_their_kind() -> anyhow::Result<()> {
    // 429: two requests a minute per user.
    let backend = InProcessBackend::start_with(Settings {
        fake: fast(),
        rate_limit_per_minute: Some(2),
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (mut browser, groups, _nginx) = run_and_collect(&backend, 1, 5, None, false).await?;
    assert_eq!(
        groups,
        [("http_429:rate_limit_exceeded".into(), "429".into(), 3)]
    );
    assert_eq!(count(&browser, "lt-completed").await?, 2);
    browser.assert_clean(&["/api/v1/stream"]).await?;
    browser.close().await?;

    // 503: one stream per user and no queue.
    let backend = InProcessBackend::start_with(Settings {
        fake: slow(),
        per_user_limit: 1,
        queue_capacity: 0,
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (mut browser, groups, _nginx) = run_and_collect(&backend, 3, 3, None, false).await?;
    assert_eq!(
        groups,
        [("http_503:service_unavailable".into(), "503".into(), 2)]
    );
    browser.assert_clean(&["/api/v1/stream"]).await?;
    browser.close().await?;

    // Queue timeout: an error event inside a 200 stream, after `: ping`s.
    let backend = InProcessBackend::start_with(Settings {
        fake: slow(),
        per_user_limit: 1,
        queue_timeout_ms: 400,
        queue_ping_ms: 100,
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (mut browser, groups, _nginx) = run_and_collect(&backend, 3, 3, None, false).await?;
    assert_eq!(
        groups,
        [("Queue timeout - server busy".into(), String::new(), 2)]
    );
    assert_eq!(count(&browser, "lt-layer-3-Queue-Failover").await?, 2);
    browser.assert_clean(&[]).await?;
    browser.close().await?;

    // A provider the service cannot use: an error event in a 200 stream.
    let backend = InProcessBackend::start_with(Settings {
        use_fake_llm: false,
        fake: fast(),
        ..Settings::default()
    })
    .await?;
    let (mut browser, groups, _nginx) =
        run_and_collect(&backend, 2, 4, Some("anthropic"), true).await?;
    assert_eq!(
        groups,
        [("provider_not_configured".into(), String::new(), 4)]
    );
    assert_eq!(count(&browser, "lt-completed").await?, 0);
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn fifty_streams_run_at_once_over_http2_through_the_projects_nginx() -> anyhow::Result<()> {
    // Streams of about 2 s: long enough for all 50 to overlap.
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 50,
            ttft_max_ms: 100,
            gap_min_ms: 20,
            gap_max_ms: 30,
            answer_min_chars: 300,
            answer_max_chars: 400,
            ..FakeLlmSettings::realistic()
        },
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let nginx = browser_tests::start_dashboard_tls(&backend.origin())?;
    let https = nginx.tls_url().expect("TLS is on");
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{https}/")).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    plan(&browser, 50, 50).await?;
    // The page knows the protocol from its health checks: no HTTP/1.1 warning.
    browser
        .wait_until(
            "document.querySelector('[data-testid=lt-protocol-warning]') === null",
            WAIT,
            "the page still warns about HTTP/1.1 over HTTP/2",
        )
        .await?;
    browser.click("lt-start").await?;
    wait_finished(&browser).await?;

    let server = load_stats(&backend.origin()).await?;
    assert_eq!(server["peak_active_streams"], 50, "{server}");
    assert_eq!(server["totals_by_outcome"]["completed"], 50, "{server}");
    assert_eq!(count(&browser, "lt-completed").await?, 50);
    assert_eq!(browser.text_of("lt-protocol").await?, "h2: 50");
    // The browser held nothing back: its own wait is tiny next to a stream.
    let wait_p95: f64 = value(&browser, "lt-queue-p95").await?.parse()?;
    let e2e_p50: f64 = value(&browser, "lt-e2e-p50").await?.parse()?;
    assert!(
        wait_p95 < e2e_p50 / 4.0,
        "browser wait p95 {wait_p95} ms, e2e p50 {e2e_p50} ms"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn over_http1_the_browser_queues_beyond_six_and_the_page_says_so() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: slow(),
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    plan(&browser, 12, 12).await?;
    browser.wait_for_testid("lt-protocol-warning", WAIT).await?;
    browser.click("lt-start").await?;
    wait_finished(&browser).await?;
    let server = load_stats(&backend.origin()).await?;
    assert_eq!(
        server["peak_active_streams"], 6,
        "the browser's cap, measured at the server: {server}"
    );
    assert_eq!(browser.text_of("lt-protocol").await?, "http/1.1: 12");
    // Half the requests waited inside the browser for a whole stream.
    let wait_max: f64 = value(&browser, "lt-queue-max").await?.parse()?;
    let ttft_min: f64 = value(&browser, "lt-ttft-min").await?.parse()?;
    assert!(wait_max > 1_000.0, "browser wait max {wait_max} ms");
    // The wait is quoted as a distribution, with how many waited long.
    let warning = browser.text_of("lt-protocol-warning").await?;
    for part in [
        "measured browser wait p50",
        "p90",
        "max",
        "waited longer than 100 ms",
    ] {
        assert!(warning.contains(part), "{part:?} not in {warning:?}");
    }
    assert!(ttft_min > 0.0);
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_hung_stream_fails_at_the_timeout() -> anyhow::Result<()> {
    // The first chunk comes after 10 s; the load tester gives each request 1 s.
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 10_000,
            ttft_max_ms: 10_000,
            ..fast()
        },
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 2, 2).await?;
    browser.fill("lt-timeout", "1").await?;
    browser.click("lt-start").await?;
    wait_finished(&browser).await?;
    assert_eq!(
        failures(&browser).await?,
        [("timed_out".into(), String::new(), 2)]
    );
    assert!(browser
        .text_of("lt-failures")
        .await?
        .contains("no end of stream within 1000 ms"));
    let elapsed: f64 = value(&browser, "lt-elapsed").await?.parse()?;
    assert!(
        elapsed < 5_000.0,
        "the timeout ended the run, after {elapsed} ms"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn screenshots_of_a_finished_run_in_both_themes() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 30,
            ttft_max_ms: 120,
            gap_min_ms: 5,
            gap_max_ms: 15,
            answer_min_chars: 100,
            answer_max_chars: 300,
            ..FakeLlmSettings::realistic()
        },
        enable_caching: false,
        // Five a minute per user: some 429s, so that failures show too.
        rate_limit_per_minute: Some(5),
        ..Settings::default()
    })
    .await?;
    let nginx = browser_tests::start_dashboard(&backend.origin())?;
    let mut browser = Browser::launch().await?;
    for scheme in ["light", "dark"] {
        browser.emulate_color_scheme(scheme).await?;
        browser.goto(&format!("{}/", nginx.url())).await?;
        plan(&browser, 6, 40).await?;
        browser.click("lt-start").await?;
        wait_finished(&browser).await?;
        browser
            .wait_until(
                "document.querySelector('#lt-latency-chart canvas') !== null",
                WAIT,
                "the latency chart was never drawn",
            )
            .await?;
        eval(
            &browser,
            "document.querySelector('[data-testid=load-tester]').scrollIntoView(); return null;",
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(800)).await; // chart animation
        let path = browser.screenshot(&format!("load-tester-{scheme}")).await?;
        assert!(
            std::fs::metadata(&path)?.len() > 10_000,
            "{path:?} looks empty"
        );
    }
    browser.assert_clean(&["/api/v1/stream"]).await?;
    browser.close().await
}

#[tokio::test]
async fn runs_are_kept_across_reloads_and_compared_side_by_side() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast(),
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let (nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    plan(&browser, 2, 4).await?;
    browser.click("lt-start").await?;
    wait_finished(&browser).await?;
    browser.fill("lt-concurrency", "4").await?;
    browser.fill("lt-total", "8").await?;
    browser.click("lt-start").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=lt-completed]')?.dataset.value === '8'",
            WAIT,
            "the second run did not finish",
        )
        .await?;
    wait_finished(&browser).await?;

    // A new page: the history comes back from localStorage.
    browser.goto(&format!("{}/", nginx.url())).await?;
    open_load_tester(&browser, WAIT).await?;
    browser.wait_for_testid("lt-compare", WAIT).await?;
    let rows = eval(
        &browser,
        "return Object.fromEntries([...document.querySelectorAll('[data-testid=lt-compare-row]')].map(tr =>
            [tr.dataset.label, [...tr.querySelectorAll('td')].slice(0, 2).map(td => td.dataset.value)]));",
    )
    .await?;
    // A is the older run, B the newer.
    assert_eq!(rows["Concurrency"], serde_json::json!(["2", "4"]), "{rows}");
    assert_eq!(rows["Completed"], serde_json::json!(["4", "8"]), "{rows}");
    assert!(
        rows["E2E p50"][0].as_str().is_some_and(|v| !v.is_empty()),
        "{rows}"
    );
    let options = eval(
        &browser,
        "return document.querySelectorAll('[data-testid=lt-compare-a] option').length;",
    )
    .await?;
    assert_eq!(options, 2);
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_load_tester_that_cannot_load_is_said_and_opens_on_the_next_try() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: fast(),
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // Its part (loaded on demand) does not arrive: said, the rest goes on.
    browser.block_urls(&["*split_load_tester*"]).await?;
    browser.click("lt-open").await?;
    browser
        .wait_for_attr("lt-slot", "data-state", "failed", WAIT)
        .await?;
    let said = browser.text_of("lt-load-error").await?;
    assert!(said.contains("load tester did not load"), "{said}");
    assert_eq!(browser.page_panic().await?, None);
    browser.wait_for_testid("stage-1", WAIT).await?;
    // The server is back: the next click opens it, and it runs.
    browser.block_urls(&[]).await?;
    browser.click("lt-open").await?;
    browser
        .wait_for_attr("lt-slot", "data-state", "open", WAIT)
        .await?;
    browser.fill("lt-total", "3").await?;
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-completed", "data-value", "3", WAIT)
        .await?;
    browser
        .assert_clean_but(&["split_load_tester"], &["TypeError: Failed to fetch"])
        .await?;
    browser.close().await
}
