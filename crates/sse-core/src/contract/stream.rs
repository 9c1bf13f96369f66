//! `POST /stream`: the request body with the service's own validation, and
//! the JSON payloads of the answer's events (`status`, `chunk`, `complete`,
//! `error`). How a stream's frames become these events is the sse domain's job (`sse::stream`).

use serde::{Deserialize, Serialize};

use super::field_message::FieldMessage;

/// Limits of the service's validation (shared/contract.md).
pub const QUERY_MAX_CHARS: usize = 100_000;

/// The JSON body of `POST /stream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamRequest {
    pub query: String,
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

impl StreamRequest {
    /// The problems the service's own validation would answer with a 422.
    pub fn problems(&self) -> Vec<FieldMessage> {
        let mut problems = Vec::new();
        let query_chars = self.query.chars().count();
        if query_chars == 0 {
            problems.push(FieldMessage {
                field: Some("query".into()),
                message: "The prompt must not be empty.".into(),
            });
        } else if query_chars > QUERY_MAX_CHARS {
            problems.push(FieldMessage {
                field: Some("query".into()),
                message: format!("The prompt has {query_chars} characters; the service accepts at most {QUERY_MAX_CHARS}."),
            });
        }
        if self.model.trim().is_empty() {
            problems.push(FieldMessage {
                field: Some("model".into()),
                message: "The model must not be blank.".into(),
            });
        }
        if self
            .provider
            .as_deref()
            .is_some_and(|p| p.trim().is_empty())
        {
            problems.push(FieldMessage {
                field: Some("provider".into()),
                message: "The provider must not be blank (leave it out to use the default).".into(),
            });
        }
        problems
    }
}

/// `event: status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusData {
    pub status: String,
    #[serde(default)]
    pub thread_id: Option<String>,
}

/// `event: chunk`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkData {
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_index: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Present (true) on the single chunk of a cache hit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// `event: complete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompleteData {
    #[serde(default)]
    pub thread_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunk_count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_length: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cached: bool,
}

/// `event: error`: the request failed although its HTTP status was 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorData {
    /// The kind, e.g. `"Queue timeout - server busy"` or `"provider_error"`.
    pub error: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub thread_id: Option<String>,
}
