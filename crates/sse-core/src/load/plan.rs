//! The load tester's form: what the user typed, checked field by field, and the
//! plan a valid form makes (what the engine runs).

use serde::{Deserialize, Serialize};

use crate::contract::stream::StreamRequest;
use crate::load::model::LoadModel;
use crate::load::slo::{Slo, DEFAULT_GOOD_PCT};
use crate::load::sweep::{parse_steps, SweepPlan};

pub const DEFAULT_PROMPT: &str = "Write a short poem about performance testing.";
pub const DEFAULT_MODEL: &str = "gpt-3.5-turbo";
pub const DEFAULT_PROVIDER: &str = "fake";
/// Requests in flight at most: what one HTTP/2 connection carries by
/// default (nginx's `http2_max_concurrent_streams` is 128; a browser opens one
/// connection per origin and queues requests beyond it).
pub const MAX_CONCURRENCY: u32 = 128;
/// Open-loop arrivals per second at most (the page sends them one by one).
pub const MAX_RATE: f64 = 500.0;
/// How much load a runner can make: the browser tab's limits (one HTTP/2
/// connection, a main thread that sends each arrival) or a native runner's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanLimits {
    /// Requests in flight at most (closed-loop concurrency, open-loop cap,
    /// closed sweep steps).
    pub max_in_flight: u32,
    /// Open-loop arrivals per second at most.
    pub max_rate: f64,
}

impl PlanLimits {
    /// The dashboard's load tester.
    pub const BROWSER: Self = Self {
        max_in_flight: MAX_CONCURRENCY,
        max_rate: MAX_RATE,
    };
    /// `sse-load`: streams held open by one process (file descriptors and
    /// memory, not a browser, bound it).
    pub const NATIVE: Self = Self {
        max_in_flight: 20_000,
        max_rate: 20_000.0,
    };
}

/// Longest run or sweep step (s).
pub const MAX_DURATION_S: u64 = 3_600;
/// A bound on one run, so that a typo cannot start a run of days.
pub const MAX_TOTAL: u64 = 100_000;
pub const DEFAULT_TIMEOUT_S: u64 = 120;
pub const MAX_TIMEOUT_S: u64 = 3_600;
/// Connections a browser opens to one host over HTTP/1.1; requests beyond
/// them wait inside the browser.
pub const HTTP1_CONNECTIONS_PER_HOST: u32 = 6;

/// Providers offered in the form (value sent, label shown); any other name may be typed.
pub const PROVIDERS: [(&str, &str); 6] = [
    ("fake", "Fake LLM (no cost)"),
    ("openai", "OpenAI"),
    ("anthropic", "Anthropic"),
    ("google", "Google"),
    ("cohere", "Cohere"),
    ("mistral", "Mistral"),
];

/// Model names suggested for a provider.
pub fn model_suggestions(provider: &str) -> &'static [&'static str] {
    match provider.trim().to_ascii_lowercase().as_str() {
        "openai" => &["gpt-3.5-turbo", "gpt-4o-mini", "gpt-4o", "gpt-4.1"],
        "anthropic" => &[
            "claude-3-5-haiku-latest",
            "claude-3-5-sonnet-latest",
            "claude-sonnet-4-0",
        ],
        "google" => &["gemini-1.5-flash", "gemini-1.5-pro"],
        "cohere" => &["command-r", "command-r-plus"],
        "mistral" => &["mistral-small-latest", "mistral-large-latest"],
        _ => &["gpt-3.5-turbo", "fake-model"],
    }
}

/// Whether requests to `provider` may cost money (everything but the fake one;
/// a blank provider is the service's default, which may be a real one).
pub fn may_cost_money(provider: &str) -> bool {
    !provider.trim().eq_ignore_ascii_case(DEFAULT_PROVIDER)
}

/// Whether the browser will hold requests back: over HTTP/1.1 (or an unknown
/// protocol on a plain-http page) at most six run at once per host.
pub fn browser_caps_concurrency(protocol: Option<&str>, concurrency: u32) -> bool {
    concurrency > HTTP1_CONNECTIONS_PER_HOST
        && matches!(protocol, Some("http/1.1" | "http/1.0") | None)
}

