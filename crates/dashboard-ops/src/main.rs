use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use dashboard_ops::docker::{Docker, CONTAINER};
use dashboard_ops::http_check::{self, Health};
use dashboard_ops::local_stack::{find_project_root, Backend, Nginx, TlsListener};
use dashboard_ops::local_state::LocalState;

/// Manages the performance dashboard's lifecycle: in Docker (the default: the
/// image from the project's Dockerfile, on the service's `sse-network`), or with
/// --local on this machine (the release bundle behind the project's nginx.conf in
/// a local nginx, plus the reference backend).
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Check the backend, build and start the dashboard.
    Start(StartArgs),
    /// Stop the dashboard.
    Stop(ModeArgs),
    /// Show the dashboard's state, its URL and the backend's health.
    Status(StatusArgs),
    /// Stop, then start again.
    Restart(StartArgs),
}

#[derive(Debug, Args, Clone)]
struct ModeArgs {
    /// The local stack instead of Docker.
    #[arg(long)]
    local: bool,
}

#[derive(Debug, Args, Clone)]
struct StatusArgs {
    #[command(flatten)]
    mode: ModeArgs,
    /// The SSE service's health URL, as seen from this machine.
    #[arg(long, default_value = "http://127.0.0.1:8000/api/v1/health")]
    backend_health_url: String,
}

