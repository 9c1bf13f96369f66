//! Error bodies of the service, turned into sentences a person can act on.
//!
//! Three shapes occur: FastAPI's validation answer (422)
//! `{"detail":[{"type","loc","msg","input"}]}`, a plain `{"detail":"..."}` (500),
//! and the overload answers `{"error":"rate_limit_exceeded","message":"...","retry_after":60}`
//! (429) / `{"error":"service_unavailable",...}` (503).

use serde::{Deserialize, Serialize};

/// One entry of FastAPI's `detail` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationIssue {
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Where the problem is, e.g. `["body", "USE_FAKE_LLM"]` or `["body", 0]`.
    #[serde(default)]
    pub loc: Vec<serde_json::Value>,
    #[serde(default)]
    pub msg: String,
    #[serde(default)]
    pub input: Option<serde_json::Value>,
}

impl ValidationIssue {
    /// The field the issue is about: the last `loc` part after `body`, or `None`
    /// when it concerns the whole body (e.g. malformed JSON).
    pub fn field(&self) -> Option<String> {
        let parts: Vec<String> = self
            .loc
            .iter()
            .skip_while(|part| part.as_str() == Some("body"))
            .map(|part| match part {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join("."))
    }

    /// `"Input should be a valid boolean, unable to interpret input (got \"notabool\")"`.
    pub fn sentence(&self) -> String {
        let msg = if self.msg.is_empty() {
            &self.kind
        } else {
            &self.msg
        };
        match &self.input {
            Some(serde_json::Value::String(s)) if s.chars().count() <= 60 => {
                format!("{msg} (got \"{s}\")")
            }
            Some(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => {
                format!("{msg} (got {v})")
            }
            _ => msg.to_owned(),
        }
    }
}

pub use crate::contract::field_message::FieldMessage;

/// Why a request to the service did not give a usable answer: the one error
/// type of every API call (health checks included).
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// The request did not complete (connection refused, DNS, CORS, ...).
    Network(String),
    /// No answer within the request's time limit.
    Timeout { after_ms: u32 },
    /// An answer with a non-2xx status.
    Http { status: u16, body: ApiErrorBody },
    /// A 2xx answer whose body is not what the route returns.
    Decode(String),
    /// The browser refused to build the request (a header value it cannot carry).
    Request(String),
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Network(detail) => write!(f, "The service could not be reached ({detail})."),
            Self::Timeout { after_ms } => write!(
                f,
                "The service did not answer within {:.0} s.",
                f64::from(*after_ms) / 1000.0
            ),
            Self::Http { status: 401, .. } => write!(
                f,
                "The service wants an admin token (HTTP 401): set it in Settings."
            ),
            Self::Http {
                status,
                body: body @ ApiErrorBody::Markup { .. },
            } => write!(f, "HTTP {status} {}", body.summary()),
            Self::Http { status, body } => {
                write!(f, "The service answered HTTP {status}: {}", body.summary())
            }
            Self::Decode(detail) => write!(f, "The service's answer could not be read: {detail}"),
            Self::Request(detail) => write!(f, "The request was not sent: {detail}"),
        }
    }
}

impl std::error::Error for ApiError {}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Detail {
    Issues(Vec<ValidationIssue>),
    Text(String),
}

#[derive(Debug, Deserialize)]
struct DetailBody {
    detail: Detail,
}

#[derive(Debug, Deserialize)]
struct OverloadBody {
    error: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    retry_after: Option<u64>,
}

/// An error answer of the service, decoded as far as its body allows.
#[derive(Debug, Clone, PartialEq)]
pub enum ApiErrorBody {
    /// FastAPI validation errors, one per problem.
    Validation(Vec<ValidationIssue>),
    /// `{"detail":"..."}`.
    Detail(String),
    /// `{"error":kind,"message":...}` (429, 503, ...).
    Error {
        kind: String,
        message: Option<String>,
        retry_after_s: Option<u64>,
    },
    /// An HTML page (a proxy's error page, e.g. nginx's 502): its `<title>`,
    /// never the markup itself.
    Markup { title: Option<String> },
    /// Anything else (an empty body, plain text, ...).
    Unrecognised(String),
}

/// What an HTML page says of itself, bounded: its first `<title>`, else its
/// text without the tags.
fn html_title(page: &str) -> Option<String> {
    let lower = page.to_ascii_lowercase();
    let titled = lower.find("<title>").and_then(|at| {
        let start = at + "<title>".len();
        let end = start + lower[start..].find("</title>")?;
        page.get(start..end)
    });
    let text = match titled {
        Some(title) => title.to_owned(),
        None => {
            let mut text = String::new();
            let mut in_tag = false;
            for c in page.chars().take(4_096) {
                match c {
                    '<' => in_tag = true,
                    '>' => {
                        in_tag = false;
                        text.push(' ');
                    }
                    c if !in_tag => text.push(c),
                    _ => {}
                }
            }
            text
        }
    };
    let text = crate::format::display_text(&text, 80);
    (!text.is_empty()).then_some(text)
}

impl ApiErrorBody {
    pub fn parse(body: &str) -> Self {
        if let Ok(DetailBody { detail }) = serde_json::from_str::<DetailBody>(body) {
            return match detail {
                Detail::Issues(issues) => Self::Validation(issues),
                Detail::Text(text) => Self::Detail(text),
            };
        }
        if let Ok(body) = serde_json::from_str::<OverloadBody>(body) {
            return Self::Error {
                kind: body.error,
                message: body.message,
                retry_after_s: body.retry_after,
            };
        }
        let trimmed = body.trim_start();
        if trimmed.starts_with('<') {
            return Self::Markup {
                title: html_title(trimmed),
            };
        }
        Self::Unrecognised(crate::format::display_text(body, 200))
    }

    /// Per-field messages (validation), or one message for the whole request.
    pub fn field_messages(&self) -> Vec<FieldMessage> {
        match self {
            Self::Validation(issues) => issues
                .iter()
                .map(|issue| FieldMessage {
                    field: issue.field(),
                    message: issue.sentence(),
                })
                .collect(),
            other => vec![FieldMessage {
                field: None,
                message: other.summary(),
            }],
        }
    }

    /// One line for the whole answer.
    pub fn summary(&self) -> String {
        match self {
            Self::Validation(issues) => issues
                .iter()
                .map(|issue| match issue.field() {
                    Some(field) => format!("{field}: {}", issue.sentence()),
                    None => issue.sentence(),
                })
                .collect::<Vec<_>>()
                .join("; "),
            Self::Detail(text) => text.clone(),
            Self::Error {
                kind,
                message,
                retry_after_s,
            } => {
                let mut text = message.clone().unwrap_or_else(|| kind.clone());
                if let Some(seconds) = retry_after_s {
                    text.push_str(&format!(" (retry after {seconds} s)"));
                }
                text
            }
            Self::Markup { title: Some(title) } => {
                format!("(an HTML page \"{title}\", probably from a proxy in front of the service)")
            }
            Self::Markup { title: None } => {
                "(an HTML page, probably from a proxy in front of the service)".into()
            }
            Self::Unrecognised(text) if text.is_empty() => "no error message in the answer".into(),
            Self::Unrecognised(text) => text.clone(),
        }
    }

    /// A short stable word for grouping failures (`rate_limit_exceeded`, `validation`, ...).
    pub fn kind(&self) -> String {
        match self {
            Self::Validation(_) => "validation".into(),
            Self::Detail(_) => "detail".into(),
            Self::Error { kind, .. } => kind.clone(),
            Self::Markup { .. } => "html_page".into(),
            Self::Unrecognised(_) => "unrecognised".into(),
        }
    }
}
