//! Renders `nginx.conf`, the single nginx configuration of the project.
//!
//! The file holds `${NAME}` placeholders. The Docker image renders them with
//! `envsubst` at container start; local runs and tests render them here. nginx's
//! own variables are written `$name` (without braces) so the two never collide.

use std::collections::BTreeMap;

/// The placeholders nginx.conf may contain; rendering fails on any other.
pub const PLACEHOLDERS: [&str; 5] = [
    "DASHBOARD_LISTEN",
    "DASHBOARD_ROOT",
    "BACKEND_ADDRESS",
    "NGINX_RUNTIME_DIR",
    "CSP_CONNECT_SRC",
];

/// What the page may connect to by default: its own origin (the API behind
/// `/api/`) and the `blob:` URLs of its own exports.
pub const DEFAULT_CSP_CONNECT_SRC: &str = "'self' blob:";

/// `host:port` of an `http://host[:port][/]` backend URL (nginx talks plain
/// HTTP to the service inside the network; the port defaults to 80).
pub fn backend_address(url: &str) -> Result<String, String> {
    let rest = url.trim().strip_prefix("http://").ok_or_else(|| {
        format!("the backend URL {url:?} must start with http:// (e.g. http://127.0.0.1:8000)")
    })?;
    let host_port = rest.strip_suffix('/').unwrap_or(rest);
    if host_port.is_empty() || host_port.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "the backend URL {url:?} must be an origin only, like http://sse-nginx:80 (the dashboard adds /api/v1)"
        ));
    }
    let has_port = host_port
        .rsplit_once(':')
        .is_some_and(|(_, port)| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    Ok(if has_port {
        host_port.to_owned()
    } else {
        format!("{host_port}:80")
    })
}

/// The placeholders of nginx-tls.conf (the optional TLS + HTTP/2 listener).
pub const TLS_PLACEHOLDERS: [&str; 3] = ["TLS_LISTEN", "TLS_CERTIFICATE", "TLS_CERTIFICATE_KEY"];

/// Where the rendered nginx-tls.conf goes, under the runtime dir (nginx.conf
/// includes `tls/*.conf`).
pub const TLS_INCLUDE_DIR: &str = "tls";

/// The TLS listener's settings.
#[derive(Debug, Clone)]
pub struct TlsSettings {
    /// `listen` argument, e.g. `127.0.0.1:3443`.
    pub listen: String,
    /// PEM certificate (chain) file.
    pub certificate: String,
    /// PEM private key file.
    pub key: String,
}

impl TlsSettings {
    /// Renders nginx-tls.conf.
    pub fn render(&self, template: &str) -> Result<String, RenderError> {
        render(
            template,
            &BTreeMap::from([
                ("TLS_LISTEN", self.listen.as_str()),
                ("TLS_CERTIFICATE", self.certificate.as_str()),
                ("TLS_CERTIFICATE_KEY", self.key.as_str()),
            ]),
        )
    }
}

/// The placeholders of nginx-instance.conf (one instance's locations).
pub const INSTANCE_PLACEHOLDERS: [&str; 2] = ["INSTANCE_NAME", "INSTANCE_ADDRESS"];

/// Where the rendered instance locations go, under the runtime dir (nginx.conf
/// includes `instances/*.conf` in its server).
pub const INSTANCE_INCLUDE_DIR: &str = "instances";

/// Renders nginx-instance.conf for instance `name` at `address` (`host:port`).
pub fn render_instance(template: &str, name: &str, address: &str) -> Result<String, RenderError> {
    render(
        template,
        &BTreeMap::from([("INSTANCE_NAME", name), ("INSTANCE_ADDRESS", address)]),
    )
}

/// Where the rendered Prometheus location goes, under the runtime dir
/// (nginx.conf includes `prometheus/*.conf` in its server).
pub const PROMETHEUS_INCLUDE_DIR: &str = "prometheus";

/// Renders nginx-prometheus.conf for the server at `address` (`host:port`).
pub fn render_prometheus(template: &str, address: &str) -> Result<String, RenderError> {
    render(template, &BTreeMap::from([("PROMETHEUS_ADDRESS", address)]))
}

