//! What cluster mode costs per poll: from headless Chromium, through the
//! dashboard's own nginx (gzip as it serves the admin answers), one poll of
//! `/health`, `/admin/execution-stats` and `/admin/metrics` of every instance
//! at once, as the cluster views poll them, for 3 and 10 instances beside the
//! single-instance poll (the balancer alone) measured in the same run. Real
//! topology: Redis, 10 reference backends, the nginx balancer; 30 streams first,
//! so that every instance has stage statistics and histograms to answer.
//! Prints the median wall time and the bytes on the wire (Resource Timing's
//! transferSize, headers included) per poll, and their ratios to the single poll.
//! Then the Prometheus server source's poll of a real Prometheus server
//! scraping 3 and 10 of the instances with the project's rules, directly (3
//! and 10) and through the dashboard's nginx (10): its one query reading the
//! dashboard's recorded series, and the same figures of the raw series (a
//! server without the recording rules); with the hour's p95 range (every
//! third poll) and with the instance tables shown (six queries more). Then
//! what the recording rules cost the server at each evaluation.
//! Then the same over HTTP/2 (the dashboard's TLS listener), where the
//! browser's six connections per host do not queue the requests.
//!
//! Run: `./scripts/build-bundle && cargo bench -p browser-tests --bench cluster_poll`.

use anyhow::Context;
use browser_tests::{
    dist_dir, fast_fake_env, localhost, project_root, send_streams, Browser, LocalCluster,
};
use dashboard_ops::local_stack::{Nginx, Routes, TlsListener};
use dashboard_ops::process::free_local_port;
use dashboard_ops::prometheus::{PrometheusServer, Timing};
use serde_json::Value;
use sse_core::metrics::Statistic;
use sse_core::monitoring::prometheus_server::{Queries, Window, READING};

/// What a poll of the Prometheus server source asks besides its one query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// Most polls: the reading's one query.
    Nothing,
    /// Every third poll at 10 s: the hour's p95 series too (a new step).
    HourRange,
    /// While the instances' tables are shown: their six queries too.
    InstanceTables,
}

/// The URLs of one poll of the Prometheus server source at `base`, reading
/// the recorded series or the raw ones (the range query's times are filled
/// in by the page).
fn server_poll(base: &str, recorded: bool, extra: Extra) -> Vec<String> {
    let q = Queries::new("").with_records(recorded);
    let w = Window::default();
    let encode = |q: &str| url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>();
    let query = |q: &str| format!("{base}/api/v1/query?query={}", encode(q));
    let mut urls = vec![query(&q.reading(w).combined())];
    match extra {
        Extra::Nothing => {}
        Extra::HourRange => urls.push(format!(
            "{base}/api/v1/query_range?query={}&step=30&range=3600",
            encode(&q.stage_p95_over_time())
        )),
        Extra::InstanceTables => urls.extend(
            READING
                .iter()
                .map(|s: &Statistic| query(&q.stage(*s, w, true))),
        ),
    }
    urls
}

/// Each rule group at the server at `origin`: its name, interval (s) and
/// last evaluation time (ms).
async fn rule_group_times(origin: &str) -> anyhow::Result<Vec<(String, f64, f64)>> {
    let rules: Value = reqwest::get(format!("{origin}/api/v1/rules"))
        .await?
        .json()
        .await?;
    Ok(rules["data"]["groups"]
        .as_array()
        .context("no rule groups")?
        .iter()
        .map(|g| {
            (
                g["name"].as_str().unwrap_or_default().to_owned(),
                g["interval"].as_f64().unwrap_or(f64::NAN),
                g["evaluationTime"].as_f64().unwrap_or(f64::NAN) * 1000.0,
            )
        })
        .collect())
}

/// The URLs of one per-instance poll of every API base in `bases`.
fn instance_poll(bases: &[String]) -> Vec<String> {
    bases
        .iter()
        .flat_map(|b| {
            ["health", "admin/execution-stats", "admin/metrics"].map(|p| format!("{b}/{p}"))
        })
        .collect()
}

/// The median wall time and bytes of `rounds` polls of `urls` at once (the
/// page fills in a range query's times, and checks every answer is whole).
const POLL: &str = "const [urls, rounds] = arguments;
     performance.setResourceTimingBufferSize(100000);
     const walls = [], bytes = [];
     for (let r = 0; r < rounds; r++) {
       performance.clearResourceTimings();
       const now = Date.now() / 1000;
       const t0 = performance.now();
       const texts = await Promise.all(urls.map(u => {
         const url = u.replace('&range=3600', `&start=${now - 3600}&end=${now}`)
           + (u.includes('?') ? '&' : '?') + `bench=${r}`;
         return fetch(url).then(a => { if (!a.ok) throw new Error(`${url}: ${a.status}`); return a.text(); });
       }));
       walls.push(performance.now() - t0);
       bytes.push(performance.getEntriesByType('resource')
         .filter(e => e.name.includes('bench='))
         .reduce((n, e) => n + e.transferSize, 0));
       if (texts.some(t => t.length === 0)) throw new Error('an empty answer');
     }
     const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
     return JSON.stringify({ wall_ms: median(walls), bytes: median(bytes) });";

