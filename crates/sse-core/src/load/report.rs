//! A load-test run as it is kept and shared: a summary (stored in the
//! browser's history and compared side by side), per-request rows, and the
//! JSON and CSV exports built from them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::load::model::LoadModel;
use crate::load::plan::{LoadForm, LoadPlan};
pub use crate::load::request_row::RequestRow;
use crate::load::run_stats::{FailureGroup, RunStats};
use crate::load::slo::{goodput, Slo, Verdict, VerdictState};
use crate::load::sweep::{max_sustainable, StepResult};
use crate::metrics::distribution::Summary;
use crate::metrics::{Metric, Statistic};

/// A browser wait longer than this is worth a warning (ms).
pub const LONG_BROWSER_WAIT_MS: f64 = 100.0;

/// The resilience layer of requests the service put in its failover queue.
pub const QUEUED_LAYER: &str = "3-Queue-Failover";

impl RunSummary {
    /// Why most of the run failed, in words, when the service queued most of it.
    pub fn queue_explanation(&self) -> Option<String> {
        let queued = self
            .by_resilience_layer
            .get(QUEUED_LAYER)
            .copied()
            .unwrap_or(0);
        let most = |n: u64| n > 0 && 2 * n > self.requests;
        (most(queued) && most(self.failed)).then(|| {
            format!(
                "{queued} of {} requests were queued by the service (x-resilience-layer {QUEUED_LAYER}) and {} failed: it limits the concurrent streams of one user (X-User-ID, else the client's address). \"One user per worker\" sends each worker as a user of its own.",
                self.requests, self.failed
            )
        })
    }

    /// The browser's own wait as a distribution, for the HTTP/1.1 warning.
    pub fn browser_wait_sentence(&self) -> Option<String> {
        let wait = &self.browser_queue;
        wait.p50?;
        let ms = |v: Option<f64>| crate::format::duration_ms(v);
        Some(format!(
            "measured browser wait p50 {}, p90 {}, max {}; {} of {} requests waited longer than {} ms",
            ms(wait.p50),
            ms(wait.p90),
            ms(wait.max),
            self.long_browser_waits,
            wait.count,
            LONG_BROWSER_WAIT_MS
        ))
    }
}

/// Why a run stopped sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// A closed loop sent its total.
    Total,
    /// The duration passed.
    Duration,
    /// An open loop reached its request cap before its duration.
    Cap,
    /// Stop (the button, or Ctrl-C).
    Stopped,
    /// A sweep ran its last step.
    LastStep,
    /// A sweep stopped after two failing steps.
    StoppedEarly,
}

impl EndReason {
    pub fn id(self) -> &'static str {
        match self {
            Self::Total => "total",
            Self::Duration => "duration",
            Self::Cap => "cap",
            Self::Stopped => "stopped",
            Self::LastStep => "last_step",
            Self::StoppedEarly => "stopped_early",
        }
    }
}

/// Who ran a load test.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    /// The dashboard's load tester, in a browser tab.
    #[default]
    #[serde(rename = "browser")]
    Browser,
    /// The headless runner, `sse-load`.
    #[serde(rename = "sse-load")]
    SseLoad,
}

impl Origin {
    /// The `data-origin` of a saved run, and the JSON value.
    pub fn id(self) -> &'static str {
        match self {
            Self::Browser => "browser",
            Self::SseLoad => "sse-load",
        }
    }
}

/// Runs kept in the browser's history.
pub const HISTORY_RUNS: usize = 10;

