//! The Prometheus server as a source, with a real server: Debian's Prometheus
//! started by the test, scraping three reference backends every second with
//! the project's alert rules (held 2 s) and recording rules; the dashboard in
//! cluster mode behind its nginx, which proxies /prometheus/. After known
//! traffic the panel's per-stage counts and percentiles (of the recorded
//! series, and of the raw ones at a server without the recording rules)
//! equal the server's own answers to the queries the cells carry, each
//! instance's table too once shown; an instance killed is `up == 0` and, once it
//! fires, InstanceDown degrades the status; a load run's window is on the
//! time axis and its server-side p95 is in the results.

use std::time::Duration;

use browser_tests::{eval, fast_fake_env, open_load_tester, send_streams, Browser, LocalCluster};
use dashboard_ops::prometheus::Timing;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
const FAST_POLLS: &str = r#"{"health_poll_ms": 1000, "stats_poll_ms": 1000}"#;

fn timing() -> Timing {
    Timing {
        scrape: Duration::from_secs(1),
        alert_for: Duration::from_secs(2),
    }
}

/// The server's own answer to `query` at `time` (its one value, or the value of `stage`).
async fn server_value(
    origin: &str,
    query: &str,
    time: &str,
    stage: Option<&str>,
) -> anyhow::Result<Option<f64>> {
    let labels: Vec<(&str, &str)> = stage.map(|id| ("stage", id)).into_iter().collect();
    server_value_of(origin, query, time, &labels).await
}

/// The server's own answer to `query` at `time`: the value of the series
/// with every one of `labels` (the first series when none is given).
async fn server_value_of(
    origin: &str,
    query: &str,
    time: &str,
    labels: &[(&str, &str)],
) -> anyhow::Result<Option<f64>> {
    let answer: Value = reqwest::Client::new()
        .get(format!("{origin}/api/v1/query"))
        .query(&[("query", query), ("time", time)])
        .send()
        .await?
        .json()
        .await?;
    anyhow::ensure!(answer["status"] == "success", "{answer}");
    let result = answer["data"]["result"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let sample = result.iter().find(|s| {
        labels
            .iter()
            .all(|(name, value)| s["metric"][name] == *value)
    });
    Ok(sample
        .and_then(|s| s["value"][1].as_str())
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite()))
}