/// The form as typed (kept with a run in its exports and history, so that
/// the run can be run again exactly: same plan, same seed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadForm {
    pub prompt: String,
    pub provider: String,
    pub model: String,
    pub concurrency: String,
    pub total: String,
    pub timeout_s: String,
    /// Send each worker's requests as its own user (`X-User-ID`), as many
    /// users would; otherwise all requests are one user (the browser's IP).
    pub user_per_worker: bool,
    /// `closed`, `constant` or `poisson` ([`LoadModel::id`]).
    pub mode: String,
    /// Open loop: requests per second.
    pub rate: String,
    /// Seconds the run lasts. Closed loop: empty = until the total is sent.
    /// Open loop: the duration ends the run (required unless a request cap
    /// is set).
    pub duration_s: String,
    /// Open loop: stop sending after this many requests (empty: no cap; the
    /// closed loop's total does not apply to an open loop).
    pub max_requests: String,
    /// Open loop: requests in flight at most.
    pub max_in_flight: String,
    /// Poisson: the seed of the arrivals.
    pub seed: String,
    /// Per-request targets in ms (empty: no target) and the good share in %.
    pub slo_ttft_ms: String,
    pub slo_e2e_ms: String,
    pub slo_tpot_ms: String,
    pub slo_good_pct: String,
    /// Sweep steps, "5,10,20,40" (empty: one run, no sweep).
    pub sweep_steps: String,
    pub step_s: String,
    pub warmup_s: String,
    pub stop_early: bool,
    /// Seconds between polls of the service's stage statistics during a run.
    pub stats_every_s: String,
}

impl Default for LoadForm {
    fn default() -> Self {
        Self {
            prompt: DEFAULT_PROMPT.into(),
            provider: DEFAULT_PROVIDER.into(),
            model: DEFAULT_MODEL.into(),
            concurrency: "10".into(),
            total: "50".into(),
            timeout_s: DEFAULT_TIMEOUT_S.to_string(),
            user_per_worker: true,
            mode: LoadModel::Closed.id().into(),
            rate: "10".into(),
            duration_s: String::new(),
            max_requests: String::new(),
            max_in_flight: "100".into(),
            seed: "1".into(),
            slo_ttft_ms: String::new(),
            slo_e2e_ms: String::new(),
            slo_tpot_ms: String::new(),
            slo_good_pct: DEFAULT_GOOD_PCT.to_string(),
            sweep_steps: String::new(),
            step_s: "30".into(),
            warmup_s: "5".into(),
            stop_early: true,
            stats_every_s: DEFAULT_STATS_EVERY_S.to_string(),
        }
    }
}

/// During a run the statistics are polled this often (s) unless the form says.
pub const DEFAULT_STATS_EVERY_S: u64 = 2;
/// The longest interval between statistics polls during a run (s).
pub const MAX_STATS_EVERY_S: u64 = 600;

/// A form field (`prompt`, `provider`, `model`, `concurrency`, `total` or
/// `timeout`) and what is wrong with it.
pub use crate::contract::field_message::FieldMessage as FormProblem;

/// What a valid form runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    pub request: StreamRequest,
    pub concurrency: u32,
    /// The most requests the run sends: a closed loop's total, an open
    /// loop's cap ([`MAX_TOTAL`] when it has none).
    pub total: u64,
    /// Open loop: the request cap as typed (`None`: the duration ends the run).
    pub max_requests: Option<u64>,
    pub timeout_ms: u64,
    pub user_per_worker: bool,
    pub model: LoadModel,
    /// Open loop: arrivals per second (of the first step in a sweep).
    pub rate_per_s: f64,
    pub duration_ms: Option<u64>,
    pub max_in_flight: u32,
    pub seed: u64,
    pub slo: Slo,
    pub sweep: Option<SweepPlan>,
    /// Interval of the service's statistics polls during the run (ms).
    pub stats_every_ms: u32,
}

