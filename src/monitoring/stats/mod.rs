//! Statistics: the service's per-stage timings, polled, as bars of each
//! stage's percentiles, each stage's p95 over the session (one point per
//! poll), and a table with every figure (also for screen readers).
//!
//! Two sources, polled side by side: the service's execution-stats, and the
//! Prometheus histograms of `/admin/metrics` (read by the Prometheus reader,
//! a part loaded on demand: `api::read_metrics`), which also feed the service
//! strip. The default source is the one that holds data (the original
//! service drops a request's timings when it ends).

mod charts;
mod source;
mod strip;
mod summary;
pub(crate) mod table;
mod toolbar;
mod view;

pub use source::SourceSelect;
pub use view::MetricsChart;

use leptos::prelude::*;
use sse_core::contract::execution_stats::ExecutionStats;
use sse_core::monitoring::service_strip::{strip as strip_figures, Scrape, StripFigure};
use sse_core::monitoring::stats_source::{
    default_source, histogram_rows, window_rows, StatsSource,
};
use sse_core::monitoring::stats_view::{stage_rows, Coverage, PollHistory, StageRow};

use crate::api::ApiClient;
use crate::browser::clock::wall_ms;

/// Polls kept for the history charts and the strip's trend (an hour at 10 s).
const HISTORY_POINTS: usize = 360;

/// The session's histories, one per source, and the strip's trend.
struct Histories {
    execution_stats: PollHistory,
    /// p95 of the observations between two scrapes.
    metrics_window: PollHistory,
    strip: PollHistory,
}

/// What the panel's parts share.
#[derive(Clone, Copy)]
struct StatsState {
    stats: RwSignal<Option<ExecutionStats>>,
    stats_at: RwSignal<Option<f64>>,
    stats_failure: RwSignal<Option<String>>,
    metrics: RwSignal<Option<Scrape>>,
    metrics_failure: RwSignal<Option<String>>,
    strip: RwSignal<Vec<StripFigure>>,
    /// The person's pick; `None` = the default source.
    chosen: RwSignal<Option<StatsSource>>,
    histories: StoredValue<Histories, LocalStorage>,
    /// Bumped when `histories` change (they are no signal: not copied per poll).
    history_version: RwSignal<u64>,
    coverage: RwSignal<Coverage>,
    log_scale: RwSignal<bool>,
}

impl StatsState {
    fn new() -> Self {
        Self {
            stats: RwSignal::new(None),
            stats_at: RwSignal::new(None),
            stats_failure: RwSignal::new(None),
            metrics: RwSignal::new(None),
            metrics_failure: RwSignal::new(None),
            strip: RwSignal::new(Vec::new()),
            chosen: RwSignal::new(None),
            histories: StoredValue::new_local(Histories {
                execution_stats: PollHistory::new(HISTORY_POINTS),
                metrics_window: PollHistory::new(HISTORY_POINTS),
                strip: PollHistory::new(HISTORY_POINTS),
            }),
            history_version: RwSignal::new(0),
            coverage: RwSignal::new(Coverage::default()),
            log_scale: RwSignal::new(true),
        }
    }

    /// One poll of `/admin/execution-stats`; on a failure the last good
    /// figures stay, marked stale.
    /// `false` when the view was taken off the page meanwhile (the settings
    /// changed mode): its answer is dropped.
    async fn poll_stats(self, api: ApiClient) -> bool {
        let answer = api.execution_stats().await;
        if self.stats.is_disposed() {
            return false;
        }
        match answer {
            Ok(fresh) => self.take_stats(fresh),
            Err(error) => self.stats_failure.set(Some(error.to_string())),
        }
        true
    }

    fn take_stats(&self, fresh: ExecutionStats) {
        let at = wall_ms();
        self.histories
            .update_value(|h| h.execution_stats.record(at, &stage_rows(&fresh)));
        self.history_version.update(|v| *v += 1);
        self.coverage.update(|c| c.observe(&fresh));
        self.stats.set(Some(fresh));
        self.stats_at.set(Some(at));
        self.stats_failure.set(None);
    }

    fn take_metrics(&self, fresh: sse_core::monitoring::prometheus::service::ServiceMetrics) {
        if self.metrics.is_disposed() {
            return;
        }
        let now = Scrape {
            at_ms: wall_ms(),
            metrics: fresh,
        };
        let figures = self
            .metrics
            .with_untracked(|previous| strip_figures(&now, previous.as_ref()));
        self.histories.update_value(|h| {
            h.strip.record_values(
                now.at_ms,
                figures.iter().map(|f| (f.figure.id(), f.trend_point)),
            );
            self.metrics.with_untracked(|previous| {
                // The first scrape has no window before it: no point.
                if let Some(previous) = previous {
                    h.metrics_window
                        .record(now.at_ms, &window_rows(&now.metrics, &previous.metrics));
                }
            });
        });
        self.history_version.update(|v| *v += 1);
        self.strip.set(figures);
        self.metrics.set(Some(now));
        self.metrics_failure.set(None);
    }

    /// The source shown: the person's pick, else the one that holds data.
    fn source(&self) -> StatsSource {
        self.chosen.get().unwrap_or_else(|| {
            self.stats.with(|s| {
                self.coverage.with(|c| {
                    self.metrics
                        .with(|m| default_source(s.as_ref(), c, m.as_ref().map(|m| &m.metrics)))
                })
            })
        })
    }

    /// The rows of the source shown (`None` before its first answer).
    fn rows(&self) -> Option<Vec<StageRow>> {
        match self.source() {
            StatsSource::ExecutionStats => self.stats.with(|s| s.as_ref().map(stage_rows)),
            StatsSource::Metrics => self
                .metrics
                .with(|m| m.as_ref().map(|m| histogram_rows(&m.metrics))),
            // Read and shown by the server's own view.
            StatsSource::PrometheusServer => None,
        }
    }
}
