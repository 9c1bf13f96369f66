//! `POST /stream`: the six-stage pipeline, every stage timed.
//!
//! 1 validation, 2 cache lookup (2.1 L1, 2.2 L2), 3 rate limiting and admission,
//! 4 provider selection, 5 LLM streaming, 6 cleanup & caching. Stages 1-3 run
//! before the answer's headers (they decide its status and `x-resilience-layer`);
//! the rest runs in a task that writes the event stream.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use sse_core::contract::stream::StreamRequest;
use tokio::sync::mpsc;

use crate::admission::{Permit, QueuePlace};
use crate::cache;
use crate::exposition::CacheTier;
use crate::load_stats::RequestTimings;
use crate::pipeline::{ServerOutcome, Stage};
use crate::provider::{OpenAiStream, ProviderChoice, ProviderStream};
use crate::request_trace::Trace;
use crate::sse_format::{event, DONE, PING};
use crate::validation::validate;
use crate::App;

const DIRECT: &str = "1-Direct";
const QUEUED: &str = "3-Queue-Failover";
/// The `model` label of a request refused before its body was read.
const UNKNOWN_MODEL: &str = "unknown";

/// Longest `X-User-ID` accepted: every user is an entry in the limiter's and the
/// load statistics' maps, so its size must be bounded.
pub const MAX_USER_ID_BYTES: usize = 128;

/// The client's address: the peer, or, when the peer is a trusted proxy, the
/// nearest address in `X-Forwarded-For` that is not one of the trusted proxies.
pub fn client_ip(headers: &HeaderMap, peer: IpAddr, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    for hop in forwarded.iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            // An address we cannot read: the chain before it cannot be trusted.
            Err(_) => break,
        }
    }
    peer
}

/// The user a request counts against: `X-User-ID`, else the client's address;
/// `Err` with why when the header is unusable.
fn user_of(headers: &HeaderMap, client: IpAddr) -> Result<String, String> {
    let Some(value) = headers.get("x-user-id").filter(|v| !v.is_empty()) else {
        return Ok(client.to_string());
    };
    if value.len() > MAX_USER_ID_BYTES {
        return Err(format!(
            "X-User-ID is {} bytes long; at most {MAX_USER_ID_BYTES} are accepted",
            value.len()
        ));
    }
    value
        .to_str()
        .map(str::to_owned)
        .map_err(|_| "X-User-ID must be visible ASCII".to_owned())
}

fn bad_request(message: String) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"error": "invalid_user_id", "message": message})),
    )
        .into_response()
}

/// Whether the request says its body is JSON (`application/json`, parameters
/// allowed). A form a foreign page posts without a preflight cannot say so.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

fn sse_response(thread_id: &str, layer: &'static str, body: mpsc::Receiver<Bytes>) -> Response {
    let mut body = body;
    let stream = futures_util::stream::poll_fn(move |cx| {
        body.poll_recv(cx)
            .map(|chunk| chunk.map(Ok::<_, Infallible>))
    });
    let mut response = Response::new(Body::from_stream(stream));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    headers.insert("x-resilience-layer", HeaderValue::from_static(layer));
    if let Ok(value) = HeaderValue::from_str(thread_id) {
        headers.insert("x-thread-id", value);
    }
    response
}

