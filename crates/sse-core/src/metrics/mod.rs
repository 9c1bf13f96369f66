//! Every figure the dashboard shows, defined once: the tooltips, the export
//! headers and `docs/metrics.md` all take their text from here (a test keeps
//! the document equal to [`definitions_markdown`]).

pub mod distribution;

use distribution::Summary;

/// A per-request latency (or a count of tokens) measured by the load tester.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    E2e,
    Ttft,
    Itl,
    Tpot,
    BrowserWait,
    E2eIntended,
    TtftIntended,
    Lateness,
}

impl Metric {
    pub const ALL: [Metric; 8] = [
        Metric::E2e,
        Metric::Ttft,
        Metric::E2eIntended,
        Metric::TtftIntended,
        Metric::Itl,
        Metric::Tpot,
        Metric::BrowserWait,
        Metric::Lateness,
    ];

    /// The stable short name in hooks (`lt-e2e-p50`) and exports (`e2e_p50_ms`).
    pub fn id(self) -> &'static str {
        match self {
            Self::E2e => "e2e",
            Self::Ttft => "ttft",
            Self::Itl => "itl",
            Self::Tpot => "tpot",
            Self::BrowserWait => "queue",
            Self::E2eIntended => "e2e-intended",
            Self::TtftIntended => "ttft-intended",
            Self::Lateness => "lateness",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::E2e => "E2E latency",
            Self::Ttft => "TTFT",
            Self::Itl => "ITL",
            Self::Tpot => "TPOT",
            Self::BrowserWait => "Browser wait",
            Self::E2eIntended => "E2E from intended start",
            Self::TtftIntended => "TTFT from intended start",
            Self::Lateness => "Send lateness",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::E2e => "From sending the request to the end of its stream (the first `complete` event or `data: [DONE]`; for a failed request, the moment it ended). Completed requests only.",
            Self::Ttft => "Time to first token: from sending the request to the first `chunk` event with non-empty content. Not the arrival of the response headers, which for SSE come almost at once. Completed requests only.",
            Self::Itl => "Inter-token latency: each gap between two consecutive content chunks of one request; all gaps of all completed requests are pooled. A chunk holds 2–6 characters: ITL is per chunk, not per token.",
            Self::Tpot => "Time per output token: (E2E − TTFT) / (output tokens − 1), per completed request with more than one token.",
            Self::BrowserWait => "From fetch() to the request leaving the browser (Resource Timing `requestStart − startTime`): waiting for a connection, plus connecting. Over HTTP/1.1 requests beyond 6 per host wait here. Absent when the browser does not expose it (a cross-origin API without `Timing-Allow-Origin`).",
            Self::E2eIntended => "E2E measured from the request's intended start (its arrival in an open loop) instead of its send: what a user arriving then waited, the time the request waited for a free slot or a busy page included. Without it an overloaded service looks faster than it is (coordinated omission). In a closed loop it equals E2E. Completed requests only.",
            Self::TtftIntended => "TTFT measured from the request's intended start (see E2E from intended start): the first token as a user arriving then saw it. SLO targets judge this one. Completed requests only.",
            Self::Lateness => "Open loop: the request's send minus its intended start, for every sent request. A send more than 10 ms late is a late start (the cap on requests in flight was reached, or the page was busy).",
        }
    }

    /// Whether the metric only exists in an open loop.
    pub fn open_loop_only(self) -> bool {
        matches!(
            self,
            Self::E2eIntended | Self::TtftIntended | Self::Lateness
        )
    }
}

/// A statistic of a set of values (a metric over a run, or a stage's timings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    P50,
    P90,
    P95,
    P99,
    Min,
    Mean,
    Max,
    Count,
}

impl Statistic {
    pub const ALL: [Statistic; 8] = [
        Statistic::P50,
        Statistic::P90,
        Statistic::P95,
        Statistic::P99,
        Statistic::Min,
        Statistic::Mean,
        Statistic::Max,
        Statistic::Count,
    ];
    /// The statistics that are durations, as the load tester's results show them.
    pub const DURATIONS: [Statistic; 7] = [
        Statistic::P50,
        Statistic::P90,
        Statistic::P95,
        Statistic::P99,
        Statistic::Min,
        Statistic::Mean,
        Statistic::Max,
    ];
    /// The percentiles, in order.
    pub const PERCENTILES: [Statistic; 4] = [
        Statistic::P50,
        Statistic::P90,
        Statistic::P95,
        Statistic::P99,
    ];