/// What was run, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    /// Wall-clock start, ms since the Unix epoch (also the run's id).
    pub started_at_ms: f64,
    pub api_base: String,
    pub provider: Option<String>,
    pub model: String,
    pub prompt_chars: u64,
    pub concurrency: u32,
    /// The most requests the plan sends (a closed loop's total, an open
    /// loop's cap; none when its duration alone ends it).
    pub planned: Option<u64>,
    pub timeout_ms: u64,
    /// Whether the run was stopped before every request was sent.
    pub stopped: bool,
    pub wall_ms: f64,
    pub requests: u64,
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub output_tokens: u64,
    pub cache_hits: u64,
    pub requests_per_s: Option<f64>,
    pub tokens_per_s: Option<f64>,
    pub e2e: Summary,
    pub ttft: Summary,
    pub itl: Summary,
    pub tpot: Summary,
    pub browser_queue: Summary,
    /// Requests that waited inside the browser longer than [`LONG_BROWSER_WAIT_MS`].
    #[serde(default)]
    pub long_browser_waits: u64,
    pub by_protocol: BTreeMap<String, u64>,
    pub by_status: BTreeMap<u16, u64>,
    pub by_resilience_layer: BTreeMap<String, u64>,
    pub failures: Vec<FailureGroup>,
    /// Each instance's share, in name order (empty when no answer named one).
    #[serde(default)]
    pub by_instance: Vec<InstanceSummary>,
    /// The form as typed: load model, rate, seed, SLOs, sweep (to run it again).
    #[serde(default)]
    pub form: Option<LoadForm>,
    #[serde(default)]
    pub load_model: LoadModel,
    /// Open loop: arrivals per second (the first step's in a sweep).
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    #[serde(default)]
    pub slo: Slo,
    #[serde(default)]
    pub goodput_rps: Option<f64>,
    #[serde(default)]
    pub good_pct: Option<f64>,
    #[serde(default = "no_verdict")]
    pub verdict: Verdict,
    #[serde(default)]
    pub late_starts: u64,
    #[serde(default)]
    pub dropped: u64,
    #[serde(default)]
    pub e2e_intended: Summary,
    #[serde(default)]
    pub ttft_intended: Summary,
    #[serde(default)]
    pub lateness: Summary,
    /// Every step of a sweep (empty for a single run).
    #[serde(default)]
    pub steps: Vec<StepResult>,
    #[serde(default)]
    pub warmup_ms: u64,
    #[serde(default)]
    pub max_sustainable: Option<f64>,
    /// What ended the sending (absent in runs kept before it was).
    #[serde(default)]
    pub ended_by: Option<EndReason>,
    /// From the first request to the last send (ms).
    #[serde(default)]
    pub sending_ms: Option<f64>,
    /// Who ran it (reports written before it was kept: the browser).
    #[serde(default)]
    pub origin: Origin,
}

/// A sweep passes when one of its steps did; the reason names the highest.
fn sweep_verdict(steps: &[StepResult], unit: &str) -> Verdict {
    let state = if steps.iter().all(|s| s.verdict.state == VerdictState::None) {
        VerdictState::None
    } else if max_sustainable(steps).is_some() {
        VerdictState::Pass
    } else {
        VerdictState::Fail
    };
    Verdict {
        state,
        reason: crate::load::sweep::max_sustainable_sentence(steps, unit),
    }
}

fn no_verdict() -> Verdict {
    Verdict {
        state: VerdictState::None,
        reason: "no SLO target set".into(),
    }
}

/// One instance's share of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstanceSummary {
    /// `x-instance-id`, else `x-upstream-addr`.
    pub instance: String,
    pub completed: u64,
    pub failed: u64,
    pub aborted: u64,
    pub ttft: Summary,
    pub e2e: Summary,
    pub first_failure: Option<String>,
}

/// Facts about a run that the statistics do not hold.
#[derive(Debug, Clone, PartialEq)]
pub struct RunContext<'a> {
    pub started_at_ms: f64,
    pub api_base: &'a str,
    pub plan: &'a LoadPlan,
    pub stopped: bool,
    pub form: Option<&'a LoadForm>,
    /// A sweep's steps so far.
    pub steps: &'a [StepResult],
}

impl RunSummary {
    /// The figures of `metric` in this run.
    pub fn metric(&self, metric: Metric) -> &Summary {
        match metric {
            Metric::E2e => &self.e2e,
            Metric::Ttft => &self.ttft,
            Metric::Itl => &self.itl,
            Metric::Tpot => &self.tpot,
            Metric::BrowserWait => &self.browser_queue,
            Metric::E2eIntended => &self.e2e_intended,
            Metric::TtftIntended => &self.ttft_intended,
            Metric::Lateness => &self.lateness,
        }
    }

