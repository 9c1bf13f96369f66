//! The local stack: the release bundle behind the project's nginx.conf in a real
//! nginx, and optionally the reference backend, all on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::nginx_conf::{
    backend_address, render_instance, render_prometheus, NginxSettings, TlsSettings,
    DEFAULT_CSP_CONNECT_SRC, INSTANCE_INCLUDE_DIR, PROMETHEUS_INCLUDE_DIR, TLS_INCLUDE_DIR,
};
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

/// The optional TLS + HTTP/2 listener.
#[derive(Debug, Clone)]
pub struct TlsListener {
    pub listen: SocketAddr,
    /// PEM certificate and key; `None`: a self-signed one is made at start.
    pub certificate: Option<(PathBuf, PathBuf)>,
}

/// Makes a self-signed certificate for `localhost` and `127.0.0.1` in `dir`
/// with the `openssl` program: (certificate, key).
pub fn self_signed_certificate(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    let openssl = find_program("openssl").context("openssl is not installed: run scripts/setup")?;
    let (certificate, key) = (dir.join("self-signed.crt"), dir.join("self-signed.key"));
    let output = Command::new(openssl)
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
        ])
        .args(["-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&certificate)
        .output()
        .context("cannot run openssl")?;
    if !output.status.success() {
        bail!(
            "openssl could not make a certificate:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok((certificate, key))
}

/// nginx serving `dist` on `listen` (and on a TLS + HTTP/2 listener when
/// asked) and proxying `/api/` to `backend_url`.
pub struct Nginx {
    // Field order matters: the process stops before its runtime dir is removed.
    process: Supervised,
    runtime: tempfile::TempDir,
    listen: SocketAddr,
    tls_listen: Option<SocketAddr>,
}

impl Nginx {
    /// Renders `<project>/nginx.conf` and starts nginx in the foreground.
    pub fn start(
        project_root: &Path,
        dist: &Path,
        listen: SocketAddr,
        backend_url: &str,
    ) -> anyhow::Result<Self> {
        Self::start_with_tls(project_root, dist, listen, backend_url, None)
    }

    /// As [`Self::start`], plus the TLS + HTTP/2 listener of `<project>/nginx-tls.conf`.
    pub fn start_with_tls(
        project_root: &Path,
        dist: &Path,
        listen: SocketAddr,
        backend_url: &str,
        tls: Option<TlsListener>,
    ) -> anyhow::Result<Self> {
        Self::start_with_instances(project_root, dist, listen, backend_url, tls, &[])
    }

    /// As [`Self::start_with_tls`], plus `/instances/<name>/` proxied to each
    /// (name, `http://host:port` origin) of `instances`, which config.json then
    /// lists (in a copy of the bundle).
    pub fn start_with_instances(
        project_root: &Path,
        dist: &Path,
        listen: SocketAddr,
        backend_url: &str,
        tls: Option<TlsListener>,
        instances: &[(String, String)],
    ) -> anyhow::Result<Self> {
        Self::start_with_routes(
            project_root,
            dist,
            listen,
            backend_url,
            tls,
            &Routes {
                instances,
                prometheus: None,
            },
        )
    }

    /// As [`Self::start_with_instances`], and `/prometheus/` proxied to the
    /// Prometheus server of `routes`, which config.json then names.
    pub fn start_with_routes(
        project_root: &Path,
        dist: &Path,
        listen: SocketAddr,
        backend_url: &str,
        tls: Option<TlsListener>,
        routes: &Routes<'_>,
    ) -> anyhow::Result<Self> {
        let instances = routes.instances;
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
        // Started as root (CI, containers), nginx's workers run as an unprivileged
        // user, as in the image; one who cannot read the bundle where it is (a
        // checkout under /root) is served a copy in the runtime folder.
        let worker_user = unprivileged_worker_user();
        if worker_user.is_some() {
            open_to_workers(runtime.path())?;
        }
        let own_config = !instances.is_empty() || routes.prometheus.is_some();
        let served = if !own_config && (worker_user.is_none() || readable_by_others(&dist)) {
            dist
        } else {
            let copy = runtime.path().join("dist");
            copy_tree(&dist, &copy)?;
            if own_config {
                write_routes_config(&copy, routes)?;
            }
            copy
        };
        if let Some(origin) = routes.prometheus {
            let template_path = project_root.join("nginx-prometheus.conf");
            let template = std::fs::read_to_string(&template_path)
                .with_context(|| format!("cannot read {}", template_path.display()))?;
            let address =
                backend_address(origin).map_err(|e| anyhow::anyhow!("the Prometheus URL: {e}"))?;
            let dir = runtime.path().join(PROMETHEUS_INCLUDE_DIR);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(
                dir.join("prometheus.conf"),
                render_prometheus(&template, &address)?,
            )?;
        }
        if !instances.is_empty() {
            let template_path = project_root.join("nginx-instance.conf");
            let template = std::fs::read_to_string(&template_path)
                .with_context(|| format!("cannot read {}", template_path.display()))?;
            let dir = runtime.path().join(INSTANCE_INCLUDE_DIR);
            std::fs::create_dir_all(&dir)?;
            for (name, origin) in instances {
                let address = backend_address(origin).map_err(anyhow::Error::msg)?;
                std::fs::write(
                    dir.join(format!("{name}.conf")),
                    render_instance(&template, name, &address)?,
                )?;
            }
        }
        let globals = match worker_user {
            Some(user) => format!("daemon off; user {user};"),
            None => "daemon off;".to_owned(),
        };
        let settings = NginxSettings {
            listen: listen.to_string(),
            root: served.display().to_string(),
            backend_address: backend_address(backend_url).map_err(anyhow::Error::msg)?,
            csp_connect_src: DEFAULT_CSP_CONNECT_SRC.to_owned(),
            runtime_dir: runtime.path().display().to_string(),
        };
        let template_path = project_root.join("nginx.conf");
        let template = std::fs::read_to_string(&template_path)
            .with_context(|| format!("cannot read {}", template_path.display()))?;
        let config_path = runtime.path().join("nginx.conf");
        std::fs::write(&config_path, settings.render(&template)?)?;
        if let Some(tls) = &tls {
            let (certificate, key) = match &tls.certificate {
                Some(pair) => pair.clone(),
                None => self_signed_certificate(runtime.path())?,
            };
            let tls_template_path = project_root.join("nginx-tls.conf");
            let tls_template = std::fs::read_to_string(&tls_template_path)
                .with_context(|| format!("cannot read {}", tls_template_path.display()))?;
            let rendered = TlsSettings {
                listen: tls.listen.to_string(),
                certificate: certificate.display().to_string(),
                key: key.display().to_string(),
            }
            .render(&tls_template)?;
            let include_dir = runtime.path().join(TLS_INCLUDE_DIR);
            std::fs::create_dir_all(&include_dir)?;
            std::fs::write(include_dir.join("listener.conf"), rendered)?;
        }

        let mut process = spawn_nginx("nginx", &nginx, runtime.path(), &config_path, &globals)?;
        let tls_listen = tls.map(|t| t.listen);
        for port in std::iter::once(listen).chain(tls_listen) {
            if let Err(error) = process.wait_for_port(port, START_TIMEOUT) {
                let log =
                    std::fs::read_to_string(runtime.path().join("error.log")).unwrap_or_default();
                bail!("{error}\nnginx error.log:\n{log}");
            }
        }
        Ok(Self {
            process,
            runtime,
            listen,
            tls_listen,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.listen)
    }

    /// The HTTPS (HTTP/2) address, when TLS is on.
    pub fn tls_url(&self) -> Option<String> {
        self.tls_listen.map(|a| format!("https://{a}"))
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

/// What the dashboard's nginx proxies besides the service.
#[derive(Debug, Default)]
pub struct Routes<'a> {
    /// (name, `http://host:port` origin) of each instance, at `/instances/<name>/`.
    pub instances: &'a [(String, String)],
    /// The Prometheus server's origin, at `/prometheus/`.
    pub prometheus: Option<&'a str>,
}

/// Where the browser reaches the Prometheus server through the dashboard's nginx.
pub const PROXIED_PROMETHEUS: &str = "/prometheus";

/// Adds the routes to the bundle's config.json (the form the entrypoint
/// writes), without the stale pre-compressed copy.
fn write_routes_config(dist: &Path, routes: &Routes<'_>) -> anyhow::Result<()> {
    let path = dist.join("config.json");
    let mut config: serde_json::Value = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| serde_json::json!({}));
    if !routes.instances.is_empty() {
        let list: Vec<_> = routes
            .instances
            .iter()
            .map(|(name, _)| {
                serde_json::json!({ "name": name, "api_base": sse_core::contract::instances::proxied_api_base(name) })
            })
            .collect();
        config["instances"] = serde_json::Value::Array(list);
    }
    if routes.prometheus.is_some() {
        config["prometheus"] = PROXIED_PROMETHEUS.into();
    }
    std::fs::write(&path, serde_json::to_string_pretty(&config)?)?;
    let _ = std::fs::remove_file(dist.join("config.json.gz"));
    Ok(())
}

/// Starts `nginx` in the foreground with `config`, its prefix, error log and
/// output in `runtime`.
pub(crate) fn spawn_nginx(
    name: &str,
    nginx: &Path,
    runtime: &Path,
    config: &Path,
    globals: &str,
) -> anyhow::Result<Supervised> {
    let mut command = Command::new(nginx);
    command
        .arg("-p")
        .arg(runtime)
        .arg("-e")
        .arg(runtime.join("error.log"))
        .arg("-c")
        .arg(config)
        .arg("-g")
        .arg(globals);
    Supervised::spawn(name, command, &runtime.join("nginx.out"))
}

/// The user and group nginx's workers run as when nginx is started as root:
/// `nobody` and Debian's `nogroup` (or a group `nobody` elsewhere). `None` when
/// not root: the workers then run as the starting user.
pub fn unprivileged_worker_user() -> Option<&'static str> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return None;
    }
    let groups = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let has_nogroup = groups.lines().any(|l| l.starts_with("nogroup:"));
    Some(if has_nogroup {
        "nobody nogroup"
    } else {
        "nobody nobody"
    })
}

/// Lets the workers into the runtime folder (a temporary folder is 0700), where
/// nginx makes its temporary-file folders for them.
pub(crate) fn open_to_workers(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("cannot open {} to nginx's workers", dir.display()))
}

/// Whether any user may read `dir`'s files: every folder from the root down
/// to it can be entered by others, and its files are readable by others.
fn readable_by_others(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.permissions().mode());
    fn tree_open(dir: &Path, mode: &dyn Fn(&Path) -> u32) -> bool {
        std::fs::read_dir(dir).is_ok_and(|entries| {
            entries.flatten().all(|e| {
                let path = e.path();
                if path.is_dir() {
                    mode(&path) & 0o005 == 0o005 && tree_open(&path, mode)
                } else {
                    mode(&path) & 0o004 != 0
                }
            })
        })
    }
    dir.ancestors().all(|a| mode(a) & 0o001 != 0) && mode(dir) & 0o004 != 0 && tree_open(dir, &mode)
}

