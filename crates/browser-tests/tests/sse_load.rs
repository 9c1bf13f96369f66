//! `sse-load`, the headless runner, run as a program against real things: the
//! reference backend over real sockets (closed, constant, Poisson; SLOs that
//! pass and fail; a sweep; a backend killed mid-run; Ctrl-C), the dashboard's
//! nginx over TLS + HTTP/2 and over HTTP/1.1, the three-instance cluster, and
//! its report imported into the dashboard in headless Chromium.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::process::Command;

use browser_tests::{
    eval, fast_fake_env, open_dashboard, open_load_tester, sse_load_binary, start_dashboard,
    start_dashboard_tls, unreachable_origin, InProcessBackend, LocalCluster, ProcessBackend,
};
use serde_json::Value;
use sse_backend::settings::{FakeLlmSettings, Settings};
use sse_core::load::model::{Arrivals, LoadModel};

const WAIT: Duration = Duration::from_secs(30);

/// Streams of ~10 chunks, a few ms apart.
fn fast() -> FakeLlmSettings {
    browser_tests::fast_fake()
}

async fn backend() -> anyhow::Result<InProcessBackend> {
    InProcessBackend::start_with(Settings {
        fake: fast(),
        enable_caching: false,
        ..Settings::default()
    })
    .await
}

