//! `sse-load` at scale, each figure beside its baseline measured in the same
//! run, against the reference backend (its own process, release build) on
//! this machine:
//!
//! - held open: 1,000 and 5,000 slow streams at once from one `sse-load`
//!   process (closed loop, concurrency N): the time until the backend counts N
//!   active, then the runner's resident memory (peak) and CPU over 10 s;
//! - throughput: chunk events per second consumed at concurrency 50 of
//!   zero-delay 30,000-character streams, by `sse-load` (direct over HTTP/1.1,
//!   and through the dashboard's nginx over TLS + HTTP/2) beside the browser's
//!   load tester through the same nginx (target: at least 5×);
//! - TTFT overhead: each request's client TTFT minus the backend's own record
//!   of the same request (by thread id), median and p99, at concurrency 10,
//!   for `sse-load`, a minimal plain reqwest reader in this process, and
//!   Locust 2.47 (`BENCH_LOCUST`, a locust binary; `scripts/bench-sse-load`
//!   installs it in a throwaway venv). Target: below Locust's, within 1 ms of
//!   the plain reader.
//!
//! Run: `./scripts/bench-sse-load` (`BENCH_ONLY=overhead|throughput|held-open`
//! for one part).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::Context;
use browser_tests::{
    differences, finished_run_export, localhost, project_root, start_dashboard_tls, Browser,
};
use dashboard_ops::process::free_local_port;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(180);

/// A release binary of the workspace (built if needed).
fn release_binary(name: &str) -> anyhow::Result<PathBuf> {
    let root = project_root()?;
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args([
            "build",
            "--quiet",
            "--profile",
            "native-release",
            "-p",
            name,
        ])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(built.success(), "cannot build {name}");
    Ok(root.join("target/native-release").join(name))
}

/// The reference backend in its own process, with the fake LLM's timings.
struct Backend {
    child: Child,
    origin: String,
}

