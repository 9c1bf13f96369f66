//! Three figures over the stages of the source shown: requests validated,
//! stages that ran, the slowest (its p95 an estimate for the metrics source).

use leptos::prelude::*;
use sse_core::format;
use sse_core::metrics::Statistic;
use sse_core::monitoring::stats_view::StageRow;

use crate::ui::Figure;

/// Requests validated, stages that ran, stages, and the slowest stage's name,
/// p95 and p95 as its cell reads (a histogram's bucket, "above 1.00 s").
type Figures = (u64, usize, usize, Option<(String, f64, String)>);

fn figures(rows: &[StageRow]) -> Figures {
    let requests = rows.iter().find(|r| r.id == "1").map_or(0, |r| r.count);
    let ran = rows.iter().filter(|r| r.count > 0).count();
    let slowest = rows
        .iter()
        .filter_map(|r| {
            let p95 = r.cells.iter().find(|c| c.statistic == Statistic::P95)?;
            Some((r.name.clone(), p95.value?, p95.text.clone()))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    (requests, ran, rows.len(), slowest)
}

#[component]
pub(super) fn StatsSummary(rows: Memo<Option<Vec<StageRow>>>) -> impl IntoView {
    let figures = Memo::new(move |_| rows.with(|r| r.as_deref().map(figures)));
    let part = move |pick: fn(&Figures) -> (Option<f64>, String)| {
        Signal::derive(move || {
            figures
                .with(|f| f.as_ref().map(pick))
                .unwrap_or((None, String::new()))
        })
    };
    let requests = part(|f| (Some(f.0 as f64), format::count(f.0)));
    let ran = part(|f| (Some(f.1 as f64), format!("{} of {}", f.1, f.2)));
    let slowest = part(|f| match &f.3 {
        Some((name, p95, text)) => (Some(*p95), format!("{name}: {text}")),
        None => (None, format::ABSENT.to_owned()),
    });
    let raw = |s: Signal<(Option<f64>, String)>| Signal::derive(move || s.get().0);
    let text = |s: Signal<(Option<f64>, String)>| Signal::derive(move || s.get().1);
    view! {
        <dl class="summary" hidden=move || figures.with(Option::is_none)>
            <Figure
                label="Requests validated"
                testid="stats-requests"
                raw=raw(requests)
                text=text(requests)
                definition="Executions of stage 1 (validation): one per request the service accepted."
            />
            <Figure
                label="Stages that ran"
                testid="stats-stages-ran"
                raw=raw(ran)
                text=text(ran)
                definition="Stages with at least one execution."
            />
            <Figure
                label="Slowest stage (p95)"
                testid="stats-slowest"
                raw=raw(slowest)
                text=text(slowest)
                definition="The stage with the highest p95."
            />
        </dl>
    }
}