/// The placeholders of nginx-balancer.conf (the load balancer of `--instances`).
pub const BALANCER_PLACEHOLDERS: [&str; 3] =
    ["BALANCER_LISTEN", "BALANCER_SERVERS", "NGINX_RUNTIME_DIR"];

/// Renders nginx-balancer.conf: `listen`, one `server` line per address.
pub fn render_balancer(
    template: &str,
    listen: &str,
    addresses: &[String],
    runtime_dir: &str,
) -> Result<String, RenderError> {
    let servers = addresses
        .iter()
        .map(|a| format!("server {a};"))
        .collect::<Vec<_>>()
        .join("\n        ");
    render(
        template,
        &BTreeMap::from([
            ("BALANCER_LISTEN", listen),
            ("BALANCER_SERVERS", servers.as_str()),
            ("NGINX_RUNTIME_DIR", runtime_dir),
        ]),
    )
}

/// Values for every placeholder.
#[derive(Debug, Clone)]
pub struct NginxSettings {
    /// `listen` argument, e.g. `127.0.0.1:3001` or `3001`.
    pub listen: String,
    /// Directory with the built bundle (trunk's `dist/`).
    pub root: String,
    /// `host:port` of the SSE service (see [`backend_address`]).
    pub backend_address: String,
    /// Writable directory for the pid file, logs and temporary files.
    pub runtime_dir: String,
    /// The CSP `connect-src` sources (see [`DEFAULT_CSP_CONNECT_SRC`]).
    pub csp_connect_src: String,
}

#[derive(Debug, PartialEq, Eq)]
pub enum RenderError {
    UnknownPlaceholder(String),
    Unterminated { offset: usize },
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownPlaceholder(name) => write!(
                f,
                "the template uses the placeholder ${{{name}}}, which is not one of its file's: nginx.conf {PLACEHOLDERS:?}, nginx-tls.conf {TLS_PLACEHOLDERS:?}, nginx-instance.conf {INSTANCE_PLACEHOLDERS:?}, nginx-balancer.conf {BALANCER_PLACEHOLDERS:?}"
            ),
            Self::Unterminated { offset } => {
                write!(f, "nginx.conf has an unterminated \"${{\" at byte {offset}")
            }
        }
    }
}

impl std::error::Error for RenderError {}

impl NginxSettings {
    fn values(&self) -> BTreeMap<&'static str, &str> {
        BTreeMap::from([
            ("DASHBOARD_LISTEN", self.listen.as_str()),
            ("DASHBOARD_ROOT", self.root.as_str()),
            ("BACKEND_ADDRESS", self.backend_address.as_str()),
            ("CSP_CONNECT_SRC", self.csp_connect_src.as_str()),
            ("NGINX_RUNTIME_DIR", self.runtime_dir.as_str()),
        ])
    }

    /// Replaces every `${NAME}` in `template`.
    pub fn render(&self, template: &str) -> Result<String, RenderError> {
        render(template, &self.values())
    }
}