/// Copies the bundle (files and folders) with permissions every user can read.
pub fn copy_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(to)?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644))?;
        }
    }
    Ok(())
}

/// The reference backend started from its binary.
pub struct Backend {
    process: Supervised,
    logs: tempfile::TempDir,
    command: BackendCommand,
}

/// What a backend was started with, to start it again the same way.
#[derive(Debug, Clone)]
struct BackendCommand {
    binary: PathBuf,
    listen: SocketAddr,
    instance_id: Option<String>,
    redis_url: Option<String>,
    /// More environment (the fake LLM's timings in tests).
    envs: Vec<(String, String)>,
}

impl BackendCommand {
    fn spawn(&self, log: &Path) -> anyhow::Result<Supervised> {
        if !self.binary.is_file() {
            bail!(
                "{} does not exist: build it with `cargo build --release -p sse-backend`",
                self.binary.display()
            );
        }
        let mut command = Command::new(&self.binary);
        command.arg("--listen").arg(self.listen.to_string());
        if let Some(id) = &self.instance_id {
            command.arg("--instance-id").arg(id);
        }
        if let Some(url) = &self.redis_url {
            command.env("REDIS_URL", url);
        }
        command.envs(self.envs.iter().map(|(k, v)| (k, v)));
        let name = self.instance_id.as_deref().unwrap_or("sse-backend");
        Supervised::spawn_listening(name, command, log, self.listen, START_TIMEOUT)
    }
}

