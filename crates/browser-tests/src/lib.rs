//! A real-browser test harness: headless Chromium through chromedriver, driven by
//! fantoccini, against the release bundle served by the project's own nginx.conf
//! in a real nginx, with the reference backend over real sockets.
//!
//! Every process a test starts is owned by a value that stops it on drop, so a
//! failing test cleans up too. A test fails on any browser console error (network
//! failures only where the test declares them expected) and on a Rust panic in the
//! page, which the dashboard's panic hook records on `<html data-panic>`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use dashboard_ops::local_stack::{find_project_root, Nginx, TlsListener};
use dashboard_ops::process::{find_program, free_local_port, Supervised};
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use sse_backend::settings::{FakeLlmSettings, Settings};

/// The repository root (this crate lives in `crates/browser-tests`).
pub fn project_root() -> anyhow::Result<PathBuf> {
    find_project_root(Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// The release bundle; the test command builds it before running these tests.
pub fn dist_dir() -> anyhow::Result<PathBuf> {
    let dist = std::env::var_os("DASHBOARD_DIST")
        .map(PathBuf::from)
        .unwrap_or(project_root()?.join("dist"));
    if !dist.join("index.html").is_file() {
        bail!(
            "no built bundle at {}: run scripts/build-bundle (the test command does)",
            dist.display()
        );
    }
    Ok(dist)
}

/// `127.0.0.1:port`.
pub fn localhost(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The reference backend, in this process, on a real socket.
pub struct InProcessBackend {
    addr: SocketAddr,
    pub app: std::sync::Arc<sse_backend::App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl InProcessBackend {
    pub async fn start() -> anyhow::Result<Self> {
        Self::start_with(Settings::default()).await
    }

    pub async fn start_with(settings: Settings) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        Self::start_on(listener, settings).await
    }

    /// On a given listener (to come back on the same port after a kill).
    pub async fn start_on(
        listener: tokio::net::TcpListener,
        settings: Settings,
    ) -> anyhow::Result<Self> {
        let addr = listener.local_addr()?;
        let app = sse_backend::App::new(settings).map_err(anyhow::Error::msg)?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sse_backend::serve_app(
            listener,
            std::sync::Arc::clone(&app),
            async {
                let _ = stopped.await;
            },
        ));
        Ok(Self {
            addr,
            app,
            stop: Some(stop),
            task,
        })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `{origin}/api/v1/{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1/{}", self.origin(), path.trim_start_matches('/'))
    }

    /// Stops the server at once, as a crash would: open connections are dropped.
    pub async fn kill(mut self) {
        self.stop.take();
        self.task.abort();
        let _ = (&mut self.task).await;
    }
}

impl Drop for InProcessBackend {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.task.abort();
    }
}

/// The reference backend as its own process (the `sse-backend` binary), for
/// tests that must kill it the way a crash would: every open stream is cut.
pub struct ProcessBackend {
    process: dashboard_ops::process::Supervised,
    addr: SocketAddr,
    _logs: tempfile::TempDir,
}

impl ProcessBackend {
    /// Builds the binary if needed (debug profile), then starts it with `envs`.
    pub fn start(envs: &[(&str, &str)]) -> anyhow::Result<Self> {
        let binary = backend_binary()?;
        let addr = localhost(dashboard_ops::process::free_local_port()?);
        let logs = tempfile::Builder::new().prefix("sse-backend-").tempdir()?;
        let mut command = std::process::Command::new(&binary);
        command.arg("--listen").arg(addr.to_string());
        command.envs(envs.iter().copied());
        let process = dashboard_ops::process::Supervised::spawn_listening(
            "sse-backend",
            command,
            &logs.path().join("backend.log"),
            addr,
            Duration::from_secs(20),
        )?;
        Ok(Self {
            process,
            addr,
            _logs: logs,
        })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// SIGKILL: the process ends at once, its connections with it.
    pub fn kill(&mut self) {
        self.process.kill();
    }
}

/// The reference backend's binary (debug profile), built if needed.
pub fn backend_binary() -> anyhow::Result<PathBuf> {
    workspace_binary("sse-backend")
}

/// The headless load runner's binary, built if needed.
pub fn sse_load_binary() -> anyhow::Result<PathBuf> {
    workspace_binary("sse-load")
}

/// The binary `name` of the workspace's package `name`, built (debug) if needed.
fn workspace_binary(name: &str) -> anyhow::Result<PathBuf> {
    let root = project_root()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = std::process::Command::new(cargo)
        .args(["build", "--quiet", "-p", name, "--bin", name])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(built.success(), "cannot build {name}");
    Ok(root.join("target").join("debug").join(name))
}

/// `n` streams to `stream_url` (`…/api/v1/stream`), one after another, each
/// read to its end; the questions are `"{prefix} {i}"` for i from `from`.
pub async fn send_streams(
    stream_url: &str,
    prefix: &str,
    from: usize,
    n: usize,
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    for i in from..from + n {
        let answer = client
            .post(stream_url)
            .json(&json!({ "query": format!("{prefix} {i}"), "model": "gpt-3.5-turbo" }))
            .send()
            .await?;
        anyhow::ensure!(answer.status() == 200, "stream {i}: {}", answer.status());
        answer.text().await?;
    }
    Ok(())
}

/// The fake LLM's timings of [`fast_fake`] as the backend's environment.
pub fn fast_fake_env() -> Vec<(String, String)> {
    let f = fast_fake();
    [
        ("FAKE_TTFT_MIN_MS", f.ttft_min_ms),
        ("FAKE_TTFT_MAX_MS", f.ttft_max_ms),
        ("FAKE_GAP_MIN_MS", f.gap_min_ms),
        ("FAKE_GAP_MAX_MS", f.gap_max_ms),
        ("FAKE_ANSWER_MIN_CHARS", f.answer_min_chars as u64),
        ("FAKE_ANSWER_MAX_CHARS", f.answer_max_chars as u64),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_string()))
    .collect()
}

/// The real topology: Redis, `count` reference backends (`app-1` …) and the
/// nginx balancer, with the dashboard behind its own nginx in cluster mode
/// (`/instances/<name>/` for each) or, with `watch_instances` false, pointed
/// at the balancer only. `config_json` is the bundle's config.json.
pub struct LocalCluster {
    pub cluster: dashboard_ops::cluster::Cluster,
    pub dashboard: Nginx,
    /// The Prometheus server scraping the instances, when asked for.
    pub prometheus: Option<dashboard_ops::prometheus::PrometheusServer>,
    _dist: tempfile::TempDir,
}

impl LocalCluster {
    pub fn start(
        count: usize,
        envs: &[(String, String)],
        config_json: &str,
        watch_instances: bool,
    ) -> anyhow::Result<Self> {
        Self::start_with(count, envs, config_json, watch_instances, None)
    }

    /// [`Self::start`], with a real Prometheus server scraping the instances
    /// at `timing`, proxied at the dashboard's /prometheus/ and named in its
    /// config.json.
    pub fn start_with_prometheus(
        count: usize,
        envs: &[(String, String)],
        config_json: &str,
        timing: dashboard_ops::prometheus::Timing,
    ) -> anyhow::Result<Self> {
        Self::start_with(count, envs, config_json, true, Some(timing))
    }

    fn start_with(
        count: usize,
        envs: &[(String, String)],
        config_json: &str,
        watch_instances: bool,
        prometheus: Option<dashboard_ops::prometheus::Timing>,
    ) -> anyhow::Result<Self> {
        let addresses = dashboard_ops::cluster::ClusterAddresses::free(count)?;
        let cluster = dashboard_ops::cluster::Cluster::start_with_env(
            &project_root()?,
            &backend_binary()?,
            &addresses,
            envs,
        )?;
        let dist = dist_with_config(config_json)?;
        let instances = if watch_instances {
            cluster.instance_origins()
        } else {
            Vec::new()
        };
        let prometheus = match prometheus {
            Some(timing) => {
                let targets: Vec<(String, String)> = cluster
                    .instance_origins()
                    .into_iter()
                    .map(|(name, origin)| (name, origin.trim_start_matches("http://").to_owned()))
                    .collect();
                Some(dashboard_ops::prometheus::PrometheusServer::start(
                    &project_root()?,
                    localhost(free_local_port()?),
                    &targets,
                    timing,
                )?)
            }
            None => None,
        };
        let dashboard = Nginx::start_with_routes(
            &project_root()?,
            dist.path(),
            localhost(free_local_port()?),
            &cluster.balancer.origin(),
            None,
            &dashboard_ops::local_stack::Routes {
                instances: &instances,
                prometheus: prometheus.as_ref().map(|p| p.origin()).as_deref(),
            },
        )?;
        Ok(Self {
            cluster,
            dashboard,
            prometheus,
            _dist: dist,
        })
    }

    /// `{instance origin}/api/v1/{path}` of instance `index` (from 0), directly.
    pub fn direct(&self, index: usize, path: &str) -> String {
        format!(
            "{}/api/v1/{}",
            self.cluster.instances[index].origin(),
            path.trim_start_matches('/')
        )
    }

    /// `{balancer}/api/v1/{path}`.
    pub fn balanced(&self, path: &str) -> String {
        format!(
            "{}/api/v1/{}",
            self.cluster.balancer.origin(),
            path.trim_start_matches('/')
        )
    }
}

/// The dashboard behind nginx with its TLS + HTTP/2 listener too (a
/// self-signed certificate, which the test browser accepts).
pub fn start_dashboard_tls(backend_origin: &str) -> anyhow::Result<Nginx> {
    Nginx::start_with_tls(
        &project_root()?,
        &dist_dir()?,
        localhost(free_local_port()?),
        backend_origin,
        Some(TlsListener {
            listen: localhost(free_local_port()?),
            certificate: None,
        }),
    )
}

/// The dashboard behind nginx, pointed at `backend_origin`.
pub fn start_dashboard(backend_origin: &str) -> anyhow::Result<Nginx> {
    Nginx::start(
        &project_root()?,
        &dist_dir()?,
        localhost(free_local_port()?),
        backend_origin,
    )
}

/// A DevTools command for `Client::issue_cmd`.
pub fn cdp_command(cmd: &str, params: Value) -> impl WebDriverCompatibleCommand + Send + 'static {
    ChromedriverPost::cdp(cmd, params)
}

/// The dashboard behind nginx (pointed at `backend_origin`) opened in a fresh
/// Chromium. Keep the nginx value alive for as long as the page is used.
pub async fn open_dashboard(backend_origin: &str) -> anyhow::Result<(Nginx, Browser)> {
    let nginx = start_dashboard(backend_origin)?;
    let browser = Browser::launch().await?;
    browser.goto(&format!("{}/", nginx.url())).await?;
    Ok((nginx, browser))
}

/// An origin on which nothing listens: a backend that is down.
pub fn unreachable_origin() -> anyhow::Result<String> {
    Ok(format!("http://127.0.0.1:{}", free_local_port()?))
}

/// One browser console entry.
#[derive(Debug, Clone)]
pub struct ConsoleEntry {
    pub level: String,
    pub message: String,
}

impl ConsoleEntry {
    /// A failed resource load (an HTTP error status or a refused connection), as
    /// opposed to an error raised by the page's code.
    pub fn is_failed_resource_load(&self) -> bool {
        self.message.contains("Failed to load resource")
    }
}

/// A POST to one of chromedriver's own session endpoints: `se/log` (the browser
/// log, non-W3C but still supported) and `goog/cdp/execute` (DevTools passthrough).
#[derive(Debug)]
pub struct ChromedriverPost {
    endpoint: &'static str,
    body: Value,
}

impl ChromedriverPost {
    fn browser_log() -> Self {
        Self {
            endpoint: "se/log",
            body: json!({ "type": "browser" }),
        }
    }

    fn cdp(cmd: &str, params: Value) -> Self {
        Self {
            endpoint: "goog/cdp/execute",
            body: json!({ "cmd": cmd, "params": params }),
        }
    }
}

impl WebDriverCompatibleCommand for ChromedriverPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.endpoint
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

/// Headless Chromium with its own chromedriver and a fresh profile.
pub struct Browser {
    client: Option<Client>,
    console: Vec<ConsoleEntry>,
    // Dropped after the client: the driver stops, then the profile is removed.
    _driver: Supervised,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub async fn launch() -> anyhow::Result<Self> {
        let chromedriver = find_program("chromedriver")
            .context("chromedriver is not installed: run scripts/setup")?;
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .into_iter()
            .find_map(find_program)
            .context("chromium is not installed: run scripts/setup")?;
        let profile = tempfile::Builder::new()
            .prefix("dashboard-chromium-")
            .tempdir()?;
        let port = free_local_port()?;
        let mut command = Command::new(chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1");
        let driver = Supervised::spawn_listening(
            "chromedriver",
            command,
            &profile.path().join("chromedriver.log"),
            localhost(port),
            Duration::from_secs(20),
        )?;

        let mut caps = Capabilities::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--window-size=1400,1000",
                    format!("--user-data-dir={}", profile.path().join("profile").display()),
                ],
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        // The TLS tests' nginx has a self-signed certificate made at its start.
        caps.insert("acceptInsecureCerts".into(), json!(true));
        let client = Client::with_capabilities_and_connector(
            &format!("http://127.0.0.1:{port}"),
            &caps,
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .await
        .with_context(|| {
            format!(
                "cannot open a Chromium session; chromedriver said:\n{}",
                driver.log_tail(4000)
            )
        })?;
        Ok(Self {
            client: Some(client),
            console: Vec::new(),
            _driver: driver,
            _profile: profile,
        })
    }

    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("client is present until close")
    }

    pub async fn goto(&self, url: &str) -> anyhow::Result<()> {
        self.client()
            .goto(url)
            .await
            .with_context(|| format!("cannot open {url}"))
    }

    /// Waits for the element with `data-testid`.
    pub async fn wait_for_testid(
        &self,
        testid: &str,
        timeout: Duration,
    ) -> anyhow::Result<fantoccini::elements::Element> {
        let selector = format!("[data-testid=\"{testid}\"]");
        self.client()
            .wait()
            .at_most(timeout)
            .for_element(Locator::Css(&selector))
            .await
            .with_context(|| format!("no element {selector} within {timeout:?}"))
    }

    /// Polls `attribute` of the element with `data-testid` until it equals `want`.
    pub async fn wait_for_attr(
        &self,
        testid: &str,
        attribute: &str,
        want: &str,
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        while Instant::now() < deadline {
            if let Ok(element) = self
                .client()
                .find(Locator::Css(&format!("[data-testid=\"{testid}\"]")))
                .await
            {
                last = element.attr(attribute).await.ok().flatten();
                if last.as_deref() == Some(want) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("{testid} [{attribute}] is {last:?}, not {want:?}, after {timeout:?}")
    }

    /// Polls the JavaScript expression `condition` until it is true; fails with
    /// `what` after `timeout`.
    pub async fn wait_until(
        &self,
        condition: &str,
        timeout: Duration,
        what: &str,
    ) -> anyhow::Result<()> {
        let script = format!("return Boolean({condition});");
        let deadline = Instant::now() + timeout;
        loop {
            if self.client().execute(&script, vec![]).await? == Value::Bool(true) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{what} (waited {timeout:?} for `{condition}`)");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Drains new console entries into this browser's record and returns all so far.
    pub async fn console(&mut self) -> anyhow::Result<&[ConsoleEntry]> {
        let entries = self
            .client()
            .issue_cmd(ChromedriverPost::browser_log())
            .await
            .context("cannot read the browser log")?;
        for entry in entries.as_array().into_iter().flatten() {
            self.console.push(ConsoleEntry {
                level: entry["level"].as_str().unwrap_or_default().to_owned(),
                message: entry["message"].as_str().unwrap_or_default().to_owned(),
            });
        }
        Ok(&self.console)
    }

    /// Emulates the system's colour scheme (`light` or `dark`).
    pub async fn emulate_color_scheme(&self, scheme: &str) -> anyhow::Result<()> {
        let params = json!({ "media": "", "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
        self.client()
            .issue_cmd(ChromedriverPost::cdp("Emulation.setEmulatedMedia", params))
            .await
            .context("cannot emulate the colour scheme")?;
        Ok(())
    }

    /// Makes the browser refuse requests whose URL matches one of `patterns` (`*` wildcards).
    pub async fn block_urls(&self, patterns: &[&str]) -> anyhow::Result<()> {
        self.client()
            .issue_cmd(ChromedriverPost::cdp("Network.enable", json!({})))
            .await
            .context("cannot enable the network domain")?;
        self.client()
            .issue_cmd(ChromedriverPost::cdp(
                "Network.setBlockedURLs",
                json!({ "urls": patterns }),
            ))
            .await
            .context("cannot block URLs")?;
        Ok(())
    }

    /// Adds `latency_ms` to every request the page sends (Chromium's own
    /// network emulation), so that a state that lasts as long as a request
    /// can be observed.
    pub async fn add_latency(&self, latency_ms: u64) -> anyhow::Result<()> {
        self.client()
            .issue_cmd(ChromedriverPost::cdp("Network.enable", json!({})))
            .await
            .context("cannot enable the network domain")?;
        let conditions = json!({ "offline": false, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1 });
        self.client()
            .issue_cmd(ChromedriverPost::cdp(
                "Network.emulateNetworkConditions",
                conditions,
            ))
            .await
            .context("cannot emulate network latency")?;
        Ok(())
    }

    /// A PNG of the window, saved under `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> anyhow::Result<PathBuf> {
        let png = self
            .client()
            .screenshot()
            .await
            .context("cannot take a screenshot")?;
        let dir = project_root()?.join("target").join("screenshots");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png)?;
        Ok(path)
    }

    /// A screenshot with the element of `data-testid` scrolled into view.
    pub async fn screenshot_of(&self, testid: &str, name: &str) -> anyhow::Result<PathBuf> {
        self.client()
            .execute(
                &format!(
                    "document.querySelector('[data-testid=\"{testid}\"]')?.scrollIntoView(); return true;"
                ),
                vec![],
            )
            .await?;
        self.screenshot(name).await
    }

    /// `attribute` of the element with `data-testid` (empty when it has none).
    pub async fn attr_of(&self, testid: &str, attribute: &str) -> anyhow::Result<String> {
        Ok(self
            .wait_for_testid(testid, Duration::from_secs(10))
            .await?
            .attr(attribute)
            .await?
            .unwrap_or_default())
    }

    /// The text of the element with `data-testid`.
    pub async fn text_of(&self, testid: &str) -> anyhow::Result<String> {
        Ok(self
            .wait_for_testid(testid, Duration::from_secs(10))
            .await?
            .text()
            .await?)
    }

    /// Clicks the element with `data-testid`.
    pub async fn click(&self, testid: &str) -> anyhow::Result<()> {
        self.wait_for_testid(testid, Duration::from_secs(10))
            .await?
            .click()
            .await?;
        Ok(())
    }

    /// Replaces the text of the input with `data-testid`, typing it as a person would.
    pub async fn fill(&self, testid: &str, text: &str) -> anyhow::Result<()> {
        let input = self
            .wait_for_testid(testid, Duration::from_secs(10))
            .await?;
        input.clear().await?;
        input.send_keys(text).await?;
        Ok(())
    }

    /// The panic recorded by the page's panic hook, if any.
    pub async fn page_panic(&self) -> anyhow::Result<Option<String>> {
        let value = self
            .client()
            .execute(
                "return document.documentElement.getAttribute('data-panic');",
                vec![],
            )
            .await?;
        Ok(value.as_str().map(str::to_owned))
    }

    /// Fails on a page panic or on any console error or warning, except failed
    /// resource loads whose message contains one of `expected_failed_loads`.
    pub async fn assert_clean(&mut self, expected_failed_loads: &[&str]) -> anyhow::Result<()> {
        self.assert_clean_but(expected_failed_loads, &[]).await
    }

    /// [`Browser::assert_clean`], also letting through console errors that
    /// hold one of `expected_errors` (a test that makes something fail).
    pub async fn assert_clean_but(
        &mut self,
        expected_failed_loads: &[&str],
        expected_errors: &[&str],
    ) -> anyhow::Result<()> {
        if let Some(panic) = self.page_panic().await? {
            bail!("the page panicked: {panic}");
        }
        let unexpected: Vec<String> = self
            .console()
            .await?
            .iter()
            .filter(|entry| entry.level == "SEVERE" || entry.level == "WARNING")
            .filter(|entry| {
                !(entry.is_failed_resource_load()
                    && expected_failed_loads
                        .iter()
                        .any(|allowed| entry.message.contains(allowed)))
            })
            .filter(|entry| {
                !expected_errors
                    .iter()
                    .any(|allowed| entry.message.contains(allowed))
            })
            .map(|entry| entry.message.clone())
            .collect();
        if !unexpected.is_empty() {
            bail!(
                "browser console errors or warnings:\n  {}",
                unexpected.join("\n  ")
            );
        }
        Ok(())
    }

    /// Ends the browser session (the driver process stops on drop).
    pub async fn close(mut self) -> anyhow::Result<()> {
        if let Some(client) = self.client.take() {
            client.close().await?;
        }
        Ok(())
    }
}

/// Reads a JSON value from the page.
pub async fn eval(browser: &Browser, script: &str) -> anyhow::Result<Value> {
    Ok(browser.client().execute(script, vec![]).await?)
}

/// A service that answers fixed bodies on a real socket: what a broken or
/// hostile upstream sends (a 1 MB version string, numbers beyond f64, a formula
/// in an error message), which our reference backend never would. Each answer
/// is HTTP/1.1 with `Connection: close`; unknown paths are 404; a path listed
/// several times gets its answers in turn.
pub struct HostileService {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
    heads: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

const METRICS_PATH: &str = "/api/v1/admin/metrics";
/// The default exposition of a [`HostileService`]: families, no stage observation.
const NO_OBSERVATIONS: &str = "# TYPE sse_active_connections gauge\nsse_active_connections 0.0\n";

/// A [`HostileService`], like the original service, has no
/// `/admin/load-stats`: the load tester's ask for per-request records answers
/// 404 there, a failed load the tests expect.
pub const NO_LOAD_STATS: &str = "/api/v1/admin/load-stats";

/// One fixed answer: status, content type, body.
#[derive(Debug, Clone)]
pub struct FixedAnswer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl FixedAnswer {
    pub fn json(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: body.into(),
        }
    }

    /// A Prometheus text exposition (format 0.0.4).
    pub fn prometheus(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            body: body.into(),
        }
    }

    pub fn event_stream(body: impl Into<Vec<u8>>) -> Self {
        Self {
            status: 200,
            content_type: "text/event-stream; charset=utf-8",
            body: body.into(),
        }
    }
}

impl HostileService {
    /// Serves `routes` (path without the query -> answer) until dropped. Like
    /// the original service it has `/api/v1/admin/metrics`: unless `routes`
    /// name it, an exposition without any stage observation.
    pub async fn start(mut routes: Vec<(&'static str, FixedAnswer)>) -> anyhow::Result<Self> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        if !routes.iter().any(|(path, _)| *path == METRICS_PATH) {
            routes.push((METRICS_PATH, FixedAnswer::prometheus(NO_OBSERVATIONS)));
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let routes = std::sync::Arc::new(routes);
        let served = std::sync::Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
            String,
            usize,
        >::new()));
        let heads = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let received = std::sync::Arc::clone(&heads);
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let routes = std::sync::Arc::clone(&routes);
                let served = std::sync::Arc::clone(&served);
                let received = std::sync::Arc::clone(&received);
                tokio::spawn(async move {
                    // The head, then as much body as Content-Length says.
                    let mut request = Vec::new();
                    let mut buffer = [0_u8; 8192];
                    let head_end = loop {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                        if let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                            break end + 4;
                        }
                    };
                    let head = String::from_utf8_lossy(&request[..head_end]).to_string();
                    if let Ok(mut received) = received.lock() {
                        received.push(head.clone());
                    }
                    let length = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse::<usize>().ok())?
                        })
                        .unwrap_or(0);
                    while request.len() < head_end + length {
                        match socket.read(&mut buffer).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => request.extend_from_slice(&buffer[..n]),
                        }
                    }
                    let path = head
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .split('?')
                        .next()
                        .unwrap_or("/")
                        .to_owned();
                    let answers: Vec<&FixedAnswer> = routes
                        .iter()
                        .filter(|(route, _)| *route == path)
                        .map(|(_, answer)| answer)
                        .collect();
                    let turn = served.lock().map_or(0, |mut served| {
                        let n = served.entry(path.clone()).or_default();
                        *n += 1;
                        *n - 1
                    });
                    let answer = match answers.len() {
                        0 => FixedAnswer {
                            status: 404,
                            content_type: "application/json",
                            body: b"{\"detail\":\"Not Found\"}".to_vec(),
                        },
                        n => answers[turn % n].clone(),
                    };
                    let head = format!(
                        "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n",
                        answer.status,
                        answer.content_type,
                        answer.body.len()
                    );
                    let _ = socket.write_all(head.as_bytes()).await;
                    let _ = socket.write_all(&answer.body).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Ok(Self { addr, task, heads })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The head (request line and headers) of every request received so far.
    pub fn received(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

/// Stands for a Prometheus server behind a proxy under test: every query
/// answers an empty vector, and [`HostileService::received`] says what
/// reached it.
pub async fn prometheus_stand_in() -> anyhow::Result<HostileService> {
    HostileService::start(vec![(
        "/api/v1/query",
        FixedAnswer::json(
            br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#.to_vec(),
        ),
    )])
    .await
}

impl Drop for HostileService {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A fake LLM that answers in milliseconds: 5-10 ms to the first chunk, 1-2 ms
/// between chunks, 20-40 characters.
pub fn fast_fake() -> FakeLlmSettings {
    FakeLlmSettings {
        ttft_min_ms: 5,
        ttft_max_ms: 10,
        gap_min_ms: 1,
        gap_max_ms: 2,
        answer_min_chars: 20,
        answer_max_chars: 40,
        ..FakeLlmSettings::realistic()
    }
}

/// Opens the load tester (once), runs `total` requests at `concurrency` and
/// waits until the run has finished.
pub async fn run_load_test(browser: &Browser, concurrency: u32, total: u64) -> anyhow::Result<()> {
    start_load_test(browser, concurrency, total).await?;
    browser
        .wait_for_attr(
            "lt-state",
            "data-state",
            "finished",
            Duration::from_secs(20),
        )
        .await
}

/// Picks `value` in the `<select>` with `testid`, as a person would (a change event).
pub async fn select_option(browser: &Browser, testid: &str, value: &str) -> anyhow::Result<()> {
    eval(
        browser,
        &format!(
            "const s = document.querySelector('[data-testid={testid}]');
             s.value = '{value}'; s.dispatchEvent(new Event('change', {{ bubbles: true }}));
             return s.value;"
        ),
    )
    .await?;
    Ok(())
}

/// Picks `source` in the statistics panel's `stats-source` control (without
/// waiting for the panel to follow: it may not, when its view cannot load).
pub async fn pick_stats_source(browser: &Browser, source: &str) -> anyhow::Result<()> {
    select_option(browser, "stats-source", source).await
}

/// Waits (reading once a second, no faster: a benchmark's page is not to be
/// disturbed) until the load tester's run has finished; its JSON export.
pub async fn finished_run_export(browser: &Browser, wait: Duration) -> anyhow::Result<Value> {
    let deadline = std::time::Instant::now() + wait;
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let state = eval(
            browser,
            "return document.querySelector('[data-testid=lt-state]').dataset.state;",
        )
        .await?;
        if state == "finished" {
            break;
        }
        anyhow::ensure!(
            std::time::Instant::now() < deadline,
            "the run did not finish"
        );
    }
    let text = eval(
        browser,
        "return fetch(document.querySelector('[data-testid=lt-export-json]').href).then(r => r.text());",
    )
    .await?;
    let text = text.as_str().ok_or_else(|| anyhow::anyhow!("no export"))?;
    Ok(serde_json::from_str(text)?)
}

/// Opens the load tester (its module loads on demand) and waits up to `wait`
/// for each step: the button, then its form.
pub async fn open_load_tester(browser: &Browser, wait: Duration) -> anyhow::Result<()> {
    browser.wait_for_testid("lt-open", wait).await?;
    browser.click("lt-open").await?;
    browser.wait_for_testid("lt-start", wait).await?;
    Ok(())
}

/// Opens the load tester (once) and starts `total` requests at `concurrency`.
pub async fn start_load_test(
    browser: &Browser,
    concurrency: u32,
    total: u64,
) -> anyhow::Result<()> {
    let wait = Duration::from_secs(20);
    let open = eval(
        browser,
        "return document.querySelector('[data-testid=lt-start]') !== null;",
    )
    .await?;
    if open != Value::Bool(true) {
        open_load_tester(browser, wait).await?;
    }
    browser
        .fill("lt-concurrency", &concurrency.to_string())
        .await?;
    browser.fill("lt-total", &total.to_string()).await?;
    browser.click("lt-start").await
}

/// A copy of the release bundle with its own `config.json` (and without the
/// stale pre-compressed one, which nginx would serve first).
fn dist_with_config(config_json: &str) -> anyhow::Result<tempfile::TempDir> {
    let copy = tempfile::Builder::new()
        .prefix("dashboard-dist-")
        .tempdir()?;
    dashboard_ops::local_stack::copy_tree(&dist_dir()?, copy.path())?;
    let _ = std::fs::remove_file(copy.path().join("config.json.gz"));
    std::fs::write(copy.path().join("config.json"), config_json)?;
    Ok(copy)
}

/// The dashboard behind nginx with its own `config.json` (written into a copy
/// of the bundle), pointed at `backend_origin`.
pub fn start_dashboard_with_config(
    backend_origin: &str,
    config_json: &str,
) -> anyhow::Result<(Nginx, tempfile::TempDir)> {
    let copy = dist_with_config(config_json)?;
    let nginx = Nginx::start(
        &project_root()?,
        copy.path(),
        localhost(free_local_port()?),
        backend_origin,
    )?;
    Ok((nginx, copy))
}

/// [`start_dashboard_with_config`], with `/prometheus/` proxied to
/// `prometheus_origin` (which config.json then names).
pub fn start_dashboard_with_prometheus(
    backend_origin: &str,
    config_json: &str,
    prometheus_origin: &str,
) -> anyhow::Result<(Nginx, tempfile::TempDir)> {
    let copy = dist_with_config(config_json)?;
    let nginx = Nginx::start_with_routes(
        &project_root()?,
        copy.path(),
        localhost(free_local_port()?),
        backend_origin,
        None,
        &dashboard_ops::local_stack::Routes {
            instances: &[],
            prometheus: Some(prometheus_origin),
        },
    )?;
    Ok((nginx, copy))
}

/// Per request (client TTFT − server TTFT, client E2E − server E2E), matched
/// by thread id with the backend's records (`/admin/load-stats?requests=true`):
/// what the client adds to what the service itself measured.
pub fn differences(
    rows: impl Iterator<Item = (String, Option<f64>, f64)>,
    server: &Value,
) -> (Vec<f64>, Vec<f64>) {
    let mut ttft = Vec::new();
    let mut e2e = Vec::new();
    for (id, client_ttft, client_e2e) in rows {
        let Some(s) = server["requests"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|s| s["thread_id"] == id.as_str())
        else {
            continue;
        };
        let accepted = s["accepted_at_ms"].as_f64().unwrap_or_default();
        if let (Some(client), Some(first)) = (client_ttft, s["first_chunk_at_ms"].as_f64()) {
            ttft.push(client - (first - accepted));
        }
        let finished = s["finished_at_ms"].as_f64().unwrap_or_default();
        e2e.push(client_e2e - (finished - accepted));
    }
    (ttft, e2e)
}
