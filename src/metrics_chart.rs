//! The execution statistics area. Not built yet: it says so instead of showing numbers.

use leptos::prelude::*;

use crate::panel::Panel;

#[component]
pub fn MetricsChart() -> impl IntoView {
    view! {
        <Panel testid="metrics-chart" title="Execution statistics">
            <p class="panel-note">"Per-stage latency percentiles (p50, p90, p95, p99) of the service's pipeline will be charted here. Not available in this version yet."</p>
        </Panel>
    }
}