/// Replaces every `${NAME}` in `template` with its value.
fn render(template: &str, values: &BTreeMap<&'static str, &str>) -> Result<String, RenderError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(RenderError::Unterminated {
            offset: template.len() - rest.len() + start,
        })?;
        let name = &after[..end];
        let value = values
            .get(name)
            .ok_or_else(|| RenderError::UnknownPlaceholder(name.to_owned()))?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NginxSettings {
        NginxSettings {
            listen: "127.0.0.1:3001".into(),
            root: "/srv/dist".into(),
            backend_address: "127.0.0.1:8000".into(),
            csp_connect_src: DEFAULT_CSP_CONNECT_SRC.into(),
            runtime_dir: "/tmp/run".into(),
        }
    }

    #[test]
    fn replaces_placeholders_and_keeps_nginx_variables() {
        let out = settings()
            .render("listen ${DASHBOARD_LISTEN}; server ${BACKEND_ADDRESS}; add_header X $host;")
            .expect("renders");
        assert_eq!(
            out,
            "listen 127.0.0.1:3001; server 127.0.0.1:8000; add_header X $host;"
        );
    }

    #[test]
    fn backend_urls_become_addresses_and_bad_ones_say_why() {
        assert_eq!(
            backend_address("http://127.0.0.1:8000").as_deref(),
            Ok("127.0.0.1:8000")
        );
        assert_eq!(
            backend_address("http://sse-nginx/").as_deref(),
            Ok("sse-nginx:80")
        );
        assert_eq!(
            backend_address(" http://[::1]:9000 ").as_deref(),
            Ok("[::1]:9000")
        );
        assert!(backend_address("https://x:1")
            .unwrap_err()
            .contains("http://"));
        assert!(backend_address("http://x:1/api/v1")
            .unwrap_err()
            .contains("origin only"));
        assert!(backend_address("http://").is_err());
    }

    #[test]
    fn unknown_and_unterminated_placeholders_are_errors() {
        assert_eq!(
            settings().render("a ${NOPE} b"),
            Err(RenderError::UnknownPlaceholder("NOPE".into()))
        );
        assert_eq!(
            settings().render("ab ${ROOT"),
            Err(RenderError::Unterminated { offset: 3 })
        );
    }

    #[test]
    fn the_project_nginx_conf_uses_every_placeholder_and_no_other() {
        let template = include_str!("../../../nginx.conf");
        let rendered = settings()
            .render(template)
            .expect("the project's nginx.conf renders");
        assert!(!rendered.contains("${"));
        for name in PLACEHOLDERS {
            assert!(template.contains(&format!("${{{name}}}")), "{name} unused");
        }
    }

    #[test]
    fn the_instance_and_balancer_templates_render_completely() {
        let instance = include_str!("../../../nginx-instance.conf");
        let rendered = render_instance(instance, "app-1", "sse-app-1:8000").expect("renders");
        assert!(rendered.contains("location /instances/app-1/ {"));
        assert!(rendered.contains("proxy_pass http://sse-app-1:8000/;"));
        assert!(!rendered.contains("${"));
        let balancer = include_str!("../../../nginx-balancer.conf");
        let rendered = render_balancer(
            balancer,
            "127.0.0.1:8000",
            &["127.0.0.1:8001".into(), "127.0.0.1:8002".into()],
            "/tmp/lb",
        )
        .expect("renders");
        assert!(rendered.contains("least_conn;"));
        assert!(rendered.contains("server 127.0.0.1:8001;\n        server 127.0.0.1:8002;"));
        assert!(rendered.contains("X-Upstream-Addr $upstream_addr always"));
        for name in INSTANCE_PLACEHOLDERS {
            assert!(instance.contains(&format!("${{{name}}}")), "{name} unused");
        }
        for name in BALANCER_PLACEHOLDERS {
            assert!(balancer.contains(&format!("${{{name}}}")), "{name} unused");
        }
    }

    #[test]
    fn the_prometheus_template_reads_only_and_drops_credentials() {
        let template = include_str!("../../../nginx-prometheus.conf");
        let rendered = render_prometheus(template, "sse-prometheus:9090").expect("renders");
        assert!(!rendered.contains("${"));
        assert!(rendered.contains("location /prometheus/ {"));
        assert!(rendered.contains("proxy_pass http://sse-prometheus:9090/;"));
        assert!(rendered.contains("proxy_set_header Authorization \"\";"));
        assert!(rendered.contains("limit_except GET"));
    }

    #[test]
    fn the_tls_template_uses_its_placeholders_and_speaks_http2() {
        let template = include_str!("../../../nginx-tls.conf");
        let tls = TlsSettings {
            listen: "127.0.0.1:3443".into(),
            certificate: "/c.pem".into(),
            key: "/k.pem".into(),
        };
        let rendered = tls.render(template).expect("renders");
        assert!(rendered.contains("listen 127.0.0.1:3443 ssl http2;"));
        assert!(rendered.contains("ssl_certificate_key /k.pem;"));
        for name in TLS_PLACEHOLDERS {
            assert!(template.contains(&format!("${{{name}}}")), "{name} unused");
        }
        // nginx.conf's placeholders are not known here, and the reverse.
        assert!(tls.render("${DASHBOARD_ROOT}").is_err());
        assert!(settings().render("${TLS_LISTEN}").is_err());
    }
}
