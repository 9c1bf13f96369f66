//! Where a request's time went: the load tester's own measurements of each
//! request joined, by thread id, to the service's record of the same request
//! (`GET /admin/load-stats?requests=true`, offered by the reference backend;
//! the original service keeps none).
//!
//! Two clocks meet here: the page's (epoch ms = `performance.timeOrigin` +
//! `performance.now()`) and the service's. Durations measured on one clock
//! (the parts of a TTFT) never need the other; placing the service's events on
//! the page's time axis (the waterfall) does, and uses [`ClockOffset`], which is
//! estimated from the requests themselves and always shown.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::contract::execution_stats::stage_name;
use crate::load::request_row::{RequestRow, ServerParts};
use crate::metrics::TtftPart;

/// Records of one service, kept by thread id.
pub const MAX_RECORDS: usize = 20_000;

/// One stage of one request, as the service timed it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerStage {
    pub stage: String,
    pub started_at_ms: f64,
    pub duration_ms: f64,
}

/// The service's record of one request (epoch ms on the service's clock).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct ServerRecord {
    #[serde(default)]
    pub seq: Option<u64>,
    pub thread_id: String,
    #[serde(default)]
    pub instance_id: Option<String>,
    pub accepted_at_ms: f64,
    #[serde(default)]
    pub queued_at_ms: Option<f64>,
    #[serde(default)]
    pub queue_wait_ms: Option<f64>,
    #[serde(default)]
    pub stages: Vec<ServerStage>,
    #[serde(default)]
    pub provider_first_token_at_ms: Option<f64>,
    #[serde(default)]
    pub first_chunk_at_ms: Option<f64>,
    #[serde(default)]
    pub finished_at_ms: Option<f64>,
}

impl ServerRecord {
    fn stage(&self, id: &str) -> Option<&ServerStage> {
        self.stages.iter().find(|s| s.stage == id)
    }

    /// Accepted to first chunk sent, on the service's clock.
    pub fn server_ttft_ms(&self) -> Option<f64> {
        Some(self.first_chunk_at_ms? - self.accepted_at_ms)
    }

    /// Stage 5's start to the provider's first token; 0 when the stages say
    /// the provider was never called (a cache hit); `None` when unknown.
    pub fn provider_first_token_ms(&self) -> Option<f64> {
        match (self.stage("5"), self.provider_first_token_at_ms) {
            (Some(stage), Some(token)) => Some(token - stage.started_at_ms),
            (None, None) if !self.stages.is_empty() && self.stage("2").is_some() => Some(0.0),
            _ => None,
        }
    }

    fn is_sane(&self) -> bool {
        let times = [
            Some(self.accepted_at_ms),
            self.queued_at_ms,
            self.queue_wait_ms,
            self.provider_first_token_at_ms,
            self.first_chunk_at_ms,
            self.finished_at_ms,
        ];
        times.iter().flatten().all(|t| t.is_finite() && *t >= 0.0)
            && self
                .stages
                .iter()
                .all(|s| s.started_at_ms.is_finite() && s.duration_ms.is_finite())
            && self
                .first_chunk_at_ms
                .is_none_or(|f| f >= self.accepted_at_ms)
    }
}

/// What one `/admin/load-stats?requests=true` answer held.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadStatsAnswer {
    /// `None`: the answer has no per-request records at all.
    pub records: Option<Vec<ServerRecord>>,
    pub last_seq: Option<u64>,
    /// Records that could not be read (missing or impossible fields).
    pub unreadable: usize,
}

/// Reads a load-stats answer; `Err` says why it is not one.
pub fn parse_load_stats(body: &str) -> Result<LoadStatsAnswer, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("the load statistics are not JSON ({e})"))?;
    let object = value
        .as_object()
        .ok_or("the load statistics are not a JSON object")?;
    let last_seq = object.get("last_seq").and_then(serde_json::Value::as_u64);
    let Some(list) = object.get("requests") else {
        return Ok(LoadStatsAnswer {
            records: None,
            last_seq,
            unreadable: 0,
        });
    };
    let list = list.as_array().ok_or("`requests` is not a list")?;
    let mut unreadable = 0;
    let records = list
        .iter()
        .filter_map(|item| {
            let record = ServerRecord::deserialize(item)
                .ok()
                .filter(ServerRecord::is_sane);
            unreadable += usize::from(record.is_none());
            record
        })
        .collect();
    Ok(LoadStatsAnswer {
        records: Some(records),
        last_seq,
        unreadable,
    })
}

