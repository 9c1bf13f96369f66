//! A load run's bookkeeping, the same for the browser's load tester and the
//! native runner: its steps (a sweep's, or one step), what may be sent when,
//! which requests are in flight, what the ended ones measured, and when and
//! why the run is over. No I/O and no clock of its own: the caller passes
//! `now_ms` (its monotonic clock, in ms), sends what [`Run`] hands out and
//! files each request's record when it ends.
//!
//! A closed step has N workers, each asking [`Run::next_closed`] for its next
//! request when its previous one ended. An open step asks [`Run::due`] at
//! the next arrival (and whenever a request ends): every arrival due, as the
//! cap on requests in flight allows, comes out of the core's [`Schedule`].

use std::collections::BTreeMap;

use crate::load::model::{OpenLoop, Schedule};
use crate::load::plan::{LoadForm, LoadPlan, MAX_TOTAL};
use crate::load::recorder::{estimate_tokens, RequestRecord};
use crate::load::report::{EndReason, Origin, RunContext, RunSummary};
use crate::load::request_row::RequestRow;
use crate::load::run_stats::RunStats;
use crate::load::sweep::{should_stop_early, StepResult};
use crate::load::time_breakdown::ServerRecords;

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

/// A request to send now.
#[derive(Debug, Clone, PartialEq)]
pub struct Send {
    pub index: u64,
    /// `<run id>-<index>`: tags the request's URL, so that it is found in the
    /// browser's Resource Timing and in the service's logs.
    pub tag: String,
    /// The `X-User-ID` to send (one user per worker), if any.
    pub user: Option<String>,
    /// Open loop: the arrival, on the caller's clock.
    pub intended_at_ms: Option<f64>,
}

/// What an open step starts now, and when to look again (on the caller's
/// clock; `None`: only a request's end can change anything).
#[derive(Debug, Clone, PartialEq)]
pub struct Due {
    pub sends: Vec<Send>,
    pub wake_at_ms: Option<f64>,
}

/// What follows a request's (or a worker's) end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepEnd {
    /// The step goes on.
    Running,
    /// Step `index` (0-based) begins now: call [`Run::begin_step`].
    Next(usize),
    /// The run is over (just now).
    Finished,
}

/// The step running now.
#[derive(Debug, Clone)]
struct Step {
    /// 0-based.
    index: usize,
    load: f64,
    started_ms: f64,
    max_requests: u64,
    duration_ms: Option<f64>,
    warmup_ms: f64,
    sent: u64,
    last_sent_ms: Option<f64>,
    /// The step's counted requests (those after its warm-up).
    stats: RunStats,
    /// Open loop only.
    schedule: Option<Schedule>,
    /// Closed loop: workers still sending.
    workers: u32,
}

impl Step {
    fn placeholder(now_ms: f64) -> Self {
        Self {
            index: 0,
            load: 0.0,
            started_ms: now_ms,
            max_requests: 0,
            duration_ms: None,
            warmup_ms: 0.0,
            sent: 0,
            last_sent_ms: None,
            stats: RunStats::new(now_ms),
            schedule: None,
            workers: 0,
        }
    }
}

/// A run: its plan, its requests in flight, and what the ended ones measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub plan: LoadPlan,
    form: Option<LoadForm>,
    api_base: String,
    /// The wall clock (ms since the epoch) at the start: the run's id.
    pub started_epoch_ms: f64,
    /// The caller's clock at the first request.
    pub started_ms: f64,
    pub phase: Phase,
    next_index: u64,
    /// Requests in flight and the characters of text each received so far.
    in_flight: BTreeMap<u64, u64>,
    pub stats: RunStats,
    pub rows: Vec<RequestRow>,
    /// Bumped on every change a view may want to show.
    pub version: u64,
    pub ended_ms: Option<f64>,
    pub end_reason: Option<EndReason>,
    loads: Vec<f64>,
    step: Step,
    /// Finished steps of a sweep (empty for a single run).
    pub steps: Vec<StepResult>,
    /// The service's records of the run's requests, as they arrive.
    pub server: ServerRecords,
    /// The last send, on the caller's clock.
    last_sent_ms: Option<f64>,
    /// Who runs it (the browser unless the caller says).
    pub origin: Origin,
}

