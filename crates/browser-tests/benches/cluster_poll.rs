//! What cluster mode costs per poll: from headless Chromium, through the
//! dashboard's own nginx (gzip as it serves the admin answers), one poll of
//! `/health`, `/admin/execution-stats` and `/admin/metrics` of every instance
//! at once, as the cluster views poll them, for 3 and 10 instances beside the
//! single-instance poll (the balancer alone) measured in the same run. Real
//! topology: Redis, 10 reference backends, the nginx balancer; 30 streams first,
//! so that every instance has stage statistics and histograms to answer.
//! Prints the median wall time and the bytes on the wire (Resource Timing's
//! transferSize, headers included) per poll, and their ratios to the single poll.
//! Then the Prometheus server source's poll (the queries its view sends: six
//! figures for the whole service, six by instance, the strip, `up` and the
//! hour's p95 range) of a real Prometheus server scraping 3 and 10 of the
//! instances, through the dashboard's nginx (10) and directly (3 and 10).
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench cluster_poll`.

use anyhow::Context;
use browser_tests::{fast_fake_env, localhost, project_root, send_streams, Browser, LocalCluster};
use dashboard_ops::process::free_local_port;
use dashboard_ops::prometheus::{PrometheusServer, Timing};
use serde_json::Value;
use sse_core::metrics::Statistic;
use sse_core::monitoring::prometheus_server::{Queries, Window, READING};

/// The URLs of one poll of the Prometheus server source at `base` (the range
/// query's times are filled in by the page).
fn server_poll(base: &str) -> Vec<String> {
    let q = Queries::new("");
    let w = Window::default();
    let mut queries: Vec<String> = READING
        .iter()
        .flat_map(|s: &Statistic| [q.stage(*s, w, false), q.stage(*s, w, true)])
        .collect();
    queries.extend([
        q.request_rate(w),
        q.success_share(w),
        q.active_connections(false),
        q.up(),
    ]);
    let encode = |q: &str| url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
    let mut urls: Vec<String> = queries
        .iter()
        .map(|query| format!("{base}/api/v1/query?query={}", encode(query)))
        .collect();
    urls.push(format!(
        "{base}/api/v1/query_range?query={}&step=30&range=3600",
        encode(&q.stage_p95_over_time("1m"))
    ));
    urls
}

/// The median wall time and bytes of `rounds` polls of `urls` at once.
const POLL: &str = "const [urls, rounds] = arguments;
     performance.setResourceTimingBufferSize(100000);
     const walls = [], bytes = [];
     for (let r = 0; r < rounds; r++) {
       performance.clearResourceTimings();
       const now = Date.now() / 1000;
       const t0 = performance.now();
       const texts = await Promise.all(urls.map(u => {
         const url = u.replace('&range=3600', `&start=${now - 3600}&end=${now}`) + `&bench=${r}`;
         return fetch(url).then(a => { if (!a.ok) throw new Error(`${url}: ${a.status}`); return a.text(); });
       }));
       walls.push(performance.now() - t0);
       bytes.push(performance.getEntriesByType('resource')
         .filter(e => e.name.includes('bench='))
         .reduce((n, e) => n + e.transferSize, 0));
       if (texts.some(t => !t.includes('success'))) throw new Error('an answer that is no success');
     }
     const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
     return JSON.stringify({ wall_ms: median(walls), bytes: median(bytes) });";

const ROUNDS: u32 = 15;
const INSTANCES: usize = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let timing = Timing {
        scrape: std::time::Duration::from_secs(1),
        alert_for: std::time::Duration::from_secs(60),
    };
    let cluster = LocalCluster::start_with_prometheus(INSTANCES, &fast_fake_env(), "{}", timing)?;
    // A second server scraping only the first three instances.
    let three: Vec<(String, String)> = cluster
        .cluster
        .instance_origins()
        .into_iter()
        .take(3)
        .map(|(name, origin)| (name, origin.trim_start_matches("http://").to_owned()))
        .collect();
    let server_of_three = PrometheusServer::start(
        &project_root()?,
        localhost(free_local_port()?),
        &three,
        timing,
    )?;
    let server_of_ten = cluster
        .prometheus
        .as_ref()
        .map(PrometheusServer::origin)
        .context("no Prometheus server")?;
    send_streams(&cluster.balanced("stream"), "poll bench", 0, 30).await?;
    // Scrapes of the traffic.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let browser = Browser::launch().await?;
    browser
        .goto(&format!("{}/", cluster.dashboard.url()))
        .await?;
    println!(
        "one poll = health + execution-stats + metrics of every instance at once; Chromium over HTTP/1.1 through the dashboard's nginx; median of {ROUNDS} rounds"
    );
    println!(
        "{:<28} {:>12} {:>14} {:>10} {:>10}",
        "poll", "wall ms", "bytes/poll", "time ×", "bytes ×"
    );
    let mut single: Option<(f64, f64)> = None;
    for (label, bases) in [
        ("1 service (the balancer)", vec!["/api/v1".to_owned()]),
        (
            "3 instances",
            (1..=3)
                .map(|i| format!("/instances/app-{i}/api/v1"))
                .collect(),
        ),
        (
            "10 instances",
            (1..=INSTANCES)
                .map(|i| format!("/instances/app-{i}/api/v1"))
                .collect(),
        ),
    ] {
        let answer = browser
            .client()
            .execute(
                "const [bases, rounds] = arguments;
                 performance.setResourceTimingBufferSize(100000);
                 const walls = [], bytes = [];
                 for (let r = 0; r < rounds; r++) {
                   performance.clearResourceTimings();
                   const t0 = performance.now();
                   const urls = bases.flatMap(b => ['health', 'admin/execution-stats', 'admin/metrics']
                     .map(p => `${b}/${p}?bench=${r}`));
                   const texts = await Promise.all(urls.map(u => fetch(u).then(a => {
                     if (!a.ok) throw new Error(`${u}: ${a.status}`); return a.text(); })));
                   walls.push(performance.now() - t0);
                   bytes.push(performance.getEntriesByType('resource')
                     .filter(e => e.name.includes('?bench='))
                     .reduce((n, e) => n + e.transferSize, 0));
                   if (texts.some(t => t.length === 0)) throw new Error('an empty answer');
                 }
                 const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
                 return JSON.stringify({ wall_ms: median(walls), bytes: median(bytes) });",
                vec![bases.clone().into(), ROUNDS.into()],
            )
            .await?;
        let figures: Value =
            serde_json::from_str(answer.as_str().context("the page answered no text")?)?;
        let wall = figures["wall_ms"].as_f64().context("no wall time")?;
        let bytes = figures["bytes"].as_f64().context("no byte count")?;
        let (base_wall, base_bytes) = *single.get_or_insert((wall, bytes));
        println!(
            "{label:<28} {wall:>12.1} {bytes:>14.0} {:>10.2} {:>10.2}",
            wall / base_wall,
            bytes / base_bytes
        );
    }
    let (base_wall, base_bytes) = single.context("no single poll")?;
    // Direct polls run from a page of the server's own origin: the
    // dashboard's CSP lets its page reach only its own origin.
    let dashboard = cluster.dashboard.url();
    for (label, page, base) in [
        (
            "server, 3 instances, direct",
            format!("{}/api/v1/status/buildinfo", server_of_three.origin()),
            "",
        ),
        (
            "server, 10 instances, direct",
            format!("{server_of_ten}/api/v1/status/buildinfo"),
            "",
        ),
        (
            "server, 10, via nginx",
            format!("{dashboard}/"),
            "/prometheus",
        ),
    ] {
        browser.goto(&page).await?;
        let urls = server_poll(base);
        let answer = browser
            .client()
            .execute(POLL, vec![urls.clone().into(), ROUNDS.into()])
            .await?;
        let figures: Value =
            serde_json::from_str(answer.as_str().context("the page answered no text")?)?;
        let wall = figures["wall_ms"].as_f64().context("no wall time")?;
        let bytes = figures["bytes"].as_f64().context("no byte count")?;
        println!(
            "{label:<28} {wall:>12.1} {bytes:>14.0} {:>10.2} {:>10.2}",
            wall / base_wall,
            bytes / base_bytes
        );
    }
    browser.close().await
}
