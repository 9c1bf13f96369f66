//! Where the time goes, in Chromium through the project's nginx.conf: the
//! reference backend with a known provider delay and a queue wait (one stream
//! per user) — the breakdown puts each where it belongs, and the parts sum to
//! the client's TTFT; the original service's shape (no per-request records)
//! — the page says so and shows no invented numbers.

use std::time::Duration;

use browser_tests::{
    eval, open_dashboard, open_load_tester, Browser, FixedAnswer, HostileService, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};

const WAIT: Duration = Duration::from_secs(60);
/// The fake provider's time to its first token.
const PROVIDER_MS: f64 = 150.0;
const PARTS: [&str; 5] = [
    "browser-wait",
    "network",
    "server-queue",
    "server-stages",
    "provider-first-token",
];

/// A fake provider without chance: its first token after `first_ms`, a chunk
/// every `gap_ms`, `chars` characters in all.
fn fixed_fake(first_ms: u64, gap_ms: u64, chars: usize) -> FakeLlmSettings {
    FakeLlmSettings {
        ttft_min_ms: first_ms,
        ttft_max_ms: first_ms,
        gap_min_ms: gap_ms,
        gap_max_ms: gap_ms,
        answer_min_chars: chars,
        answer_max_chars: chars,
        ..FakeLlmSettings::realistic()
    }
}

/// Runs `total` requests at concurrency 2, all as one user (the dashboard's
/// nginx address), and waits for the end.
async fn run_as_one_user(browser: &Browser, total: u32) -> anyhow::Result<()> {
    open_load_tester(browser, WAIT).await?;
    browser.fill("lt-concurrency", "2").await?;
    browser.fill("lt-total", &total.to_string()).await?;
    let per_worker = eval(
        browser,
        "return document.querySelector('[data-testid=lt-user-per-worker]').checked;",
    )
    .await?;
    if per_worker == Value::Bool(true) {
        browser.click("lt-user-per-worker").await?;
    }
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await
}

/// The median row of the breakdown: its request index, TTFT and each part
/// (`None` where the cell has no value).
async fn median_row(browser: &Browser) -> anyhow::Result<(u64, f64, Vec<Option<f64>>)> {
    let row = eval(
        browser,
        "const row = document.querySelector('[data-testid=lt-breakdown] tr[data-row=median]');
         const parts = ['browser-wait','network','server-queue','server-stages','provider-first-token']
           .map(m => row.querySelector(`[data-metric=${m}]`).getAttribute('data-value'));
         return [row.dataset.index, row.dataset.value, parts];",
    )
    .await?;
    let number = |v: &Value| v.as_str().and_then(|t| t.parse::<f64>().ok());
    let parts = row[2]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no parts in {row}"))?
        .iter()
        .map(number)
        .collect();
    let index = number(&row[0]).ok_or_else(|| anyhow::anyhow!("no index in {row}"))?;
    let ttft = number(&row[1]).ok_or_else(|| anyhow::anyhow!("no TTFT in {row}"))?;
    Ok((index as u64, ttft, parts))
}

async fn export(browser: &Browser, testid: &str) -> anyhow::Result<String> {
    let text = eval(
        browser,
        &format!("return fetch(document.querySelector('[data-testid={testid}]').href).then(r => r.text());"),
    )
    .await?;
    text.as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no {testid}"))
}