    /// The stable short name in hooks (`data-metric`) and exports.
    pub fn id(self) -> &'static str {
        match self {
            Self::P50 => "p50",
            Self::P90 => "p90",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::Min => "min",
            Self::Mean => "mean",
            Self::Max => "max",
            Self::Count => "count",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::P50 => "Half of the values are at most this.",
            Self::P90 => "90 % of the values are at most this.",
            Self::P95 => "95 % of the values are at most this.",
            Self::P99 => "99 % of the values are at most this: the slow tail.",
            Self::Min => "The smallest value.",
            Self::Mean => "The arithmetic mean.",
            Self::Max => "The largest value.",
            Self::Count => "How many values: requests, chunk gaps for ITL, executions for a stage.",
        }
    }

    /// p50, p90, p95 or p99.
    pub fn is_percentile(self) -> bool {
        Self::PERCENTILES.contains(&self)
    }

    /// This statistic of `summary` (the count as a number).
    pub fn of(self, summary: &Summary) -> Option<f64> {
        match self {
            Self::P50 => summary.p50,
            Self::P90 => summary.p90,
            Self::P95 => summary.p95,
            Self::P99 => summary.p99,
            Self::Min => summary.min,
            Self::Mean => summary.mean,
            Self::Max => summary.max,
            Self::Count => Some(summary.count as f64),
        }
    }
}

/// A figure of a whole run that is no distribution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunFigure {
    OutputTokens,
    RequestsPerSecond,
    TokensPerSecond,
    CacheHits,
    Goodput,
    GoodShare,
    Verdict,
    LateStarts,
    Dropped,
    MaxSustainable,
}

impl RunFigure {
    pub const ALL: [RunFigure; 10] = [
        RunFigure::OutputTokens,
        RunFigure::RequestsPerSecond,
        RunFigure::TokensPerSecond,
        RunFigure::CacheHits,
        RunFigure::Goodput,
        RunFigure::GoodShare,
        RunFigure::Verdict,
        RunFigure::LateStarts,
        RunFigure::Dropped,
        RunFigure::MaxSustainable,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::OutputTokens => "Output tokens",
            Self::RequestsPerSecond => "Requests/s",
            Self::TokensPerSecond => "Tokens/s",
            Self::CacheHits => "Cache hits",
            Self::Goodput => "Goodput",
            Self::GoodShare => "Good requests",
            Self::Verdict => "SLO verdict",
            Self::LateStarts => "Late starts",
            Self::Dropped => "Dropped arrivals",
            Self::MaxSustainable => "Highest load meeting the SLOs",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::OutputTokens => "Estimated from the streamed text, `ceil(characters / 4)` per request (the usual rule of thumb for English with GPT-style tokenizers). Never the number of SSE events: a chunk is not a token. Live, it also counts the text received so far by requests in flight.",
            Self::RequestsPerSecond => "Completed requests per second over the run's wall time (run start → last request's end).",
            Self::TokensPerSecond => "Output tokens of all requests per second over the run's wall time.",
            Self::CacheHits => "Requests answered from the service's cache: their chunk or `complete` event carries `\"cached\": true`.",
            Self::Goodput => "Good requests per second of the measured time (vLLM's goodput): completed requests that met every SLO target (TTFT and E2E from the intended start, TPOT). Absent targets: every completed request is good.",
            Self::GoodShare => "Good requests of those that completed or failed, in percent (requests aborted by Stop are neither).",
            Self::Verdict => "pass when the good share reaches the share the run must reach, fail when not, none when no target is set or nothing ended; the reason names each target's p95 against it.",
            Self::LateStarts => "Open loop: requests sent more than 10 ms after their intended start, because the cap on requests in flight was reached or the page was busy (k6 counts such iterations as dropped; here they are sent late and their wait counts).",
            Self::Dropped => "Open loop: arrivals never sent, because the run's duration ended (or Stop came) while they waited for a free slot.",
            Self::MaxSustainable => "Sweep: the highest step (concurrency, or requests/s in an open loop) whose verdict passed; each step's warm-up is not counted.",
        }
    }
}

