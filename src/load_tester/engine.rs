//! The load-test engine: a closed loop of `concurrency` workers, each sending
//! its next `POST /stream` as soon as its previous one ended, until the planned
//! total is sent or the run is stopped. Each answer is read as a stream,
//! parsed by the core's SSE parser and measured by its recorder; the run's
//! statistics grow as requests end.
//!
//! Nothing here touches the page: the view reads [`Run`] when it wants (once
//! per animation frame), so a chunk costs no re-render.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use sse_core::load_plan::LoadPlan;
use sse_core::recorder::{estimate_tokens, RequestRecord, RequestRecorder};
use sse_core::run_report::{RequestRow, RunContext, RunSummary};
use sse_core::run_stats::RunStats;
use sse_core::sse::{SseLimits, SseParser};
use sse_core::stream::{StreamEvent, StreamRequest};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::api::ApiClient;
use crate::browser::clock::{monotonic_ms as now_ms, wall_ms};
use crate::browser::deadline::Deadline;
use crate::browser::js_error;

/// Resource Timing entries kept during a run (the browser's default is 250);
/// requests beyond it have no browser queue time.
const RESOURCE_TIMING_ENTRIES: u32 = 20_000;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Running,
    Stopping,
    Finished,
}

impl Phase {
    pub fn word(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopping => "stopping",
            Self::Finished => "finished",
        }
    }
}

struct InFlight {
    controller: web_sys::AbortController,
    output_chars: u64,
}

/// A run: its plan, its requests in flight, and what the ended ones measured.
pub struct Run {
    pub plan: LoadPlan,
    api: ApiClient,
    /// Run id, also in every request's URL tag.
    pub started_epoch_ms: f64,
    pub started_ms: f64,
    pub phase: Phase,
    next_index: u64,
    in_flight: HashMap<u64, InFlight>,
    pub stats: RunStats,
    pub rows: Vec<RequestRow>,
    /// Bumped on every change the view may want to show.
    pub version: u64,
    pub ended_ms: Option<f64>,
}

impl Run {
    pub fn active(&self) -> u64 {
        self.in_flight.len() as u64
    }

    /// Output tokens: those of ended requests, plus the estimate of the text
    /// received so far by requests in flight.
    pub fn live_tokens(&self) -> u64 {
        self.stats.output_tokens
            + self
                .in_flight
                .values()
                .map(|r| estimate_tokens(r.output_chars))
                .sum::<u64>()
    }

    pub fn elapsed_ms(&self) -> f64 {
        self.ended_ms.unwrap_or_else(now_ms) - self.started_ms
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary::new(
            &RunContext {
                started_at_ms: self.started_epoch_ms,
                api_base: self.api.base(),
                plan: &self.plan,
                stopped: self.next_index < self.plan.total,
            },
            &self.stats,
        )
    }

    fn add(&mut self, index: u64, record: RequestRecord) {
        self.in_flight.remove(&index);
        self.rows
            .push(RequestRow::new(index, self.started_ms, &record));
        self.stats.add(&record);
        self.version += 1;
    }
}

pub type SharedRun = Rc<RefCell<Run>>;

/// Starts a run; `on_end` is called once, when its last request has ended.
pub fn start(plan: LoadPlan, api: ApiClient, on_end: impl FnOnce() + 'static) -> SharedRun {
    let started_ms = now_ms();
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        performance.clear_resource_timings();
        performance.set_resource_timing_buffer_size(RESOURCE_TIMING_ENTRIES);
    }
    let workers = plan.concurrency;
    let run = Rc::new(RefCell::new(Run {
        plan,
        api,
        started_epoch_ms: wall_ms(),
        started_ms,
        phase: Phase::Running,
        next_index: 0,
        in_flight: HashMap::new(),
        stats: RunStats::new(started_ms),
        rows: Vec::new(),
        version: 0,
        ended_ms: None,
    }));
    let remaining = Rc::new(Cell::new(workers));
    let on_end = Rc::new(RefCell::new(Some(on_end)));
    for worker in 0..workers {
        let run = run.clone();
        let remaining = remaining.clone();
        let on_end = on_end.clone();
        wasm_bindgen_futures::spawn_local(async move {
            work(&run, worker).await;
            remaining.set(remaining.get() - 1);
            if remaining.get() == 0 {
                {
                    let mut r = run.borrow_mut();
                    r.phase = Phase::Finished;
                    r.ended_ms = Some(now_ms());
                    r.version += 1;
                }
                if let Some(on_end) = on_end.borrow_mut().take() {
                    on_end();
                }
            }
        });
    }
    run
}

