//! `start` in Docker: the backend checked (or started), the image built, the
//! container started.

use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use dashboard_ops::docker::{Docker, CONTAINER};
use dashboard_ops::http_check::Health;

use super::{confirm_without_backend, project};
use crate::cli::{StartArgs, DOCKER_DASHBOARD_URL};
use dashboard_ops::http_check::wait_healthy;

pub fn start_docker(args: &StartArgs) -> anyhow::Result<()> {
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
    println!("Dashboard: {DOCKER_DASHBOARD_URL} (container {CONTAINER})");
    Ok(())
}