/// A figure of the service strip, read from the service's Prometheus
/// exposition (`/admin/metrics`) at every poll of the statistics panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceFigure {
    Requests,
    SuccessShare,
    ActiveConnections,
    CacheHitShare,
    QueueDepth,
}

impl ServiceFigure {
    pub const ALL: [ServiceFigure; 5] = [
        ServiceFigure::Requests,
        ServiceFigure::SuccessShare,
        ServiceFigure::ActiveConnections,
        ServiceFigure::CacheHitShare,
        ServiceFigure::QueueDepth,
    ];

    /// The hook (`service-<id>`) and the trend's key.
    pub fn id(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::SuccessShare => "success-share",
            Self::ActiveConnections => "active-connections",
            Self::CacheHitShare => "cache-hit-share",
            Self::QueueDepth => "queue-depth",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Requests => "Requests",
            Self::SuccessShare => "Success share",
            Self::ActiveConnections => "Active connections",
            Self::CacheHitShare => "Cache hit share",
            Self::QueueDepth => "Queue depth",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::Requests => "`sse_requests_total` summed over every label, as the service counts them since its process started (the original counts some requests twice), with the count by `status`. The rate is the increase since the previous poll divided by the seconds between the two polls (no extrapolation; a counter that went down restarted and counts from zero).",
            Self::SuccessShare => "`sse_requests_total{status=\"success\"}` over all of `sse_requests_total`, since the process started; the trend is the share among the requests counted since the previous poll.",
            Self::ActiveConnections => "The gauge `sse_active_connections` at the scrape; the change is the difference from the previous poll.",
            Self::CacheHitShare => "`sse_cache_hits_total` over hits plus `sse_cache_misses_total`, per `tier` label and overall, since the process started; the rates are per second since the previous poll.",
            Self::QueueDepth => "The gauge `sse_queue_depth` (requests waiting in the failover queue) at the scrape; the change is the difference from the previous poll.",
        }
    }
}

/// A part of one request's TTFT (the load domain's `time_breakdown` joins them). With every
/// part known the five sum to the request's TTFT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtftPart {
    BrowserWait = 0,
    Network = 1,
    ServerQueue = 2,
    ServerStages = 3,
    ProviderFirstToken = 4,
}

impl TtftPart {
    pub const ALL: [TtftPart; 5] = [
        TtftPart::BrowserWait,
        TtftPart::Network,
        TtftPart::ServerQueue,
        TtftPart::ServerStages,
        TtftPart::ProviderFirstToken,
    ];

    /// The hook's `data-metric` in `lt-breakdown`.
    pub fn id(self) -> &'static str {
        match self {
            Self::BrowserWait => "browser-wait",
            Self::Network => "network",
            Self::ServerQueue => "server-queue",
            Self::ServerStages => "server-stages",
            Self::ProviderFirstToken => "provider-first-token",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::BrowserWait => "Browser wait",
            Self::Network => "Network + proxies",
            Self::ServerQueue => "Service queue",
            Self::ServerStages => "Service stages",
            Self::ProviderFirstToken => "Provider first token",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::BrowserWait => "From fetch() to the request leaving the browser (Resource Timing `requestStart − startTime`), on the page's clock. Unknown when the browser does not expose it; then network + proxies is unknown too.",
            Self::Network => "The client TTFT minus the service's TTFT (accepted → first chunk sent, on the service's clock) minus the browser wait: the request's way to the service and the first chunk's way back, through every proxy and balancer. Needs no clock offset: each term is measured on one clock.",
            Self::ServerQueue => "Time the request waited in the service's failover queue for a stream slot (0 when it never queued), as the service recorded it.",
            Self::ServerStages => "The service's TTFT minus its queue wait minus the provider's first token: stages 1–4 (validation, cache lookup, rate limiting, provider selection) and the service's own handling around them, up to the first chunk handed to the connection.",
            Self::ProviderFirstToken => "From the start of stage 5 (LLM streaming) to the provider's first token reaching the service, as the service recorded it; 0 for a cache hit, where no provider is called.",
        }
    }
}

