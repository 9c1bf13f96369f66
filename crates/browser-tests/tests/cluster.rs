//! Several instances as one service, against the real topology: a real
//! Redis, three reference backends (`app-1` … `app-3`, own processes) and a
//! real nginx load balancer (the project's nginx-balancer.conf), with the
//! dashboard behind its own nginx proxying `/instances/<name>/` to each, in
//! Chromium. Every figure the page shows is compared with what each instance
//! answers when asked directly.

use std::time::Duration;

use browser_tests::{
    eval, fast_fake_env, pick_stats_source, run_load_test, send_streams, start_load_test, Browser,
    LocalCluster,
};
use serde_json::Value;
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::metrics::Statistic;
use sse_core::monitoring::cluster::{execution_stats_rows, merge_metrics};
use sse_core::monitoring::prometheus::service::ServiceMetrics;
use sse_core::monitoring::stats_source::histogram_rows;

const WAIT: Duration = Duration::from_secs(30);
const FAST_POLLS: &str = r#"{"health_poll_ms": 1000, "stats_poll_ms": 1000}"#;
const NAMES: [&str; 3] = ["app-1", "app-2", "app-3"];

async fn direct_text(cluster: &LocalCluster, index: usize, path: &str) -> anyhow::Result<String> {
    let answer = reqwest::get(cluster.direct(index, path)).await?;
    anyhow::ensure!(answer.status() == 200, "{path}: {}", answer.status());
    Ok(answer.text().await?)
}

/// A cell's `data-value` in the table under `scope` (a `data-testid`).
async fn cell(browser: &Browser, scope: &str, stage: &str, metric: &str) -> anyhow::Result<String> {
    let value = eval(
        browser,
        &format!(
            "const c = document.querySelector('[data-testid=\"{scope}\"] [data-testid=\"stage-{stage}\"] [data-metric={metric}]');
             return c ? c.dataset.value : 'no such cell';"
        ),
    )
    .await?;
    Ok(value.as_str().unwrap_or_default().to_owned())
}

async fn wait_for_cell(
    browser: &Browser,
    scope: &str,
    stage: &str,
    metric: &str,
    want: &str,
) -> anyhow::Result<()> {
    browser
        .wait_until(
            &format!(
                "(document.querySelector('[data-testid=\"{scope}\"] [data-testid=\"stage-{stage}\"] [data-metric={metric}]') || {{}}).dataset?.value === '{want}'"
            ),
            WAIT,
            &format!("{scope} stage {stage} {metric} never became {want}"),
        )
        .await
}

async fn pick_source(browser: &Browser, source: &str) -> anyhow::Result<()> {
    pick_stats_source(browser, source).await?;
    browser
        .wait_for_attr("metrics-chart", "data-source", source, WAIT)
        .await
}

