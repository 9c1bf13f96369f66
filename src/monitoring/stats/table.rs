//! Every figure of every stage in a real table (also for screen readers), with
//! each statistic's definition on hover.

use leptos::prelude::*;
use sse_core::execution_stats::ExecutionStats;
use sse_core::format;
use sse_core::metrics::Statistic;
use sse_core::stats_view::{column_id, stage_rows, COLUMNS};

/// A column's definition, for the service's figures.
fn definition(statistic: Statistic) -> String {
    format!(
        "{} {}: {}",
        column_id(statistic),
        "(as the service reports it)",
        statistic.definition()
    )
}

#[component]
pub(super) fn StatsTable(stats: RwSignal<Option<ExecutionStats>>) -> impl IntoView {
    let rows = move || stats.with(|s| s.as_ref().map(stage_rows).unwrap_or_default());
    view! {
        <div class="table-scroll">
            <table class="stats-table" data-testid="stats-table">
                <caption class="visually-hidden">
                    "Execution statistics per pipeline stage, in milliseconds"
                </caption>
                <thead>
                    <tr>
                        <th scope="col">"Stage"</th>
                        {COLUMNS
                            .into_iter()
                            .chain([Statistic::Count])
                            .map(|s| {
                                view! {
                                    <th scope="col" title=definition(s)>
                                        {column_id(s)}
                                    </th>
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    <For
                        each=rows
                        let(row)
                        key=|row| {
                            format!(
                                "{}:{}:{:?}",
                                row.id,
                                row.count,
                                row.cells.iter().map(|c| c.value).collect::<Vec<_>>(),
                            )
                        }
                    >
                        <tr data-testid=format!("stage-{}", row.id)>
                            <th scope="row">{format!("{} {}", row.id, row.name)}</th>
                            {row
                                .cells
                                .into_iter()
                                .map(|cell| {
                                    view! {
                                        <td
                                            data-metric=cell.metric
                                            title=definition(cell.statistic)
                                            class:absent=cell.value.is_none()
                                            data-value=cell
                                                .value
                                                .map(|v| v.to_string())
                                                .unwrap_or_default()
                                        >
                                            {cell.text}
                                        </td>
                                    }
                                })
                                .collect_view()}
                            <td
                                data-metric="count"
                                data-value=row.count.to_string()
                                title=definition(Statistic::Count)
                            >
                                {format::count(row.count)}
                            </td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </div>
    }
}