/// Waits until the server's latest answer to `query` is `expected`.
async fn wait_for_server(origin: &str, query: &str, expected: f64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut last = String::new();
    while started.elapsed() < WAIT {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?;
        // Until the server is ready, what it answers is no JSON: ask again.
        match server_value(origin, query, &format!("{:.3}", now.as_secs_f64()), None).await {
            Ok(Some(value)) if value == expected => return Ok(()),
            Ok(value) => last = format!("{value:?}"),
            Err(error) => last = error.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    anyhow::bail!("the server's {query} stayed {last}, not {expected}")
}

/// The first load run's window on the server's time axis, once there is one:
/// (start ms, end ms, its text).
async fn first_run_window(browser: &Browser) -> anyhow::Result<(f64, f64, String)> {
    browser.wait_for_testid("stats-run-window", WAIT).await?;
    let window = eval(
        browser,
        "const w = document.querySelector('[data-testid=stats-run-window]');
         return [Number(w.dataset.startMs), Number(w.dataset.endMs), w.textContent];",
    )
    .await?;
    Ok(serde_json::from_value(window)?)
}

/// Compares the shown reading with the server ([`compare_with_server`]); a
/// scrape stored just after the page asked can move an answer, so on a
/// difference the next reading is compared, `tries` at most. The rows of
/// the reading that agreed.
async fn agrees_with_server(
    browser: &Browser,
    server: &str,
    tries: usize,
) -> anyhow::Result<Table> {
    let mut attempts = Vec::new();
    for _ in 0..tries {
        let (time, rows) = reading(browser).await?;
        let (compared, differ) = compare_with_server(server, &time, &rows).await?;
        assert!(compared >= 23, "{compared} cells compared: {rows:?}");
        if differ.is_empty() {
            println!("{compared} cells equal the server's answers at {time}");
            return Ok(rows);
        }
        attempts.push((time.clone(), differ));
        browser
            .wait_until(
                &format!("document.querySelector('[data-testid=stats-server-status]')?.dataset.time !== {time:?}"),
                WAIT,
                "no next reading",
            )
            .await?;
    }
    anyhow::bail!("the page and the server differ: {attempts:?}")
}

type Table = Vec<(String, Vec<(String, String, String)>)>;

/// The strip's figures, as a row of their own (no stage).
const STRIP: &str = "*";

/// The instant every query of the shown reading was evaluated at, and the
/// main table: (stage id, cells: (metric, data-value, data-query)), then the
/// strip as the row [`STRIP`].
async fn reading(browser: &Browser) -> anyhow::Result<(String, Table)> {
    let read = eval(
        browser,
        "return [document.querySelector('[data-testid=stats-server-status]')?.dataset.time ?? '',
            [...[...document.querySelectorAll('[data-testid=stats-server] [data-testid=stats-table] tr[data-testid^=stage-]')]
            .map(r => [r.dataset.testid.slice(6), [...r.querySelectorAll('td')]
                .map(td => [td.dataset.metric, td.dataset.value ?? '', td.dataset.query ?? ''])]),
             ['*', [...document.querySelectorAll('[data-testid=server-strip] dd[data-query]')]
                .map(dd => [dd.dataset.testid, dd.dataset.value ?? '', dd.dataset.query])]]];",
    )
    .await?;
    Ok(serde_json::from_value(read)?)
}

/// Every cell of the table that carries a query, against the server's own
/// answer to it at the reading's instant: (cells compared, disagreements).
async fn compare_with_server(
    server: &str,
    time: &str,
    rows: &Table,
) -> anyhow::Result<(usize, Vec<String>)> {
    let mut compared = 0;
    let mut differ = Vec::new();
    for (stage, cells) in rows {
        for (metric, value, query) in cells {
            if query.is_empty() {
                continue;
            }
            let strip = stage == STRIP;
            let theirs =
                server_value(server, query, time, (!strip).then_some(stage.as_str())).await?;
            let ours: Option<f64> = value.parse().ok();
            let same = match (metric.as_str(), ours, theirs) {
                ("count", ours, theirs) => ours == theirs.map(|v| v.round()),
                // The strip's figures as the server answers them.
                (_, Some(ours), Some(theirs)) if strip => {
                    (ours - theirs).abs() <= 1e-9 * ours.abs().max(1.0)
                }
                // Seconds there, ms here.
                (_, Some(ours), Some(theirs)) => {
                    (ours - theirs * 1000.0).abs() <= 1e-6 * ours.abs().max(1.0)
                }
                (_, ours, theirs) => ours.is_none() && theirs.is_none(),
            };
            if !same {
                differ.push(format!(
                    "stage {stage} {metric}: page {ours:?}, server {theirs:?} ({query})"
                ));
            }
            compared += 1;
        }
    }
    Ok((compared, differ))
}

#[tokio::test]
async fn the_panel_shows_what_the_server_answers_its_alerts_and_the_run_windows(
) -> anyhow::Result<()> {
    let mut cluster =
        LocalCluster::start_with_prometheus(3, &fast_fake_env(), FAST_POLLS, timing())?;
    let server = cluster
        .prometheus
        .as_ref()
        .map(|p| p.origin())
        .ok_or_else(|| anyhow::anyhow!("no Prometheus server"))?;
    // An instance exports a stage's series from its first request on, and
    // increase() cannot count the sample that makes a series appear: once the
    // server scrapes every instance, one request to each, until the server
    // has stored them; then the known traffic through the balancer, until
    // the server has stored it too.
    wait_for_server(&server, "count(up == 1)", 3.0).await?;
    for i in 0..3 {
        send_streams(&cluster.direct(i, "stream"), "warm-up", i * 10, 1).await?;
    }
    wait_for_server(&server, "count(sse_requests_total)", 3.0).await?;
    send_streams(&cluster.balanced("stream"), "prometheus server", 100, 12).await?;
    wait_for_server(&server, "sum(sse_requests_total)", 15.0).await?;
    // increase() extends the rise it sees (4 per instance, between the
    // warm-up's sample and the latest) to the window's edges: by at most
    // 1.6 scrape intervals, so after 8 s of samples by at most a fifth.
    tokio::time::sleep(Duration::from_secs(8)).await;

    let mut browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/", cluster.dashboard.url()))
        .await?;
    // In cluster mode a named server is the default source.
    browser
        .wait_for_attr("metrics-chart", "data-source", "prometheus-server", WAIT)
        .await?;
    // The 12 are counted (increase() extrapolates, so the count can read a
    // little more).
    browser
        .wait_until(
            "Number(document.querySelector('[data-testid=stats-server] [data-testid=stage-1] [data-metric=count]')?.dataset.value ?? 0) >= 12",
            WAIT,
            "the server's count of validations never reached 12",
        )
        .await?;
    // Every cell with a query, the strip's three figures among them, equals
    // the server's own answer to it at the reading's instant.
    let rows = agrees_with_server(&browser, &server, 3).await?;
    assert!(rows.len() >= 5, "{rows:?}");
    let strip = rows.iter().find(|(stage, _)| stage == STRIP);
    assert_eq!(strip.map_or(0, |(_, cells)| cells.len()), 3, "{rows:?}");
    let count: f64 = rows
        .iter()
        .filter(|(stage, _)| stage == "1")
        .flat_map(|(_, cells)| cells.iter())
        .find(|(metric, _, _)| metric == "count")
        .and_then(|(_, value, _)| value.parse().ok())
        .unwrap_or(0.0);
    println!("validations counted by the server: {count} (12 sent)");
    assert!(
        (12.0..=18.0).contains(&count),
        "validations counted: {count}"
    );
    let estimate = eval(
        &browser,
        "return document.querySelector('[data-testid=stats-server] [data-testid=stage-1] [data-metric=p95]').dataset.estimate;",
    )
    .await?;
    assert_eq!(estimate, "histogram");
    // The strip's request rate says the traffic (rate() over the window).
    let rate = browser.attr_of("server-request-rate", "data-value").await?;
    assert!(rate.parse::<f64>().unwrap_or(0.0) > 0.0, "{rate}");
    // The hour's p95 says its query.
    let caption = eval(
        &browser,
        "return document.querySelector('[data-testid=stats-server-p95-chart]').closest('figure').querySelector('figcaption').textContent;",
    )
    .await?;
    let caption = caption.as_str().unwrap_or_default();
    assert!(
        caption.contains("PromQL: histogram_quantile(0.95, sum by (stage, le) (job_stage:sse_stage_duration_seconds_bucket:rate1m"),
        "{caption}"
    );
    // The server has the project's recording rules: the whole service's
    // figures read the recorded series, in one query.
    assert_eq!(
        browser
            .attr_of("stats-server-status", "data-recorded")
            .await?,
        "true"
    );
    let sent = browser.attr_of("stats-server-status", "data-query").await?;
    assert!(
        sent.starts_with("label_replace(histogram_quantile(0.5, sum by (stage, le) (job_stage:sse_stage_duration_seconds_bucket:rate5m)), \"dashboard_part\", \"0\""),
        "{sent}"
    );
    // The hour's series is asked whole once, then a step at a time inside
    // the reading's one query (the `@` modifier).
    browser
        .wait_for_attr("stats-server-status", "data-range", "point", WAIT)
        .await?;
    let sent = browser.attr_of("stats-server-status", "data-query").await?;
    assert!(
        sent.contains("job_stage:sse_stage_duration_seconds_bucket:rate1m @ "),
        "{sent}"
    );
    // Each instance's figures, asked when shown, are the server's answers too.
    assert_eq!(
        eval(
            &browser,
            "return document.querySelector('[data-testid=stats-instance-table]') === null;"
        )
        .await?,
        Value::Bool(true),
        "instance tables asked before they were shown"
    );
    browser.click("stats-server-by-instance").await?;
    const APP_1_COUNT: &str = "document.querySelector('[data-testid=stats-instance-app-1] [data-testid=stats-instance-table] [data-testid=stage-1] [data-metric=count]')";
    browser
        .wait_until(
            &format!("Number({APP_1_COUNT}?.dataset.value ?? 0) >= 1"),
            WAIT,
            "app-1's own table never came",
        )
        .await?;
    let (time, query, value) = serde_json::from_value::<(String, String, String)>(
        eval(
            &browser,
            &format!("const c = {APP_1_COUNT}; return [document.querySelector('[data-testid=stats-server-status]').dataset.time, c.dataset.query, c.dataset.value];"),
        )
        .await?,
    )?;
    assert!(query.contains("by (instance, stage)"), "{query}");
    let theirs = server_value_of(
        &server,
        &query,
        &time,
        &[("stage", "1"), ("instance", "app-1")],
    )
    .await?;
    assert_eq!(
        value.parse::<f64>().ok(),
        theirs.map(f64::round),
        "{query} at {time}"
    );
    // Another window: every query follows it, and the cells still equal the server's.
    browser_tests::select_option(&browser, "stats-window", "1m").await?;
    browser
        .wait_until(
            "document.querySelector('[data-testid=stats-server] [data-testid=stage-1] [data-metric=p95]')?.dataset.query.includes('rate1m')",
            WAIT,
            "the window did not change the queries",
        )
        .await?;
    let rows = agrees_with_server(&browser, &server, 3).await?;
    let queries = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|(_, _, q)| q.clone()))
        .filter(|q| !q.is_empty() && !q.starts_with("sum(sse_active_connections"))
        .collect::<Vec<_>>();
    assert!(queries.len() >= 20, "{queries:?}");
    assert!(
        queries
            .iter()
            .all(|q| q.contains("[1m]") || q.contains(":rate1m") || q.contains(":increase1m")),
        "{queries:?}"
    );
    assert_eq!(
        eval(&browser, "return document.querySelector('[data-testid=server-up]') === null && document.querySelector('[data-testid=server-request-rate]') !== null;").await?,
        Value::Bool(true)
    );
    // The alerts list is there (maybe empty, maybe NoRequests pending).
    browser.wait_for_testid("alerts", WAIT).await?;

    // An instance killed: up == 0, InstanceDown fires, the status says why.
    cluster.cluster.instances[2].kill();
    browser
        .wait_for_attr("stats-instance-app-3", "data-up", "0", WAIT)
        .await?;
    browser
        .wait_for_attr("alert-InstanceDown", "data-state", "firing", WAIT)
        .await?;
    assert_eq!(
        browser
            .attr_of("alert-InstanceDown", "data-severity")
            .await?,
        "critical"
    );
    assert_eq!(
        browser
            .attr_of("alert-InstanceDown", "data-instance")
            .await?,
        "app-3"
    );
    browser
        .wait_for_attr("status-indicator", "data-state", "degraded", WAIT)
        .await?;
    let why = browser.attr_of("status-indicator", "title").await?;
    assert!(why.contains("InstanceDown (app-3)"), "{why}");
    // On hover: the alert, since when, and the rule's summary.
    let hover = browser.attr_of("alert-InstanceDown", "title").await?;
    assert!(
        hover.contains(" since ")
            && hover.contains("Instance app-3 is down: Prometheus cannot scrape it"),
        "{hover}"
    );
    browser
        .screenshot_of("metrics-chart", "prometheus-server")
        .await?;

    // A load run: its window is on the time axis, its server-side p95 in the results.
    open_load_tester(&browser, WAIT).await?;
    browser.fill("lt-concurrency", "2").await?;
    browser.fill("lt-total", "6").await?;
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await?;
    let (start, end, _) = first_run_window(&browser).await?;
    assert!(start > 1.7e12 && end > start, "{start} – {end}");
    browser
        .wait_until(
            "document.querySelector('[data-testid^=lt-server-p95-]') !== null",
            WAIT,
            "the run's server-side p95 never came",
        )
        .await?;
    let query = browser.attr_of("lt-server-p95", "data-query").await?;
    assert!(query.starts_with("histogram_quantile(0.95, sum by (stage, le) (increase(sse_stage_duration_seconds_bucket["), "{query}");
    // Each stage's figure is the server's answer at the window's end.
    let end_ms: f64 = browser
        .attr_of("lt-server-p95", "data-end-ms")
        .await?
        .parse()?;
    let rows = eval(
        &browser,
        "return [...document.querySelectorAll('[data-testid^=lt-server-p95-]')]
            .map(r => [r.dataset.testid.slice(14), r.querySelector('td').dataset.value]);",
    )
    .await?;
    let rows: Vec<(String, String)> = serde_json::from_value(rows)?;
    assert!(rows.len() >= 6, "{rows:?}");
    let at = format!("{:.3}", end_ms / 1000.0);
    for (stage, value) in &rows {
        let theirs = server_value(&server, &query, &at, Some(stage)).await?;
        let ours: Option<f64> = value.parse().ok();
        match (ours, theirs) {
            (Some(ours), Some(theirs)) => assert!(
                (ours - theirs * 1000.0).abs() <= 1e-6 * ours.abs().max(1.0),
                "stage {stage}: page {ours}, server {theirs}"
            ),
            (ours, theirs) => assert_eq!(ours, theirs, "stage {stage}"),
        }
    }
    assert!(
        rows.iter().any(|(_, v)| !v.is_empty()),
        "the run's window holds no p95: {rows:?}"
    );
    browser
        .assert_clean(&["instances/app-3", "/api/v1/health"])
        .await?;
    browser.close().await
}

