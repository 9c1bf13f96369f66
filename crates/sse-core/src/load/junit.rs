//! JUnit XML of a run, for CI systems that read it (`sse-load --junit`): a
//! test case per SLO target (the share of requests that met that target,
//! against the share needed), one for the verdict (every target together: the
//! good share, as the dashboard judges a run), and one per sweep step (its
//! verdict). Since a request that meets every target meets each one, the
//! per-target cases pass whenever the verdict does.

use std::fmt::Write;

use crate::format;
use crate::load::report::RunSummary;
use crate::load::request_row::RequestRow;
use crate::load::slo::{percent, Slo, VerdictState};
use crate::load::sweep::load_text;

/// One SLO target against the requests of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct TargetCheck {
    /// "TTFT ≤ 300 ms (from the intended start)".
    pub name: String,
    /// Completed requests within the target.
    pub met: u64,
    /// Requests that completed or failed (aborted ones are not judged).
    pub judged: u64,
    pub needed_pct: f64,
}

impl TargetCheck {
    pub fn met_pct(&self) -> Option<f64> {
        (self.judged > 0).then(|| self.met as f64 / self.judged as f64 * 100.0)
    }

    pub fn passed(&self) -> bool {
        self.met_pct().is_some_and(|p| p >= self.needed_pct)
    }

    /// "92 % of 50 requests within it, 95 % needed".
    pub fn detail(&self) -> String {
        match self.met_pct() {
            Some(p) => format!(
                "{} of {} requests within it, {} needed",
                percent(p),
                self.judged,
                percent(self.needed_pct)
            ),
            None => "no request completed or failed".to_owned(),
        }
    }
}

/// Each target of `slo` against `rows` (as the verdict judges: TTFT and E2E
/// from the intended start).
pub fn target_checks(slo: &Slo, rows: &[RequestRow]) -> Vec<TargetCheck> {
    fn lateness(r: &RequestRow) -> f64 {
        r.lateness_ms.unwrap_or(0.0)
    }
    type Value = fn(&RequestRow) -> Option<f64>;
    const INTENDED: &str = " (from the intended start)";
    // Name, target, note, the request's value, and whether a request without
    // one meets the target (an answer of one token has no TPOT).
    let targets: [(&str, Option<f64>, &str, Value, bool); 3] = [
        (
            "TTFT",
            slo.ttft_ms,
            INTENDED,
            |r| r.ttft_ms.map(|t| t + lateness(r)),
            false,
        ),
        (
            "E2E",
            slo.e2e_ms,
            INTENDED,
            |r| Some(r.e2e_ms + lateness(r)),
            false,
        ),
        ("TPOT", slo.tpot_ms, "", |r| r.tpot_ms, true),
    ];
    let judged: Vec<&RequestRow> = rows.iter().filter(|r| r.outcome != "aborted").collect();
    targets
        .into_iter()
        .filter_map(|(name, target, note, value, missing_meets)| {
            let target = target?;
            let met = judged
                .iter()
                .filter(|r| r.outcome == "completed")
                .filter(|r| value(r).map_or(missing_meets, |v| v <= target))
                .count() as u64;
            Some(TargetCheck {
                name: format!("{name} ≤ {}{note}", format::duration_ms(Some(target))),
                met,
                judged: judged.len() as u64,
                needed_pct: slo.good_pct,
            })
        })
        .collect()
}

/// `text` safe inside an XML attribute or element.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 allows no other control characters.
            c if c.is_control() && !matches!(c, '\n' | '\t' | '\r') => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

struct Case {
    class: &'static str,
    name: String,
    failure: Option<String>,
    skipped: Option<String>,
    output: String,
}

