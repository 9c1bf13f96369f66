//! One module per verb, and what they share: the project root and the
//! backend's health check.

pub mod start_docker;
pub mod start_local;
pub mod status;
pub mod stop;

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use anyhow::bail;
use dashboard_ops::http_check::Health;
use dashboard_ops::local_stack::find_project_root;

use crate::cli::StartArgs;

pub fn project() -> anyhow::Result<PathBuf> {
    find_project_root(&std::env::current_dir()?)
}

pub fn health_url_of(origin: &str) -> String {
    format!("{}/api/v1/health", origin.trim_end_matches('/'))
}

/// The backend is down: say what to do, and ask whether to go on (`--yes`: go on).
pub fn confirm_without_backend(url: &str, reason: &str, args: &StartArgs) -> anyhow::Result<()> {
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

pub fn describe(health: &Health) -> String {
    match health {
        Health::Up(body) => format!("healthy {}", body.trim()),
        Health::Down(reason) => format!("DOWN ({reason})"),
    }
}
