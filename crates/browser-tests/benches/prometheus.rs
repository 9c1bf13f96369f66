//! The Prometheus reader in headless Chromium: the release build of its part
//! loaded on demand (as nginx serves it) reads the same synthetic 200 KB
//! exposition as `cargo bench -p sse-core --bench prometheus`, and the page
//! prints the median of a plain line split of the text (the baseline) and of
//! parse + merge, measured in the same run.
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench prometheus`.

use anyhow::Context;
use browser_tests::{start_dashboard, unreachable_origin, Browser};
use sse_core::monitoring::prometheus::synthetic;

const ROUNDS: u32 = 15;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let (text, series) = synthetic::exposition(200_000);
    let nginx = start_dashboard(&unreachable_origin()?)?;
    let browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser
        .wait_until(
            "window.wasmBindings !== undefined",
            std::time::Duration::from_secs(20),
            "the app never started",
        )
        .await?;
    let answer = browser
        .client()
        .execute(
            "const [text, rounds] = arguments;
             return window.wasmBindings.bench_prometheus(text, rounds);",
            vec![text.clone().into(), ROUNDS.into()],
        )
        .await?;
    let figures: serde_json::Value =
        serde_json::from_str(answer.as_str().context("the page answered no text")?)?;
    let ms = |key: &str| figures[key].as_f64().unwrap_or(f64::NAN);
    let (baseline, parse) = (ms("baseline_ms"), ms("parse_ms"));
    anyhow::ensure!(figures["stages"] == 8, "the page read {figures}");
    println!(
        "exposition: {} bytes, {series} series; Chromium, release WASM, median of {ROUNDS} rounds",
        text.len()
    );
    println!("{}", synthetic::report(text.len(), baseline, parse));
    browser.close().await
}
