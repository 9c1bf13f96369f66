//! What a person waits for, build beside build, in one run: headless
//! Chromium with its cache disabled, each build behind the project's nginx.conf
//! in a real nginx, the reference backend (a few streams already served, so the
//! statistics table has rows). For each build, the median of 10 loads of:
//!
//! - navigation start to the status indicator's first state (connected,
//!   degraded or disconnected: the first `/health` answered);
//! - navigation start to the first statistics table filled (stage 1's count);
//! - the load tester's opener clicked to the load tester usable (its Start
//!   button there);
//!
//! and the bytes over the wire (gzip where nginx compressed) of the first load
//! (everything the page fetched by the time the table was filled, the API's
//! answers included) and of opening the load tester.
//!
//! Builds: `dist/` (this build) and, where given, `BENCH_TWO_MODULE_DIST` (the
//! two-module build of 577f807 / 45c0695) and `BENCH_REACT_DIST` (the seed's React
//! dashboard, `VITE_API_BASE_URL=/api/v1 npm run build`; its statistics are a
//! chart, not a table: the chart drawn counts (it reads the service's current
//! `{"stages": …}` shape as one stage of NaN: its own defect, not timed here);
//! its load tester is always there, with no opener).
//! `scripts/bench-first-load` builds both and runs this.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use browser_tests::{
    cdp_command, dist_dir, eval, localhost, project_root, Browser, InProcessBackend,
};
use dashboard_ops::local_stack::Nginx;
use dashboard_ops::process::free_local_port;
use serde_json::{json, Value};
use sse_backend::settings::{FakeLlmSettings, Settings};

const LOADS: usize = 10;
const WAIT: Duration = Duration::from_secs(30);

/// Records, on the page's own clock, when each thing first happened: it runs
/// before the page's scripts (a MutationObserver sees every change).
const MARKS: &str = r#"
window.__marks = {};
const mark = (k) => { if (!(k in window.__marks)) window.__marks[k] = performance.now(); };
const look = () => {
  const status = document.querySelector('[data-testid=status-indicator]');
  if (status) {
    if (status.dataset.state && status.dataset.state !== 'checking') mark('status');
  } else if (!('status' in window.__marks) && document.body
      && /Connected|Disconnected/.test(document.body.textContent)) {
    mark('status');
  }
  const count = document.querySelector('[data-testid=stage-1] [data-metric=count]');
  if ((count && count.dataset.value) || document.querySelector('.recharts-surface')) mark('table');
  if (document.querySelector('[data-testid=lt-start]')) mark('tester');
};
new MutationObserver(look).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
document.addEventListener('click', (e) => {
  if (e.target.closest && e.target.closest('[data-testid=lt-open]')) mark('opened');
}, true);
"#;

struct Build {
    name: &'static str,
    dist: PathBuf,
    has_opener: bool,
}

#[derive(Default)]
struct Samples {
    status: Vec<f64>,
    table: Vec<f64>,
    tester: Vec<f64>,
    first_bytes: Vec<f64>,
    tester_bytes: Vec<f64>,
}

fn median(values: &[f64]) -> Option<f64> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| v[v.len() / 2])
}

/// Bytes over the wire of what the page fetched so far.
async fn bytes(browser: &Browser) -> anyhow::Result<f64> {
    let total = eval(
        browser,
        "return [...performance.getEntriesByType('navigation'), ...performance.getEntriesByType('resource')]
            .reduce((sum, e) => sum + e.encodedBodySize, 0);",
    )
    .await?;
    Ok(total.as_f64().unwrap_or(0.0))
}

async fn marks(browser: &Browser) -> anyhow::Result<Value> {
    eval(browser, "return window.__marks;").await
}

