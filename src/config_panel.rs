//! The configuration area. Not built yet: it says so instead of showing numbers.

use leptos::prelude::*;

use crate::panel::Panel;

#[component]
pub fn ConfigPanel() -> impl IntoView {
    view! {
        <Panel testid="config-panel" title="Configuration">
            <p class="panel-note">"Switches for the fake LLM, caching and the queue type will be edited here. Not available in this version yet."</p>
        </Panel>
    }
}
