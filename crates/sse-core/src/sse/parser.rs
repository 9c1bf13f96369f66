//! An incremental Server-Sent Events parser.
//!
//! Follows the HTML standard's event-stream interpretation: lines end in LF, CRLF
//! or CR (also when a CR and its LF arrive in different reads); a leading BOM is
//! skipped; `event`, `data` (multi-line, joined with LF), `id` (ignored when it
//! contains NUL) and `retry` (digits only) fields; a line without a colon is a field
//! with an empty value; one space after the colon is removed; an empty line
//! dispatches the event, unless its data is empty. Comments (`:` lines) are
//! reported, because queued requests are kept alive with `: ping` and a load tester
//! wants to see them.
//!
//! Two deliberate differences from the standard, both about bad or cut input:
//! - At end of stream ([`SseParser::finish`]) a pending event that has data is
//!   dispatched, where the standard discards it: a server that closes right after
//!   `data: [DONE]` without the blank line has still said it is done.
//! - Bytes are decoded per line. A line that is not valid UTF-8 makes its event an
//!   error ([`SseError::InvalidUtf8`]) instead of being decoded with replacement
//!   characters: numbers built on mangled text should not be trusted silently.
//!
//! Memory is bounded: a line longer than [`SseLimits::max_line_bytes`] or an event
//! whose data exceeds [`SseLimits::max_event_bytes`] is reported as an error and
//! the rest of it is skipped without being stored.

/// Size bounds of one line and of one event's data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SseLimits {
    pub max_line_bytes: usize,
    pub max_event_bytes: usize,
}

impl Default for SseLimits {
    /// 1 MiB per line and per event: far above any chunk the service sends (a
    /// cached answer arrives as one chunk of up to a few hundred KB).
    fn default() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_event_bytes: 1 << 20,
        }
    }
}

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field; `"message"` when absent.
    pub event: String,
    /// The `data:` lines joined with LF.
    pub data: String,
    /// The last event id seen on the stream so far (ids persist across events).
    pub id: Option<String>,
}

/// What the parser reports, in stream order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseFrame {
    Event(SseEvent),
    /// A comment line's text, without the colon (and without one leading space).
    Comment(String),
}

/// A problem with one line or event; parsing goes on after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SseError {
    /// The event contained a line that is not valid UTF-8; the event is dropped.
    InvalidUtf8 { event: Option<String> },
    /// A line exceeded the limit; it was skipped (its event is dropped).
    LineTooLong { limit: usize },
    /// An event's data exceeded the limit; the event was dropped.
    EventTooLarge { limit: usize },
}

impl std::fmt::Display for SseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::InvalidUtf8 { event: Some(event) } => {
                write!(f, "a \"{event}\" event contained bytes that are not UTF-8")
            }
            Self::InvalidUtf8 { event: None } => {
                write!(f, "an event contained bytes that are not UTF-8")
            }
            Self::LineTooLong { limit } => write!(f, "an SSE line exceeded {limit} bytes"),
            Self::EventTooLarge { limit } => {
                write!(f, "an SSE event exceeded {limit} bytes of data")
            }
        }
    }
}

impl std::error::Error for SseError {}

/// The parser's state between reads.
#[derive(Debug)]
pub struct SseParser {
    limits: SseLimits,
    /// Bytes of the current, not yet terminated line.
    line: Vec<u8>,
    /// The current line is over the limit: skip until its end.
    skipping_line: bool,
    /// The previous read ended in CR: an LF at the start of the next is part of it.
    after_cr: bool,
    /// Nothing has been read yet (a BOM may come).
    at_start: bool,
    /// Bytes of a possible BOM seen at the very start.
    bom_seen: usize,
    event_type: Option<String>,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    /// The current event is already broken; report this at its end.
    event_error: Option<SseError>,
    retry_ms: Option<u64>,
}

const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

impl Default for SseParser {
    fn default() -> Self {
        Self::new(SseLimits::default())
    }
}

impl SseParser {
    pub fn new(limits: SseLimits) -> Self {
        Self {
            limits,
            line: Vec::new(),
            skipping_line: false,
            after_cr: false,
            at_start: true,
            bom_seen: 0,
            event_type: None,
            data: String::new(),
            has_data: false,
            last_id: None,
            event_error: None,
            retry_ms: None,
        }
    }

    /// The reconnection time the server last asked for with `retry:`.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feeds the next bytes of the stream, in pieces of any size.
    pub fn feed(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if self.at_start {
            // Skip a UTF-8 BOM, which may itself arrive split across reads.
            while self.bom_seen < BOM.len() {
                match bytes.first() {
                    None => return,
                    Some(&b) if b == BOM[self.bom_seen] => {
                        self.bom_seen += 1;
                        bytes = &bytes[1..];
                    }
                    Some(_) => {
                        // Not a BOM after all: the bytes taken so far are content.
                        let taken = BOM[..self.bom_seen].to_vec();
                        self.at_start = false;
                        self.feed_lines(&taken, emit);
                        break;
                    }
                }
            }
            self.at_start = false;
        }
        self.feed_lines(bytes, emit);
    }