/// `sse-load run --url URL ARGS…`, its exit code, stdout and stderr (awaited:
/// the in-process backend shares this test's runtime).
async fn sse_load(url: &str, args: &[&str]) -> anyhow::Result<Output> {
    let output = Command::new(sse_load_binary()?)
        .args(["run", "--url", url, "--quiet"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await?;
    println!(
        "sse-load {args:?}: {:?}\n{}{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok(output)
}

fn code(output: &Output) -> Option<i32> {
    output.status.code()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn report(path: &Path) -> anyhow::Result<Value> {
    Ok(serde_json::from_str(&std::fs::read_to_string(path)?)?)
}

fn temp_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

/// The backend's own count of the streams it served (`/admin/load-stats`).
async fn served(backend: &InProcessBackend) -> anyhow::Result<u64> {
    let stats: Value = reqwest::get(backend.api("admin/load-stats"))
        .await?
        .json()
        .await?;
    Ok(stats["requests_total"].as_u64().unwrap_or_default())
}

#[tokio::test]
async fn a_closed_loop_run_writes_the_dashboards_report_and_counts_what_the_backend_served(
) -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let (json, csv) = (temp_file(&dir, "run.json"), temp_file(&dir, "run.csv"));
    let url = backend.api("");
    let before = served(&backend).await?;
    let out = sse_load(
        &url,
        &[
            "--concurrency",
            "4",
            "--total",
            "20",
            "--report",
            json.to_str().unwrap_or_default(),
            "--csv",
            csv.to_str().unwrap_or_default(),
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let report = report(&json)?;
    assert_eq!(report["format"], "sse-dashboard-load-test");
    assert_eq!(report["schema_version"], 2);
    let summary = &report["summary"];
    assert_eq!(summary["origin"], "sse-load");
    assert_eq!(summary["completed"], 20);
    assert_eq!(summary["ended_by"], "total");
    assert_eq!(report["requests"].as_array().map(Vec::len), Some(20));
    assert_eq!(
        served(&backend).await? - before,
        20,
        "the backend served every request"
    );
    assert!(summary["ttft"]["p50"].as_f64().is_some_and(|t| t > 0.0));
    let csv = std::fs::read_to_string(&csv)?;
    assert_eq!(
        csv.lines().filter(|l| l.contains(",completed,")).count(),
        20
    );
    let text = stdout(&out);
    for words in [
        "Closed loop, concurrency 4",
        "Sent its total of 20 requests",
        "TTFT",
        "SLO: none",
    ] {
        assert!(text.contains(words), "{words} in {text}");
    }
    Ok(())
}

#[tokio::test]
async fn open_loops_send_what_the_model_says_and_the_duration_ends_them() -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "open.json");
    let url = backend.api("");
    let path = json.to_str().unwrap_or_default();
    // Constant 20/s for 2 s: 40, although the closed loop's total is 50 (and 10 here).
    let before = served(&backend).await?;
    let out = sse_load(
        &url,
        &[
            "--mode",
            "constant",
            "--rate",
            "20",
            "--duration-s",
            "2",
            "--total",
            "10",
            "--report",
            path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let summary = &report(&json)?["summary"];
    assert_eq!(summary["completed"], 40);
    assert_eq!(summary["ended_by"], "duration");
    assert_eq!(served(&backend).await? - before, 40);
    assert!(
        summary["lateness"]["p99"]
            .as_f64()
            .is_some_and(|l| l < 50.0),
        "{summary}"
    );
    // Poisson, seeded: exactly the arrivals the core's model draws in 2 s.
    let expected = Arrivals::new(LoadModel::Poisson, 30.0, 11)
        .take_while(|at| *at < 2_000.0)
        .count();
    let out = sse_load(
        &url,
        &[
            "--mode",
            "poisson",
            "--rate",
            "30",
            "--seed",
            "11",
            "--duration-s",
            "2",
            "--report",
            path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    assert_eq!(report(&json)?["summary"]["requests"], expected);
    // A request cap ends it first, and says so.
    let out = sse_load(
        &url,
        &[
            "--mode",
            "constant",
            "--rate",
            "20",
            "--duration-s",
            "5",
            "--max-requests",
            "10",
            "--report",
            path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    assert_eq!(report(&json)?["summary"]["ended_by"], "cap");
    assert!(
        stdout(&out).contains("Stopped at the request cap of 10 after"),
        "{}",
        stdout(&out)
    );
    Ok(())
}

#[tokio::test]
async fn an_slo_that_holds_exits_0_one_that_fails_exits_99_with_junit() -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let junit = temp_file(&dir, "slo.xml");
    let url = backend.api("");
    let junit_path = junit.to_str().unwrap_or_default();
    let out = sse_load(
        &url,
        &[
            "--total",
            "10",
            "--slo-ttft-ms",
            "5000",
            "--junit",
            junit_path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let xml = std::fs::read_to_string(&junit)?;
    assert!(xml.contains("tests=\"2\" failures=\"0\""), "{xml}");
    assert!(stdout(&out).contains("SLO: pass"), "{}", stdout(&out));
    // A TTFT of 1 µs holds for nobody.
    let out = sse_load(
        &url,
        &[
            "--total",
            "10",
            "--slo-ttft-ms",
            "0.001",
            "--junit",
            junit_path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(99));
    let xml = std::fs::read_to_string(&junit)?;
    assert!(xml.contains("tests=\"2\" failures=\"2\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"0 % of 10 requests within it, 95 % needed\"/>"),
        "{xml}"
    );
    assert!(
        stdout(&out).contains("SLO: fail — p95 TTFT"),
        "{}",
        stdout(&out)
    );
    Ok(())
}

#[tokio::test]
async fn a_sweep_reports_its_steps_and_the_highest_load_meeting_the_slos() -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let (json, junit) = (temp_file(&dir, "sweep.json"), temp_file(&dir, "sweep.xml"));
    let out = sse_load(
        &backend.api(""),
        &[
            "--sweep-steps",
            "1,3",
            "--step-s",
            "2",
            "--warmup-s",
            "0",
            "--slo-e2e-ms",
            "10000",
            "--report",
            json.to_str().unwrap_or_default(),
            "--junit",
            junit.to_str().unwrap_or_default(),
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let summary = &report(&json)?["summary"];
    assert_eq!(summary["steps"].as_array().map(Vec::len), Some(2));
    assert_eq!(summary["max_sustainable"], 3.0);
    assert_eq!(summary["ended_by"], "last_step");
    let text = stdout(&out);
    assert!(
        text.contains("highest load meeting the SLOs: 3 concurrent"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit)?;
    assert!(xml.contains("name=\"step 2: 3 concurrent\""), "{xml}");
    Ok(())
}

#[tokio::test]
async fn a_backend_killed_mid_run_fails_its_requests_and_the_report_is_still_written(
) -> anyhow::Result<()> {
    let slow: Vec<(String, String)> = [
        ("FAKE_TTFT_MIN_MS", "10"),
        ("FAKE_TTFT_MAX_MS", "20"),
        ("FAKE_GAP_MIN_MS", "50"),
        ("FAKE_GAP_MAX_MS", "80"),
        ("FAKE_ANSWER_MIN_CHARS", "300"),
        ("FAKE_ANSWER_MAX_CHARS", "400"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec();
    let envs: Vec<(&str, &str)> = slow.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut backend = ProcessBackend::start(&envs)?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "killed.json");
    let url = format!("{}/api/v1", backend.origin());
    let runner = tokio::spawn({
        let json = json.clone();
        async move {
            sse_load(
                &url,
                &[
                    "--concurrency",
                    "5",
                    "--duration-s",
                    "6",
                    "--report",
                    json.to_str().unwrap_or_default(),
                ],
            )
            .await
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    backend.kill();
    let out = runner.await??;
    let summary = &report(&json)?["summary"];
    println!("{}", summary["failures"]);
    assert!(
        summary["failed"].as_u64().is_some_and(|f| f >= 5),
        "{summary}"
    );
    assert!(summary["failures"]
        .as_array()
        .is_some_and(|f| !f.is_empty()));
    // It reached the service before the kill: not "no run".
    assert_eq!(code(&out), Some(0));
    Ok(())
}

#[tokio::test]
async fn ctrl_c_aborts_every_stream_and_still_writes_the_report() -> anyhow::Result<()> {
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            gap_min_ms: 100,
            gap_max_ms: 150,
            answer_min_chars: 300,
            answer_max_chars: 400,
            ..fast()
        },
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "stopped.json");
    let child = Command::new(sse_load_binary()?)
        .args([
            "run",
            "--url",
            &backend.api(""),
            "--quiet",
            "--concurrency",
            "6",
            "--total",
            "1000",
        ])
        .args(["--report", json.to_str().unwrap_or_default()])
        .stdout(Stdio::piped())
        .spawn()?;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let pid = child
        .id()
        .ok_or_else(|| anyhow::anyhow!("the runner already ended"))?;
    // SAFETY: a signal to the child this test started.
    unsafe {
        libc::kill(pid as i32, libc::SIGINT);
    }
    let out = child.wait_with_output().await?;
    let summary = &report(&json)?["summary"];
    assert_eq!(summary["ended_by"], "stopped");
    assert_eq!(summary["aborted"], 6, "the six in flight: {summary}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("Stopped by hand"));
    assert_eq!(code(&out), Some(0));
    // The service saw the streams go: none is left open.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let stats: Value = reqwest::get(backend.api("admin/load-stats"))
            .await?
            .json()
            .await?;
        if stats["active_streams"] == 0 {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "streams left open: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}

#[tokio::test]
async fn bad_input_exits_2_naming_the_flag_and_no_service_exits_1() -> anyhow::Result<()> {
    let out = sse_load(
        "http://127.0.0.1:9/api/v1",
        &["--rate", "fast", "--mode", "constant", "--duration-s", "1"],
    )
    .await?;
    assert_eq!(code(&out), Some(2));
    let said = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(said.starts_with("sse-load: --rate: "), "{said}");
    assert_eq!(said.lines().count(), 1, "{said}");
    let out = sse_load("127.0.0.1:8000", &[]).await?;
    assert_eq!(code(&out), Some(2));
    let dir = tempfile::tempdir()?;
    let plan = temp_file(&dir, "plan.json");
    std::fs::write(&plan, r#"{"rat": "3"}"#)?;
    let out = sse_load(
        "http://127.0.0.1:9/api/v1",
        &["--plan", plan.to_str().unwrap_or_default()],
    )
    .await?;
    assert_eq!(code(&out), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no field \"rat\""));
    let out = sse_load(
        &format!("{}/api/v1", unreachable_origin()?),
        &["--total", "3"],
    )
    .await?;
    assert_eq!(code(&out), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("the run reached no service"));
    Ok(())
}

#[tokio::test]
async fn through_the_dashboards_nginx_over_http2_and_http1() -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "proxied.json");
    let path = json.to_str().unwrap_or_default();
    let tls = start_dashboard_tls(&backend.origin())?;
    let https = tls
        .tls_url()
        .ok_or_else(|| anyhow::anyhow!("no TLS listener"))?;
    let out = sse_load(
        &format!("{https}/api/v1"),
        &[
            "--insecure",
            "--concurrency",
            "20",
            "--total",
            "40",
            "--report",
            path,
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let summary = &report(&json)?["summary"];
    assert_eq!(summary["completed"], 40);
    assert_eq!(summary["by_protocol"]["h2"], 40, "{summary}");
    let plain = start_dashboard(&backend.origin())?;
    let out = sse_load(
        &format!("{}/api/v1", plain.url()),
        &["--concurrency", "20", "--total", "40", "--report", path],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    assert_eq!(report(&json)?["summary"]["by_protocol"]["http/1.1"], 40);
    // Without --insecure the self-signed certificate is refused: no run.
    let out = sse_load(&format!("{https}/api/v1"), &["--total", "2"]).await?;
    assert_eq!(code(&out), Some(1));
    Ok(())
}

#[tokio::test]
async fn the_three_instance_cluster_is_attributed_instance_by_instance() -> anyhow::Result<()> {
    let cluster = LocalCluster::start(3, &fast_fake_env(), "{}", true)?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "cluster.json");
    let out = sse_load(
        &cluster.balanced(""),
        &[
            "--concurrency",
            "6",
            "--total",
            "60",
            "--report",
            json.to_str().unwrap_or_default(),
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let summary = &report(&json)?["summary"];
    let instances = summary["by_instance"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = instances
        .iter()
        .filter_map(|i| i["instance"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{summary}");
    for name in ["app-1", "app-2", "app-3"] {
        assert!(names.contains(&name), "{names:?}");
    }
    let completed: u64 = instances
        .iter()
        .filter_map(|i| i["completed"].as_u64())
        .sum();
    assert_eq!(completed, 60);
    assert!(stdout(&out).contains("per instance"), "{}", stdout(&out));
    Ok(())
}

#[tokio::test]
async fn a_report_of_sse_load_is_imported_and_compared_with_a_browser_run() -> anyhow::Result<()> {
    let backend = backend().await?;
    let dir = tempfile::tempdir()?;
    let json = temp_file(&dir, "ci-run.json");
    let out = sse_load(
        &backend.api(""),
        &[
            "--concurrency",
            "3",
            "--total",
            "12",
            "--report",
            json.to_str().unwrap_or_default(),
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    let (_nginx, mut browser) = open_dashboard(&backend.origin()).await?;
    open_load_tester(&browser, WAIT).await?;
    // A browser run first.
    browser.fill("lt-concurrency", "3").await?;
    browser.fill("lt-total", "6").await?;
    browser.click("lt-start").await?;
    browser
        .wait_for_attr("lt-state", "data-state", "finished", WAIT)
        .await?;
    browser
        .wait_for_attr("lt-history-1", "data-origin", "browser", WAIT)
        .await?;
    // The history is where reports are imported.
    eval(
        &browser,
        "document.querySelector('[data-testid=lt-history]').open = true; return null;",
    )
    .await?;
    // A damaged file changes nothing and says why.
    let damaged = temp_file(&dir, "damaged.json");
    std::fs::write(&damaged, &std::fs::read_to_string(&json)?[..200])?;
    let input = browser.wait_for_testid("lt-import", WAIT).await?;
    input
        .send_keys(damaged.to_str().unwrap_or_default())
        .await?;
    browser
        .wait_until("(document.querySelector('[data-testid=lt-import-message]').textContent).startsWith('Not imported')", WAIT, "the damaged file was not refused")
        .await?;
    let said = browser.text_of("lt-import-message").await?;
    assert!(
        said.contains("damaged.json: The file is not JSON"),
        "{said}"
    );
    assert_eq!(
        eval(
            &browser,
            "return document.querySelectorAll('[data-testid^=lt-history-]').length;"
        )
        .await?,
        1
    );
    // The report of sse-load joins the history, first, and compares with the browser's run.
    let input = browser.wait_for_testid("lt-import", WAIT).await?;
    input.send_keys(json.to_str().unwrap_or_default()).await?;
    browser
        .wait_for_attr("lt-history-1", "data-origin", "sse-load", WAIT)
        .await?;
    assert_eq!(
        browser.attr_of("lt-history-2", "data-origin").await?,
        "browser"
    );
    let said = browser.text_of("lt-import-message").await?;
    assert!(
        said.starts_with("Imported ci-run.json: a run by sse-load"),
        "{said}"
    );
    assert!(
        said.contains("12 requests (12 completed, 0 failed)"),
        "{said}"
    );
    let requests = eval(
        &browser,
        "const row = document.querySelector('[data-testid=lt-compare-row][data-label=Requests]');
         return [...row.querySelectorAll('td')].slice(0, 2).map(td => td.dataset.value);",
    )
    .await?;
    assert_eq!(
        requests,
        serde_json::json!(["6", "12"]),
        "A the browser's run, B sse-load's"
    );
    browser
        .screenshot_of("lt-history", "load-tester-imported-report")
        .await?;
    // Dropped onto the history, the same report is imported again (first).
    let text = std::fs::read_to_string(&json)?;
    browser
        .client()
        .execute(
            "const dt = new DataTransfer();
             dt.items.add(new File([arguments[0]], 'dropped.json', { type: 'application/json' }));
             const history = document.querySelector('[data-testid=lt-history]');
             history.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
             history.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));",
            vec![text.into()],
        )
        .await?;
    browser
        .wait_until(
            "(document.querySelector('[data-testid=lt-import-message]').textContent).startsWith('Imported dropped.json')",
            WAIT,
            "the dropped report was not imported",
        )
        .await?;
    // The same run (the same start) is kept once.
    assert_eq!(
        eval(
            &browser,
            "return document.querySelectorAll('[data-testid^=lt-history-]').length;"
        )
        .await?,
        2
    );
    browser.assert_clean(&[]).await?;
    browser.close().await
}

#[tokio::test]
async fn failures_are_classified_by_kind_as_the_browser_does() -> anyhow::Result<()> {
    use browser_tests::{FixedAnswer, HostileService};
    let json = |status: u16, body: &str| FixedAnswer {
        status,
        content_type: "application/json",
        body: body.as_bytes().to_vec(),
    };
    let cases = [
        (
            json(429, r#"{"error":"rate_limit_exceeded","message":"slow down","retry_after":60}"#),
            "http_429:rate_limit_exceeded",
            Some(429_u64),
        ),
        (
            json(503, r#"{"error":"service_unavailable","message":"overloaded"}"#),
            "http_503:service_unavailable",
            Some(503_u64),
        ),
        (
            FixedAnswer::event_stream(
                "event: error\ndata: {\"error\":\"provider_error\",\"message\":\"down\"}\n\ndata: [DONE]\n\n",
            ),
            "provider_error",
            None,
        ),
        (
            FixedAnswer::event_stream("event: chunk\ndata: {not json\n\ndata: [DONE]\n\n"),
            "malformed",
            None,
        ),
        (
            FixedAnswer::event_stream("event: chunk\ndata: {\"content\":\"cut\"}\n\n"),
            "ended_early",
            None,
        ),
    ];
    let dir = tempfile::tempdir()?;
    let json_path = temp_file(&dir, "failures.json");
    for (answer, kind, status) in cases {
        let service = HostileService::start(vec![("/api/v1/stream", answer)]).await?;
        let out = sse_load(
            &format!("{}/api/v1", service.origin()),
            &[
                "--total",
                "2",
                "--report",
                json_path.to_str().unwrap_or_default(),
            ],
        )
        .await?;
        assert_eq!(code(&out), Some(0), "an answer came: the run was made");
        let summary = &report(&json_path)?["summary"];
        assert_eq!(summary["failed"], 2, "{kind}: {summary}");
        let group = &summary["failures"][0];
        assert_eq!(group["kind"], kind, "{summary}");
        assert_eq!(group["status"].as_u64(), status, "{summary}");
    }
    // A stream that outlasts its time limit.
    let slow = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            gap_min_ms: 200,
            gap_max_ms: 200,
            answer_min_chars: 300,
            answer_max_chars: 300,
            ..fast()
        },
        enable_caching: false,
        ..Settings::default()
    })
    .await?;
    let out = sse_load(
        &slow.api(""),
        &[
            "--total",
            "1",
            "--timeout-s",
            "1",
            "--report",
            json_path.to_str().unwrap_or_default(),
        ],
    )
    .await?;
    assert_eq!(code(&out), Some(0));
    assert_eq!(
        report(&json_path)?["summary"]["failures"][0]["kind"],
        "timed_out"
    );
    Ok(())
}
