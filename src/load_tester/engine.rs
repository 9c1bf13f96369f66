//! The load-test engine. A run is one or more steps (a sweep's, or one step
//! for a single run). A step is either a closed loop of `concurrency`
//! workers, each sending its next `POST /stream` as soon as its previous one
//! ended, or an open loop whose requests start on the core's
//! [`Schedule`] (constant or Poisson arrivals, capped in flight): one timer at
//! the next arrival, and a look at the schedule whenever a request ends. Each
//! answer is read as a stream, parsed by the core's SSE parser and measured by
//! its recorder; the statistics grow as requests end. A step ends when its
//! requests have ended; the next starts then.
//!
//! Nothing here touches the page: the view reads [`Run`] when it wants (once
//! per animation frame), so a chunk costs no re-render.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sse_core::contract::stream::StreamRequest;
use sse_core::load::model::{OpenLoop, Schedule};
use sse_core::load::plan::{LoadForm, LoadPlan, MAX_TOTAL};
use sse_core::load::recorder::{estimate_tokens, RequestRecord, RequestRecorder};
use sse_core::load::report::{RequestRow, RunContext, RunSummary};
use sse_core::load::request_row::ServerParts;
use sse_core::load::run_stats::RunStats;
use sse_core::load::sweep::{should_stop_early, StepResult};
use sse_core::load::time_breakdown::ServerRecords;
use sse_core::sse::parser::{SseLimits, SseParser};
use sse_core::sse::stream::StreamEvent;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

use crate::api::ApiClient;
use crate::browser::clock::{monotonic_ms as now_ms, wall_ms};
use crate::browser::deadline::Deadline;
use crate::browser::js_error;

/// Resource Timing entries kept during a run (the browser's default is 250);
/// requests beyond it have no browser queue time.
const RESOURCE_TIMING_ENTRIES: u32 = 20_000;
/// From Start to the first request (ms).
const START_LEAD_MS: u32 = 100;

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

/// The step running now.
struct Step {
    /// 0-based.
    index: usize,
    load: f64,
    started_ms: f64,
    max_requests: u64,
    duration_ms: Option<f64>,
    warmup_ms: f64,
    sent: u64,
    /// The step's counted requests (those after its warm-up).
    stats: RunStats,
    /// Open loop only.
    schedule: Option<Schedule>,
    /// Closed loop: workers still sending.
    workers: u32,
}

/// A run: its plan, its requests in flight, and what the ended ones measured.
pub struct Run {
    pub plan: LoadPlan,
    form: LoadForm,
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
    loads: Vec<f64>,
    step: Step,
    /// Finished steps of a sweep (empty for a single run).
    pub steps: Vec<StepResult>,
    /// The service's records of the run's requests, as they arrive.
    pub server: ServerRecords,
    stopped_by_user: bool,
    timer: Option<gloo_timers::callback::Timeout>,
    on_end: Option<Box<dyn FnOnce()>>,
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

    /// "step 2 of 4: 10 req/s", for a sweep.
    pub fn step_text(&self) -> Option<String> {
        self.plan.sweep.as_ref()?;
        Some(format!(
            "step {} of {}: {} {}",
            self.step.index + 1,
            self.loads.len(),
            sse_core::load::sweep::load_text(self.step.load),
            self.plan.load_unit()
        ))
    }

    /// Open loop: how long until the next arrival is due (ms); `None` in a
    /// closed loop or when no arrival is coming.
    pub fn next_arrival_in_ms(&self) -> Option<f64> {
        let wake = self.step.schedule.as_ref()?.next_wake_ms()?;
        Some(wake - (now_ms() - self.step.started_ms))
    }

    /// (done, planned): ended requests of the total, or, when time bounds
    /// the run (a duration, a sweep), ms sent so far of the planned time.
    pub fn progress(&self) -> (f64, f64) {
        let ended = (self.stats.completed + self.stats.failed + self.stats.aborted) as f64;
        let Some(step_ms) = self.step.duration_ms else {
            return (ended, self.plan.total as f64);
        };
        let in_step = (now_ms() - self.step.started_ms).clamp(0.0, step_ms);
        let done = if self.phase == Phase::Finished {
            step_ms * self.loads.len() as f64
        } else {
            self.step.index as f64 * step_ms + in_step
        };
        (done, step_ms * self.loads.len() as f64)
    }