impl LoadPlan {
    /// The steps the run is made of: the sweep's, or one step of the whole run.
    pub fn step_loads(&self) -> Vec<f64> {
        match &self.sweep {
            Some(sweep) => sweep.steps.clone(),
            None if self.model.is_open() => vec![self.rate_per_s],
            None => vec![f64::from(self.concurrency)],
        }
    }

    /// What a step's load is counted in.
    pub fn load_unit(&self) -> &'static str {
        if self.model.is_open() {
            "req/s"
        } else {
            "concurrent"
        }
    }
}

/// A decimal number in `min..=max` (or absent when `optional` and blank).
fn decimal(
    field: &'static str,
    label: &str,
    text: &str,
    (min, max): (f64, f64),
) -> Result<Option<f64>, FormProblem> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > min && v <= max => Ok(Some(v)),
        _ => Err(FormProblem::new(
            field,
            format!("{label} must be a number above {min} and at most {max}; \"{text}\" is not."),
        )),
    }
}

fn whole_number(
    field: &'static str,
    label: &str,
    text: &str,
    min: u64,
    max: u64,
) -> Result<u64, FormProblem> {
    let problem = |message: String| FormProblem::new(field, message);
    let text = text.trim();
    if text.is_empty() {
        return Err(problem(format!("{label} is required.")));
    }
    match text.parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        Ok(n) => Err(problem(format!(
            "{label} must be from {min} to {max}; {n} is out of range."
        ))),
        Err(_) if text.starts_with('-') => Err(problem(format!(
            "{label} must be from {min} to {max}, not negative."
        ))),
        Err(_) => Err(problem(format!(
            "{label} must be a whole number from {min} to {max}; \"{text}\" is not."
        ))),
    }
}

/// The form a plan file holds (`sse-load --plan`): the form itself as JSON
/// (the dashboard's field names, every field optional), `{"form": …}`, or a
/// report the dashboard or sse-load exported (its `summary.form`, so that a
/// run designed in the browser runs in CI unchanged). A key the form does not
/// have is an error, not a silent default.
pub fn form_from_json(text: &str) -> Result<LoadForm, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the plan is not JSON ({e})"))?;
    let form = if let Some(summary) = value.get("summary") {
        summary
            .get("form")
            .filter(|f| !f.is_null())
            .ok_or("the report holds no form (a run saved before forms were kept)")?
    } else if let Some(form) = value.get("form") {
        form
    } else {
        &value
    };
    let object = form
        .as_object()
        .ok_or("the plan is not a JSON object of the form's fields")?;
    let known = serde_json::to_value(LoadForm::default()).unwrap_or_default();
    if let Some(unknown) = object.keys().find(|k| known.get(k.as_str()).is_none()) {
        return Err(format!("the plan has no field \"{unknown}\""));
    }
    serde_json::from_value(form.clone()).map_err(|e| format!("the plan cannot be read: {e}"))
}

/// A whole number in `1..=max`, or `None` when blank.
fn optional_whole(
    field: &'static str,
    label: &str,
    text: &str,
    max: u64,
) -> Result<Option<u64>, FormProblem> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    whole_number(field, label, text, 1, max).map(Some)
}

impl LoadForm {
    /// The plan for the browser's load tester, or every problem of the form
    /// (at most one per field).
    pub fn plan(&self) -> Result<LoadPlan, Vec<FormProblem>> {
        self.plan_within(PlanLimits::BROWSER)
    }

