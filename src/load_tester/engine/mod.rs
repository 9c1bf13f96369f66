//! The load-test engine in the browser: the core's [`CoreRun`] decides what
//! is sent when (steps, closed-loop workers, the open loop's schedule) and
//! keeps what the ended requests measured; this module does the sending and
//! the waiting: a task per closed-loop worker, one timer at the open loop's
//! next arrival, an AbortController per request, and the browser's own view
//! of each request ([`timing`]). One request is read in [`request`].
//!
//! Nothing here touches the page: the view reads [`Run`] when it wants (once
//! per animation frame), so a chunk costs no re-render.

mod request;
mod timing;

use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use sse_core::load::plan::{LoadForm, LoadPlan};
pub use sse_core::load::run::Phase;
use sse_core::load::run::{Run as CoreRun, Send, StepEnd};
pub use timing::known_protocol;

use crate::api::ApiClient;
use crate::browser::clock::{monotonic_ms as now_ms, wall_ms};
use crate::browser::deadline::Deadline;
use request::{one_request, Prepared};

/// From Start to the first request (ms).
const START_LEAD_MS: u32 = 100;

/// A run in this page: the core's bookkeeping (read through `Deref`) and the
/// browser's handles on it.
pub struct Run {
    core: CoreRun,
    api: ApiClient,
    /// The requests in flight, to abort them at Stop.
    controllers: HashMap<u64, web_sys::AbortController>,
    timer: Option<gloo_timers::callback::Timeout>,
    on_end: Option<Box<dyn FnOnce()>>,
}

impl Deref for Run {
    type Target = CoreRun;

    fn deref(&self) -> &CoreRun {
        &self.core
    }
}

impl DerefMut for Run {
    fn deref_mut(&mut self) -> &mut CoreRun {
        &mut self.core
    }
}

impl Run {
    pub fn elapsed_ms(&self) -> f64 {
        self.core.elapsed_ms(now_ms())
    }

    /// Open loop: how long until the next arrival is due (ms).
    pub fn next_arrival_in_ms(&self) -> Option<f64> {
        self.core.next_arrival_in_ms(now_ms())
    }

    /// (done, planned): see the core's `Run::progress`.
    pub fn progress(&self) -> (f64, f64) {
        self.core.progress(now_ms())
    }

    /// The page-clock epoch (ms) of the run's time 0, where request rows'
    /// `sent_ms` count from.
    pub fn origin_epoch_ms(&self) -> f64 {
        let origin = timing::time_origin().unwrap_or(self.started_epoch_ms - self.core.started_ms);
        origin + self.core.started_ms
    }

    /// `send` as a request of this page, registered for Stop.
    fn prepare(&mut self, send: Send) -> Option<Prepared> {
        let ms = u32::try_from(self.plan.timeout_ms).unwrap_or(u32::MAX);
        let Ok(deadline) = Deadline::after(ms) else {
            // No AbortController in this browser: the request is never sent.
            let record = sse_core::load::recorder::RequestRecorder::new(now_ms())
                .finish_network_error(now_ms(), "the browser could not make a deadline".into());
            self.core.add(send.index, record);
            return None;
        };
        self.controllers.insert(send.index, deadline.controller());
        Some(Prepared {
            index: send.index,
            url: self.api.stream_url(&send.tag),
            api: self.api.clone(),
            request: self.plan.request.clone(),
            timeout_ms: self.plan.timeout_ms,
            user: send.user,
            deadline,
            intended_at_ms: send.intended_at_ms,
        })
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
    timing::prepare();
    let core = CoreRun::new(plan, Some(form), api.base().to_owned(), wall_ms(), now_ms());
    let run = Rc::new(RefCell::new(Run {
        core,
        api,
        controllers: HashMap::new(),
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
    let workers = run.borrow_mut().begin_step(index, now_ms());
    if run.borrow().plan.model.is_open() {
        pump(run);
        return;
    }
    for worker in 0..workers {
        let run = run.clone();
        wasm_bindgen_futures::spawn_local(async move {
            work(&run, worker).await;
            run.borrow_mut().worker_done();
            step_may_end(&run);
        });
    }
}

/// After a request or a worker ended: the next step, or the run's end.
fn step_may_end(run: &SharedRun) {
    let end = run.borrow_mut().step_end(now_ms());
    match end {
        StepEnd::Running => {}
        StepEnd::Next(index) => begin_step(run, index),
        StepEnd::Finished => {
            let on_end = {
                let mut r = run.borrow_mut();
                r.timer = None;
                r.on_end.take()
            };
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
        r.stop();
        r.timer = None;
        r.controllers.values().cloned().collect()
    };
    // Outside the borrow: an abort settles the readers' promises, never synchronously
    // re-entering the run, but there is no reason to hold it.
    for controller in controllers {
        controller.abort();
    }
    // An open loop with nothing in flight ends here (no request end will look).
    step_may_end(run);
}

/// Sends one prepared request, reads it to its end and files its record.
async fn send(run: &SharedRun, prepared: Prepared) {
    let mut record = one_request(run, &prepared).await;
    record.intended_at_ms = prepared.intended_at_ms;
    // The browser files the Resource Timing entry when the body is done,
    // in a task of its own: give it that task before looking.
    gloo_timers::future::TimeoutFuture::new(0).await;
    if let Some((queue, protocol)) = timing::resource_timing(&prepared.url) {
        record.browser_queue_ms = queue;
        record.protocol = protocol;
    }
    let mut r = run.borrow_mut();
    r.controllers.remove(&prepared.index);
    r.add(prepared.index, record);
}

/// One closed-loop worker: requests one after another while the step lasts.
async fn work(run: &SharedRun, worker: u32) {
    loop {
        let prepared = {
            let mut r = run.borrow_mut();
            let Some(send) = r.next_closed(worker, now_ms()) else {
                return;
            };
            r.prepare(send)
        };
        // No deadline could be made: this worker stops (its request is filed).
        let Some(prepared) = prepared else {
            return;
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
        let due = r.due(now_ms());
        let prepared = due
            .sends
            .into_iter()
            .filter_map(|send| r.prepare(send))
            .collect();
        r.timer = due.wake_at_ms.map(|wake| {
            let delay = (wake - now_ms()).max(0.0).floor() as u32;
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