/// Stops a run: no new requests, and every request in flight is aborted
/// (counted as aborted, not failed).
pub fn stop(run: &SharedRun) {
    let controllers: Vec<web_sys::AbortController> = {
        let mut r = run.borrow_mut();
        if r.phase == Phase::Running {
            r.phase = Phase::Stopping;
            r.version += 1;
        }
        r.in_flight.values().map(|f| f.controller.clone()).collect()
    };
    // Outside the borrow: an abort settles the readers' promises, never synchronously
    // re-entering the run, but there is no reason to hold it.
    for controller in controllers {
        controller.abort();
    }
}

/// One worker: requests one after another until there is none left to send.
async fn work(run: &SharedRun, worker: u32) {
    loop {
        let (index, request_url, api, request, timeout_ms, user, deadline) = {
            let mut r = run.borrow_mut();
            if r.phase != Phase::Running || r.next_index >= r.plan.total {
                return;
            }
            let ms = u32::try_from(r.plan.timeout_ms).unwrap_or(u32::MAX);
            let Ok(deadline) = Deadline::after(ms) else {
                return;
            };
            let index = r.next_index;
            r.next_index += 1;
            r.in_flight.insert(
                index,
                InFlight {
                    controller: deadline.controller(),
                    output_chars: 0,
                },
            );
            r.version += 1;
            let tag = format!("{}-{index}", r.started_epoch_ms as u64);
            let url = r.api.stream_url(&tag);
            let user = r
                .plan
                .user_per_worker
                .then(|| format!("loadtest-{}-{worker}", r.started_epoch_ms as u64));
            (
                index,
                url,
                r.api.clone(),
                r.plan.request.clone(),
                r.plan.timeout_ms,
                user,
                deadline,
            )
        };
        let mut record = one_request(
            run,
            index,
            &api,
            &request_url,
            &request,
            user.as_deref(),
            timeout_ms,
            &deadline,
        )
        .await;
        // The browser files the Resource Timing entry when the body is done,
        // in a task of its own: give it that task before looking.
        gloo_timers::future::TimeoutFuture::new(0).await;
        if let Some((queue, protocol)) = resource_timing(&request_url) {
            record.browser_queue_ms = queue;
            record.protocol = protocol;
        }
        run.borrow_mut().add(index, record);
    }
}

/// The browser's queue time and protocol of the request to `url`, where it tells.
fn resource_timing(url: &str) -> Option<(Option<f64>, Option<String>)> {
    let performance = web_sys::window()?.performance()?;
    let absolute = web_sys::Url::new_with_base(url, &web_sys::window()?.location().href().ok()?)
        .ok()?
        .href();
    let entries = performance.get_entries_by_name(&absolute);
    let entry: web_sys::PerformanceResourceTiming = entries
        .get(entries.length().checked_sub(1)?)
        .dyn_into()
        .ok()?;
    // Cross-origin without Timing-Allow-Origin, both are zeroed/empty.
    let queue = (entry.request_start() > 0.0).then(|| entry.request_start() - entry.start_time());
    let protocol = Some(entry.next_hop_protocol()).filter(|p| !p.is_empty());
    Some((queue, protocol))
}

/// The protocol the browser used for the last health check (or the page
/// itself, when the API is on the page's origin); `None` when it does not tell.
pub fn known_protocol(api: &ApiClient) -> Option<String> {
    if let Some((_, Some(protocol))) = resource_timing(&api.health_url()) {
        return Some(protocol);
    }
    let same_origin = api.base().starts_with('/');
    let performance = web_sys::window()?.performance()?;
    let navigation: web_sys::PerformanceResourceTiming = performance
        .get_entries_by_type("navigation")
        .get(0)
        .dyn_into()
        .ok()?;
    Some(navigation.next_hop_protocol()).filter(|p| same_origin && !p.is_empty())
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

#[allow(clippy::too_many_arguments)]
async fn one_request(
    run: &SharedRun,
    index: u64,
    api: &ApiClient,
    url: &str,
    request: &StreamRequest,
    user: Option<&str>,
    timeout_ms: u64,
    deadline: &Deadline,
) -> RequestRecord {
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
        .open_stream(url, request, user, &deadline.signal())
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
    recorder.on_instance(sse_core::instances::attribution(
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
        let chars = recorder.output_chars();
        if let Some(in_flight) = run.borrow_mut().in_flight.get_mut(&index) {
            in_flight.output_chars = chars;
        }
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

fn feed(
    recorder: &mut RequestRecorder,
    at: f64,
    frame: Result<sse_core::sse::SseFrame, sse_core::sse::SseError>,
) {
    match frame.map(StreamEvent::decode) {
        Ok(Ok(event)) => recorder.on_event(at, &event),
        Ok(Err(error)) => recorder.on_malformed(error.to_string()),
        Err(error) => recorder.on_malformed(error.to_string()),
    }
}
