//! What cluster mode costs per poll: from headless Chromium, through the
//! dashboard's own nginx (gzip as it serves the admin answers), one poll of
//! `/health`, `/admin/execution-stats` and `/admin/metrics` of every instance
//! at once, as the cluster views poll them, for 3 and 10 instances beside the
//! single-instance poll (the balancer alone) measured in the same run. Real
//! topology: Redis, 10 reference backends, the nginx balancer; 30 streams first,
//! so that every instance has stage statistics and histograms to answer.
//! Prints the median wall time and the bytes on the wire (Resource Timing's
//! transferSize, headers included) per poll, and their ratios to the single poll.
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench cluster_poll`.

use anyhow::Context;
use browser_tests::{fast_fake_env, send_streams, Browser, LocalCluster};
use serde_json::Value;

const ROUNDS: u32 = 15;
const INSTANCES: usize = 10;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cluster = LocalCluster::start(INSTANCES, &fast_fake_env(), "{}", true)?;
    send_streams(&cluster.balanced("stream"), "poll bench", 0, 30).await?;
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
    browser.close().await
}