/// Whether the service offers per-request records.
#[derive(Debug, Clone, PartialEq)]
pub enum ServerSide {
    /// Not asked yet, or no answer yet.
    Unknown,
    Offered,
    /// Why not, in words (no such route, no `requests` in the answer, ...).
    NotOffered(String),
}

/// The service's records of a run's requests, as they arrive from one or
/// more sources (an address each: one instance, or a balancer).
#[derive(Debug, Clone)]
pub struct ServerRecords {
    pub side: ServerSide,
    by_thread: HashMap<String, ServerRecord>,
    /// Per source, the newest `seq` seen: its next poll asks for records
    /// after it (each instance counts on its own).
    cursors: BTreeMap<String, u64>,
    pub unreadable: usize,
}

impl Default for ServerRecords {
    fn default() -> Self {
        Self {
            side: ServerSide::Unknown,
            by_thread: HashMap::new(),
            cursors: BTreeMap::new(),
            unreadable: 0,
        }
    }
}

impl ServerRecords {
    /// The `after` of `source`'s next poll.
    pub fn after(&self, source: &str) -> u64 {
        self.cursors.get(source).copied().unwrap_or(0)
    }

    /// Where `source`'s records of the run start: its newest `seq` before it.
    pub fn baseline(&mut self, source: &str, last_seq: Option<u64>) {
        self.cursors
            .insert(source.to_owned(), last_seq.unwrap_or(0));
    }

    /// Adds an answer's records (from the only source).
    pub fn merge(&mut self, answer: LoadStatsAnswer) {
        self.merge_from("", answer);
    }

    /// Adds an answer of `source`.
    pub fn merge_from(&mut self, source: &str, answer: LoadStatsAnswer) {
        self.unreadable += answer.unreadable;
        let cursor = self.cursors.entry(source.to_owned()).or_insert(0);
        if let Some(seq) = answer.last_seq {
            *cursor = (*cursor).max(seq);
        }
        let Some(records) = answer.records else {
            self.not_offered("the service's /admin/load-stats has no per-request records".into());
            return;
        };
        for record in &records {
            *cursor = (*cursor).max(record.seq.unwrap_or(0));
        }
        self.side = ServerSide::Offered;
        for record in records {
            if self.by_thread.len() < MAX_RECORDS || self.by_thread.contains_key(&record.thread_id)
            {
                self.by_thread.insert(record.thread_id.clone(), record);
            }
        }
    }

    /// The service cannot be asked (no route, an error answer, a broken body).
    pub fn not_offered(&mut self, why: String) {
        if self.side != ServerSide::Offered {
            self.side = ServerSide::NotOffered(why);
        }
    }

    pub fn of(&self, row: &RequestRow) -> Option<&ServerRecord> {
        self.by_thread.get(row.thread_id.as_deref()?)
    }

    /// How many of `rows` have a record.
    pub fn matched(&self, rows: &[RequestRow]) -> usize {
        rows.iter().filter(|r| self.of(r).is_some()).count()
    }

    /// How many addresses are asked (one, or each instance of a cluster).
    pub fn sources(&self) -> usize {
        self.cursors.len()
    }

    /// The instances the records came from (`""` for records that do not say).
    pub fn instances(&self) -> BTreeSet<&str> {
        self.by_thread.values().map(instance_of).collect()
    }
}

/// The instance of a record, `""` when it does not say: each has a clock of its own.
fn instance_of(record: &ServerRecord) -> &str {
    record.instance_id.as_deref().unwrap_or("")
}

/// The offset of the service's clock from the page's: service time − page
/// time, bounded by causality over every joined request. A request reached
/// the service after it left the page (offset ≤ accepted − sent), and its
/// first chunk reached the page after the service sent it (offset ≥ first
/// chunk sent − first chunk received); the estimate is the middle of the
/// tightest bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ClockOffset {
    pub estimate_ms: f64,
    /// Lowest offset the requests allow (`None`: no request had a first chunk).
    pub low_ms: Option<f64>,
    pub high_ms: f64,
    pub samples: usize,
}