impl Run {
    /// A run of `plan` (typed as `form`, when it came from one) against
    /// `api_base`, created at `started_epoch_ms` (wall clock) / `now_ms`.
    pub fn new(
        plan: LoadPlan,
        form: Option<LoadForm>,
        api_base: String,
        started_epoch_ms: f64,
        now_ms: f64,
    ) -> Self {
        let loads = plan.step_loads();
        let stats = RunStats::new(now_ms).judged_by(plan.slo.clone());
        Self {
            plan,
            form,
            api_base,
            started_epoch_ms,
            started_ms: now_ms,
            phase: Phase::Running,
            next_index: 0,
            in_flight: BTreeMap::new(),
            stats,
            rows: Vec::new(),
            version: 0,
            ended_ms: None,
            end_reason: None,
            loads,
            step: Step::placeholder(now_ms),
            steps: Vec::new(),
            server: ServerRecords::default(),
            last_sent_ms: None,
            origin: Origin::Browser,
        }
    }

    /// Begins step `index` at `now_ms` (step 0 also starts the run's clock):
    /// the number of closed-loop workers to start (0 in an open loop: ask
    /// [`Run::due`]).
    pub fn begin_step(&mut self, index: usize, now_ms: f64) -> u32 {
        if index == 0 {
            self.started_ms = now_ms;
            self.stats = RunStats::new(now_ms).judged_by(self.plan.slo.clone());
        }
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
        let workers = if plan.model.is_open() {
            0
        } else {
            (load as u32).max(1)
        };
        self.step = Step {
            index,
            load,
            started_ms: now_ms,
            max_requests,
            duration_ms,
            warmup_ms,
            sent: 0,
            last_sent_ms: None,
            stats: RunStats::new(now_ms + warmup_ms).judged_by(plan.slo.clone()),
            schedule,
            workers,
        };
        self.version += 1;
        workers
    }

    /// A closed-loop worker's next request, or `None`: the worker stops (call
    /// [`Run::worker_done`]).
    pub fn next_closed(&mut self, worker: u32, now_ms: f64) -> Option<Send> {
        let may = self.phase == Phase::Running
            && self.step.schedule.is_none()
            && self.step.sent < self.step.max_requests
            && self
                .step
                .duration_ms
                .is_none_or(|d| now_ms - self.step.started_ms < d);
        may.then(|| self.register(u64::from(worker), None, now_ms))
    }

    /// A closed-loop worker stopped.
    pub fn worker_done(&mut self) {
        self.step.workers = self.step.workers.saturating_sub(1);
    }

    /// The open loop's look at its schedule at `now_ms`.
    pub fn due(&mut self, now_ms: f64) -> Due {
        let started_ms = self.step.started_ms;
        let in_flight = self.in_flight.len() as u32;
        let Some(schedule) = self
            .step
            .schedule
            .as_mut()
            .filter(|_| self.phase == Phase::Running)
        else {
            return Due {
                sends: Vec::new(),
                wake_at_ms: None,
            };
        };
        let now = now_ms - started_ms;
        // A timer fires at whole milliseconds: an arrival less than 1 ms ahead is due.
        let starts = schedule.due(now + 1.0, in_flight);
        let wake_at_ms = schedule.next_wake_ms().map(|wake| started_ms + wake);
        let max_in_flight = u64::from(self.plan.max_in_flight.max(1));
        let sends = starts
            .into_iter()
            .map(|start| {
                self.register(
                    start.index % max_in_flight,
                    Some(started_ms + start.intended_ms),
                    now_ms,
                )
            })
            .collect();
        Due { sends, wake_at_ms }
    }

    /// Takes the next request index and registers it in flight.
    fn register(&mut self, user_slot: u64, intended_at_ms: Option<f64>, now_ms: f64) -> Send {
        let index = self.next_index;
        self.next_index += 1;
        self.step.sent += 1;
        self.step.last_sent_ms = Some(now_ms);
        self.last_sent_ms = Some(now_ms);
        self.in_flight.insert(index, 0);
        self.version += 1;
        let run_id = self.started_epoch_ms as u64;
        Send {
            index,
            tag: format!("{run_id}-{index}"),
            user: self
                .plan
                .user_per_worker
                .then(|| format!("loadtest-{run_id}-{user_slot}")),
            intended_at_ms,
        }
    }

