//! `status`: the dashboard's state, its URL and both health checks.

use std::time::Duration;

use dashboard_ops::docker::{Docker, CONTAINER};
use dashboard_ops::http_check;
use dashboard_ops::local_state::LocalState;

use super::{describe, health_url_of, project};
use crate::cli::{StatusArgs, DOCKER_DASHBOARD_URL, DOCKER_NGINX_HEALTH_URL};

pub fn status(args: &StatusArgs) -> anyhow::Result<()> {
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
            println!("URL:       {DOCKER_DASHBOARD_URL}");
            println!(
                "nginx:     {}",
                describe(&http_check::get(DOCKER_NGINX_HEALTH_URL, timeout))
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
