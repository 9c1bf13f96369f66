//! The local stack: the release bundle behind the project's nginx.conf in a real
//! nginx, and optionally the reference backend, all on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::nginx_conf::{
    backend_address, NginxSettings, TlsSettings, DEFAULT_CSP_CONNECT_SRC, TLS_INCLUDE_DIR,
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
        let served = match worker_user {
            Some(_) => {
                open_to_workers(runtime.path())?;
                if readable_by_others(&dist) {
                    dist
                } else {
                    let copy = runtime.path().join("dist");
                    copy_tree(&dist, &copy)?;
                    copy
                }
            }
            None => dist,
        };
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

        let mut command = Command::new(nginx);
        command
            .arg("-p")
            .arg(runtime.path())
            .arg("-e")
            .arg(runtime.path().join("error.log"))
            .arg("-c")
            .arg(&config_path)
            .arg("-g")
            .arg(&globals);
        let mut process = Supervised::spawn("nginx", command, &runtime.path().join("nginx.out"))?;
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
fn open_to_workers(dir: &Path) -> anyhow::Result<()> {
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