/// Each instance's clock offset (keyed by instance id; `""` when the records
/// do not say): instances need not share a clock either.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClockOffsets(pub BTreeMap<String, ClockOffset>);

impl ClockOffsets {
    /// `origin_epoch_ms`: the page-clock epoch of the run's time 0.
    pub fn estimate(rows: &[RequestRow], records: &ServerRecords, origin_epoch_ms: f64) -> Self {
        let each = records.instances().into_iter().filter_map(|instance| {
            let offset = ClockOffset::estimate_where(rows, records, origin_epoch_ms, |r| {
                instance_of(r) == instance
            })?;
            Some((instance.to_owned(), offset))
        });
        Self(each.collect())
    }

    /// The offset of the clock that timed `record`.
    pub fn of(&self, record: &ServerRecord) -> Option<&ClockOffset> {
        self.0.get(instance_of(record))
    }
}

impl ClockOffset {
    /// The offset from every joined request, as if one clock timed them all.
    pub fn estimate(
        rows: &[RequestRow],
        records: &ServerRecords,
        origin_epoch_ms: f64,
    ) -> Option<Self> {
        Self::estimate_where(rows, records, origin_epoch_ms, |_| true)
    }

    /// The offset from the joined requests whose record passes `keep`.
    fn estimate_where(
        rows: &[RequestRow],
        records: &ServerRecords,
        origin_epoch_ms: f64,
        keep: impl Fn(&ServerRecord) -> bool,
    ) -> Option<Self> {
        let mut high = f64::INFINITY;
        let mut low: Option<f64> = None;
        let mut samples = 0;
        for row in rows {
            let Some(record) = records.of(row).filter(|r| keep(r)) else {
                continue;
            };
            samples += 1;
            let fetch = origin_epoch_ms + row.sent_ms;
            let sent = fetch + row.browser_queue_ms.unwrap_or(0.0);
            high = high.min(record.accepted_at_ms - sent);
            if let (Some(first_sent), Some(ttft)) = (record.first_chunk_at_ms, row.ttft_ms) {
                let bound = first_sent - (fetch + ttft);
                low = Some(low.map_or(bound, |l| l.max(bound)));
            }
        }
        (samples > 0).then(|| Self {
            estimate_ms: low.map_or(high, |low| (low + high) / 2.0),
            low_ms: low,
            high_ms: high,
            samples,
        })
    }

    /// Whether the bounds agree (they cross when a clock moved during the run).
    pub fn is_consistent(&self) -> bool {
        self.low_ms.is_none_or(|low| low <= self.high_ms + 0.001)
    }

    pub fn sentence(&self) -> String {
        let bounds = match self.low_ms {
            Some(low) => format!("between {low:+.2} and {:+.2} ms", self.high_ms),
            None => format!(
                "at most {:+.2} ms (no first chunk bounds it from below)",
                self.high_ms
            ),
        };
        let warning = if self.is_consistent() {
            ""
        } else {
            "; the bounds cross, so a clock moved during the run and the waterfalls' service times are approximate"
        };
        format!(
            "Service clock − page clock ≈ {:+.2} ms ({bounds}, from {} requests){warning}.",
            self.estimate_ms, self.samples
        )
    }
}

/// The parts of one request's TTFT (from fetch() to the first content chunk
/// on the page). With every part known they sum to the TTFT.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TtftParts {
    pub index: u64,
    pub ttft_ms: f64,
    /// In [`TtftPart::ALL`] order; `None`: not measurable for this request.
    pub parts: [Option<f64>; 5],
}

impl TtftParts {
    /// `None` without a client TTFT.
    pub fn of(row: &RequestRow, record: Option<&ServerRecord>) -> Option<Self> {
        let ttft = row.ttft_ms?;
        let browser = row.browser_queue_ms;
        let server_ttft = record.and_then(ServerRecord::server_ttft_ms);
        let queue = record.and_then(|r| r.queue_wait_ms);
        let provider = record.and_then(ServerRecord::provider_first_token_ms);
        let network = match (browser, server_ttft) {
            (Some(b), Some(s)) => Some(ttft - b - s),
            _ => None,
        };
        let stages = match (server_ttft, queue, provider) {
            (Some(s), Some(q), Some(p)) => Some(s - q - p),
            _ => None,
        };
        Some(Self {
            index: row.index,
            ttft_ms: ttft,
            parts: [browser, network, queue, stages, provider],
        })
    }

