//! The command line: verbs, flags and their defaults (each default named once).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The SSE service's health URL as seen from this machine (Docker mode).
pub const DEFAULT_BACKEND_HEALTH_URL: &str = "http://127.0.0.1:8000/api/v1/health";
/// Seconds to wait for the backend's health.
pub const DEFAULT_HEALTH_TIMEOUT_S: u64 = 10;
/// Where the local dashboard listens.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3001";
/// Where the reference backend listens when `start --local` starts it.
pub const DEFAULT_BACKEND_LISTEN: &str = "127.0.0.1:8000";
/// The dashboard's address when it runs in Docker (docker-compose.yml publishes 3001).
pub const DOCKER_DASHBOARD_URL: &str = "http://localhost:3001/";
/// nginx's own health check of the container.
pub const DOCKER_NGINX_HEALTH_URL: &str = "http://127.0.0.1:3001/health";

/// Manages the performance dashboard's lifecycle: in Docker (the default: the
/// image from the project's Dockerfile, on the service's `sse-network`), or with
/// --local on this machine (the release bundle behind the project's nginx.conf in
/// a local nginx, plus the reference backend).
#[derive(Debug, Parser)]
#[command(version)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Verb,
}

#[derive(Debug, Subcommand)]
pub enum Verb {
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
pub struct ModeArgs {
    /// The local stack instead of Docker.
    #[arg(long)]
    pub local: bool,
}

#[derive(Debug, Args, Clone)]
pub struct StatusArgs {
    #[command(flatten)]
    pub mode: ModeArgs,
    /// The SSE service's health URL, as seen from this machine.
    #[arg(long, default_value = DEFAULT_BACKEND_HEALTH_URL)]
    pub backend_health_url: String,
}

/// Where the Prometheus server of `--instances` listens.
pub const DEFAULT_PROMETHEUS_LISTEN: &str = "127.0.0.1:9090";

#[derive(Debug, Args, Clone)]
pub struct StartArgs {
    #[command(flatten)]
    pub mode: ModeArgs,
    /// Start the backend when it is down: with --local the reference backend;
    /// in Docker the compose file given with --backend-compose.
    #[arg(long)]
    pub auto_start: bool,
    /// Use the bundle (or image) as built; do not build first.
    #[arg(long)]
    pub skip_build: bool,
    /// How long to wait for the backend's health, in seconds.
    #[arg(long, default_value_t = DEFAULT_HEALTH_TIMEOUT_S, value_name = "SECS")]
    pub health_timeout: u64,
    /// Continue without asking when the backend is down (for scripts).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// The SSE service's health URL, as seen from this machine (Docker mode).
    #[arg(long, default_value = DEFAULT_BACKEND_HEALTH_URL)]
    pub backend_health_url: String,
    /// The SSE service's docker-compose file, for --auto-start in Docker mode.
    #[arg(long)]
    pub backend_compose: Option<PathBuf>,
    /// Where the dashboard listens (--local).
    #[arg(long, default_value = DEFAULT_LISTEN)]
    pub listen: SocketAddr,
    /// Where the reference backend listens when this command starts it (--local).
    #[arg(long, default_value = DEFAULT_BACKEND_LISTEN)]
    pub backend_listen: SocketAddr,
    /// Use an already running SSE service at this origin instead of starting the
    /// reference backend, e.g. http://127.0.0.1:8080 (--local).
    #[arg(long)]
    pub backend_url: Option<String>,
    /// Start N reference backends (app-1 … app-N, on the ports after
    /// --backend-listen's) sharing a real Redis, behind a real nginx load
    /// balancer on --backend-listen; the dashboard shows them as one cluster
    /// (--local; 1–10; 0 = one backend, no balancer).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub instances: usize,
    /// The instances behind --backend-url, to watch each one:
    /// "app-1=http://host:port,app-2=http://host:port" (--local; the
    /// container's BACKEND_INSTANCES). Each is proxied at /instances/<name>/.
    #[arg(long, value_name = "LIST", conflicts_with = "instances")]
    pub backend_instances: Option<String>,
    /// The reference backend's binary (default: sse-backend beside this program).
    #[arg(long)]
    pub backend_bin: Option<PathBuf>,
    /// The built bundle (default: <project>/dist) (--local).
    #[arg(long)]
    pub dist: Option<PathBuf>,
    /// Also serve HTTPS with HTTP/2 here, e.g. 127.0.0.1:3443: load tests at a
    /// concurrency above 6 need it (browsers send 6 at a time over HTTP/1.1).
    #[arg(long)]
    pub tls_listen: Option<SocketAddr>,
    /// PEM certificate for --tls-listen (default: a self-signed one made at start).
    #[arg(long, requires_all = ["tls_key", "tls_listen"])]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A Prometheus server that scrapes the service, http://host:port: the
    /// dashboard proxies it at /prometheus/ (without any credential) and reads
    /// it as a statistics source (--local). With --instances one is started
    /// when this is not given.
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Where the Prometheus server that --instances starts listens (--local).
    #[arg(long, default_value = DEFAULT_PROMETHEUS_LISTEN)]
    pub prometheus_listen: SocketAddr,
}