fn value(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

#[tokio::test]
async fn three_instances_are_seen_measured_and_configured_as_one_service() -> anyhow::Result<()> {
    let cluster = LocalCluster::start(3, &fast_fake_env(), FAST_POLLS, true)?;
    send_streams(&cluster.balanced("stream"), "cluster question", 0, 9).await?;
    let mut browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/", cluster.dashboard.url()))
        .await?;

    // Status: every instance polled.
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-value", "3", WAIT)
        .await?;
    assert!(browser
        .text_of("status-indicator")
        .await?
        .contains("3 of 3 healthy"));
    for name in NAMES {
        browser
            .wait_for_attr(&format!("instance-{name}"), "data-state", "connected", WAIT)
            .await?;
    }

    // Statistics: each instance's table is its own answer, fetched directly.
    let mut stats = Vec::new();
    let mut metrics = Vec::new();
    for i in 0..3 {
        let text = direct_text(&cluster, i, "admin/execution-stats").await?;
        stats.push(ExecutionStats::parse(&text).map_err(|e| anyhow::anyhow!("{}", e.0))?);
        let text = direct_text(&cluster, i, "admin/metrics").await?;
        metrics.push(ServiceMetrics::parse(&text).map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    let counts: Vec<u64> = stats
        .iter()
        .map(|s| {
            s.stages
                .iter()
                .find(|st| st.id == "1")
                .map_or(0, |st| st.execution_count)
        })
        .collect();
    assert_eq!(counts.iter().sum::<u64>(), 9, "{counts:?}");
    assert!(
        counts.iter().all(|&c| c > 0),
        "the balancer spread them: {counts:?}"
    );
    // Every instance's histograms hold observations: the metrics are the default.
    browser
        .wait_for_attr("metrics-chart", "data-source", "metrics", WAIT)
        .await?;
    wait_for_cell(&browser, "stats-table", "1", "count", "9").await?;
    let refs: Vec<(&str, &ServiceMetrics)> = NAMES.iter().copied().zip(metrics.iter()).collect();
    let (merged, notes) = merge_metrics(&refs);
    assert!(notes.is_empty(), "{notes:?}");
    let cluster_rows = histogram_rows(&merged);
    for row in cluster_rows.iter().filter(|r| r.count > 0) {
        for p in [Statistic::P50, Statistic::P95, Statistic::P99] {
            let metric = sse_core::monitoring::stats_view::column_id(p);
            assert_eq!(
                cell(&browser, "stats-cluster", &row.id, metric).await?,
                value(row.value(p)),
                "cluster stage {} {metric}: the merge of the raw histograms",
                row.id
            );
        }
    }
    for (i, name) in NAMES.iter().enumerate() {
        let own = histogram_rows(&metrics[i]);
        let one = own.iter().find(|r| r.id == "1").expect("stage 1");
        let scope = format!("stats-instance-{name}");
        assert_eq!(
            cell(&browser, &scope, "1", "count").await?,
            one.count.to_string()
        );
        assert_eq!(
            cell(&browser, &scope, "1", "p95").await?,
            value(one.value(Statistic::P95))
        );
    }

    // The execution-stats: count/min/max/mean merge exactly, percentiles stay per instance.
    pick_source(&browser, "execution-stats").await?;
    wait_for_cell(&browser, "stats-table", "1", "count", "9").await?;
    let exact = execution_stats_rows(&stats.iter().collect::<Vec<_>>());
    for row in exact.iter().filter(|r| r.count > 0) {
        let scope = "stats-table";
        assert_eq!(
            cell(&browser, scope, &row.id, "count").await?,
            row.count.to_string()
        );
        for s in [Statistic::Min, Statistic::Max, Statistic::Mean] {
            let metric = sse_core::monitoring::stats_view::column_id(s);
            assert_eq!(
                cell(&browser, scope, &row.id, metric).await?,
                value(row.value(s)),
                "stage {} {metric}",
                row.id
            );
        }
        assert_eq!(
            cell(&browser, scope, &row.id, "p95").await?,
            "",
            "never averaged"
        );
    }
    for (i, name) in NAMES.iter().enumerate() {
        let scope = format!("stats-instance-{name}");
        assert_eq!(
            cell(&browser, &scope, "1", "count").await?,
            counts[i].to_string()
        );
        let own = sse_core::monitoring::stats_view::stage_rows(&stats[i]);
        let one = own.iter().find(|r| r.id == "1").expect("stage 1");
        assert_eq!(
            cell(&browser, &scope, "1", "p95").await?,
            value(one.value(Statistic::P95))
        );
    }
    browser.screenshot("cluster-of-three-instances").await?;

    // Configuration: one Apply reaches all three (read back from each directly).
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-message]').textContent.includes('All 3 instances report')",
            WAIT,
            "the panel never read the three configurations",
        )
        .await?;
    browser.click("cfg-caching").await?;
    browser.click("cfg-apply").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-message]').textContent.includes('Applied to all 3 instances')",
            WAIT,
            "the change was not applied to all three",
        )
        .await?;
    let http = reqwest::Client::new();
    for i in 0..3 {
        let config: Value = serde_json::from_str(&direct_text(&cluster, i, "admin/config").await?)?;
        assert_eq!(config["ENABLE_CACHING"], false, "instance {i}: {config}");
    }
    // One changed behind the dashboard's back: the panel names it.
    let changed = http
        .put(cluster.direct(1, "admin/config"))
        .json(&serde_json::json!({ "ENABLE_CACHING": true }))
        .send()
        .await?;
    assert_eq!(changed.status(), 200);
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-message]').textContent.includes('app-2 differs from the others: it holds ENABLE_CACHING = true')",
            WAIT,
            "the panel never named app-2",
        )
        .await?;
    browser
        .wait_for_attr("cfg-instance-app-2", "data-state", "differs", WAIT)
        .await?;
    // Apply brings it in line.
    browser.click("cfg-apply").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=cfg-message]').textContent.includes('Applied to all 3 instances')",
            WAIT,
            "app-2 was not brought in line",
        )
        .await?;
    let config: Value = serde_json::from_str(&direct_text(&cluster, 1, "admin/config").await?)?;
    assert_eq!(config["ENABLE_CACHING"], false, "{config}");

    // Settings → Instances…: a bad line is refused; two instances saved, the
    // page reloads watching those two.
    eval(
        &browser,
        "document.querySelector('[data-testid=settings] summary').click(); return null;",
    )
    .await?;
    browser.click("settings-instances-edit").await?;
    browser.wait_for_testid("settings-instances", WAIT).await?;
    let listed = eval(
        &browser,
        "return document.querySelector('[data-testid=settings-instances]').value;",
    )
    .await?;
    assert_eq!(
        listed,
        "app-1 /instances/app-1/api/v1\napp-2 /instances/app-2/api/v1\napp-3 /instances/app-3/api/v1"
    );
    browser
        .fill("settings-instances", "app-1\nbad/name")
        .await?;
    browser.click("settings-instances-save").await?;
    let refused = browser.text_of("settings-instances-message").await?;
    assert!(refused.contains("line 2"), "{refused}");
    browser.fill("settings-instances", "app-1\napp-2").await?;
    browser.click("settings-instances-save").await?;
    browser
        .wait_for_attr("status-indicator", "data-value", "2", WAIT)
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    assert!(browser
        .text_of("status-indicator")
        .await?
        .contains("2 of 2 healthy"));
    browser
        .wait_for_testid("stats-instance-app-2", WAIT)
        .await?;
    let gone = eval(
        &browser,
        "return document.querySelector('[data-testid=stats-instance-app-3]') === null;",
    )
    .await?;
    assert_eq!(gone, true);
    browser.assert_clean(&[]).await?;
    browser.close().await
}

