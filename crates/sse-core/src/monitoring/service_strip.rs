//! The service strip: requests by status, active connections, cache hits by
//! tier and queue depth from one scrape of `/admin/metrics`, each with its rate
//! (counters) or change (gauges) since the previous poll, and a bounded trend.

use crate::format;
use crate::metrics::ServiceFigure;
use crate::monitoring::prometheus::histogram::counter_increase;
use crate::monitoring::prometheus::service::{ServiceMetrics, Tally};

/// One figure of the strip.
#[derive(Debug, Clone, PartialEq)]
pub struct StripFigure {
    pub figure: ServiceFigure,
    /// The raw value for `data-value`: a count, or a share from 0 to 1.
    pub value: Option<f64>,
    pub text: String,
    /// "2.5/s", "+3 since the last poll", a breakdown by status or tier.
    pub detail: String,
    /// The point of the trend: a rate for counters, a value for gauges and shares.
    pub trend_point: Option<f64>,
}

/// A scrape and when it was taken (ms since the epoch).
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    pub at_ms: f64,
    pub metrics: ServiceMetrics,
}

fn share(part: Option<f64>, whole: Option<f64>) -> Option<f64> {
    let (part, whole) = (part?, whole?);
    (whole > 0.0).then(|| part / whole)
}

fn percent(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{:.1} %", v * 100.0),
        _ => format::ABSENT.to_owned(),
    }
}

fn per_second(increase: f64, seconds: f64) -> String {
    format::rate(Some(increase / seconds))
}

/// The increases of a counter map since an earlier scrape (per key; a key
/// that is new counts from zero).
fn increases(now: &Tally, earlier: &Tally) -> Tally {
    Tally(
        now.iter()
            .map(|(k, v)| {
                (
                    k.to_owned(),
                    counter_increase(earlier.get(k).unwrap_or(0.0), v),
                )
            })
            .collect(),
    )
}

fn gauge_change(now: Option<f64>, earlier: Option<f64>) -> String {
    match (now, earlier) {
        (Some(n), Some(e)) => {
            let d = n - e;
            let sign = if d > 0.0 {
                "+"
            } else if d < 0.0 {
                "−"
            } else {
                "±"
            };
            format!(
                "{sign}{} since the last poll",
                format::count_of(Some(d.abs()))
            )
        }
        _ => String::new(),
    }
}

fn requests(now: &Scrape, previous: Option<&Scrape>, seconds: Option<f64>) -> StripFigure {
    let by_status = &now.metrics.requests_by_status;
    let all = by_status.total();
    let mut detail: Vec<String> = by_status
        .iter()
        .map(|(status, n)| format!("{status} {}", format::count_of(Some(n))))
        .collect();
    let mut trend_point = None;
    if let (Some(p), Some(s), Some(all)) = (previous, seconds, all) {
        let before = p.metrics.requests_by_status.total().unwrap_or(0.0);
        let increase = counter_increase(before, all);
        trend_point = Some(increase / s);
        detail.insert(0, per_second(increase, s));
    }
    StripFigure {
        figure: ServiceFigure::Requests,
        value: all,
        text: format::count_of(all),
        detail: detail.join(" · "),
        trend_point,
    }
}

fn success_share(now: &Scrape, previous: Option<&Scrape>) -> StripFigure {
    let by_status = &now.metrics.requests_by_status;
    let value = share(by_status.get("success").or(Some(0.0)), by_status.total());
    let window = previous.map(|p| increases(by_status, &p.metrics.requests_by_status));
    let trend_point = window
        .as_ref()
        .and_then(|w| share(w.get("success").or(Some(0.0)), w.total()));
    StripFigure {
        figure: ServiceFigure::SuccessShare,
        value,
        text: percent(value),
        detail: match (window.as_ref().and_then(Tally::total), trend_point) {
            (Some(n), Some(s)) if n > 0.0 => {
                format!("{} of the last poll's requests", percent(Some(s)))
            }
            _ => String::new(),
        },
        trend_point,
    }
}

fn gauge_figure(
    figure: ServiceFigure,
    now: Option<f64>,
    earlier: Option<Option<f64>>,
) -> StripFigure {
    StripFigure {
        figure,
        value: now,
        text: format::count_of(now),
        detail: earlier.map(|e| gauge_change(now, e)).unwrap_or_default(),
        trend_point: now,
    }
}

fn cache(now: &Scrape, previous: Option<&Scrape>, seconds: Option<f64>) -> StripFigure {
    let (hits, misses) = (&now.metrics.cache_hits, &now.metrics.cache_misses);
    let (all_hits, all_misses) = (hits.total(), misses.total());
    let lookups = match (all_hits, all_misses) {
        (None, None) => None,
        (h, m) => Some(h.unwrap_or(0.0) + m.unwrap_or(0.0)),
    };
    let value = share(all_hits.or(Some(0.0)), lookups);
    // Both tallies are sorted: their tiers, merged in order.
    let mut tiers: Vec<&str> = hits.keys().collect();
    for tier in misses.keys() {
        let at = tiers.partition_point(|t| *t < tier);
        if tiers.get(at) != Some(&tier) {
            tiers.insert(at, tier);
        }
    }
    let mut detail: Vec<String> = tiers
        .iter()
        .map(|&tier| {
            let h = hits.get(tier).unwrap_or(0.0);
            let m = misses.get(tier).unwrap_or(0.0);
            let mut text = format!("{tier} {} hit", percent(share(Some(h), Some(h + m))));
            if let (Some(p), Some(s)) = (previous, seconds) {
                let dh = counter_increase(p.metrics.cache_hits.get(tier).unwrap_or(0.0), h);
                let dm = counter_increase(p.metrics.cache_misses.get(tier).unwrap_or(0.0), m);
                text.push_str(&format!(
                    " ({} hits, {} misses)",
                    per_second(dh, s),
                    per_second(dm, s)
                ));
            }
            text
        })
        .collect();
    if lookups.is_none() {
        detail.push("not reported by this service".to_owned());
    }
    StripFigure {
        figure: ServiceFigure::CacheHitShare,
        value,
        text: percent(value),
        detail: detail.join(" · "),
        trend_point: value,
    }
}