    pub fn new(context: &RunContext<'_>, stats: &RunStats) -> Self {
        let plan = context.plan;
        let judged = stats.judged();
        Self {
            started_at_ms: context.started_at_ms,
            api_base: context.api_base.to_owned(),
            provider: plan.request.provider.clone(),
            model: plan.request.model.clone(),
            prompt_chars: plan.request.query.chars().count() as u64,
            concurrency: plan.concurrency,
            planned: if plan.model.is_open() {
                plan.max_requests
            } else {
                Some(plan.total)
            },
            timeout_ms: plan.timeout_ms,
            stopped: context.stopped,
            wall_ms: stats.wall_ms(None),
            requests: stats.requests,
            completed: stats.completed,
            failed: stats.failed,
            aborted: stats.aborted,
            output_tokens: stats.output_tokens,
            cache_hits: stats.cache_hits,
            requests_per_s: stats.requests_per_s(None),
            tokens_per_s: stats.tokens_per_s(None),
            e2e: stats.e2e.summary(),
            ttft: stats.ttft.summary(),
            itl: stats.itl.summary(),
            tpot: stats.tpot.summary(),
            browser_queue: stats.browser_queue.summary(),
            long_browser_waits: stats.browser_queue.count_above(LONG_BROWSER_WAIT_MS),
            by_protocol: stats.by_protocol.clone(),
            by_status: stats.by_status.clone(),
            by_resilience_layer: stats.by_resilience_layer.clone(),
            failures: stats.failure_groups(),
            by_instance: stats
                .by_instance
                .iter()
                .map(|(instance, share)| InstanceSummary {
                    instance: instance.clone(),
                    completed: share.completed,
                    failed: share.failed,
                    aborted: share.aborted,
                    ttft: share.ttft.summary(),
                    e2e: share.e2e.summary(),
                    first_failure: share.first_failure.clone(),
                })
                .collect(),
            form: context.form.cloned(),
            load_model: plan.model,
            rate_per_s: plan.model.is_open().then_some(plan.rate_per_s),
            slo: plan.slo.clone(),
            goodput_rps: goodput(stats.good, stats.wall_ms(None)),
            good_pct: judged.good_pct(),
            verdict: if context.steps.is_empty() {
                plan.slo.verdict(&judged)
            } else {
                sweep_verdict(context.steps, plan.load_unit())
            },
            late_starts: stats.late_starts,
            dropped: stats.dropped,
            e2e_intended: stats.e2e_intended.summary(),
            ttft_intended: stats.ttft_intended.summary(),
            lateness: stats.lateness.summary(),
            steps: context.steps.to_vec(),
            warmup_ms: plan.sweep.as_ref().map_or(0, |s| s.warmup_ms),
            max_sustainable: max_sustainable(context.steps),
            ended_by: None,
            sending_ms: None,
            origin: Origin::Browser,
        }
    }

    pub fn is_sweep(&self) -> bool {
        !self.steps.is_empty()
    }

    /// What ended the run, in words: which bound stopped the sending, and
    /// when (e.g. "Stopped at the request cap of 50 after 2.5 s, before the
    /// 5 s duration.").
    pub fn end_sentence(&self) -> Option<String> {
        let after = self
            .sending_ms
            .map(|ms| format!(" after {}", crate::format::duration_ms(Some(ms))))
            .unwrap_or_default();
        let duration = self
            .form
            .as_ref()
            .and_then(|f| f.duration_s.trim().parse::<f64>().ok())
            .map(|s| crate::format::duration_ms(Some(s * 1000.0)));
        Some(match self.ended_by? {
            EndReason::Total => format!(
                "Sent its total of {} requests{after}.",
                self.planned.unwrap_or(self.requests)
            ),
            EndReason::Duration => format!(
                "Sending ended with the duration{}: {} requests sent.",
                duration.map(|d| format!(" ({d})")).unwrap_or_default(),
                self.requests
            ),
            EndReason::Cap => format!(
                "Stopped at the request cap of {}{after}{}.",
                self.planned.unwrap_or(self.requests),
                duration
                    .map(|d| format!(", before the {d} duration"))
                    .unwrap_or_default()
            ),
            EndReason::Stopped => {
                format!("Stopped by hand{after}: {} requests ended.", self.requests)
            }
            EndReason::LastStep => format!("The sweep ran all its {} steps.", self.steps.len()),
            EndReason::StoppedEarly => format!(
                "The sweep stopped after two failing steps ({} of its steps ran).",
                self.steps.len()
            ),
        })
    }
}

/// The JSON export: the summary and every request.
pub fn to_json(summary: &RunSummary, rows: &[RequestRow]) -> String {
    #[derive(Serialize)]
    struct Export<'a> {
        format: &'static str,
        schema_version: u32,
        summary: &'a RunSummary,
        requests: &'a [RequestRow],
    }
    serde_json::to_string_pretty(&Export {
        format: REPORT_FORMAT,
        schema_version: SCHEMA_VERSION,
        summary,
        requests: rows,
    })
    .unwrap_or_else(|e| format!("{{\"error\":\"cannot export: {e}\"}}"))
}