#[tokio::test]
async fn a_server_that_is_down_slow_wrong_or_empty_is_said_and_the_rest_works() -> anyhow::Result<()>
{
    use browser_tests::{FixedAnswer, HostileService, InProcessBackend};
    let backend = InProcessBackend::start().await?;
    let json = |body: &str| FixedAnswer::json(body.as_bytes().to_vec());
    // Each kind of wrong server, behind the dashboard's /prometheus/.
    let cases: Vec<(&str, Option<HostileService>, &str)> = vec![
        ("down", None, "HTTP 502"),
        (
            "an error",
            Some(
                HostileService::start(vec![(
                    "/api/v1/query",
                    json(r#"{"status":"error","errorType":"bad_data","error":"parse error"}"#),
                )])
                .await?,
            ),
            "Prometheus refused the query (bad_data): parse error",
        ),
        (
            "no series",
            Some(
                HostileService::start(vec![
                    (
                        "/api/v1/query",
                        json(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#),
                    ),
                    (
                        "/api/v1/query_range",
                        json(r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#),
                    ),
                ])
                .await?,
            ),
            "",
        ),
        (
            "not Prometheus",
            Some(
                HostileService::start(vec![(
                    "/api/v1/query",
                    FixedAnswer {
                        status: 200,
                        content_type: "text/html",
                        body: b"<html><title>Grafana</title></html>".to_vec(),
                    },
                )])
                .await?,
            ),
            "not a Prometheus server's",
        ),
    ];
    // A server that takes connections and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0")?;
    let hung_origin = format!("http://{}", hung.local_addr()?);
    let huge = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
        vec![r#"{"metric":{"stage":"1"},"value":[1,"1"]}"#; 120_000].join(",")
    );
    let cases: Vec<(&str, Option<HostileService>, &str)> = cases
        .into_iter()
        .chain([
            ("slow", None, "did not answer within 8 s"),
            (
                "huge",
                Some(HostileService::start(vec![("/api/v1/query", json(&huge))]).await?),
                "more than a Prometheus answer",
            ),
        ])
        .collect();
    for (what, service, said) in cases {
        let origin = match (&service, what) {
            (Some(s), _) => s.origin(),
            (None, "slow") => hung_origin.clone(),
            (None, _) => browser_tests::unreachable_origin()?,
        };
        let config = r#"{"stats_poll_ms": 1000}"#;
        let (nginx, _dist) =
            browser_tests::start_dashboard_with_prometheus(&backend.origin(), config, &origin)?;
        let mut browser = Browser::launch().await?;
        browser.goto(&format!("{}/", nginx.url())).await?;
        browser_tests::pick_stats_source(&browser, "prometheus-server").await?;
        browser.wait_for_testid("stats-server", WAIT).await?;
        if said.is_empty() {
            // No series: no rows, no error, never a 0.
            tokio::time::sleep(Duration::from_secs(3)).await;
            assert_eq!(browser.text_of("stats-server-problem").await?, "", "{what}");
            let (_, rows) = reading(&browser).await?;
            let (strip, stages): (Table, Table) =
                rows.into_iter().partition(|(stage, _)| stage == STRIP);
            assert_eq!(stages.len(), 0, "{what}: {stages:?}");
            // The strip's figures are absent, never 0.
            let values: Vec<&str> = strip
                .iter()
                .flat_map(|(_, cells)| cells.iter().map(|(_, value, _)| value.as_str()))
                .collect();
            assert_eq!(values, ["", "", ""], "{what}");
        } else {
            browser
                .wait_until(
                    &format!("(document.querySelector('[data-testid=stats-server-problem]')?.textContent ?? '').includes({said:?})"),
                    WAIT,
                    &format!("{what}: not said"),
                )
                .await?;
        }
        // The other sources still work.
        browser_tests::pick_stats_source(&browser, "execution-stats").await?;
        browser.wait_for_testid("stage-1", WAIT).await?;
        assert_eq!(browser.page_panic().await?, None, "{what}");
        browser
            .assert_clean(&["/prometheus/", "/api/v1/alerts"])
            .await?;
        browser.close().await?;
    }
    Ok(())
}

/// A server before Prometheus 2.33 (its `@` modifier off): in front of
/// `upstream`, it refuses a query with `@` as such a server does, and
/// passes the rest on. The queries it refused are counted.
struct WithoutAtModifier {
    origin: String,
    refused: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl WithoutAtModifier {
    async fn start(upstream: &str) -> anyhow::Result<Self> {
        use std::sync::atomic::Ordering;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let origin = format!("http://{}", listener.local_addr()?);
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let refused = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let count = std::sync::Arc::clone(&refused);
        let task = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let count = std::sync::Arc::clone(&count);
                tokio::spawn(async move {
                    // A GET's head (no body), one request per connection.
                    let mut head = Vec::new();
                    let mut buffer = [0_u8; 8192];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                        match client.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let head = String::from_utf8_lossy(&head).to_string();
                    let target = head.split_whitespace().nth(1).unwrap_or("/");
                    if target.contains("%40") || target.contains('@') {
                        count.fetch_add(1, Ordering::SeqCst);
                        let body = r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:1: parse error: @ modifier is disabled"}"#;
                        let answer = format!(
                            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        );
                        let _ = client.write_all(answer.as_bytes()).await;
                        return;
                    }
                    let Ok(mut server) = tokio::net::TcpStream::connect(&upstream).await else {
                        return;
                    };
                    let head: String = head
                        .split("\r\n")
                        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
                        .collect::<Vec<_>>()
                        .join("\r\n")
                        .replacen("\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1);
                    if server.write_all(head.as_bytes()).await.is_ok() {
                        let mut answer = Vec::new();
                        let _ = server.read_to_end(&mut answer).await;
                        let _ = client.write_all(&answer).await;
                    }
                });
            }
        });
        Ok(Self {
            origin,
            refused,
            task,
        })
    }

    fn refused(&self) -> usize {
        self.refused.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for WithoutAtModifier {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[tokio::test]
async fn the_settings_name_the_server_and_an_imported_report_is_on_its_time_axis(
) -> anyhow::Result<()> {
    use browser_tests::{
        localhost, project_root, sse_load_binary, start_dashboard_with_prometheus, InProcessBackend,
    };
    use dashboard_ops::process::free_local_port;
    use dashboard_ops::prometheus::{PrometheusServer, Rules};
    let backend = InProcessBackend::start_with(sse_backend::settings::Settings {
        fake: browser_tests::fast_fake(),
        ..Default::default()
    })
    .await?;
    let target = backend.origin().trim_start_matches("http://").to_owned();
    // A server set up without the dashboard's recording rules.
    let prometheus = PrometheusServer::start_with_rules(
        &project_root()?,
        localhost(free_local_port()?),
        &[("app-1".to_owned(), target)],
        timing(),
        Rules::AlertsOnly,
    )?;
    let server = prometheus.origin();
    // A warm-up request (the series appear), then a run of sse-load, each
    // stored by the server.
    wait_for_server(&server, "count(up == 1)", 1.0).await?;
    send_streams(&backend.api("stream"), "warm-up", 0, 1).await?;
    wait_for_server(&server, "count(sse_requests_total)", 1.0).await?;
    let dir = tempfile::tempdir()?;
    let report_path = dir.path().join("ci-run.json");
    let run = tokio::process::Command::new(sse_load_binary()?)
        .args(["run", "--url", &backend.api(""), "--quiet"])
        .args(["--concurrency", "2", "--total", "6", "--report"])
        .arg(&report_path)
        .stdin(std::process::Stdio::null())
        .output()
        .await?;
    assert!(run.status.success(), "{run:?}");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report_path)?)?;
    let started_at_ms = report["summary"]["started_at_ms"]
        .as_f64()
        .ok_or_else(|| anyhow::anyhow!("no start in {report}"))?;
    wait_for_server(&server, "sum(sse_requests_total)", 7.0).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;

    // config.json names the server (the proxy's /prometheus), one that
    // refuses the `@` modifier; the person clears it in the Settings: the
    // source and the alerts go.
    let old_server = WithoutAtModifier::start(&server).await?;
    let (nginx, _dist) = start_dashboard_with_prometheus(
        &backend.origin(),
        r#"{"stats_poll_ms": 1000, "health_poll_ms": 1000}"#,
        &old_server.origin,
    )?;
    let mut browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    browser.wait_for_testid("alerts", WAIT).await?;
    const SERVER_OPTION: &str =
        "document.querySelector('[data-testid=stats-source] option[value=prometheus-server]')";
    browser
        .wait_until(
            &format!("{SERVER_OPTION} !== null"),
            WAIT,
            "no server source",
        )
        .await?;
    eval(
        &browser,
        "document.querySelector('[data-testid=settings]').open = true; return null;",
    )
    .await?;
    // Emptied as a person does it (WebDriver's clear() fires no input event).
    eval(
        &browser,
        "const field = document.querySelector('[data-testid=settings-prometheus]');
         field.value = ''; field.dispatchEvent(new Event('input', { bubbles: true })); return null;",
    )
    .await?;
    browser.click("settings-save").await?;
    browser
        .wait_until(
            &format!("{SERVER_OPTION} === null && document.querySelector('[data-testid=alerts]') === null"),
            WAIT,
            "the server cleared in the Settings is still read",
        )
        .await?;
    // Named again, with its job: every query selects the job, and the
    // panel's cells equal the server's answers.
    browser.fill("settings-prometheus", "/prometheus").await?;
    browser.fill("settings-prometheus-job", "sse-app").await?;
    browser.click("settings-save").await?;
    browser.wait_for_testid("alerts", WAIT).await?;
    browser
        .wait_until(
            &format!("{SERVER_OPTION} !== null"),
            WAIT,
            "no server source",
        )
        .await?;
    browser_tests::pick_stats_source(&browser, "prometheus-server").await?;
    browser
        .wait_until(
            "Number(document.querySelector('[data-testid=stats-server] [data-testid=stage-1] [data-metric=count]')?.dataset.value ?? 0) >= 6",
            WAIT,
            "the server's count of the run never reached 6",
        )
        .await?;
    let rows = agrees_with_server(&browser, &server, 3).await?;
    // It has no recording rules: the figures are asked of the raw series.
    assert_eq!(
        browser
            .attr_of("stats-server-status", "data-recorded")
            .await?,
        "false"
    );
    let queries: Vec<&str> = rows
        .iter()
        .flat_map(|(_, cells)| cells.iter().map(|(_, _, q)| q.as_str()))
        .filter(|q| !q.is_empty())
        .collect();
    assert!(
        queries.iter().all(|q| q.contains(r#"{job="sse-app""#)),
        "{queries:?}"
    );
    assert!(
        queries
            .iter()
            .any(|q| q.contains("rate(sse_stage_duration_seconds_bucket{job=\"sse-app\"}[5m])")),
        "{queries:?}"
    );

    // The sse-load report imported: its run's window is on the server's time axis.
    open_load_tester(&browser, WAIT).await?;
    eval(
        &browser,
        "document.querySelector('[data-testid=lt-history]').open = true; return null;",
    )
    .await?;
    let input = browser.wait_for_testid("lt-import", WAIT).await?;
    input
        .send_keys(report_path.to_str().unwrap_or_default())
        .await?;
    browser
        .wait_for_attr("lt-history-1", "data-origin", "sse-load", WAIT)
        .await?;
    let (start, end, label) = first_run_window(&browser).await?;
    assert_eq!(start, started_at_ms, "{label}");
    assert!(end > started_at_ms, "{label}");
    assert!(label.starts_with("sse-load report ci-run.json"), "{label}");

    // Its first new 30 s step: the reading with the hour's point is
    // refused once, asked again without it, and the hour asked whole from
    // then on; the figures never go.
    let started = std::time::Instant::now();
    while old_server.refused() == 0 && started.elapsed() < WAIT {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    assert_eq!(old_server.refused(), 1, "no reading with @ was refused");
    browser
        .wait_for_attr("stats-server-status", "data-range", "whole", WAIT)
        .await?;
    let sent = browser.attr_of("stats-server-status", "data-query").await?;
    assert!(!sent.contains(" @ "), "{sent}");
    assert_eq!(browser.text_of("stats-server-problem").await?, "");
    agrees_with_server(&browser, &server, 3).await?;
    assert_eq!(old_server.refused(), 1, "@ asked again after its refusal");
    // The refused reading is a failed load in the console, nothing more.
    browser.assert_clean(&["/prometheus/api/v1/query"]).await?;
    browser.close().await
}