    pub fn part(&self, part: TtftPart) -> Option<f64> {
        self.parts[part as usize]
    }

    pub fn is_complete(&self) -> bool {
        self.parts.iter().all(Option::is_some)
    }
}

/// The run's TTFT breakdown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    /// The request at the median TTFT and the one at p95 (nearest rank).
    pub median: Option<TtftParts>,
    pub p95: Option<TtftParts>,
    /// Each part's share of all TTFT time, over the requests whose parts are
    /// all known (`None` when there are none).
    pub shares: Option<[f64; 5]>,
    pub shares_over: usize,
}

impl Breakdown {
    pub fn of(rows: &[RequestRow], records: &ServerRecords) -> Self {
        let mut all: Vec<TtftParts> = rows
            .iter()
            .filter(|r| r.outcome == "completed")
            .filter_map(|r| TtftParts::of(r, records.of(r)))
            .collect();
        all.sort_by(|a, b| a.ttft_ms.total_cmp(&b.ttft_ms).then(a.index.cmp(&b.index)));
        let at = |q: f64| {
            let rank = ((q * all.len() as f64).ceil() as usize).max(1);
            all.get(rank - 1).cloned()
        };
        let complete: Vec<&TtftParts> = all.iter().filter(|p| p.is_complete()).collect();
        let total: f64 = complete.iter().map(|p| p.ttft_ms).sum();
        let shares = (!complete.is_empty() && total > 0.0).then(|| {
            let mut shares = [0.0; 5];
            for (i, share) in shares.iter_mut().enumerate() {
                *share = complete.iter().filter_map(|p| p.parts[i]).sum::<f64>() / total;
            }
            shares
        });
        Self {
            median: at(0.5),
            p95: at(0.95),
            shares,
            shares_over: complete.len(),
        }
    }
}

/// Who a waterfall bar belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Page,
    Network,
    Service,
    Provider,
}

impl Side {
    pub fn word(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::Network => "network",
            Self::Service => "service",
            Self::Provider => "provider",
        }
    }
}

/// One bar of a waterfall: ms from the request's fetch(), page clock.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bar {
    pub label: String,
    pub side: Side,
    pub start_ms: f64,
    pub end_ms: f64,
}

/// One request on one time axis: 0 is its fetch() on the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waterfall {
    pub index: u64,
    pub bars: Vec<Bar>,
    pub end_ms: f64,
    /// The service's side is missing (no record, or no clock offset).
    pub page_only: bool,
}

