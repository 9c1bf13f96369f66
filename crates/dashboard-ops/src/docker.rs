//! The Docker side of the lifecycle: the `docker` CLI and compose, driven as
//! programs. Every failure says what to do next.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context};

use crate::process::find_program;

/// The container docker-compose.yml names.
pub const CONTAINER: &str = "sse-performance-dashboard";

/// A Docker engine that answers, and the compose command to use with it.
#[derive(Debug, Clone)]
pub struct Docker {
    docker: PathBuf,
    /// `docker compose` (the plugin) or `docker-compose`.
    compose: Vec<PathBuf>,
}

fn quiet(program: &Path, args: &[&str]) -> std::io::Result<std::process::Output> {
    Command::new(program).args(args).output()
}

impl Docker {
    /// Finds Docker and checks that its engine runs.
    pub fn connect() -> anyhow::Result<Self> {
        let docker = find_program("docker").context(
            "Docker is not installed here. Install Docker Engine with compose \
             (https://docs.docker.com/engine/install/), or run without Docker: \
             `dashboard-ops start --local`",
        )?;
        let info = quiet(&docker, &["info", "--format", "{{.ServerVersion}}"])
            .context("cannot run `docker info`")?;
        if !info.status.success() {
            let said = String::from_utf8_lossy(&info.stderr);
            bail!(
                "Docker is installed but its engine does not answer:\n  {}\n\
                 Start it (e.g. `sudo systemctl start docker`, or open Docker Desktop) and try again, \
                 or run without Docker: `dashboard-ops start --local`",
                said.trim()
            );
        }
        let plugin = quiet(&docker, &["compose", "version"]).is_ok_and(|o| o.status.success());
        let compose = if plugin {
            vec![docker.clone()]
        } else {
            vec![find_program("docker-compose").context(
                "Docker runs, but neither `docker compose` nor `docker-compose` is installed: \
                 install the compose plugin (https://docs.docker.com/compose/install/)",
            )?]
        };
        Ok(Self { docker, compose })
    }

    /// Runs compose on the project's docker-compose.yml, its output shown.
    pub fn compose(&self, project: &Path, args: &[&str]) -> anyhow::Result<()> {
        let mut command = Command::new(&self.compose[0]);
        if self.compose[0] == self.docker {
            command.arg("compose");
        }
        command
            .arg("-f")
            .arg(project.join("docker-compose.yml"))
            .args(args)
            .current_dir(project);
        let status = command.status().context("cannot run compose")?;
        if !status.success() {
            bail!(
                "`compose {}` failed ({status}); its output is above",
                args.join(" ")
            );
        }
        Ok(())
    }

    /// The container's state (`running`, `exited`, ...) and health, if it exists.
    pub fn container_state(&self) -> Option<String> {
        let output = quiet(
            &self.docker,
            &[
                "inspect",
                "--format",
                "{{.State.Status}}{{if .State.Health}} ({{.State.Health.Status}}){{end}}",
                CONTAINER,
            ],
        )
        .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }
}