#[derive(Debug, Args, Clone)]
struct StartArgs {
    #[command(flatten)]
    mode: ModeArgs,
    /// Start the backend when it is down: with --local the reference backend;
    /// in Docker the compose file given with --backend-compose.
    #[arg(long)]
    auto_start: bool,
    /// Use the bundle (or image) as built; do not build first.
    #[arg(long)]
    skip_build: bool,
    /// How long to wait for the backend's health, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    health_timeout: u64,
    /// Continue without asking when the backend is down (for scripts).
    #[arg(long, short = 'y')]
    yes: bool,
    /// The SSE service's health URL, as seen from this machine (Docker mode).
    #[arg(long, default_value = "http://127.0.0.1:8000/api/v1/health")]
    backend_health_url: String,
    /// The SSE service's docker-compose file, for --auto-start in Docker mode.
    #[arg(long)]
    backend_compose: Option<PathBuf>,
    /// Where the dashboard listens (--local).
    #[arg(long, default_value = "127.0.0.1:3001")]
    listen: SocketAddr,
    /// Where the reference backend listens when this command starts it (--local).
    #[arg(long, default_value = "127.0.0.1:8000")]
    backend_listen: SocketAddr,
    /// Use an already running SSE service at this origin instead of starting the
    /// reference backend, e.g. http://127.0.0.1:8080 (--local).
    #[arg(long)]
    backend_url: Option<String>,
    /// The reference backend's binary (default: sse-backend beside this program).
    #[arg(long)]
    backend_bin: Option<PathBuf>,
    /// The built bundle (default: <project>/dist) (--local).
    #[arg(long)]
    dist: Option<PathBuf>,
    /// Also serve HTTPS with HTTP/2 here, e.g. 127.0.0.1:3443: load tests at a
    /// concurrency above 6 need it (browsers send 6 at a time over HTTP/1.1).
    #[arg(long)]
    tls_listen: Option<SocketAddr>,
    /// PEM certificate for --tls-listen (default: a self-signed one made at start).
    #[arg(long, requires_all = ["tls_key", "tls_listen"])]
    tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

fn main() {
    let result = match Cli::parse().command {
        Verb::Start(args) => start(&args),
        Verb::Stop(mode) => stop(&mode),
        Verb::Status(args) => status(&args),
        Verb::Restart(args) => stop(&args.mode).and_then(|()| start(&args)),
    };
    if let Err(error) = result {
        eprintln!("dashboard-ops: {error:#}");
        std::process::exit(1);
    }
}

fn project() -> anyhow::Result<PathBuf> {
    find_project_root(&std::env::current_dir()?)
}

fn health_url_of(origin: &str) -> String {
    format!("{}/api/v1/health", origin.trim_end_matches('/'))
}

/// Waits up to `timeout` for `url` to answer healthy.
fn wait_healthy(url: &str, timeout: Duration) -> Health {
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let health = http_check::get(
            url,
            left.min(Duration::from_secs(3))
                .max(Duration::from_millis(200)),
        );
        if matches!(health, Health::Up(_)) || Instant::now() >= deadline {
            return health;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The backend is down: say what to do, and ask whether to go on (`--yes`: go on).
fn confirm_without_backend(url: &str, reason: &str, args: &StartArgs) -> anyhow::Result<()> {
    eprintln!("The SSE service does not answer at {url}: {reason}.");
    eprintln!("The dashboard will show it as Disconnected until it does. To fix:");
    if args.mode.local {
        eprintln!("  - start the service, or drop --backend-url to use the reference backend, or");
    } else {
        eprintln!("  - start the service (in its project: `docker-compose up -d`), or");
        eprintln!("  - pass --auto-start --backend-compose <its docker-compose.yml>, or");
    }
    eprintln!("  - pass --yes to start the dashboard anyway.");
    if args.yes {
        eprintln!("--yes: starting anyway.");
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        bail!("the backend is down and there is no terminal to ask: pass --yes to start anyway");
    }
    eprint!("Start the dashboard anyway? [y/N] ");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        bail!("not started")
    }
}

fn start(args: &StartArgs) -> anyhow::Result<()> {
    if args.mode.local {
        start_local(args)
    } else {
        start_docker(args)
    }
}

fn start_docker(args: &StartArgs) -> anyhow::Result<()> {
    let project = project()?;
    let docker = Docker::connect()?;
    let timeout = Duration::from_secs(args.health_timeout);
    println!(
        "Checking the SSE service at {} ...",
        args.backend_health_url
    );
    if let Health::Down(reason) = wait_healthy(&args.backend_health_url, timeout) {
        if args.auto_start {
            let compose = args.backend_compose.as_ref().context(
                "--auto-start in Docker mode needs the service's compose file: --backend-compose PATH",
            )?;
            println!("Starting the SSE service ({}) ...", compose.display());
            let status = Command::new("docker")
                .args(["compose", "-f"])
                .arg(compose)
                .args(["up", "-d"])
                .status()
                .context("cannot run docker compose")?;
            if !status.success() {
                bail!("the SSE service did not start ({status})");
            }
            if let Health::Down(reason) = wait_healthy(&args.backend_health_url, timeout) {
                bail!(
                    "the SSE service started but is not healthy within {} s: {reason}",
                    args.health_timeout
                );
            }
        } else {
            confirm_without_backend(&args.backend_health_url, &reason, args)?;
        }
    }
    if !args.skip_build {
        println!(
            "Building the image (the first build compiles the toolchain: about 20 minutes) ..."
        );
        docker.compose(&project, &["build"])?;
    }
    docker.compose(&project, &["up", "-d"])?;
    println!("Dashboard: http://localhost:3001/ (container {CONTAINER})");
    Ok(())
}

fn stop(mode: &ModeArgs) -> anyhow::Result<()> {
    let project = project()?;
    if !mode.local {
        let docker = Docker::connect()?;
        docker.compose(&project, &["down"])?;
        println!("Stopped.");
        return Ok(());
    }
    let Some(state) = LocalState::read(&project) else {
        println!(
            "No local dashboard is running (no {}).",
            dashboard_ops::local_state::state_file(&project).display()
        );
        return Ok(());
    };
    if !state.is_alive() {
        LocalState::remove(&project);
        println!(
            "The local dashboard (pid {}) had already stopped.",
            state.pid
        );
        return Ok(());
    }
    // SAFETY: a plain signal to the process recorded by `start --local`.
    unsafe { libc::kill(state.pid as libc::pid_t, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(15);
    // Done when the process is gone or has removed its state (its last act;
    // a parent that has not reaped it yet keeps it "alive" as a zombie).
    while state.is_alive() && LocalState::read(&project).is_some() {
        if Instant::now() > deadline {
            bail!(
                "pid {} did not stop within 15 s; stop it with `kill {}`",
                state.pid,
                state.pid
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("Stopped the local dashboard (pid {}).", state.pid);
    Ok(())
}

fn describe(health: &Health) -> String {
    match health {
        Health::Up(body) => format!("healthy {}", body.trim()),
        Health::Down(reason) => format!("DOWN ({reason})"),
    }
}

fn status(args: &StatusArgs) -> anyhow::Result<()> {
    let project = project()?;
    let timeout = Duration::from_secs(3);
    if args.mode.local {
        let Some(state) = LocalState::read(&project).filter(LocalState::is_alive) else {
            println!("Dashboard: not running (start it with `dashboard-ops start --local`)");
            return Ok(());
        };
        println!("Dashboard: running (pid {})", state.pid);
        println!("URL:       {}/", state.url);
        if let Some(tls) = &state.tls_url {
            println!("HTTPS:     {tls}/");
        }
        println!(
            "nginx:     {}",
            describe(&http_check::get(&format!("{}/health", state.url), timeout))
        );
        println!(
            "Backend:   {} {}",
            state.backend_url,
            describe(&http_check::get(
                &health_url_of(&state.backend_url),
                timeout
            ))
        );
        return Ok(());
    }
    let docker = Docker::connect()?;
    match docker.container_state() {
        Some(state) => {
            println!("Dashboard: container {CONTAINER} {state}");
            println!("URL:       http://localhost:3001/");
            println!(
                "nginx:     {}",
                describe(&http_check::get("http://127.0.0.1:3001/health", timeout))
            );
        }
        None => {
            println!("Dashboard: no container {CONTAINER} (start it with `dashboard-ops start`)")
        }
    }
    println!(
        "Backend:   {} {}",
        args.backend_health_url,
        describe(&http_check::get(&args.backend_health_url, timeout))
    );
    Ok(())
}

fn build_bundle(project: &Path) -> anyhow::Result<()> {
    println!("Building the release bundle (scripts/build-bundle) ...");
    let status = Command::new(project.join("scripts/build-bundle"))
        .current_dir(project)
        .status()
        .context("cannot run scripts/build-bundle")?;
    if !status.success() {
        bail!("the bundle did not build ({status}); run scripts/setup first if tools are missing");
    }
    Ok(())
}

fn start_local(args: &StartArgs) -> anyhow::Result<()> {
    let project = project()?;
    if let Some(state) = LocalState::read(&project).filter(LocalState::is_alive) {
        bail!(
            "a local dashboard already runs (pid {}, {}/): `dashboard-ops stop --local` first",
            state.pid,
            state.url
        );
    }
    if !args.skip_build {
        build_bundle(&project)?;
    }
    let dist = args.dist.clone().unwrap_or_else(|| project.join("dist"));
    let timeout = Duration::from_secs(args.health_timeout);

    let external = match &args.backend_url {
        Some(url) => {
            match wait_healthy(&health_url_of(url), timeout) {
                Health::Up(_) => Some(url.clone()),
                Health::Down(reason) if args.auto_start => {
                    eprintln!("{url} is down ({reason}); --auto-start: using the reference backend instead.");
                    None
                }
                Health::Down(reason) => {
                    confirm_without_backend(&health_url_of(url), &reason, args)?;
                    Some(url.clone())
                }
            }
        }
        None => None,
    };
    let (mut backend, backend_url) = match external {
        Some(url) => (None, url),
        None => {
            let binary = match &args.backend_bin {
                Some(path) => path.clone(),
                None => std::env::current_exe()?
                    .parent()
                    .context("this program has no folder")?
                    .join("sse-backend"),
            };
            let backend = Backend::start(&binary, args.backend_listen)?;
            let origin = backend.origin();
            (Some(backend), origin)
        }
    };
    let tls = args.tls_listen.map(|listen| TlsListener {
        listen,
        certificate: args.tls_cert.clone().zip(args.tls_key.clone()),
    });
    let mut nginx = Nginx::start_with_tls(&project, &dist, args.listen, &backend_url, tls)?;
    let state = LocalState {
        pid: std::process::id(),
        url: nginx.url(),
        tls_url: nginx.tls_url(),
        backend_url: backend_url.clone(),
    };
    state.write(&project)?;

    println!("Dashboard:  {}/", nginx.url());
    if let Some(url) = nginx.tls_url() {
        println!("HTTPS:      {url}/  (HTTP/2: use it for load tests above 6 concurrent requests)");
    }
    println!("API:        {}/api/v1 -> {backend_url}/api/v1", nginx.url());
    println!("Press Ctrl-C (or run `dashboard-ops stop --local`) to stop.");

    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let outcome = loop {
        if stop_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            println!("\nStopping...");
            break Ok(());
        }
        if let Some(status) = nginx.process().exited() {
            break Err(anyhow::anyhow!(
                "nginx stopped unexpectedly ({status}):\n{}",
                nginx.error_log()
            ));
        }
        if let Some(backend) = backend.as_mut() {
            if let Some(status) = backend.process().exited() {
                break Err(anyhow::anyhow!(
                    "sse-backend stopped unexpectedly ({status}):\n{}",
                    backend.process().log_tail(4000)
                ));
            }
        }
    };
    drop(nginx);
    drop(backend);
    LocalState::remove(&project);
    outcome?;
    println!("Stopped.");
    Ok(())
}
