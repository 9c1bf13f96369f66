use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use dashboard_ops::local_stack::{find_project_root, Backend, Nginx, TlsListener};

/// Manages the performance dashboard's lifecycle.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Verb,
}

#[derive(Debug, Subcommand)]
enum Verb {
    /// Start the dashboard. With --local: the release bundle behind the project's
    /// nginx.conf in a local nginx, plus the reference backend; stops on Ctrl-C.
    Start(StartArgs),
}

#[derive(Debug, clap::Args)]
struct StartArgs {
    /// Run without Docker, on this machine (the only mode this version has).
    #[arg(long)]
    local: bool,
    /// Where the dashboard listens.
    #[arg(long, default_value = "127.0.0.1:3001")]
    listen: SocketAddr,
    /// Where the reference backend listens (started by this command).
    #[arg(long, default_value = "127.0.0.1:8000", conflicts_with = "backend_url")]
    backend_listen: SocketAddr,
    /// Use an already running SSE service at this origin instead of starting one,
    /// e.g. http://127.0.0.1:8080 (nginx proxies /api/ to it).
    #[arg(long)]
    backend_url: Option<String>,
    /// The reference backend's binary (default: sse-backend beside this program).
    #[arg(long)]
    backend_bin: Option<PathBuf>,
    /// The built bundle (default: <project>/dist).
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

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Verb::Start(args) => start(args),
    }
}

fn start(args: StartArgs) -> anyhow::Result<()> {
    if !args.local {
        bail!("only `start --local` exists in this version; Docker mode comes with the deployment work (see README)");
    }
    let project = find_project_root(&std::env::current_dir()?)?;
    let dist = args.dist.unwrap_or_else(|| project.join("dist"));

    let (mut backend, backend_url) = match args.backend_url {
        Some(url) => (None, url),
        None => {
            let binary = match args.backend_bin {
                Some(path) => path,
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
        certificate: args.tls_cert.zip(args.tls_key),
    });
    let mut nginx = Nginx::start_with_tls(&project, &dist, args.listen, &backend_url, tls)?;

    println!("Dashboard:  {}/", nginx.url());
    if let Some(url) = nginx.tls_url() {
        println!("HTTPS:      {url}/  (HTTP/2: use it for load tests above 6 concurrent requests)");
    }
    println!("API:        {}/api/v1 -> {backend_url}/api/v1", nginx.url());
    println!("Press Ctrl-C to stop.");

    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    loop {
        if stop_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            println!("\nStopping...");
            break;
        }
        if let Some(status) = nginx.process().exited() {
            bail!(
                "nginx stopped unexpectedly ({status}):\n{}",
                nginx.error_log()
            );
        }
        if let Some(backend) = backend.as_mut() {
            if let Some(status) = backend.process().exited() {
                bail!(
                    "sse-backend stopped unexpectedly ({status}):\n{}",
                    backend.process().log_tail(4000)
                );
            }
        }
    }
    drop(nginx);
    drop(backend);
    println!("Stopped.");
    Ok(())
}