/// The load tester's cells of one instance's row.
async fn instance_row(browser: &Browser, name: &str) -> anyhow::Result<Value> {
    eval(
        browser,
        &format!(
            "const r = document.querySelector('[data-testid=\"lt-instance-{name}\"]');
             if (!r) return null;
             const v = m => Number(r.querySelector(`[data-metric=${{m}}]`).dataset.value || 'NaN');
             return {{ completed: v('completed'), failed: v('failed'), ttft: v('ttft-p50'), e2e: v('e2e-p50') }};"
        ),
    )
    .await
}

#[tokio::test]
async fn an_instance_killed_mid_run_fails_its_own_requests_and_comes_back() -> anyhow::Result<()> {
    // Streams of about a second, never from the cache (one prompt for all):
    // some are in flight on app-2 when it dies.
    let slow: Vec<(String, String)> = [
        ("ENABLE_CACHING", "false"),
        ("FAKE_TTFT_MIN_MS", "50"),
        ("FAKE_TTFT_MAX_MS", "100"),
        ("FAKE_GAP_MIN_MS", "40"),
        ("FAKE_GAP_MAX_MS", "60"),
        ("FAKE_ANSWER_MIN_CHARS", "60"),
        ("FAKE_ANSWER_MAX_CHARS", "80"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let mut cluster = LocalCluster::start(3, &slow, FAST_POLLS, true)?;
    let mut browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/", cluster.dashboard.url()))
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-value", "3", WAIT)
        .await?;
    start_load_test(&browser, 6, 36).await?;
    browser
        .wait_until(
            "Number((document.querySelector('[data-testid=lt-completed]') || {}).dataset?.value || 0) >= 6",
            WAIT,
            "the run never got going",
        )
        .await?;
    cluster.cluster.instances[1].kill();
    browser
        .wait_for_attr(
            "lt-state",
            "data-state",
            "finished",
            Duration::from_secs(120),
        )
        .await?;
    let app2 = instance_row(&browser, "app-2").await?;
    assert!(
        app2["failed"].as_f64() > Some(0.0),
        "app-2's in-flight requests fail: {app2}"
    );
    for name in ["app-1", "app-3"] {
        let row = instance_row(&browser, name).await?;
        assert!(
            row["completed"].as_f64() > Some(0.0),
            "{name} goes on: {row}"
        );
        assert_eq!(row["failed"].as_f64(), Some(0.0), "{name}: {row}");
        assert!(row["e2e"].as_f64() > Some(0.0), "{name}: {row}");
    }
    browser
        .wait_for_attr("status-indicator", "data-value", "2", WAIT)
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "degraded", WAIT)
        .await?;
    browser
        .wait_for_attr("instance-app-2", "data-state", "disconnected", WAIT)
        .await?;
    let status = browser.text_of("status-indicator").await?;
    assert!(status.contains("2 of 3 healthy"), "{status}");
    browser.screenshot("cluster-one-instance-down").await?;
    // Each instance's records are asked of it directly: every request that
    // completed on the two that lived is joined, each on its own clock.
    let survivors = ["app-1", "app-3"];
    let mut lived = 0.0;
    for name in survivors {
        lived += instance_row(&browser, name).await?["completed"]
            .as_f64()
            .unwrap_or(0.0);
    }
    browser
        .wait_until(
            &format!(
                "Number((document.querySelector('[data-testid=lt-server-side]') || {{}}).dataset?.value || 0) >= {lived}"
            ),
            WAIT,
            "the survivors' requests were not all joined",
        )
        .await?;
    let clocks = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid=lt-clock-offset] [data-instance]')].map(p => p.dataset.instance);",
    )
    .await?;
    for name in survivors {
        assert!(
            clocks
                .as_array()
                .is_some_and(|c| c.iter().any(|x| x == name)),
            "{name}'s clock in {clocks}"
        );
    }
    cluster.cluster.instances[1].restart()?;
    browser
        .wait_for_attr("status-indicator", "data-value", "3", WAIT)
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // app-2's polls failed while it was down (expected); nothing else did.
    browser
        .assert_clean(&["/instances/app-2/", "/api/v1/stream"])
        .await?;
    browser.close().await
}

#[tokio::test]
async fn without_instances_the_load_tester_says_a_balancer_hides_several() -> anyhow::Result<()> {
    let cluster = LocalCluster::start(3, &fast_fake_env(), FAST_POLLS, false)?;
    let mut browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/", cluster.dashboard.url()))
        .await?;
    browser
        .wait_for_attr("status-indicator", "data-state", "connected", WAIT)
        .await?;
    // The load tester sees each answer's instance: three ids behind one address.
    run_load_test(&browser, 3, 9).await?;
    let note = browser.text_of("lt-instances-note").await?;
    assert!(note.contains("3 different instances"), "{note}");
    let mut completed = 0.0;
    for name in NAMES {
        let row = instance_row(&browser, name).await?;
        completed += row["completed"].as_f64().unwrap_or(0.0);
    }
    assert_eq!(completed, 9.0, "every request attributed to its instance");
    // One service as before: the single-instance panels.
    assert_eq!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=instance-app-1]') === null;"
        )
        .await?,
        true
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}