/// The JUnit XML of a run and its requests.
pub fn to_junit(summary: &RunSummary, rows: &[RequestRow]) -> String {
    let mut cases = Vec::new();
    for check in target_checks(&summary.slo, rows) {
        let detail = check.detail();
        cases.push(Case {
            class: "slo",
            name: check.name.clone(),
            failure: (!check.passed()).then(|| detail.clone()),
            skipped: None,
            output: detail,
        });
    }
    let verdict = &summary.verdict;
    cases.push(Case {
        class: "slo",
        name: "every target together (the good share)".to_owned(),
        failure: (verdict.state == VerdictState::Fail).then(|| verdict.reason.clone()),
        skipped: (verdict.state == VerdictState::None).then(|| verdict.reason.clone()),
        output: verdict.reason.clone(),
    });
    let unit = if summary.load_model.is_open() {
        "req/s"
    } else {
        "concurrent"
    };
    for step in &summary.steps {
        cases.push(Case {
            class: "sweep",
            name: format!("step {}: {} {unit}", step.step, load_text(step.offered)),
            failure: (step.verdict.state == VerdictState::Fail)
                .then(|| step.verdict.reason.clone()),
            skipped: (step.verdict.state == VerdictState::None)
                .then(|| step.verdict.reason.clone()),
            output: step.verdict.reason.clone(),
        });
    }
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = cases.iter().filter(|c| c.skipped.is_some()).count();
    let seconds = summary.wall_ms / 1000.0;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sse-load\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">",
        cases.len()
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">",
        xml(&format!("load test of {}", summary.api_base)),
        cases.len()
    );
    for case in &cases {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\">",
            case.class,
            xml(&case.name)
        );
        if let Some(message) = &case.failure {
            let _ = write!(out, "<failure message=\"{}\"/>", xml(message));
        }
        if let Some(message) = &case.skipped {
            let _ = write!(out, "<skipped message=\"{}\"/>", xml(message));
        }
        let _ = writeln!(
            out,
            "<system-out>{}</system-out></testcase>",
            xml(&case.output)
        );
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::stream::ChunkData;
    use crate::load::plan::LoadForm;
    use crate::load::recorder::RequestRecorder;
    use crate::load::report::RunContext;
    use crate::load::run_stats::RunStats;
    use crate::sse::stream::StreamEvent;

    /// Completed requests with these TTFTs (ms), each 100 ms long.
    fn run(ttfts: &[f64], form: LoadForm) -> (RunSummary, Vec<RequestRow>) {
        let plan = form.plan().expect("valid");
        let mut stats = RunStats::new(0.0).judged_by(plan.slo.clone());
        let mut rows = Vec::new();
        for (i, ttft) in ttfts.iter().enumerate() {
            let mut r = RequestRecorder::new(0.0);
            r.on_headers(1.0, 200, None, None);
            let chunk = |t: &str| {
                StreamEvent::Chunk(ChunkData {
                    content: t.into(),
                    chunk_index: None,
                    finish_reason: None,
                    cached: false,
                })
            };
            r.on_event(*ttft, &chunk("Hello there"));
            r.on_event(ttft + 50.0, &chunk(" and more text"));
            r.on_event(100.0 + ttft, &StreamEvent::Done);
            let record = r.finish_stream_end(100.0 + ttft);
            stats.add(&record);
            rows.push(RequestRow::new(i as u64, 0.0, &record));
        }
        let context = RunContext {
            started_at_ms: 0.0,
            api_base: "http://127.0.0.1:8000/api/v1",
            plan: &plan,
            stopped: false,
            form: Some(&form),
            steps: &[],
        };
        (RunSummary::new(&context, &stats), rows)
    }

    #[test]
    fn each_target_is_a_case_and_the_verdict_one_more() {
        let form = LoadForm {
            slo_ttft_ms: "300".into(),
            slo_e2e_ms: "10000".into(),
            slo_good_pct: "90".into(),
            ..LoadForm::default()
        };
        // 9 of 10 within 300 ms: 90 % met, 90 % needed.
        let mut ttfts = vec![100.0; 9];
        ttfts.push(500.0);
        let (summary, rows) = run(&ttfts, form.clone());
        let checks = target_checks(&summary.slo, &rows);
        assert_eq!(checks.len(), 2);
        assert_eq!((checks[0].met, checks[0].judged), (9, 10));
        assert!(checks[0].passed() && checks[1].passed());
        let xml = to_junit(&summary, &rows);
        assert!(xml.contains("tests=\"3\" failures=\"0\""), "{xml}");
        assert!(
            xml.contains("name=\"TTFT ≤ 300.0 ms (from the intended start)\""),
            "{xml}"
        );
        // 8 of 10: both the TTFT case and the verdict fail.
        ttfts[0] = 400.0;
        let (summary, rows) = run(&ttfts, form);
        let xml = to_junit(&summary, &rows);
        assert!(xml.contains("tests=\"3\" failures=\"2\""), "{xml}");
        assert!(
            xml.contains("<failure message=\"80 % of 10 requests within it, 90 % needed\"/>"),
            "{xml}"
        );
    }

    #[test]
    fn without_targets_the_verdict_is_skipped_and_text_is_escaped() {
        let (summary, rows) = run(&[100.0], LoadForm::default());
        let text = to_junit(&summary, &rows);
        assert!(
            text.contains("tests=\"1\" failures=\"0\" skipped=\"1\""),
            "{text}"
        );
        assert_eq!(xml("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot; ");
    }
}