    /// Request `index` has received `output_chars` characters of text so far.
    pub fn received(&mut self, index: u64, output_chars: u64) {
        if let Some(chars) = self.in_flight.get_mut(&index) {
            *chars = output_chars;
        }
    }

    /// Request `index` ended: into the run's statistics, and into its step's
    /// when it started after the warm-up.
    pub fn add(&mut self, index: u64, record: RequestRecord) {
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

    fn step_is_over(&self) -> bool {
        self.in_flight.is_empty()
            && match &self.step.schedule {
                Some(schedule) => schedule.is_done(),
                None => self.step.workers == 0,
            }
    }

    /// After a request or a worker ended: the next step, or the run's end.
    pub fn step_end(&mut self, now_ms: f64) -> StepEnd {
        if self.phase == Phase::Finished || !self.step_is_over() {
            return StepEnd::Running;
        }
        let stopped = self.phase != Phase::Running;
        let dropped = self.step.schedule.as_ref().map_or(0, Schedule::dropped);
        if self.is_sweep() && !stopped {
            let mut stats = self.step.stats.clone();
            stats.dropped = dropped;
            let result =
                StepResult::new(self.step.index + 1, self.step.load, &stats, &self.plan.slo);
            self.steps.push(result);
        }
        self.stats.dropped += dropped;
        let next = self.step.index + 1;
        let early = self
            .plan
            .sweep
            .as_ref()
            .is_some_and(|sweep| should_stop_early(sweep, &self.steps));
        if !(stopped || early || next >= self.loads.len()) {
            return StepEnd::Next(next);
        }
        self.end_reason = Some(if stopped {
            EndReason::Stopped
        } else if early {
            EndReason::StoppedEarly
        } else if self.is_sweep() {
            EndReason::LastStep
        } else if self.step.sent >= self.step.max_requests {
            if self.plan.model.is_open() {
                EndReason::Cap
            } else {
                EndReason::Total
            }
        } else {
            EndReason::Duration
        });
        self.phase = Phase::Finished;
        self.ended_ms = Some(now_ms);
        self.version += 1;
        StepEnd::Finished
    }

    /// Stops the run (a sweep as a whole): nothing more is sent; the caller
    /// aborts every request in flight (each is then filed as aborted).
    pub fn stop(&mut self) {
        if self.phase == Phase::Running {
            self.phase = Phase::Stopping;
            self.version += 1;
        }
        if let Some(schedule) = self.step.schedule.as_mut() {
            schedule.stop();
        }
    }

    pub fn is_sweep(&self) -> bool {
        self.plan.sweep.is_some()
    }

    pub fn active(&self) -> u64 {
        self.in_flight.len() as u64
    }

    /// The requests in flight.
    pub fn in_flight(&self) -> impl Iterator<Item = u64> + '_ {
        self.in_flight.keys().copied()
    }

    /// Output tokens: those of ended requests, plus the estimate of the text
    /// received so far by requests in flight.
    pub fn live_tokens(&self) -> u64 {
        self.stats.output_tokens
            + self
                .in_flight
                .values()
                .map(|chars| estimate_tokens(*chars))
                .sum::<u64>()
    }

    pub fn elapsed_ms(&self, now_ms: f64) -> f64 {
        self.ended_ms.unwrap_or(now_ms) - self.started_ms
    }

    /// From the first request to the last send (ms), once anything was sent.
    pub fn sending_ms(&self) -> Option<f64> {
        self.last_sent_ms.map(|last| last - self.started_ms)
    }

    /// "step 2 of 4: 10 req/s", for a sweep.
    pub fn step_text(&self) -> Option<String> {
        self.plan.sweep.as_ref()?;
        Some(format!(
            "step {} of {}: {} {}",
            self.step.index + 1,
            self.loads.len(),
            crate::load::sweep::load_text(self.step.load),
            self.plan.load_unit()
        ))
    }

    /// The step running (0-based) and the number of steps.
    pub fn step_of(&self) -> (usize, usize) {
        (self.step.index, self.loads.len())
    }

    /// Open loop: how long until the next arrival is due (ms); `None` in a
    /// closed loop or when no arrival is coming.
    pub fn next_arrival_in_ms(&self, now_ms: f64) -> Option<f64> {
        let wake = self.step.schedule.as_ref()?.next_wake_ms()?;
        Some(wake - (now_ms - self.step.started_ms))
    }

