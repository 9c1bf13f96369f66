//! Capacity testing in Chromium, through the project's nginx.conf, against the
//! reference backend: open-loop arrivals as the backend saw them, a sweep that
//! finds the backend's stream limit, an SLO target that flips the verdict,
//! running a saved plan again, and Stop in the middle of a sweep.

use std::time::Duration;

use browser_tests::{
    eval, fast_fake, open_dashboard, open_load_tester, select_option, Browser, InProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};
use sse_core::load::model::{Arrivals, LoadModel};

const WAIT: Duration = Duration::from_secs(60);

/// Streams of about 0.6 s with a first token after 20–30 ms.
fn half_second() -> FakeLlmSettings {
    FakeLlmSettings {
        ttft_min_ms: 20,
        ttft_max_ms: 30,
        gap_min_ms: 10,
        gap_max_ms: 14,
        answer_min_chars: 180,
        answer_max_chars: 200,
        ..FakeLlmSettings::realistic()
    }
}

async fn backend(fake: FakeLlmSettings, global_limit: usize) -> anyhow::Result<InProcessBackend> {
    let backend = InProcessBackend::start_with(Settings {
        fake,
        global_limit,
        ..Settings::default()
    })
    .await?;
    // Repeated prompts would come from the cache: off, every request streams.
    reqwest::Client::new()
        .put(backend.api("admin/config"))
        .json(&serde_json::json!({ "ENABLE_CACHING": false }))
        .send()
        .await?
        .error_for_status()?;
    Ok(backend)
}

async fn fill_all(browser: &Browser, fields: &[(&str, &str)]) -> anyhow::Result<()> {
    for (testid, text) in fields {
        browser.fill(testid, text).await?;
    }
    Ok(())
}

async fn data(browser: &Browser, selector: &str, attribute: &str) -> anyhow::Result<String> {
    let v = eval(
        browser,
        &format!(
            "return document.querySelector('{selector}')?.getAttribute('{attribute}') ?? null;"
        ),
    )
    .await?;
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("no {attribute} on {selector}"))
}

async fn value(browser: &Browser, testid: &str) -> anyhow::Result<f64> {
    let text = data(browser, &format!("[data-testid={testid}]"), "data-value").await?;
    text.parse()
        .map_err(|_| anyhow::anyhow!("{testid} has data-value {text:?}"))
}

async fn start_and_finish(browser: &Browser) -> anyhow::Result<()> {
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "running", WAIT)
        .await?;
    browser
        .wait_for_attr(
            "lt-state",
            "data-state",
            "finished",
            Duration::from_secs(120),
        )
        .await
}

/// The backend's per-request records (accepted times, epoch ms), oldest first.
async fn accepted_times(backend: &InProcessBackend) -> anyhow::Result<Vec<f64>> {
    let stats: Value = reqwest::get(backend.api("admin/load-stats?requests=true"))
        .await?
        .json()
        .await?;
    let mut times: Vec<f64> = stats["requests"]
        .as_array()
        .ok_or_else(|| anyhow::anyhow!("no requests in {stats}"))?
        .iter()
        .filter_map(|r| r["accepted_at_ms"].as_f64())
        .collect();
    times.sort_by(f64::total_cmp);
    Ok(times)
}

async fn reset_load_stats(backend: &InProcessBackend) -> anyhow::Result<()> {
    reqwest::Client::new()
        .delete(backend.api("admin/load-stats"))
        .send()
        .await?
        .error_for_status()?;
    Ok(())
}

