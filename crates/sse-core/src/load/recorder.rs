//! One `/stream` request from send to end: what happened and when.
//!
//! The caller supplies every timestamp (milliseconds on any monotonic clock, e.g.
//! `performance.now()`), so this code does no I/O and is tested natively.
//!
//! Definitions (also shown to users):
//! - **TTFT**: request sent -> first chunk with non-empty content.
//! - **ITL**: each gap between consecutive content chunks of one request.
//! - **E2E**: request sent -> stream finished: the first `complete` event or
//!   `[DONE]`, or else the moment the request ended (error, cut, timeout, abort).
//! - **TPOT**: (E2E - TTFT) / (output tokens - 1), for requests with more than one token.
//! - **Output tokens** are estimated from the text, not counted from events (a
//!   chunk is not a token): `ceil(characters / 4)`, the usual rule of thumb for
//!   English with GPT-style tokenizers. It is an approximation and labelled so.

use crate::contract::api_error::ApiErrorBody;
use crate::sse::stream::StreamEvent;

/// Estimated tokens in `chars` characters of output (see the module notes).
pub fn estimate_tokens(chars: u64) -> u64 {
    chars.div_ceil(4)
}

/// How a request ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `complete` or `[DONE]` arrived, and no `error` event.
    Completed,
    /// A non-2xx answer.
    HttpStatus {
        status: u16,
        kind: String,
        message: String,
    },
    /// An `error` event inside a 200 stream.
    StreamError { kind: String, message: String },
    /// The stream had events this client could not read.
    Malformed { message: String },
    /// The connection failed (refused, reset, DNS, ...).
    Network { message: String },
    /// The stream ended without `complete`/`[DONE]`.
    EndedEarly,
    /// The request exceeded its time limit.
    TimedOut { after_ms: u64 },
    /// Stopped by the user; neither a success nor a failure.
    Aborted,
}

impl Outcome {
    /// A stable word for grouping: `completed`, `http_status`, `stream_error`,
    /// `malformed`, `network`, `ended_early`, `timed_out`, `aborted`.
    pub fn key(&self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::HttpStatus { .. } => "http_status",
            Self::StreamError { .. } => "stream_error",
            Self::Malformed { .. } => "malformed",
            Self::Network { .. } => "network",
            Self::EndedEarly => "ended_early",
            Self::TimedOut { .. } => "timed_out",
            Self::Aborted => "aborted",
        }
    }

    pub fn is_failure(&self) -> bool {
        !matches!(self, Self::Completed | Self::Aborted)
    }

    /// The kind used to group failures: the error event's kind, the HTTP status'
    /// body kind, or the outcome key.
    pub fn failure_kind(&self) -> Option<String> {
        match self {
            Self::Completed | Self::Aborted => None,
            Self::HttpStatus { status, kind, .. } => Some(format!("http_{status}:{kind}")),
            Self::StreamError { kind, .. } => Some(kind.clone()),
            other => Some(other.key().to_owned()),
        }
    }

    /// A sentence for people.
    pub fn message(&self) -> String {
        match self {
            Self::Completed => "completed".into(),
            Self::HttpStatus {
                status, message, ..
            } => format!("HTTP {status}: {message}"),
            Self::StreamError { kind, message } if message.is_empty() => {
                format!("error event: {kind}")
            }
            Self::StreamError { kind, message } => format!("error event {kind}: {message}"),
            Self::Malformed { message } => format!("unreadable stream: {message}"),
            Self::Network { message } => format!("network error: {message}"),
            Self::EndedEarly => "the stream ended before `complete` or `[DONE]`".into(),
            Self::TimedOut { after_ms } => format!("no end of stream within {after_ms} ms"),
            Self::Aborted => "stopped by the user".into(),
        }
    }
}

