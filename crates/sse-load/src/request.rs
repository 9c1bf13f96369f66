//! One request of a run: `POST /stream`, its answer read as a stream by the
//! core's SSE parser and measured by its recorder (the browser's load tester
//! does the same: `src/load_tester/engine/request.rs`), ended by the stream,
//! the time limit, Stop or a broken connection.

use std::time::Duration;

use reqwest::header::HeaderMap;
use sse_core::contract::instances::attribution;
use sse_core::contract::stream::StreamRequest;
use sse_core::load::recorder::{RequestRecord, RequestRecorder};
use sse_core::sse::parser::{SseError, SseFrame, SseLimits, SseParser};
use sse_core::sse::stream::StreamEvent;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;

/// What one request needs.
pub struct Request {
    pub client: reqwest::Client,
    pub url: String,
    pub body: StreamRequest,
    pub user: Option<String>,
    pub timeout_ms: u64,
    pub clock: Clock,
    /// Cancelled by Stop (Ctrl-C).
    pub stop: CancellationToken,
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The protocol as the browser names it (Resource Timing's `nextHopProtocol`).
fn protocol(version: reqwest::Version) -> &'static str {
    match version {
        reqwest::Version::HTTP_2 => "h2",
        reqwest::Version::HTTP_3 => "h3",
        reqwest::Version::HTTP_10 => "http/1.0",
        _ => "http/1.1",
    }
}

/// An error with its causes, as one line ("error sending request …: connection refused").
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// How reading ended early.
enum Interrupted {
    TimedOut,
    Aborted,
    Broken(String),
}

/// Sends the request and reads its answer to the end.
pub async fn one_request(request: Request) -> RequestRecord {
    let Request {
        client,
        url,
        body,
        user,
        timeout_ms,
        clock,
        stop,
    } = request;
    let mut recorder = RequestRecorder::new(clock.now_ms());
    // Made once, polled at every read: a new wait per chunk costs more than
    // reading the chunk (a waiter registered and dropped each time).
    let deadline = tokio::time::sleep(Duration::from_millis(timeout_ms));
    let stopped = stop.cancelled();
    tokio::pin!(deadline, stopped);
    let mut builder = client
        .post(&url)
        .header("Content-Type", "application/json")
        .header("Accept", "text/event-stream")
        .body(serde_json::to_string(&body).unwrap_or_default());
    if let Some(user) = &user {
        builder = builder.header("X-User-ID", user);
    }
    let sent = tokio::select! {
        sent = builder.send() => sent,
        () = &mut deadline => return recorder.finish_timeout(clock.now_ms(), timeout_ms),
        () = &mut stopped => return recorder.finish_aborted(clock.now_ms()),
    };
    let mut response = match sent {
        Ok(response) => response,
        Err(error) => return recorder.finish_network_error(clock.now_ms(), describe(&error)),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    recorder.on_headers(
        clock.now_ms(),
        status,
        header(&headers, "x-resilience-layer"),
        header(&headers, "x-thread-id"),
    );
    recorder.on_instance(attribution(
        header(&headers, "x-instance-id").as_deref(),
        header(&headers, "x-upstream-addr").as_deref(),
    ));
    let protocol = protocol(response.version());
    if !response.status().is_success() {
        let text = tokio::select! {
            text = response.text() => text.unwrap_or_default(),
            () = &mut deadline => String::new(),
            () = &mut stopped => String::new(),
        };
        let mut record = recorder.finish_http_status(clock.now_ms(), status, &text);
        record.protocol = Some(protocol.to_owned());
        return record;
    }
    let mut parser = SseParser::new(SseLimits::default());
    let ending = loop {
        let chunk = tokio::select! {
            // The stream first: the deadline and Stop are rarely due.
            biased;
            chunk = response.chunk() => chunk,
            () = &mut deadline => break Some(Interrupted::TimedOut),
            () = &mut stopped => break Some(Interrupted::Aborted),
        };
        match chunk {
            Ok(Some(bytes)) => {
                let at = clock.now_ms();
                parser.feed(&bytes, &mut |frame| feed(&mut recorder, at, frame));
            }
            Ok(None) => break None,
            Err(error) => break Some(Interrupted::Broken(describe(&error))),
        }
    };
    let at = clock.now_ms();
    parser.finish(&mut |frame| feed(&mut recorder, at, frame));
    let mut record = match ending {
        None => recorder.finish_stream_end(at),
        Some(Interrupted::TimedOut) => recorder.finish_timeout(at, timeout_ms),
        Some(Interrupted::Aborted) => recorder.finish_aborted(at),
        Some(Interrupted::Broken(detail)) => {
            recorder.finish_network_error(at, format!("the stream broke off: {detail}"))
        }
    };
    record.protocol = Some(protocol.to_owned());
    record
}

fn feed(recorder: &mut RequestRecorder, at: f64, frame: Result<SseFrame, SseError>) {
    match frame.map(StreamEvent::decode) {
        Ok(Ok(event)) => recorder.on_event(at, &event),
        Ok(Err(error)) => recorder.on_malformed(error.to_string()),
        Err(error) => recorder.on_malformed(error.to_string()),
    }
}
