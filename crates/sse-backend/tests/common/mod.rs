//! Shared helpers: a real server on 127.0.0.1 and a client that reads its streams
//! with the dashboard's own core (parser, decoder, recorder).
#![allow(dead_code)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_backend::settings::{FakeLlmSettings, Settings};
use sse_backend::App;
use sse_core::load::recorder::{RequestRecord, RequestRecorder};
use sse_core::sse::parser::SseParser;
use sse_core::sse::stream::StreamEvent;

pub struct Server {
    pub base: String,
    pub addr: std::net::SocketAddr,
    pub app: Arc<App>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    pub async fn start(settings: Settings) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        Self::on(listener, settings).await
    }

    pub async fn on(listener: tokio::net::TcpListener, settings: Settings) -> Self {
        let addr = listener.local_addr().expect("addr");
        let app = App::new(settings).expect("settings");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(sse_backend::serve_app(listener, Arc::clone(&app), async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}/api/v1"),
            addr,
            app,
            stop: Some(stop),
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/{}", self.base, path.trim_start_matches('/'))
    }

    /// Starts the graceful shutdown.
    pub fn shut_down(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shut_down();
        self.task.abort();
    }
}

/// Fast fake LLM: 5-10 ms to the first chunk, 1-3 ms gaps, 20-60 characters.
pub fn fast_settings() -> Settings {
    Settings {
        fake: FakeLlmSettings {
            ttft_min_ms: 5,
            ttft_max_ms: 10,
            gap_min_ms: 1,
            gap_max_ms: 3,
            answer_min_chars: 20,
            answer_max_chars: 60,
            ..FakeLlmSettings::realistic()
        },
        ..Settings::default()
    }
}

/// A stream as a client saw it.
pub struct StreamRead {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub raw: Vec<u8>,
    pub events: Vec<StreamEvent>,
    pub record: RequestRecord,
}

impl StreamRead {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        self.events
            .iter()
            .filter_map(|e| match e {
                StreamEvent::Chunk(c) => Some(c.content.as_str()),
                _ => None,
            })
            .collect()
    }
}

pub fn body(query: &str) -> serde_json::Value {
    serde_json::json!({ "query": query, "model": "gpt-3.5-turbo", "provider": "fake" })
}

/// POST /stream and read the answer to its end with sse-core.
pub async fn stream_with(
    client: &reqwest::Client,
    server: &Server,
    body: &serde_json::Value,
    user: Option<&str>,
) -> StreamRead {
    let clock = Instant::now();
    let ms = move || clock.elapsed().as_secs_f64() * 1000.0;
    let mut recorder = RequestRecorder::new(ms());
    let mut request = client.post(server.url("stream")).json(body);
    if let Some(user) = user {
        request = request.header("x-user-id", user);
    }
    let response = request.send().await.expect("send");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    recorder.on_headers(
        ms(),
        status,
        header("x-resilience-layer"),
        header("x-thread-id"),
    );
    if status != 200 {
        let text = response.text().await.unwrap_or_default();
        let record = recorder.finish_http_status(ms(), status, &text);
        return StreamRead {
            status,
            headers,
            raw: text.into_bytes(),
            events: Vec::new(),
            record,
        };
    }
    let mut parser = SseParser::default();
    let mut events = Vec::new();
    let mut raw = Vec::new();
    let mut body = response.bytes_stream();
    let mut failed = None;
    while let Some(piece) = body.next().await {
        match piece {
            Ok(bytes) => {
                raw.extend_from_slice(&bytes);
                let mut frames = Vec::new();
                parser.feed(&bytes, &mut |f| frames.push(f));
                for frame in frames {
                    match frame
                        .map_err(|e| e.to_string())
                        .and_then(|f| StreamEvent::decode(f).map_err(|e| e.to_string()))
                    {
                        Ok(event) => {
                            recorder.on_event(ms(), &event);
                            events.push(event);
                        }
                        Err(message) => recorder.on_malformed(message),
                    }
                }
            }
            Err(e) => {
                failed = Some(e.to_string());
                break;
            }
        }
    }
    let record = match failed {
        Some(message) => recorder.finish_network_error(ms(), message),
        None => {
            let mut frames = Vec::new();
            parser.finish(&mut |f| frames.push(f));
            for frame in frames.into_iter().flatten() {
                if let Ok(event) = StreamEvent::decode(frame) {
                    recorder.on_event(ms(), &event);
                    events.push(event);
                }
            }
            recorder.finish_stream_end(ms())
        }
    };
    StreamRead {
        status,
        headers,
        raw,
        events,
        record,
    }
}

pub async fn stream(server: &Server, query: &str) -> StreamRead {
    stream_with(&reqwest::Client::new(), server, &body(query), None).await
}

pub async fn get_json(server: &Server, path: &str) -> serde_json::Value {
    reqwest::get(server.url(path))
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

pub async fn put_json(
    server: &Server,
    path: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = reqwest::Client::new()
        .put(server.url(path))
        .json(body)
        .send()
        .await
        .expect("put");
    let status = response.status().as_u16();
    (status, response.json().await.expect("json"))
}

/// Polls `check` until it holds (at most `timeout`).
pub async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}