    /// The plan within `limits`, or every problem of the form.
    pub fn plan_within(&self, limits: PlanLimits) -> Result<LoadPlan, Vec<FormProblem>> {
        let provider = self.provider.trim();
        let request = StreamRequest {
            query: self.prompt.clone(),
            model: self.model.trim().to_owned(),
            provider: (!provider.is_empty()).then(|| provider.to_owned()),
        };
        let mut problems: Vec<FormProblem> = request
            .problems()
            .into_iter()
            .filter(|p| p.field.as_deref() != Some("provider"))
            .map(|mut p| {
                if p.field.as_deref() == Some("query") {
                    p.field = Some("prompt".into());
                }
                p
            })
            .collect();
        if provider.chars().any(char::is_whitespace) {
            problems.push(FormProblem::new(
                "provider",
                "A provider name has no spaces.".into(),
            ));
        }
        let concurrency = whole_number(
            "concurrency",
            "Concurrency",
            &self.concurrency,
            1,
            u64::from(limits.max_in_flight),
        );
        let open = LoadModel::from_id(&self.mode).is_some_and(LoadModel::is_open);
        // An open loop's bound is its duration or its cap; the closed loop's
        // total (hidden then) is neither read nor checked.
        let max_requests = if open {
            optional_whole(
                "max-requests",
                "The request cap",
                &self.max_requests,
                MAX_TOTAL,
            )
            .map_err(|p| problems.push(p))
            .ok()
            .flatten()
        } else {
            None
        };
        let total = if open {
            Ok(max_requests.unwrap_or(MAX_TOTAL))
        } else {
            whole_number("total", "Total requests", &self.total, 1, MAX_TOTAL)
        };
        let timeout = whole_number("timeout", "The timeout", &self.timeout_s, 1, MAX_TIMEOUT_S);
        let load = self.load_fields(limits, &mut problems);
        let stats_every = whole_number(
            "stats-every",
            "The statistics interval (s)",
            &self.stats_every_s,
            1,
            MAX_STATS_EVERY_S,
        );
        let (concurrency, total, timeout, stats_every) =
            match (concurrency, total, timeout, stats_every) {
                (Ok(c), Ok(t), Ok(s), Ok(e)) if problems.is_empty() => (c, t, s, e),
                (c, t, s, e) => {
                    problems.extend([c.err(), t.err(), s.err(), e.err()].into_iter().flatten());
                    return Err(problems);
                }
            };
        let Some((model, rate_per_s, duration_ms, max_in_flight, seed, slo, sweep)) = load else {
            return Err(problems);
        };
        Ok(LoadPlan {
            request,
            // Never more in flight than there are requests.
            concurrency: concurrency.min(total) as u32,
            total,
            max_requests,
            timeout_ms: timeout * 1000,
            user_per_worker: self.user_per_worker,
            model,
            rate_per_s,
            duration_ms,
            max_in_flight,
            seed,
            slo,
            sweep,
            stats_every_ms: (stats_every * 1000) as u32,
        })
    }

    /// The load model, SLO and sweep fields; their problems go to `problems`.
    #[allow(clippy::type_complexity)]
    fn load_fields(
        &self,
        limits: PlanLimits,
        problems: &mut Vec<FormProblem>,
    ) -> Option<(
        LoadModel,
        f64,
        Option<u64>,
        u32,
        u64,
        Slo,
        Option<SweepPlan>,
    )> {
        let mut check = |result: Result<Option<f64>, FormProblem>| match result {
            Ok(v) => v,
            Err(problem) => {
                problems.push(problem);
                None
            }
        };
        let Some(model) = LoadModel::from_id(&self.mode) else {
            problems.push(FormProblem::new(
                "mode",
                format!(
                    "\"{}\" is no load model: closed, constant or poisson.",
                    self.mode.trim()
                ),
            ));
            return None;
        };
        let open = model.is_open();
        let rate = if open {
            check(decimal(
                "rate",
                "The rate (requests/s)",
                &self.rate,
                (0.0, limits.max_rate),
            ))
        } else {
            None
        };
        let duration = check(decimal(
            "duration",
            "The duration (s)",
            &self.duration_s,
            (0.0, MAX_DURATION_S as f64),
        ));
        let targets = [
            ("slo-ttft", "The TTFT target (ms)", &self.slo_ttft_ms),
            ("slo-e2e", "The E2E target (ms)", &self.slo_e2e_ms),
            ("slo-tpot", "The TPOT target (ms)", &self.slo_tpot_ms),
        ]
        .map(|(field, label, text)| check(decimal(field, label, text, (0.0, 3_600_000.0))));
        let good_pct = check(decimal(
            "slo-good",
            "The good share (%)",
            &self.slo_good_pct,
            (0.0, 100.0),
        ));
        let (max_in_flight, seed) = if open {
            (
                whole_number(
                    "max-in-flight",
                    "Requests in flight at most",
                    &self.max_in_flight,
                    1,
                    u64::from(limits.max_in_flight),
                )
                .map_err(|p| problems.push(p))
                .ok(),
                if model == LoadModel::Poisson {
                    whole_number("seed", "The seed", &self.seed, 0, u64::from(u32::MAX))
                        .map_err(|p| problems.push(p))
                        .ok()
                } else {
                    Some(0)
                },
            )
        } else {
            (Some(0), Some(0))
        };
        let sweep = self.sweep_plan(open, limits, problems);
        let capped = !self.max_requests.trim().is_empty();
        if open
            && duration.is_none()
            && !capped
            && matches!(sweep, Some(None))
            && !problems
                .iter()
                .any(|p| p.field.as_deref() == Some("duration"))
        {
            problems.push(FormProblem::new(
                "duration",
                "An open loop ends at its duration: set one (or a request cap).".into(),
            ));
        }
        if open && rate.is_none() && !problems.iter().any(|p| p.field.as_deref() == Some("rate")) {
            problems.push(FormProblem::new(
                "rate",
                "The rate (requests/s) is required.".into(),
            ));
        }
        if !problems.is_empty() {
            return None;
        }
        let [ttft_ms, e2e_ms, tpot_ms] = targets;
        let slo = Slo {
            ttft_ms,
            e2e_ms,
            tpot_ms,
            good_pct: good_pct.unwrap_or(DEFAULT_GOOD_PCT),
        };
        Some((
            model,
            rate.unwrap_or(0.0),
            duration.map(|s| (s * 1000.0).round() as u64),
            max_in_flight? as u32,
            seed?,
            slo,
            sweep?,
        ))
    }

