//! Open-loop send accuracy in headless Chromium: how late the load tester
//! sends each request after its intended start (actual − intended), p50 and
//! p99, at 50 and 200 requests/s, while the streams are read and the live view
//! updates. Baseline, in the same page and the same run: a plain-JS scheduler
//! that only sets `setTimeout` for each arrival of the same constant rate and
//! records how late each timer fired (what any page-side scheduler can do in
//! that busy page, before sending anything).
//!
//! Through the project's nginx.conf over TLS + HTTP/2 (up to 128 streams in
//! one connection), against the reference backend in this process.
//! Target: load tester p99 < 5 ms at 50 req/s.
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench open_loop`.

use std::time::Duration;

use anyhow::Context;
use browser_tests::{
    eval, finished_run_export, select_option, start_dashboard_tls, Browser, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};

const SECONDS: u64 = 10;
const WAIT: Duration = Duration::from_secs(120);

/// Nearest-rank percentile.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil().max(1.0) as usize;
    values[rank.min(values.len()) - 1]
}

/// The plain-JS scheduler: `count` arrivals at `rate`/s, a setTimeout to the
/// next intended time from each timer, which takes every arrival due by then
/// (the same rule as the load tester's); resolves to the lateness of every
/// arrival (ms). Started in the page and left running.
const PLAIN_SCHEDULER: &str = r#"
const [rate, count] = arguments;
const interval = 1000 / rate;
const start = performance.now();
const late = [];
window.__plainLateness = new Promise(resolve => {
  let k = 0;
  // Each timer takes every arrival that is due by then, as the load tester does.
  const tick = () => {
    const now = performance.now();
    while (k < count && start + k * interval <= now + 1) {
      late.push(Math.max(0, now - (start + k * interval)));
      k++;
    }
    if (k >= count) { resolve(late); return; }
    setTimeout(tick, Math.max(0, Math.floor(start + k * interval - performance.now())));
  };
  tick();
});
return true;
"#;

async fn run_at(browser: &Browser, rate: u32) -> anyhow::Result<(Vec<f64>, Vec<f64>, Value)> {
    browser.fill("lt-rate", &rate.to_string()).await?;
    browser.fill("lt-duration-s", &SECONDS.to_string()).await?;
    browser.click("lt-start").await?;
    let count = u64::from(rate) * SECONDS;
    browser
        .client()
        .execute(PLAIN_SCHEDULER, vec![rate.into(), count.into()])
        .await?;
    let export = finished_run_export(browser, WAIT).await?;
    let plain: Vec<f64> =
        serde_json::from_value(eval(browser, "return window.__plainLateness;").await?)?;
    if std::env::var_os("BENCH_DUMP").is_some() {
        for r in export["requests"].as_array().into_iter().flatten() {
            if r["lateness_ms"].as_f64().unwrap_or(0.0) > 5.0 {
                eprintln!(
                    "late: sent {:.0} ms, lateness {:.1} ms",
                    r["sent_ms"].as_f64().unwrap_or(0.0),
                    r["lateness_ms"].as_f64().unwrap_or(0.0)
                );
            }
        }
    }
    let ours: Vec<f64> = export["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["lateness_ms"].as_f64())
        .collect();
    Ok((ours, plain, export["summary"].clone()))
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        // Streams of about half a second, 20–40 chunks each: the page reads
        // 10 (at 50/s) to 100 (at 200/s) streams at once.
        fake: FakeLlmSettings {
            ttft_min_ms: 20,
            ttft_max_ms: 40,
            gap_min_ms: 10,
            gap_max_ms: 20,
            answer_min_chars: 100,
            answer_max_chars: 120,
            ..FakeLlmSettings::realistic()
        },
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let nginx = start_dashboard_tls(&backend.origin())?;
    let https = nginx.tls_url().context("TLS")?;
    let browser = Browser::launch().await?;
    browser.goto(&format!("{https}/")).await?;
    browser.click("lt-open").await?;
    browser.wait_for_testid("lt-start", WAIT).await?;
    select_option(&browser, "lt-mode", "constant").await?;
    browser.fill("lt-max-in-flight", "128").await?;
    println!("open-loop send accuracy: constant rate for {SECONDS} s, actual − intended send time");
    // The machine's own floor: the plain scheduler alone in a blank page of
    // the same origin, nothing else running in it.
    let blank = Browser::launch().await?;
    blank.goto(&format!("{https}/health")).await?;
    for rate in [50_u64, 200] {
        blank
            .client()
            .execute(PLAIN_SCHEDULER, vec![rate.into(), (rate * SECONDS).into()])
            .await?;
        let mut idle: Vec<f64> =
            serde_json::from_value(eval(&blank, "return window.__plainLateness;").await?)?;
        println!(
            "  {rate:>3} req/s, idle blank page: plain-JS setTimeout p50 {:.2} ms, p99 {:.2} ms",
            percentile(&mut idle, 50.0),
            percentile(&mut idle, 99.0)
        );
    }
    blank.close().await?;
    for rate in [50, 200] {
        let (mut ours, mut plain, summary) = run_at(&browser, rate).await?;
        anyhow::ensure!(
            !ours.is_empty() && !plain.is_empty(),
            "no lateness measured"
        );
        let (p50, p99) = (percentile(&mut ours, 50.0), percentile(&mut ours, 99.0));
        let (b50, b99) = (percentile(&mut plain, 50.0), percentile(&mut plain, 99.0));
        println!(
            "  {rate:>3} req/s: load tester p50 {p50:.2} ms, p99 {p99:.2} ms (n = {}, late starts {}, completed {}, {})",
            ours.len(),
            summary["late_starts"],
            summary["completed"],
            summary["by_protocol"],
        );
        println!(
            "           plain-JS setTimeout p50 {b50:.2} ms, p99 {b99:.2} ms (n = {}); p99 ratio {:.2}{}",
            plain.len(),
            p99 / b99.max(0.001),
            if rate == 50 { "  (target: load tester p99 < 5 ms)" } else { "" }
        );
    }
    browser.close().await
}