impl Waterfall {
    pub fn of(
        row: &RequestRow,
        record: Option<&ServerRecord>,
        origin_epoch_ms: f64,
        offsets: &ClockOffsets,
    ) -> Self {
        let mut bars = Vec::new();
        let mut bar = |label: &str, side, start: f64, end: f64| {
            if start.is_finite() && end.is_finite() {
                bars.push(Bar {
                    label: label.to_owned(),
                    side,
                    start_ms: start,
                    end_ms: end.max(start),
                });
            }
        };
        let sent = row.browser_queue_ms.unwrap_or(0.0);
        if let Some(wait) = row.browser_queue_ms {
            bar("browser wait", Side::Page, 0.0, wait);
        }
        let first_chunk = row.ttft_ms;
        let server = record.and_then(|r| Some((r, offsets.of(r)?)));
        if let Some((record, offset)) = server {
            // A service time on this request's page-clock axis.
            let page = |t: f64| t - offset.estimate_ms - (origin_epoch_ms + row.sent_ms);
            let accepted = page(record.accepted_at_ms);
            bar("request to the service", Side::Network, sent, accepted);
            let mut spans: Vec<(String, f64, f64)> = record
                .stages
                .iter()
                .map(|s| {
                    let name = stage_name(&s.stage).unwrap_or("stage");
                    let start = page(s.started_at_ms);
                    (format!("{} {name}", s.stage), start, start + s.duration_ms)
                })
                .collect();
            if let (Some(at), Some(wait)) = (record.queued_at_ms, record.queue_wait_ms) {
                spans.push(("failover queue".into(), page(at), page(at) + wait));
            }
            spans.sort_by(|a, b| a.1.total_cmp(&b.1));
            for (label, start, end) in spans {
                bar(&label, Side::Service, start, end);
            }
            if let (Some(stage), Some(token)) =
                (record.stage("5"), record.provider_first_token_at_ms)
            {
                bar(
                    "provider's first token",
                    Side::Provider,
                    page(stage.started_at_ms),
                    page(token),
                );
            }
            if let (Some(sent_at), Some(received)) = (record.first_chunk_at_ms, first_chunk) {
                bar(
                    "first chunk to the page",
                    Side::Network,
                    page(sent_at),
                    received,
                );
            }
        }
        if let Some(first) = first_chunk {
            bar("chunks", Side::Page, first, row.e2e_ms);
        } else {
            bar("request (no content chunk)", Side::Page, sent, row.e2e_ms);
        }
        // One axis, read top to bottom in time (a stable sort keeps a stage
        // above the provider's first token that starts with it).
        bars.sort_by(|a, b| a.start_ms.total_cmp(&b.start_ms));
        let end_ms = bars.iter().map(|b| b.end_ms).fold(row.e2e_ms, f64::max);
        Self {
            index: row.index,
            bars,
            end_ms,
            page_only: server.is_none(),
        }
    }
}

/// The slowest requests by TTFT (then E2E), at most `n`.
pub fn slowest(rows: &[RequestRow], n: usize) -> Vec<&RequestRow> {
    let mut sorted: Vec<&RequestRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        b.ttft_ms
            .unwrap_or(f64::NEG_INFINITY)
            .total_cmp(&a.ttft_ms.unwrap_or(f64::NEG_INFINITY))
            .then(b.e2e_ms.total_cmp(&a.e2e_ms))
    });
    sorted.truncate(n);
    sorted
}