/// The `format` of a report (the dashboard's JSON export, `sse-load --report`).
pub const REPORT_FORMAT: &str = "sse-dashboard-load-test";
/// The version of the report's schema this build writes; it reads it and the ones before.
pub const SCHEMA_VERSION: u32 = 2;
/// Version 1 named its version in the format, and had no `origin`.
const REPORT_FORMAT_V1: &str = "sse-dashboard-load-test/1";

/// Reads a report written by [`to_json`] (this version or an older one): its
/// summary, or why the text is no such report, in words.
pub fn parse_report(text: &str) -> Result<RunSummary, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("The file is not JSON ({e})."))?;
    let format = value.get("format").and_then(|f| f.as_str());
    let version = match (format, value.get("schema_version")) {
        (Some(REPORT_FORMAT_V1), None) => 1,
        (Some(REPORT_FORMAT), Some(v)) => match v.as_u64() {
            Some(v) => v,
            None => return Err(format!("The report's schema_version is {v}, not a number.")),
        },
        (Some(REPORT_FORMAT), None) => {
            return Err("The report has no schema_version.".into());
        }
        _ => {
            return Err(format!(
                "The file is not a load-test report of this dashboard or of sse-load (its \"format\" is not \"{REPORT_FORMAT}\")."
            ))
        }
    };
    if version == 0 || version > u64::from(SCHEMA_VERSION) {
        return Err(format!(
            "The report has schema version {version}; this dashboard reads versions 1 to {SCHEMA_VERSION}."
        ));
    }
    let summary = value.get("summary").ok_or("The report has no summary.")?;
    serde_json::from_value(summary.clone())
        .map_err(|e| format!("The report's summary cannot be read: {e}."))
}

const CSV_HEADER: &str = "index,sent_ms,outcome,failure_kind,message,status,ttft_ms,e2e_ms,tpot_ms,itl_mean_ms,chunks,output_chars,output_tokens,cache_hit,pings,resilience_layer,thread_id,browser_queue_ms,protocol,lateness_ms,server_instance,server_ttft_ms,network_ms,server_queue_ms,server_stages_ms,provider_first_token_ms,server_total_ms";