/// The strip's figures for `now`, with rates since `previous` when there is one.
pub fn strip(now: &Scrape, previous: Option<&Scrape>) -> Vec<StripFigure> {
    let previous = previous.filter(|p| now.at_ms > p.at_ms);
    let seconds = previous.map(|p| (now.at_ms - p.at_ms) / 1000.0);
    let m = &now.metrics;
    let earlier = |pick: fn(&ServiceMetrics) -> Option<f64>| previous.map(|p| pick(&p.metrics));
    vec![
        requests(now, previous, seconds),
        success_share(now, previous),
        gauge_figure(
            ServiceFigure::ActiveConnections,
            m.active_connections,
            earlier(|m| m.active_connections),
        ),
        cache(now, previous, seconds),
        gauge_figure(
            ServiceFigure::QueueDepth,
            m.queue_depth,
            earlier(|m| m.queue_depth),
        ),
    ]
}

/// An SVG polyline's points for `values` in a `width` × `height` box (the
/// lowest value at the bottom, the highest at the top); one line per run of
/// values without a gap, so an absent value is never drawn as 0.
pub fn sparkline(values: &[Option<f64>], width: f64, height: f64) -> Vec<String> {
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (low, high) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
        (l.min(v), h.max(v))
    });
    if !low.is_finite() {
        return Vec::new();
    }
    let span = if high > low { high - low } else { 1.0 };
    let step = if values.len() > 1 {
        width / (values.len() - 1) as f64
    } else {
        0.0
    };
    let mut lines = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for (i, value) in values.iter().enumerate() {
        match value.filter(|v| v.is_finite()) {
            Some(v) => {
                let y = height - (v - low) / span * height;
                current.push(format!("{:.1},{:.1}", i as f64 * step, y));
            }
            None if !current.is_empty() => lines.push(std::mem::take(&mut current).join(" ")),
            None => {}
        }
    }
    if !current.is_empty() {
        lines.push(current.join(" "));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrape(at_ms: f64, text: &str) -> Scrape {
        Scrape {
            at_ms,
            metrics: ServiceMetrics::parse(text).expect("parses"),
        }
    }

    const FIRST: &str = "sse_requests_total{status=\"success\"} 8\nsse_requests_total{status=\"error\"} 2\n\
        sse_active_connections 3\nsse_cache_hits_total{tier=\"l1\"} 1\nsse_cache_misses_total{tier=\"l1\"} 3\n";
    const SECOND: &str = "sse_requests_total{status=\"success\"} 18\nsse_requests_total{status=\"error\"} 2\n\
        sse_active_connections 1\nsse_cache_hits_total{tier=\"l1\"} 4\nsse_cache_misses_total{tier=\"l1\"} 4\n";

    #[test]
    fn rates_and_changes_since_the_previous_poll() {
        let first = scrape(0.0, FIRST);
        let second = scrape(10_000.0, SECOND);
        let figures = strip(&second, Some(&first));
        let requests = &figures[0];
        assert_eq!(
            (requests.value, requests.trend_point),
            (Some(20.0), Some(1.0))
        );
        assert!(requests.detail.starts_with("1.00/s"), "{}", requests.detail);
        assert!(requests.detail.contains("error 2"), "{}", requests.detail);
        let success = &figures[1];
        assert_eq!(success.value, Some(0.9));
        assert_eq!(success.trend_point, Some(1.0), "10 new, all successes");
        assert_eq!(figures[2].detail, "−2 since the last poll");
        let cache = &figures[3];
        assert_eq!((cache.value, cache.text.as_str()), (Some(0.5), "50.0 %"));
        assert!(cache.detail.contains("0.30/s hits"), "{}", cache.detail);
        // No queue depth in the scrape: absent, not 0.
        assert_eq!(
            (figures[4].value, figures[4].text.as_str()),
            (None, format::ABSENT)
        );
    }

    #[test]
    fn a_restarted_counter_counts_from_zero_and_the_first_poll_has_no_rate() {
        let before = scrape(0.0, SECOND);
        let restarted = scrape(5_000.0, "sse_requests_total{status=\"success\"} 5\n");
        assert_eq!(strip(&restarted, Some(&before))[0].trend_point, Some(1.0));
        let first = strip(&before, None);
        assert_eq!(first[0].trend_point, None);
        assert!(!first[0].detail.contains("/s"));
    }

    #[test]
    fn sparklines_break_at_gaps_and_span_the_box() {
        let lines = sparkline(&[Some(0.0), Some(10.0), None, Some(5.0)], 30.0, 10.0);
        assert_eq!(
            lines,
            vec!["0.0,10.0 10.0,0.0".to_owned(), "30.0,5.0".to_owned()]
        );
        assert!(sparkline(&[None, None], 30.0, 10.0).is_empty());
        assert_eq!(
            sparkline(&[Some(2.0)], 30.0, 10.0),
            vec!["0.0,10.0".to_owned()]
        );
    }
}
