//! The reference SSE Streaming Microservice: the same API contract as the real
//! service (`shared/contract.md`), served by axum. Routes live under `/api/v1`.

pub mod health;

use axum::Router;

/// Version reported by `/health`.
pub const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The whole application, ready to serve.
pub fn app() -> Router {
    Router::new().nest("/api/v1", health::routes())
}

/// Serves the application on an already bound listener until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app())
        .with_graceful_shutdown(shutdown)
        .await
}