    /// Ends the stream: a last line without a line end is processed, and a pending
    /// event with data is dispatched (see the module notes).
    pub fn finish(&mut self, emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if self.at_start && self.bom_seen > 0 {
            let taken = BOM[..self.bom_seen].to_vec();
            self.at_start = false;
            self.feed_lines(&taken, emit);
        }
        if !self.line.is_empty() || self.skipping_line {
            self.end_line(emit);
        }
        if self.has_data || self.event_error.is_some() {
            self.dispatch(emit);
        }
        self.after_cr = false;
    }

    /// Convenience for tests and tools: all frames of a complete byte stream.
    pub fn parse_all(bytes: &[u8], limits: SseLimits) -> Vec<Result<SseFrame, SseError>> {
        let mut parser = Self::new(limits);
        let mut out = Vec::new();
        parser.feed(bytes, &mut |frame| out.push(frame));
        parser.finish(&mut |frame| out.push(frame));
        out
    }

    fn feed_lines(&mut self, mut bytes: &[u8], emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if self.after_cr {
            self.after_cr = false;
            if bytes.first() == Some(&b'\n') {
                bytes = &bytes[1..];
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', bytes) {
            let line = &bytes[..pos];
            if self.line.is_empty()
                && !self.skipping_line
                && line.len() <= self.limits.max_line_bytes
            {
                // The whole line is in this piece: no copy into the line buffer.
                self.complete_line(line, emit);
            } else {
                self.append_to_line(line, emit);
                self.end_line(emit);
            }
            if bytes[pos] == b'\r' {
                match bytes.get(pos + 1) {
                    Some(b'\n') => bytes = &bytes[pos + 2..],
                    Some(_) => bytes = &bytes[pos + 1..],
                    None => {
                        self.after_cr = true;
                        return;
                    }
                }
            } else {
                bytes = &bytes[pos + 1..];
            }
        }
        self.append_to_line(bytes, emit);
    }

    fn append_to_line(&mut self, part: &[u8], emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if self.skipping_line || part.is_empty() {
            return;
        }
        if self.line.len() + part.len() > self.limits.max_line_bytes {
            self.line.clear();
            self.skipping_line = true;
            let error = SseError::LineTooLong {
                limit: self.limits.max_line_bytes,
            };
            // Report once, now; the event this line belongs to is dropped.
            emit(Err(error.clone()));
            self.event_error.get_or_insert(error);
            return;
        }
        self.line.extend_from_slice(part);
    }

    fn end_line(&mut self, emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if self.skipping_line {
            self.skipping_line = false;
            return;
        }
        let line = std::mem::take(&mut self.line);
        self.complete_line(&line, emit);
        // Keep the buffer's capacity for the next line.
        self.line = line;
        self.line.clear();
    }

    fn complete_line(&mut self, line: &[u8], emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        if line.is_empty() {
            self.dispatch(emit);
        } else {
            self.process_line(line, emit);
        }
    }

    fn process_line(&mut self, line: &[u8], emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        let Ok(line) = std::str::from_utf8(line) else {
            self.event_error.get_or_insert(SseError::InvalidUtf8 {
                event: self.event_type.clone(),
            });
            return;
        };
        let (field, value) = match line.find(':') {
            Some(0) => {
                let comment = &line[1..];
                emit(Ok(SseFrame::Comment(
                    comment.strip_prefix(' ').unwrap_or(comment).to_owned(),
                )));
                return;
            }
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(' ').unwrap_or(value))
            }
            None => (line, ""),
        };
        match field {
            "event" => self.event_type = Some(value.to_owned()),
            "data" => {
                if self.event_error.is_some() {
                    return;
                }
                let added = value.len() + usize::from(self.has_data);
                if self.data.len() + added > self.limits.max_event_bytes {
                    self.data.clear();
                    self.event_error = Some(SseError::EventTooLarge {
                        limit: self.limits.max_event_bytes,
                    });
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, emit: &mut impl FnMut(Result<SseFrame, SseError>)) {
        let event_type = self.event_type.take();
        let has_data = std::mem::take(&mut self.has_data);
        if let Some(error) = self.event_error.take() {
            self.data.clear();
            // Line-length errors were reported when they happened.
            if !matches!(error, SseError::LineTooLong { .. }) {
                emit(Err(error));
            }
            return;
        }
        if !has_data {
            return;
        }
        emit(Ok(SseFrame::Event(SseEvent {
            event: event_type
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| "message".to_owned()),
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        })));
    }
}