    /// Arrivals the open loop holds back now (cap reached).
    pub fn waiting(&self) -> u64 {
        self.step
            .schedule
            .as_ref()
            .map_or(0, |s| s.waiting() as u64)
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary::new(
            &RunContext {
                started_at_ms: self.started_epoch_ms,
                api_base: self.api.base(),
                plan: &self.plan,
                stopped: self.stopped_by_user,
                form: Some(&self.form),
                steps: &self.steps,
            },
            &self.stats,
        )
    }

    /// The page-clock epoch (ms) of the run's time 0, where request rows'
    /// `sent_ms` count from.
    pub fn origin_epoch_ms(&self) -> f64 {
        let origin = web_sys::window()
            .and_then(|w| w.performance())
            .map_or(self.started_epoch_ms - self.started_ms, |p| p.time_origin());
        origin + self.started_ms
    }

    /// The rows with the service's side of each, where its record is known.
    pub fn joined_rows(&self) -> Vec<RequestRow> {
        self.rows
            .iter()
            .map(|row| RequestRow {
                server: self
                    .server
                    .of(row)
                    .map(|record| ServerParts::of(row, record)),
                ..row.clone()
            })
            .collect()
    }

    fn is_sweep(&self) -> bool {
        self.plan.sweep.is_some()
    }

    /// A request ended: into the run's statistics, and into its step's when it
    /// started after the warm-up.
    fn add(&mut self, index: u64, record: RequestRecord) {
        self.in_flight.remove(&index);
        self.rows
            .push(RequestRow::new(index, self.started_ms, &record));
        self.stats.add(&record);
        let start = record.intended_at_ms.unwrap_or(record.sent_at_ms);
        if start - self.step.started_ms >= self.step.warmup_ms {
            self.step.stats.add(&record);
        }
        self.version += 1;
    }

    /// A fresh step `index`, started now.
    fn new_step(&self, index: usize) -> Step {
        let load = self.loads.get(index).copied().unwrap_or(1.0);
        let plan = &self.plan;
        let (max_requests, duration_ms, warmup_ms) = match &plan.sweep {
            Some(sweep) => (
                MAX_TOTAL,
                Some(sweep.step_ms as f64),
                sweep.warmup_ms as f64,
            ),
            None => (plan.total, plan.duration_ms.map(|d| d as f64), 0.0),
        };
        let started_ms = now_ms();
        let schedule = plan.model.is_open().then(|| {
            Schedule::new(OpenLoop {
                model: plan.model,
                rate_per_s: load,
                // Each step its own arrivals, the same on every re-run.
                seed: plan.seed.wrapping_add(index as u64),
                max_requests,
                duration_ms,
                max_in_flight: plan.max_in_flight,
            })
        });
        Step {
            index,
            load,
            started_ms,
            max_requests,
            duration_ms,
            warmup_ms,
            sent: 0,
            stats: RunStats::new(started_ms + warmup_ms).judged_by(plan.slo.clone()),
            schedule,
            workers: if plan.model.is_open() {
                0
            } else {
                (load as u32).max(1)
            },
        }
    }

    /// Whether a closed-loop worker may send another request in this step.
    fn closed_may_send(&self) -> bool {
        self.phase == Phase::Running
            && self.step.sent < self.step.max_requests
            && self
                .step
                .duration_ms
                .is_none_or(|d| now_ms() - self.step.started_ms < d)
    }

    fn step_is_over(&self) -> bool {
        self.in_flight.is_empty()
            && match &self.step.schedule {
                Some(schedule) => schedule.is_done(),
                None => self.step.workers == 0,
            }
    }
}

pub type SharedRun = Rc<RefCell<Run>>;

