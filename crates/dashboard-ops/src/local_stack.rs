//! The local stack: the release bundle behind the project's nginx.conf in a real
//! nginx, and optionally the reference backend, all on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::nginx_conf::NginxSettings;
use crate::process::{find_program, Supervised};

/// How long a service may take to start listening.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// The repository root: the nearest ancestor of `start` holding nginx.conf and Trunk.toml.
pub fn find_project_root(start: &Path) -> anyhow::Result<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.join("nginx.conf").is_file() && dir.join("Trunk.toml").is_file())
        .map(Path::to_path_buf)
        .with_context(|| {
            format!(
                "no project root (a folder with nginx.conf and Trunk.toml) above {}",
                start.display()
            )
        })
}

/// nginx serving `dist` on `listen` and proxying `/api/` to `backend_url`.
pub struct Nginx {
    // Field order matters: the process stops before its runtime dir is removed.
    process: Supervised,
    runtime: tempfile::TempDir,
    listen: SocketAddr,
}

impl Nginx {
    /// Renders `<project>/nginx.conf` and starts nginx in the foreground.
    pub fn start(
        project_root: &Path,
        dist: &Path,
        listen: SocketAddr,
        backend_url: &str,
    ) -> anyhow::Result<Self> {
        if !dist.join("index.html").is_file() {
            bail!(
                "{} has no index.html: build the bundle first (scripts/build-bundle)",
                dist.display()
            );
        }
        let nginx = find_program("nginx").context("nginx is not installed: run scripts/setup")?;
        let runtime = tempfile::Builder::new()
            .prefix("dashboard-nginx-")
            .tempdir()?;
        let dist = dist
            .canonicalize()
            .with_context(|| format!("cannot resolve {}", dist.display()))?;
        let settings = NginxSettings {
            listen: listen.to_string(),
            root: dist.display().to_string(),
            backend_url: backend_url.trim_end_matches('/').to_owned(),
            runtime_dir: runtime.path().display().to_string(),
        };
        let template_path = project_root.join("nginx.conf");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("cannot read {}", template_path.display()))?;
        let config_path = runtime.path().join("nginx.conf");
        std::fs::write(&config_path, settings.render(&template)?)?;

        // Run as root (CI and containers), workers would otherwise drop to `nobody`,
        // who may not read a checkout under /root.
        // SAFETY: geteuid has no preconditions.
        let globals = if unsafe { libc::geteuid() } == 0 {
            "daemon off; user root;"
        } else {
            "daemon off;"
        };
        let mut command = Command::new(nginx);
        command
            .arg("-p")
            .arg(runtime.path())
            .arg("-e")
            .arg(runtime.path().join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .args(["-g", globals]);
        let mut process = Supervised::spawn("nginx", command, &runtime.path().join("nginx.out"))?;
        if let Err(error) = process.wait_for_port(listen, START_TIMEOUT) {
            let log = std::fs::read_to_string(runtime.path().join("error.log")).unwrap_or_default();
            bail!("{error}\nnginx error.log:\n{log}");
        }
        Ok(Self {
            process,
            runtime,
            listen,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn runtime_dir(&self) -> &Path {
        self.runtime.path()
    }

    /// nginx's error log so far.
    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.runtime.path().join("error.log")).unwrap_or_default()
    }

    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }
}

/// The reference backend started from its binary.
pub struct Backend {
    process: Supervised,
    _logs: tempfile::TempDir,
    listen: SocketAddr,
}

impl Backend {
    pub fn start(binary: &Path, listen: SocketAddr) -> anyhow::Result<Self> {
        if !binary.is_file() {
            bail!(
                "{} does not exist: build it with `cargo build --release -p sse-backend`",
                binary.display()
            );
        }
        let logs = tempfile::Builder::new().prefix("sse-backend-").tempdir()?;
        let mut command = Command::new(binary);
        command.arg("--listen").arg(listen.to_string());
        let process = Supervised::spawn_listening(
            "sse-backend",
            command,
            &logs.path().join("backend.log"),
            listen,
            START_TIMEOUT,
        )?;
        Ok(Self {
            process,
            _logs: logs,
            listen,
        })
    }

    /// The service origin (what nginx proxies `/api/` to).
    pub fn origin(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }
}