/// Everything measured about one request.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub sent_at_ms: f64,
    pub headers_at_ms: Option<f64>,
    pub status: Option<u16>,
    pub resilience_layer: Option<String>,
    pub thread_id: Option<String>,
    pub ttft_ms: Option<f64>,
    /// Gaps between consecutive content chunks (ITL samples).
    pub inter_chunk_gaps_ms: Vec<f64>,
    pub e2e_ms: f64,
    /// When the request ended, on the caller's clock.
    pub ended_at_ms: f64,
    pub chunk_count: u64,
    pub output_chars: u64,
    pub output_tokens: u64,
    pub cache_hit: bool,
    pub comments: u64,
    pub outcome: Outcome,
    /// Time the request waited inside the browser before it was sent
    /// (Resource Timing `requestStart - startTime`), where the browser tells.
    pub browser_queue_ms: Option<f64>,
    /// The protocol the request used (`h2`, `http/1.1`), where the browser tells.
    pub protocol: Option<String>,
    /// The instance that served it (`x-instance-id`, else `x-upstream-addr`;
    /// see [`crate::contract::instances::attribution`]), when the answer said.
    pub instance: Option<String>,
    /// When an open loop meant to send it (same clock as `sent_at_ms`); `None`
    /// in a closed loop, where the intended start is the send.
    pub intended_at_ms: Option<f64>,
}

impl RequestRecord {
    /// How late it was sent after its intended start (open loop only).
    pub fn lateness_ms(&self) -> Option<f64> {
        self.intended_at_ms.map(|i| (self.sent_at_ms - i).max(0.0))
    }

    /// What the SLO targets judge: TTFT and E2E from the intended start.
    pub fn latencies(&self) -> crate::load::slo::RequestLatencies {
        let late = self.lateness_ms().unwrap_or(0.0);
        crate::load::slo::RequestLatencies {
            completed: self.outcome == Outcome::Completed,
            ttft_ms: self.ttft_ms.map(|t| t + late),
            e2e_ms: self.e2e_ms + late,
            tpot_ms: self.tpot_ms(),
        }
    }

    /// TPOT (see the module notes); `None` with fewer than two tokens or no TTFT.
    pub fn tpot_ms(&self) -> Option<f64> {
        let ttft = self.ttft_ms?;
        (self.output_tokens > 1)
            .then(|| (self.e2e_ms - ttft).max(0.0) / (self.output_tokens - 1) as f64)
    }
}

/// Collects a request's events and decides its outcome.
#[derive(Debug, Clone)]
pub struct RequestRecorder {
    record: RequestRecord,
    last_content_at: Option<f64>,
    finished_at: Option<f64>,
    error: Option<Outcome>,
    malformed: Option<String>,
}

impl RequestRecorder {
    pub fn new(sent_at_ms: f64) -> Self {
        Self {
            record: RequestRecord {
                sent_at_ms,
                headers_at_ms: None,
                status: None,
                resilience_layer: None,
                thread_id: None,
                ttft_ms: None,
                inter_chunk_gaps_ms: Vec::new(),
                e2e_ms: 0.0,
                ended_at_ms: sent_at_ms,
                chunk_count: 0,
                output_chars: 0,
                output_tokens: 0,
                cache_hit: false,
                comments: 0,
                outcome: Outcome::EndedEarly,
                browser_queue_ms: None,
                protocol: None,
                instance: None,
                intended_at_ms: None,
            },
            last_content_at: None,
            finished_at: None,
            error: None,
            malformed: None,
        }
    }

    /// The response headers arrived.
    pub fn on_headers(
        &mut self,
        at_ms: f64,
        status: u16,
        resilience_layer: Option<String>,
        thread_id: Option<String>,
    ) {
        self.record.headers_at_ms = Some(at_ms);
        self.record.status = Some(status);
        self.record.resilience_layer = resilience_layer;
        self.record.thread_id = thread_id;
    }

    /// Which instance served the request (from its answer's headers).
    pub fn on_instance(&mut self, instance: Option<String>) {
        self.record.instance = instance;
    }

