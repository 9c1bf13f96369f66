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

/// A readable message for one field, or for the whole request (`field: None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMessage {
    pub field: Option<String>,
    pub message: String,
}

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
    /// Anything else (an HTML error page of a proxy, an empty body, ...).
    Unrecognised(String),
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
        Self::Unrecognised(body.trim().chars().take(200).collect())
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
            Self::Unrecognised(_) => "unrecognised".into(),
        }
    }
}
