//! The Docker deployment, as far as this machine can check it without a Docker
//! engine: the Dockerfile through hadolint, docker-compose.yml through
//! docker-compose's own parser, and the image's entrypoint run for real against
//! Debian's nginx with a copy of the release bundle.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use browser_tests::{dist_dir, project_root, prometheus_stand_in, InProcessBackend};
use dashboard_ops::process::{find_program, free_local_port, Supervised};

fn run(program: &str, args: &[&str], dir: &Path) -> anyhow::Result<(bool, String)> {
    let binary = find_program(program)
        .ok_or_else(|| anyhow::anyhow!("{program} is not installed: run scripts/setup"))?;
    let output = Command::new(binary).args(args).current_dir(dir).output()?;
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    Ok((output.status.success(), said))
}

#[test]
fn the_dockerfile_passes_hadolint() -> anyhow::Result<()> {
    let (ok, said) = run("hadolint", &["Dockerfile"], &project_root()?)?;
    assert!(ok, "{said}");
    Ok(())
}

#[test]
fn the_dockerfile_builds_with_the_tests_own_commands() -> anyhow::Result<()> {
    let dockerfile = std::fs::read_to_string(project_root()?.join("Dockerfile"))?;
    assert!(dockerfile.contains("RUN ./scripts/setup --build-only && ./scripts/build-bundle"));
    assert!(dockerfile.contains("FROM nginx:1.25-alpine"));
    // Every template the entrypoint renders must be in the image.
    let entrypoint = std::fs::read_to_string(project_root()?.join("docker/entrypoint.sh"))?;
    let copy = dockerfile
        .lines()
        .find(|line| line.starts_with("COPY nginx.conf ") && line.ends_with(" /etc/dashboard/"))
        .ok_or_else(|| anyhow::anyhow!("no COPY of the nginx templates in {dockerfile}"))?;
    let templates: Vec<&str> = entrypoint
        .split("$DASHBOARD_TEMPLATES/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(templates.len() >= 3, "{templates:?}");
    for template in templates {
        assert!(
            copy.split_whitespace().any(|word| word == template),
            "{template} is not copied: {copy}"
        );
    }
    Ok(())
}

#[test]
fn docker_compose_yml_is_valid_for_docker_compose() -> anyhow::Result<()> {
    let root = project_root()?;
    let (ok, said) = run(
        "docker-compose",
        &["-f", "docker-compose.yml", "config"],
        &root,
    )?;
    assert!(ok, "{said}");
    // What docker-compose understood, as it prints it back.
    for expected in [
        "external: true",
        "published: 3001",
        "BACKEND_URL: http://sse-nginx:80",
        "http://127.0.0.1:3001/health",
    ] {
        assert!(said.contains(expected), "{expected} missing from\n{said}");
    }
    Ok(())
}

#[test]
fn the_entrypoint_passes_shellcheck() -> anyhow::Result<()> {
    let (ok, said) = run("shellcheck", &["docker/entrypoint.sh"], &project_root()?)?;
    assert!(ok, "{said}");
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// The image's layout in a temporary folder: the bundle and the templates.
struct ImageLayout {
    dir: tempfile::TempDir,
}

impl ImageLayout {
    fn new() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("dashboard-image-")
            .tempdir()?;
        copy_dir(&dist_dir()?, &dir.path().join("share"))?;
        std::fs::create_dir_all(dir.path().join("templates"))?;
        for file in [
            "nginx.conf",
            "nginx-tls.conf",
            "nginx-instance.conf",
            "nginx-prometheus.conf",
        ] {
            std::fs::copy(
                project_root()?.join(file),
                dir.path().join("templates").join(file),
            )?;
        }
        Ok(Self { dir })
    }

    /// Runs the entrypoint with `envs` until its nginx listens on `listen`.
    fn serve(&self, envs: &[(&str, &str)], listen: &str) -> anyhow::Result<Supervised> {
        Supervised::spawn_listening(
            "entrypoint",
            self.entrypoint(envs)?,
            &self.dir.path().join("entrypoint.log"),
            listen.parse()?,
            Duration::from_secs(20),
        )
    }

    fn entrypoint(&self, envs: &[(&str, &str)]) -> anyhow::Result<Command> {
        let mut command = Command::new(project_root()?.join("docker/entrypoint.sh"));
        command
            .env("DASHBOARD_ROOT", self.dir.path().join("share"))
            .env("DASHBOARD_TEMPLATES", self.dir.path().join("templates"))
            .env("NGINX_RUNTIME_DIR", self.dir.path().join("run"))
            // Debian's nginx as root, like the local runs (the image uses `nginx`).
            .env("NGINX_USER", "root")
            .envs(envs.iter().copied());
        Ok(command)
    }
}

/// The config.json the served page reads.
async fn config_json(http: &reqwest::Client, listen: &str) -> anyhow::Result<serde_json::Value> {
    Ok(http
        .get(format!("http://{listen}/config.json"))
        .send()
        .await?
        .json()
        .await?)
}

#[tokio::test]
async fn the_entrypoint_renders_config_from_the_environment_and_serves() -> anyhow::Result<()> {
    let backend = InProcessBackend::start().await?;
    let image = ImageLayout::new()?;
    let port = free_local_port()?;
    let tls_port = free_local_port()?;
    let listen = format!("127.0.0.1:{port}");
    let tls_listen = format!("127.0.0.1:{tls_port}");
    let mut nginx = image.serve(
        &[
            ("BACKEND_URL", &backend.origin()),
            ("DASHBOARD_LISTEN", &listen),
            ("STATS_POLL_MS", "30000"),
            ("TLS_LISTEN", &tls_listen),
        ],
        &listen,
    )?;
    nginx.wait_for_port(tls_listen.parse()?, Duration::from_secs(20))?;
    let http = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()?;

    // The runtime config the browser reads: from the environment, not the build.
    let config = config_json(&http, &listen).await?;
    assert_eq!(
        config,
        serde_json::json!({ "api_base": "/api/v1", "health_poll_ms": 5000, "stats_poll_ms": 30000, "instances": [] })
    );
    assert!(
        !image.dir.path().join("share/config.json.gz").exists(),
        "a stale .gz would win"
    );
    // The API through the rendered proxy, over plain HTTP and over HTTPS.
    for base in [format!("http://{listen}"), format!("https://{tls_listen}")] {
        let health = http.get(format!("{base}/api/v1/health")).send().await?;
        assert_eq!(health.status(), 200, "{base}");
        let page = http.get(format!("{base}/")).send().await?;
        assert!(page.headers().contains_key("content-security-policy"));
        assert!(page.text().await?.contains("perf-dashboard-"));
    }
    nginx.stop(Duration::from_secs(3));
    Ok(())
}

#[tokio::test]
async fn the_entrypoint_proxies_each_instance_of_backend_instances() -> anyhow::Result<()> {
    let mut instances = Vec::new();
    for name in ["app-1", "app-2"] {
        let settings = sse_backend::settings::Settings {
            instance_id: Some(name.to_owned()),
            ..Default::default()
        };
        instances.push(InProcessBackend::start_with(settings).await?);
    }
    let image = ImageLayout::new()?;
    let listen = format!("127.0.0.1:{}", free_local_port()?);
    let list = format!(
        " app-1={}, app-2={}/",
        instances[0].origin(),
        instances[1].origin()
    );
    let mut nginx = image.serve(
        &[
            ("BACKEND_URL", &instances[0].origin()),
            ("DASHBOARD_LISTEN", &listen),
            ("BACKEND_INSTANCES", &list),
        ],
        &listen,
    )?;
    let http = reqwest::Client::new();
    let config = config_json(&http, &listen).await?;
    assert_eq!(
        config["instances"],
        serde_json::json!([
            { "name": "app-1", "api_base": "/instances/app-1/api/v1" },
            { "name": "app-2", "api_base": "/instances/app-2/api/v1" }
        ])
    );
    // Each location reaches its own instance, admin routes included.
    for name in ["app-1", "app-2"] {
        for route in ["health", "admin/config"] {
            let answer = http
                .get(format!("http://{listen}/instances/{name}/api/v1/{route}"))
                .send()
                .await?;
            assert_eq!(answer.status(), 200, "{name} {route}");
            assert_eq!(
                answer.headers().get("x-instance-id").map(|v| v.as_bytes()),
                Some(name.as_bytes()),
                "{name} {route}"
            );
        }
    }
    let unknown = http
        .get(format!("http://{listen}/instances/app-3/api/v1/health"))
        .send()
        .await?;
    assert_eq!(unknown.status(), 404, "no app-3 was configured");
    nginx.stop(Duration::from_secs(3));

    for (list, says) in [
        ("app-1", "is not name=http://host:port"),
        ("app/1=http://x:1", "not an instance name"),
        ("-a=http://x:1", "not an instance name"),
        ("a=http://x:1,a=http://y:1", "given twice"),
        ("a=x:1", "must start with http://"),
    ] {
        let output = image.entrypoint(&[("BACKEND_INSTANCES", list)])?.output()?;
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{list}: {said}");
        assert!(said.contains(says), "{list}: {said}");
    }
    Ok(())
}

#[tokio::test]
async fn the_entrypoint_proxies_prometheus_url_for_reading_only_and_without_credentials(
) -> anyhow::Result<()> {
    let backend = InProcessBackend::start().await?;
    // Stands for the Prometheus server, and keeps every request it receives.
    let prometheus = prometheus_stand_in().await?;
    let image = ImageLayout::new()?;
    let listen = format!("127.0.0.1:{}", free_local_port()?);
    let mut nginx = image.serve(
        &[
            ("BACKEND_URL", &backend.origin()),
            ("DASHBOARD_LISTEN", &listen),
            ("PROMETHEUS_URL", &prometheus.origin()),
            ("PROMETHEUS_JOB", "sse-app"),
        ],
        &listen,
    )?;
    let http = reqwest::Client::new();
    let config = config_json(&http, &listen).await?;
    assert_eq!(config["prometheus"], "/prometheus", "{config}");
    assert_eq!(config["prometheus_job"], "sse-app", "{config}");
    // A query with every credential a browser could attach: the answer comes
    // back, the credentials stay behind.
    let answer = http
        .get(format!("http://{listen}/prometheus/api/v1/query?query=up"))
        .header("Authorization", "Bearer the-admin-token")
        .header("Cookie", "session=secret")
        .send()
        .await?;
    assert_eq!(answer.status(), 200);
    assert!(answer.text().await?.contains("\"status\":\"success\""));
    // Writes are refused at the proxy and never reach the server.
    let write = http
        .post(format!(
            "http://{listen}/prometheus/api/v1/admin/tsdb/delete_series"
        ))
        .body("match[]=up")
        .send()
        .await?;
    assert_eq!(write.status(), 403);
    let received = prometheus.received();
    assert_eq!(received.len(), 1, "{received:?}");
    let head = received[0].to_ascii_lowercase();
    assert!(head.starts_with("get /api/v1/query?query=up "), "{head}");
    for credential in ["authorization", "cookie", "the-admin-token", "secret"] {
        assert!(
            !head.contains(credential),
            "{credential} reached the server: {head}"
        );
    }
    nginx.stop(Duration::from_secs(3));

    let output = image
        .entrypoint(&[
            ("PROMETHEUS_URL", "http://p:9090"),
            ("PROMETHEUS_JOB", "a job"),
        ])?
        .output()?;
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(64), "{said}");
    assert!(
        said.contains("PROMETHEUS_JOB must be a job label"),
        "{said}"
    );
    Ok(())
}

#[test]
fn the_entrypoint_refuses_a_bad_backend_url_with_what_to_do() -> anyhow::Result<()> {
    let image = ImageLayout::new()?;
    for (url, says) in [
        ("sse-nginx:80", "must start with http://"),
        ("http://sse-nginx/api/v1", "origin only"),
    ] {
        let output = image.entrypoint(&[("BACKEND_URL", url)])?.output()?;
        let said = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{said}");
        assert!(said.contains(says), "{said}");
    }
    let output = image.entrypoint(&[("HEALTH_POLL_MS", "5s")])?.output()?;
    assert!(String::from_utf8_lossy(&output.stderr).contains("digits only"));
    Ok(())
}