    /// The sweep (`Some(None)` when no steps are listed); `None` on a problem.
    fn sweep_plan(
        &self,
        open: bool,
        limits: PlanLimits,
        problems: &mut Vec<FormProblem>,
    ) -> Option<Option<SweepPlan>> {
        if self.sweep_steps.trim().is_empty() {
            return Some(None);
        }
        let max = if open {
            limits.max_rate
        } else {
            f64::from(limits.max_in_flight)
        };
        let steps = parse_steps(&self.sweep_steps, max, !open)
            .map_err(|message| problems.push(FormProblem::new("sweep-steps", message)))
            .ok();
        let step_s = whole_number("step", "Seconds per step", &self.step_s, 2, MAX_DURATION_S)
            .map_err(|p| problems.push(p))
            .ok();
        let warmup_s = whole_number(
            "warmup",
            "The warm-up (s)",
            &self.warmup_s,
            0,
            MAX_DURATION_S,
        )
        .map_err(|p| problems.push(p))
        .ok();
        let (steps, step_s, warmup_s) = (steps?, step_s?, warmup_s?);
        if warmup_s >= step_s {
            problems.push(FormProblem::new(
                "warmup",
                format!("The warm-up ({warmup_s} s) must be shorter than a step ({step_s} s)."),
            ));
            return None;
        }
        Some(Some(SweepPlan {
            steps,
            step_ms: step_s * 1000,
            warmup_ms: warmup_s * 1000,
            stop_early: self.stop_early,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(form: &LoadForm) -> Vec<String> {
        form.plan()
            .err()
            .unwrap_or_default()
            .into_iter()
            .filter_map(|p| p.field)
            .collect()
    }

    #[test]
    fn the_default_form_is_a_valid_plan() {
        let plan = LoadForm::default().plan().expect("valid");
        assert_eq!(plan.request.query, DEFAULT_PROMPT);
        assert_eq!(plan.request.model, "gpt-3.5-turbo");
        assert_eq!(plan.request.provider.as_deref(), Some("fake"));
        assert_eq!(
            (plan.concurrency, plan.total, plan.timeout_ms),
            (10, 50, 120_000)
        );
    }

    #[test]
    fn absurd_numbers_get_a_message_each() {
        let form = LoadForm {
            concurrency: "129".into(),
            total: "-3".into(),
            timeout_s: "1e9".into(),
            ..LoadForm::default()
        };
        let problems = form.plan().expect_err("invalid");
        assert_eq!(
            problems
                .iter()
                .map(|p| p.message.as_str())
                .collect::<Vec<_>>(),
            [
                "Concurrency must be from 1 to 128; 129 is out of range.",
                "Total requests must be from 1 to 100000, not negative.",
                "The timeout must be a whole number from 1 to 3600; \"1e9\" is not.",
            ]
        );
        for concurrency in ["0", "", " ", "2.5", "99999999999999999999999"] {
            let form = LoadForm {
                concurrency: concurrency.into(),
                ..LoadForm::default()
            };
            assert_eq!(fields(&form), ["concurrency"], "{concurrency:?}");
        }
    }

    #[test]
    fn text_fields_follow_the_service_rules() {
        let form = LoadForm {
            prompt: String::new(),
            model: "  ".into(),
            provider: "open ai".into(),
            ..LoadForm::default()
        };
        assert_eq!(fields(&form), ["prompt", "model", "provider"]);
        let too_long = LoadForm {
            prompt: "x".repeat(100_001),
            ..LoadForm::default()
        };
        assert_eq!(fields(&too_long), ["prompt"]);
        // A blank provider is left out of the request: the service's default.
        let default_provider = LoadForm {
            provider: " ".into(),
            ..LoadForm::default()
        };
        assert_eq!(
            default_provider.plan().expect("valid").request.provider,
            None
        );
    }

    #[test]
    fn concurrency_never_exceeds_the_total() {
        let form = LoadForm {
            concurrency: "50".into(),
            total: "7".into(),
            ..LoadForm::default()
        };
        assert_eq!(form.plan().expect("valid").concurrency, 7);
    }

    #[test]
    fn a_plan_file_is_a_form_a_wrapped_form_or_a_report() {
        let form = LoadForm {
            mode: "poisson".into(),
            rate: "7".into(),
            duration_s: "3".into(),
            ..LoadForm::default()
        };
        let text = serde_json::to_string(&form).expect("json");
        assert_eq!(form_from_json(&text), Ok(form.clone()));
        let wrapped = format!(r#"{{"form":{text}}}"#);
        assert_eq!(form_from_json(&wrapped), Ok(form.clone()));
        let report =
            format!(r#"{{"format":"sse-dashboard-load-test","summary":{{"form":{text}}}}}"#);
        assert_eq!(form_from_json(&report), Ok(form));
        let partial = form_from_json(r#"{"rate":"3","mode":"constant"}"#).expect("partial");
        assert_eq!((partial.rate.as_str(), partial.total.as_str()), ("3", "50"));
        assert_eq!(
            form_from_json(r#"{"rat":"3"}"#),
            Err("the plan has no field \"rat\"".into())
        );
        assert!(form_from_json(r#"{"summary":{"form":null}}"#).is_err());
        assert!(form_from_json("[1]").is_err());
        assert!(form_from_json("{").is_err_and(|e| e.starts_with("the plan is not JSON")));
    }

    #[test]
    fn an_open_loop_is_bounded_by_its_duration_or_its_cap_never_by_the_hidden_total() {
        let open = |duration: &str, cap: &str, total: &str| LoadForm {
            mode: "constant".into(),
            rate: "20".into(),
            duration_s: duration.into(),
            max_requests: cap.into(),
            total: total.into(),
            ..LoadForm::default()
        };
        let plan = open("5", "", "50").plan().expect("valid");
        assert_eq!((plan.total, plan.max_requests), (MAX_TOTAL, None));
        let plan = open("5", "30", "50").plan().expect("valid");
        assert_eq!((plan.total, plan.max_requests), (30, Some(30)));
        // The closed loop's total, hidden in an open loop, is not checked.
        assert!(open("5", "", "not a number").plan().is_ok());
        assert_eq!(fields(&open("", "", "50")), ["duration"]);
        assert!(open("", "40", "50").plan().is_ok(), "a cap alone bounds it");
        assert_eq!(fields(&open("5", "0", "50")), ["max-requests"]);
        // A closed loop keeps its total and ignores the cap.
        let closed = LoadForm {
            max_requests: "7".into(),
            ..LoadForm::default()
        };
        let plan = closed.plan().expect("valid");
        assert_eq!((plan.total, plan.max_requests), (50, None));
    }

    #[test]
    fn open_loop_slo_and_sweep_fields_make_the_plan() {
        let form = LoadForm {
            mode: "poisson".into(),
            rate: "20".into(),
            duration_s: "5".into(),
            max_in_flight: "64".into(),
            seed: "9".into(),
            slo_ttft_ms: "1000".into(),
            slo_good_pct: "90".into(),
            sweep_steps: "5,10,20".into(),
            step_s: "10".into(),
            warmup_s: "2".into(),
            ..LoadForm::default()
        };
        let plan = form.plan().expect("valid");
        assert_eq!(plan.model, LoadModel::Poisson);
        assert_eq!(
            (
                plan.rate_per_s,
                plan.duration_ms,
                plan.max_in_flight,
                plan.seed
            ),
            (20.0, Some(5_000), 64, 9)
        );
        assert_eq!(
            (plan.slo.ttft_ms, plan.slo.e2e_ms, plan.slo.good_pct),
            (Some(1_000.0), None, 90.0)
        );
        let sweep = plan.sweep.clone().expect("a sweep");
        assert_eq!(
            (sweep.steps.len(), sweep.step_ms, sweep.warmup_ms),
            (3, 10_000, 2_000)
        );
        assert_eq!(plan.step_loads(), [5.0, 10.0, 20.0]);
        let bad = LoadForm {
            mode: "constant".into(),
            rate: "0".into(),
            max_in_flight: "500".into(),
            slo_ttft_ms: "-1".into(),
            slo_good_pct: "150".into(),
            sweep_steps: "10,5".into(),
            ..LoadForm::default()
        };
        assert_eq!(
            fields(&bad),
            [
                "rate",
                "slo-ttft",
                "slo-good",
                "max-in-flight",
                "sweep-steps"
            ]
        );
        let warmup = LoadForm {
            sweep_steps: "1,2".into(),
            step_s: "5".into(),
            warmup_s: "5".into(),
            ..LoadForm::default()
        };
        assert_eq!(fields(&warmup), ["warmup"]);
        assert_eq!(
            fields(&LoadForm {
                mode: "burst".into(),
                ..LoadForm::default()
            }),
            ["mode"]
        );
        assert_eq!(
            fields(&LoadForm {
                mode: "constant".into(),
                rate: " ".into(),
                duration_s: "5".into(),
                ..LoadForm::default()
            }),
            ["rate"]
        );
        // A closed loop ignores the open-loop fields.
        let closed = LoadForm {
            rate: "nonsense".into(),
            ..LoadForm::default()
        };
        assert_eq!(closed.plan().expect("valid").step_loads(), [10.0]);
    }

    #[test]
    fn the_statistics_interval_during_a_run() {
        assert_eq!(
            LoadForm::default().plan().expect("valid").stats_every_ms,
            2_000
        );
        for absurd in ["0", "601", "1e9", "-2", ""] {
            let form = LoadForm {
                stats_every_s: absurd.into(),
                ..LoadForm::default()
            };
            let problems = form.plan().expect_err(absurd);
            assert_eq!(
                problems[0].field.as_deref(),
                Some("stats-every"),
                "{absurd}"
            );
        }
    }

    #[test]
    fn paid_providers_and_the_http1_cap() {
        assert!(!may_cost_money("fake"));
        assert!(!may_cost_money(" Fake "));
        assert!(may_cost_money("openai"));
        assert!(may_cost_money("my-own-llm"));
        assert!(may_cost_money(""));
        assert!(browser_caps_concurrency(Some("http/1.1"), 7));
        assert!(!browser_caps_concurrency(Some("http/1.1"), 6));
        assert!(!browser_caps_concurrency(Some("h2"), 50));
        assert!(
            browser_caps_concurrency(None, 50),
            "unknown: assume the worst"
        );
        assert_eq!(model_suggestions("OpenAI")[0], "gpt-3.5-turbo");
        assert!(model_suggestions("anthropic")[0].starts_with("claude"));
    }
}