const ROUNDS: u32 = 15;
const INSTANCES: usize = 10;

/// Opens `page` and measures [`POLL`] of `urls` there: (median wall ms, bytes).
async fn measure(browser: &Browser, page: &str, urls: Vec<String>) -> anyhow::Result<(f64, f64)> {
    browser.goto(page).await?;
    let answer = browser
        .client()
        .execute(POLL, vec![urls.into(), ROUNDS.into()])
        .await?;
    let figures: Value =
        serde_json::from_str(answer.as_str().context("the page answered no text")?)?;
    Ok((
        figures["wall_ms"].as_f64().context("no wall time")?,
        figures["bytes"].as_f64().context("no byte count")?,
    ))
}

fn print_row(label: &str, (wall, bytes): (f64, f64), (base_wall, base_bytes): (f64, f64)) {
    println!(
        "{label:<48} {wall:>9.1} {bytes:>12.0} {:>8.2} {:>8.2}",
        wall / base_wall,
        bytes / base_bytes
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // The one-machine topology's timing: a scrape and a rule evaluation every 5 s.
    let timing = Timing::default();
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
    // The same dashboard with its HTTP/2 listener too.
    let instances = cluster.cluster.instance_origins();
    let dashboard_h2 = Nginx::start_with_routes(
        &project_root()?,
        &dist_dir()?,
        localhost(free_local_port()?),
        &cluster.cluster.balancer.origin(),
        Some(TlsListener {
            listen: localhost(free_local_port()?),
            certificate: None,
        }),
        &Routes {
            instances: &instances,
            prometheus: Some(&server_of_ten),
        },
    )?;
    let h2 = dashboard_h2.tls_url().context("no TLS listener")?;
    send_streams(&cluster.balanced("stream"), "poll bench", 0, 30).await?;
    // Scrapes of the traffic, and the recording rules over them.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let browser = Browser::launch().await?;
    let dashboard = format!("{}/", cluster.dashboard.url());
    let instance_bases = |n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| format!("/instances/app-{i}/api/v1"))
            .collect()
    };
    println!(
        "one poll, all requests at once, from Chromium; per instance = health + execution-stats + metrics of each;"
    );
    println!(
        "server = the Prometheus server source's poll: its one query (recorded or raw series), at times with the hour's range or the instance tables; median of {ROUNDS} rounds; × = to the single poll of the same protocol"
    );
    println!(
        "{:<48} {:>9} {:>12} {:>8} {:>8}",
        "poll", "wall ms", "bytes/poll", "time ×", "bytes ×"
    );
    let single = measure(&browser, &dashboard, instance_poll(&["/api/v1".to_owned()])).await?;
    print_row("HTTP/1.1: 1 service (the balancer)", single, single);
    for n in [3, INSTANCES] {
        let row = measure(&browser, &dashboard, instance_poll(&instance_bases(n))).await?;
        print_row(&format!("HTTP/1.1: {n} instances, one by one"), row, single);
    }
    // Direct polls run from a page of the server's own origin: the
    // dashboard's CSP lets its page reach only its own origin.
    let polls = [
        ("recorded, one query", true, Extra::Nothing),
        ("recorded + hour range", true, Extra::HourRange),
        ("recorded + instance tables", true, Extra::InstanceTables),
        ("raw series, one query", false, Extra::Nothing),
        ("raw + hour range", false, Extra::HourRange),
    ];
    for (n, origin) in [
        (3, server_of_three.origin()),
        (INSTANCES, server_of_ten.clone()),
    ] {
        let page = format!("{origin}/api/v1/status/buildinfo");
        for (label, recorded, extra) in polls {
            let row = measure(&browser, &page, server_poll("", recorded, extra)).await?;
            print_row(
                &format!("HTTP/1.1: server, {n} inst., {label}"),
                row,
                single,
            );
        }
    }
    for (label, recorded, extra) in [polls[0], polls[3]] {
        let row = measure(
            &browser,
            &dashboard,
            server_poll("/prometheus", recorded, extra),
        )
        .await?;
        print_row(
            &format!("HTTP/1.1: server, 10 via nginx, {label}"),
            row,
            single,
        );
    }

    let page = format!("{h2}/");
    let single = measure(&browser, &page, instance_poll(&["/api/v1".to_owned()])).await?;
    print_row("HTTP/2: 1 service (the balancer)", single, single);
    let row = measure(&browser, &page, instance_poll(&instance_bases(INSTANCES))).await?;
    print_row("HTTP/2: 10 instances, one by one", row, single);
    let row = measure(
        &browser,
        &page,
        server_poll("/prometheus", true, Extra::Nothing),
    )
    .await?;
    print_row("HTTP/2: server, 10 via nginx, recorded", row, single);
    // What the recording rules cost the server at every evaluation (every
    // scrape interval), whoever looks.
    for (n, origin) in [
        (3, server_of_three.origin()),
        (INSTANCES, server_of_ten.clone()),
    ] {
        for (group, interval, ms) in rule_group_times(&origin).await? {
            println!(
                "rule group {group:<28} server of {n:>2} instances: {ms:7.2} ms per evaluation every {interval:>2} s = {:5.2} ms of server time per second",
                ms / interval
            );
        }
    }
    browser.close().await
}
