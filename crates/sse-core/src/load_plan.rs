//! The load tester's form: what the user typed, checked field by field, and the
//! plan a valid form makes (what the engine runs).

use crate::stream::StreamRequest;

pub const DEFAULT_PROMPT: &str = "Write a short poem about performance testing.";
pub const DEFAULT_MODEL: &str = "gpt-3.5-turbo";
pub const DEFAULT_PROVIDER: &str = "fake";
pub const MAX_CONCURRENCY: u32 = 50;
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

/// The form as typed.
#[derive(Debug, Clone, PartialEq)]
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
        }
    }
}

/// A form field (`prompt`, `provider`, `model`, `concurrency`, `total` or
/// `timeout`) and what is wrong with it.
pub use crate::field_message::FieldMessage as FormProblem;

/// What a valid form runs.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadPlan {
    pub request: StreamRequest,
    pub concurrency: u32,
    pub total: u64,
    pub timeout_ms: u64,
    pub user_per_worker: bool,
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

impl LoadForm {
    /// The plan, or every problem of the form (at most one per field).
    pub fn plan(&self) -> Result<LoadPlan, Vec<FormProblem>> {
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
            u64::from(MAX_CONCURRENCY),
        );
        let total = whole_number("total", "Total requests", &self.total, 1, MAX_TOTAL);
        let timeout = whole_number("timeout", "The timeout", &self.timeout_s, 1, MAX_TIMEOUT_S);
        let (concurrency, total, timeout) = match (concurrency, total, timeout) {
            (Ok(c), Ok(t), Ok(s)) if problems.is_empty() => (c, t, s),
            (c, t, s) => {
                problems.extend([c.err(), t.err(), s.err()].into_iter().flatten());
                return Err(problems);
            }
        };
        Ok(LoadPlan {
            request,
            // Never more in flight than there are requests.
            concurrency: concurrency.min(total) as u32,
            total,
            timeout_ms: timeout * 1000,
            user_per_worker: self.user_per_worker,
        })
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
            concurrency: "51".into(),
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
                "Concurrency must be from 1 to 50; 51 is out of range.",
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
