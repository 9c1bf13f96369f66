//! What a careless token, a hostile service and absurd numbers do to the page,
//! in Chromium through the project's nginx.conf: a clear message each time, no
//! page error, nothing lost, and polling that goes on.

use std::time::Duration;

use browser_tests::{
    eval, fast_fake, open_dashboard, run_load_test, start_dashboard, start_dashboard_with_config,
    Browser, FixedAnswer, HostileService, InProcessBackend,
};
use sse_backend::settings::Settings;

const WAIT: Duration = Duration::from_secs(20);

fn fast() -> Settings {
    Settings {
        fake: fast_fake(),
        ..Settings::default()
    }
}

async fn one_stream(backend: &InProcessBackend) -> anyhow::Result<()> {
    let response = reqwest::Client::new()
        .post(backend.api("stream"))
        .json(&serde_json::json!({ "query": "hello", "model": "gpt-3.5-turbo" }))
        .send()
        .await?;
    anyhow::ensure!(response.status() == 200, "stream: {}", response.status());
    response.text().await?;
    Ok(())
}

/// Types `token` into Settings and saves.
async fn save_token(browser: &Browser, token: &str) -> anyhow::Result<()> {
    eval(
        browser,
        "document.querySelector('[data-testid=settings]').open = true; return null;",
    )
    .await?;
    browser.fill("settings-admin-token", token).await?;
    browser.click("settings-save").await
}

async fn text(browser: &Browser, testid: &str) -> anyhow::Result<String> {
    browser.text_of(testid).await
}

#[tokio::test]
async fn a_token_a_header_cannot_carry_is_refused_and_polling_goes_on() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        admin_token: Some("good-token".into()),
        ..fast()
    })
    .await?;
    one_stream(&backend).await?;
    let (nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // A pasted en dash: the browser cannot send it in a header.
    save_token(&browser, "abc\u{2013}def").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=settings-message]')?.textContent.includes('U+2013')",
            WAIT,
            "no message about the character",
        )
        .await?;
    let message = text(&browser, "settings-message").await?;
    assert!(message.contains("Not saved"), "{message}");
    assert!(browser.page_panic().await?.is_none());
    // The right token: the statistics and the configuration load.
    save_token(&browser, "good-token").await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-fake-llm]') && !document.querySelector('[data-testid=cfg-fake-llm]').disabled",
            WAIT,
            "the configuration did not load",
        )
        .await?;
    let apply = text(&browser, "cfg-apply").await?;
    assert_eq!(apply, "Apply", "not stuck at Saving…");

    // A bad token kept in the browser by an older version: not used, said so.
    eval(
        &browser,
        "localStorage.setItem('dashboard.admin_token', 'abc\u{2013}def'); return null;",
    )
    .await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=notices]').textContent.length > 0",
            WAIT,
            "no notice",
        )
        .await?;
    let notices = text(&browser, "notices").await?;
    assert!(notices.contains("Saved admin token not used"), "{notices}");
    browser
        .wait_until(
            "document.querySelector('[data-testid=stats-status]')?.textContent.includes('admin token')",
            WAIT,
            "the statistics panel does not say what to do",
        )
        .await?;
    browser.assert_clean(&["/api/v1/admin/"]).await?;
    browser.close().await
}

/// nginx's access log lines for the API, from line `from` on.
fn api_requests(nginx: &dashboard_ops::local_stack::Nginx, from: usize) -> Vec<String> {
    std::fs::read_to_string(nginx.runtime_dir().join("access.log"))
        .unwrap_or_default()
        .lines()
        .skip(from)
        .filter(|l| l.contains(" /api/"))
        .map(str::to_owned)
        .collect()
}

fn log_lines(nginx: &dashboard_ops::local_stack::Nginx) -> usize {
    std::fs::read_to_string(nginx.runtime_dir().join("access.log"))
        .unwrap_or_default()
        .lines()
        .count()
}