pub async fn stream(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut trace = Trace::begin();
    let thread_id = uuid::Uuid::new_v4().to_string();
    if !is_json(&headers) {
        app.request_rejected(ServerOutcome::Rejected415, UNKNOWN_MODEL);
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(json!({"detail": "POST /stream takes a JSON body: send Content-Type: application/json"})),
        )
            .into_response();
    }
    let client = client_ip(&headers, peer.ip(), &app.settings.trusted_proxies);
    let user = match user_of(&headers, client) {
        Ok(user) => user,
        Err(message) => {
            app.request_rejected(ServerOutcome::Rejected400, UNKNOWN_MODEL);
            return bad_request(message);
        }
    };

    // Stage 1: validation.
    let validation = Instant::now();
    let validated = validate(&body);
    record_stage(&app, &mut trace, Stage::Validation, validation);
    let request = match validated {
        Ok(request) => request,
        Err(detail) => {
            app.request_rejected(ServerOutcome::Rejected422, UNKNOWN_MODEL);
            return (StatusCode::UNPROCESSABLE_ENTITY, Json(detail)).into_response();
        }
    };
    let config = app.current_config();

    // Stage 2: cache lookup (2.1 L1, then 2.2 L2).
    let cache_key = cache::key(&request.query, &request.model, request.provider.as_deref());
    if config.enable_caching {
        let lookup = Instant::now();
        let mut hit = app.l1.get(&cache_key);
        record_stage(&app, &mut trace, Stage::L1Cache, lookup);
        app.exposition.cache_lookup(CacheTier::L1, hit.is_some());
        if hit.is_none() {
            if let Some(l2) = &app.redis {
                let started = Instant::now();
                hit = l2.get(&cache_key).await.ok().flatten();
                record_stage(&app, &mut trace, Stage::L2Cache, started);
                app.exposition.cache_lookup(CacheTier::L2, hit.is_some());
                if let Some(text) = &hit {
                    // Warm L1 so the next hit is local.
                    app.l1.put(cache_key.clone(), text.clone());
                }
            }
        }
        record_stage(&app, &mut trace, Stage::CacheLookup, lookup);
        if let Some(text) = hit {
            return cached_answer(&app, thread_id, user, trace, text, request.model);
        }
    }

    // Stage 3: rate limiting and admission.
    let admission_started = Instant::now();
    if let Err(retry_after) = app.admission.check_rate(&user) {
        app.timings
            .record(Stage::RateLimiting, admission_started.elapsed());
        app.request_rejected(ServerOutcome::Rejected429, &request.model);
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({
                "error": "rate_limit_exceeded",
                "message": format!("Too many requests from {user}; try again in {retry_after} s"),
                "retry_after": retry_after,
            })),
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
        return response;
    }
    let permit = app.admission.try_acquire(&user);
    let queue_place = match permit {
        Some(_) => None,
        None => match app.admission.enter_queue() {
            Some(place) => Some(place),
            None => {
                app.timings
                    .record(Stage::RateLimiting, admission_started.elapsed());
                app.request_rejected(ServerOutcome::Rejected503, &request.model);
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({
                        "error": "service_unavailable",
                        "message": "All stream slots are busy and the failover queue is full; try again later",
                    })),
                )
                    .into_response();
            }
        },
    };
    record_stage(&app, &mut trace, Stage::RateLimiting, admission_started);

    let layer = if permit.is_some() { DIRECT } else { QUEUED };
    // A small buffer: a stream that cannot send is slowed, not buffered without end.
    let (tx, rx) = mpsc::channel(8);
    let run = StreamRun {
        app: Arc::clone(&app),
        request,
        thread_id: thread_id.clone(),
        user,
        layer,
        trace,
        use_fake_llm: config.use_fake_llm,
        enable_caching: config.enable_caching,
        queue_in_redis: config.queue_type == sse_core::contract::config::QueueType::Redis,
        cache_key,
        tx,
        first_chunk_at_ms: None,
        chunks_sent: 0,
    };
    tokio::spawn(run.run(permit, queue_place));
    sse_response(&thread_id, layer, rx)
}

/// Times a stage that started at `started` and ends now: into the cumulative
/// statistics and into the request's own timeline.
fn record_stage(app: &App, trace: &mut Trace, stage: Stage, started: Instant) {
    let took = started.elapsed();
    app.timings.record(stage, took);
    trace.stage(stage, started, took);
}

/// A cache hit: status, ONE chunk with the whole text and `cached: true`, complete, [DONE].
fn cached_answer(
    app: &Arc<App>,
    thread_id: String,
    user: String,
    trace: Trace,
    text: String,
    model: String,
) -> Response {
    let (tx, rx) = mpsc::channel(4);
    let response = sse_response(&thread_id, DIRECT, rx);
    let app = Arc::clone(app);
    tokio::spawn(async move {
        let _active = app.load.stream_started();
        let parts = [
            event(
                "status",
                &json!({"status": "validated", "thread_id": thread_id}),
            ),
            event(
                "chunk",
                &CachedChunk {
                    content: &text,
                    cached: true,
                },
            ),
            event("complete", &json!({"thread_id": thread_id, "cached": true})),
            DONE.to_owned(),
        ];
        let mut delivered = true;
        let mut first_chunk_at_ms = None;
        for (i, part) in parts.into_iter().enumerate() {
            if tx.send(Bytes::from(part)).await.is_err() {
                delivered = false;
                break;
            }
            if i == 1 {
                first_chunk_at_ms = Some(trace.now_ms());
            }
        }
        let timings = RequestTimings {
            seq: 0,
            thread_id,
            instance_id: app.instance_id().to_owned(),
            user,
            resilience_layer: DIRECT,
            accepted_at_ms: trace.accepted_at_ms(),
            queued_at_ms: None,
            queue_wait_ms: 0.0,
            provider_first_token_at_ms: None,
            first_chunk_at_ms,
            finished_at_ms: trace.now_ms(),
            chunks_sent: u64::from(first_chunk_at_ms.is_some()),
            stages: trace.stages,
            outcome: if delivered {
                ServerOutcome::CacheHit
            } else {
                ServerOutcome::ClientDisconnected
            },
        };
        app.request_finished(timings, &model, "cache");
    });
    response
}

