//! Benchmarks of the load tester in headless Chromium, through the project's
//! nginx.conf over TLS + HTTP/2, against the reference backend (in this
//! process, on 127.0.0.1). Each figure is printed beside its baseline,
//! measured in the same run:
//!
//! - fidelity: the load tester's per-request TTFT and E2E against the
//!   backend's own timings of the same requests (matched by thread id), at
//!   concurrency 50. Target: median difference < 5 ms.
//! - capacity: chunk events per second the dashboard consumes at concurrency
//!   50 with the zero-delay fake profile while its live view updates, against
//!   a minimal plain-JS reader of the same streams in a blank page of the same
//!   origin. Target: ratio >= 0.8.
//!
//! The pages are driven through WebDriver only to start a run and to read its
//! result at the end (one poll a second); nothing that slows a page (CDP
//! network events, console capture of every event) is on while measuring.
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench load_tester`.

use std::time::Duration;

use anyhow::Context;
use browser_tests::{
    differences, finished_run_export, start_dashboard_tls, Browser, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};

const WAIT: Duration = Duration::from_secs(120);
/// Concurrency of both benchmarks (`BENCH_CONCURRENCY` overrides it, to see
/// how a figure depends on it).
fn concurrency() -> u32 {
    std::env::var("BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}
const ROUNDS: usize = 3;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Nearest-rank percentile of sorted values.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

/// Runs the load tester once; the run's JSON export.
async fn dashboard_run(browser: &Browser, total: u64) -> anyhow::Result<Value> {
    browser
        .fill("lt-concurrency", &concurrency().to_string())
        .await?;
    browser.fill("lt-total", &total.to_string()).await?;
    browser.click("lt-start").await?;
    finished_run_export(browser, WAIT).await
}

/// The minimal plain-JS reader: `total` POST /stream at the given concurrency
/// in the page it runs in, counting chunk events and timing each request the
/// way the load tester does (TTFT at the first read holding a content chunk,
/// E2E at the end of the body); (events, wall ms, [thread id, ttft, e2e] per request).
const PLAIN_READER: &str = r#"
const [total, concurrency, body] = arguments;
let next = 0, events = 0;
const rows = [];
const decoder = new TextDecoder();
async function worker() {
  while (next < total) {
    next++;
    const sent = performance.now();
    const response = await fetch('/api/v1/stream?plain=' + next, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    const reader = response.body.getReader();
    let tail = '', ttft = null;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const text = tail + decoder.decode(value, { stream: true });
      let at = 0;
      while ((at = text.indexOf('event: chunk', at)) !== -1) { events++; at += 12; if (ttft === null) ttft = performance.now() - sent; }
      tail = text.slice(-11);
    }
    rows.push([response.headers.get('x-thread-id'), ttft, performance.now() - sent]);
  }
}
const started = performance.now();
return Promise.all(Array.from({ length: concurrency }, worker)).then(() => [events, performance.now() - started, rows]);
"#;

type PlainRow = (Option<String>, Option<f64>, f64);

async fn plain_run(browser: &Browser, total: u64) -> anyhow::Result<(f64, f64, Vec<PlainRow>)> {
    let body =
        serde_json::json!({ "query": "capacity", "model": "gpt-3.5-turbo", "provider": "fake" })
            .to_string();
    let result = browser
        .client()
        .execute(
            PLAIN_READER,
            vec![total.into(), concurrency().into(), body.into()],
        )
        .await?;
    Ok(serde_json::from_value(result)?)
}

fn describe(diffs: &mut [f64]) -> String {
    diffs.sort_by(f64::total_cmp);
    format!(
        "median {:+.2} ms, p99 {:+.2} ms (n = {})",
        percentile(diffs, 50.0),
        percentile(diffs, 99.0),
        diffs.len()
    )
}

fn chunk_events(export: &Value) -> f64 {
    export["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["chunks"].as_f64().unwrap_or(0.0))
        .sum()
}

/// The stack both benchmarks measure: the reference backend with `fake`
/// timing (no cache), the project's nginx with TLS + HTTP/2, the dashboard
/// with its load tester open, and a blank page of the same origin (nginx's own
/// /health) for the plain-JS reader.
struct Bench {
    backend: InProcessBackend,
    _nginx: dashboard_ops::local_stack::Nginx,
    dashboard: Browser,
    plain: Browser,
}

impl Bench {
    async fn start(fake: FakeLlmSettings) -> anyhow::Result<Self> {
        let backend = InProcessBackend::start_with(Settings {
            fake,
            enable_caching: false,
            ..Settings::default()
        })
        .await?;
        let nginx = start_dashboard_tls(&backend.origin())?;
        let https = nginx.tls_url().context("TLS")?;
        let dashboard = Browser::launch().await?;
        dashboard.goto(&format!("{https}/")).await?;
        dashboard.click("lt-open").await?;
        dashboard.wait_for_testid("lt-start", WAIT).await?;
        let plain = Browser::launch().await?;
        plain.goto(&format!("{https}/health")).await?;
        Ok(Self {
            backend,
            _nginx: nginx,
            dashboard,
            plain,
        })
    }
}

async fn fidelity() -> anyhow::Result<()> {
    // Bound whole: nginx must live as long as the measurement.
    let Bench {
        backend,
        _nginx,
        dashboard: browser,
        plain,
    } = Bench::start(FakeLlmSettings {
        ttft_min_ms: 50,
        ttft_max_ms: 150,
        gap_min_ms: 10,
        gap_max_ms: 30,
        answer_min_chars: 200,
        answer_max_chars: 400,
        ..FakeLlmSettings::realistic()
    })
    .await?;
    let total = u64::from(concurrency()) * ROUNDS as u64;

    let export = dashboard_run(&browser, total).await?;
    let server: Value = reqwest::get(backend.api("admin/load-stats?requests=true"))
        .await?
        .json()
        .await?;
    let rows = export["requests"].as_array().cloned().unwrap_or_default();
    let (mut ttft, mut e2e) = differences(
        rows.iter().map(|r| {
            (
                r["thread_id"].as_str().unwrap_or_default().to_owned(),
                r["ttft_ms"].as_f64(),
                r["e2e_ms"].as_f64().unwrap_or_default(),
            )
        }),
        &server,
    );
    anyhow::ensure!(
        ttft.len() as u64 == total,
        "matched {} of {total} requests",
        ttft.len()
    );

    let (_, _, plain_rows) = plain_run(&plain, total).await?;
    let server: Value = reqwest::get(backend.api("admin/load-stats?requests=true"))
        .await?
        .json()
        .await?;
    let (mut plain_ttft, mut plain_e2e) = differences(
        plain_rows
            .into_iter()
            .map(|(id, t, e)| (id.unwrap_or_default(), t, e)),
        &server,
    );
    println!(
        "fidelity: {total} requests at concurrency {} over {}, each matched to the backend's own timing by thread id",
        concurrency(),
        export["summary"]["by_protocol"]
    );
    println!(
        "  TTFT, load tester - backend:       {}  (target: median < 5 ms)",
        describe(&mut ttft)
    );
    println!(
        "  TTFT, plain JS reader - backend:   {}  (baseline: the browser and network alone)",
        describe(&mut plain_ttft)
    );
    println!(
        "  E2E,  load tester - backend:       {}",
        describe(&mut e2e)
    );
    println!(
        "  E2E,  plain JS reader - backend:   {}",
        describe(&mut plain_e2e)
    );
    browser.close().await?;
    plain.close().await
}

async fn capacity() -> anyhow::Result<()> {
    let Bench {
        backend: _backend,
        _nginx,
        dashboard,
        plain,
    } = Bench::start(FakeLlmSettings {
        ttft_min_ms: 0,
        ttft_max_ms: 0,
        gap_min_ms: 0,
        gap_max_ms: 0,
        answer_min_chars: 30_000,
        answer_max_chars: 30_000,
        ..FakeLlmSettings::realistic()
    })
    .await?;
    let total = u64::from(concurrency()) * 2;
    let mut ours = Vec::new();
    let mut baseline = Vec::new();
    for round in 0..ROUNDS {
        let (events, wall, _) = plain_run(&plain, total).await?;
        baseline.push(events / (wall / 1000.0));
        let export = dashboard_run(&dashboard, total).await?;
        let wall = export["summary"]["wall_ms"].as_f64().unwrap_or(f64::NAN);
        ours.push(chunk_events(&export) / (wall / 1000.0));
        println!(
            "  round {}: plain JS {:.0} events/s, dashboard {:.0} events/s ({:.0} events in {:.0} ms)",
            round + 1,
            baseline[round],
            ours[round],
            chunk_events(&export),
            wall
        );
    }
    let (ours, baseline) = (median(&mut ours), median(&mut baseline));
    println!("capacity: {total} zero-delay streams of 30,000 characters at concurrency {}, {ROUNDS} rounds each, alternating", concurrency());
    println!("  baseline (plain JS reader, blank page): median {baseline:.0} chunk events/s");
    println!("  dashboard load tester (live view on):   median {ours:.0} chunk events/s");
    println!("  ratio {:.2}  (target >= 0.8)", ours / baseline);
    dashboard.close().await?;
    plain.close().await
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        fidelity().await?;
        capacity().await
    })
}
