//! One request of a run: `POST /stream`, its answer read as a stream by the
//! core's SSE parser and measured by its recorder, ended by the stream, the
//! deadline, Stop or a broken connection.

use sse_core::load::recorder::{RequestRecord, RequestRecorder};
use sse_core::sse::parser::{SseError, SseFrame, SseLimits, SseParser};
use sse_core::sse::stream::StreamEvent;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use super::SharedRun;
use crate::api::ApiClient;
use crate::browser::clock::monotonic_ms as now_ms;
use crate::browser::deadline::Deadline;
use crate::browser::js_error;
use sse_core::contract::stream::StreamRequest;

/// A request ready to go.
pub(super) struct Prepared {
    pub index: u64,
    pub url: String,
    pub api: ApiClient,
    pub request: StreamRequest,
    pub timeout_ms: u64,
    pub user: Option<String>,
    pub deadline: Deadline,
    pub intended_at_ms: Option<f64>,
}

fn header(response: &gloo_net::http::Response, name: &str) -> Option<String> {
    response.headers().get(name)
}

/// Why reading stopped early, when it did.
enum Interrupted {
    TimedOut,
    Aborted,
    Broken(String),
}

/// Sends `prepared` and reads its answer to the end; the text received so far
/// goes to the run as it comes (the live token count).
pub(super) async fn one_request(run: &SharedRun, prepared: &Prepared) -> RequestRecord {
    let Prepared {
        index,
        api,
        url,
        request,
        timeout_ms,
        user,
        deadline,
        ..
    } = prepared;
    let (index, timeout_ms) = (*index, *timeout_ms);
    let interrupted = |detail: String| {
        if deadline.timed_out() {
            Interrupted::TimedOut
        } else if deadline.aborted() {
            Interrupted::Aborted
        } else {
            Interrupted::Broken(detail)
        }
    };
    let mut recorder = RequestRecorder::new(now_ms());
    let response = match api
        .open_stream(url, request, user.as_deref(), &deadline.signal())
        .await
    {
        Ok(response) => response,
        Err(detail) => {
            return match interrupted(detail) {
                Interrupted::TimedOut => recorder.finish_timeout(now_ms(), timeout_ms),
                Interrupted::Aborted => recorder.finish_aborted(now_ms()),
                Interrupted::Broken(detail) => recorder.finish_network_error(now_ms(), detail),
            };
        }
    };
    let status = response.status();
    recorder.on_headers(
        now_ms(),
        status,
        header(&response, "x-resilience-layer"),
        header(&response, "x-thread-id"),
    );
    recorder.on_instance(sse_core::contract::instances::attribution(
        header(&response, "x-instance-id").as_deref(),
        header(&response, "x-upstream-addr").as_deref(),
    ));
    if !(200..300).contains(&status) {
        let body = response.text().await.unwrap_or_default();
        return recorder.finish_http_status(now_ms(), status, &body);
    }
    let Some(body) = response.body() else {
        return recorder.finish_stream_end(now_ms());
    };
    let reader: web_sys::ReadableStreamDefaultReader = body.get_reader().unchecked_into();
    let mut parser = SseParser::new(SseLimits::default());
    let mut bytes = Vec::new();
    let ending = loop {
        let read = match JsFuture::from(reader.read()).await {
            Ok(read) => read,
            Err(error) => break Some(interrupted(js_error::describe(&error))),
        };
        let done = js_sys::Reflect::get(&read, &"done".into())
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break None;
        }
        let Ok(value) = js_sys::Reflect::get(&read, &"value".into()) else {
            break None;
        };
        let Ok(chunk) = value.dyn_into::<js_sys::Uint8Array>() else {
            break Some(Interrupted::Broken("the body was not bytes".into()));
        };
        bytes.resize(chunk.length() as usize, 0);
        chunk.copy_to(&mut bytes);
        let at = now_ms();
        parser.feed(&bytes, &mut |frame| feed(&mut recorder, at, frame));
        run.borrow_mut().received(index, recorder.output_chars());
    };
    let at = now_ms();
    parser.finish(&mut |frame| feed(&mut recorder, at, frame));
    match ending {
        None => recorder.finish_stream_end(at),
        Some(Interrupted::TimedOut) => recorder.finish_timeout(at, timeout_ms),
        Some(Interrupted::Aborted) => recorder.finish_aborted(at),
        Some(Interrupted::Broken(detail)) => {
            recorder.finish_network_error(at, format!("the stream broke off: {detail}"))
        }
    }
}

fn feed(recorder: &mut RequestRecorder, at: f64, frame: Result<SseFrame, SseError>) {
    match frame.map(StreamEvent::decode) {
        Ok(Ok(event)) => recorder.on_event(at, &event),
        Ok(Err(error)) => recorder.on_malformed(error.to_string()),
        Err(error) => recorder.on_malformed(error.to_string()),
    }
}
