use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use dashboard_ops::local_stack::{find_project_root, Backend, Nginx};

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
    let mut nginx = Nginx::start(&project, &dist, args.listen, &backend_url)?;

    println!("Dashboard:  {}/", nginx.url());
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
