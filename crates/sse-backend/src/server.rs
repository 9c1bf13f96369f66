//! The HTTP server around the router: hyper, as `axum::serve` uses it, plus the
//! connection time limits `axum::serve` has no setting for. A connection that
//! sends no whole request head within the header-read timeout is closed, and so
//! is one with no request in flight for the idle timeout; without them, sockets
//! that never send anything stay open for ever (2,000 of them held for minutes).

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// The connection time limits (`--header-read-timeout-ms`, `--idle-timeout-ms`).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// From the connection's start to its first complete request head.
    pub header_read: Duration,
    /// With no request in flight; also bounds a later request's head.
    pub idle: Duration,
}

impl Timeouts {
    /// How often a connection's watchdog looks: often enough to be within a
    /// quarter of the shorter limit, at most once a second.
    fn tick(&self) -> Duration {
        (self.header_read.min(self.idle) / 4)
            .clamp(Duration::from_millis(5), Duration::from_secs(1))
    }
}

#[derive(Debug)]
struct ActivityState {
    in_flight: usize,
    requests: u64,
    idle_since: Instant,
}

/// What one connection is doing, for its watchdog.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    state: Mutex<ActivityState>,
}

enum Expired {
    /// No request head ever arrived: drop the socket.
    NoRequest,
    /// Nothing in flight for too long: close after the current exchange.
    Idle,
}

impl Activity {
    fn new() -> Arc<Self> {
        let now = Instant::now();
        Arc::new(Self {
            opened: now,
            state: Mutex::new(ActivityState {
                in_flight: 0,
                requests: 0,
                idle_since: now,
            }),
        })
    }

    fn requests(&self) -> u64 {
        self.state.lock().map_or(0, |s| s.requests)
    }

    fn expired(&self, limits: &Timeouts) -> Option<Expired> {
        let state = self.state.lock().ok()?;
        if state.requests == 0 {
            return (self.opened.elapsed() >= limits.header_read).then_some(Expired::NoRequest);
        }
        (state.in_flight == 0 && state.idle_since.elapsed() >= limits.idle).then_some(Expired::Idle)
    }
}

/// One request in flight on its connection, until its answer's body is done.
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: &Arc<Activity>) -> Self {
        if let Ok(mut state) = activity.state.lock() {
            state.in_flight += 1;
            state.requests += 1;
        }
        Self(Arc::clone(activity))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut state) = self.0.state.lock() {
            state.in_flight = state.in_flight.saturating_sub(1);
            if state.in_flight == 0 {
                state.idle_since = Instant::now();
            }
        }
    }
}

/// An answer's body that holds its request's [`InFlight`] until hyper drops
/// it (sent to the end, or the connection is gone): an open event stream is
/// never idle, however long between its events.
struct TrackedBody {
    inner: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for TrackedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `router` on `listener` until `shutdown` is cancelled; then stops
/// accepting, lets each connection finish its exchanges (open streams end
/// through the app's own shutdown), and returns when all are closed.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Timeouts,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let mut builder = Builder::new(TokioExecutor::new());
    // hyper's own head timer runs whenever HTTP/1.1 waits for a head, so it is
    // set to the idle limit: the header-read limit of a new connection is the
    // watchdog's, which also covers connections that never send a byte.
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    let connections = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait instead of spinning.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let _ = stream.set_nodelay(true);
        connections.spawn(serve_connection(
            Arc::clone(&builder),
            stream,
            peer,
            router.clone(),
            limits,
            shutdown.clone(),
        ));
    }
    connections.close();
    connections.wait().await;
    Ok(())
}

async fn serve_connection(
    builder: Arc<Builder<TokioExecutor>>,
    stream: TcpStream,
    peer: SocketAddr,
    router: Router,
    limits: Timeouts,
    shutdown: CancellationToken,
) {
    let activity = Activity::new();
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let in_flight = InFlight::start(&activity);
            let router = router.clone();
            async move {
                let response = router.oneshot(request).await;
                response.map(|response| {
                    response.map(|inner| TrackedBody {
                        inner,
                        _in_flight: in_flight,
                    })
                })
            }
        })
    };
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let mut watchdog = tokio::time::interval(limits.tick());
    let mut closing = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            _ = watchdog.tick() => match activity.expired(&limits) {
                Some(Expired::NoRequest) => return,
                Some(Expired::Idle) if !closing => {
                    connection.as_mut().graceful_shutdown();
                    closing = true;
                }
                _ => {}
            },
            () = shutdown.cancelled(), if !closing => {
                if activity.requests() == 0 {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}