    /// (done, planned): ended requests of the total, or, when time bounds
    /// the run (a duration, a sweep), ms sent so far of the planned time.
    pub fn progress(&self, now_ms: f64) -> (f64, f64) {
        let ended = (self.stats.completed + self.stats.failed + self.stats.aborted) as f64;
        let Some(step_ms) = self.step.duration_ms else {
            return (ended, self.plan.total as f64);
        };
        let in_step = (now_ms - self.step.started_ms).clamp(0.0, step_ms);
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
        let mut summary = RunSummary::new(
            &RunContext {
                started_at_ms: self.started_epoch_ms,
                api_base: &self.api_base,
                plan: &self.plan,
                stopped: self.phase == Phase::Stopping
                    || self.end_reason == Some(EndReason::Stopped),
                form: self.form.as_ref(),
                steps: &self.steps,
            },
            &self.stats,
        );
        summary.ended_by = self.end_reason;
        summary.sending_ms = self.sending_ms();
        summary.origin = self.origin;
        summary
    }

    /// The rows with the service's side of each, where its record is known.
    pub fn joined_rows(&self) -> Vec<RequestRow> {
        self.rows
            .iter()
            .map(|row| RequestRow {
                server: self
                    .server
                    .of(row)
                    .map(|record| crate::load::request_row::ServerParts::of(row, record)),
                ..row.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::stream::ChunkData;
    use crate::load::recorder::RequestRecorder;
    use crate::sse::stream::StreamEvent;

    fn plan(edit: impl FnOnce(&mut LoadForm)) -> LoadPlan {
        let mut form = LoadForm::default();
        edit(&mut form);
        form.plan().expect("a valid plan")
    }

    fn completed(sent_ms: f64, intended: Option<f64>) -> RequestRecord {
        let mut recorder = RequestRecorder::new(sent_ms);
        recorder.on_headers(sent_ms + 1.0, 200, None, None);
        let chunk = StreamEvent::Chunk(ChunkData {
            content: "Hello".into(),
            chunk_index: Some(1),
            finish_reason: None,
            cached: false,
        });
        recorder.on_event(sent_ms + 5.0, &chunk);
        recorder.on_event(sent_ms + 9.0, &StreamEvent::Done);
        let mut record = recorder.finish_stream_end(sent_ms + 10.0);
        record.intended_at_ms = intended;
        record
    }

    #[test]
    fn a_closed_loop_sends_its_total_with_its_workers_and_ends() {
        let mut run = Run::new(
            plan(|f| {
                f.concurrency = "2".into();
                f.total = "5".into();
            }),
            None,
            "/api/v1".into(),
            1_000.0,
            0.0,
        );
        assert_eq!(run.begin_step(0, 100.0), 2);
        let mut sent = Vec::new();
        while let Some(send) = run.next_closed(0, 100.0) {
            sent.push(send.index);
            run.add(send.index, completed(100.0, None));
            assert_eq!(run.step_end(110.0), StepEnd::Running, "a worker still runs");
        }
        assert_eq!(sent, vec![0, 1, 2, 3, 4]);
        run.worker_done();
        assert_eq!(run.step_end(120.0), StepEnd::Running);
        run.worker_done();
        assert_eq!(run.step_end(130.0), StepEnd::Finished);
        assert_eq!(run.end_reason, Some(EndReason::Total));
        let summary = run.summary();
        assert_eq!(
            (summary.completed, summary.ended_by),
            (5, Some(EndReason::Total))
        );
    }

    #[test]
    fn an_open_loop_is_ended_by_its_duration_not_by_the_closed_loops_total() {
        // 20/s for 5 s: 100 arrivals, although the form's total says 50.
        let mut run = Run::new(
            plan(|f| {
                f.mode = "constant".into();
                f.rate = "20".into();
                f.duration_s = "5".into();
                f.total = "50".into();
            }),
            None,
            "/api/v1".into(),
            1_000.0,
            0.0,
        );
        assert_eq!(run.begin_step(0, 0.0), 0);
        let mut now = 0.0;
        let mut sent = 0;
        loop {
            let due = run.due(now);
            for send in &due.sends {
                run.add(send.index, completed(now, send.intended_at_ms));
                sent += 1;
            }
            match due.wake_at_ms {
                Some(at) => now = at,
                None => break,
            }
        }
        assert_eq!(sent, 100);
        assert_eq!(run.step_end(now), StepEnd::Finished);
        assert_eq!(run.end_reason, Some(EndReason::Duration));
        assert!((run.sending_ms().unwrap_or_default() - 4_950.0).abs() < 1.5);
    }

    #[test]
    fn an_open_loops_request_cap_ends_it_and_says_so() {
        let form = LoadForm {
            mode: "constant".into(),
            rate: "20".into(),
            duration_s: "5".into(),
            max_requests: "50".into(),
            ..LoadForm::default()
        };
        let mut run = Run::new(
            form.plan().expect("valid"),
            Some(form),
            "/api/v1".into(),
            1_000.0,
            0.0,
        );
        run.begin_step(0, 0.0);
        let mut now = 0.0;
        let mut sent = 0;
        while let Some(at) = {
            let due = run.due(now);
            for send in &due.sends {
                run.add(send.index, completed(now, send.intended_at_ms));
                sent += 1;
            }
            due.wake_at_ms
        } {
            now = at;
        }
        assert_eq!(sent, 50);
        assert_eq!(run.step_end(now), StepEnd::Finished);
        assert_eq!(run.end_reason, Some(EndReason::Cap));
        // The 50th arrival is at 49 × 50 ms.
        assert!((run.sending_ms().unwrap_or_default() - 2_450.0).abs() < 1.5);
        assert_eq!(
            run.summary().end_sentence().as_deref(),
            Some("Stopped at the request cap of 50 after 2.45 s, before the 5.00 s duration.")
        );
    }

    #[test]
    fn stop_ends_an_open_loop_at_once_and_aborted_requests_end_it() {
        let mut run = Run::new(
            plan(|f| {
                f.mode = "poisson".into();
                f.rate = "50".into();
                f.duration_s = "60".into();
            }),
            None,
            "/api/v1".into(),
            1_000.0,
            0.0,
        );
        run.begin_step(0, 0.0);
        let due = run.due(500.0);
        assert!(!due.sends.is_empty());
        run.stop();
        assert!(run.due(600.0).sends.is_empty(), "nothing after Stop");
        assert_eq!(
            run.step_end(600.0),
            StepEnd::Running,
            "requests still in flight"
        );
        let in_flight: Vec<u64> = run.in_flight().collect();
        for index in in_flight {
            let record = RequestRecorder::new(500.0).finish_aborted(600.0);
            run.add(index, record);
        }
        assert_eq!(run.step_end(600.0), StepEnd::Finished);
        assert_eq!(run.end_reason, Some(EndReason::Stopped));
        assert!(run.summary().stopped);
    }

    #[test]
    fn a_sweep_runs_its_steps_one_after_another() {
        let mut run = Run::new(
            plan(|f| {
                f.sweep_steps = "1,2".into();
                f.step_s = "2".into();
                f.warmup_s = "0".into();
            }),
            None,
            "/api/v1".into(),
            1_000.0,
            0.0,
        );
        assert_eq!(run.begin_step(0, 0.0), 1);
        let send = run.next_closed(0, 0.0).expect("a request");
        run.add(send.index, completed(0.0, None));
        assert!(
            run.next_closed(0, 2_000.0).is_none(),
            "the step's time is over"
        );
        run.worker_done();
        assert_eq!(run.step_end(2_000.0), StepEnd::Next(1));
        assert_eq!(run.begin_step(1, 2_000.0), 2);
        assert_eq!(
            run.step_text().as_deref(),
            Some("step 2 of 2: 2 concurrent")
        );
        run.worker_done();
        run.worker_done();
        assert_eq!(run.step_end(4_000.0), StepEnd::Finished);
        assert_eq!(run.steps.len(), 2);
        assert_eq!(run.end_reason, Some(EndReason::LastStep));
    }

    #[test]
    fn one_user_per_worker_names_the_run_and_the_slot() {
        let mut run = Run::new(plan(|_| {}), None, "/api/v1".into(), 1_234.0, 0.0);
        run.begin_step(0, 0.0);
        let send = run.next_closed(3, 0.0).expect("a request");
        assert_eq!(send.tag, "1234-0");
        assert_eq!(send.user.as_deref(), Some("loadtest-1234-3"));
    }
}