/// Starts a run; `on_end` is called once, when its last request has ended.
pub fn start(
    plan: LoadPlan,
    form: LoadForm,
    api: ApiClient,
    on_end: impl FnOnce() + 'static,
) -> SharedRun {
    let started_ms = now_ms();
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        performance.clear_resource_timings();
        performance.set_resource_timing_buffer_size(RESOURCE_TIMING_ENTRIES);
    }
    let loads = plan.step_loads();
    let slo = plan.slo.clone();
    let placeholder = Step {
        index: 0,
        load: 0.0,
        started_ms,
        max_requests: 0,
        duration_ms: None,
        warmup_ms: 0.0,
        sent: 0,
        stats: RunStats::new(started_ms),
        schedule: None,
        workers: 0,
    };
    let run = Rc::new(RefCell::new(Run {
        plan,
        form,
        api,
        started_epoch_ms: wall_ms(),
        started_ms,
        phase: Phase::Running,
        next_index: 0,
        in_flight: HashMap::new(),
        stats: RunStats::new(started_ms).judged_by(slo),
        rows: Vec::new(),
        version: 0,
        ended_ms: None,
        loads,
        step: placeholder,
        steps: Vec::new(),
        server: ServerRecords::default(),
        stopped_by_user: false,
        timer: None,
        on_end: Some(Box::new(on_end)),
    }));
    // The first arrival waits until the page has drawn the run's view: that
    // first render would make the first arrivals of an open loop late.
    let first = run.clone();
    let lead = gloo_timers::callback::Timeout::new(START_LEAD_MS, move || begin_step(&first, 0));
    run.borrow_mut().timer = Some(lead);
    run
}

/// Holds the first request until `ready` has resolved (and the usual lead
/// has passed): what the page must know before the run (the service's
/// record counters, see `run.rs`) is asked before any request can end.
pub fn start_when(run: &SharedRun, ready: impl std::future::Future<Output = ()> + 'static) {
    run.borrow_mut().timer = None;
    let run = run.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let lead = gloo_timers::future::TimeoutFuture::new(START_LEAD_MS);
        futures::future::join(ready, lead).await;
        // Stopped while it waited: nothing to begin.
        if run.borrow().phase == Phase::Running {
            begin_step(&run, 0);
        }
    });
}

/// Starts step `index`: its workers, or its schedule's first look.
fn begin_step(run: &SharedRun, index: usize) {
    let workers = {
        let mut r = run.borrow_mut();
        if index == 0 {
            // The run's clock starts with its first request, after the lead.
            r.started_ms = now_ms();
            r.stats = RunStats::new(r.started_ms).judged_by(r.plan.slo.clone());
        }
        r.step = r.new_step(index);
        r.version += 1;
        r.step.workers
    };
    if run.borrow().step.schedule.is_some() {
        pump(run);
        return;
    }
    for worker in 0..workers {
        let run = run.clone();
        wasm_bindgen_futures::spawn_local(async move {
            work(&run, worker).await;
            run.borrow_mut().step.workers -= 1;
            step_may_end(&run);
        });
    }
}

/// After a request or a worker ended: the next step, or the run's end.
fn step_may_end(run: &SharedRun) {
    let next = {
        let mut r = run.borrow_mut();
        if r.phase == Phase::Finished || !r.step_is_over() {
            return;
        }
        let stopped = r.phase != Phase::Running;
        if r.is_sweep() && !stopped {
            let mut stats = r.step.stats.clone();
            stats.dropped = r.step.schedule.as_ref().map_or(0, Schedule::dropped);
            let result = StepResult::new(r.step.index + 1, r.step.load, &stats, &r.plan.slo);
            r.steps.push(result);
        }
        r.stats.dropped += r.step.schedule.as_ref().map_or(0, Schedule::dropped);
        let next = r.step.index + 1;
        let early = r
            .plan
            .sweep
            .as_ref()
            .is_some_and(|sweep| should_stop_early(sweep, &r.steps));
        if stopped || early || next >= r.loads.len() {
            r.phase = Phase::Finished;
            r.ended_ms = Some(now_ms());
            r.timer = None;
            r.version += 1;
            None
        } else {
            Some(next)
        }
    };
    match next {
        Some(index) => begin_step(run, index),
        None => {
            let on_end = run.borrow_mut().on_end.take();
            if let Some(on_end) = on_end {
                on_end();
            }
        }
    }
}

/// Stops a run (a sweep as a whole): no new requests, and every request in
/// flight is aborted (counted as aborted, not failed).
pub fn stop(run: &SharedRun) {
    let controllers: Vec<web_sys::AbortController> = {
        let mut r = run.borrow_mut();
        if r.phase == Phase::Running {
            r.phase = Phase::Stopping;
            r.stopped_by_user = true;
            r.version += 1;
        }
        if let Some(schedule) = r.step.schedule.as_mut() {
            schedule.stop();
        }
        r.timer = None;
        r.in_flight.values().map(|f| f.controller.clone()).collect()
    };
    // Outside the borrow: an abort settles the readers' promises, never synchronously
    // re-entering the run, but there is no reason to hold it.
    for controller in controllers {
        controller.abort();
    }
    // An open loop with nothing in flight ends here (no request end will look).
    step_may_end(run);
}