#[derive(serde::Serialize)]
struct CachedChunk<'a> {
    content: &'a str,
    cached: bool,
}

/// Field order as the real service writes a chunk.
#[derive(serde::Serialize)]
struct Chunk<'a> {
    content: &'a str,
    chunk_index: u64,
    finish_reason: Option<&'a str>,
}

#[derive(serde::Serialize)]
struct Complete<'a> {
    thread_id: &'a str,
    chunk_count: u64,
    total_length: u64,
    duration_ms: f64,
}

/// Why a stream stopped early.
enum Stop {
    ClientGone,
    ShutDown,
}

struct StreamRun {
    app: Arc<App>,
    request: StreamRequest,
    thread_id: String,
    user: String,
    layer: &'static str,
    trace: Trace,
    use_fake_llm: bool,
    enable_caching: bool,
    /// QUEUE_TYPE was `redis` when the request came.
    queue_in_redis: bool,
    cache_key: String,
    tx: mpsc::Sender<Bytes>,
    first_chunk_at_ms: Option<f64>,
    chunks_sent: u64,
}

impl StreamRun {
    async fn send(&self, text: String) -> Result<(), Stop> {
        tokio::select! {
            sent = self.tx.send(Bytes::from(text)) => sent.map_err(|_| Stop::ClientGone),
            () = self.app.shutdown.cancelled() => Err(Stop::ShutDown),
        }
    }

    async fn error_event(&self, kind: &str, message: &str) {
        let _ = self
            .tx
            .send(Bytes::from(event(
                "error",
                &json!({"error": kind, "message": message, "thread_id": self.thread_id}),
            )))
            .await;
    }

    fn finish(&self, outcome: ServerOutcome) {
        let timings = RequestTimings {
            seq: 0,
            thread_id: self.thread_id.clone(),
            instance_id: self.app.instance_id().to_owned(),
            user: self.user.clone(),
            resilience_layer: self.layer,
            accepted_at_ms: self.trace.accepted_at_ms(),
            queued_at_ms: self.trace.queued.map(|(at, _)| at),
            queue_wait_ms: self.trace.queued.map_or(0.0, |(_, waited)| waited),
            stages: self.trace.stages.clone(),
            provider_first_token_at_ms: self.trace.provider_first_token_at_ms,
            first_chunk_at_ms: self.first_chunk_at_ms,
            finished_at_ms: self.trace.now_ms(),
            chunks_sent: self.chunks_sent,
            outcome,
        };
        let provider = if self.use_fake_llm {
            "fake"
        } else {
            self.request.provider.as_deref().unwrap_or("openai")
        };
        self.app
            .request_finished(timings, &self.request.model, provider);
    }

    /// Waits in the failover queue, sending `: ping` meanwhile.
    async fn wait_for_slot(&mut self, place: QueuePlace) -> Result<Option<Permit>, Stop> {
        let entered = Instant::now();
        let waited = self.wait_in_queue(place).await;
        self.trace.queued(entered, entered.elapsed());
        waited
    }

    async fn wait_in_queue(&self, place: QueuePlace) -> Result<Option<Permit>, Stop> {
        let _queued = self.app.load.queued();
        let backend = self.app.admission.backend_for(self.queue_in_redis);
        let acquire = self.app.admission.acquire_within(
            &self.user,
            self.app.settings.queue_timeout(),
            backend,
        );
        tokio::pin!(acquire);
        let mut ping = tokio::time::interval(self.app.settings.queue_ping());
        ping.tick().await; // the first tick is immediate
        loop {
            tokio::select! {
                (permit, _backend) = &mut acquire => {
                    drop(place);
                    return Ok(permit);
                }
                _ = ping.tick() => self.send(PING.to_owned()).await?,
                () = self.tx.closed() => return Err(Stop::ClientGone),
                () = self.app.shutdown.cancelled() => return Err(Stop::ShutDown),
            }
        }
    }

    async fn run(mut self, permit: Option<Permit>, queue_place: Option<QueuePlace>) {
        let permit = match (permit, queue_place) {
            (Some(permit), _) => permit,
            (None, Some(place)) => {
                match self.wait_for_slot(place).await {
                    Ok(Some(permit)) => permit,
                    Ok(None) => {
                        // As the real service: an error event and no [DONE].
                        self.error_event("Queue timeout - server busy", "No stream slot became free while the request waited in the failover queue").await;
                        return self.finish(ServerOutcome::QueueTimeout);
                    }
                    Err(stop) => return self.stopped(stop).await,
                }
            }
            (None, None) => return,
        };
        let app = Arc::clone(&self.app);
        let _active = app.load.stream_started();
        let outcome = match self.stream_answer().await {
            Ok(outcome) => outcome,
            Err(stop) => return self.stopped(stop).await,
        };
        drop(permit);
        self.finish(outcome);
    }

