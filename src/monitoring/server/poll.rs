//! One poll of the Prometheus server: the whole service's reading in one
//! query, evaluated at one instant (as Grafana does for a refresh) so that
//! the figures agree with each other and can be asked again; each
//! instance's figures while shown; the hour's p95 series whole at first,
//! then one point per 30 s step, asked inside the reading's query.

use sse_core::metrics::ServerFigure;
use sse_core::monitoring::prometheus_api::QueryAnswer;
use sse_core::monitoring::prometheus_server::{
    combined, extend_range, has_every_recording_rule, split_parts, Queries, Window, READING,
};

use crate::api::prometheus::PromClient;
use crate::browser::clock::wall_ms;

/// The time series: the last hour, a point every 30 s.
pub(super) const RANGE_S: f64 = 3_600.0;
pub(super) const STEP_S: u32 = 30;

/// One query and what it answered.
pub(super) type Answered = (String, Result<QueryAnswer, String>);

/// How a poll got the hour's series (`stats-server-status` `data-range`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RangeRead {
    /// A range query for the whole hour.
    Whole,
    /// The previous series and the one point of a new step, asked inside
    /// the reading's query.
    Point,
    /// The previous series: no step has passed.
    Kept,
}

impl RangeRead {
    pub(super) fn id(self) -> &'static str {
        match self {
            Self::Whole => "whole",
            Self::Point => "point",
            Self::Kept => "kept",
        }
    }
}

/// The hour's p95 series (a matrix; the range query in `answered.0`) and the
/// step it ends on.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Range {
    pub answered: Answered,
    pub end_s: f64,
    pub read: RangeRead,
}

/// One poll of the server.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ServerPoll {
    /// The reading's one query, as sent.
    pub sent: String,
    /// The whole service's figures read the dashboard's recorded series.
    pub recorded: bool,
    pub window: Window,
    pub whole: Vec<Answered>,
    /// Only while the instances' tables are shown.
    pub by_instance: Option<Vec<Answered>>,
    /// The strip's figures, each with its query and answer.
    pub strip: Vec<(ServerFigure, Answered)>,
    pub up: Answered,
    pub range: Range,
    pub at_ms: f64,
}

/// What a server can be asked, learnt once per server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Abilities {
    /// It evaluates every one of the dashboard's recording rules.
    pub recorded: bool,
    /// It takes the `@` modifier (Prometheus 2.33 on; assumed until a
    /// reading with it is refused and the same without it is not).
    pub at_modifier: bool,
}

impl Abilities {
    /// Asks the server for its recording rules; a server whose rules cannot
    /// be read is asked the raw series.
    pub(super) async fn learn(server: &PromClient) -> Self {
        let recorded = server
            .recording_rule_names()
            .await
            .is_ok_and(|names| has_every_recording_rule(&names));
        Self {
            recorded,
            at_modifier: true,
        }
    }
}

/// `query` evaluated at `at` (seconds since the epoch).
async fn ask(server: &PromClient, query: String, at: f64) -> Answered {
    let answer = server
        .query(&query, Some(at))
        .await
        .map_err(|e| e.to_string());
    (query, answer)
}

/// What a poll does about the hour's series.
enum RangePlan {
    Keep(Range),
    /// Extend the previous series by the step ending at the poll's `end_s`.
    Extend(Range),
    Whole,
}

fn range_plan(previous: Option<Range>, query: &str, end_s: f64, at_modifier: bool) -> RangePlan {
    match previous.filter(|p| p.answered.0 == query && p.answered.1.is_ok()) {
        Some(p) if p.end_s == end_s => RangePlan::Keep(Range {
            read: RangeRead::Kept,
            ..p
        }),
        Some(p) if at_modifier && p.end_s + f64::from(STEP_S) == end_s => RangePlan::Extend(p),
        _ => RangePlan::Whole,
    }
}

