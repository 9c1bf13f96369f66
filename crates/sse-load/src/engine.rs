//! The native engine: the core's run ([`Run`]) decides what is sent when,
//! exactly as in the browser; this loop sends it (a task per request), files
//! each record when its request ends, wakes at the open loop's next arrival,
//! and stops everything at Stop (Ctrl-C).

use sse_core::load::plan::{LoadForm, LoadPlan};
use sse_core::load::recorder::RequestRecord;
use sse_core::load::report::Origin;
use sse_core::load::run::{Run, Send, StepEnd};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::clock::{wall_ms, Clock};
use crate::progress::Progress;
use crate::request::{one_request, Request};

/// Where the requests go.
pub struct Target {
    pub client: reqwest::Client,
    /// The API base, without a trailing slash.
    pub base: String,
}

/// A request that ended, back from its task.
struct Ended {
    index: u64,
    /// The closed-loop worker that sent it.
    worker: Option<u32>,
    record: RequestRecord,
}

/// Runs `plan` to its end (or to `stop`) and gives the run back.
pub async fn drive(
    plan: LoadPlan,
    form: LoadForm,
    target: Target,
    stop: CancellationToken,
    mut progress: Progress,
) -> Run {
    let clock = Clock::new();
    let mut run = Run::new(
        plan,
        Some(form),
        target.base.clone(),
        wall_ms(),
        clock.now_ms(),
    );
    run.origin = Origin::SseLoad;
    let (done, mut ended) = mpsc::unbounded_channel::<Ended>();
    let spawn = |send: Send, worker: Option<u32>, run: &Run| {
        let request = Request {
            client: target.client.clone(),
            url: format!("{}/stream?lt={}", target.base, send.tag),
            body: run.plan.request.clone(),
            user: send.user,
            timeout_ms: run.plan.timeout_ms,
            clock,
            // Stop (Ctrl-C) aborts every request in flight.
            stop: stop.child_token(),
        };
        let done = done.clone();
        let intended_at_ms = send.intended_at_ms;
        tokio::spawn(async move {
            let mut record = one_request(request).await;
            record.intended_at_ms = intended_at_ms;
            let _ = done.send(Ended {
                index: send.index,
                worker,
                record,
            });
        });
    };
    let mut idle_workers: Vec<u32> = (0..run.begin_step(0, clock.now_ms())).collect();
    let mut wake_at_ms: Option<f64> = None;
    let mut stopping = false;
    let mut tick = tokio::time::interval(progress.every());
    loop {
        let now = clock.now_ms();
        if run.plan.model.is_open() {
            let due = run.due(now);
            for send in due.sends {
                spawn(send, None, &run);
            }
            wake_at_ms = due.wake_at_ms;
        } else {
            for worker in std::mem::take(&mut idle_workers) {
                match run.next_closed(worker, now) {
                    Some(send) => spawn(send, Some(worker), &run),
                    None => run.worker_done(),
                }
            }
        }
        match run.step_end(clock.now_ms()) {
            StepEnd::Finished => break,
            StepEnd::Next(index) => {
                idle_workers = (0..run.begin_step(index, clock.now_ms())).collect();
                continue;
            }
            StepEnd::Running => {}
        }
        let wake = wake_at_ms.map(|ms| tokio::time::Instant::from_std(clock.instant(ms)));
        tokio::select! {
            Some(end) = ended.recv() => {
                run.add(end.index, end.record);
                idle_workers.extend(end.worker);
                // Every record that came meanwhile, before looking again.
                while let Ok(end) = ended.try_recv() {
                    run.add(end.index, end.record);
                    idle_workers.extend(end.worker);
                }
            }
            () = sleep_until(wake), if wake.is_some() => {}
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                run.stop();
                progress.stopping();
            }
            _ = tick.tick() => progress.show(&run, clock.now_ms()),
        }
    }
    progress.finish(&run, clock.now_ms());
    run
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    if let Some(at) = at {
        tokio::time::sleep_until(at).await;
    }
}