#[tokio::test]
async fn the_breakdown_puts_the_provider_delay_and_the_queue_wait_where_they_belong(
) -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        per_user_limit: 1,
        enable_caching: false,
        fake: fixed_fake(PROVIDER_MS as u64, 10, 40),
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    run_as_one_user(&browser, 10).await?;
    // Every request joined to the service's record (they arrive after the end).
    browser
        .wait_for_attr(
            "lt-server-side",
            "data-value",
            "10",
            Duration::from_secs(10),
        )
        .await?;
    let (index, ttft, parts) = median_row(&browser).await?;
    let part = |name: &str| parts[PARTS.iter().position(|p| *p == name).unwrap_or(0)];
    println!("median request #{index}: TTFT {ttft:.2} ms, parts {parts:?}");
    assert!(
        parts.iter().all(Option::is_some),
        "every part is measured: {parts:?}"
    );
    let sum: f64 = parts.iter().flatten().sum();
    assert!(
        (sum - ttft).abs() < 0.01,
        "the parts sum to {sum}, the TTFT is {ttft}"
    );
    let provider = part("provider-first-token").unwrap_or(f64::NAN);
    assert!(
        (provider - PROVIDER_MS).abs() <= 5.0,
        "provider first token {provider} ms, configured {PROVIDER_MS}"
    );

    // The queue wait it should have: the median request waited for the other
    // worker's stream (the one in flight on the page when it was sent) to
    // give its slot back. The service's record of that other stream says when
    // it did; the median request's record says when it entered the queue.
    // (The page's own view of that end is late by however busy the page was.)
    let json: Value = serde_json::from_str(&export(&browser, "lt-export-json").await?)?;
    let rows = json["requests"].as_array().cloned().unwrap_or_default();
    let row = |i: u64| {
        rows.iter()
            .find(|r| r["index"] == i)
            .cloned()
            .unwrap_or_default()
    };
    let f = |r: &Value, key: &str| r[key].as_f64().unwrap_or(f64::NAN);
    let median = row(index);
    let sent = f(&median, "sent_ms") + f(&median, "browser_queue_ms");
    let holder = rows
        .iter()
        .filter(|r| r["index"] != index)
        .find(|r| f(r, "sent_ms") < sent && sent < f(r, "sent_ms") + f(r, "e2e_ms"))
        .ok_or_else(|| anyhow::anyhow!("no request was in flight when #{index} was sent"))?;
    let service: Value = reqwest::get(backend.api("admin/load-stats?requests=true"))
        .await?
        .json()
        .await?;
    let record = |r: &Value| {
        service["requests"]
            .as_array()
            .and_then(|list| list.iter().find(|s| s["thread_id"] == r["thread_id"]))
            .cloned()
            .unwrap_or_default()
    };
    let expected_queue = f(&record(holder), "finished_at_ms") - f(&record(&median), "queued_at_ms");
    let page_view = f(holder, "sent_ms") + f(holder, "e2e_ms") - sent;
    let queue = part("server-queue").unwrap_or(f64::NAN);
    println!(
        "queue {queue:.2} ms, expected from the slot's release {expected_queue:.2} ms (the page saw that release {page_view:.2} ms after the send)"
    );
    assert!(
        expected_queue > 100.0,
        "the median request queued: {expected_queue} ms"
    );
    assert!(
        (queue - expected_queue).abs() <= 5.0,
        "queue {queue} ms, expected {expected_queue} ms"
    );
    // One machine: the network is short and the clocks agree.
    let network = part("network").unwrap_or(f64::NAN);
    assert!(
        (0.0..20.0).contains(&network),
        "network + proxies {network} ms"
    );
    let clock = eval(
        &browser,
        "const p = document.querySelector('[data-testid=lt-clock-offset]');
         return [p.textContent, p.dataset.value];",
    )
    .await?;
    let bounds = clock[0].as_str().unwrap_or_default();
    let offset: f64 = clock[1].as_str().unwrap_or_default().parse()?;
    println!("{bounds}");
    assert!(
        offset.abs() < 5.0,
        "offset {offset} ms on one machine: {bounds}"
    );

    // The export: every completed request has the service's parts.
    assert!(
        rows.iter()
            .all(|r| r["server"]["provider_first_token_ms"].is_number()),
        "{rows:?}"
    );
    let csv = export(&browser, "lt-export-csv").await?;
    assert!(csv
        .lines()
        .next()
        .unwrap_or("")
        .ends_with("provider_first_token_ms,server_total_ms"));

    // The slowest requests' waterfalls, and any request's from the table.
    let shown = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid^=lt-waterfall-]')].map(w => w.dataset.testid);",
    )
    .await?;
    assert_eq!(shown.as_array().map(Vec::len), Some(3), "{shown}");
    browser.click(&format!("lt-pick-{index}")).await?;
    browser
        .wait_for_testid(&format!("lt-waterfall-{index}"), WAIT)
        .await?;
    let bars = eval(
        &browser,
        &format!(
            "return [...document.querySelectorAll('[data-testid=lt-waterfall-{index}] [data-bar]')].map(b => b.dataset.bar);"
        ),
    )
    .await?;
    for bar in [
        "browser wait",
        "request to the service",
        "failover queue",
        "provider's first token",
        "first chunk to the page",
        "chunks",
    ] {
        assert!(
            bars.as_array().is_some_and(|b| b.iter().any(|x| x == bar)),
            "{bar} in {bars}"
        );
    }
    browser
        .screenshot_of("lt-breakdown", "time-breakdown")
        .await?;
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn without_per_request_records_the_page_says_so_and_invents_nothing() -> anyhow::Result<()> {
    // The original service's shape: its events, and no /admin/load-stats (404).
    let stream = "event: status\ndata: {\"status\": \"validated\", \"thread_id\": \"d2cd\"}\n\n\
        event: chunk\ndata: {\"content\": \"Rank \", \"chunk_index\": 1, \"finish_reason\": null}\n\n\
        event: chunk\ndata: {\"content\": \"um.\", \"chunk_index\": 2, \"finish_reason\": \"stop\"}\n\n\
        event: complete\ndata: {\"thread_id\": \"d2cd\", \"chunk_count\": 2, \"total_length\": 8, \"duration_ms\": 11.5}\n\n\
        data: [DONE]\n\n";
    let service =
        HostileService::start(vec![("/api/v1/stream", FixedAnswer::event_stream(stream))]).await?;
    let (_nginx, mut browser) = open_dashboard(&service.origin()).await?;
    run_as_one_user(&browser, 4).await?;
    browser
        .wait_for_attr("lt-server-side", "data-state", "unavailable", WAIT)
        .await?;
    let said = browser.text_of("lt-server-side").await?;
    assert!(said.contains("not available"), "{said}");
    let (_, ttft, parts) = median_row(&browser).await?;
    assert!(ttft > 0.0);
    // The page's own part is there; the service's are not, and never as 0.
    assert!(parts[0].is_some(), "browser wait: {parts:?}");
    assert_eq!(&parts[1..], &[None, None, None, None], "{parts:?}");
    let texts = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid=lt-breakdown] tr[data-row=median] td')].map(c => c.textContent);",
    )
    .await?;
    assert_eq!(
        texts
            .as_array()
            .map(|t| t.iter().filter(|x| *x == "not measured").count()),
        Some(4),
        "{texts}"
    );
    let offset_shown = eval(
        &browser,
        "return document.querySelector('[data-testid=lt-clock-offset]') !== null;",
    )
    .await?;
    assert_eq!(
        offset_shown,
        Value::Bool(false),
        "no clock offset without the service's times"
    );
    let bars = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid^=lt-waterfall-] [data-bar]')].map(b => b.dataset.bar);",
    )
    .await?;
    let bars = bars.as_array().cloned().unwrap_or_default();
    assert!(!bars.is_empty());
    assert!(
        bars.iter().all(|b| b == "browser wait" || b == "chunks"),
        "only the page's bars: {bars:?}"
    );
    browser
        .screenshot_of("lt-breakdown", "time-breakdown-page-only")
        .await?;
    browser.assert_clean(&["/api/v1/"]).await?;
    browser.close().await
}

