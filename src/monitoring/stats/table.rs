//! Every figure of every stage in a real table (also for screen readers), with
//! each statistic's definition on hover. Percentiles from histograms show the
//! bucket that bounds them and carry `data-estimate="histogram"`.

use leptos::prelude::*;
use sse_core::format;
use sse_core::metrics::Statistic;
use sse_core::monitoring::stats_source::StatsSource;
use sse_core::monitoring::stats_view::{column_id, Cell, Estimate, StageRow, COLUMNS};

/// A column's definition.
fn definition(statistic: Statistic) -> String {
    format!(
        "{}: {} As the service reports it, or estimated from its histograms (source: Prometheus metrics).",
        column_id(statistic),
        statistic.definition()
    )
}

/// What a count read from the Prometheus server is, and is not.
const SERVER_COUNT: &str = "From the Prometheus server: its increase() over the window, rounded. increase() extrapolates to the window's edges, and cannot see the requests that made a series appear (an instance exports a stage's series from its first request on, so the first requests after a start are not in it).";

/// A cell's hover text: for an estimate, the interpolated value and the method.
fn cell_title(cell: &Cell) -> String {
    let title = match (&cell.estimate, cell.value) {
        (Some(Estimate::Bucket(bucket)), Some(value)) => format!(
            "{} estimated from histogram buckets: in the bucket {}, interpolated {}. {}",
            cell.metric,
            bucket.text(),
            format::duration_ms(Some(value)),
            cell.statistic.definition()
        ),
        (Some(Estimate::Quantile), Some(_)) => format!(
            "{} estimated from histogram buckets by the Prometheus server (histogram_quantile, linear interpolation inside the bucket). {}",
            cell.metric,
            cell.statistic.definition()
        ),
        _ => definition(cell.statistic),
    };
    match &cell.query {
        Some(query) => format!("{title}\nPromQL: {query}"),
        None => title,
    }
}

fn row_key(row: &StageRow) -> String {
    format!(
        "{}:{}:{}:{:?}",
        row.id,
        row.name,
        row.count,
        row.cells.iter().map(|c| c.value).collect::<Vec<_>>(),
    )
}

#[component]
pub(crate) fn StatsTable(
    rows: Memo<Option<Vec<StageRow>>>,
    source: Memo<StatsSource>,
    /// `stats-table` for the main table (the default); another for an instance's own.
    #[prop(default = "stats-table")]
    testid: &'static str,
) -> impl IntoView {
    let each = move || rows.get().unwrap_or_default();
    let caption = move || {
        match source.get() {
        StatsSource::ExecutionStats => "Execution statistics per pipeline stage, in milliseconds",
        StatsSource::Metrics => "Stage statistics from the service's Prometheus histograms: percentiles are bucket estimates",
        StatsSource::PrometheusServer => "Stage statistics from the Prometheus server over the window: percentiles are histogram_quantile estimates, the count the requests in the window",
    }
    };
    view! {
        <div class="table-scroll">
            <table class="stats-table" data-testid=testid>
                <caption class="visually-hidden">{caption}</caption>
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
                    <For each key=row_key let(row)>
                        <tr data-testid=format!("stage-{}", row.id)>
                            <th scope="row">{format!("{} {}", row.id, row.name)}</th>
                            {row
                                .cells
                                .into_iter()
                                .map(|cell| {
                                    let title = cell_title(&cell);
                                    view! {
                                        <td
                                            data-metric=cell.metric
                                            title=title
                                            class:absent=cell.value.is_none()
                                            class:estimate=cell.estimate.is_some()
                                            data-estimate=cell.estimate.map(|_| "histogram")
                                            data-query=cell.query
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
                                data-query=row.count_query.clone()
                                title=row
                                    .count_query
                                    .as_ref()
                                    .map_or_else(
                                        || definition(Statistic::Count),
                                        |q| {
                                            format!(
                                                "{}\n{SERVER_COUNT}\nPromQL: {q}",
                                                definition(Statistic::Count),
                                            )
                                        },
                                    )
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
