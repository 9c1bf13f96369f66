//! `POST /stream`: the request body, its client-side validation, and the typed
//! events of the answer's event stream.

use crate::field_message::FieldMessage;

use serde::{Deserialize, Serialize};

use crate::sse::{SseEvent, SseFrame};

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

/// One item of a `/stream` answer.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    Status(StatusData),
    Chunk(ChunkData),
    Complete(CompleteData),
    Error(ErrorData),
    /// `data: [DONE]`, the end of a stream.
    Done,
    /// A comment line such as `: ping` (sent while a request waits in the queue).
    Comment(String),
    /// An event type this client does not know, kept as it came.
    Unknown {
        event: String,
        data: String,
    },
}

/// An event whose data is not what its type promises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError {
    pub event: String,
    pub message: String,
}

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "malformed \"{}\" event: {}", self.event, self.message)
    }
}

impl std::error::Error for DecodeError {}

impl StreamEvent {
    /// Turns one parsed SSE frame into a typed event.
    pub fn decode(frame: SseFrame) -> Result<Self, DecodeError> {
        match frame {
            SseFrame::Comment(text) => Ok(Self::Comment(text)),
            SseFrame::Event(event) => Self::decode_event(event),
        }
    }

    fn decode_event(SseEvent { event, data, .. }: SseEvent) -> Result<Self, DecodeError> {
        fn json<T: for<'de> Deserialize<'de>>(event: &str, data: &str) -> Result<T, DecodeError> {
            serde_json::from_str(data).map_err(|e| DecodeError {
                event: event.to_owned(),
                message: e.to_string(),
            })
        }
        if data.trim() == "[DONE]" {
            return Ok(Self::Done);
        }
        Ok(match event.as_str() {
            "status" => Self::Status(json(&event, &data)?),
            "chunk" => Self::Chunk(json(&event, &data)?),
            "complete" => Self::Complete(json(&event, &data)?),
            "error" => Self::Error(json(&event, &data)?),
            _ => Self::Unknown { event, data },
        })
    }
}