async fn wait_for_mark(browser: &Browser, key: &str) -> anyhow::Result<f64> {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(at) = marks(browser).await?.get(key).and_then(Value::as_f64) {
            return Ok(at);
        }
        anyhow::ensure!(Instant::now() < deadline, "no {key} within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One cold load of `url` into `samples`.
async fn measure(build: &Build, url: &str, samples: &mut Samples) -> anyhow::Result<()> {
    // A fresh browser each load: nothing compiled or cached from the last.
    let browser = Browser::launch().await?;
    let client = browser.client();
    client
        .issue_cmd(cdp_command("Network.enable", json!({})))
        .await?;
    client
        .issue_cmd(cdp_command(
            "Network.setCacheDisabled",
            json!({ "cacheDisabled": true }),
        ))
        .await?;
    client
        .issue_cmd(cdp_command(
            "Page.addScriptToEvaluateOnNewDocument",
            json!({ "source": MARKS }),
        ))
        .await?;
    browser.goto(url).await?;
    samples
        .status
        .push(wait_for_mark(&browser, "status").await?);
    samples.table.push(wait_for_mark(&browser, "table").await?);
    samples.first_bytes.push(bytes(&browser).await?);
    if build.has_opener {
        // The first load settled (the parts it fetches arrived).
        tokio::time::sleep(Duration::from_millis(1_000)).await;
        let before = bytes(&browser).await?;
        browser.click("lt-open").await?;
        let usable = wait_for_mark(&browser, "tester").await?;
        let opened = wait_for_mark(&browser, "opened").await?;
        samples.tester.push(usable - opened);
        samples.tester_bytes.push(bytes(&browser).await? - before);
    }
    browser.close().await
}

fn cell(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}{unit}"))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut builds = vec![Build {
        name: "one program (dist/)",
        dist: dist_dir()?,
        has_opener: true,
    }];
    if let Some(dist) = std::env::var_os("BENCH_TWO_MODULE_DIST") {
        builds.push(Build {
            name: "two modules (45c0695)",
            dist: dist.into(),
            has_opener: true,
        });
    }
    if let Some(dist) = std::env::var_os("BENCH_REACT_DIST") {
        builds.push(Build {
            name: "seed React (vite build)",
            dist: dist.into(),
            has_opener: false,
        });
    }
    let backend = InProcessBackend::start_with(Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 5,
            ttft_max_ms: 10,
            gap_min_ms: 1,
            gap_max_ms: 3,
            answer_min_chars: 30,
            answer_max_chars: 60,
            ..FakeLlmSettings::realistic()
        },
        ..Settings::default()
    })
    .await?;
    browser_tests::send_streams(&backend.api("stream"), "first load", 0, 3).await?;
    println!(
        "first load, headless Chromium, cache disabled, median of {LOADS} loads each (ms from navigation start; bytes over the wire)"
    );
    println!(
        "{:<26} {:>10} {:>10} {:>12} {:>12} {:>12}",
        "build", "status", "table", "tester open", "first load B", "tester B"
    );
    // Every build behind its own nginx; the loads take turns (build 1, 2, 3,
    // 1, 2, 3, …) so that the machine's other work spreads over all of them.
    let mut servers = Vec::new();
    for build in &builds {
        servers.push(Nginx::start(
            &project_root()?,
            &build.dist,
            localhost(free_local_port()?),
            &backend.origin(),
        )?);
    }
    let mut samples: Vec<Samples> = builds.iter().map(|_| Samples::default()).collect();
    for _ in 0..LOADS {
        for ((build, nginx), samples) in builds.iter().zip(&servers).zip(&mut samples) {
            measure(build, &format!("{}/", nginx.url()), samples).await?;
        }
    }
    let mut rows = Vec::new();
    for (build, s) in builds.iter().zip(&samples) {
        let row = [
            median(&s.status),
            median(&s.table),
            median(&s.tester),
            median(&s.first_bytes),
            median(&s.tester_bytes),
        ];
        println!(
            "{:<26} {:>10} {:>10} {:>12} {:>12} {:>12}",
            build.name,
            cell(row[0], ""),
            cell(row[1], ""),
            cell(row[2], ""),
            cell(row[3], ""),
            cell(row[4], "")
        );
        rows.push(row);
    }
    if rows.len() > 1 {
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "—".to_owned(),
        };
        let (new, old) = (&rows[0], &rows[1]);
        println!(
            "{:<26} {:>10} {:>10} {:>12} {:>12} {:>12}",
            "ratio one / two",
            ratio(new[0], old[0]),
            ratio(new[1], old[1]),
            ratio(new[2], old[2]),
            ratio(new[3], old[3]),
            ratio(new[4], old[4])
        );
    }
    Ok(())
}
