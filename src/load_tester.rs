//! The load tester area. Not built yet: it says so instead of showing numbers.

use leptos::prelude::*;

use crate::panel::Panel;

#[component]
pub fn LoadTester() -> impl IntoView {
    view! {
        <Panel testid="load-tester" title="Load tester">
            <p class="panel-note">"Concurrent streaming load tests with latency percentiles will run here. Not available in this version yet."</p>
        </Panel>
    }
}
