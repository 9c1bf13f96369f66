//! Three figures over the stages: requests validated, stages that ran, the slowest.

use leptos::prelude::*;
use sse_core::execution_stats::ExecutionStats;
use sse_core::format;

use crate::ui::Figure;

/// Requests validated, stages that ran, stages, the slowest stage's name and p95.
type Figures = (u64, usize, usize, Option<(&'static str, f64)>);

fn figures(s: &ExecutionStats) -> Figures {
    let requests = s
        .stages
        .iter()
        .find(|st| st.id == "1")
        .map_or(0, |st| st.execution_count);
    let ran = s.stages.iter().filter(|st| st.execution_count > 0).count();
    let slowest = s
        .stages
        .iter()
        .filter_map(|st| {
            st.durations
                .as_ref()
                .and_then(|d| d.p95_ms)
                .map(|p| (st.name, p))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1));
    (requests, ran, s.stages.len(), slowest)
}

#[component]
pub(super) fn StatsSummary(stats: RwSignal<Option<ExecutionStats>>) -> impl IntoView {
    let figures = Memo::new(move |_| stats.with(|s| s.as_ref().map(figures)));
    let part = move |pick: fn(&Figures) -> (Option<f64>, String)| {
        Signal::derive(move || {
            figures
                .with(|f| f.as_ref().map(pick))
                .unwrap_or((None, String::new()))
        })
    };
    let requests = part(|f| (Some(f.0 as f64), format::count(f.0)));
    let ran = part(|f| (Some(f.1 as f64), format!("{} of {}", f.1, f.2)));
    let slowest = part(|f| match f.3 {
        Some((name, p95)) => (
            Some(p95),
            format!("{name}: {}", format::duration_ms(Some(p95))),
        ),
        None => (None, format::ABSENT.to_owned()),
    });
    let raw = |s: Signal<(Option<f64>, String)>| Signal::derive(move || s.get().0);
    let text = |s: Signal<(Option<f64>, String)>| Signal::derive(move || s.get().1);
    view! {
        <Show when=move || figures.with(Option::is_some)>
            <dl class="summary">
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
        </Show>
    }
}
