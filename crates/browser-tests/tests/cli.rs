//! The lifecycle CLI, `dashboard-ops`, run as a program: its local mode
//! started, queried and stopped; its Docker paths on a machine without a
//! running Docker engine; a backend that is down.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use browser_tests::{project_root, prometheus_stand_in, unreachable_origin, InProcessBackend};
use dashboard_ops::process::free_local_port;

fn cli() -> anyhow::Result<Command> {
    let root = project_root()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let built = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "dashboard-ops",
            "-p",
            "sse-backend",
        ])
        .current_dir(&root)
        .status()?;
    anyhow::ensure!(built.success(), "cannot build dashboard-ops");
    let mut command = Command::new(root.join("target/debug/dashboard-ops"));
    command.current_dir(&root).stdin(Stdio::null());
    Ok(command)
}

/// The started CLI; killed if the test fails before stopping it.
struct Running(Option<std::process::Child>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn output(mut command: Command) -> anyhow::Result<(i32, String)> {
    let out = command.output()?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.code().unwrap_or(-1), text))
}

#[tokio::test]
async fn local_mode_starts_answers_status_and_stops() -> anyhow::Result<()> {
    let backend = InProcessBackend::start().await?;
    // Stands for a Prometheus server given with --prometheus-url.
    let prometheus = prometheus_stand_in().await?;
    let state = tempfile::tempdir()?;
    let state_file = state.path().join("local.json");
    let listen = format!("127.0.0.1:{}", free_local_port()?);
    let tls = format!("127.0.0.1:{}", free_local_port()?);
    let mut start = cli()?;
    start
        .env("DASHBOARD_OPS_STATE", &state_file)
        .args([
            "start",
            "--local",
            "--skip-build",
            "--listen",
            &listen,
            "--tls-listen",
            &tls,
        ])
        .args(["--backend-url", &backend.origin()])
        .args(["--prometheus-url", &prometheus.origin()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut guard = Running(Some(start.spawn()?));
    let deadline = Instant::now() + Duration::from_secs(30);
    while !state_file.exists() {
        let running = guard.0.as_mut().expect("started");
        if let Some(status) = running.try_wait()? {
            let out = guard.0.take().expect("started").wait_with_output()?;
            anyhow::bail!(
                "start exited ({status}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        anyhow::ensure!(Instant::now() < deadline, "start never wrote its state");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let mut status = cli()?;
    status
        .env("DASHBOARD_OPS_STATE", &state_file)
        .args(["status", "--local"]);
    let (code, said) = tokio::task::spawn_blocking(move || output(status)).await??;
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains(&format!("URL:       http://{listen}/")),
        "{said}"
    );
    assert!(
        said.contains(&format!("HTTPS:     https://{tls}/")),
        "{said}"
    );
    assert!(said.contains("nginx:     healthy"), "{said}");
    assert!(
        said.contains(&format!("Backend:   {} healthy", backend.origin())),
        "{said}"
    );
    // The dashboard it started serves the API through its nginx.
    let health = reqwest::get(format!("http://{listen}/api/v1/health")).await?;
    assert_eq!(health.status(), 200);
    // The Prometheus server: named in config.json, proxied, without the token.
    let config: serde_json::Value = reqwest::get(format!("http://{listen}/config.json"))
        .await?
        .json()
        .await?;
    assert_eq!(config["prometheus"], "/prometheus", "{config}");
    let query = reqwest::Client::new()
        .get(format!("http://{listen}/prometheus/api/v1/query?query=up"))
        .header("Authorization", "Bearer the-admin-token")
        .send()
        .await?;
    assert_eq!(query.status(), 200);
    let received = prometheus.received();
    assert_eq!(received.len(), 1, "{received:?}");
    assert!(
        received[0].starts_with("GET /api/v1/query?query=up ")
            && !received[0].to_ascii_lowercase().contains("authorization"),
        "{received:?}"
    );

    let mut stop = cli()?;
    stop.env("DASHBOARD_OPS_STATE", &state_file)
        .args(["stop", "--local"]);
    let (code, said) = tokio::task::spawn_blocking(move || output(stop)).await??;
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("Stopped the local dashboard"), "{said}");
    let out = guard.0.take().expect("started").wait_with_output()?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Stopped."));
    assert!(!state_file.exists(), "the state goes with the stack");
    assert!(
        reqwest::get(format!("http://{listen}/health"))
            .await
            .is_err(),
        "nginx is gone"
    );

    let mut status = cli()?;
    status
        .env("DASHBOARD_OPS_STATE", &state_file)
        .args(["status", "--local"]);
    let (code, said) = tokio::task::spawn_blocking(move || output(status)).await??;
    assert_eq!((code, said.contains("not running")), (0, true), "{said}");
    Ok(())
}

#[test]
fn docker_verbs_say_what_to_do_when_docker_does_not_run() -> anyhow::Result<()> {
    for verb in [
        &["start", "--skip-build", "--yes"][..],
        &["status"],
        &["stop"],
    ] {
        let mut command = cli()?;
        command.args(verb);
        let (code, said) = output(command)?;
        assert_eq!(code, 1, "{verb:?}: {said}");
        assert!(said.contains("Docker"), "{verb:?}: {said}");
        assert!(
            said.contains("dashboard-ops start --local"),
            "{verb:?}: {said}"
        );
    }
    Ok(())
}

#[test]
fn a_backend_that_is_down_is_explained_and_needs_yes_without_a_terminal() -> anyhow::Result<()> {
    let state = tempfile::tempdir()?;
    let mut command = cli()?;
    command
        .env("DASHBOARD_OPS_STATE", state.path().join("local.json"))
        .args(["start", "--local", "--skip-build", "--health-timeout", "1"])
        .args(["--listen", &format!("127.0.0.1:{}", free_local_port()?)])
        .args(["--backend-url", &unreachable_origin()?]);
    let (code, said) = output(command)?;
    assert_eq!(code, 1, "{said}");
    assert!(
        said.contains("The SSE service does not answer at"),
        "{said}"
    );
    assert!(said.contains("pass --yes"), "{said}");
    Ok(())
}
