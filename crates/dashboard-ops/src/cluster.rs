//! Several instances behind a load balancer, on one machine: a real Redis,
//! N reference backends sharing it (`app-1` … `app-N`), and a real nginx in
//! front with the project's nginx-balancer.conf (`least_conn`, SSE-safe,
//! `X-Upstream-Addr` on every answer), as the service's own deployment runs.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::local_stack::{
    open_to_workers, spawn_nginx, unprivileged_worker_user, Backend, START_TIMEOUT,
};
use crate::nginx_conf::render_balancer;
use crate::process::{find_program, free_local_port, Supervised};

/// Most instances `--instances` starts (each is a process with its own port).
pub const MAX_LOCAL_INSTANCES: usize = 10;

/// The name of instance `index` (from 0): `app-1`, `app-2`, …
pub fn instance_name(index: usize) -> String {
    format!("app-{}", index + 1)
}

/// A Redis server on 127.0.0.1 that keeps nothing on disk.
pub struct Redis {
    _process: Supervised,
    _dir: tempfile::TempDir,
    listen: SocketAddr,
}

impl Redis {
    pub fn start(listen: SocketAddr) -> anyhow::Result<Self> {
        let redis = find_program("redis-server")
            .context("redis-server is not installed: run scripts/setup")?;
        let dir = tempfile::Builder::new().prefix("sse-redis-").tempdir()?;
        let mut command = Command::new(redis);
        command
            .args(["--bind", "127.0.0.1", "--port"])
            .arg(listen.port().to_string())
            .args(["--save", "", "--appendonly", "no", "--dir"])
            .arg(dir.path());
        let process = Supervised::spawn_listening(
            "redis-server",
            command,
            &dir.path().join("redis.log"),
            listen,
            START_TIMEOUT,
        )?;
        Ok(Self {
            _process: process,
            _dir: dir,
            listen,
        })
    }

    /// `redis://127.0.0.1:port`.
    pub fn url(&self) -> String {
        format!("redis://{}", self.listen)
    }
}

/// nginx as the service's load balancer.
pub struct Balancer {
    process: Supervised,
    runtime: tempfile::TempDir,
    listen: SocketAddr,
}

impl Balancer {
    /// Renders `<project>/nginx-balancer.conf` for `servers` (`host:port`) and starts nginx.
    pub fn start(
        project_root: &Path,
        listen: SocketAddr,
        servers: &[String],
    ) -> anyhow::Result<Self> {
        if servers.is_empty() {
            bail!("a load balancer needs at least one instance");
        }
        let nginx = find_program("nginx").context("nginx is not installed: run scripts/setup")?;
        let runtime = tempfile::Builder::new().prefix("sse-balancer-").tempdir()?;
        let globals = match unprivileged_worker_user() {
            Some(user) => {
                open_to_workers(runtime.path())?;
                format!("daemon off; user {user};")
            }
            None => "daemon off;".to_owned(),
        };
        let template_path = project_root.join("nginx-balancer.conf");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("cannot read {}", template_path.display()))?;
        let config = runtime.path().join("nginx.conf");
        let rendered = render_balancer(
            &template,
            &listen.to_string(),
            servers,
            &runtime.path().display().to_string(),
        )?;
        std::fs::write(&config, rendered)?;
        let mut process = spawn_nginx(
            "nginx (balancer)",
            &nginx,
            runtime.path(),
            &config,
            &globals,
        )?;
        if let Err(error) = process.wait_for_port(listen, START_TIMEOUT) {
            let log = std::fs::read_to_string(runtime.path().join("error.log")).unwrap_or_default();
            bail!("{error}\nbalancer error.log:\n{log}");
        }
        Ok(Self {
            process,
            runtime,
            listen,
        })
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.listen)
    }

    pub fn error_log(&self) -> String {
        std::fs::read_to_string(self.runtime.path().join("error.log")).unwrap_or_default()
    }

    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }
}

/// Where the parts of a cluster listen.
#[derive(Debug, Clone)]
pub struct ClusterAddresses {
    pub balancer: SocketAddr,
    /// One per instance.
    pub instances: Vec<SocketAddr>,
    pub redis: SocketAddr,
}

impl ClusterAddresses {
    /// `count` instances on free ports of 127.0.0.1.
    pub fn free(count: usize) -> anyhow::Result<Self> {
        let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
        Ok(Self {
            balancer: local(free_local_port()?),
            instances: (0..count)
                .map(|_| free_local_port().map(local))
                .collect::<anyhow::Result<_>>()?,
            redis: local(free_local_port()?),
        })
    }
}

/// Redis + the instances + the balancer; dropping it stops them all.
pub struct Cluster {
    // Field order: the balancer stops first, Redis last.
    pub balancer: Balancer,
    pub instances: Vec<Backend>,
    pub redis: Redis,
}

impl Cluster {
    pub fn start(
        project_root: &Path,
        backend_binary: &Path,
        addresses: &ClusterAddresses,
    ) -> anyhow::Result<Self> {
        Self::start_with_env(project_root, backend_binary, addresses, &[])
    }

    /// As [`Self::start`], with more environment for every instance.
    pub fn start_with_env(
        project_root: &Path,
        backend_binary: &Path,
        addresses: &ClusterAddresses,
        envs: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let count = addresses.instances.len();
        if count == 0 || count > MAX_LOCAL_INSTANCES {
            bail!("--instances must be between 1 and {MAX_LOCAL_INSTANCES} (got {count})");
        }
        let redis = Redis::start(addresses.redis)?;
        let instances = addresses
            .instances
            .iter()
            .enumerate()
            .map(|(i, &listen)| {
                Backend::start_instance(
                    backend_binary,
                    listen,
                    Some(&instance_name(i)),
                    Some(&redis.url()),
                    envs,
                )
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let servers: Vec<String> = addresses.instances.iter().map(|a| a.to_string()).collect();
        let balancer = Balancer::start(project_root, addresses.balancer, &servers)?;
        Ok(Self {
            balancer,
            instances,
            redis,
        })
    }

    /// (name, origin) of every instance: what the dashboard's nginx proxies
    /// `/instances/<name>/` to.
    pub fn instance_origins(&self) -> Vec<(String, String)> {
        self.instances
            .iter()
            .enumerate()
            .map(|(i, b)| {
                (
                    b.instance_id()
                        .map_or_else(|| instance_name(i), str::to_owned),
                    b.origin(),
                )
            })
            .collect()
    }

    /// The first part that stopped on its own, with its last output.
    pub fn failure(&mut self) -> Option<String> {
        if let Some(status) = self.balancer.process().exited() {
            return Some(format!(
                "the balancer stopped unexpectedly ({status}):\n{}",
                self.balancer.error_log()
            ));
        }
        self.instances.iter_mut().find_map(|b| {
            let name = b.instance_id().unwrap_or("sse-backend").to_owned();
            b.process().exited().map(|status| {
                format!(
                    "{name} stopped unexpectedly ({status}):\n{}",
                    b.process().log_tail(4000)
                )
            })
        })
    }
}
