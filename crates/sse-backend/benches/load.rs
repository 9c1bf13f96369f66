//! Load benchmark of the `sse-backend` binary, with its own load generator in this
//! command. Prints:
//! 1. baseline: `GET /health` requests/s from the same generator (plain HTTP cost);
//! 2. zero-delay profile: streams/s and chunks/s over a fixed time, and the
//!    service's CPU time per 1,000 chunks (from /proc);
//! 3. slow streams: peak RSS of the service with 10,000 concurrent open streams.
//!
//! Targets (2 cores, shared with the generator): >= 50,000 chunks/s; 10,000
//! concurrent streams under 300 MB RSS. Everything runs on 127.0.0.1 and stops by
//! itself. Set BENCH_STREAMS to change the number of concurrent slow streams.

use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dashboard_ops::process::{free_local_port, Supervised};
use futures_util::StreamExt;

const WORKERS: usize = 32;
/// Every stream generated (no cache) and no limits in the way of the generator.
const UNLIMITED: &[&str] = &[
    "--enable-caching",
    "false",
    "--per-user-limit",
    "100000",
    "--global-limit",
    "100000",
];
const PHASE: Duration = Duration::from_secs(6);

fn proc_field(pid: u32, file: &str, key: &str) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/{file}")).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// User + system CPU seconds of a process.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, r)| r.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15; after the ')' they are at 11 and 12.
    let ticks: u64 = fields
        .get(11..13)
        .map_or(0, |f| f.iter().filter_map(|v| v.parse::<u64>().ok()).sum());
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    ticks as f64
        / if per_second > 0 {
            per_second as f64
        } else {
            100.0
        }
}

