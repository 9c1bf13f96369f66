//! A run's summary as a person reads it in a terminal or a CI log: the same
//! figures, words and definitions the dashboard's results show (the metric
//! enum's labels, the verdict's reason, the sweep's knee and its highest
//! passing load), as plain text.

use std::fmt::Write;

use crate::format;
use crate::load::report::RunSummary;
use crate::load::slo::percent;
use crate::load::sweep::{knee, load_text, max_sustainable_sentence};
use crate::metrics::{Metric, RunFigure, Statistic};

/// The plain-text summary of `summary`.
pub fn summary_text(summary: &RunSummary) -> String {
    let mut out = String::new();
    let _ = write_summary(&mut out, summary);
    out
}

fn write_summary(out: &mut String, s: &RunSummary) -> std::fmt::Result {
    let model = if s.load_model.is_open() {
        s.load_model.label()
    } else {
        "Closed loop"
    };
    let load = match s.rate_per_s {
        _ if s.is_sweep() => format!("{model}, a sweep of {} steps", s.steps.len()),
        Some(rate) => format!("{model} at {} req/s", load_text(rate)),
        None => format!("{model}, concurrency {}", s.concurrency),
    };
    writeln!(out, "{} against {} ({})", load, s.api_base, s.model)?;
    if let Some(ended) = s.end_sentence() {
        writeln!(out, "{ended}")?;
    }
    writeln!(
        out,
        "{} requests ended: {} completed, {} failed, {} aborted; {} {}, {} {}",
        format::count(s.requests),
        format::count(s.completed),
        format::count(s.failed),
        format::count(s.aborted),
        RunFigure::RequestsPerSecond.label(),
        format::rate(s.requests_per_s),
        RunFigure::TokensPerSecond.label(),
        format::rate(s.tokens_per_s),
    )?;
    writeln!(out)?;
    write_latencies(out, s)?;
    if !s.failures.is_empty() {
        writeln!(out)?;
        writeln!(out, "failures by kind:")?;
        for f in &s.failures {
            let status = f.status.map(|c| format!(" (HTTP {c})")).unwrap_or_default();
            writeln!(
                out,
                "  {:>6} × {}{status}: {}",
                format::count(f.count),
                f.kind,
                format::display_text(&f.first_message, 160)
            )?;
        }
    }
    if s.by_instance.len() > 1 {
        writeln!(out)?;
        writeln!(out, "per instance (x-instance-id, else x-upstream-addr):")?;
        for i in &s.by_instance {
            writeln!(
                out,
                "  {:<24} completed {:>6}  failed {:>5}  TTFT p50 {:>10}  E2E p50 {:>10}",
                i.instance,
                format::count(i.completed),
                format::count(i.failed),
                format::duration_ms(i.ttft.p50),
                format::duration_ms(i.e2e.p50)
            )?;
        }
    }
    writeln!(out)?;
    writeln!(out, "SLO: {} — {}", s.verdict.state.id(), s.verdict.reason)?;
    if s.slo.has_targets() {
        writeln!(
            out,
            "{}: {}; {}: {}",
            RunFigure::Goodput.label(),
            format::rate(s.goodput_rps),
            RunFigure::GoodShare.label(),
            s.good_pct
                .map_or_else(|| format::ABSENT.to_owned(), percent)
        )?;
    }
    if s.is_sweep() {
        writeln!(out)?;
        write_sweep(out, s)?;
    }
    Ok(())
}

fn write_latencies(out: &mut String, s: &RunSummary) -> std::fmt::Result {
    write!(out, "{:<28}", "")?;
    for statistic in Statistic::DURATIONS {
        write!(out, " {:>10}", statistic.id())?;
    }
    writeln!(out, " {:>8}", Statistic::Count.id())?;
    let open = s.load_model.is_open();
    for metric in Metric::ALL {
        // The browser's own wait exists only where a browser sent the requests.
        let unmeasured = metric == Metric::BrowserWait && s.browser_queue.count == 0;
        if (metric.open_loop_only() && !open) || unmeasured {
            continue;
        }
        let figures = s.metric(metric);
        write!(out, "{:<28}", metric.label())?;
        for statistic in Statistic::DURATIONS {
            write!(out, " {:>10}", format::duration_ms(statistic.of(figures)))?;
        }
        writeln!(out, " {:>8}", format::count(figures.count))?;
    }
    Ok(())
}

fn write_sweep(out: &mut String, s: &RunSummary) -> std::fmt::Result {
    let unit = if s.load_model.is_open() {
        "req/s"
    } else {
        "concurrent"
    };
    let knee = knee(&s.steps, s.load_model.is_open());
    writeln!(
        out,
        "{:>4} {:>10} {:>12} {:>10} {:>12} {:>12} {:>7}  verdict",
        "step", "offered", "throughput", "goodput", "TTFT p95*", "E2E p95*", "failed"
    )?;
    for (i, step) in s.steps.iter().enumerate() {
        writeln!(
            out,
            "{:>4} {:>10} {:>12} {:>10} {:>12} {:>12} {:>7}  {}{}",
            step.step,
            format!(
                "{} {}",
                load_text(step.offered),
                if unit == "req/s" { "/s" } else { "" }
            ),
            format::rate(step.throughput_rps),
            format::rate(step.goodput_rps),
            format::duration_ms(step.ttft_intended.p95),
            format::duration_ms(step.e2e_intended.p95),
            format::count(step.failed),
            step.verdict.state.id(),
            if knee == Some(i) { "  ← knee" } else { "" }
        )?;
    }
    writeln!(
        out,
        "* from the intended start; warm-up {} s of each step not counted",
        s.warmup_ms / 1000
    )?;
    writeln!(out, "{}", max_sustainable_sentence(&s.steps, unit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::report::{RunContext, RunSummary};
    use crate::load::run_stats::RunStats;

    fn summary(edit: impl FnOnce(&mut crate::load::plan::LoadForm)) -> RunSummary {
        let mut form = crate::load::plan::LoadForm::default();
        edit(&mut form);
        let plan = form.plan().expect("valid");
        RunSummary::new(
            &RunContext {
                started_at_ms: 0.0,
                api_base: "http://127.0.0.1:8000/api/v1",
                plan: &plan,
                stopped: false,
                form: Some(&form),
                steps: &[],
            },
            &RunStats::new(0.0),
        )
    }

    #[test]
    fn the_text_names_every_metric_of_the_loop_and_the_verdict() {
        let closed = summary_text(&summary(|_| {}));
        assert!(closed.starts_with("Closed loop"), "{closed}");
        for metric in [Metric::E2e, Metric::Ttft, Metric::Itl, Metric::Tpot] {
            assert!(closed.contains(metric.label()), "{closed}");
        }
        assert!(!closed.contains(Metric::Lateness.label()), "{closed}");
        assert!(closed.contains("SLO: none — no SLO target set"), "{closed}");
        let open = summary_text(&summary(|f| {
            f.mode = "constant".into();
            f.rate = "20".into();
            f.duration_s = "5".into();
            f.slo_ttft_ms = "300".into();
        }));
        assert!(open.contains(Metric::Lateness.label()), "{open}");
        assert!(open.contains("at 20 req/s"), "{open}");
        assert!(open.contains(RunFigure::Goodput.label()), "{open}");
    }
}