impl Backend {
    async fn start(fake: &[(&str, &str)]) -> anyhow::Result<Self> {
        let addr = localhost(free_local_port()?);
        let child = Command::new(release_binary("sse-backend")?)
            .args(["--listen", &addr.to_string()])
            .envs(fake.iter().copied())
            .env("ENABLE_CACHING", "false")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        let origin = format!("http://{addr}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while reqwest::get(format!("{origin}/api/v1/health"))
            .await
            .is_err()
        {
            anyhow::ensure!(Instant::now() < deadline, "the backend did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Ok(Self { child, origin })
    }

    fn api(&self) -> String {
        format!("{}/api/v1", self.origin)
    }

    async fn load_stats(&self, requests: bool) -> anyhow::Result<Value> {
        let query = if requests { "?requests=true" } else { "" };
        Ok(
            reqwest::get(format!("{}/admin/load-stats{query}", self.api()))
                .await?
                .json()
                .await?,
        )
    }
}

impl Drop for Backend {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sse-load run --url URL --quiet ARGS…`, started.
fn sse_load(url: &str, args: &[&str]) -> anyhow::Result<Child> {
    Ok(Command::new(release_binary("sse-load")?)
        .args(["run", "--url", url, "--quiet"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()?)
}

/// (resident KB now, peak KB, CPU seconds) of a process, from /proc.
fn usage(pid: u32) -> anyhow::Result<(f64, f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command's closing parenthesis; utime and stime are 14 and 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |i: usize| {
        fields
            .get(i - 3)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Ok((kb("VmRSS:"), kb("VmHWM:"), (ticks(14) + ticks(15)) / hz))
}

fn interrupt(child: &Child) {
    // SAFETY: a signal to a child this benchmark started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
}

async fn held_open() -> anyhow::Result<()> {
    // Streams of about 60 s: 120 chunks 0.4–0.6 s apart.
    let backend = Backend::start(&[
        ("FAKE_TTFT_MIN_MS", "10"),
        ("FAKE_TTFT_MAX_MS", "20"),
        ("FAKE_GAP_MIN_MS", "400"),
        ("FAKE_GAP_MAX_MS", "600"),
        ("FAKE_ANSWER_MIN_CHARS", "480"),
        ("FAKE_ANSWER_MAX_CHARS", "480"),
        ("GLOBAL_STREAM_LIMIT", "10000"),
    ])
    .await?;
    println!(
        "held open: slow streams (a chunk every 0.4–0.6 s), one sse-load process, closed loop"
    );
    for n in [1_000_u32, 5_000] {
        let started = Instant::now();
        let n_text = n.to_string();
        let child = sse_load(
            &backend.api(),
            &[
                "--concurrency",
                &n_text,
                "--total",
                &n_text,
                "--timeout-s",
                "120",
            ],
        )?;
        loop {
            let active = backend.load_stats(false).await?["active_streams"]
                .as_u64()
                .unwrap_or(0);
            if active >= u64::from(n) {
                break;
            }
            anyhow::ensure!(
                started.elapsed() < WAIT,
                "only {active} of {n} streams opened"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let opened = started.elapsed();
        let (_, _, cpu_before) = usage(child.id())?;
        tokio::time::sleep(Duration::from_secs(10)).await;
        let (rss, peak, cpu_after) = usage(child.id())?;
        let active = backend.load_stats(false).await?["active_streams"].clone();
        interrupt(&child);
        let mut child = child;
        child.wait()?;
        println!(
            "  {n:>5} streams: all open after {:.2} s; still open 10 s later: {active}; sse-load RSS {:.1} MB (peak {:.1} MB), CPU {:.1} % of a core over those 10 s",
            opened.as_secs_f64(),
            rss / 1024.0,
            peak / 1024.0,
            (cpu_after - cpu_before) / 10.0 * 100.0
        );
        // The aborted streams go before the next size.
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Ok(())
}

/// `sse-load` to its end with `args` and `--report`; the report and the CPU
/// seconds it used.
async fn sse_load_report(url: &str, args: &[&str]) -> anyhow::Result<(Value, f64)> {
    let dir = tempfile::tempdir()?;
    let report = dir.path().join("report.json");
    let mut all: Vec<&str> = args.to_vec();
    let path = report.to_str().context("a UTF-8 temp path")?.to_owned();
    all.extend(["--report", &path]);
    let before = children_cpu();
    let mut child = sse_load(url, &all)?;
    let status = tokio::task::spawn_blocking(move || child.wait()).await??;
    anyhow::ensure!(status.success(), "sse-load ended with {status}");
    let cpu = children_cpu() - before;
    Ok((
        serde_json::from_str(&std::fs::read_to_string(&report)?)?,
        cpu,
    ))
}

/// CPU seconds of this process's children that ended (getrusage).
fn children_cpu() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// CPU seconds of every Chromium process (the benchmark's browser is the only one).
fn chromium_cpu() -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "chromium" || c.trim() == "chrome")
        })
        .filter_map(|pid| usage(pid).ok().map(|(_, _, cpu)| cpu))
        .sum()
}

fn events(report: &Value) -> f64 {
    report["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["chunks"].as_f64().unwrap_or(0.0))
        .sum()
}

fn events_per_s(report: &Value) -> f64 {
    events(report) / (report["summary"]["wall_ms"].as_f64().unwrap_or(f64::NAN) / 1000.0)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// One client's figures over the rounds: events/s, and events per CPU-second
/// of the client (what it could consume from a server that kept up).
#[derive(Default)]
struct Consumed {
    per_s: Vec<f64>,
    per_cpu_s: Vec<f64>,
}

impl Consumed {
    fn add(&mut self, report: &Value, cpu_s: f64) -> String {
        self.per_s.push(events_per_s(report));
        self.per_cpu_s.push(events(report) / cpu_s);
        format!(
            "{:.0} events/s, {:.0} per CPU-second",
            events_per_s(report),
            events(report) / cpu_s
        )
    }

    fn medians(&mut self) -> (f64, f64) {
        (median(&mut self.per_s), median(&mut self.per_cpu_s))
    }
}

async fn throughput() -> anyhow::Result<()> {
    let backend = Backend::start(&[
        ("FAKE_TTFT_MIN_MS", "0"),
        ("FAKE_TTFT_MAX_MS", "0"),
        ("FAKE_GAP_MIN_MS", "0"),
        ("FAKE_GAP_MAX_MS", "0"),
        ("FAKE_ANSWER_MIN_CHARS", "30000"),
        ("FAKE_ANSWER_MAX_CHARS", "30000"),
    ])
    .await?;
    let nginx = start_dashboard_tls(&backend.origin)?;
    let https = nginx.tls_url().context("TLS")?;
    let browser = Browser::launch().await?;
    browser.goto(&format!("{https}/")).await?;
    browser.click("lt-open").await?;
    browser.wait_for_testid("lt-start", WAIT).await?;
    let (mut direct, mut proxied, mut page) = (
        Consumed::default(),
        Consumed::default(),
        Consumed::default(),
    );
    let args = ["--concurrency", "50", "--total", "100"];
    for round in 1..=3 {
        let (report, cpu) = sse_load_report(&backend.api(), &args).await?;
        let direct_said = direct.add(&report, cpu);
        let (report, cpu) = sse_load_report(
            &format!("{https}/api/v1"),
            &[&args[..], &["--insecure"]].concat(),
        )
        .await?;
        let proxied_said = proxied.add(&report, cpu);
        browser.fill("lt-concurrency", "50").await?;
        browser.fill("lt-total", "100").await?;
        let before = chromium_cpu();
        browser.click("lt-start").await?;
        let export = finished_run_export(&browser, WAIT).await?;
        let page_said = page.add(&export, chromium_cpu() - before);
        println!(
            "  round {round}: sse-load direct {direct_said}; sse-load via nginx h2 {proxied_said}; browser via nginx h2 {page_said}"
        );
    }
    let ((d, d_cpu), (p, p_cpu), (b, b_cpu)) =
        (direct.medians(), proxied.medians(), page.medians());
    println!("throughput: 100 zero-delay streams of 30,000 characters at concurrency 50, 3 rounds each, alternating (medians; the backend shares the 2 cores)");
    println!("  browser load tester (nginx, TLS + HTTP/2): {b:.0} chunk events/s, {b_cpu:.0} per CPU-second of Chromium (the baseline)");
    println!(
        "  sse-load through the same nginx:           {p:.0} chunk events/s ({:.1} ×), {p_cpu:.0} per CPU-second ({:.1} ×)",
        p / b,
        p_cpu / b_cpu
    );
    println!(
        "  sse-load direct to the backend (HTTP/1.1): {d:.0} chunk events/s ({:.1} ×), {d_cpu:.0} per CPU-second ({:.1} ×; target ≥ 5 ×)",
        d / b,
        d_cpu / b_cpu
    );
    browser.close().await
}

/// The minimal plain reader: `total` requests at `concurrency`, each read
/// until its end; (thread id, TTFT at the first chunk event, E2E) each.
async fn plain_reader(
    url: &str,
    concurrency: usize,
    total: usize,
) -> anyhow::Result<Vec<(String, Option<f64>, f64)>> {
    let client = reqwest::Client::new();
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let (client, next, url) = (client.clone(), next.clone(), url.to_owned());
        workers.push(tokio::spawn(async move {
            let mut rows = Vec::new();
            while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < total {
                let sent = Instant::now();
                let mut response = client
                    .post(&url)
                    .header("Content-Type", "application/json")
                    .header("X-User-ID", format!("plain-{worker}"))
                    .body(r#"{"query":"overhead","model":"gpt-3.5-turbo","provider":"fake"}"#)
                    .send()
                    .await?;
                let id = response
                    .headers()
                    .get("x-thread-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let mut ttft = None;
                while let Some(bytes) = response.chunk().await? {
                    if ttft.is_none() && bytes.windows(12).any(|w| w == b"event: chunk") {
                        ttft = Some(sent.elapsed().as_secs_f64() * 1000.0);
                    }
                }
                rows.push((id, ttft, sent.elapsed().as_secs_f64() * 1000.0));
            }
            anyhow::Ok(rows)
        }));
    }
    let mut rows = Vec::new();
    for worker in workers {
        rows.extend(worker.await??);
    }
    Ok(rows)
}

/// The locustfile: users stream as the runners do and write each request's
/// (thread id, TTFT at the first chunk event, E2E) as a JSON line to `$TTFT_OUT`.
const LOCUSTFILE: &str = r#"
import json, os, time
from locust import HttpUser, constant, task

OUT = open(os.environ["TTFT_OUT"], "a")

class Streamer(HttpUser):
    wait_time = constant(0)

    @task
    def stream(self):
        body = {"query": "overhead", "model": "gpt-3.5-turbo", "provider": "fake"}
        sent = time.perf_counter()
        ttft = None
        with self.client.post("/api/v1/stream", json=body, stream=True, catch_response=True,
                              headers={"X-User-ID": "locust-%d" % id(self)}) as r:
            for line in r.iter_lines():
                if ttft is None and line.startswith(b"event: chunk"):
                    ttft = (time.perf_counter() - sent) * 1000
            e2e = (time.perf_counter() - sent) * 1000
            OUT.write(json.dumps([r.headers.get("x-thread-id"), ttft, e2e]) + "\n")
            OUT.flush()
            r.success()
"#;

fn locust(
    locust: &Path,
    host: &str,
    users: usize,
    seconds: u64,
) -> anyhow::Result<Vec<(String, Option<f64>, f64)>> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("locustfile.py");
    std::fs::write(&file, LOCUSTFILE)?;
    let out = dir.path().join("ttft.jsonl");
    let status = Command::new(locust)
        .args([
            "-f",
            file.to_str().context("UTF-8")?,
            "--headless",
            "--only-summary",
        ])
        .args([
            "-u",
            &users.to_string(),
            "-r",
            &users.to_string(),
            "-t",
            &format!("{seconds}s"),
        ])
        .args(["--host", host, "--loglevel", "WARNING"])
        .env("TTFT_OUT", &out)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    anyhow::ensure!(status.success(), "locust ended with {status}");
    std::fs::read_to_string(&out)?
        .lines()
        .map(|line| {
            let (id, ttft, e2e): (Option<String>, Option<f64>, f64) = serde_json::from_str(line)?;
            Ok((id.unwrap_or_default(), ttft, e2e))
        })
        .collect()
}

fn describe(name: &str, diffs: &mut [f64]) {
    diffs.sort_by(f64::total_cmp);
    let at = |p: f64| {
        diffs[((p / 100.0 * diffs.len() as f64).ceil().max(1.0) as usize).min(diffs.len()) - 1]
    };
    println!(
        "  {name:<34} median {:+.2} ms, p99 {:+.2} ms (n = {})",
        at(50.0),
        at(99.0),
        diffs.len()
    );
}

async fn ttft_overhead() -> anyhow::Result<()> {
    let backend = Backend::start(&[
        ("FAKE_TTFT_MIN_MS", "50"),
        ("FAKE_TTFT_MAX_MS", "100"),
        ("FAKE_GAP_MIN_MS", "5"),
        ("FAKE_GAP_MAX_MS", "10"),
        ("FAKE_ANSWER_MIN_CHARS", "100"),
        ("FAKE_ANSWER_MAX_CHARS", "100"),
    ])
    .await?;
    let url = format!("{}/stream", backend.api());
    println!("TTFT overhead: client TTFT − the backend's own TTFT of the same request (by thread id), concurrency 10");
    let (report, _) =
        sse_load_report(&backend.api(), &["--concurrency", "10", "--total", "300"]).await?;
    let server = backend.load_stats(true).await?;
    let rows = report["requests"].as_array().cloned().unwrap_or_default();
    let (mut ours, _) = differences(
        rows.iter().map(|r| {
            (
                r["thread_id"].as_str().unwrap_or_default().to_owned(),
                r["ttft_ms"].as_f64(),
                r["e2e_ms"].as_f64().unwrap_or_default(),
            )
        }),
        &server,
    );
    let plain = plain_reader(&url, 10, 300).await?;
    let server = backend.load_stats(true).await?;
    let (mut plain, _) = differences(plain.into_iter(), &server);
    describe("sse-load", &mut ours);
    describe("plain reqwest reader (baseline)", &mut plain);
    match std::env::var_os("BENCH_LOCUST") {
        Some(path) => {
            let rows = locust(Path::new(&path), &backend.origin, 10, 15)?;
            let server = backend.load_stats(true).await?;
            let (mut theirs, _) = differences(rows.into_iter(), &server);
            describe("Locust 2.47 (HttpUser, requests)", &mut theirs);
        }
        None => {
            println!("  Locust: not measured (BENCH_LOCUST unset; scripts/bench-sse-load sets it)")
        }
    }
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // BENCH_ONLY=overhead|throughput|held-open runs one part.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let run = |part: &str| only.is_empty() || only == part;
    runtime.block_on(async {
        if run("overhead") {
            ttft_overhead().await?;
        }
        if run("throughput") {
            throughput().await?;
        }
        if run("held-open") {
            held_open().await?;
        }
        Ok(())
    })
}