    fn stage_done(&mut self, stage: Stage, started: Instant) {
        record_stage(&self.app, &mut self.trace, stage, started);
    }

    async fn stopped(&self, stop: Stop) {
        match stop {
            Stop::ClientGone => self.finish(ServerOutcome::ClientDisconnected),
            Stop::ShutDown => {
                self.error_event(
                    "server_shutdown",
                    "The service is shutting down; the stream was ended",
                )
                .await;
                self.finish(ServerOutcome::ShutDown);
            }
        }
    }

    /// Stages 4-6 and the events; the outcome, or why it stopped early.
    async fn stream_answer(&mut self) -> Result<ServerOutcome, Stop> {
        let started = Instant::now();
        self.send(event(
            "status",
            &json!({"status": "validated", "thread_id": self.thread_id}),
        ))
        .await?;

        // Stage 4: provider selection.
        let selection_started = Instant::now();
        let choice = ProviderChoice::select(
            self.use_fake_llm,
            self.request.provider.as_deref(),
            &self.app.settings,
        );
        let provider = match choice {
            Ok(ProviderChoice::Fake) => Ok(ProviderStream::fake(crate::fake_llm::FakeStream::new(
                &self.app.settings.fake,
                &self.request.query,
            ))),
            Ok(ProviderChoice::OpenAi { base_url, api_key }) => {
                let timeout =
                    std::time::Duration::from_millis(self.app.settings.provider_timeout_ms);
                OpenAiStream::start(
                    &base_url,
                    &api_key,
                    &self.request.model,
                    &self.request.query,
                    timeout,
                )
                .await
                .map(ProviderStream::OpenAi)
            }
            Err(e) => Err(e),
        };
        self.stage_done(Stage::ProviderSelection, selection_started);
        let mut provider = match provider {
            Ok(provider) => provider,
            Err(e) => {
                self.error_event(e.kind, &e.message).await;
                self.send(DONE.to_owned()).await?;
                return Ok(ServerOutcome::ProviderError);
            }
        };

        // Stage 5: LLM streaming.
        let streaming_started = Instant::now();
        let mut text = String::new();
        let mut total_chars = 0;
        let mut failure = None;
        loop {
            let next = tokio::select! {
                next = provider.next() => next,
                () = self.app.shutdown.cancelled() => return Err(Stop::ShutDown),
            };
            match next {
                Some(Ok(chunk)) => {
                    self.trace.provider_first_token();
                    self.send_chunk(&chunk.content, chunk.finish_reason.as_deref())
                        .await?;
                    total_chars += chunk.content.chars().count() as u64;
                    // The text is kept only to be cached.
                    if self.enable_caching {
                        text.push_str(&chunk.content);
                    }
                }
                Some(Err(e)) => {
                    failure = Some(e);
                    break;
                }
                None => break,
            }
        }
        self.stage_done(Stage::LlmStreaming, streaming_started);
        if let Some(e) = failure {
            self.error_event(e.kind, &e.message).await;
            self.send(DONE.to_owned()).await?;
            return Ok(ServerOutcome::ProviderError);
        }

        self.send(event(
            "complete",
            &Complete {
                thread_id: &self.thread_id,
                chunk_count: self.chunks_sent,
                total_length: total_chars,
                duration_ms: (started.elapsed().as_secs_f64() * 1e5).round() / 100.0,
            },
        ))
        .await?;
        self.send(DONE.to_owned()).await?;

        // Stage 6: cleanup & caching.
        let cleanup_started = Instant::now();
        if self.enable_caching && !text.is_empty() {
            self.app.l1.put(self.cache_key.clone(), text.clone());
            if let Some(l2) = &self.app.redis {
                // A Redis failure loses only the L2 copy.
                let _ = l2.put(&self.cache_key, &text).await;
            }
            self.app.exposition.cache_set(cleanup_started.elapsed());
        }
        self.stage_done(Stage::CleanupAndCaching, cleanup_started);
        Ok(ServerOutcome::Completed)
    }

    async fn send_chunk(&mut self, content: &str, finish_reason: Option<&str>) -> Result<(), Stop> {
        self.chunks_sent += 1;
        let chunk = Chunk {
            content,
            chunk_index: self.chunks_sent,
            finish_reason,
        };
        self.send(event("chunk", &chunk)).await?;
        if self.first_chunk_at_ms.is_none() {
            self.first_chunk_at_ms = Some(self.trace.now_ms());
        }
        Ok(())
    }
}