/// A CSV field, quoted when it has to be (RFC 4180), and never read as a
/// formula by a spreadsheet.
fn csv_text(value: &str) -> String {
    let value = match value.chars().next() {
        // OWASP's list: a spreadsheet also starts a formula after a leading TAB or CR.
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

fn csv_number(value: Option<f64>) -> String {
    value
        .filter(|v| v.is_finite())
        .map(|v| format!("{:.3}", v))
        .unwrap_or_default()
}

/// The CSV export: one row per request, then the summary as `# key,value` lines.
pub fn to_csv(summary: &RunSummary, rows: &[RequestRow]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * 160);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for r in rows {
        let fields = [
            r.index.to_string(),
            csv_number(Some(r.sent_ms)),
            r.outcome.to_owned(),
            csv_text(r.failure_kind.as_deref().unwrap_or("")),
            csv_text(r.message.as_deref().unwrap_or("")),
            r.status.map(|s| s.to_string()).unwrap_or_default(),
            csv_number(r.ttft_ms),
            csv_number(Some(r.e2e_ms)),
            csv_number(r.tpot_ms),
            csv_number(r.itl_mean_ms),
            r.chunks.to_string(),
            r.output_chars.to_string(),
            r.output_tokens.to_string(),
            r.cache_hit.to_string(),
            r.pings.to_string(),
            csv_text(r.resilience_layer.as_deref().unwrap_or("")),
            csv_text(r.thread_id.as_deref().unwrap_or("")),
            csv_number(r.browser_queue_ms),
            csv_text(r.protocol.as_deref().unwrap_or("")),
            csv_number(r.lateness_ms),
            csv_text(
                r.server
                    .as_ref()
                    .and_then(|s| s.instance_id.as_deref())
                    .unwrap_or(""),
            ),
            csv_number(r.server.as_ref().and_then(|s| s.server_ttft_ms)),
            csv_number(r.server.as_ref().and_then(|s| s.network_ms)),
            csv_number(r.server.as_ref().and_then(|s| s.server_queue_ms)),
            csv_number(r.server.as_ref().and_then(|s| s.server_stages_ms)),
            csv_number(r.server.as_ref().and_then(|s| s.provider_first_token_ms)),
            csv_number(r.server.as_ref().and_then(|s| s.server_total_ms)),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    let figures = [
        ("requests", summary.requests as f64),
        ("completed", summary.completed as f64),
        ("failed", summary.failed as f64),
        ("aborted", summary.aborted as f64),
        ("output_tokens", summary.output_tokens as f64),
        ("wall_ms", summary.wall_ms),
    ];
    for (key, value) in figures {
        out.push_str(&format!("# {key},{}\n", csv_number(Some(value))));
    }
    out.push_str(&format!("# load_model,{}\n", summary.load_model.id()));
    let more = [
        ("rate_per_s", summary.rate_per_s),
        ("slo_ttft_ms", summary.slo.ttft_ms),
        ("slo_e2e_ms", summary.slo.e2e_ms),
        ("slo_tpot_ms", summary.slo.tpot_ms),
        ("slo_good_pct", Some(summary.slo.good_pct)),
        ("goodput_per_s", summary.goodput_rps),
        ("good_pct", summary.good_pct),
        ("late_starts", Some(summary.late_starts as f64)),
        ("dropped", Some(summary.dropped as f64)),
        ("max_sustainable", summary.max_sustainable),
    ];
    for (key, value) in more {
        out.push_str(&format!("# {key},{}\n", csv_number(value)));
    }
    out.push_str(&format!(
        "# verdict,{},{}\n",
        summary.verdict.state.id(),
        csv_text(&summary.verdict.reason)
    ));
    for metric in Metric::ALL {
        for statistic in Statistic::PERCENTILES {
            out.push_str(&format!(
                "# {}_{}_ms,{}\n",
                metric.id().replace('-', "_"),
                statistic.id(),
                csv_number(statistic.of(summary.metric(metric)))
            ));
        }
    }
    if !summary.steps.is_empty() {
        out.push_str("# step,offered,throughput_per_s,goodput_per_s,ttft_p95_ms,e2e_p95_ms,ttft_intended_p95_ms,e2e_intended_p95_ms,completed,failed,late_starts,verdict\n");
    }
    for step in &summary.steps {
        let numbers = [
            Some(step.offered),
            step.throughput_rps,
            step.goodput_rps,
            step.ttft.p95,
            step.e2e.p95,
            step.ttft_intended.p95,
            step.e2e_intended.p95,
            Some(step.completed as f64),
            Some(step.failed as f64),
            Some(step.late_starts as f64),
        ]
        .map(csv_number);
        out.push_str(&format!(
            "# step {},{},{}\n",
            step.step,
            numbers.join(","),
            step.verdict.state.id()
        ));
    }
    out
}

/// The last runs, newest first, as kept in the browser's storage.
pub fn history_from_json(text: Option<&str>) -> Vec<RunSummary> {
    // A damaged or older entry is dropped, not an error: it is only a history.
    text.and_then(|t| serde_json::from_str::<Vec<serde_json::Value>>(t).ok())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| serde_json::from_value(v).ok())
        .take(HISTORY_RUNS)
        .collect()
}

/// `history` with `run` added first, bounded.
pub fn history_with(mut history: Vec<RunSummary>, run: RunSummary) -> Vec<RunSummary> {
    history.retain(|r| r.started_at_ms != run.started_at_ms);
    history.insert(0, run);
    history.truncate(HISTORY_RUNS);
    history
}

pub fn history_to_json(history: &[RunSummary]) -> String {
    serde_json::to_string(history).unwrap_or_else(|_| "[]".into())
}

/// One line of a side-by-side comparison.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonRow {
    pub label: String,
    /// `ms`, `/s` or empty for counts.
    pub unit: &'static str,
    pub a: Option<f64>,
    pub b: Option<f64>,
    /// (b - a) / a in percent, when both exist and a is not zero.
    pub change_percent: Option<f64>,
}

/// Runs `a` and `b` side by side.
pub fn compare(a: &RunSummary, b: &RunSummary) -> Vec<ComparisonRow> {
    let row = |label: &str, unit, f: &dyn Fn(&RunSummary) -> Option<f64>| {
        let (va, vb) = (f(a), f(b));
        ComparisonRow {
            label: label.to_owned(),
            unit,
            a: va,
            b: vb,
            change_percent: match (va, vb) {
                (Some(x), Some(y)) if x != 0.0 => Some((y - x) / x * 100.0),
                _ => None,
            },
        }
    };
    let mut rows = vec![
        row("Concurrency", "", &|r| Some(f64::from(r.concurrency))),
        row("Rate (open loop)", "/s", &|r| r.rate_per_s),
        row("Requests", "", &|r| Some(r.requests as f64)),
        row("Completed", "", &|r| Some(r.completed as f64)),
        row("Failed", "", &|r| Some(r.failed as f64)),
        row("Requests/s", "/s", &|r| r.requests_per_s),
        row("Tokens/s", "/s", &|r| r.tokens_per_s),
        row("E2E p50", "ms", &|r| r.e2e.p50),
        row("E2E p95", "ms", &|r| r.e2e.p95),
        row("E2E p99", "ms", &|r| r.e2e.p99),
        row("TTFT p50", "ms", &|r| r.ttft.p50),
        row("TTFT p95", "ms", &|r| r.ttft.p95),
        row("TTFT p99", "ms", &|r| r.ttft.p99),
        row("ITL p50", "ms", &|r| r.itl.p50),
        row("ITL p99", "ms", &|r| r.itl.p99),
        row("TPOT p50", "ms", &|r| r.tpot.p50),
        row("Browser queue p95", "ms", &|r| r.browser_queue.p95),
        row("E2E p95 from intended start", "ms", &|r| r.e2e_intended.p95),
        row("TTFT p95 from intended start", "ms", &|r| {
            r.ttft_intended.p95
        }),
        row("Late starts", "", &|r| Some(r.late_starts as f64)),
        row("Goodput", "/s", &|r| r.goodput_rps),
        row("Good requests %", "", &|r| r.good_pct),
        row("Highest load meeting the SLOs", "", &|r| r.max_sustainable),
    ];
    // Step by step: the k-th step of each, whatever load each offered.
    for k in 0..a.steps.len().max(b.steps.len()) {
        let step =
            |f: fn(&StepResult) -> Option<f64>| move |r: &RunSummary| r.steps.get(k).and_then(f);
        let n = k + 1;
        rows.extend([
            row(&format!("Step {n} offered"), "", &step(|s| Some(s.offered))),
            row(
                &format!("Step {n} throughput"),
                "/s",
                &step(|s| s.throughput_rps),
            ),
            row(&format!("Step {n} goodput"), "/s", &step(|s| s.goodput_rps)),
            row(
                &format!("Step {n} TTFT p95 (intended)"),
                "ms",
                &step(|s| s.ttft_intended.p95),
            ),
            row(
                &format!("Step {n} E2E p95 (intended)"),
                "ms",
                &step(|s| s.e2e_intended.p95),
            ),
            row(
                &format!("Step {n} failed"),
                "",
                &step(|s| Some(s.failed as f64)),
            ),
        ]);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::stream::{ChunkData, ErrorData};
    use crate::load::plan::LoadForm;
    use crate::load::recorder::RequestRecorder;
    use crate::sse::stream::StreamEvent;

    fn chunk(text: &str) -> StreamEvent {
        StreamEvent::Chunk(ChunkData {
            content: text.into(),
            chunk_index: None,
            finish_reason: None,
            cached: false,
        })
    }

    fn sample() -> (RunSummary, Vec<RequestRow>) {
        let plan = LoadForm::default().plan().expect("valid");
        let mut stats = RunStats::new(1_000.0);
        let mut ok = RequestRecorder::new(1_000.0);
        ok.on_headers(1_002.0, 200, Some("1-Direct".into()), Some("t-1".into()));
        ok.on_event(1_050.0, &chunk("Hello, "));
        ok.on_event(1_090.0, &chunk("world"));
        ok.on_event(1_100.0, &StreamEvent::Done);
        let mut ok = ok.finish_stream_end(1_101.0);
        ok.browser_queue_ms = Some(0.5);
        ok.protocol = Some("h2".into());
        let mut failed = RequestRecorder::new(1_010.0);
        failed.on_headers(1_012.0, 200, Some("3-Queue-Failover".into()), None);
        failed.on_event(
            1_200.0,
            &StreamEvent::Error(ErrorData {
                error: "Queue timeout - server busy".into(),
                message: Some("waited, \"too long\"".into()),
                thread_id: None,
            }),
        );
        let failed = failed.finish_stream_end(1_201.0);
        let rows: Vec<RequestRow> = [&ok, &failed]
            .iter()
            .enumerate()
            .map(|(i, r)| RequestRow::new(i as u64, 1_000.0, r))
            .collect();
        stats.add(&ok);
        stats.add(&failed);
        let context = RunContext {
            started_at_ms: 1.7e12,
            api_base: "/api/v1",
            plan: &plan,
            stopped: false,
            form: None,
            steps: &[],
        };
        (RunSummary::new(&context, &stats), rows)
    }

    #[test]
    fn summary_holds_the_run_figures() {
        let (summary, rows) = sample();
        assert_eq!(
            (summary.requests, summary.completed, summary.failed),
            (2, 1, 1)
        );
        assert_eq!(summary.ttft.p50, Some(50.0));
        assert_eq!(summary.e2e.p99, Some(100.0));
        assert_eq!(summary.itl.count, 1);
        assert_eq!(summary.output_tokens, 3, "12 characters");
        assert_eq!(summary.failures[0].kind, "Queue timeout - server busy");
        assert_eq!(summary.by_resilience_layer["3-Queue-Failover"], 1);
        assert_eq!(summary.by_protocol["h2"], 1);
        assert_eq!(rows[1].outcome, "stream_error");
        assert_eq!(rows[0].itl_mean_ms, Some(40.0));
    }

    #[test]
    fn a_mostly_queued_and_failed_run_says_why_in_words() {
        let (mut summary, _) = sample();
        // 1 of 2 queued, 1 failed: not most of the run.
        assert_eq!(summary.queue_explanation(), None);
        summary.requests = 20;
        summary.failed = 17;
        summary.by_resilience_layer.insert(QUEUED_LAYER.into(), 17);
        let text = summary.queue_explanation().expect("explained");
        assert!(text.starts_with("17 of 20 requests were queued"), "{text}");
        assert!(
            text.contains("X-User-ID") && text.contains("One user per worker"),
            "{text}"
        );
    }

    #[test]
    fn the_browser_wait_is_quoted_as_a_distribution() {
        let (mut summary, _) = sample();
        summary.browser_queue.p50 = Some(60.0);
        summary.browser_queue.p90 = Some(15_000.0);
        summary.browser_queue.max = Some(16_000.0);
        summary.browser_queue.count = 12;
        summary.long_browser_waits = 6;
        let text = summary.browser_wait_sentence().expect("a sentence");
        assert_eq!(
            text,
            "measured browser wait p50 60.0 ms, p90 15.00 s, max 16.00 s; 6 of 12 requests waited longer than 100 ms"
        );
    }

    #[test]
    fn csv_quotes_what_needs_quoting_and_ends_with_the_summary() {
        let (summary, rows) = sample();
        let csv = to_csv(&summary, &rows);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines[0].split(',').count(), 27);
        assert!(
            lines[1].starts_with("0,0.000,completed,,,200,50.000,100.000,"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].contains(
                ",\"error event Queue timeout - server busy: waited, \"\"too long\"\"\","
            ),
            "{}",
            lines[2]
        );
        assert!(csv.contains("# e2e_p50_ms,100.000\n"));
        assert_eq!(csv_text("=cmd()"), "'=cmd()");
        for lead in ["+", "-", "@", "\t", "\r"] {
            let cell = csv_text(&format!("{lead}=HYPERLINK(\"x\")"));
            assert!(
                cell.starts_with('\'') || cell.starts_with("\"'"),
                "{lead:?}: {cell:?}"
            );
        }
        assert_eq!(csv_text("plain text"), "plain text");
    }

    #[test]
    fn json_export_has_the_summary_and_every_request() {
        let (summary, rows) = sample();
        let json: serde_json::Value =
            serde_json::from_str(&to_json(&summary, &rows)).expect("json");
        assert_eq!(json["format"], "sse-dashboard-load-test");
        assert_eq!(json["schema_version"], SCHEMA_VERSION);
        assert_eq!(json["summary"]["origin"], "browser");
        assert_eq!(json["requests"].as_array().map(Vec::len), Some(2));
        assert_eq!(json["summary"]["completed"], 1);
        assert_eq!(json["requests"][0]["thread_id"], "t-1");
    }

    #[test]
    fn a_report_reads_back_and_a_foreign_or_damaged_one_is_named() {
        let (mut summary, rows) = sample();
        summary.origin = Origin::SseLoad;
        let text = to_json(&summary, &rows);
        assert_eq!(parse_report(&text), Ok(summary.clone()));
        // Version 1 (before `origin`): read, run by the browser.
        let mut v1: serde_json::Value = serde_json::from_str(&text).expect("json");
        v1["format"] = "sse-dashboard-load-test/1".into();
        v1.as_object_mut().map(|o| o.remove("schema_version"));
        v1["summary"].as_object_mut().map(|o| o.remove("origin"));
        let old = parse_report(&v1.to_string()).expect("version 1 reads");
        assert_eq!(old.origin, Origin::Browser);
        let mut v3: serde_json::Value = serde_json::from_str(&text).expect("json");
        v3["schema_version"] = 3.into();
        assert_eq!(
            parse_report(&v3.to_string()),
            Err("The report has schema version 3; this dashboard reads versions 1 to 2.".into())
        );
        let cut = &text[..text.len() / 2];
        assert!(parse_report(cut).is_err_and(|e| e.starts_with("The file is not JSON")));
        assert!(
            parse_report(r#"{"format":"k6"}"#).is_err_and(|e| e.contains("not a load-test report"))
        );
        let mut damaged: serde_json::Value = serde_json::from_str(&text).expect("json");
        damaged["summary"]["requests"] = "many".into();
        assert!(parse_report(&damaged.to_string())
            .is_err_and(|e| e.starts_with("The report's summary cannot be read")));
    }

    #[test]
    fn history_is_bounded_newest_first_and_survives_damage() {
        let (summary, _) = sample();
        let mut history = Vec::new();
        for i in 0..12 {
            let mut run = summary.clone();
            run.started_at_ms = f64::from(i);
            history = history_with(history, run);
        }
        assert_eq!(history.len(), HISTORY_RUNS);
        assert_eq!(history[0].started_at_ms, 11.0);
        let text = history_to_json(&history);
        assert_eq!(history_from_json(Some(&text)), history);
        let damaged = format!("[{{\"nonsense\":1}},{}]", &text[1..text.len() - 1]);
        assert_eq!(history_from_json(Some(&damaged)).len(), HISTORY_RUNS);
        assert!(history_from_json(Some("not json")).is_empty());
        assert!(history_from_json(None).is_empty());
    }

    #[test]
    fn two_sweeps_are_compared_step_by_step() {
        let (mut a, _) = sample();
        let step = |k: usize, goodput: f64| {
            let mut stats = RunStats::new(0.0);
            let mut r = RequestRecorder::new(0.0);
            r.on_event(10.0, &chunk("hi"));
            r.on_event(20.0, &StreamEvent::Done);
            stats.add(&r.finish_stream_end(1_000.0));
            let mut result = StepResult::new(k, k as f64 * 5.0, &stats, &Slo::default());
            result.goodput_rps = Some(goodput);
            result
        };
        a.steps = vec![step(1, 4.0), step(2, 8.0)];
        let mut b = a.clone();
        b.steps = vec![step(1, 5.0), step(2, 6.0), step(3, 6.0)];
        let rows = compare(&a, &b);
        let find = |label: &str| {
            rows.iter()
                .find(|r| r.label == label)
                .cloned()
                .expect(label)
        };
        assert_eq!(find("Step 1 goodput").change_percent, Some(25.0));
        assert_eq!(find("Step 2 goodput").change_percent, Some(-25.0));
        let third = find("Step 3 goodput");
        assert_eq!((third.a, third.b), (None, Some(6.0)), "a step only B has");
        assert_eq!(find("Step 3 offered").b, Some(15.0));
    }

    #[test]
    fn comparison_gives_the_change_in_percent() {
        let (a, _) = sample();
        let mut b = a.clone();
        b.e2e.p50 = Some(150.0);
        b.ttft.p50 = None;
        let rows = compare(&a, &b);
        let e2e = rows.iter().find(|r| r.label == "E2E p50").expect("row");
        assert!(
            !rows.iter().any(|r| r.label.starts_with("Step ")),
            "no sweep, no steps"
        );
        assert_eq!(e2e.change_percent, Some(50.0));
        let ttft = rows.iter().find(|r| r.label == "TTFT p50").expect("row");
        assert_eq!((ttft.b, ttft.change_percent), (None, None));
    }
}