impl ServerParts {
    pub fn of(row: &RequestRow, record: &ServerRecord) -> Self {
        let parts = TtftParts::of(row, Some(record));
        let part = |p: TtftPart| parts.as_ref().and_then(|parts| parts.part(p));
        Self {
            instance_id: record.instance_id.clone(),
            server_ttft_ms: record.server_ttft_ms(),
            network_ms: part(TtftPart::Network),
            server_queue_ms: record.queue_wait_ms,
            server_stages_ms: part(TtftPart::ServerStages),
            provider_first_token_ms: record.provider_first_token_ms(),
            server_total_ms: record.finished_at_ms.map(|f| f - record.accepted_at_ms),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::recorder::{Outcome, RequestRecorder};

    /// A completed row sent at `sent_ms` (run time) with a TTFT and an E2E.
    fn row(index: u64, sent_ms: f64, ttft: f64, e2e: f64, browser: Option<f64>) -> RequestRow {
        let mut recorder = RequestRecorder::new(sent_ms);
        recorder.on_headers(sent_ms + 1.0, 200, None, Some(format!("t{index}")));
        let chunk = crate::sse::stream::StreamEvent::Chunk(crate::contract::stream::ChunkData {
            content: "abc".into(),
            chunk_index: Some(1),
            finish_reason: None,
            cached: false,
        });
        recorder.on_event(sent_ms + ttft, &chunk);
        recorder.on_event(sent_ms + e2e, &crate::sse::stream::StreamEvent::Done);
        let mut record = recorder.finish_stream_end(sent_ms + e2e);
        record.browser_queue_ms = browser;
        assert_eq!(record.outcome, Outcome::Completed);
        RequestRow::new(index, 0.0, &record)
    }

    /// A record on a service clock `skew` ms ahead of the page, accepted
    /// `up` ms after the row left the browser.
    fn record(
        row: &RequestRow,
        skew: f64,
        up: f64,
        queue: f64,
        provider: f64,
        down: f64,
    ) -> ServerRecord {
        let sent = row.sent_ms + row.browser_queue_ms.unwrap_or(0.0);
        let accepted = sent + up + skew;
        let first_chunk = row.sent_ms + row.ttft_ms.unwrap_or(0.0) - down + skew;
        let stage5 = first_chunk - 0.5 - provider;
        ServerRecord {
            seq: Some(row.index + 1),
            thread_id: row.thread_id.clone().unwrap_or_default(),
            instance_id: Some("app-1".into()),
            accepted_at_ms: accepted,
            queued_at_ms: (queue > 0.0).then_some(accepted + 1.0),
            queue_wait_ms: Some(queue),
            stages: vec![
                ServerStage {
                    stage: "1".into(),
                    started_at_ms: accepted + 0.1,
                    duration_ms: 0.2,
                },
                ServerStage {
                    stage: "5".into(),
                    started_at_ms: stage5,
                    duration_ms: 50.0,
                },
            ],
            provider_first_token_at_ms: Some(stage5 + provider),
            first_chunk_at_ms: Some(first_chunk),
            finished_at_ms: Some(first_chunk + 50.0),
        }
    }

    fn records_of(list: Vec<ServerRecord>) -> ServerRecords {
        let mut records = ServerRecords::default();
        records.merge(LoadStatsAnswer {
            records: Some(list),
            last_seq: None,
            unreadable: 0,
        });
        records
    }

    #[test]
    fn the_parts_sum_to_the_client_ttft_and_land_where_the_time_went() {
        let r = row(0, 10.0, 250.0, 400.0, Some(2.0));
        let rec = record(&r, 1_000.0, 3.0, 100.0, 120.0, 4.0);
        let parts = TtftParts::of(&r, Some(&rec)).expect("parts");
        assert!(parts.is_complete());
        let sum: f64 = parts.parts.iter().flatten().sum();
        assert!((sum - 250.0).abs() < 1e-9, "{parts:?}");
        let part = |p| parts.part(p).unwrap_or(f64::NAN);
        assert!((part(TtftPart::BrowserWait) - 2.0).abs() < 1e-9);
        // Up 3 ms and down 4 ms; the 1 s clock skew cancels out.
        assert!((part(TtftPart::Network) - 7.0).abs() < 1e-9, "{parts:?}");
        assert!((part(TtftPart::ServerQueue) - 100.0).abs() < 1e-9);
        assert!((part(TtftPart::ProviderFirstToken) - 120.0).abs() < 1e-9);
        assert!(
            (part(TtftPart::ServerStages) - 21.0).abs() < 1e-9,
            "{parts:?}"
        );
    }

    #[test]
    fn parts_that_cannot_be_measured_are_absent_not_zero() {
        let r = row(0, 0.0, 250.0, 400.0, None);
        let rec = record(&r, 0.0, 3.0, 0.0, 120.0, 4.0);
        let parts = TtftParts::of(&r, Some(&rec)).expect("parts");
        assert_eq!(parts.part(TtftPart::BrowserWait), None);
        assert_eq!(parts.part(TtftPart::Network), None);
        assert_eq!(parts.part(TtftPart::ServerQueue), Some(0.0));
        assert!(!parts.is_complete());
        let alone = TtftParts::of(&row(1, 0.0, 90.0, 100.0, Some(1.0)), None).expect("parts");
        assert_eq!(alone.parts, [Some(1.0), None, None, None, None]);
        // No first chunk, no parts at all.
        let mut no_ttft = row(2, 0.0, 90.0, 100.0, Some(1.0));
        no_ttft.ttft_ms = None;
        assert_eq!(TtftParts::of(&no_ttft, None), None);
    }

    #[test]
    fn a_cache_hit_spends_nothing_at_the_provider() {
        let r = row(0, 0.0, 20.0, 21.0, Some(0.5));
        let mut rec = record(&r, 0.0, 1.0, 0.0, 0.0, 1.0);
        rec.stages.retain(|s| s.stage == "1");
        rec.stages.push(ServerStage {
            stage: "2".into(),
            started_at_ms: rec.accepted_at_ms + 0.3,
            duration_ms: 1.0,
        });
        rec.provider_first_token_at_ms = None;
        assert_eq!(rec.provider_first_token_ms(), Some(0.0));
        // A record without stages says nothing about the provider.
        rec.stages.clear();
        assert_eq!(rec.provider_first_token_ms(), None);
    }

    #[test]
    fn the_clock_offset_is_bounded_by_both_directions() {
        let rows: Vec<RequestRow> = (0..5)
            .map(|i| row(i, i as f64 * 100.0, 200.0, 300.0, Some(1.0)))
            .collect();
        // The service's clock is 500 ms ahead; the way up takes 1-5 ms, down 2-6 ms.
        let list = rows
            .iter()
            .map(|r| {
                record(
                    r,
                    500.0,
                    1.0 + r.index as f64,
                    0.0,
                    100.0,
                    2.0 + r.index as f64,
                )
            })
            .collect();
        let records = records_of(list);
        let offset = ClockOffset::estimate(&rows, &records, 0.0).expect("offset");
        assert_eq!(offset.samples, 5);
        assert!((offset.high_ms - 501.0).abs() < 1e-9, "{offset:?}");
        assert_eq!(offset.low_ms.map(|l| (l * 1e6).round() / 1e6), Some(498.0));
        assert!((offset.estimate_ms - 499.5).abs() < 1e-9);
        assert!(offset.is_consistent());
        assert!(
            offset.sentence().contains("+499.50 ms"),
            "{}",
            offset.sentence()
        );
        // The origin moves the page's times: the offset follows it.
        let later = ClockOffset::estimate(&rows, &records, 100.0).expect("offset");
        assert!((later.estimate_ms - 399.5).abs() < 1e-9);
        assert_eq!(
            ClockOffset::estimate(&rows, &ServerRecords::default(), 0.0),
            None
        );
    }

    #[test]
    fn the_breakdown_takes_the_median_and_p95_requests_by_nearest_rank() {
        let rows: Vec<RequestRow> = (0..10)
            .map(|i| row(i, 0.0, 100.0 + 10.0 * (9 - i) as f64, 400.0, Some(1.0)))
            .collect();
        let records = records_of(
            rows.iter()
                .map(|r| record(r, 0.0, 1.0, 10.0, 50.0, 1.0))
                .collect(),
        );
        let breakdown = Breakdown::of(&rows, &records);
        // TTFTs 100..190: the 5th smallest is 140 (index 5), the 10th is 190 (index 0).
        assert_eq!(breakdown.median.as_ref().map(|m| m.index), Some(5));
        assert_eq!(breakdown.p95.as_ref().map(|m| m.index), Some(0));
        assert_eq!(breakdown.shares_over, 10);
        let shares = breakdown.shares.expect("shares");
        assert!((shares.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // 10 ms of queue in 1450 ms of TTFT.
        assert!((shares[TtftPart::ServerQueue as usize] - 100.0 / 1450.0).abs() < 1e-9);
        // Without the service's side there are no shares, and nothing is made up.
        let client_only = Breakdown::of(&rows, &ServerRecords::default());
        assert_eq!(client_only.shares, None);
        assert_eq!(client_only.median.map(|m| m.parts[1]), Some(None));
    }

    #[test]
    fn a_waterfall_puts_the_services_events_on_the_pages_axis() {
        let r = row(3, 1_000.0, 250.0, 400.0, Some(2.0));
        let rec = record(&r, 700.0, 3.0, 100.0, 120.0, 4.0);
        let offset = ClockOffset {
            estimate_ms: 700.0,
            low_ms: Some(696.0),
            high_ms: 703.0,
            samples: 1,
        };
        let offsets = ClockOffsets([("app-1".to_owned(), offset)].into());
        let w = Waterfall::of(&r, Some(&rec), 0.0, &offsets);
        assert!(!w.page_only);
        let labels: Vec<&str> = w.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "browser wait",
                "request to the service",
                "1 Validation",
                "failover queue",
                "5 LLM streaming",
                "provider's first token",
                "first chunk to the page",
                "chunks"
            ]
        );
        let bar = |label: &str| {
            w.bars
                .iter()
                .find(|b| b.label == label)
                .cloned()
                .expect(label)
        };
        assert!((bar("request to the service").end_ms - 5.0).abs() < 1e-9);
        assert!((bar("first chunk to the page").start_ms - 246.0).abs() < 1e-9);
        assert!((bar("chunks").end_ms - 400.0).abs() < 1e-9);
        let alone = Waterfall::of(&r, Some(&rec), 0.0, &ClockOffsets::default());
        assert!(alone.page_only);
        assert_eq!(alone.bars.len(), 2);
    }

    #[test]
    fn load_stats_answers_are_read_carefully() {
        let body = r#"{"last_seq": 9, "requests": [
            {"seq": 8, "thread_id": "a", "instance_id": "app-1", "accepted_at_ms": 1.5,
             "queue_wait_ms": 0.0, "stages": [{"stage": "1", "started_at_ms": 1.6, "duration_ms": 0.1}],
             "first_chunk_at_ms": 9.0, "finished_at_ms": 10.0, "extra": true},
            {"seq": 9, "accepted_at_ms": 1.0},
            {"seq": 9, "thread_id": "b", "accepted_at_ms": 5.0, "first_chunk_at_ms": 4.0}
        ]}"#;
        let answer = parse_load_stats(body).expect("answer");
        assert_eq!(answer.unreadable, 2);
        let mut records = ServerRecords::default();
        records.merge(answer);
        assert_eq!(records.side, ServerSide::Offered);
        assert_eq!(records.after(""), 9);
        let without = parse_load_stats(r#"{"active_streams": 0}"#).expect("answer");
        assert_eq!(without.records, None);
        let mut none = ServerRecords::default();
        none.merge(without);
        assert!(matches!(none.side, ServerSide::NotOffered(_)));
        assert!(parse_load_stats("<html>").is_err());
        assert!(parse_load_stats(r#"{"requests": 3}"#).is_err());
        // A later failure does not hide records that did arrive.
        records.not_offered("HTTP 502".into());
        assert_eq!(records.side, ServerSide::Offered);
    }

    #[test]
    fn each_instance_has_its_own_clock_and_its_own_cursor() {
        let rows: Vec<RequestRow> = (0..4)
            .map(|i| row(i, i as f64 * 100.0, 200.0, 300.0, Some(1.0)))
            .collect();
        // app-1's clock is 500 ms ahead of the page, app-2's 80 ms behind.
        let mut records = ServerRecords::default();
        for (source, skew, which) in [("a", 500.0, [0, 2]), ("b", -80.0, [1, 3])] {
            let list = which
                .iter()
                .map(|&i| {
                    let mut r = record(&rows[i], skew, 1.0, 0.0, 100.0, 1.0);
                    r.instance_id = Some(format!("app-{source}"));
                    r.seq = Some(i as u64 + 10);
                    r
                })
                .collect();
            records.baseline(source, Some(5));
            records.merge_from(
                source,
                LoadStatsAnswer {
                    records: Some(list),
                    last_seq: None,
                    unreadable: 0,
                },
            );
        }
        assert_eq!((records.after("a"), records.after("b")), (12, 13));
        let offsets = ClockOffsets::estimate(&rows, &records, 0.0);
        let near = |instance: &str, want: f64| {
            offsets
                .0
                .get(instance)
                .is_some_and(|o| (o.estimate_ms - want).abs() < 1e-9)
        };
        assert!(near("app-a", 500.0) && near("app-b", -80.0), "{offsets:?}");
        // Pooled, the two clocks would make bounds that cross.
        let pooled = ClockOffset::estimate(&rows, &records, 0.0).expect("pooled");
        assert!(!pooled.is_consistent(), "{pooled:?}");
        // Each waterfall uses its own instance's clock: the service accepted
        // the request 1 ms after it left the page, on both.
        for r in &rows {
            let w = Waterfall::of(r, records.of(r), 0.0, &offsets);
            let to_service = w.bars.iter().find(|b| b.label == "request to the service");
            assert!(
                to_service.is_some_and(|b| (b.end_ms - b.start_ms - 1.0).abs() < 1e-9),
                "{w:?}"
            );
        }
    }

    #[test]
    fn the_slowest_come_first_and_requests_without_ttft_last() {
        let mut rows: Vec<RequestRow> = (0..4)
            .map(|i| row(i, 0.0, 10.0 * i as f64 + 5.0, 100.0, None))
            .collect();
        rows[0].ttft_ms = None;
        let order: Vec<u64> = slowest(&rows, 3).iter().map(|r| r.index).collect();
        assert_eq!(order, [3, 2, 1]);
    }
}
