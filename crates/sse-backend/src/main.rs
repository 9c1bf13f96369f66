use std::net::SocketAddr;

use anyhow::Context;
use clap::Parser;
use sse_backend::settings::{FakeLlmSettings, Settings};

/// Reference SSE Streaming Microservice (routes under /api/v1).
#[derive(Debug, Parser)]
#[command(version, about)]
struct Args {
    /// Address and port to listen on.
    #[arg(long, env = "SSE_BACKEND_LISTEN", default_value = "127.0.0.1:8000")]
    listen: SocketAddr,
    /// Fake LLM without any delays (for benchmarks of the service itself);
    /// overrides the FAKE_*_MS timings.
    #[arg(long, env = "FAKE_ZERO_DELAY")]
    zero_delay: bool,
    #[command(flatten)]
    settings: Settings,
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
            return;
        }
    }
    let _ = ctrl_c.await;
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    if args.zero_delay {
        let seed = args.settings.fake.seed;
        args.settings.fake = FakeLlmSettings {
            seed,
            ..FakeLlmSettings::zero_delay()
        };
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let local = listener.local_addr()?;
    // Warnings first: the "listening" line ends what a supervisor waits for.
    for warning in args.settings.startup_warnings() {
        eprintln!("{warning}");
    }
    eprintln!(
        "sse-backend {} listening on http://{local}/api/v1",
        sse_backend::SERVICE_VERSION
    );
    sse_backend::serve(listener, args.settings, shutdown_signal())
        .await
        .context("server error")
}