#[tokio::test]
async fn nothing_polls_before_config_json_and_the_saved_settings_are_read() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        admin_token: Some("t0ken".into()),
        ..fast()
    })
    .await?;
    one_stream(&backend).await?;
    // config.json names another base (where nothing answers) and carries a token.
    let (nginx, _copy) = start_dashboard_with_config(
        &backend.origin(),
        r#"{"api_base": "/api/v0", "admin_token": "t0ken"}"#,
    )?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "disconnected", WAIT)
        .await?;
    let seen = api_requests(&nginx, 0);
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|l| l.contains(" /api/v0/")),
        "a request went to the default base before config.json was read: {seen:#?}"
    );
    let notices = text(&browser, "notices").await?;
    assert!(
        notices.contains("admin_token") && notices.contains("ignored"),
        "{notices}"
    );

    // The saved base and token apply from the first request after a reload.
    eval(
        &browser,
        "document.querySelector('[data-testid=settings]').open = true; return null;",
    )
    .await?;
    browser.fill("settings-api-base", "/api/v1").await?;
    save_token(&browser, "t0ken").await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    let before_reload = log_lines(&nginx);
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    let after = api_requests(&nginx, before_reload);
    assert!(
        after
            .iter()
            .any(|l| l.contains("/api/v1/admin/execution-stats")),
        "{after:#?}"
    );
    assert!(
        after
            .iter()
            .all(|l| l.contains(" /api/v1/") && !l.contains("\" 401 ")),
        "a request went out without the saved base or token: {after:#?}"
    );
    // The first load's failures (the dead base) are expected.
    browser.assert_clean(&["/api/v0/"]).await?;
    browser.close().await
}

fn health_with_version(version: &str) -> FixedAnswer {
    FixedAnswer::json(
        serde_json::json!({ "status": "healthy", "version": version, "components": {"redis": "healthy"} })
            .to_string(),
    )
}