/// A request ready to go.
struct Prepared {
    index: u64,
    url: String,
    api: ApiClient,
    request: StreamRequest,
    timeout_ms: u64,
    user: Option<String>,
    deadline: Deadline,
    intended_at_ms: Option<f64>,
}

impl Run {
    /// Takes the next request index and registers it in flight.
    fn prepare(&mut self, user_slot: u64, intended_at_ms: Option<f64>) -> Option<Prepared> {
        let ms = u32::try_from(self.plan.timeout_ms).unwrap_or(u32::MAX);
        let deadline = Deadline::after(ms).ok()?;
        let index = self.next_index;
        self.next_index += 1;
        self.step.sent += 1;
        self.in_flight.insert(
            index,
            InFlight {
                controller: deadline.controller(),
                output_chars: 0,
            },
        );
        self.version += 1;
        let tag = format!("{}-{index}", self.started_epoch_ms as u64);
        Some(Prepared {
            index,
            url: self.api.stream_url(&tag),
            api: self.api.clone(),
            request: self.plan.request.clone(),
            timeout_ms: self.plan.timeout_ms,
            user: self
                .plan
                .user_per_worker
                .then(|| format!("loadtest-{}-{user_slot}", self.started_epoch_ms as u64)),
            deadline,
            intended_at_ms,
        })
    }
}

/// Sends one prepared request, reads it to its end and files its record.
async fn send(run: &SharedRun, prepared: Prepared) {
    let mut record = one_request(run, &prepared).await;
    record.intended_at_ms = prepared.intended_at_ms;
    // The browser files the Resource Timing entry when the body is done,
    // in a task of its own: give it that task before looking.
    gloo_timers::future::TimeoutFuture::new(0).await;
    if let Some((queue, protocol)) = resource_timing(&prepared.url) {
        record.browser_queue_ms = queue;
        record.protocol = protocol;
    }
    run.borrow_mut().add(prepared.index, record);
}

/// One closed-loop worker: requests one after another while the step lasts.
async fn work(run: &SharedRun, worker: u32) {
    loop {
        let prepared = {
            let mut r = run.borrow_mut();
            if !r.closed_may_send() {
                return;
            }
            match r.prepare(u64::from(worker), None) {
                Some(prepared) => prepared,
                None => return,
            }
        };
        send(run, prepared).await;
    }
}

/// The open loop's look at its schedule: starts every request due now (as the
/// cap allows), then sets the timer for the next arrival.
fn pump(run: &SharedRun) {
    let prepared: Vec<Prepared> = {
        let mut r = run.borrow_mut();
        if r.phase != Phase::Running {
            return;
        }
        let now = now_ms() - r.step.started_ms;
        let in_flight = r.in_flight.len() as u32;
        let started_ms = r.step.started_ms;
        let max_in_flight = u64::from(r.plan.max_in_flight.max(1));
        let Some(schedule) = r.step.schedule.as_mut() else {
            return;
        };
        // A timer fires at whole milliseconds: an arrival less than 1 ms ahead is due.
        let starts = schedule.due(now + 1.0, in_flight);
        let next_wake = schedule.next_wake_ms();
        let prepared = starts
            .into_iter()
            .filter_map(|start| {
                r.prepare(
                    start.index % max_in_flight,
                    Some(started_ms + start.intended_ms),
                )
            })
            .collect();
        r.timer = next_wake.map(|wake| {
            let delay = (wake - now).max(0.0).floor() as u32;
            let run = run.clone();
            gloo_timers::callback::Timeout::new(delay, move || pump(&run))
        });
        prepared
    };
    for request in prepared {
        let run = run.clone();
        wasm_bindgen_futures::spawn_local(async move {
            send(&run, request).await;
            pump(&run);
            step_may_end(&run);
        });
    }
    step_may_end(run);
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

async fn one_request(run: &SharedRun, prepared: &Prepared) -> RequestRecord {
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
    frame: Result<sse_core::sse::parser::SseFrame, sse_core::sse::parser::SseError>,
) {
    match frame.map(StreamEvent::decode) {
        Ok(Ok(event)) => recorder.on_event(at, &event),
        Ok(Err(error)) => recorder.on_malformed(error.to_string()),
        Err(error) => recorder.on_malformed(error.to_string()),
    }
}