fn gaps(times: &[f64]) -> Vec<f64> {
    times.windows(2).map(|w| w[1] - w[0]).collect()
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

#[tokio::test]
async fn open_loop_arrivals_reach_the_backend_as_the_model_says() -> anyhow::Result<()> {
    let backend = backend(fast_fake(), 10_000).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;

    // Constant: 20 req/s for 5 s. The closed loop's total (50 by default,
    // hidden in an open loop) does not cut it short.
    select_option(&browser, "lt-mode", "constant").await?;
    assert_eq!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=lt-total]').closest('label').hidden;"
        )
        .await?,
        Value::Bool(true),
        "no total in an open loop"
    );
    fill_all(&browser, &[("lt-rate", "20"), ("lt-duration-s", "5")]).await?;
    reset_load_stats(&backend).await?;
    start_and_finish(&browser).await?;
    let times = accepted_times(&backend).await?;
    assert!(
        (98..=102).contains(&times.len()),
        "the backend saw {} arrivals, not 100 ± 2",
        times.len()
    );
    assert_eq!(
        data(&browser, "[data-testid=lt-ended-by]", "data-state").await?,
        "duration"
    );
    let constant_gaps = gaps(&times);
    let gap = median(&constant_gaps);
    assert!(
        (45.0..=55.0).contains(&gap),
        "median inter-arrival {gap} ms, not 50"
    );
    let mean = constant_gaps.iter().sum::<f64>() / constant_gaps.len() as f64;
    assert!(
        (47.0..=53.0).contains(&mean),
        "mean inter-arrival {mean} ms"
    );
    assert_eq!(value(&browser, "lt-completed").await?, times.len() as f64);
    // Both latencies are shown; from the arrival is never shorter than from the send.
    let (sent, intended) = (
        value(&browser, "lt-e2e-p50").await?,
        value(&browser, "lt-e2e-intended-p50").await?,
    );
    assert!(intended >= sent, "intended {intended} < sent {sent}");
    let late = value(&browser, "lt-late-starts").await?;
    let lateness_p99 = value(&browser, "lt-lateness-p99").await?;
    println!("constant 20/s: {} arrivals, median gap {gap:.1} ms, late starts {late}, lateness p99 {lateness_p99:.2} ms", times.len());
    assert_eq!(
        data(&browser, "[data-testid=lt-verdict]", "data-state").await?,
        "none"
    );

    // Poisson, seeded: exactly the arrivals the core's model draws in 5 s.
    select_option(&browser, "lt-mode", "poisson").await?;
    fill_all(&browser, &[("lt-seed", "7")]).await?;
    let expected = Arrivals::new(LoadModel::Poisson, 20.0, 7)
        .take_while(|at| *at < 5_000.0)
        .count();
    reset_load_stats(&backend).await?;
    start_and_finish(&browser).await?;
    let times = accepted_times(&backend).await?;
    assert_eq!(
        times.len(),
        expected,
        "the seeded model has {expected} arrivals in 5 s"
    );
    let poisson_gaps = gaps(&times);
    let mean = poisson_gaps.iter().sum::<f64>() / poisson_gaps.len() as f64;
    let sd = (poisson_gaps.iter().map(|g| (g - mean).powi(2)).sum::<f64>()
        / poisson_gaps.len() as f64)
        .sqrt();
    // About 100 exponential gaps of mean 50 ms: their coefficient of variation
    // is about 1 (its standard error about 0.1), a constant rate's about 0.
    let cv = sd / mean;
    assert!((0.6..=1.4).contains(&cv), "coefficient of variation {cv}");
    println!(
        "poisson 20/s seed 7: {} arrivals (model {expected}), cv {cv:.2}",
        times.len()
    );
    browser.screenshot("load-tester-open-loop").await?;

    // A request cap ends it early, and the results say so.
    select_option(&browser, "lt-mode", "constant").await?;
    fill_all(&browser, &[("lt-max-requests", "50")]).await?;
    reset_load_stats(&backend).await?;
    start_and_finish(&browser).await?;
    assert_eq!(accepted_times(&backend).await?.len(), 50);
    assert_eq!(
        data(&browser, "[data-testid=lt-ended-by]", "data-state").await?,
        "cap"
    );
    let said = browser.text_of("lt-ended-by").await?;
    println!("{said}");
    assert!(
        said.starts_with("Stopped at the request cap of 50 after 2.")
            && said.contains("before the 5.00 s duration"),
        "{said}"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_sweep_finds_the_highest_step_within_the_backends_stream_limit() -> anyhow::Result<()> {
    // Four streams at once; a fifth waits in the failover queue for a slot
    // (about 0.6 s), far over the 300 ms TTFT target.
    let backend = backend(half_second(), 4).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;
    fill_all(
        &browser,
        &[
            ("lt-sweep-steps", "2,4,6"),
            ("lt-step-s", "4"),
            ("lt-warmup-s", "1"),
            ("lt-slo-ttft-ms", "300"),
            ("lt-slo-good-pct", "90"),
        ],
    )
    .await?;
    start_and_finish(&browser).await?;
    for (k, offered, verdict) in [(1, "2", "pass"), (2, "4", "pass"), (3, "6", "fail")] {
        let row = format!("[data-testid=lt-step-{k}]");
        assert_eq!(
            data(
                &browser,
                &format!("{row} [data-metric=offered]"),
                "data-value"
            )
            .await?,
            offered
        );
        let reason = data(&browser, &format!("{row} [data-metric=verdict]"), "title").await?;
        assert_eq!(
            data(
                &browser,
                &format!("{row} [data-metric=verdict]"),
                "data-state"
            )
            .await?,
            verdict,
            "step {k}: {reason}"
        );
        println!("step {k} ({offered} concurrent): {verdict}: {reason}");
    }
    assert_eq!(value(&browser, "lt-max-sustainable").await?, 4.0);
    let sentence = browser.text_of("lt-max-sustainable").await?;
    assert!(
        sentence.contains("highest load meeting the SLOs: 4 concurrent")
            && sentence.contains("first 1 s of each step are warm-up"),
        "{sentence}"
    );
    assert_eq!(
        data(&browser, "[data-testid=lt-verdict]", "data-state").await?,
        "pass"
    );
    let goodput = data(
        &browser,
        "[data-testid=lt-step-2] [data-metric=goodput]",
        "data-value",
    )
    .await?
    .parse::<f64>()?;
    assert!(goodput > 0.0);
    // The export holds the plan and every step.
    let json = eval(
        &browser,
        "const a = document.querySelector('[data-testid=lt-export-json]');
         return fetch(a.href).then(r => r.json());",
    )
    .await?;
    let summary = &json["summary"];
    assert_eq!(summary["steps"].as_array().map(Vec::len), Some(3));
    assert_eq!(summary["form"]["sweep_steps"], "2,4,6");
    assert_eq!(summary["slo"]["ttft_ms"], 300.0);
    assert_eq!(summary["max_sustainable"], 4.0);
    browser
        .screenshot_of("lt-max-sustainable", "load-tester-sweep")
        .await?;
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn a_tighter_ttft_target_flips_the_verdict_and_a_saved_run_runs_again() -> anyhow::Result<()>
{
    let backend = backend(fast_fake(), 10_000).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;
    fill_all(
        &browser,
        &[
            ("lt-concurrency", "2"),
            ("lt-total", "10"),
            ("lt-slo-ttft-ms", "5000"),
        ],
    )
    .await?;
    start_and_finish(&browser).await?;
    assert_eq!(
        data(&browser, "[data-testid=lt-verdict]", "data-state").await?,
        "pass"
    );
    assert_eq!(value(&browser, "lt-good-pct").await?, 100.0);
    assert!(value(&browser, "lt-goodput").await? > 0.0);

    // The fast fake's first token comes after 5–10 ms: a 1 ms target fails every request.
    fill_all(&browser, &[("lt-slo-ttft-ms", "1")]).await?;
    start_and_finish(&browser).await?;
    assert_eq!(
        data(&browser, "[data-testid=lt-verdict]", "data-state").await?,
        "fail"
    );
    let reason = browser.text_of("lt-verdict").await?;
    assert!(
        reason.contains("over the 1.00 ms target")
            && reason.contains("0 % good (0 of 10), 95 % needed"),
        "{reason}"
    );
    assert_eq!(value(&browser, "lt-good-pct").await?, 0.0);

    // A is the older run (5 s target): run it again, as it was planned.
    browser.click("lt-rerun").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=lt-state]').dataset.state === 'finished'
             && document.querySelector('[data-testid=lt-verdict]')?.dataset.state === 'pass'",
            WAIT,
            "the re-run passes again",
        )
        .await?;
    assert_eq!(value(&browser, "lt-completed").await?, 10.0);
    let ttft_box = eval(
        &browser,
        "return document.querySelector('[data-testid=lt-slo-ttft-ms]').value;",
    )
    .await?;
    assert_eq!(ttft_box, "5000", "the form shows the re-run's plan");
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn stop_in_the_middle_of_a_sweep_leaves_nothing_in_flight() -> anyhow::Result<()> {
    let backend = backend(half_second(), 10_000).await?;
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;
    select_option(&browser, "lt-mode", "constant").await?;
    fill_all(
        &browser,
        &[
            ("lt-sweep-steps", "4,8,16"),
            ("lt-step-s", "6"),
            ("lt-warmup-s", "1"),
        ],
    )
    .await?;
    browser.click("lt-start").await?;
    browser
        .wait_until(
            "Number(document.querySelector('[data-testid=lt-active]')?.dataset.value) >= 1",
            WAIT,
            "requests in flight",
        )
        .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    browser.click("lt-stop").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await?;
    assert_eq!(value(&browser, "lt-active").await?, 0.0);
    assert!(
        value(&browser, "lt-aborted").await? >= 1.0,
        "streams were cut"
    );
    let load = |stats: Value| {
        (
            stats["active_streams"].as_u64(),
            stats["requests_total"].as_u64(),
        )
    };
    let mut seen = (None, None);
    for _ in 0..50 {
        let stats: Value = reqwest::get(backend.api("admin/load-stats"))
            .await?
            .json()
            .await?;
        seen = load(stats);
        if seen.0 == Some(0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen.0, Some(0), "the backend still streams after Stop");
    // Nothing more arrives: no next step, no late arrival.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let stats: Value = reqwest::get(backend.api("admin/load-stats"))
        .await?
        .json()
        .await?;
    assert_eq!(load(stats), seen, "requests arrived after Stop");
    assert!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=lt-step-1]') === null;"
        )
        .await?
            == Value::Bool(true),
        "a step cut by Stop is not judged"
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}
