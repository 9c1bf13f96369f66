//! `start --local`: the release bundle behind the project's nginx.conf in a
//! local nginx, with the reference backend (or `--backend-url`), until Ctrl-C.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{bail, Context};
use dashboard_ops::cluster::{Cluster, ClusterAddresses};
use dashboard_ops::http_check::Health;
use dashboard_ops::local_stack::{Backend, Nginx, Routes, TlsListener};
use dashboard_ops::local_state::LocalState;
use dashboard_ops::prometheus::{PrometheusServer, Timing};

use super::{confirm_without_backend, health_url_of, project};
use crate::cli::StartArgs;
use dashboard_ops::http_check::wait_healthy;

fn build_bundle(project: &Path) -> anyhow::Result<()> {
    println!("Building the release bundle (scripts/build-bundle) ...");
    let status = Command::new(project.join("scripts/build-bundle"))
        .current_dir(project)
        .status()
        .context("cannot run scripts/build-bundle")?;
    if !status.success() {
        bail!("the bundle did not build ({status}); run scripts/setup first if tools are missing");
    }
    Ok(())
}

pub fn start_local(args: &StartArgs) -> anyhow::Result<()> {
    let project = project()?;
    if let Some(state) = LocalState::read(&project).filter(LocalState::is_alive) {
        bail!(
            "a local dashboard already runs (pid {}, {}/): `dashboard-ops stop --local` first",
            state.pid,
            state.url
        );
    }
    if !args.skip_build {
        build_bundle(&project)?;
    }
    let dist = args.dist.clone().unwrap_or_else(|| project.join("dist"));
    let timeout = Duration::from_secs(args.health_timeout);

    let external = match &args.backend_url {
        Some(url) => {
            match wait_healthy(&health_url_of(url), timeout) {
                Health::Up(_) => Some(url.clone()),
                Health::Down(reason) if args.auto_start => {
                    eprintln!("{url} is down ({reason}); --auto-start: using the reference backend instead.");
                    None
                }
                Health::Down(reason) => {
                    confirm_without_backend(&health_url_of(url), &reason, args)?;
                    Some(url.clone())
                }
            }
        }
        None => None,
    };
    let binary = match &args.backend_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("this program has no folder")?
            .join("sse-backend"),
    };
    let mut instances = match &args.backend_instances {
        Some(list) => sse_core::contract::instances::parse_backend_instances(list)
            .map_err(anyhow::Error::msg)?,
        None => Vec::new(),
    };
    let mut cluster = None;
    let (mut backend, backend_url) = match external {
        Some(url) => (None, url),
        None if args.instances > 0 => {
            let port = args.backend_listen.port();
            let addresses = ClusterAddresses {
                balancer: args.backend_listen,
                instances: (1..=args.instances)
                    .map(|i| {
                        let port = u16::try_from(usize::from(port) + i)
                            .context("no ports left above --backend-listen")?;
                        Ok(std::net::SocketAddr::new(args.backend_listen.ip(), port))
                    })
                    .collect::<anyhow::Result<_>>()?,
                redis: ClusterAddresses::free(0)?.redis,
            };
            let started = Cluster::start(&project, &binary, &addresses)?;
            instances = started.instance_origins();
            let origin = started.balancer.origin();
            println!("Redis:      {}", started.redis.url());
            for (name, origin) in &instances {
                println!("Instance:   {name} at {origin}");
            }
            println!("Balancer:   {origin} (least_conn over the instances)");
            cluster = Some(started);
            (None, origin)
        }
        None => {
            let backend = Backend::start(&binary, args.backend_listen)?;
            let origin = backend.origin();
            (Some(backend), origin)
        }
    };
    // The Prometheus server: the one given, or, for the topology, one of its own.
    let mut prometheus = None;
    let prometheus_url = match (&args.prometheus_url, &cluster) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(started)) => {
            let targets: Vec<(String, String)> = started
                .instance_origins()
                .into_iter()
                .map(|(name, origin)| (name, origin.trim_start_matches("http://").to_owned()))
                .collect();
            let server = PrometheusServer::start(
                &project,
                args.prometheus_listen,
                &targets,
                Timing::default(),
            )?;
            let origin = server.origin();
            println!("Prometheus: {origin} (scraping the instances every 5 s; the project's alert rules)");
            prometheus = Some(server);
            Some(origin)
        }
        (None, None) => None,
    };
    let tls = args.tls_listen.map(|listen| TlsListener {
        listen,
        certificate: args.tls_cert.clone().zip(args.tls_key.clone()),
    });
    let mut nginx = Nginx::start_with_routes(
        &project,
        &dist,
        args.listen,
        &backend_url,
        tls,
        &Routes {
            instances: &instances,
            prometheus: prometheus_url.as_deref(),
        },
    )?;
    let state = LocalState {
        pid: std::process::id(),
        url: nginx.url(),
        tls_url: nginx.tls_url(),
        backend_url: backend_url.clone(),
    };
    state.write(&project)?;

    println!("Dashboard:  {}/", nginx.url());
    if let Some(url) = nginx.tls_url() {
        println!("HTTPS:      {url}/  (HTTP/2: use it for load tests above 6 concurrent requests)");
    }
    println!("API:        {}/api/v1 -> {backend_url}/api/v1", nginx.url());
    for (name, origin) in &instances {
        println!(
            "            {}/instances/{name}/api/v1 -> {origin}/api/v1",
            nginx.url()
        );
    }
    if let Some(url) = &prometheus_url {
        println!(
            "            {}/prometheus/api/v1 -> {url}/api/v1",
            nginx.url()
        );
    }
    println!("Press Ctrl-C (or run `dashboard-ops stop --local`) to stop.");

    let (stop_tx, stop_rx) = mpsc::channel();
    ctrlc::set_handler(move || {
        let _ = stop_tx.send(());
    })
    .context("cannot install the Ctrl-C handler")?;
    let outcome = loop {
        if stop_rx.recv_timeout(Duration::from_millis(500)).is_ok() {
            println!("\nStopping...");
            break Ok(());
        }
        if let Some(status) = nginx.process().exited() {
            break Err(anyhow::anyhow!(
                "nginx stopped unexpectedly ({status}):\n{}",
                nginx.error_log()
            ));
        }
        if let Some(failure) = cluster.as_mut().and_then(Cluster::failure) {
            break Err(anyhow::anyhow!(failure));
        }
        if let Some(server) = prometheus.as_mut() {
            if let Some(status) = server.process().exited() {
                break Err(anyhow::anyhow!(
                    "prometheus stopped unexpectedly ({status}):\n{}",
                    server.process().log_tail(4000)
                ));
            }
        }
        if let Some(backend) = backend.as_mut() {
            if let Some(status) = backend.process().exited() {
                break Err(anyhow::anyhow!(
                    "sse-backend stopped unexpectedly ({status}):\n{}",
                    backend.process().log_tail(4000)
                ));
            }
        }
    };
    drop(nginx);
    drop(prometheus);
    drop(backend);
    drop(cluster);
    LocalState::remove(&project);
    outcome?;
    println!("Stopped.");
    Ok(())
}
