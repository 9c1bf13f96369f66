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
use sse_core::monitoring::prometheus_server::{combined, Queries, Window, READING};

/// What a poll of the Prometheus server source asks besides the reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// Two polls of three at 10 s: the reading's one query.
    Nothing,
    /// Every third poll at 10 s (a new 30 s step): the hour's new point, a
    /// part of the same one query (the `@` modifier).
    HourPoint,
    /// The view's first poll: the whole hour too (a range query).
    WholeHour,
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
    let reading = q.reading(w);
    let mut urls = vec![query(&reading.combined())];
    match extra {
        Extra::Nothing => {}
        Extra::HourPoint => {
            // The page asks for the step before now; any recent step costs the same.
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let step = (now / 30.0).floor() * 30.0;
            let point = q.stage_p95_at(step);
            let mut parts = reading.parts();
            parts.push(&point);
            urls = vec![query(&combined(&parts))];
        }
        Extra::WholeHour => urls.push(format!(
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

/// `rounds` rounds of `polls`, one after the other in each round (so that
/// the machine's noise falls on each alike), each poll's requests at once
/// (the page fills in a range query's times, and checks every answer is
/// whole): per poll the median wall time and bytes, and the medians of its
/// per-round ratios to the first poll's.
const POLL: &str = "const [polls, rounds] = arguments;
     performance.setResourceTimingBufferSize(100000);
     const walls = polls.map(() => []), bytes = polls.map(() => []);
     for (let r = 0; r < rounds; r++) {
       for (const [p, urls] of polls.entries()) {
         performance.clearResourceTimings();
         const now = Date.now() / 1000;
         const tag = `bench=${r}-${p}`;
         const t0 = performance.now();
         const texts = await Promise.all(urls.map(u => {
           const url = u.replace('&range=3600', `&start=${now - 3600}&end=${now}`)
             + (u.includes('?') ? '&' : '?') + tag;
           return fetch(url).then(a => { if (!a.ok) throw new Error(`${url}: ${a.status}`); return a.text(); });
         }));
         walls[p].push(performance.now() - t0);
         bytes[p].push(performance.getEntriesByType('resource')
           .filter(e => e.name.endsWith(tag))
           .reduce((n, e) => n + e.transferSize, 0));
         if (texts.some(t => t.length === 0)) throw new Error('an empty answer');
       }
     }
     const median = xs => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
     const ratio = (xs, base) => median(xs.map((x, r) => x / base[r]));
     return JSON.stringify(polls.map((_, p) => [median(walls[p]), median(bytes[p]),
       ratio(walls[p], walls[0]), ratio(bytes[p], bytes[0])]));";

const ROUNDS: u32 = 21;
const INSTANCES: usize = 10;

/// A poll's figures: medians, and ratios to the first poll measured with it.
#[derive(Debug, Clone, Copy)]
struct Figures {
    wall_ms: f64,
    bytes: f64,
    time_ratio: f64,
    bytes_ratio: f64,
}

/// Opens `page` and measures [`POLL`] of `polls` there.
async fn measure(
    browser: &Browser,
    page: &str,
    polls: Vec<Vec<String>>,
) -> anyhow::Result<Vec<Figures>> {
    browser.goto(page).await?;
    let polls: Vec<Value> = polls.into_iter().map(Value::from).collect();
    let answer = browser
        .client()
        .execute(POLL, vec![polls.into(), ROUNDS.into()])
        .await?;
    let figures: Vec<[f64; 4]> =
        serde_json::from_str(answer.as_str().context("the page answered no text")?)?;
    Ok(figures
        .into_iter()
        .map(|[wall_ms, bytes, time_ratio, bytes_ratio]| Figures {
            wall_ms,
            bytes,
            time_ratio,
            bytes_ratio,
        })
        .collect())
}

fn print_row(label: &str, figures: Figures) {
    println!(
        "{label:<52} {:>9.1} {:>12.0} {:>8.2} {:>8.2}",
        figures.wall_ms, figures.bytes, figures.time_ratio, figures.bytes_ratio
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
        "{:<52} {:>9} {:>12} {:>8} {:>8}",
        "poll", "wall ms", "bytes/poll", "time ×", "bytes ×"
    );
    // Through the dashboard's nginx, as the page asks: every poll beside the
    // single service's, round after round.
    let single = vec!["/api/v1".to_owned()];
    let polls: Vec<(String, Vec<String>)> = vec![
        ("1 service (the balancer)".into(), instance_poll(&single)),
        (
            "3 instances, one by one".into(),
            instance_poll(&instance_bases(3)),
        ),
        (
            format!("{INSTANCES} instances, one by one"),
            instance_poll(&instance_bases(INSTANCES)),
        ),
        (
            format!("server of {INSTANCES}, recorded, one query"),
            server_poll("/prometheus", true, Extra::Nothing),
        ),
        (
            format!("server of {INSTANCES}, recorded + hour's point"),
            server_poll("/prometheus", true, Extra::HourPoint),
        ),
        (
            format!("server of {INSTANCES}, recorded + whole hour"),
            server_poll("/prometheus", true, Extra::WholeHour),
        ),
        (
            format!("server of {INSTANCES}, recorded + instance tables"),
            server_poll("/prometheus", true, Extra::InstanceTables),
        ),
        (
            format!("server of {INSTANCES}, raw series, one query"),
            server_poll("/prometheus", false, Extra::Nothing),
        ),
        (
            format!("server of {INSTANCES}, raw + hour's point"),
            server_poll("/prometheus", false, Extra::HourPoint),
        ),
    ];
    let (labels, urls): (Vec<String>, Vec<Vec<String>>) = polls.into_iter().unzip();
    for (protocol, page) in [("HTTP/1.1", &dashboard), ("HTTP/2", &format!("{h2}/"))] {
        for (label, figures) in labels
            .iter()
            .zip(measure(&browser, page, urls.clone()).await?)
        {
            print_row(&format!("{protocol}: {label}"), figures);
        }
    }
    // 3 instances against 10, each server asked from a page of its own
    // origin (the dashboard proxies one server): × is to the recorded query
    // of that server.
    for (n, origin) in [
        (3, server_of_three.origin()),
        (INSTANCES, server_of_ten.clone()),
    ] {
        let page = format!("{origin}/api/v1/status/buildinfo");
        let direct = [
            ("recorded, one query", true, Extra::Nothing),
            ("recorded + hour's point", true, Extra::HourPoint),
            ("raw series, one query", false, Extra::Nothing),
        ];
        let polls = direct
            .iter()
            .map(|(_, recorded, extra)| server_poll("", *recorded, *extra))
            .collect();
        for ((label, _, _), figures) in direct.iter().zip(measure(&browser, &page, polls).await?) {
            print_row(&format!("direct: server of {n}, {label}"), figures);
        }
    }
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