#[tokio::test]
async fn during_a_run_the_statistics_poll_faster_and_stages_share_the_runs_time_axis(
) -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        enable_caching: false,
        fake: fixed_fake(50, 20, 60),
        ..Settings::default()
    })
    .await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;
    for (testid, text) in [
        ("lt-concurrency", "4"),
        ("lt-total", "1000"),
        ("lt-duration-s", "6"),
        ("lt-stats-every-s", "1"),
    ] {
        browser.fill(testid, text).await?;
    }
    let setting = browser.attr_of("metrics-chart", "data-poll-ms").await?;
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "running", WAIT)
        .await?;
    assert_eq!(
        browser.attr_of("metrics-chart", "data-poll-ms").await?,
        "1000",
        "the run asks the panels for its interval"
    );
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await?;
    // The panel's default is every 10 s; in the 6 s run it and the load
    // tester each polled about every second (the run clears the timings at its start).
    let polls = eval(
        &browser,
        "return performance.getEntriesByType('resource').filter(e => e.name.includes('/admin/execution-stats')).length;",
    )
    .await?;
    let polls = polls.as_u64().unwrap_or(0);
    println!("execution-stats polls during the 6 s run: {polls}");
    assert!(
        polls >= 9,
        "the panel and the tester polled {polls} times in 6 s"
    );
    assert_ne!(setting, "1000");
    browser
        .wait_for_attr(
            "metrics-chart",
            "data-poll-ms",
            &setting,
            Duration::from_secs(5),
        )
        .await?;
    // Both charts run over the same seconds; the stages have points.
    let axes = eval(
        &browser,
        "const opt = id => echarts.getInstanceByDom(document.getElementById(id)).getOption();
         const l = opt('lt-latency-chart'), s = opt('lt-stage-chart');
         const points = s.series.map(x => x.data.filter(p => p[1] !== '-').length);
         return [l.xAxis[0].max, s.xAxis[0].max, s.series.map(x => x.name), points];",
    )
    .await?;
    println!("{axes}");
    assert_eq!(axes[0], axes[1], "one time axis: {axes}");
    let names: Vec<&str> = axes[2]
        .as_array()
        .map(|n| n.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(names.iter().any(|n| n.starts_with("5 ")), "{names:?}");
    let most = axes[3]
        .as_array()
        .and_then(|p| p.iter().filter_map(Value::as_u64).max())
        .unwrap_or(0);
    assert!(most >= 4, "a stage has a point per poll: {axes}");
    browser
        .screenshot_of("lt-stage-chart", "stage-timeline")
        .await?;
    browser.assert_clean(&[]).await?;
    browser.close().await
}
