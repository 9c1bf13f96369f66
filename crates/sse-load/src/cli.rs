//! The command line: `sse-load run --url BASE [plan flags] [outputs]`. The
//! plan flags are the load tester's form fields, named the same way; each
//! one given replaces the field of `--plan`'s form (or of the default form).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use sse_core::load::plan::LoadForm;

#[derive(Debug, Parser)]
#[command(
    name = "sse-load",
    version,
    about = "Headless load runner for SSE/LLM streaming services: the dashboard's plans, statistics, SLO verdicts and reports",
    after_help = "Exit codes: 0 the run completed and every SLO held (or none was set); 99 an SLO failed; 2 bad input; 1 the run could not be made (the service unreachable, every request failed before an answer)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Runs a load test and prints its summary.
    Run(RunArgs),
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The service's API base, e.g. http://127.0.0.1:8000/api/v1 or the dashboard's https://127.0.0.1:3443/api/v1.
    #[arg(long, value_name = "BASE")]
    pub url: String,

    /// A plan file (JSON): the form's fields, {"form": …}, or a report the dashboard or sse-load exported (its summary.form). Flags given here replace its fields.
    #[arg(long, value_name = "FILE")]
    pub plan: Option<PathBuf>,

    #[command(flatten)]
    pub form: FormFlags,

    /// Write the report (the dashboard's JSON export schema) here.
    #[arg(long, value_name = "FILE.json")]
    pub report: Option<PathBuf>,

    /// Write the requests as CSV (the dashboard's CSV export) here.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,

    /// Write JUnit XML here: a test case per SLO target, one for the verdict, one per sweep step.
    #[arg(long, value_name = "FILE.xml")]
    pub junit: Option<PathBuf>,

    /// Accept any TLS certificate (the dashboard's self-signed one).
    #[arg(long)]
    pub insecure: bool,

    /// No progress line (the summary is still printed).
    #[arg(long)]
    pub quiet: bool,
}

/// The load tester's form fields (defaults: the form's, or the plan file's).
#[derive(Debug, Args)]
pub struct FormFlags {
    /// The prompt each request sends [default: "Write a short poem about performance testing."].
    #[arg(long)]
    pub prompt: Option<String>,
    /// The provider [default: fake]; a blank one lets the service choose.
    #[arg(long)]
    pub provider: Option<String>,
    /// The model [default: gpt-3.5-turbo].
    #[arg(long)]
    pub model: Option<String>,
    /// Closed loop: requests in flight at all times [default: 10].
    #[arg(long)]
    pub concurrency: Option<String>,
    /// Closed loop: requests to send [default: 50].
    #[arg(long)]
    pub total: Option<String>,
    /// Per-request time limit in seconds [default: 120].
    #[arg(long)]
    pub timeout_s: Option<String>,
    /// Load model: closed, constant or poisson [default: closed].
    #[arg(long)]
    pub mode: Option<String>,
    /// Open loop: arrivals per second [default: 10].
    #[arg(long)]
    pub rate: Option<String>,
    /// Seconds the run sends for (closed loop: optional; open loop: required unless --max-requests) [default: none].
    #[arg(long)]
    pub duration_s: Option<String>,
    /// Open loop: stop sending after this many requests [default: none].
    #[arg(long)]
    pub max_requests: Option<String>,
    /// Open loop: requests in flight at most; later arrivals wait for a slot [default: 100].
    #[arg(long)]
    pub max_in_flight: Option<String>,
    /// Poisson: the seed of the arrivals [default: 1].
    #[arg(long)]
    pub seed: Option<String>,
    /// Send each worker's requests as its own user (X-User-ID) [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub one_user_per_worker: Option<bool>,
    /// SLO: TTFT target per request, ms from the intended start [default: none].
    #[arg(long)]
    pub slo_ttft_ms: Option<String>,
    /// SLO: E2E target per request, ms from the intended start [default: none].
    #[arg(long)]
    pub slo_e2e_ms: Option<String>,
    /// SLO: TPOT target per request, ms [default: none].
    #[arg(long)]
    pub slo_tpot_ms: Option<String>,
    /// SLO: the share of requests that must meet every target, % [default: 95].
    #[arg(long)]
    pub slo_good_pct: Option<String>,
    /// A sweep: rising loads, e.g. 5,10,20 (concurrency in a closed loop, req/s in an open one) [default: none].
    #[arg(long)]
    pub sweep_steps: Option<String>,
    /// Sweep: seconds per step [default: 30].
    #[arg(long)]
    pub step_s: Option<String>,
    /// Sweep: seconds at the start of each step that are not counted [default: 5].
    #[arg(long)]
    pub warmup_s: Option<String>,
    /// Sweep: stop after two failing steps in a row [default: true].
    #[arg(long, num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub stop_early: Option<bool>,
}

impl FormFlags {
    /// `form` with every field given here replaced.
    pub fn apply(&self, mut form: LoadForm) -> LoadForm {
        let text = [
            (&self.prompt, &mut form.prompt),
            (&self.provider, &mut form.provider),
            (&self.model, &mut form.model),
            (&self.concurrency, &mut form.concurrency),
            (&self.total, &mut form.total),
            (&self.timeout_s, &mut form.timeout_s),
            (&self.mode, &mut form.mode),
            (&self.rate, &mut form.rate),
            (&self.duration_s, &mut form.duration_s),
            (&self.max_requests, &mut form.max_requests),
            (&self.max_in_flight, &mut form.max_in_flight),
            (&self.seed, &mut form.seed),
            (&self.slo_ttft_ms, &mut form.slo_ttft_ms),
            (&self.slo_e2e_ms, &mut form.slo_e2e_ms),
            (&self.slo_tpot_ms, &mut form.slo_tpot_ms),
            (&self.slo_good_pct, &mut form.slo_good_pct),
            (&self.sweep_steps, &mut form.sweep_steps),
            (&self.step_s, &mut form.step_s),
            (&self.warmup_s, &mut form.warmup_s),
        ];
        for (flag, field) in text {
            if let Some(value) = flag {
                field.clone_from(value);
            }
        }
        if let Some(on) = self.one_user_per_worker {
            form.user_per_worker = on;
        }
        if let Some(on) = self.stop_early {
            form.stop_early = on;
        }
        form
    }
}

/// The flag of a form field, as the core's plan names it in its problems.
pub fn flag_of(field: &str) -> String {
    let flag = match field {
        "timeout" => "timeout-s",
        "duration" => "duration-s",
        "slo-ttft" => "slo-ttft-ms",
        "slo-e2e" => "slo-e2e-ms",
        "slo-tpot" => "slo-tpot-ms",
        "slo-good" => "slo-good-pct",
        "step" => "step-s",
        "warmup" => "warmup-s",
        other => other,
    };
    format!("--{flag}")
}