/// One poll (see the module's text); the abilities it found the server to
/// have with it.
pub(super) async fn poll(
    server: PromClient,
    window: Window,
    abilities: Abilities,
    by_instance: bool,
    previous: Option<Range>,
) -> (ServerPoll, Abilities) {
    let q: Queries = server.queries().with_records(abilities.recorded);
    // Whole milliseconds, so that `data-time` names the instant exactly.
    let at = wall_ms().round() / 1000.0;
    let end_s = (at / f64::from(STEP_S)).floor() * f64::from(STEP_S);
    let reading = q.reading(window);
    let range_query = q.stage_p95_over_time();
    let mut plan = range_plan(previous, &range_query, end_s, abilities.at_modifier);
    let mut parts: Vec<String> = reading.parts().into_iter().map(str::to_owned).collect();
    if matches!(plan, RangePlan::Extend(_)) {
        parts.push(q.stage_p95_at(end_s));
    }
    let mut sent = combined(&parts.iter().map(String::as_str).collect::<Vec<_>>());
    let instances = async {
        if by_instance {
            let asked = READING.map(|s| ask(&server, q.stage(s, window, true), at));
            Some(futures::future::join_all(asked).await)
        } else {
            None
        }
    };
    let whole_range = async {
        if matches!(plan, RangePlan::Whole) {
            Some(whole_hour(&server, &range_query, end_s).await)
        } else {
            None
        }
    };
    let (mut answer, by_instance, mut whole_range) =
        futures::join!(server.query(&sent, Some(at)), instances, whole_range);
    let mut abilities = abilities;
    if answer.is_err() && matches!(plan, RangePlan::Extend(_)) {
        // A server before the `@` modifier refuses the whole reading: ask it
        // again without the point, and the hour whole.
        parts.pop();
        let without = reading.combined();
        let (again, range) = futures::join!(
            server.query(&without, Some(at)),
            whole_hour(&server, &range_query, end_s)
        );
        if again.is_ok() {
            abilities.at_modifier = false;
            (answer, sent, plan, whole_range) = (again, without, RangePlan::Whole, Some(range));
        }
    }
    let mut answers = match answer {
        Ok(answer) => split_parts(&answer, parts.len())
            .into_iter()
            .map(Ok)
            .collect(),
        Err(e) => vec![Err(e.to_string()); parts.len()],
    }
    .into_iter();
    let mut next = || {
        answers
            .next()
            .unwrap_or_else(|| Err("no answer".to_owned()))
    };
    let whole = reading.table.iter().map(|q| (q.clone(), next())).collect();
    let strip = reading
        .strip
        .iter()
        .map(|(figure, q)| (*figure, (q.clone(), next())))
        .collect();
    let up = (reading.up.clone(), next());
    let range = match plan {
        RangePlan::Keep(range) => range,
        RangePlan::Extend(previous) => {
            let point = next();
            let grown = point.and_then(|point| {
                previous
                    .answered
                    .1
                    .as_ref()
                    .map(|series| extend_range(series, &point, end_s, end_s - RANGE_S))
                    .map_err(Clone::clone)
            });
            Range {
                answered: (range_query, grown),
                end_s,
                read: RangeRead::Point,
            }
        }
        RangePlan::Whole => whole_range.unwrap_or_else(|| Range {
            answered: (range_query, Err("not asked".to_owned())),
            end_s,
            read: RangeRead::Whole,
        }),
    };
    let poll = ServerPoll {
        sent,
        recorded: abilities.recorded,
        window,
        whole,
        by_instance,
        strip,
        up,
        range,
        at_ms: at * 1000.0,
    };
    (poll, abilities)
}

/// The hour's series ending on the step `end_s`.
async fn whole_hour(server: &PromClient, query: &str, end_s: f64) -> Range {
    let answer = server
        .query_range(query, end_s - RANGE_S, end_s, STEP_S)
        .await
        .map_err(|e| e.to_string());
    Range {
        answered: (query.to_owned(), answer),
        end_s,
        read: RangeRead::Whole,
    }
}