/// How the service's clock is related to the page's.
pub const CLOCK_OFFSET: &str = "Service clock − page clock, estimated from the run's own requests: at most the smallest (accepted − sent) and at least the largest (first chunk sent − first chunk received), since no message arrives before it is sent; the estimate is the middle of those bounds and is shown with them. Used only to place the service's events on a waterfall's time axis; the TTFT parts do not need it.";

/// What the load tester's stage chart plots.
pub const STAGE_INTERVAL_MEAN: &str = "During a run the load tester polls `/admin/execution-stats` every few seconds (2 by default, `lt-stats-every-s`); each point is a stage's mean duration over the executions since the previous poll, exact from the cumulative count and mean (count × mean now − count × mean before, over the new executions). No point where no execution happened, or where the counts went down (the original service forgets finished requests).";

/// The share of a TTFT part over a run.
pub const PART_SHARE: &str = "A part's share of all TTFT time: the sum of the part over the sum of the TTFTs, over the completed requests whose five parts are all known.";

/// How a percentile read from a Prometheus histogram is estimated.
pub const HISTOGRAM_ESTIMATE: &str = "Estimated from histogram buckets by Prometheus' `histogram_quantile` method: the bucket holding the rank q · count, linear interpolation inside it, 0 as the lower edge of the first bucket; a rank in the `+Inf` bucket answers the highest finite bound (shown as \"above\" it). Shown with the bucket that bounds it: the true value lies in that bucket, not necessarily at the interpolated point.";

/// How the Prometheus server source's percentiles are estimated: the server
/// answers the interpolated point only, not the bucket around it.
pub const SERVER_ESTIMATE: &str = "Estimated by the Prometheus server's `histogram_quantile` from the buckets: every instance's summed for the whole service (`sum by (stage, le)`; never an average of instances' percentiles), each instance's own in its table: the bucket holding the rank q · count, linear interpolation inside it, 0 as the lower edge of the first bucket; a rank in the `+Inf` bucket answers the highest finite bound. The server answers the interpolated point only: the true value lies somewhere in the bucket around it.";

/// The definitions as the Markdown tables of docs/metrics.md.
/// A figure of the Prometheus server source (`server-<id>`), each a PromQL
/// query over the chosen window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerFigure {
    RequestRate,
    SuccessShare,
    ActiveConnections,
    Up,
    RunWindowP95,
}

impl ServerFigure {
    pub const ALL: [ServerFigure; 5] = [
        ServerFigure::RequestRate,
        ServerFigure::SuccessShare,
        ServerFigure::ActiveConnections,
        ServerFigure::Up,
        ServerFigure::RunWindowP95,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Self::RequestRate => "request-rate",
            Self::SuccessShare => "success-share",
            Self::ActiveConnections => "active-connections",
            Self::Up => "up",
            Self::RunWindowP95 => "run-window-p95",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::RequestRate => "Requests/s",
            Self::SuccessShare => "Success share",
            Self::ActiveConnections => "Active connections",
            Self::Up => "Up",
            Self::RunWindowP95 => "Server-side stage p95 over a run",
        }
    }

    pub fn definition(self) -> &'static str {
        match self {
            Self::RequestRate => "`sum(rate(sse_requests_total[window]))`: requests per second over the window, every instance the server scrapes together (rate() extrapolates to the window's edges and handles restarts).",
            Self::SuccessShare => "`sum(rate(sse_requests_total{status=\"success\"}[window])) / sum(rate(sse_requests_total[window]))`: the share of successful requests in the window; \"no requests\" when the window has none.",
            Self::ActiveConnections => "`sum(sse_active_connections)` at the server's last scrape of each instance.",
            Self::Up => "`up`: 1 when the server's last scrape of the instance answered, 0 when it failed (the instance is down or unreachable from the server).",
            Self::RunWindowP95 => "`histogram_quantile(0.95, sum by (stage, le) (increase(sse_stage_duration_seconds_bucket[d])))` evaluated at the run's end + 15 s, d the run's length + 15 s: the service's own p95 per stage over the run (the 15 s take in the server's scrapes after it). A histogram estimate.",
        }
    }
}