#[tokio::test]
async fn service_strings_in_the_header_are_bounded_and_bidi_free() -> anyhow::Result<()> {
    // A 1 MB version that starts with a right-to-left override.
    let version = format!("\u{202e}1.0{}", "9".repeat(1_000_000));
    let service = HostileService::start(vec![
        ("/api/v1/health", health_with_version(&version)),
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
    ])
    .await?;
    let (_nginx, mut browser) = open_dashboard(&service.origin()).await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    let shown = eval(
        &browser,
        "const i = document.querySelector('[data-testid=status-indicator]');
         const v = document.querySelector('[data-testid=status-version]');
         return { version: v.textContent, title: i.title,
                  width: i.getBoundingClientRect().width,
                  page: document.documentElement.scrollWidth, viewport: window.innerWidth };",
    )
    .await?;
    let version_text = shown["version"].as_str().unwrap_or_default();
    let title = shown["title"].as_str().unwrap_or_default();
    assert!(version_text.starts_with("v1.0999"), "{version_text:?}");
    assert!(version_text.chars().count() <= 26, "{version_text:?}");
    assert!(version_text.ends_with('…'), "{version_text:?}");
    assert!(
        title.chars().count() <= 300,
        "title of {} chars",
        title.chars().count()
    );
    for text in [version_text, title] {
        assert!(!text.contains('\u{202e}'), "a bidi override is shown");
    }
    let width = shown["width"].as_f64().unwrap_or(f64::MAX);
    let page = shown["page"].as_f64().unwrap_or(f64::MAX);
    let viewport = shown["viewport"].as_f64().unwrap_or(0.0);
    browser.screenshot("hostile-version-header").await?;
    assert!(width <= 520.0, "indicator {width} px wide");
    assert!(
        page <= viewport,
        "the page scrolls sideways: {page} > {viewport}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn absurd_numbers_read_as_out_of_range_and_cost_only_themselves() -> anyhow::Result<()> {
    let stage = |count: &str, extra: &str| {
        format!(
            r#"{{"execution_count":{count},"avg_duration_ms":2.5,"p50_duration_ms":2.0,"p95_duration_ms":3.0,"p99_duration_ms":4.0,"min_duration_ms":1.0,"max_duration_ms":5.0{extra}}}"#
        )
    };
    let stats = format!(
        r#"{{"stages":{{"1":{},"3":{},"4":{},"5":{},"6":{}}}}}"#,
        stage("7", ""),
        stage("7", r#","p95_duration_ms":1e309"#),
        stage("7", r#","max_duration_ms":1e300"#),
        stage("-5", ""),
        stage("7", r#","min_duration_ms":9.0,"max_duration_ms":2.0"#),
    );
    let service = HostileService::start(vec![
        ("/api/v1/health", health_with_version("1.0.0")),
        ("/api/v1/admin/execution-stats", FixedAnswer::json(stats)),
        (
            "/api/v1/admin/config",
            FixedAnswer::json(
                r#"{"USE_FAKE_LLM":true,"ENABLE_CACHING":true,"QUEUE_TYPE":"redis"}"#,
            ),
        ),
    ])
    .await?;
    let (_nginx, mut browser) = open_dashboard(&service.origin()).await?;
    browser.wait_for_testid("stage-1", WAIT).await?;
    let cell = |row: &str, metric: &str| {
        format!("return document.querySelector('[data-testid=\"stage-{row}\"] [data-metric={metric}]')?.textContent ?? null;")
    };
    let read = |row: &'static str, metric: &'static str| {
        let browser = &browser;
        let script = cell(row, metric);
        async move { Ok::<_, anyhow::Error>(eval(browser, &script).await?.as_str().map(str::to_owned)) }
    };
    assert_eq!(read("1", "p95").await?.as_deref(), Some("3.00 ms"));
    assert_eq!(
        read("3", "p95").await?.as_deref(),
        Some("—"),
        "1e309 left out"
    );
    assert_eq!(
        read("3", "p50").await?.as_deref(),
        Some("2.00 ms"),
        "the rest of stage 3 stays"
    );
    assert_eq!(
        read("4", "max").await?.as_deref(),
        Some("1.00e300 ms (out of range)")
    );
    assert_eq!(
        read("5", "count").await?,
        None,
        "a negative count is no stage"
    );
    assert_eq!(read("6", "min").await?.as_deref(), Some("—"));
    browser.screenshot("absurd-statistics").await?;
    let ignored = text(&browser, "stats-ignored").await?;
    for part in [
        "stage 3: p95_duration_ms",
        "stage 5: execution_count -5",
        "stage 6: min (9 ms) is above max (2 ms)",
    ] {
        assert!(ignored.contains(part), "{part:?} not in {ignored:?}");
    }
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn an_absurd_rate_in_the_run_history_reads_as_out_of_range() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        enable_caching: false,
        ..fast()
    })
    .await?;
    let (nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    for _ in 0..2 {
        run_load_test(&browser, 1, 1).await?;
    }
    // A damaged (or hand-edited) history: 1e308 requests/s, 1e300 ms.
    eval(
        &browser,
        "const h = JSON.parse(localStorage.getItem('dashboard.load_runs'));
         h[0].requests_per_s = 1e308; h[0].e2e.p50 = 1e300;
         localStorage.setItem('dashboard.load_runs', JSON.stringify(h)); return null;",
    )
    .await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser.wait_for_testid("lt-open", WAIT).await?;
    browser.click("lt-open").await?;
    browser.wait_for_testid("lt-compare", WAIT).await?;
    let rows = eval(
        &browser,
        "return Object.fromEntries([...document.querySelectorAll('[data-testid=lt-compare-row]')].map(tr =>
            [tr.dataset.label, [...tr.querySelectorAll('td')].map(td => td.textContent.trim())]));",
    )
    .await?;
    let joined = rows.to_string();
    assert!(
        !joined.contains("18,446,744"),
        "a saturated integer: {rows}"
    );
    assert!(
        rows["Requests/s"]
            .to_string()
            .contains("1.00e308/s (out of range)"),
        "{rows}"
    );
    assert!(
        rows["E2E p50"]
            .to_string()
            .contains("1.00e300 ms (out of range)"),
        "{rows}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn csv_cells_that_start_with_tab_or_cr_are_no_formulas() -> anyhow::Result<()> {
    // The error kind leads its CSV cell: one stream with a TAB before the
    // formula, one with a CR.
    let stream = |lead: &str| {
        let error = serde_json::json!({
            "error": format!("{lead}=HYPERLINK(\"http://127.0.0.1:9/x\",\"kind\")"),
            "message": "see the kind",
        });
        FixedAnswer::event_stream(format!("event: error\ndata: {error}\n\ndata: [DONE]\n\n"))
    };
    let service = HostileService::start(vec![
        ("/api/v1/health", health_with_version("1.0.0")),
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
        ("/api/v1/stream", stream("\t")),
        ("/api/v1/stream", stream("\r")),
    ])
    .await?;
    let nginx = start_dashboard(&service.origin())?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    run_load_test(&browser, 1, 2).await?;
    let csv = eval(
        &browser,
        "const a = document.querySelector('[data-testid=lt-export-csv]');
         return a ? fetch(a.href).then(r => r.text()) : null;",
    )
    .await?;
    let csv = csv.as_str().unwrap_or_default();
    let rows: Vec<&str> = csv.lines().filter(|l| l.starts_with(['0', '1'])).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    for row in &rows {
        // Every field that held a formula starts with the guard quote instead.
        for field in row.split(',') {
            let bare = field.trim_start_matches('"');
            assert!(
                !bare.starts_with(['=', '+', '@', '\t', '\r']),
                "a formula cell: {field:?} in {row:?}"
            );
        }
    }
    assert!(csv.contains("'\t=HYPERLINK"), "{csv:?}");
    assert!(csv.contains("'\r=HYPERLINK"), "{csv:?}");
    browser
        .assert_clean(&[browser_tests::NO_LOAD_STATS])
        .await?;
    browser.close().await
}