/// The service's own `/admin/load-stats`.
async fn load_stats(client: &reqwest::Client, base: &str) -> Option<serde_json::Value> {
    client
        .get(format!("{base}/admin/load-stats"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()
}

fn start_backend(args: &[&str], dir: &std::path::Path) -> (Supervised, String) {
    let port = free_local_port().expect("port");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sse-backend"));
    command
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .args(args);
    let process = Supervised::spawn_listening(
        "sse-backend",
        command,
        &dir.join(format!("backend-{port}.log")),
        SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(20),
    )
    .expect("backend listens");
    (process, format!("http://127.0.0.1:{port}/api/v1"))
}

/// Runs `WORKERS` closed-loop workers for `PHASE`; each call of `one` returns the
/// chunks it received. Returns (completed calls, chunks, seconds).
async fn closed_loop<F, Fut>(one: F) -> (u64, u64, f64)
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Option<u64>> + Send,
{
    let one = Arc::new(one);
    let done = Arc::new(AtomicU64::new(0));
    let chunks = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + PHASE;
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let (one, done, chunks) = (Arc::clone(&one), Arc::clone(&done), Arc::clone(&chunks));
            tokio::spawn(async move {
                while Instant::now() < deadline {
                    if let Some(n) = one().await {
                        done.fetch_add(1, Ordering::Relaxed);
                        chunks.fetch_add(n, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for worker in workers {
        let _ = worker.await;
    }
    (
        done.load(Ordering::Relaxed),
        chunks.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64(),
    )
}

async fn read_stream(client: &reqwest::Client, url: &str, query: &str) -> Option<u64> {
    let response = client
        .post(url)
        .json(&serde_json::json!({ "query": query, "model": "bench", "provider": "fake" }))
        .send()
        .await
        .ok()?;
    let finder = memchr::memmem::Finder::new(b"event: chunk");
    let mut chunks = 0;
    let mut body = response.bytes_stream();
    // Events never straddle reads badly enough to matter for a count: the marker is
    // 12 bytes and a split one is rare; the service's own count is printed too.
    while let Some(piece) = body.next().await {
        chunks += finder.find_iter(&piece.ok()?).count() as u64;
    }
    Some(chunks)
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(WORKERS)
        .build()
        .expect("client");

    // Zero-delay service; caching off so that every stream is generated.
    let (mut fast, base) = start_backend(&[UNLIMITED, &["--zero-delay"]].concat(), dir.path());
    println!("service: sse-backend (release build), {WORKERS} closed-loop client workers, {} s per phase, 127.0.0.1", PHASE.as_secs());

    let health_url = format!("{base}/health");
    let (c2, u2) = (client.clone(), health_url.clone());
    let (health_done, _, health_secs) = closed_loop(move || {
        let (client, url) = (c2.clone(), u2.clone());
        async move {
            client
                .get(&url)
                .send()
                .await
                .ok()?
                .bytes()
                .await
                .ok()
                .map(|_| 0)
        }
    })
    .await;
    let health_rate = health_done as f64 / health_secs;

    let stream_url = format!("{base}/stream");
    let counter = Arc::new(AtomicU64::new(0));
    let cpu_before = cpu_seconds(fast.pid());
    let (c3, u3, n3) = (client.clone(), stream_url.clone(), Arc::clone(&counter));
    let (streams, chunks, secs) = closed_loop(move || {
        let (client, url, n) = (c3.clone(), u3.clone(), Arc::clone(&n3));
        async move {
            let i = n.fetch_add(1, Ordering::Relaxed);
            read_stream(&client, &url, &format!("benchmark question {i}")).await
        }
    })
    .await;
    let cpu = cpu_seconds(fast.pid()) - cpu_before;
    let server_view = load_stats(&client, &base).await.expect("load-stats");
    fast.stop(Duration::from_secs(5));

    println!("{:<46} {:>14}", "figure", "value");
    println!(
        "{:<46} {:>14.0}",
        "baseline: GET /health requests/s", health_rate
    );
    println!(
        "{:<46} {:>14.0}",
        "zero-delay streams/s",
        streams as f64 / secs
    );
    println!(
        "{:<46} {:>14.0}",
        "zero-delay chunks/s (client count)",
        chunks as f64 / secs
    );
    println!(
        "{:<46} {:>14}",
        "chunks sent (service's own count)",
        server_view["chunks_sent"].to_string()
    );
    println!(
        "{:<46} {:>14.2}",
        "streams/s vs /health requests/s",
        streams as f64 / secs / health_rate
    );
    println!(
        "{:<46} {:>14.2}",
        "service CPU ms per 1,000 chunks",
        cpu * 1000.0 / (chunks.max(1) as f64 / 1000.0)
    );

    // Slow streams: each open for minutes; measure the service's memory with all open.
    let target: usize = std::env::var("BENCH_STREAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let (mut slow, base) = start_backend(
        &[
            UNLIMITED,
            &[
                "--ttft-min-ms",
                "500",
                "--ttft-max-ms",
                "1000",
                "--gap-min-ms",
                "2000",
                "--gap-max-ms",
                "3000",
                "--answer-min-chars",
                "400",
                "--answer-max-chars",
                "400",
            ],
        ]
        .concat(),
        dir.path(),
    );
    let rss_idle = proc_field(slow.pid(), "status", "VmRSS:").unwrap_or(0);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client");
    let stop = Arc::new(tokio::sync::Notify::new());
    let opened = Instant::now();
    let tasks: Vec<_> = (0..target)
        .map(|i| {
            let (client, url, stop) = (client.clone(), format!("{base}/stream"), Arc::clone(&stop));
            tokio::spawn(async move {
                let request = client
                    .post(url)
                    .json(&serde_json::json!({ "query": format!("slow {i}"), "model": "bench" }))
                    .send();
                let Ok(response) = request.await else {
                    return false;
                };
                let mut body = response.bytes_stream();
                loop {
                    tokio::select! {
                        piece = body.next() => if piece.is_none() { return true },
                        () = stop.notified() => return true,
                    }
                }
            })
        })
        .collect();
    let mut active = 0;
    let wait_until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < wait_until {
        tokio::time::sleep(Duration::from_millis(250)).await;
        active = load_stats(&client, &base)
            .await
            .and_then(|v| v["active_streams"].as_u64())
            .unwrap_or(0) as usize;
        if active >= target {
            break;
        }
    }
    let open_secs = opened.elapsed().as_secs_f64();
    let rss_open = proc_field(slow.pid(), "status", "VmRSS:").unwrap_or(0);
    let rss_peak = proc_field(slow.pid(), "status", "VmHWM:").unwrap_or(0);
    stop.notify_waiters();
    for task in tasks {
        task.abort();
    }
    slow.stop(Duration::from_secs(5));

    println!(
        "{:<46} {:>14}",
        "slow streams open at once (service's count)", active
    );
    println!("{:<46} {:>14.1}", "seconds to open them", open_secs);
    println!(
        "{:<46} {:>14.1}",
        "service RSS idle, MB",
        rss_idle as f64 / 1024.0
    );
    println!(
        "{:<46} {:>14.1}",
        "service RSS with all open, MB",
        rss_open as f64 / 1024.0
    );
    println!(
        "{:<46} {:>14.1}",
        "service peak RSS (VmHWM), MB",
        rss_peak as f64 / 1024.0
    );
    let chunks_rate = chunks as f64 / secs;
    println!(
        "targets: >= 50,000 chunks/s: {}; {target} streams under 300 MB: {}",
        if chunks_rate >= 50_000.0 {
            "met"
        } else {
            "MISSED"
        },
        if active >= target && rss_peak < 300 * 1024 {
            "met"
        } else {
            "MISSED"
        }
    );
}