pub fn definitions_markdown() -> String {
    let mut out = String::from("| figure | definition |\n|---|---|\n");
    for metric in Metric::ALL {
        out.push_str(&format!(
            "| **{}** (`{}`) | {} |\n",
            metric.label(),
            metric.id(),
            metric.definition()
        ));
    }
    for figure in RunFigure::ALL {
        out.push_str(&format!(
            "| **{}** | {} |\n",
            figure.label(),
            figure.definition()
        ));
    }
    out.push_str("\n| statistic | definition |\n|---|---|\n");
    for statistic in Statistic::ALL {
        out.push_str(&format!(
            "| `{}` | {} |\n",
            statistic.id(),
            statistic.definition()
        ));
    }
    out.push_str(&format!(
        "| histogram estimate (`data-estimate=\"histogram\"`) | {HISTOGRAM_ESTIMATE} |\n"
    ));
    out.push_str("\n| where the time goes (`lt-breakdown`) | definition |\n|---|---|\n");
    for part in TtftPart::ALL {
        out.push_str(&format!(
            "| **{}** (`{}`) | {} |\n",
            part.label(),
            part.id(),
            part.definition()
        ));
    }
    out.push_str(&format!("| **Share** | {PART_SHARE} |\n"));
    out.push_str(&format!("| **Clock offset** | {CLOCK_OFFSET} |\n"));
    out.push_str(&format!(
        "| **Stage mean per poll** (`lt-stage-chart`) | {STAGE_INTERVAL_MEAN} |\n"
    ));
    out.push_str("\n| service strip (`/admin/metrics`) | definition |\n|---|---|\n");
    for figure in ServiceFigure::ALL {
        out.push_str(&format!(
            "| **{}** (`service-{}`) | {} |\n",
            figure.label(),
            figure.id(),
            figure.definition()
        ));
    }
    out.push_str("\n| Prometheus server (`data-query`) | definition |\n|---|---|\n");
    out.push_str(&format!(
        "| server estimate (`data-estimate=\"histogram\"` with `data-query`) | {SERVER_ESTIMATE} |\n"
    ));
    for figure in ServerFigure::ALL {
        out.push_str(&format!(
            "| **{}** (`server-{}`) | {} |\n",
            figure.label(),
            figure.id(),
            figure.definition()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- definitions: generated from sse_core::metrics -->\n";
    const END: &str = "<!-- end of definitions -->";

    #[test]
    fn docs_metrics_md_holds_exactly_the_enum_definitions() {
        let doc = include_str!("../../../../docs/metrics.md");
        let start = doc
            .find(START)
            .expect("the start marker in docs/metrics.md")
            + START.len();
        let end = doc[start..].find(END).expect("the end marker") + start;
        assert_eq!(
            &doc[start..end],
            definitions_markdown(),
            "docs/metrics.md differs from sse_core::metrics; paste definitions_markdown() between the markers"
        );
    }

    #[test]
    fn ids_are_unique_and_every_definition_says_something() {
        let mut ids: Vec<&str> = Metric::ALL.iter().map(|m| m.id()).collect();
        ids.extend(Statistic::ALL.iter().map(|s| s.id()));
        let count = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), count);
        for text in Metric::ALL
            .iter()
            .map(|m| m.definition())
            .chain(Statistic::ALL.iter().map(|s| s.definition()))
            .chain(RunFigure::ALL.iter().map(|f| f.definition()))
            .chain(ServiceFigure::ALL.iter().map(|f| f.definition()))
            .chain(TtftPart::ALL.iter().map(|p| p.definition()))
        {
            assert!(text.len() > 10, "{text}");
        }
    }
}