impl Backend {
    pub fn start(binary: &Path, listen: SocketAddr) -> anyhow::Result<Self> {
        Self::start_instance(binary, listen, None, None, &[])
    }

    /// One instance of several: its id (`--instance-id`) and the shared Redis.
    pub fn start_instance(
        binary: &Path,
        listen: SocketAddr,
        instance_id: Option<&str>,
        redis_url: Option<&str>,
        envs: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let command = BackendCommand {
            binary: binary.to_owned(),
            listen,
            instance_id: instance_id.map(str::to_owned),
            redis_url: redis_url.map(str::to_owned),
            envs: envs.to_vec(),
        };
        let logs = tempfile::Builder::new().prefix("sse-backend-").tempdir()?;
        let process = command.spawn(&logs.path().join("backend.log"))?;
        Ok(Self {
            process,
            logs,
            command,
        })
    }

    /// Starts it again as it was started (after [`Self::kill`]).
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.process.stop(Duration::from_secs(3));
        self.process = self.command.spawn(&self.logs.path().join("backend.log"))?;
        Ok(())
    }

    /// SIGKILL: the process ends at once, its open streams with it.
    pub fn kill(&mut self) {
        self.process.kill();
    }

    /// The service origin (what nginx proxies `/api/` to).
    pub fn origin(&self) -> String {
        format!("http://{}", self.command.listen)
    }

    pub fn instance_id(&self) -> Option<&str> {
        self.command.instance_id.as_deref()
    }

    pub fn process(&mut self) -> &mut Supervised {
        &mut self.process
    }
}