    /// One decoded event of the stream.
    pub fn on_event(&mut self, at_ms: f64, event: &StreamEvent) {
        match event {
            StreamEvent::Chunk(chunk) => {
                self.record.chunk_count += 1;
                self.record.cache_hit |= chunk.cached;
                if chunk.content.is_empty() {
                    return;
                }
                self.record.output_chars += chunk.content.chars().count() as u64;
                match self.last_content_at {
                    None => self.record.ttft_ms = Some(at_ms - self.record.sent_at_ms),
                    Some(previous) => self.record.inter_chunk_gaps_ms.push(at_ms - previous),
                }
                self.last_content_at = Some(at_ms);
            }
            StreamEvent::Complete(complete) => {
                self.record.cache_hit |= complete.cached;
                if self.record.thread_id.is_none() {
                    self.record.thread_id.clone_from(&complete.thread_id);
                }
                self.finished_at.get_or_insert(at_ms);
            }
            StreamEvent::Done => {
                self.finished_at.get_or_insert(at_ms);
            }
            StreamEvent::Error(error) => {
                self.error.get_or_insert(Outcome::StreamError {
                    kind: error.error.clone(),
                    message: error.message.clone().unwrap_or_default(),
                });
            }
            StreamEvent::Comment(_) => self.record.comments += 1,
            StreamEvent::Status(_) | StreamEvent::Unknown { .. } => {}
        }
    }

    /// An event that could not be parsed or decoded; the request will count as failed.
    /// Output characters received so far (for live counters).
    pub fn output_chars(&self) -> u64 {
        self.record.output_chars
    }

    pub fn on_malformed(&mut self, message: String) {
        self.malformed.get_or_insert(message);
    }

    fn finish(mut self, at_ms: f64, ending: Outcome) -> RequestRecord {
        // Precedence: stopping before the end is an abort; then a reported error;
        // then an unreadable event (the numbers of such a stream are not trusted);
        // then a completion marker (a cut after `complete` still delivered the
        // whole answer); otherwise how the request ended.
        let outcome = match (self.error.take(), self.malformed.take(), self.finished_at) {
            _ if matches!(ending, Outcome::Aborted) && self.finished_at.is_none() => {
                Outcome::Aborted
            }
            (Some(error), _, _) => error,
            (None, Some(message), _) => Outcome::Malformed { message },
            (None, None, Some(_)) => Outcome::Completed,
            (None, None, None) => ending,
        };
        let end = self.finished_at.unwrap_or(at_ms);
        self.record.e2e_ms = (end - self.record.sent_at_ms).max(0.0);
        self.record.ended_at_ms = at_ms;
        self.record.output_tokens = estimate_tokens(self.record.output_chars);
        self.record.outcome = outcome;
        self.record
    }

    /// The body was read to its end.
    pub fn finish_stream_end(self, at_ms: f64) -> RequestRecord {
        self.finish(at_ms, Outcome::EndedEarly)
    }

    /// The answer had a non-2xx status; `body` is its text.
    pub fn finish_http_status(mut self, at_ms: f64, status: u16, body: &str) -> RequestRecord {
        let parsed = ApiErrorBody::parse(body);
        self.record.status = Some(status);
        self.finish(
            at_ms,
            Outcome::HttpStatus {
                status,
                kind: parsed.kind(),
                message: parsed.summary(),
            },
        )
    }

    pub fn finish_network_error(self, at_ms: f64, message: String) -> RequestRecord {
        self.finish(at_ms, Outcome::Network { message })
    }

    pub fn finish_timeout(self, at_ms: f64, after_ms: u64) -> RequestRecord {
        self.finish(at_ms, Outcome::TimedOut { after_ms })
    }

    pub fn finish_aborted(self, at_ms: f64) -> RequestRecord {
        self.finish(at_ms, Outcome::Aborted)
    }
}
