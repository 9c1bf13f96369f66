//! The typed events of a `/stream` answer, decoded from the SSE parser's
//! frames (the payload types are the contract's, `crate::contract::stream`).

use serde::Deserialize;

use super::parser::{SseEvent, SseFrame};
use crate::contract::stream::{ChunkData, CompleteData, ErrorData, StatusData};

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
